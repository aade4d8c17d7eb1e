// Package schemas holds ubgo's JSON Schemas for the two metadata formats it
// reads from UnityBase applications, ubConfig.json and entity *.meta files, and
// validates decoded documents against them.
//
// Contract:
//
//   - The schemas (ubconfig.schema.json and entity.schema.json, JSON Schema
//     draft 2020-12) are embedded and compiled once, on first use.
//   - ValidateConfig and ValidateEntity take a value as produced by
//     encoding/json decoding into any (map[string]any, []any, float64, string,
//     bool, nil) and never modify it. ValidateConfig expects the configuration
//     after macro, #ifdef and #include processing; ValidateEntity expects an
//     entity definition after the models' *.meta files have been merged.
//   - Every violation becomes an error Issue, except keys that a schema does not
//     know: those become warning Issues listing the key names in Issue.Unknown,
//     because UnityBase treats its schemas as advisory and real metadata carries
//     extra keys.
//   - Issue.Pointer is an RFC 6901 JSON pointer into the validated value. For a
//     missing property it points at the property that should exist; for unknown
//     keys it points at the object that holds them.
//   - Messages name the offending value and the reason, never schema internals.
//   - Results are deduplicated and sorted by pointer, then message, so they are
//     deterministic. Both functions are safe for concurrent use.
//   - Speed: github.com/santhosh-tekuri/jsonschema/v5 is the validator of
//     record, but it allocates heavily even on success. A pre-check compiled
//     from the same schema text (fast.go) first decides, without allocating,
//     whether the value is clean; only values that are not are handed to
//     jsonschema/v5 for the detailed findings. A clean 20-attribute entity
//     costs about 15 µs.
package schemas

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/ubgo/ubgo/internal/jsonc"
)

//go:embed ubconfig.schema.json
var configSchemaJSON []byte

//go:embed entity.schema.json
var entitySchemaJSON []byte

const (
	configSchemaURL = "https://ubgo.dev/schemas/ubconfig.schema.json"
	entitySchemaURL = "https://ubgo.dev/schemas/entity.schema.json"
)

// Issue is one schema finding on an instance.
type Issue struct {
	Pointer string   // JSON pointer into the validated instance, e.g. "/attributes/3/size"
	Message string   // human message naming the value and the reason
	Unknown []string // for unknown-key findings: the key names; empty otherwise
}

// String renders the issue as "pointer: message" (pointer "/" for the root).
func (i Issue) String() string {
	p := i.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + i.Message
}

// ValidateConfig validates a decoded ubConfig.json. It returns hard errors and
// warnings (unknown keys).
func ValidateConfig(v any) (errs, warnings []Issue) {
	return validate(configSchema, v, "configuration")
}

// ValidateEntity validates a decoded, merged entity definition (*.meta). It
// returns hard errors and warnings (unknown keys).
func ValidateEntity(v any) (errs, warnings []Issue) {
	return validate(entitySchema, v, "entity definition")
}

// ConfigSchemaJSON returns the raw ubConfig.json schema.
func ConfigSchemaJSON() []byte { return bytes.Clone(configSchemaJSON) }

// EntitySchemaJSON returns the raw entity *.meta schema.
func EntitySchemaJSON() []byte { return bytes.Clone(entitySchemaJSON) }

// compiled is a compiled schema plus its decoded source, which is consulted to
// word messages (enum values, known property names, if/then conditions).
type compiled struct {
	schema *jsonschema.Schema
	raw    any
	fast   *fastNode // allocation-free pre-check; nil if the schema is beyond it
}

var (
	configSchema = sync.OnceValues(func() (*compiled, error) { return compile(configSchemaURL, configSchemaJSON) })
	entitySchema = sync.OnceValues(func() (*compiled, error) { return compile(entitySchemaURL, entitySchemaJSON) })
)

