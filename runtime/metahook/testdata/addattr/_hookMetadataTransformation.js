// Adds a mapped attribute to every entity that has attributes, like the TST
// model of the UnityBase autotest application does.
module.exports = function (domainJSON, serverConfig) {
  Object.keys(domainJSON).forEach(function (code) {
    const meta = domainJSON[code].meta
    if (!Array.isArray(meta.attributes)) return
    meta.attributes.push({ name: 'added', dataType: 'String', size: 10, allowNull: true })
    meta.attributes = meta.attributes.filter(a => a.name !== 'toRemove')
    meta.attributes.splice(0, 0, { name: 'first', dataType: 'Int' })
  })
}
