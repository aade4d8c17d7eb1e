package jsvm

import (
	"reflect"
	"slices"

	"github.com/dop251/goja"
)

// Select results reach scripts as objects backed by the store's Go rows (selectAsObject,
// selectById, selectSingle, DataStore.getAsJsObject, selectParsedAsObject): an array of
// rows is a goja dynamic array whose row objects are created when a script first reads
// them, and a row converts a cell to a JS value when a script first reads it. Rows a
// script never touches are written by THTTPResponse.writeEnd straight from the Go cells
// (jsonwrite.go). Creating a plain object per row costs goja about seven allocations and
// JSON.stringify about ten more; for a 20-row list that was most of a JS endpoint's time.
//
// To scripts the rows behave as plain objects: the fields are own, enumerable, writable
// and configurable properties in field order, properties can be added, changed and
// deleted, the prototype is Object.prototype, and the array is an Array (Array.isArray,
// length, every Array.prototype method, iteration). The differences a script can see
// are goja's limits of dynamic objects: a row cannot be frozen, sealed or made
// non-extensible, and its properties cannot be redefined as accessors or read-only.

// rowShape holds the property names of a result's rows, shared by its rows.
type rowShape struct {
	names []string
	index map[string]int // name → position, for rows too wide to scan
	keys  []string       // per name, `"name":` as JSON writes it; built on first write
}

// jsonKeys returns the names quoted as JSON object keys, with the colon: rows of one shape
// are written many times (a 20-row list, a worker's repeated selectById), the names
// quoted once.
func (s *rowShape) jsonKeys() []string {
	if s.keys == nil {
		keys := make([]string, len(s.names))
		for i, n := range s.names {
			keys[i] = string(append(appendJSString(nil, n), ':'))
		}
		s.keys = keys
	}
	return s.keys
}

// wideRow is the width from which a row finds a property by map instead of scanning.
const wideRow = 8

// newRowShape returns the shape of rows with these property names, or nil when a name
// repeats: such rows are built as plain objects, where the last duplicate wins.
func newRowShape(names []string) *rowShape {
	s := &rowShape{names: names}
	if len(names) > wideRow {
		s.index = make(map[string]int, len(names))
	}
	for i, n := range names {
		if s.index != nil {
			if _, dup := s.index[n]; dup {
				return nil
			}
			s.index[n] = i
		} else if slices.Contains(names[:i], n) {
			return nil
		}
	}
	return s
}

func (s *rowShape) find(key string) int {
	if s.index != nil {
		if i, ok := s.index[key]; ok {
			return i
		}
		return -1
	}
	for i, n := range s.names {
		if n == key {
			return i
		}
	}
	return -1
}

// resultRow is one row as a goja.DynamicObject.
type resultRow struct {
	w     *Worker
	obj   *goja.Object // the JS object of this row
	shape *rowShape
	cells []any        // the store's row; only the first width() cells are properties
	vals  []goja.Value // per cell: nil until read or assigned
	extra *rowExtra    // properties added or deleted by scripts; nil while there are none
}

// rowExtra holds what scripts changed in a row's set of properties.
type rowExtra struct {
	deleted []bool // per field
	keys    []string
	vals    []goja.Value
}

var (
	typeResultRow  = reflect.TypeFor[*resultRow]()
	typeResultRows = reflect.TypeFor[*resultRows]()
)

func (r *resultRow) width() int { return min(len(r.shape.names), len(r.cells)) }

// field returns the position of key among the row's live fields, or -1.
func (r *resultRow) field(key string) int {
	i := r.shape.find(key)
	if i < 0 || i >= len(r.cells) || (r.extra != nil && r.extra.deleted[i]) {
		return -1
	}
	return i
}

// value returns field i as a JS value, converting the cell on first use.
func (r *resultRow) value(i int) goja.Value {
	if r.vals == nil {
		r.vals = make([]goja.Value, len(r.cells))
	}
	v := r.vals[i]
	if v == nil {
		v = r.w.toJS(r.cells[i])
		r.vals[i] = v
	}
	return v
}

func (r *resultRow) Get(key string) goja.Value {
	if i := r.field(key); i >= 0 {
		return r.value(i)
	}
	if r.extra != nil {
		if j := slices.Index(r.extra.keys, key); j >= 0 {
			return r.extra.vals[j]
		}
	}
	return nil
}

func (r *resultRow) Set(key string, val goja.Value) bool {
	if i := r.field(key); i >= 0 {
		if r.vals == nil {
			r.vals = make([]goja.Value, len(r.cells))
		}
		r.vals[i] = val
		return true
	}
	x := r.ensureExtra()
	if j := slices.Index(x.keys, key); j >= 0 {
		x.vals[j] = val
		return true
	}
	x.keys = append(x.keys, key)
	x.vals = append(x.vals, val)
	return true
}

func (r *resultRow) Has(key string) bool {
	return r.field(key) >= 0 || (r.extra != nil && slices.Contains(r.extra.keys, key))
}

func (r *resultRow) Delete(key string) bool {
	if i := r.field(key); i >= 0 {
		r.ensureExtra().deleted[i] = true
		if r.vals != nil {
			r.vals[i] = nil
		}
		return true
	}
	if r.extra != nil {
		if j := slices.Index(r.extra.keys, key); j >= 0 {
			r.extra.keys = slices.Delete(r.extra.keys, j, j+1)
			r.extra.vals = slices.Delete(r.extra.vals, j, j+1)
		}
	}
	return true
}

