/* global Session */
const me = prm_note
require('./events')(me, 'prm_note')

// Used by the rls expression of prm_note (the deprecated form): a UBQL condition.
me.byOwner = function (ctxt) {
  if (!ctxt || !ctxt.mParams) throw new Error('rls expression called without ctxt')
  return '[mi_owner] = :(' + Session.userID + '):'
}
