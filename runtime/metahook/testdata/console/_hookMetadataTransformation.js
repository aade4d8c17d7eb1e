module.exports = function (domainJSON) {
  console.log('hello %s', 'world', { a: 1 })
  console.info('info line')
  console.warn('warn line', 42)
  console.error('error line')
  console.debug('debug line')
}
