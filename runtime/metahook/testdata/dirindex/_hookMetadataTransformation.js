const u = require('./util')
module.exports = function (domainJSON) { domainJSON.tst_a.meta.fromIndex = u.name }
