package jsvm

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// withWorker runs fn on a worker of the test program (no database) inside a guard.
func withWorker(t *testing.T, fn func(w *Worker) error) {
	t.Helper()
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	t.Cleanup(p.Close)
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	if err := w.guard(context.Background(), anonymous, nil, func() error { return fn(w) }); err != nil {
		t.Fatal(err)
	}
}

// Result rows are dynamic objects over the store's rows (rows.go): scripts must not be
// able to tell them from the plain objects and arrays they replaced, short of freezing.
func TestResultRowsBehaveLikePlainObjects(t *testing.T) {
	withWorker(t, func(w *Worker) error {
		fields := []string{"ID", "name", "qty"}
		data := [][]any{{int64(3), "c", int64(30)}, {int64(1), "a", nil}, {int64(2), "b", 2.5}}
		if err := w.vm.Set("rows", w.rowsAsObjects(fields, data, nil)); err != nil {
			return err
		}
		if err := w.vm.Set("fresh", func() goja.Value { return w.rowsAsObjects(fields, data, map[string]string{"qty": "q"}) }); err != nil {
			return err
		}
		if err := w.vm.Set("one", w.rowObject(fields, data[0])); err != nil {
			return err
		}
		return runChecks(t, w, `(() => {
			const out = []
			const check = (name, got, want) => { if (got !== want) out.push(name + ': got ' + got + ', want ' + want) }
			check('isArray', Array.isArray(rows), true)
			check('length', rows.length, 3)
			check('identity', rows[0] === rows[0], true)
			check('field', rows[1].name, 'a')
			check('null cell', rows[1].qty, null)
			check('missing', rows[1].nope, undefined)
			check('proto', Object.getPrototypeOf(rows[0]), Object.prototype)
			check('instanceof', rows[0] instanceof Object, true)
			check('array proto', Object.getPrototypeOf(rows), Array.prototype)
			check('keys', Object.keys(rows[0]).join(), 'ID,name,qty')
			check('entries', JSON.stringify(Object.entries(rows[2])), '[["ID",2],["name","b"],["qty",2.5]]')
			check('stringify', JSON.stringify(rows), '[{"ID":3,"name":"c","qty":30},{"ID":1,"name":"a","qty":null},{"ID":2,"name":"b","qty":2.5}]')
			check('in', 'name' in rows[0], true)
			check('own', Object.prototype.hasOwnProperty.call(rows[0], 'qty'), true)
			check('toString inherited', typeof rows[0].toString, 'function')
			const d = Object.getOwnPropertyDescriptor(rows[0], 'ID')
			check('descriptor', d.value === 3 && d.writable && d.enumerable && d.configurable, true)
			check('map', rows.map(r => r.ID).join(), '3,1,2')
			check('filter', rows.filter(r => r.ID > 1).length, 2)
			let ids = ''
			for (const r of rows) ids += r.ID
			check('for of', ids, '312')
			let keys = ''
			for (const k in rows[0]) keys += k
			check('for in', keys, 'IDnameqty')
			check('spread', JSON.stringify({ ...rows[1], extra: 1 }), '{"ID":1,"name":"a","qty":null,"extra":1}')
			check('assign', JSON.stringify(Object.assign({}, rows[2])), '{"ID":2,"name":"b","qty":2.5}')
			check('aliases', JSON.stringify(fresh()[0]), '{"ID":3,"name":"c","q":30}')
			check('single', JSON.stringify(one), '{"ID":3,"name":"c","qty":30}')

			const s = fresh()
			s.sort((a, b) => a.ID - b.ID)
			check('sorted', s.map(r => r.name).join(), 'a,b,c')
			s.push({ ID: 9, name: 'z' })
			check('pushed', s.length + s[3].name, '4z')
			check('pop', s.pop().ID, 9)
			s.splice(0, 1)
			check('spliced', s.map(r => r.name).join(), 'b,c')
			s.length = 5
			check('grown', s.length + ' ' + s[4], '5 undefined')
			s.length = 1
			check('shrunk', JSON.stringify(s), '[{"ID":2,"name":"b","q":2.5}]')
			s[3] = 'x'
			check('hole filled', JSON.stringify(s), '[{"ID":2,"name":"b","q":2.5},null,null,"x"]')

			const r = fresh()[1]
			r.name = 'changed'
			r.added = true
			check('changed', JSON.stringify(r), '{"ID":1,"name":"changed","q":null,"added":true}')
			delete r.ID
			check('deleted', 'ID' in r, false)
			check('after delete', Object.keys(r).join(), 'name,q,added')
			r.ID = 7
			check('re-added at the end', Object.keys(r).join(), 'name,q,added,ID')
			delete r.added
			check('extra deleted', JSON.stringify(r), '{"name":"changed","q":null,"ID":7}')
			let frozen = true
			try { Object.freeze(fresh()[0]) } catch (e) { frozen = false }
			check('freeze refused', frozen, false)
			return out.join('\n')
		})()`)
	})
}

