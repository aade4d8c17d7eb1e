/* global Session */
// Session and App events of the JST model, and endpoints that show the session API.
const UB = require('@unitybase/ub')
const App = UB.App

// login: extend uData; a login of "blocked" is refused by throwing.
Session.on('login', function (req) {
  if (Session.userName === 'blocked') throw new UB.UBAbort('<<<jstLoginBlocked>>>')
  const uData = Session.uData
  uData.jstLoginSeen = true
  uData.jstHeader = req ? req.getHeader('x-jst') : null
  if (req && req.getHeader('x-jst') === 'write') {
    UB.DataStore('jst_doc').run('insert', { execParams: { code: 'login-' + Session.userID, name: 'written by login' } })
  }
})
Session.on('loginFailed', function (userID, isLocked) {
  App.globalCachePut('jstLoginFailed', userID + ':' + isLocked)
})
Session.on('securityViolation', function (reason) {
  App.globalCachePut('jstViolation', reason + ' by ' + Session.userName)
})
Session.on('logout', function (reason) {
  App.globalCachePut('jstLogout', Session.userName + ':' + reason)
})

App.on('getAppInfo', function (appInfo) {
  appInfo.jstExtended = 'by JST'
  appInfo.jstLangs = appInfo.supportedLanguages.length
})

// GET /jstSession: what Session says about the caller.
App.registerEndpoint('jstSession', function (req, resp) {
  resp.writeEnd({
    id: Session.id,
    userID: Session.userID,
    userName: Session.userName,
    userLang: Session.userLang,
    userRoles: Session.userRoles,
    userRoleNames: Session.userRoleNames,
    isAdmin: Session.hasRole('Admin'),
    isUser: Session.hasRole('User'),
    callerIP: Session.callerIP,
    uData: Session.uData,
    sameUData: Session.uData === Session.uData,
    i18n: UB.i18n('jstHello', 'X')
  })
})

// GET /jstCache?key=k: a value listeners left in the global cache.
App.registerEndpoint('jstCache', function (req, resp) {
  resp.writeEnd({ value: App.globalCacheGet(req.parsedParameters.key) })
})