func compile(u string, src []byte) (*compiled, error) {
	var raw any
	if err := json.Unmarshal(src, &raw); err != nil {
		return nil, fmt.Errorf("schemas: %s is not valid JSON: %w", u, err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(u, bytes.NewReader(src)); err != nil {
		return nil, fmt.Errorf("schemas: %s: %w", u, err)
	}
	s, err := c.Compile(u)
	if err != nil {
		return nil, fmt.Errorf("schemas: %s does not compile: %w", u, err)
	}
	fast, _ := compileFast(raw) // on error, every call uses jsonschema/v5
	return &compiled{schema: s, raw: raw, fast: fast}, nil
}

func validate(get func() (*compiled, error), v any, rootLabel string) (errs, warnings []Issue) {
	c, err := get()
	if err != nil {
		return []Issue{{Message: "internal error: " + err.Error()}}, nil
	}
	if c.fast != nil {
		if c.fast.clean(v) {
			return nil, nil
		}
		// Valid apart from unknown keys? Then the warnings need no jsonschema/v5 run.
		var unk []unknownAt
		if c.fast.collect(v, make([]string, 0, 8), &unk) {
			w := walker{c: c, root: v, rootLabel: rootLabel}
			for _, u := range unk {
				w.unknownKeys(u.path, u.keys)
			}
			return nil, finish(w.warns)
		}
	}
	return validateSlow(c, v, rootLabel)
}

// validateSlow runs jsonschema/v5 and turns its error tree into issues.
func validateSlow(c *compiled, v any, rootLabel string) (errs, warnings []Issue) {
	verr := c.schema.Validate(v)
	if verr == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(verr, &ve) {
		// Not a schema violation: the value holds something JSON cannot.
		return []Issue{{Message: "cannot validate: " + verr.Error()}}, nil
	}
	w := walker{c: c, root: v, rootLabel: rootLabel}
	w.walk(ve)
	return finish(w.errs), finish(w.warns)
}

// finish sorts and deduplicates issues.
func finish(list []Issue) []Issue {
	if len(list) == 0 {
		return nil
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Pointer != list[j].Pointer {
			return list[i].Pointer < list[j].Pointer
		}
		return list[i].Message < list[j].Message
	})
	out := list[:1]
	for _, is := range list[1:] {
		last := out[len(out)-1]
		if is.Pointer == last.Pointer && is.Message == last.Message {
			continue
		}
		out = append(out, is)
	}
	return out
}

type walker struct {
	c         *compiled
	root      any
	rootLabel string
	errs      []Issue
	warns     []Issue
}

// walk descends to the leaves of the error tree. Alternatives (anyOf/oneOf)
// are summarised as one error, since only one branch needs to hold.
func (w *walker) walk(ve *jsonschema.ValidationError) {
	if len(ve.Causes) == 0 {
		w.leaf(ve)
		return
	}
	if ve.Message == "anyOf failed" || ve.Message == "oneOf failed" {
		tok := splitPointer(ve.InstanceLocation)
		w.errs = append(w.errs, Issue{
			Pointer: jsonc.JoinPointer(tok...),
			Message: w.subject(tok) + " does not match any of the allowed forms",
		})
		return
	}
	for _, c := range ve.Causes {
		w.walk(c)
	}
}

func (w *walker) leaf(ve *jsonschema.ValidationError) {
	itok := splitPointer(ve.InstanceLocation)
	ktok := splitPointer(fragment(ve.AbsoluteKeywordLocation))
	val, _ := jsonc.Get(w.root, itok)
	if ve.Message == "not allowed" || len(ktok) == 0 { // false schema
		w.errs = append(w.errs, Issue{Pointer: jsonc.JoinPointer(itok...), Message: w.subject(itok) + " is not allowed"})
		return
	}
	keyword := ktok[len(ktok)-1]
	node, _ := jsonc.Get(w.c.raw, ktok[:len(ktok)-1])
	sch, _ := node.(map[string]any)

	switch keyword {
	case "additionalProperties":
		w.unknown(itok, val, sch)
		return
	case "required":
		w.required(itok, val, sch, ktok)
		return
	}

	var reason string
	switch keyword {
	case "type":
		reason = "must be " + typeList(sch["type"]) + ", not " + article(jsonType(val))
	case "enum":
		reason = renderValue(val) + " is not one of " + enumList(sch["enum"])
	case "const":
		reason = "must be " + renderValue(sch["const"]) + ", not " + renderValue(val)
	case "minimum":
		reason = fmt.Sprintf("must be at least %s, not %s", renderValue(sch["minimum"]), renderValue(val))
	case "maximum":
		reason = fmt.Sprintf("must be at most %s, not %s", renderValue(sch["maximum"]), renderValue(val))
	case "exclusiveMinimum":
		reason = fmt.Sprintf("must be greater than %s, not %s", renderValue(sch["exclusiveMinimum"]), renderValue(val))
	case "exclusiveMaximum":
		reason = fmt.Sprintf("must be less than %s, not %s", renderValue(sch["exclusiveMaximum"]), renderValue(val))
	case "minLength":
		reason = fmt.Sprintf("must be at least %s characters long", renderValue(sch["minLength"]))
		if s, ok := val.(string); ok && s == "" {
			reason = "must not be empty"
		}
	case "maxLength":
		reason = fmt.Sprintf("must be at most %s characters long", renderValue(sch["maxLength"]))
	case "pattern":
		reason = renderValue(val) + " is not in the expected form"
		if d, ok := sch["description"].(string); ok && d != "" {
			reason += " (" + strings.TrimSuffix(d, ".") + ")"
		}
	case "minItems":
		reason = fmt.Sprintf("must have at least %s items", renderValue(sch["minItems"]))
	case "maxItems":
		reason = fmt.Sprintf("must have at most %s items", renderValue(sch["maxItems"]))
	case "uniqueItems":
		reason = "must not contain duplicate items"
	default:
		reason = "is invalid: " + ve.Message
	}
	w.errs = append(w.errs, Issue{Pointer: jsonc.JoinPointer(itok...), Message: w.subject(itok) + " " + reason})
}

// unknown reports keys of the object at itok that the schema node does not
// declare in "properties".
func (w *walker) unknown(itok []string, val any, sch map[string]any) {
	obj, _ := val.(map[string]any)
	props, _ := sch["properties"].(map[string]any)
	var keys []string
	for k := range obj {
		if _, ok := props[k]; !ok {
			keys = append(keys, k)
		}
	}
	w.unknownKeys(itok, keys)
}

// unknownKeys records a warning for the unknown keys of the object at itok.
func (w *walker) unknownKeys(itok []string, keys []string) {
	if len(keys) == 0 {
		return
	}
	keys = append([]string(nil), keys...)
	sort.Strings(keys)
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = strconv.Quote(k)
	}
	msg := "unknown property " + quoted[0]
	if len(keys) > 1 {
		msg = "unknown properties " + strings.Join(quoted, ", ")
	}
	msg += " (ignored)"
	w.warns = append(w.warns, Issue{
		Pointer: jsonc.JoinPointer(itok...),
		Message: prefixed(w.where(itok, true), msg),
		Unknown: keys,
	})
}

