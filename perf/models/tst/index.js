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

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' }
// One RegExp for the module: goja compiles a regular expression literal again every time
// the expression is evaluated (on the first match against a non-ASCII string).
const HTML_SPECIAL = /[&<>"']/g
const escapeChar = c => HTML_ESCAPES[c]
function escapeHTML (s) {
  return s.replace(HTML_SPECIAL, escapeChar)
}

// The TechEmpower Fortunes rules: read every row, add one at request time, sort by message,
// escape the messages, render the table.
function fortunes (req, resp) {
  const rows = UB.Repository('tst_fortune').attrs('ID', 'message').selectAsObject()
  rows.push({ ID: 0, message: 'Additional fortune added at request time.' })
  rows.sort((a, b) => a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  let html = '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>'
  for (let i = 0; i < rows.length; i++) {
    html += '<tr><td>' + rows[i].ID + '</td><td>' + escapeHTML(rows[i].message) + '</td></tr>'
  }
  html += '</table></body></html>'
  resp.writeHead('Content-Type: text/html; charset=utf-8')
  resp.writeEnd(html)
}

const scenarios = { json, byid, list20, queries, fortunes }

App.registerEndpoint('perfjs', function (req, resp) {
  const handler = Object.prototype.hasOwnProperty.call(scenarios, req.uri) && scenarios[req.uri]
  if (!handler) return resp.notFound('no scenario ' + req.uri)
  handler(req, resp)
})
