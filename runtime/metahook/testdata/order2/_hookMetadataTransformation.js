module.exports = function (domainJSON) {
  // Sees what ORDER1 did.
  domainJSON.tst_a.meta.caption += ', then ORDER2'
  domainJSON.tst_new.meta.attributes.push({ name: 'fromOrder2', dataType: 'String' })
}
