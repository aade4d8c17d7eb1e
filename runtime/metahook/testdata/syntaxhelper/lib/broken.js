exports.ok = true
exports.bad = function ( {
