/* global Session */
const me = prm_row
require('./events')(me, 'prm_row')

// Row-level security: the rows a user owns; members of Admin see everything.
me.ownRows = function (ctx) {
  if (this !== prm_row) throw new Error('rls func called with the wrong this')
  console.log('prm-event prm_row.rls')
  if (Session.hasRole('Admin')) return
  const mParams = ctx.mParams
  if (!mParams.whereList) mParams.whereList = {}
  mParams.whereList.byOwner = { expression: '[mi_owner]', condition: 'equal', value: Session.userID }
  mParams.whereList.shared = { expression: '[code]', condition: 'startWith', value: 'shared' }
  mParams.logicalPredicates = ['([byOwner]) OR ([shared])']
}
