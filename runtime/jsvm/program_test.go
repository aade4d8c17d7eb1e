package jsvm

import (
	"slices"
	"testing"
)

func TestLoadSampleApp(t *testing.T) {
	p := loadProgram(t)

	var names []string
	for _, ep := range p.Endpoints() {
		names = append(names, ep.Name)
	}
	want := []string{"tasksSummary", "jstSession", "jstCache", "jstEcho", "jstRequire", "jstPrevented", "jstBad", "jstETag", "jstBinary", "jstThrow"}
	if !slices.Equal(names, want) {
		t.Errorf("endpoints = %v, want %v", names, want)
	}
	ts, ok := p.Endpoint("tasksSummary")
	if !ok || ts.Model != "TSK" || ts.AuthorizationRequired || ts.IsDefault {
		t.Errorf("tasksSummary = %+v, want model TSK, no authorization, not default", ts)
	}
	if ep, _ := p.Endpoint("jstEcho"); !ep.AuthorizationRequired || ep.Model != "JST" {
		t.Errorf("jstEcho = %+v, want authorization required (the default)", ep)
	}
	if ep, _ := p.Endpoint("jstPrevented"); !ep.IsDefault {
		t.Errorf("jstPrevented = %+v, want isDefault", ep)
	}
	if g := p.EndpointGrants()["jstEcho"]; !slices.Equal(g, []string{"User"}) {
		t.Errorf("grants of jstEcho = %v", g)
	}

	methods := []struct {
		entity string
		want   []string
	}{
		{"tsk_task", []string{"select", "insert", "update", "delete", "addnew", "close"}},
		{"tsk_project", []string{"select", "insert", "update", "delete", "addnew"}},
		{"jst_note", []string{"select", "insert", "update", "delete", "addnew", "count"}},
		{"uba_user", []string{"select", "insert", "update", "delete", "addnew"}},
	}
	for _, m := range methods {
		if got := p.Methods(m.entity); !slices.Equal(got, m.want) {
			t.Errorf("Methods(%s) = %v, want %v", m.entity, got, m.want)
		}
	}

	js := []struct {
		entity, method string
		hasJS, needsJS bool
	}{
		{"tsk_task", "insert", true, true},   // insert:before listener
		{"tsk_task", "close", true, true},    // JS implementation
		{"tsk_task", "select", false, false}, // pure Go
		{"tsk_task", "update", false, false},
		{"tsk_project", "insert", false, false},
		{"jst_item", "insert", true, true}, // listeners of the model and of the JS mixin
		{"jst_item", "calc", true, true},
		{"jst_item", "unimplemented", false, true}, // custom: needs JS to report the missing implementation
		{"jst_note", "select", true, true},         // select:after in a module one folder down
		{"jst_note", "nosuch", false, false},
	}
	for _, c := range js {
		if got := p.HasJS(c.entity, c.method); got != c.hasJS {
			t.Errorf("HasJS(%s, %s) = %v, want %v", c.entity, c.method, got, c.hasJS)
		}
		if got := p.NeedsJS(c.entity, c.method); got != c.needsJS {
			t.Errorf("NeedsJS(%s, %s) = %v, want %v", c.entity, c.method, got, c.needsJS)
		}
	}
}
