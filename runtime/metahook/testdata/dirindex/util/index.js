exports.name = 'index'
