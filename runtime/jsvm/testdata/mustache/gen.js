// Writes expected.json: what mustache.js 4.2.0 renders for every case of cases.js.
// Run from a folder where the npm package is installed:
//   npm install mustache@4.2.0 && node <this folder>/gen.js
const fs = require('fs')
const path = require('path')
const mustache = require(require.resolve('mustache', { paths: [process.cwd()] }))
if (mustache.version !== '4.2.0') throw new Error('need mustache 4.2.0, have ' + mustache.version)
const cases = require('./cases.js')
const out = {}
for (const c of cases) {
  mustache.clearCache()
  if (c.before) c.before(mustache)
  try {
    out[c.name] = { output: mustache.render(c.template, c.view, c.partials, c.tags) }
  } catch (e) {
    out[c.name] = { error: e.constructor.name }
  }
  if (c.after) c.after(mustache)
}
fs.writeFileSync(path.join(__dirname, 'expected.json'), JSON.stringify(out, null, 1) + '\n')
