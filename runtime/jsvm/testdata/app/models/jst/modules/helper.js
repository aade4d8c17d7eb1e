// Loaded through require only: the modules folder is skipped by the entity module scan.
module.exports = {
  normalize (s) { return s.trim().replace(/\s+/g, ' ') }
}
