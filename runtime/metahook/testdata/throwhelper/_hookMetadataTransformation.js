const check = require('./lib/check')
module.exports = function (domainJSON) {
  check(domainJSON.tst_a.meta)
}
