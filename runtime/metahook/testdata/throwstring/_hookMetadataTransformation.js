module.exports = function () {
  throw 'boom'
}