// runChecks runs a script that returns the failures of its checks, one per line.
func runChecks(t *testing.T, w *Worker, src string) error {
	t.Helper()
	v, err := w.vm.RunString(src)
	if err != nil {
		return err
	}
	if s := v.String(); s != "" {
		t.Error(s)
	}
	return nil
}

// writeEnd writes JSON itself (appendJSON); what it writes must be what JSON.stringify
// writes, byte for byte, it must throw what JSON.stringify throws, and it must read each
// property once.
func TestAppendJSONMatchesStringify(t *testing.T) {
	withWorker(t, func(w *Worker) error {
		check := func(name string, v goja.Value) {
			t.Helper()
			// appendJSON first: JSON.stringify reads every property, which converts
			// result cells to JS values.
			var got []byte
			var ok bool
			gotErr := w.vm.Try(func() { got, ok = w.appendJSON([]byte("prefix"), v) })
			want, wantErr := w.api.jsonStringify(goja.Undefined(), v)
			switch {
			case wantErr != nil || gotErr != nil:
				if wantErr == nil || gotErr == nil || gotErr.Error() != wantErr.Error() {
					t.Errorf("%s: error %v, JSON.stringify's %v", name, gotErr, wantErr)
				}
				return
			case goja.IsUndefined(want):
				if ok || string(got) != "prefix" {
					t.Errorf("%s: wrote %q (ok %v) where JSON.stringify gives undefined", name, got, ok)
				}
				return
			case !ok:
				t.Errorf("%s: nothing written, JSON.stringify gives %s", name, want)
				return
			}
			if g, w := string(got[len("prefix"):]), want.String(); g != w {
				i := 0
				for i < len(g) && i < len(w) && g[i] == w[i] {
					i++
				}
				from := max(0, i-40)
				t.Errorf("%s: differs at byte %d:\n got …%s\nwant …%s", name, i, g[from:min(len(g), i+40)], w[from:min(len(w), i+40)])
			}
		}
		cells := []any{
			nil, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), int64(1 << 53), 7, int32(-8),
			0.0, math.Copysign(0, -1), 0.5, -1.25, 1e-6, 1e-7, 1.5e-7, 123456.789, 1e18, 1e20, 1e21, 1.7976931348623157e308,
			5e-324, math.NaN(), math.Inf(1), math.Inf(-1), 0.1 + 0.2, 100.0, 2.5e15,
			true, false, "", "plain", `quote " backslash \ slash /`, "ctl \x00\x01\b\t\n\f\r\x1f\x7f", "uni ü € 𝄞 フレームワーク",
			"bad \xff\xfe utf8 \xc3", "<script>&'", "\u2028\u2029",
			time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("x", 3600)),
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
			[]byte("bytes"), map[string]any{"b": int64(1), "a": []any{"x", nil}},
		}
		fields := make([]string, len(cells))
		for i := range fields {
			fields[i] = "f" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		}
		check("one row of every kind", w.rowObject(fields, cells))
		check("rows", w.rowsAsObjects(fields, [][]any{cells, cells}, nil))
		check("no rows", w.rowsAsObjects(fields, nil, nil))
		check("odd names", w.rowObject([]string{"a\"b", "ü", "", "\n"}, []any{int64(1), int64(2), int64(3), int64(4)}))
		check("short row", w.rowObject([]string{"a", "b"}, []any{int64(1)}))
		check("long row", w.rowObject([]string{"a"}, []any{int64(1), int64(2)}))
		check("duplicate names", w.rowObject([]string{"a", "a"}, []any{int64(1), int64(2)}))
		check("a field named toJSON", w.rowObject([]string{"toJSON", "b"}, []any{"t", int64(2)}))

		rng := rand.New(rand.NewPCG(7, 9))
		floats := make([]any, 2000)
		for i := range floats {
			switch i % 4 {
			case 0:
				floats[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(44)-22))
			case 1:
				floats[i] = math.Float64frombits(rng.Uint64())
			case 2:
				floats[i] = float64(rng.Int64N(1<<62)) / 100
			default:
				floats[i] = float64(rng.IntN(1e6)) / 1000
			}
		}
		fnames := make([]string, len(floats))
		for i := range fnames {
			fnames[i] = "n" + string(rune('A'+i%26)) + strings.Repeat("_", i/26)
		}
		check("random floats", w.rowObject(fnames, floats))

		if err := w.vm.Set("fresh", func() goja.Value {
			return w.rowsAsObjects([]string{"ID", "s"}, [][]any{{int64(1), "a"}, {int64(2), "b"}}, nil)
		}); err != nil {
			return err
		}
		// Rows with a date cell: the writer assumes Date's own toJSON and toISOString only
		// for them.
		day := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		if err := w.vm.Set("freshDates", func() goja.Value {
			return w.rowsAsObjects([]string{"ID", "d"}, [][]any{{int64(1), day}, {int64(2), nil}}, nil)
		}); err != nil {
			return err
		}
		if err := w.vm.Set("freshRow", func() goja.Value {
			return w.rowObject([]string{"ID", "d"}, []any{int64(3), day})
		}); err != nil {
			return err
		}
		if err := w.vm.Set("goMap", w.vm.ToValue(map[string]any{"k": 1})); err != nil {
			return err
		}
		run := func(src string) goja.Value {
			t.Helper()
			v, err := w.vm.RunString(src)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for _, c := range []struct{ name, src string }{
			{"read rows", `const r1 = fresh(); r1[0].s + r1[1].ID; r1`},
			{"changed values", `const r2 = fresh(); r2[0].s = 'x\ud800y'; r2[1].ID = 1.5; r2[1].s = undefined; r2`},
			{"primitive number", `42.5`},
			{"string", `'a"b'`},
			{"null", `null`},
			{"undefined", `undefined`},
			{"function", `(() => 1)`},
			{"symbol", `Symbol('s')`},
			{"added property", `const r3 = fresh(); r3[0].extra = 1; r3`},
			{"deleted property", `const r4 = fresh(); delete r4[1].s; r4`},
			{"object value", `const r5 = fresh(); r5[0].s = { a: 1, b: [1, { c: null }] }; r5`},
			{"date value", `const r6 = fresh(); r6[0].s = new Date(0); r6`},
			{"pushed plain object", `const r7 = fresh(); r7.push({ ID: 3 }); r7`},
			{"other prototype", `const r8 = fresh(); Object.setPrototypeOf(r8[0], { toJSON (k) { return 'p' + k } }); r8`},
			{"array of rows", `const r9 = fresh(); [r9[1], fresh()[0], 1, 'two', null, undefined, , r9]`},
			{"functions and symbols", `[fresh()[0], () => 1, Symbol('x'), { f () {}, s: Symbol('y'), u: undefined, n: null }]`},
			{"array subclass", `class A extends Array {}; A.from([1, 2])`},
			{"array with properties", `const a1 = [1, 2]; a1.extra = 3; a1`},
			{"sparse array", `const a2 = []; a2[3] = 'x'; a2`},
			{"plain object", `({ message: 'Hello, World!', n: 1, nested: { deep: [true, false] } })`},
			{"integer keys", `({ b: 1, 2: 'two', a: 3, 1: 'one' })`},
			{"null prototype", `const np = Object.create(null); np.x = 1; np`},
			{"class instance", `class P { constructor () { this.x = 1 } get y () { return 2 } }; new P()`},
			{"toJSON with key", `({ a: { toJSON (k) { return 'key:' + k } }, b: [{ toJSON (k) { return 'idx:' + k } }] })`},
			{"toJSON returning objects", `({ d: { toJSON () { return new Date(0) } }, n: { toJSON () { return new Number(3) } }, o: { toJSON () { return { toJSON () { return 'inner' } } } } })`},
			{"boxed primitives", `({ n: new Number(1.5), s: new String('s'), b: new Boolean(false) })`},
			{"built-in objects", `({ m: new Map([[1, 2]]), r: /x/g, e: new Error('boom'), u8: new Uint8Array([1, 2]), d: new Date(86400000), bad: new Date(NaN) })`},
			{"symbol keys", `({ [Symbol('k')]: 1, v: 2 })`},
			{"non-enumerable", `const ne = { v: 1 }; Object.defineProperty(ne, 'hidden', { value: 2, enumerable: false }); ne`},
			{"lone surrogate key", `({ ['a\ud800b']: 1, ok: 'x\udc00' })`},
			{"proxy", `new Proxy({ a: 1 }, {})`},
			{"go map", `({ g: goMap })`},
			{"deep", `let dp = 0; for (let i = 0; i < 100; i++) dp = { dp }; dp`},
			{"unicode", `({ 'ключ': 'значення 𝄞', e: '\u0000\u001f' })`},
			{"big integers", `[2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e21, 1e-7, 123e-20]`},
			{"cycle", `const cy = { a: 1 }; cy.self = cy; cy`},
			{"cycle through a row", `const cr = fresh(); cr[0].s = cr; cr`},
			{"BigInt", `({ b: 10n })`},
			{"throwing getter", `({ get g () { throw new TypeError('no') } })`},
			{"throwing toJSON", `({ t: { toJSON () { throw new RangeError('nope') } } })`},
		} {
			check(c.name, run(c.src))
		}
		check("rows and a row with dates", run(`({ rows: freshDates(), row: freshRow() })`))
		check("toJSON on Object.prototype", run(`Object.prototype.toJSON = function (k) { return 'o' + k }; [fresh(), { a: 1 }]`))
		check("a row with toJSON on Object.prototype", run(`freshRow()`))
		// Arrays inherit Object.prototype's toJSON too, unless Array.prototype shadows it.
		check("rows with toJSON on Object.prototype only", run(`Array.prototype.toJSON = undefined; fresh()`))
		run(`delete Array.prototype.toJSON`)
		run(`delete Object.prototype.toJSON`)
		check("toJSON removed again", run(`fresh()`))
		check("Array.prototype.toJSON", run(`Array.prototype.toJSON = function () { return 'arr' }; ({ r: fresh(), a: [1] })`))
		check("rows alone with Array.prototype.toJSON", run(`freshDates()`))
		run(`delete Array.prototype.toJSON`)
		check("Date.prototype.toISOString replaced", run(`Date.prototype.toISOString = function () { return 'iso' }; ({ rows: freshDates(), row: freshRow() })`))
		check("Date.prototype.toJSON replaced", run(`Date.prototype.toJSON = function () { return 'd' }; w6 = fresh(); [w6, freshDates(), freshRow()]`))

		// A getter runs once, as in JSON.stringify.
		v := run(`globalThis.reads = 0; ({ get g () { reads++; return [1, 10n] } })`)
		_ = w.vm.Try(func() { w.appendJSON(nil, v) })
		if n := run(`reads`).ToInteger(); n != 1 {
			t.Errorf("a getter ran %d times", n)
		}
		return nil
	})
}

