const cfg = require('./bad.json')
module.exports = function () {}
