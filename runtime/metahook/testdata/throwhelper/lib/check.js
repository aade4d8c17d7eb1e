module.exports = function check (meta) {
  // meta.mapping is undefined in the fixture domain
  return meta.mapping.length
}
