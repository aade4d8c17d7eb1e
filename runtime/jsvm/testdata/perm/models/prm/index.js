// PRM entry point: a helper endpoint that reports App.els for the calling session.
const UB = require('@unitybase/ub')
const App = UB.App

App.registerEndpoint('prmEls', function (req, resp) {
  const [entity, method] = (req.parameters || '').split('.')
  resp.statusCode = 200
  resp.writeEnd(JSON.stringify({ allowed: App.els(entity, method), viaEntity: global[entity] ? global[entity].entity.haveAccessToMethod(method) : null }))
})
