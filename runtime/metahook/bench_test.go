package metahook

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/dop251/goja"
)

// benchDomain generates a domain JSON of the size of a big UnityBase
// application: entities × attributes, each with two localisations.
func benchDomain(entities, attrs int) map[string]any {
	d := make(map[string]any, entities)
	for e := range entities {
		code := fmt.Sprintf("tst_entity%04d", e)
		attributes := make([]any, attrs)
		langEn := make([]any, attrs)
		langUk := make([]any, attrs)
		for a := range attrs {
			name := fmt.Sprintf("attribute%02d", a)
			attributes[a] = map[string]any{
				"name":           name,
				"dataType":       "String",
				"size":           255.0,
				"caption":        fmt.Sprintf("Attribute %d of entity %d", a, e),
				"description":    "A generated attribute used to measure the conversion of the domain",
				"allowNull":      a%2 == 0,
				"isUnique":       false,
				"defaultView":    true,
				"allowSort":      true,
				"customSettings": map[string]any{"width": 120.0},
			}
			langEn[a] = map[string]any{"name": name, "caption": fmt.Sprintf("Attribute %d", a)}
			langUk[a] = map[string]any{"name": name, "caption": fmt.Sprintf("Атрибут %d", a)}
		}
		d[code] = map[string]any{
			"modelName": "TST",
			"meta": map[string]any{
				"caption":              fmt.Sprintf("Entity %d", e),
				"description":          "A generated entity",
				"connectionName":       "main",
				"sqlAlias":             fmt.Sprintf("e%d", e),
				"cacheType":            "None",
				"descriptionAttribute": "attribute00",
				"mixins": map[string]any{
					"mStorage": map[string]any{"simpleAudit": true, "safeDelete": true},
					"audit":    map[string]any{"enabled": true},
				},
				"attributes": attributes,
			},
			"langs": map[string]any{
				"en": map[string]any{"caption": fmt.Sprintf("Entity %d", e), "attributes": langEn},
				"uk": map[string]any{"caption": fmt.Sprintf("Сутність %d", e), "attributes": langUk},
			},
		}
	}
	return d
}

func jsonSize(b *testing.B, v any) int {
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return len(data)
}

// BenchmarkRun is the whole start-up cost of hooks for 1,000 entities × 20
// attributes with one trivial hook: runtime, both conversions, the hook.
func BenchmarkRun(b *testing.B) {
	domain := benchDomain(1000, 20)
	hooks := []Hook{{
		Model: "TST",
		FS: fstest.MapFS{DefaultFile: {Data: []byte(
			`module.exports = function (d) { d.tst_entity0000.meta.caption = 'changed' }`)}},
		File: DefaultFile,
	}}
	size := jsonSize(b, domain)
	for b.Loop() {
		if _, err := Run(context.Background(), nil, hooks, domain, testConfig()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/1e6, "MB-json")
}

// BenchmarkConvert compares the direct walk used by Run with a round trip
// through JSON text (json.Marshal + JSON.parse in, JSON.stringify +
// json.Unmarshal out).
//
// Measured for benchDomain(1000, 20) (7.95 MB of JSON, ~90k objects) on a
// 2-vCPU Xeon VM where json.Marshal of the same value takes 137 ms and a
// plain Go deep copy of the map 40 ms (Go 1.26, goja 2026-09-17):
//
//	toJS/direct     ~135 ms   82 MB  1.06M allocs
//	toJS/json       ~500 ms  210 MB  5.7M allocs
//	fromJS/direct   ~132 ms   77 MB  1.96M allocs
//	fromJS/json     ~285 ms  125 MB  2.5M allocs
//	BenchmarkRun    ~280 ms  162 MB  3.1M allocs (GOGC=200: ~240 ms)
func BenchmarkConvert(b *testing.B) {
	domain := benchDomain(1000, 20)

	b.Run("toJS/direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := toJS(goja.New(), domain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toJS/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := toJSViaJSON(goja.New(), domain); err != nil {
				b.Fatal(err)
			}
		}
	})

	vm := goja.New()
	jsDomain, err := toJS(vm, domain)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fromJS/direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := fromJSRoot(vm, jsDomain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fromJS/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := fromJSViaJSON(vm, jsDomain); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// toJSViaJSON is the JSON-text alternative to toJS, kept for the benchmark.
func toJSViaJSON(vm *goja.Runtime, v any) (goja.Value, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	return parse(goja.Undefined(), vm.ToValue(string(data)))
}

// fromJSViaJSON is the JSON-text alternative to fromJSRoot.
func fromJSViaJSON(vm *goja.Runtime, v goja.Value) (map[string]any, error) {
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	s, err := stringify(goja.Undefined(), v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal([]byte(s.String()), &out)
	return out, err
}

// TestConvertStrategiesAgree guards the benchmark: both strategies must
// produce the same Go value, or the comparison means nothing.
func TestConvertStrategiesAgree(t *testing.T) {
	domain := benchDomain(3, 4)
	vm := goja.New()
	direct, err := toJS(vm, domain)
	if err != nil {
		t.Fatal(err)
	}
	viaJSON, err := toJSViaJSON(vm, domain)
	if err != nil {
		t.Fatal(err)
	}
	a, err := fromJSRoot(vm, direct)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fromJSViaJSON(vm, viaJSON)
	if err != nil {
		t.Fatal(err)
	}
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	dj, _ := json.Marshal(domain)
	if string(aj) != string(bj) || string(aj) != string(dj) {
		t.Errorf("strategies disagree:\ndirect %s\njson   %s\ninput  %s", aj, bj, dj)
	}
}
