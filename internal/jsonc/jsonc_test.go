package jsonc

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // canonical JSON of the result
	}{
		{"plain", `{"a":1,"b":[true,false,null],"c":"x"}`, `{"a":1,"b":[true,false,null],"c":"x"}`},
		{"bom", "\uFEFF{\"a\":1}", `{"a":1}`},
		{"line comments", "// head\n{\"a\": 1, // tail\n\"b\": \"//not a comment\"}", `{"a":1,"b":"//not a comment"}`},
		{"block comments", "/* x */{/*y*/\"a\"/*z*/:/*w*/2}/* end */", `{"a":2}`},
		{"escapes", `["a\"b\\c\/\n\u00e9\ud83d\ude00"]`, `["a\"b\\c/\n\u00e9😀"]`},
		{"numbers", `[0,-1,1.5,2e3,-0.5E-2]`, `[0,-1,1.5,2000,-0.005]`},
		{"unicode text", `{"caption":"Користувачі"}`, `{"caption":"Користувачі"}`},
		{"duplicate keeps last", `{"a":1,"a":2}`, `{"a":2}`},
		{"trailing commas", "{\"a\":[1,2,],\n}", `{"a":[1,2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse([]byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, _ := json.Marshal(v)
			var want any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Fatalf("got %s, want %s", got, wantJSON)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		msg       string
	}{
		{"comma without value", "{\n  \"a\": 1,,\n}", 2, 10, "expected a quoted property name"},
		{"array hole", "[1,,2]", 1, 4, "expected a value"},
		{"missing colon", `{"a" 1}`, 1, 6, "expected ':'"},
		{"garbage after value", `{"a":1} x`, 1, 9, "after the top-level value"},
		{"two values", `{"a":1}{"b":2}`, 1, 8, "after the top-level value"},
		{"unterminated string", "{\"a\": \"abc", 1, 7, "unterminated string"},
		{"unterminated comment", "{} /* x", 1, 4, "unterminated /* comment"},
		{"bad literal", `[tru]`, 1, 2, "expected true"},
		{"NaN", `[NaN]`, 1, 2, "expected a value"},
		{"leading zero", `[01]`, 1, 2, "leading zero"},
		{"huge number", `[1e400]`, 1, 2, "out of range"},
		{"control char", "[\"a\tb\"]", 1, 4, "control character"},
		{"invalid utf8", "[\"a\xffb\"]", 1, 4, "invalid UTF-8"},
		{"column counts runes", "{\"й\": ]}", 1, 7, "expected a value"},
		{"empty", "   ", 1, 4, "unexpected end of input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("want *SyntaxError, got %v", err)
			}
			if se.Line != tt.line || se.Col != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Fatalf("got %d:%d %q, want %d:%d containing %q", se.Line, se.Col, se.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestDeepNestingIsRejected(t *testing.T) {
	src := strings.Repeat("[", MaxDepth+10) + strings.Repeat("]", MaxDepth+10)
	if _, err := Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Fatalf("want nesting error, got %v", err)
	}
}

func TestDuplicatesReported(t *testing.T) {
	_, dups, err := ParseDups([]byte(`{"x":{"a":1,"b":2,"a":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(dups) != 1 || dups[0].Pointer != "/x/a" {
		t.Fatalf("dups = %+v", dups)
	}
}

func TestLocate(t *testing.T) {
	src := []byte("\uFEFF// comment\n{\n  \"attributes\": [\n    {\"name\": \"a\", \"size\": 10},\n    {\"name\": \"b\", /* c */ \"size\": 20}\n  ],\n  \"k/x\": {\"a\": 1, \"a\": 2}\n}")
	tests := []struct {
		ptr       string
		ok        bool
		line, col int
	}{
		{"/attributes/1/size", true, 5, 35},
		{"/attributes/0", true, 4, 5},
		{"/attributes/0/name", true, 4, 14},
		{"/k~1x/a", true, 7, 24}, // the duplicate that wins
		{"/attributes/5", false, 3, 17},
		{"/missing", false, 2, 1},
		{"", true, 2, 1},
	}
	for _, tt := range tests {
		off, ok := Locate(src, tt.ptr)
		line, col := Position(src, off)
		if ok != tt.ok || line != tt.line || col != tt.col {
			t.Errorf("Locate(%q) = %d:%d ok=%v, want %d:%d ok=%v", tt.ptr, line, col, ok, tt.line, tt.col, tt.ok)
		}
	}
}

func TestPointerRoundTrip(t *testing.T) {
	tokens := []string{"a/b", "c~d", "0", ""}
	if got := SplitPointer(JoinPointer(tokens...)); !reflect.DeepEqual(got, tokens) {
		t.Fatalf("round trip: %q", got)
	}
	doc := map[string]any{"a/b": []any{map[string]any{"x": 1.0}}}
	if v, ok := Get(doc, SplitPointer("/a~1b/0/x")); !ok || v != 1.0 {
		t.Fatalf("Get = %v %v", v, ok)
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name           string
		dst, src, want string
	}{
		{"deep objects, src wins", `{"a":{"x":1,"y":2},"b":1}`, `{"a":{"y":3,"z":4}}`, `{"a":{"x":1,"y":3,"z":4},"b":1}`},
		{"named collections by name", `{"attributes":[{"name":"a","size":1},{"name":"b"}]}`,
			`{"attributes":[{"name":"b","size":9},{"name":"c"}]}`,
			`{"attributes":[{"name":"a","size":1},{"name":"b","size":9},{"name":"c"}]}`},
		{"plain arrays by index", `{"l":[1,2,3]}`, `{"l":[9]}`, `{"l":[9,2,3]}`},
		{"null replaces", `{"a":1}`, `{"a":null}`, `{"a":null}`},
		{"type change", `{"a":[1]}`, `{"a":{"x":1}}`, `{"a":{"x":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, _ := Parse([]byte(tt.dst))
			src, _ := Parse([]byte(tt.src))
			got, _ := json.Marshal(Merge(dst, src))
			want, _ := Parse([]byte(tt.want))
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Fatalf("got %s, want %s", got, wantJSON)
			}
		})
	}
}

func TestMergeDoesNotAliasSource(t *testing.T) {
	src := map[string]any{"a": map[string]any{"x": 1.0}}
	dst := Merge(map[string]any{}, src).(map[string]any)
	dst["a"].(map[string]any)["x"] = 2.0
	if src["a"].(map[string]any)["x"] != 1.0 {
		t.Fatal("merge result aliases the source")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, "// c\n[1]", `"x\u00e9"`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := Parse(src)
		if err != nil {
			return
		}
		// Anything we accept without comments must re-encode and mean the same to encoding/json.
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		Locate(src, "/a/0")
	})
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("{\"caption\":\"Entity\",\"mixins\":{\"mStorage\":{\"simpleAudit\":true}},\"attributes\":[")
	for i := 0; i < 20; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"name":"attr` + string(rune('a'+i)) + `","dataType":"String","size":128,"caption":"Attribute // not comment","allowNull":false}`)
	}
	sb.WriteString("]}")
	src := []byte(sb.String())
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
