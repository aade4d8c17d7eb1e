// Every listener of PRM logs the event it saw; the tests read the log.
const METHODS = ['select', 'insert', 'update', 'delete', 'addnew', 'approve', 'countRows', 'guarded']

module.exports = function recordEvents (ns, name) {
  for (const m of METHODS) {
    for (const when of [':before', ':after']) {
      ns.on(m + when, () => console.log('prm-event %s', name + '.' + m + when))
    }
  }
}
