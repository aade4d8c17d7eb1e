/* global Session, TubDataStore */
// Server module of jst_doc: REST methods, Session.runAsAdmin / runAsUser, named datasets
// of ctx.dataStore and the DataStore write helpers.
const UB = require('@unitybase/ub')
const me = require('./jst_doc.meta')

// REST: GET|POST /rest/jst_doc/restEcho → me.restEcho(null, req, resp)
me.entity.addMethod('restEcho')
me.restEcho = function (ctx, req, resp) {
  resp.statusCode = 202
  resp.writeHead('Content-Type: application/json; charset=utf-8')
  resp.writeEnd({
    ctxIsNull: ctx === null,
    thisIsNamespace: this === me,
    method: req.method,
    uri: req.uri,
    url: req.url,
    params: req.parsedParameters,
    body: req.method === 'POST' ? req.json() : null,
    user: Session.userName
  })
}

// REST that writes: the row is committed with the request's transaction.
me.entity.addMethod('restInsert')
me.restInsert = function (ctx, req, resp) {
  const p = req.parsedParameters
  const id = UB.DataStore('jst_doc').insert({ fieldList: ['ID'], execParams: { code: p.code, name: 'rest' } })
  if (p.fail) throw new UB.UBAbort('<<<jstRestFailed>>>')
  resp.writeEnd({ id })
}

// REST method the tests' ELS hook denies.
me.entity.addMethod('restDenied')
me.restDenied = function (ctx, req, resp) { resp.writeEnd('must not run') }

// runAsAdmin: the row written inside carries the admin as mi_createUser/mi_modifyUser;
// the session comes back afterwards, also when the function throws.
me.entity.addMethod('asAdmin')
me.asAdmin = function (ctx) {
  const p = ctx.mParams.execParams
  const out = ctx.mParams.out = { before: Session.userID }
  out.inside = Session.runAsAdmin(() => {
    UB.DataStore('jst_doc').run('insert', { execParams: { code: p.code, name: 'as admin' } })
    return { user: Session.userID, name: Session.userName, isAdmin: Session.hasRole('Admin'), lang: Session.userLang }
  })
  out.after = Session.userID
  try {
    Session.runAsAdmin(() => { throw new Error('inside') })
  } catch (e) {
    out.caught = e.message
  }
  out.afterThrow = Session.userID
  out.nested = Session.runAsAdmin(() => Session.runAsAdmin(() => {
    try {
      Session.runAsAdmin(() => 1)
      return 'three levels allowed'
    } catch (e) {
      return 'third level refused'
    }
  }))
  UB.DataStore('jst_doc').run('insert', { execParams: { code: p.code + '-self', name: 'as caller' } })
}

// runAsUser: switches to another user (the Session "login" listeners run for it).
me.entity.addMethod('asUser')
me.asUser = function (ctx) {
  const p = ctx.mParams.execParams
  ctx.mParams.out = Session.runAsUser(p.userID, () => {
    UB.DataStore('jst_doc').run('insert', { execParams: { code: p.code, name: 'as user' } })
    return { user: Session.userID, name: Session.userName, roles: Session.userRoleNames, login: Session.uData.jstLoginSeen === true }
  })
  ctx.mParams.back = Session.userID
}

// switchLangForContext: the rest of the call speaks another language.
me.entity.addMethod('switchLang')
me.switchLang = function (ctx) {
  const before = Session.userLang
  Session.switchLangForContext(ctx.mParams.lang)
  ctx.mParams.out = { before, after: Session.userLang, hello: UB.i18n('jstHello', 'X') }
}

// Named datasets: a side dataset stays on the server; the default one is resultData.
me.entity.addMethod('datasets')
me.datasets = function (ctx) {
  const ds = ctx.dataStore
  const out = ctx.mParams.out = { start: ds.currentDataName, initialized: ds.initialized }
  ds.currentDataName = 'side'
  ds.initialize([{ secret: 'SIDE_ONLY' }])
  out.sideRows = ds.rowCount
  ds.currentDataName = ''
  out.defaultEmpty = ds.rowCount === 0 && !ds.initialized
  ds.initialize([[1, 'one'], [2, 'two']], ['n', { from: 1, to: 'word' }])
  ds.currentDataName = 'side'
  out.sideValue = ds.get('secret')
  ds.currentDataName = ''
  ds.next()
  out.rowPos = ds.rowPos
  out.dataNames = TubDataStore.DATA_NAMES.BEFORE_UPDATE
}

// UnityBase code names the dataset after the method and fills that: it is the result too.
me.entity.addMethod('namedResult')
me.namedResult = function (ctx) {
  ctx.dataStore.currentDataName = 'select'
  ctx.dataStore.initialize([{ ID: 1, code: 'x' }], ['ID', { from: 'code', to: 'theCode' }])
}

// The DataStore write helpers of UnityBase 5.
me.entity.addMethod('writeHelpers')
me.writeHelpers = function (ctx) {
  const ds = UB.DataStore('jst_doc')
  const out = ctx.mParams.out = {}
  out.noFields = ds.insert({ execParams: { code: 'h1', qty: 1 } })
  const id = out.id = ds.insert({ fieldList: ['ID'], execParams: { code: 'h2', qty: 2 } })
  out.pair = ds.insert({ fieldList: ['code', 'qty'], execParams: { code: 'h3', qty: 3 } })
  const obj = ds.insertAsObject({ fieldList: ['ID', 'code', 'made'], execParams: { code: 'h4', made: new Date(Date.UTC(2026, 0, 2)) } }, { code: 'theCode' })
  out.obj = { code: obj.theCode, madeIsDate: obj.made instanceof Date, hasID: obj.ID > 0 }
  out.updated = ds.update({ fieldList: ['qty'], execParams: { ID: id, qty: 20 } })
  out.updatedObj = ds.updateAsObject({ fieldList: ['code', 'qty'], execParams: { ID: id, qty: 21 } })
  out.updateNoFields = ds.update({ execParams: { ID: id, qty: 22 } })
}

// update:before / :after see the row as it was in selectBeforeUpdate.
me.on('update:after', ctx => {
  const ds = ctx.dataStore
  const prev = ds.currentDataName
  try {
    ds.currentDataName = TubDataStore.DATA_NAMES.BEFORE_UPDATE
    ctx.mParams.oldName = ds.eof ? null : ds.get('name')
    ctx.mParams.oldQty = ds.eof ? null : ds.get('qty')
  } finally {
    ds.currentDataName = prev
  }
})
