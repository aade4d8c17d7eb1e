exports.who = 'NSA'
