const x = require('./lib/broken')
module.exports = function () {}
