/**
 * Entry point of the TSK model (package.json "main"). Evaluated after the entity modules
 * and the server locale of the model are loaded.
 */
const UB = require('@unitybase/ub')
const App = UB.App

/**
 * GET /tasksSummary[?project=<ID>] - number of tasks per status, e.g.
 * `[{"status": "NEW", "count": 4}, {"status": "DONE", "count": 2}]`.
 * Registered without authorization so it can serve a public dashboard.
 * @param {THTTPRequest} req
 * @param {THTTPResponse} resp
 */
function tasksSummary (req, resp) {
  if (req.method !== 'GET') return resp.badRequest('GET expected')

  const repo = UB.Repository('tsk_task')
    .attrs(['status', 'COUNT([ID])'])
    .groupBy('status')
  const projectID = parseInt(req.parsedParameters.project, 10)
  if (projectID) repo.where('project', '=', projectID)

  const rows = repo.selectAsObject({ 'COUNT([ID])': 'count' })
  resp.statusCode = 200
  resp.writeHead('Content-Type: application/json; charset=UTF-8')
  resp.writeEnd(rows)
}

App.registerEndpoint('tasksSummary', tasksSummary, false)