func (r *resultRow) Keys() []string {
	n := r.width()
	keys := make([]string, 0, n)
	for i, name := range r.shape.names[:n] {
		if r.extra == nil || !r.extra.deleted[i] {
			keys = append(keys, name)
		}
	}
	if r.extra != nil {
		keys = append(keys, r.extra.keys...)
	}
	return keys
}

func (r *resultRow) ensureExtra() *rowExtra {
	if r.extra == nil {
		r.extra = &rowExtra{deleted: make([]bool, len(r.cells))}
	}
	return r.extra
}

// resultRows is an array of rows as a goja.DynamicArray.
type resultRows struct {
	w     *Worker
	shape *rowShape
	data  [][]any      // data[i] is element i while elems[i] is nil
	elems []goja.Value // the elements scripts have read or assigned; nil: not created yet
	rows  []resultRow  // backing store of the row objects, allocated on first use
}

func (a *resultRows) Len() int { return len(a.elems) }

func (a *resultRows) Get(i int) goja.Value {
	if i < 0 || i >= len(a.elems) {
		return nil
	}
	if a.elems[i] == nil {
		r := a.row(i)
		r.obj = a.w.vm.NewDynamicObject(r)
		a.elems[i] = r.obj
	}
	return a.elems[i]
}

// row returns the Go side of element i, which must still be the store's row.
func (a *resultRows) row(i int) *resultRow {
	if a.rows == nil {
		a.rows = make([]resultRow, len(a.data))
	}
	r := &a.rows[i]
	if r.w == nil {
		*r = resultRow{w: a.w, shape: a.shape, cells: a.data[i]}
	}
	return r
}

func (a *resultRows) Set(i int, v goja.Value) bool {
	if i < 0 {
		return false
	}
	if i >= len(a.elems) {
		a.grow(i)
		a.elems = append(a.elems, v)
		return true
	}
	a.elems[i] = v
	return true
}

func (a *resultRows) SetLen(n int) bool {
	switch {
	case n < 0:
		return false
	case n < len(a.elems):
		clear(a.elems[n:])
		a.elems = a.elems[:n]
		a.data = a.data[:min(n, len(a.data))]
	default:
		a.grow(n)
	}
	return true
}

// grow appends undefined elements up to length n: only the first len(data) elements
// can be rows that were never read.
func (a *resultRows) grow(n int) {
	for len(a.elems) < n {
		a.elems = append(a.elems, goja.Undefined())
	}
}

// rowsAsObjects returns rows as an array of objects; aliases rename fields.
func (w *Worker) rowsAsObjects(fields []string, data [][]any, aliases map[string]string) goja.Value {
	names := aliasedNames(fields, aliases)
	shape := w.shapeOf(names)
	if shape == nil {
		items := make([]any, len(data))
		for i, row := range data {
			items[i] = w.plainRow(names, row)
		}
		return w.vm.NewArray(items...)
	}
	return w.vm.NewDynamicArray(&resultRows{w: w, shape: shape, data: data, elems: make([]goja.Value, len(data))})
}

// rowObject returns one row as an object: a property per named cell, in field order.
func (w *Worker) rowObject(names []string, row []any) *goja.Object {
	shape := w.shapeOf(names)
	if shape == nil {
		return w.plainRow(names, row)
	}
	r := &resultRow{w: w, shape: shape, cells: row}
	r.obj = w.vm.NewDynamicObject(r)
	w.recentRows[w.recentNext%len(w.recentRows)] = r
	w.recentNext++
	return r.obj
}

// shapeOf returns the shape of rows with these names, reusing the worker's last one
// when the names are the same (selectById in a loop).
func (w *Worker) shapeOf(names []string) *rowShape {
	if s := w.lastShape; s != nil && slices.Equal(s.names, names) {
		return s
	}
	s := newRowShape(names)
	if s != nil {
		w.lastShape = s
	}
	return s
}

// recentRowCount is how many single rows (selectById...) a worker remembers for rowOf:
// an endpoint collecting rows in an array writes them without Export.
const recentRowCount = 32

// rowOf returns the Go side of a result row object, or nil. Rows created recently are
// found without Export, which allocates.
func (w *Worker) rowOf(obj *goja.Object) *resultRow {
	for _, r := range w.recentRows {
		if r != nil && r.obj == obj {
			return r
		}
	}
	if obj.ExportType() != typeResultRow {
		return nil
	}
	return obj.Export().(*resultRow)
}

// plainRow builds a row as an ordinary object, for rows whose names repeat.
func (w *Worker) plainRow(names []string, row []any) *goja.Object {
	obj := w.vm.NewObject()
	for j, v := range row {
		if j < len(names) {
			_ = obj.Set(names[j], w.toJS(v))
		}
	}
	return obj
}

// plainResult turns the result rows and arrays that Export leaves in v (it returns a
// dynamic object's Go side) into maps and slices, so that Go code receiving script values
// sees plain data, and refuses values nested deeper than maxValueDepth.
func plainResult(v any, depth int) (any, error) {
	switch v.(type) {
	case *resultRow, *resultRows, map[string]any, []any:
		if depth >= maxValueDepth {
			return nil, errTooDeep
		}
	default:
		return v, nil
	}
	var err error
	switch x := v.(type) {
	case *resultRow:
		m := make(map[string]any, x.width())
		for _, k := range x.Keys() {
			if m[k], err = plainResult(exportValue(x.Get(k)), depth+1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case *resultRows:
		out := make([]any, x.Len())
		for i := range out {
			if out[i], err = plainResult(exportValue(x.Get(i)), depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		for k, it := range x {
			if x[k], err = plainResult(it, depth+1); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, it := range x {
			if x[i], err = plainResult(it, depth+1); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

func exportValue(v goja.Value) any {
	if v == nil {
		return nil
	}
	return v.Export()
}
