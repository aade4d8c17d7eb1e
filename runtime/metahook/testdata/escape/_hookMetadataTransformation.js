const secret = require('../../x')
module.exports = function () {}
