// Requires a file outside every model folder.
module.exports = require('../../../../../../../go.mod')
