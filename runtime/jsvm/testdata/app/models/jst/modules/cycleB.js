const a = require('./cycleA')
exports.name = 'B'
exports.seenA = a.name
