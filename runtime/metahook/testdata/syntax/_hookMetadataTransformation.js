module.exports = function (domainJSON) {
  var x = ;
}
