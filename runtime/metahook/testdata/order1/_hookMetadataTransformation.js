module.exports = function (domainJSON) {
  domainJSON.tst_a.meta.caption = 'set by ORDER1'
  domainJSON.tst_new = { modelName: 'ORDER1', meta: { caption: 'new', attributes: [] }, langs: null }
}
