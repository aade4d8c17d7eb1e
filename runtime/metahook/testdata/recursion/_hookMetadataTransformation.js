function f (n) { return f(n + 1) + 1 }
module.exports = function () {
  f(0)
}
