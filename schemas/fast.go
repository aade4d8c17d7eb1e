package schemas

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// fastNode is a pre-check compiled from the same schema source as the
// jsonschema/v5 schema. It answers one question — is the instance clean (no
// error and no unknown key)? — without allocating, so that the common case of
// a valid entity costs a few microseconds. Whenever it says "not clean",
// jsonschema/v5 validates again and produces the detailed findings; so the
// pre-check only has to be exact in one direction: it must never call a value
// clean that jsonschema/v5 rejects. It understands only the keywords our
// schemas use; compileFast refuses any other keyword, and then every call goes
// through jsonschema/v5.
type fastNode struct {
	always    *bool // boolean schema
	types     uint8
	enum      []any
	hasConst  bool
	constVal  any
	required  []string
	props     map[string]*fastNode
	addlFalse bool
	addl      *fastNode
	items     *fastNode
	allOf     []*fastNode
	ref       *fastNode
	ifN       *fastNode
	thenN     *fastNode
	elseN     *fastNode
	notN      *fastNode
	minimum   *float64
	maximum   *float64
	minLength int
	maxLength int
	pattern   *regexp.Regexp
}

const (
	tNull uint8 = 1 << iota
	tBoolean
	tObject
	tArray
	tNumber
	tInteger
	tString
)

var typeBits = map[string]uint8{
	"null": tNull, "boolean": tBoolean, "object": tObject, "array": tArray,
	"number": tNumber, "integer": tInteger, "string": tString,
}

// annotation keywords that do not affect validation.
var fastIgnored = map[string]bool{
	"$schema": true, "$id": true, "$defs": true, "$comment": true, "title": true,
	"description": true, "default": true, "examples": true, "deprecated": true,
	"readOnly": true, "writeOnly": true,
}

type fastCompiler struct {
	root  any
	nodes map[string]*fastNode // by JSON pointer, so $ref cycles resolve to one node
}

// compileFast builds the pre-check for a decoded schema document, or returns
// an error if the schema uses something the pre-check does not understand.
func compileFast(root any) (*fastNode, error) {
	fc := &fastCompiler{root: root, nodes: map[string]*fastNode{}}
	n, err := fc.compile(root, "")
	if err != nil {
		return nil, err
	}
	// Inside "if" and "not" the pre-check must answer "valid", not "clean";
	// the two agree only where no additionalProperties:false applies.
	for ptr, c := range fc.nodes {
		for _, cond := range []*fastNode{c.ifN, c.notN} {
			if cond != nil && forbidsUnknown(cond, map[*fastNode]bool{}) {
				return nil, fmt.Errorf("schema at %q: additionalProperties:false inside if/not is not supported by the pre-check", ptr)
			}
		}
	}
	return n, nil
}

func forbidsUnknown(n *fastNode, seen map[*fastNode]bool) bool {
	if n == nil || seen[n] {
		return false
	}
	seen[n] = true
	if n.addlFalse {
		return true
	}
	for _, c := range n.props {
		if forbidsUnknown(c, seen) {
			return true
		}
	}
	for _, c := range n.allOf {
		if forbidsUnknown(c, seen) {
			return true
		}
	}
	for _, c := range []*fastNode{n.addl, n.items, n.ref, n.ifN, n.thenN, n.elseN, n.notN} {
		if forbidsUnknown(c, seen) {
			return true
		}
	}
	return false
}

