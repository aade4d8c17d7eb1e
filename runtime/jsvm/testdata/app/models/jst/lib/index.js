// A folder module: require('./lib') loads lib/index.js.
exports.add = (a, b) => a + b
