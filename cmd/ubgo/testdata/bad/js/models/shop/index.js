const UB = require('@unitybase/ub')
const App = UB.App
App.registerEndpoint('prices', function (req, resp) { resp.writeEnd('[]') }, false)
require('./helpers/missing')
