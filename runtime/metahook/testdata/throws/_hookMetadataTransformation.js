'use strict'
module.exports = function (domainJSON) {
  const a = 1
  throw new Error('bad hook ' + a)
}