func (fc *fastCompiler) compile(v any, ptr string) (*fastNode, error) {
	if n, ok := fc.nodes[ptr]; ok {
		return n, nil
	}
	n := &fastNode{minLength: -1, maxLength: -1}
	fc.nodes[ptr] = n
	if b, ok := v.(bool); ok {
		n.always = &b
		return n, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema at %q is neither an object nor a boolean", ptr)
	}
	sub := func(key string) (*fastNode, error) { return fc.compile(m[key], ptr+"/"+key) }
	var err error
	for k, val := range m {
		switch k {
		case "type":
			switch t := val.(type) {
			case string:
				n.types |= typeBits[t]
			case []any:
				for _, e := range t {
					s, _ := e.(string)
					n.types |= typeBits[s]
				}
			}
			if n.types == 0 {
				return nil, fmt.Errorf("schema at %q: bad type", ptr)
			}
		case "enum":
			n.enum, _ = val.([]any)
		case "const":
			n.hasConst, n.constVal = true, val
		case "required":
			for _, r := range val.([]any) {
				n.required = append(n.required, r.(string))
			}
		case "properties":
			n.props = map[string]*fastNode{}
			for p, ps := range val.(map[string]any) {
				if n.props[p], err = fc.compile(ps, ptr+"/properties/"+escapeToken(p)); err != nil {
					return nil, err
				}
			}
		case "additionalProperties":
			if b, ok := val.(bool); ok {
				n.addlFalse = !b
			} else if n.addl, err = sub(k); err != nil {
				return nil, err
			}
		case "items":
			if n.items, err = sub(k); err != nil {
				return nil, err
			}
		case "allOf":
			for i, e := range val.([]any) {
				c, err := fc.compile(e, fmt.Sprintf("%s/allOf/%d", ptr, i))
				if err != nil {
					return nil, err
				}
				n.allOf = append(n.allOf, c)
			}
		case "$ref":
			ref, _ := val.(string)
			if !strings.HasPrefix(ref, "#") {
				return nil, fmt.Errorf("schema at %q: only local $ref is supported", ptr)
			}
			target, ok := jsonc.Get(fc.root, splitPointer(ref[1:]))
			if !ok {
				return nil, fmt.Errorf("schema at %q: unresolved $ref %q", ptr, ref)
			}
			if n.ref, err = fc.compile(target, ref[1:]); err != nil {
				return nil, err
			}
		case "if":
			if n.ifN, err = sub(k); err != nil {
				return nil, err
			}
		case "then":
			if n.thenN, err = sub(k); err != nil {
				return nil, err
			}
		case "else":
			if n.elseN, err = sub(k); err != nil {
				return nil, err
			}
		case "not":
			if n.notN, err = sub(k); err != nil {
				return nil, err
			}
		case "minimum", "maximum":
			f, ok := val.(float64)
			if !ok {
				return nil, fmt.Errorf("schema at %q: bad %s", ptr, k)
			}
			if k == "minimum" {
				n.minimum = &f
			} else {
				n.maximum = &f
			}
		case "minLength", "maxLength":
			f, ok := val.(float64)
			if !ok {
				return nil, fmt.Errorf("schema at %q: bad %s", ptr, k)
			}
			if k == "minLength" {
				n.minLength = int(f)
			} else {
				n.maxLength = int(f)
			}
		case "pattern":
			if n.pattern, err = regexp.Compile(val.(string)); err != nil {
				return nil, err
			}
		default:
			if !fastIgnored[k] {
				return nil, fmt.Errorf("schema at %q: keyword %q is not supported by the pre-check", ptr, k)
			}
		}
	}
	return n, nil
}

