module.exports = function (domainJSON, serverConfig) {
  domainJSON.tst_a.meta.defaultLang = serverConfig.application.defaultLang
  domainJSON.tst_a.meta.supportedLanguages = serverConfig.application.supportedLanguages.slice()
  serverConfig.application.defaultLang = 'changed' // must not leak to the caller
}