// required reports each missing property at its own pointer, explaining the
// condition when the requirement comes from an if/then/else.
func (w *walker) required(itok []string, val any, sch map[string]any, ktok []string) {
	obj, _ := val.(map[string]any)
	req, _ := sch["required"].([]any)
	cond := ""
	if n := len(ktok); n >= 2 && (ktok[n-2] == "then" || ktok[n-2] == "else") {
		parent, _ := jsonc.Get(w.c.raw, ktok[:n-2])
		if pm, ok := parent.(map[string]any); ok {
			if c := describeCondition(pm["if"], obj); c != "" {
				if ktok[n-2] == "then" {
					cond = " (required when " + c + ")"
				} else {
					cond = " (required unless " + c + ")"
				}
			}
		}
	}
	where := w.where(itok, true)
	for _, r := range req {
		name, _ := r.(string)
		if _, ok := obj[name]; ok {
			continue
		}
		w.errs = append(w.errs, Issue{
			Pointer: jsonc.JoinPointer(append(itok[:len(itok):len(itok)], name)...),
			Message: prefixed(where, "missing required property "+strconv.Quote(name)+cond),
		})
	}
}

// describeCondition words an "if" schema of the forms used in our schemas:
// {"properties": {"p": {"const": c} | {"enum": [...]}}} and
// {"not": {"required": [...]}}.
func describeCondition(ifNode any, obj map[string]any) string {
	m, ok := ifNode.(map[string]any)
	if !ok {
		return ""
	}
	var parts []string
	if props, ok := m["properties"].(map[string]any); ok {
		names := make([]string, 0, len(props))
		for p := range props {
			names = append(names, p)
		}
		sort.Strings(names)
		for _, p := range names {
			ps, _ := props[p].(map[string]any)
			if c, ok := ps["const"]; ok {
				parts = append(parts, p+" is "+renderValue(c))
			} else if e, ok := ps["enum"]; ok {
				if v, present := obj[p]; present {
					parts = append(parts, p+" is "+renderValue(v))
				} else {
					parts = append(parts, p+" is one of "+enumList(e))
				}
			}
		}
	}
	if not, ok := m["not"].(map[string]any); ok {
		if req, ok := not["required"].([]any); ok {
			for _, r := range req {
				if s, ok := r.(string); ok {
					parts = append(parts, strconv.Quote(s)+" is absent")
				}
			}
		}
	}
	return strings.Join(parts, " and ")
}

