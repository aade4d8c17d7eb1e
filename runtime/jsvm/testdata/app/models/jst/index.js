// Entry point of JST: endpoints and a JS mixin.
const UB = require('@unitybase/ub')
const base = require('@unitybase/base')
const App = UB.App
const EventEmitter = require('events')
const tasks = require('@ubgo-model/TSK/package.json')
require('./modules/sessionApi')

if (base.ServerRepository.fabric !== UB.Repository) throw new Error('@unitybase/base does not share UB.Repository')
if (typeof new EventEmitter().on !== 'function') throw new Error('events module broken')

UB.i18nExtend({ en: { jstExtended: 'extended' } })

// A JS mixin: initEntity runs after the models, for every entity with "jstStamp" enabled;
// prependListener puts its listener before the models' ones.
UB.registerMixinModule('jstStamp', {
  initEntity (entity, cfg) {
    global[entity.code].prependListener('insert:before', ctx => {
      if (!Array.isArray(ctx.mParams.trace)) ctx.mParams.trace = []
      ctx.mParams.trace.push('mixin:' + cfg.mark)
    })
  }
})

const loaded = []
App.on('domainIsLoaded', () => loaded.push('domainIsLoaded'))

App.registerEndpoint('jstEcho', function (req, resp) {
  console.log('echo %s', req.method, { a: 1 })
  resp.statusCode = 201
  resp.writeHead('Content-Type: application/json\r\nX-Jst: yes')
  resp.writeEnd({
    method: req.method,
    url: req.url,
    uri: req.uri,
    decodedUri: req.decodedUri,
    parameters: req.parameters,
    parsed: req.parsedParameters,
    header: req.getHeader('x-test'),
    body: req.method === 'POST' ? req.json() : null,
    loaded,
    tasksModule: tasks.name,
    extended: UB.i18n('jstExtended'),
    isSuper: base.uba_common.isSuperUser(),
    serverConfigFrozen: Object.isFrozen(App.serverConfig.application),
    defaultLang: App.serverConfig.application.defaultLang,
    hasTask: App.domainInfo.has('tsk_task'),
    taskCaption: App.domainInfo.get('tsk_task').caption,
    titleType: App.domainInfo.entities.tsk_task.attributes.title.dataType
  })
})

App.registerEndpoint('jstRequire', function (req, resp) {
  const name = req.parsedParameters.name
  try {
    const m = require(name)
    resp.writeEnd({ ok: true, type: typeof m, keys: Object.keys(m || {}).sort() })
  } catch (e) {
    resp.writeEnd({ error: e.message })
  }
}, false)

App.registerEndpoint('jstPrevented', function (req, resp) {
  resp.writeEnd('handler ran')
}, true, true)
App.on('jstPrevented:before', (req, resp) => {
  resp.writeEnd('prevented')
  App.preventDefault()
})

App.registerEndpoint('jstBad', function (req, resp) {
  return resp.badRequest('no reason')
})

App.registerEndpoint('jstETag', function (req, resp) {
  resp.writeEnd('x'.repeat(100))
  resp.validateETag()
})

App.registerEndpoint('jstBinary', function (req, resp) {
  resp.write(new Uint8Array([104, 105]).buffer)
  resp.write('aGk=', 'base64')
  resp.writeEnd(new Uint8Array([33]))
})

App.registerEndpoint('jstThrow', function (req, resp) {
  throw new UB.UBAbort('<<<jstEndpointFailed>>>')
})

App.grantEndpointToRole('jstEcho', 'User')
