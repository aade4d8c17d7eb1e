/**
 * Metadata hook of the TSK model.
 *
 * Called once at server start, after every *.meta / *.meta.<lang> file of every model has been
 * read and merged and before any entity module runs. `domainJSON` is
 * `{entityCode: {modelName, meta, langs}}`; changes made here are what the server uses.
 *
 * Adds tsk_task.statusOrder - the position of the task status in the workflow
 * (NEW, IN_PROGRESS, DONE), so that lists can be sorted in workflow order rather than
 * alphabetically by status code.
 *
 * @param {Object<string, {modelName: string, meta: object, langs: ?object}>} domainJSON
 * @param {object} serverConfig parsed ubConfig
 */
const { addCalculatedAttribute } = require('./modules/hookHelpers')

module.exports = function tskMetadataHook (domainJSON, serverConfig) {
  const task = domainJSON.tsk_task
  if (!task) return

  const added = addCalculatedAttribute(task, {
    name: 'statusOrder',
    dataType: 'Int',
    caption: 'Workflow step',
    description: 'Position of the status in the task workflow: 1 new, 2 in progress, 3 done'
  }, "CASE [status] WHEN 'NEW' THEN 1 WHEN 'IN_PROGRESS' THEN 2 WHEN 'DONE' THEN 3 ELSE 0 END", {
    uk: 'Крок процесу'
  })

  const lang = (serverConfig && serverConfig.application && serverConfig.application.defaultLang) || 'en'
  console.log(`TSK: metadata hook ${added ? 'added' : 'kept existing'} tsk_task.statusOrder (default language ${lang})`)
}
