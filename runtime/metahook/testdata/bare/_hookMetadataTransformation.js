const _ = require('lodash')
module.exports = function () {}
