package jsvm

import "testing"

// A Repository is a dynamic object (repoObject): it must still behave like the plain
// object it replaced for what scripts do with one: read entityName, add, change and
// delete properties, enumerate and stringify it, chain, pass it as a subquery, and be
// refused where another object is given as `this`.
func TestRepositoryObjectBehavesLikeAnObject(t *testing.T) {
	withWorker(t, func(w *Worker) error {
		return runChecks(t, w, `(() => {
			const out = []
			const check = (name, got, want) => { if (got !== want) out.push(name + ': got ' + got + ', want ' + want) }
			const r = UB.Repository('tst_world')
			check('entityName', r.entityName, 'tst_world')
			check('keys', Object.keys(r).join(), 'entityName')
			check('stringify', JSON.stringify(r), '{"entityName":"tst_world"}')
			check('chain', r.attrs('ID', ['randomNumber']).where('ID', '>', 1), r)
			check('method type', typeof r.selectById, 'function')
			check('has method', 'selectAsObject' in r, true)
			check('own method', Object.prototype.hasOwnProperty.call(r, 'attrs'), false)
			r.note = 'n'
			r.other = 2
			check('added keys', Object.keys(r).join(), 'entityName,note,other')
			r.note = 'm'
			check('changed', r.note, 'm')
			check('order kept', Object.keys(r).join(), 'entityName,note,other')
			delete r.note
			check('deleted', 'note' in r, false)
			check('after delete', Object.keys(r).join(), 'entityName,other')
			r.entityName = 'renamed'
			check('entityName set', r.entityName, 'renamed')
			delete r.entityName
			check('entityName deleted', r.entityName, undefined)
			check('spread', JSON.stringify({ ...r }), '{"other":2}')
			const q = r.ubql()
			check('request entity', q.entity, 'tst_world')
			check('request fields', q.fieldList.join(), 'ID,randomNumber')
			const sub = UB.Repository('tst_world').where('ID', 'in', UB.Repository('tst_fortune').attrs('ID')).ubql()
			check('subquery', JSON.stringify(sub.whereList.c1.value.entity), '"tst_fortune"')
			const c = r.clone().attrs('mi_modifyDate')
			check('clone is new', c !== r, true)
			check('clone independent', r.ubql().fieldList.join(), 'ID,randomNumber')
			check('clone entityName', c.entityName, 'tst_world')
			try {
				r.attrs.call({ entityName: 'x' }, 'ID')
				out.push('a plain object was taken for a Repository')
			} catch (e) {
				check('not a repository', e instanceof TypeError && /not a Repository/.test(e.message), true)
			}
			return out.join('\n')
		})()`)
	})
}
