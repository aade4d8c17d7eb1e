/* global Session */
// Server module of jst_item: listeners, custom methods and the data API.
const UB = require('@unitybase/ub')
const helper = require('./modules/helper')
const limits = require('./modules/limits.json')
const lib = require('./lib')
const me = require('./jst_item.meta')

function trace (ctx, what) {
  if (!Array.isArray(ctx.mParams.trace)) ctx.mParams.trace = []
  ctx.mParams.trace.push(what)
}

me.on('insert:before', function first (ctx) { trace(ctx, 'before1') })
me.on('insert:before', function second (ctx) {
  trace(ctx, 'before2')
  const p = ctx.mParams.execParams
  if (typeof p.name === 'string') p.name = helper.normalize(p.name)
  if (p.qty > limits.maxQty) p.qty = limits.maxQty
  if (p.code === 'reject') throw new UB.UBAbort(UB.i18n('jstRejected'), p.code)
})
me.on('insert:after', function (ctx) {
  trace(ctx, 'after:' + (ctx.mParams.execParams.ID > 0) + ':' + ctx.externalCall)
})

me.entity.addMethod('calc')
me.on('calc:before', ctx => trace(ctx, 'calc:before'))
me.on('calc:after', ctx => trace(ctx, 'calc:after'))
me.calc = function (ctx) {
  const p = ctx.mParams.execParams || {}
  trace(ctx, 'calc')
  ctx.mParams.sum = lib.add(p.a || 0, p.b || 0)
  ctx.mParams.lang = Session.userLang
  ctx.mParams.user = Session.userName
  ctx.mParams.hello = UB.i18n('jstHello', p.who || 'nobody')
  ctx.mParams.named = UB.i18n('jstNamed', { who: p.who, n: 3 })
  ctx.mParams.helloUk = UB.i18n('jstHello', 'uk', 'Тарас')
  ctx.mParams.missing = UB.i18n('jstNoSuchKey')
}

me.entity.addMethod('insertThenFail')
me.insertThenFail = function (ctx) {
  const code = ctx.mParams.execParams.code
  UB.DataStore('jst_item').run('insert', { execParams: { code, name: 'temp' } })
  const seen = UB.Repository('jst_item').attrs('ID').where('code', '=', code).selectAsArray().resultData.rowCount
  throw new Error('failing after the insert; rows seen inside the transaction: ' + seen)
}

me.entity.addMethod('abort')
me.abort = function (ctx) {
  throw new UB.UBAbort('<<<jst_abort>>>', 'arg1', 2)
}

me.entity.addMethod('deny')
me.deny = function () { throw new UB.ESecurityException('no way') }

me.entity.addMethod('plainError')
me.plainError = function () { null.x() }

me.entity.addMethod('spin')
me.spin = function () { for (;;) {} }

me.entity.addMethod('recurse')
me.recurse = function f () { return f() }

// The test's ELS hook panics for this method: a Go panic inside a binding.
me.entity.addMethod('goPanic')
me.goPanic = function () { return UB.App.els('jst_item', 'panic') }

// A storage error the script does not catch keeps its errCode.
me.entity.addMethod('badAttr')
me.badAttr = function () { UB.Repository('jst_item').attrs('noSuchAttr').selectAsObject() }

// report fills ctx.dataStore, which becomes the response's resultData.
me.entity.addMethod('report')
me.report = function (ctx) {
  const min = ctx.mParams.minQty || 0
  ctx.dataStore.run('select', UB.Repository('jst_item').attrs('code', 'qty').where('qty', '>=', min).orderBy('code').ubql())
}

// prevented: a :before listener stops the implementation.
me.entity.addMethod('prevented')
me.on('prevented:before', ctx => { trace(ctx, 'prevent'); ctx.preventDefault() })
me.prevented = function (ctx) { trace(ctx, 'should not run') }
me.on('prevented:after', ctx => trace(ctx, 'after'))

// registered but without an implementation.
me.entity.addMethod('unimplemented')

// The smallest JS method: what dispatch itself costs (BenchmarkCallMethod).
me.entity.addMethod('ping')
me.ping = function (ctx) { ctx.mParams.pong = true }
