module.exports = function (domainJSON) {
  delete domainJSON.tst_b
}
