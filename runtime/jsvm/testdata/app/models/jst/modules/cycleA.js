exports.name = 'A'
const b = require('./cycleB')
exports.fromB = b.name + ':' + b.seenA