// subject names the value at tok for a message, e.g.
// `attribute "code": dataType` or `httpServer.threadPoolSize`.
func (w *walker) subject(tok []string) string {
	s := w.where(tok, false)
	if s == "" {
		return "the " + w.rootLabel
	}
	return s
}

// where renders a path for humans: array elements that are objects become
// context ("attribute \"code\"", or "model #2" when unnamed) and the rest is a
// dotted key path. With lastIsContext, an object element at the end of the path
// is rendered as context too (used when the message is about that object).
func (w *walker) where(tok []string, lastIsContext bool) string {
	var ctx, label []string
	var cur any = w.root
	for i, t := range tok {
		switch c := cur.(type) {
		case []any:
			idx, err := strconv.Atoi(t)
			if err != nil || idx < 0 || idx >= len(c) {
				label = append(label, t)
				cur = nil
				continue
			}
			elem := c[idx]
			m, isObj := elem.(map[string]any)
			if isObj && (i < len(tok)-1 || lastIsContext) {
				parent := ""
				if len(label) > 0 {
					parent = label[len(label)-1]
				}
				ctx = append(ctx, elementName(parent, idx, m))
				label = label[:0]
			} else if len(label) > 0 {
				label[len(label)-1] += "[" + t + "]"
			} else {
				label = append(label, "["+t+"]")
			}
			cur = elem
		case map[string]any:
			label = append(label, t)
			cur = c[t]
		default:
			label = append(label, t)
			cur = nil
		}
	}
	return prefixed(strings.Join(ctx, ", "), strings.Join(label, "."))
}

func elementName(arrayKey string, idx int, m map[string]any) string {
	noun := singular(arrayKey)
	if name, ok := m["name"].(string); ok && name != "" {
		return noun + " " + strconv.Quote(name)
	}
	return noun + " #" + strconv.Itoa(idx)
}

func singular(key string) string {
	switch key {
	case "":
		return "item"
	case "attributes":
		return "attribute"
	case "blobStores":
		return "blob store"
	case "ldapCatalogs":
		return "LDAP catalog"
	case "zonesAuthenticationMethods":
		return "zone"
	case "mapping":
		return "mapping"
	}
	if strings.HasSuffix(key, "s") && len(key) > 1 {
		return key[:len(key)-1]
	}
	return key
}

// prefixed joins a context and a text with ": ", omitting empty parts.
func prefixed(ctx, text string) string {
	switch {
	case ctx == "":
		return text
	case text == "":
		return ctx
	}
	return ctx + ": " + text
}

// fragment returns the JSON pointer part of an absolute keyword location.
func fragment(loc string) string {
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		return loc[i+1:]
	}
	return ""
}

// splitPointer decodes a pointer as produced by jsonschema/v5 (RFC 6901
// escaping plus URL path escaping of each token).
func splitPointer(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		s = strings.ReplaceAll(s, "~1", "/")
		parts[i] = strings.ReplaceAll(s, "~0", "~")
	}
	return parts
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return "integer"
		}
		return "number"
	case float32, json.Number:
		return "number"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	}
	return fmt.Sprintf("%T", v)
}

func article(t string) string {
	switch t {
	case "null":
		return "null"
	case "integer", "array", "object":
		return "an " + t
	}
	return "a " + t
}

func typeList(t any) string {
	switch x := t.(type) {
	case string:
		return article(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				parts = append(parts, article(s))
			}
		}
		return strings.Join(parts, " or ")
	}
	return "of another type"
}

func enumList(e any) string {
	list, _ := e.([]any)
	parts := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			parts = append(parts, s)
		} else {
			parts = append(parts, renderValue(x))
		}
	}
	return strings.Join(parts, ", ")
}

// renderValue shows a value as compact JSON, shortened if long.
func renderValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 60
	if r := []rune(string(b)); len(r) > max {
		return string(r[:max]) + "…"
	}
	return string(b)
}
