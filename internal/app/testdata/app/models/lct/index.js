// The tests replace the next line to tell generations apart.
const VERSION = 'v1'

App.registerEndpoint('hello', function (req, resp) {
  resp.writeEnd({ version: VERSION })
}, false)

// slow runs until a test opens the gate from Go (Program.GlobalCachePut('gate', 'open')):
// a request that is certainly in flight while the test shuts down or reloads.
App.registerEndpoint('slow', function (req, resp) {
  App.globalCachePut('slow', 'running')
  while (App.globalCacheGet('gate') !== 'open') { /* spin until released */ }
  resp.writeEnd({ version: VERSION, done: true })
}, false)

App.registerEndpoint('boom', function () {
  throw new Error('boom: an unexpected failure')
}, false)

App.registerEndpoint('abort', function () {
  throw new UB.UBAbort('<<<a business rule said no>>>')
}, false)

// The lifecycle listeners record what they saw in the database and in the global cache,
// where the tests read it.
function record (kind, detail) {
  UB.DataStore('lct_event').run('insert', { execParams: { kind: kind, detail: detail } })
  App.globalCachePut(kind, detail)
}

App.on('ready', function () {
  record('ready', VERSION + ' as ' + Session.userName)
})

App.on('shutdown', function () {
  record('shutdown', VERSION)
})

App.on('error', function (ev) {
  const where = ev.request ? ev.request.path + ' ' + ev.request.status : 'outside requests'
  record('error', ev.source + ' ' + where + ' gen' + ev.generation + ': ' + ev.message.split('\n')[0])
})
