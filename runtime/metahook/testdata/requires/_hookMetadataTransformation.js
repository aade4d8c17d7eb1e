const helper = require('./lib/helper')
const helperAgain = require('./lib/helper.js')
const extra = require('./data/extra.json')
module.exports = function (domainJSON) {
  helper.addAttr(domainJSON.tst_a.meta, extra.attrName)
  domainJSON.tst_a.meta.sameModule = helper === helperAgain
  domainJSON.tst_a.meta.fromHelperJSON = helper.extraSize
}
