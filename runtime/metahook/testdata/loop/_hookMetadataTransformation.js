module.exports = function () {
  for (;;) {}
}
