// An entity module one folder below the model root: loaded by the module scan.
const me = jst_note // eslint-disable-line no-undef
me.entity.addMethod('count')
me.count = function (ctx) {
  ctx.mParams.count = UB.Repository('jst_note').attrs('ID').selectAsArray().resultData.rowCount // eslint-disable-line no-undef
}
me.on('select:after', ctx => { ctx.mParams.noteSelectSeen = true })
