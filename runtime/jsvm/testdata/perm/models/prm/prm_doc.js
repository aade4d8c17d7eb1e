const me = prm_doc
require('./events')(me, 'prm_doc')

me.entity.addMethod('approve')
me.approve = function (ctx) {
  ctx.mParams.approved = true
}

// Server-side reads of an rls entity: row-level security applies to them too, unless the
// code skips it with __skipRls.
me.entity.addMethod('countRows')
me.countRows = function (ctx) {
  const UB = require('@unitybase/ub')
  ctx.mParams.visible = UB.Repository('prm_row').attrs('ID').selectAsArray().resultData.data.length
  ctx.mParams.all = UB.Repository('prm_row').attrs('ID').misc({ __skipRls: true }).selectAsArray().resultData.data.length
}

// A script's own security check: ESecurityException is a violation like an ELS denial.
me.entity.addMethod('guarded')
me.guarded = function (ctx) {
  throw new (require('@unitybase/ub').ESecurityException)('guarded needs a reason')
}
