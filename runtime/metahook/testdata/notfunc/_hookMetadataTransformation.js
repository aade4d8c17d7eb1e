module.exports = { transform: function () {} }