// Rows handed back to Go (a row as execParams, rows in a where value) arrive as plain
// maps and slices.
func TestResultRowsExportAsPlainData(t *testing.T) {
	withWorker(t, func(w *Worker) error {
		rows := w.rowsAsObjects([]string{"ID", "s"}, [][]any{{int64(1), "a"}, {int64(2), "b"}}, nil)
		if err := w.vm.Set("rows", rows); err != nil {
			return err
		}
		v, err := w.vm.RunString(`rows[1].s = 'changed'; ({ one: rows[0], all: rows, nested: [rows[1]] })`)
		if err != nil {
			return err
		}
		got, err := w.export(v)
		if err != nil {
			return err
		}
		b, err := jsonMarshal(got)
		if err != nil {
			return err
		}
		want := `{"all":[{"ID":1,"s":"a"},{"ID":2,"s":"changed"}],"nested":[{"ID":2,"s":"changed"}],"one":{"ID":1,"s":"a"}}`
		if string(b) != want {
			t.Errorf("export\n got %s\nwant %s", b, want)
		}
		loop, err := w.vm.RunString(`const l = rows[0]; l.self = l; l`)
		if err != nil {
			return err
		}
		if _, err := w.export(loop); err == nil {
			t.Error("a row containing itself was exported")
		}
		return nil
	})
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
