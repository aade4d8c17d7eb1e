/**
 * Helpers used by the TSK model's `_hookMetadataTransformation.js`.
 * The `modules` folder is skipped by the entity-module loader, so this file is only
 * loaded through `require`.
 * @module hookHelpers
 */

/**
 * Append a calculated attribute (no table column; the value is a SQL expression) to an
 * entity of domainJSON. Nothing is changed if an attribute with this name already exists,
 * so a later model can declare its own version.
 *
 * @param {{meta: object, langs: ?Object<string, object>}} entityJSON domainJSON item
 * @param {object} attr attribute definition without mapping: name, dataType, caption...
 * @param {string} expression SQL expression; refer to attributes as [attrName]
 * @param {Object<string, string>} [captions] translated captions by language code
 * @returns {boolean} true if the attribute was added
 */
function addCalculatedAttribute (entityJSON, attr, expression, captions) {
  const attrs = entityJSON.meta.attributes
  if (attrs.some(a => a.name === attr.name)) return false
  attrs.push(Object.assign({ readOnly: true }, attr, {
    mapping: [{ name: 'AnsiSQL', expressionType: 'Expression', expression }]
  }))
  if (captions && entityJSON.langs) {
    for (const lang of Object.keys(captions)) {
      const langMeta = entityJSON.langs[lang]
      if (!langMeta) continue // language not supported by this application
      if (!Array.isArray(langMeta.attributes)) langMeta.attributes = []
      langMeta.attributes.push({ name: attr.name, caption: captions[lang] })
    }
  }
  return true
}

module.exports = {
  addCalculatedAttribute
}
