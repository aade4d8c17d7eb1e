/**
 * Entry point of the TST performance model. One endpoint, /perfjs/<scenario>, runs the
 * TechEmpower-style queries through the JavaScript Repository API; internal/perfapp has the
 * same scenarios in Go ("Go twins", /_perfgo/<scenario>) so that scripts/perf.sh can compare
 * the two in one server process. Request bodies are the ones of the Go twins:
 *   POST byid    {"id": N}          one tst_world row
 *   POST list20  {"from": N}        20 rows with ID >= N, ordered by ID
 *   POST queries {"ids": [N, ...]}  one select per ID (TechEmpower "multiple queries")
 *   GET  fortunes                   all fortunes plus one added at request time, sorted, as HTML
 *   GET  json                       a constant object (the cost of a JS call)
 */
const UB = require('@unitybase/ub')
const App = UB.App

const JSON_TYPE = 'Content-Type: application/json; charset=utf-8'

function json (req, resp) {
  resp.writeHead(JSON_TYPE)
  resp.writeEnd({ message: 'Hello, World!' })
}

function byid (req, resp) {
  const p = req.json()
  const row = UB.Repository('tst_world').attrs('ID', 'randomNumber').selectById(p.id)
  if (!row) return resp.notFound('no world ' + p.id)
  resp.writeHead(JSON_TYPE)
  resp.writeEnd(row)
}

function list20 (req, resp) {
  const p = req.json()
  const rows = UB.Repository('tst_world').attrs('ID', 'randomNumber')
    .where('ID', '>=', p.from).orderBy('ID').limit(20).selectAsObject()
  resp.writeHead(JSON_TYPE)
  resp.writeEnd(rows)
}

function queries (req, resp) {
  const ids = req.json().ids
  if (!Array.isArray(ids)) return resp.badRequest('ids must be an array')
  const rows = new Array(ids.length)
  for (let i = 0; i < ids.length; i++) {
    rows[i] = UB.Repository('tst_world').attrs('ID', 'randomNumber').selectById(ids[i])
  }
  resp.writeHead(JSON_TYPE)
  resp.writeEnd(rows)
}

const mustache = require('mustache')
const FORTUNES = '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>' +
  '{{#fortunes}}<tr><td>{{ID}}</td><td>{{message}}</td></tr>{{/fortunes}}</table></body></html>'

// The TechEmpower Fortunes rules: read every row, add one at request time, sort by message,
// render the table with every message escaped. Rendered with mustache, as UnityBase's own
// benchmark application does.
function fortunes (req, resp) {
  const rows = UB.Repository('tst_fortune').attrs('ID', 'message').selectAsObject()
  rows.push({ ID: 0, message: 'Additional fortune added at request time.' })
  rows.sort((a, b) => a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  resp.writeHead('Content-Type: text/html; charset=utf-8')
  resp.writeEnd(mustache.render(FORTUNES, { fortunes: rows }))
}

const scenarios = { json, byid, list20, queries, fortunes }

App.registerEndpoint('perfjs', function (req, resp) {
  const handler = Object.prototype.hasOwnProperty.call(scenarios, req.uri) && scenarios[req.uri]
  if (!handler) return resp.notFound('no scenario ' + req.uri)
  handler(req, resp)
})
