// A syntax error, reached only on demand.
const a = 1
const b = a +;
module.exports = b