func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// clean reports whether v passes the schema with no unknown keys.
func (n *fastNode) clean(v any) bool {
	if n.always != nil {
		return *n.always
	}
	if n.types != 0 && !typeMatches(n.types, v) {
		return false
	}
	if n.enum != nil {
		found := false
		for _, e := range n.enum {
			if jsonEqual(e, v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if n.hasConst && !jsonEqual(n.constVal, v) {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range n.required {
			if _, ok := x[r]; !ok {
				return false
			}
		}
		if n.props != nil || n.addlFalse || n.addl != nil {
			for k, pv := range x {
				if ps, ok := n.props[k]; ok {
					if !ps.clean(pv) {
						return false
					}
				} else if n.addlFalse {
					return false
				} else if n.addl != nil && !n.addl.clean(pv) {
					return false
				}
			}
		}
	case []any:
		if n.items != nil {
			for _, e := range x {
				if !n.items.clean(e) {
					return false
				}
			}
		}
	case string:
		if n.minLength >= 0 || n.maxLength >= 0 {
			l := utf8.RuneCountInString(x)
			if (n.minLength >= 0 && l < n.minLength) || (n.maxLength >= 0 && l > n.maxLength) {
				return false
			}
		}
		if n.pattern != nil && !n.pattern.MatchString(x) {
			return false
		}
	case float64:
		if (n.minimum != nil && x < *n.minimum) || (n.maximum != nil && x > *n.maximum) {
			return false
		}
	default:
		if n.minimum != nil || n.maximum != nil {
			if _, isNum := numberOf(v); isNum {
				return false // unusual numeric type: let jsonschema/v5 decide
			}
		}
	}
	if n.ref != nil && !n.ref.clean(v) {
		return false
	}
	for _, a := range n.allOf {
		if !a.clean(v) {
			return false
		}
	}
	if n.notN != nil && n.notN.clean(v) {
		return false
	}
	if n.ifN != nil {
		if n.ifN.clean(v) {
			if n.thenN != nil && !n.thenN.clean(v) {
				return false
			}
		} else if n.elseN != nil && !n.elseN.clean(v) {
			return false
		}
	}
	return true
}

// unknownAt is an object, found by collect, that holds keys its schema does
// not declare.
type unknownAt struct {
	path []string
	keys []string
}

// collect is clean with unknown keys tolerated: it reports whether v is valid
// apart from additionalProperties:false violations, and appends those to
// *unk. Values under unknown keys are not checked, as in JSON Schema.
func (n *fastNode) collect(v any, path []string, unk *[]unknownAt) bool {
	if n.always != nil {
		return *n.always
	}
	if n.types != 0 && !typeMatches(n.types, v) {
		return false
	}
	if n.enum != nil {
		found := false
		for _, e := range n.enum {
			if jsonEqual(e, v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if n.hasConst && !jsonEqual(n.constVal, v) {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range n.required {
			if _, ok := x[r]; !ok {
				return false
			}
		}
		if n.props != nil || n.addlFalse || n.addl != nil {
			var extra []string
			for k, pv := range x {
				if ps, ok := n.props[k]; ok {
					if !ps.collect(pv, append(path, k), unk) {
						return false
					}
				} else if n.addlFalse {
					extra = append(extra, k)
				} else if n.addl != nil && !n.addl.collect(pv, append(path, k), unk) {
					return false
				}
			}
			if extra != nil {
				*unk = append(*unk, unknownAt{path: append([]string(nil), path...), keys: extra})
			}
		}
	case []any:
		if n.items != nil {
			for i, e := range x {
				if !n.items.collect(e, append(path, strconv.Itoa(i)), unk) {
					return false
				}
			}
		}
	case string:
		if n.minLength >= 0 || n.maxLength >= 0 {
			l := utf8.RuneCountInString(x)
			if (n.minLength >= 0 && l < n.minLength) || (n.maxLength >= 0 && l > n.maxLength) {
				return false
			}
		}
		if n.pattern != nil && !n.pattern.MatchString(x) {
			return false
		}
	case float64:
		if (n.minimum != nil && x < *n.minimum) || (n.maximum != nil && x > *n.maximum) {
			return false
		}
	default:
		if n.minimum != nil || n.maximum != nil {
			if _, isNum := numberOf(v); isNum {
				return false
			}
		}
	}
	if n.ref != nil && !n.ref.collect(v, path, unk) {
		return false
	}
	for _, a := range n.allOf {
		if !a.collect(v, path, unk) {
			return false
		}
	}
	// if/not subschemas never forbid unknown keys (checked by compileFast), so
	// clean is their validity.
	if n.notN != nil && n.notN.clean(v) {
		return false
	}
	if n.ifN != nil {
		if n.ifN.clean(v) {
			if n.thenN != nil && !n.thenN.collect(v, path, unk) {
				return false
			}
		} else if n.elseN != nil && !n.elseN.collect(v, path, unk) {
			return false
		}
	}
	return true
}

func typeMatches(bits uint8, v any) bool {
	switch x := v.(type) {
	case nil:
		return bits&tNull != 0
	case bool:
		return bits&tBoolean != 0
	case string:
		return bits&tString != 0
	case map[string]any:
		return bits&tObject != 0
	case []any:
		return bits&tArray != 0
	case float64:
		if bits&tNumber != 0 {
			return true
		}
		return bits&tInteger != 0 && !math.IsInf(x, 0) && x == math.Trunc(x)
	}
	return false // other Go types: let jsonschema/v5 decide
}

func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}
