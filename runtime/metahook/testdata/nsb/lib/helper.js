exports.who = 'NSB'
