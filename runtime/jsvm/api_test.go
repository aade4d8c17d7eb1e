package jsvm

import (
	"testing"

	"github.com/dop251/goja"
)

// TestScriptAPI checks parts of the global API from a script: each case is an expression
// that must evaluate to true inside a call without a transaction (the anonymous session).
func TestScriptAPI(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	cases := []string{
		// i18n: nested dictionaries by dotted key, newest layer first, formatting.
		`(UB.i18nExtend({en: {grp: {key: 'deep {0}'}, jstHello: 'Hi, {0}!'}}), UB.i18n('grp.key', 1) === 'deep 1')`,
		`UB.i18n('jstHello', 'Bo') === 'Hi, Bo!'`,
		`UB.i18n('jstHello', 'uk', 'Бо') === 'Привіт, Бо!'`,
		`UB.i18n('jstNamed', {who: {}, n: 1}) === '[object Object] has 1 items'`,
		`UB.i18n('jstHello') === 'Hi, {0}!'`,
		// Errors.
		`(() => { try { throw new UB.UBAbort('<<<x>>>', 1, 'b') } catch (e) { return e instanceof Error && e.message === '<<<x>>>|[1,"b"]' && e.name === 'UBAbort' } })()`,
		`new UB.UBAbort().message === 'UBAbortError'`,
		`new UB.ESecurityException('r').name === 'ESecurityException'`,
		// Session without a transaction: anonymous.
		`Session.userID === 20 && Session.userName === 'anonymous' && Session.uData.lang === 'en' && typeof Session.on === 'function'`,
		// Entity namespaces and metadata.
		`tsk_task.entity === require('@unitybase/ub').App.domainInfo.get('tsk_task')`,
		`tsk_task.entity.attr('title').dataType === 'String' && tsk_task.entity.getAttribute('nope') === undefined`,
		`(() => { try { tsk_task.entity.attr('nope', true) } catch (e) { return e.message.includes('does not exist') } })()`,
		`tsk_task.entity.hasMixin('mStorage') && !tsk_task.entity.hasMixin('tree') && tsk_task.entity.haveAccessToMethod('close')`,
		`Object.keys(tsk_task.entity.entityMethods).join() === 'select,insert,update,delete,addnew,close'`,
		`tsk_task.entity.modelName === 'TSK' && tsk_task.entity.code === 'tsk_task'`,
		`App.domainInfo.entities.jst_item.attributes.code.allowNull === false`,
		`App.domainInfo.orderedModels.map(m => m.name).join() === 'UB,UBA,TSK,JST'`,
		`Object.keys(App.domainInfo.entities).includes('uba_user')`,
		`(() => { try { App.domainInfo.get('nope') } catch (e) { return true } })() && App.domainInfo.get('nope', false) === undefined`,
		// App.
		`App.serverConfig === App.serverConfig && Object.isFrozen(App.serverConfig) && App.defaultLang === 'en'`,
		`App.dbConnections.main.dialect === 'SQLite3' && App.dbConnections.main.isDefault === true`,
		`(App.globalCachePut('k', 42), App.globalCacheGet('k') === '42') && (App.globalCachePut('k', null), App.globalCacheGet('k') === null)`,
		`App.els('tsk_task', 'select') === true`,
		// EventEmitter semantics.
		`(() => { const E = require('events'); const e = new E(); const out = []
		    e.on('x', v => out.push('a' + v)); e.prependListener('x', v => out.push('p' + v)); e.once('x', v => out.push('o' + v))
		    e.emit('x', 1); e.emit('x', 2); return out.join() === 'p1,a1,o1,p2,a2' && e.listenerCount('x') === 2 })()`,
		`(() => { const E = require('events'); const o = {}; Object.assign(o, E.prototype); o.on('y', () => {}); return o.eventNames().join() === 'y' })()`,
		// Misc globals.
		`process.isServer === true && Object.keys(process.env).length === 0 && global === globalThis && UB.isServer`,
		`typeof TubDataStore === 'function' && UB.DataStore('tsk_task') instanceof TubDataStore && UB.DataStore('tsk_task').entity === 'tsk_task'`,
		`(() => { const ds = UB.DataStore(''); ds.initialize([[1, 'a'], [2]], ['n', 's']); ds.next(); return ds.get('s') === undefined && ds.get(0) === 2 && !ds.eof && (ds.next(), ds.eof) })()`,
		`(() => { try { UB.DataStore('nope') } catch (e) { return e.message.includes('does not exist') } })()`,
		`(() => { try { UB.DataStore('tsk_task').run('select', {fieldList: ['ID']}) } catch (e) { return e.message.includes('no transaction') } })()`,
		`UB.ns('A.B').c = 1, A.B.c === 1`,
		`require('@unitybase/cs-shared').LocalDataStore.selectResultToArrayOfObjects({resultData: {fields: ['a'], data: [[1]]}}, {a: 'b'})[0].b === 1`,
	}
	for _, src := range cases {
		err := evalJS(t, p, src, func(w *Worker, v goja.Value) {
			if !v.ToBoolean() {
				t.Errorf("false: %s", src)
			}
		})
		if err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}
