package ubql

import (
	"reflect"
	"testing"
)

func TestPaths(t *testing.T) {
	tests := []struct {
		expr  string
		paths []Path
		plain bool
	}{
		{"name", []Path{{Segments: []string{"name"}}}, true},
		{"[mi_owner.name]", []Path{{Segments: []string{"mi_owner", "name"}}}, true},
		{"name_uk^", []Path{{Segments: []string{"name"}}}, true},
		{"[{master}.ID]", []Path{{Segments: []string{"ID"}, Master: true}}, true},
		{"parent@tsk_task.code", []Path{{Segments: []string{"parent@tsk_task", "code"}}}, true},
		{"UPPER([a]) || [b.c]", []Path{{Segments: []string{"a"}}, {Segments: []string{"b", "c"}}}, false},
		{"CAST([a] AS INTEGER) + -[b] * 2", []Path{{Segments: []string{"a"}}, {Segments: []string{"b"}}}, false},
		{"[a] IS NULL AND NOT [b] LIKE [c] OR [d] IN ([e], 1) OR [f] BETWEEN [g] AND [h]",
			[]Path{{Segments: []string{"a"}}, {Segments: []string{"b"}}, {Segments: []string{"c"}}, {Segments: []string{"d"}},
				{Segments: []string{"e"}}, {Segments: []string{"f"}}, {Segments: []string{"g"}}, {Segments: []string{"h"}}}, false},
		{"COUNT(*)", nil, false},
		{"'[not_a_path]' || :p: || :('x'):", nil, false},
	}
	for _, tt := range tests {
		paths, plain, err := Paths(tt.expr)
		if err != nil {
			t.Errorf("%q: %v", tt.expr, err)
			continue
		}
		if !reflect.DeepEqual(paths, tt.paths) || plain != tt.plain {
			t.Errorf("%q: %+v plain %v, want %+v plain %v", tt.expr, paths, plain, tt.paths, tt.plain)
		}
	}
	for _, bad := range []string{"", "a;b", "(a", "select x"} {
		if _, _, err := Paths(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
