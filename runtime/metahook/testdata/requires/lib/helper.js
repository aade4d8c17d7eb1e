const extra = require('../data/extra.json')
exports.extraSize = extra.size
exports.addAttr = function (meta, name) {
  meta.attributes.push({ name: name, dataType: 'String', size: extra.size })
}
