const h = require('./lib/helper')
module.exports = function (domainJSON) { domainJSON.tst_a.meta.nsb = h.who }
