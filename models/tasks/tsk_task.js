/* global tsk_task */
/**
 * Server-side module of the tsk_task entity. Loaded automatically because the file name
 * matches the entity code; the global `tsk_task` namespace is created by the server.
 */
const UB = require('@unitybase/ub')
// eslint-disable-next-line camelcase
const me = tsk_task

me.on('insert:before', checkTitle)

/**
 * Reject tasks without a title and trim surrounding white space.
 * @param {ubMethodParams} ctx
 */
function checkTitle (ctx) {
  const execParams = ctx.mParams.execParams
  const title = typeof execParams.title === 'string' ? execParams.title.trim() : ''
  if (!title) throw new UB.UBAbort(UB.i18n('tskTitleRequired'))
  execParams.title = title
}

me.entity.addMethod('close')

/**
 * Mark a task as finished: `{entity: 'tsk_task', method: 'close', execParams: {ID: 123}}`.
 * Closing an already closed task is a no-op. The resulting status is returned in `mParams.status`.
 * @param {ubMethodParams} ctx
 */
me.close = function (ctx) {
  const execParams = ctx.mParams.execParams || {}
  const ID = execParams.ID
  if (!ID) throw new UB.UBAbort(UB.i18n('tskTaskIDRequired'))

  const task = UB.Repository('tsk_task').attrs(['ID', 'status']).selectById(ID)
  if (!task) throw new UB.UBAbort(UB.i18n('tskTaskNotFound', ID))

  if (task.status !== 'DONE') {
    const store = UB.DataStore('tsk_task')
    store.run('update', {
      execParams: { ID, status: 'DONE', done: true },
      __skipOptimisticLock: true
    })
  }
  ctx.mParams.status = 'DONE'
}
