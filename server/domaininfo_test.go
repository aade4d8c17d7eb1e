package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store"
)

// domainInfoV4 is the part of the v4 shape UnityBase clients read (UBDomain.js).
type domainInfoV4 struct {
	Domain map[string]struct {
		ModelName      string                    `json:"modelName"`
		Caption        string                    `json:"caption"`
		CacheType      string                    `json:"cacheType"`
		DSType         string                    `json:"dsType"`
		ConnectionName string                    `json:"connectionName"`
		IsUnity        *bool                     `json:"isUnity"`
		Attributes     map[string]map[string]any `json:"attributes"`
		Mixins         map[string]any            `json:"mixins"`
		EntityMethods  map[string]int            `json:"entityMethods"`
		I18n           *struct {
			Caption    string                       `json:"caption"`
			Attributes map[string]map[string]string `json:"attributes"`
		} `json:"i18n"`
		Mapping map[string]any `json:"mapping"`
	} `json:"domain"`
	Models map[string]struct {
		Path         string `json:"path"`
		Order        *int   `json:"order"`
		Version      string `json:"version"`
		ModuleName   string `json:"moduleName"`
		ModuleSuffix string `json:"moduleSuffix"`
		NeedInit     bool   `json:"needInit"`
		NeedLocalize bool   `json:"needLocalize"`
		RealPath     string `json:"realPath"`
	} `json:"models"`
	Connections    []map[string]any `json:"connections"`
	VendorModels   *string          `json:"vendorModels"`
	CustomerModels *string          `json:"customerModels"`
}

func parseDomainInfo(t *testing.T, body string) domainInfoV4 {
	t.Helper()
	var d domainInfoV4
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return d
}

func TestGetDomainInfo(t *testing.T) {
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true}, nil)
	tests := []scenario{
		{name: "v4 shape", url: "/getDomainInfo?v=4&userName=admin", wantStatus: 200,
			notBody: []string{"CODE_MAPPED", "PRIVATE_ATTR_SETTING", "db.sqlite3", "realPath"},
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				d := parseDomainInfo(t, body)
				e, ok := d.Domain["pub_item"]
				if !ok {
					t.Fatalf("no pub_item: %s", body)
				}
				if e.ModelName != "PUB" || e.Caption != "Item" || e.CacheType != "None" || e.DSType != "Normal" ||
					e.ConnectionName != "main" || e.IsUnity == nil || e.Mixins["mStorage"] == nil {
					t.Errorf("pub_item: %+v", e)
				}
				if e.Attributes["ID"]["dataType"] != "BigInt" || e.Attributes["code"]["size"] != 32.0 || e.Attributes["code"]["name"] != "code" {
					t.Errorf("attributes: %v", e.Attributes)
				}
				if len(e.EntityMethods) != 5 || e.EntityMethods["select"] != 1 || e.EntityMethods["addnew"] != 1 {
					t.Errorf("entityMethods: %v", e.EntityMethods)
				}
				if e.I18n != nil {
					t.Errorf("i18n in the default language: %+v", e.I18n)
				}
				if d.Domain["uba_user"].ModelName != "UBA" {
					t.Error("no uba_user")
				}
				m := d.Models["PUB"]
				if m.Path != "models/PUB" || m.Order == nil || *m.Order != 2 || m.Version != "1.2.3" || m.ModuleName != "pub" ||
					m.ModuleSuffix != "public" || !m.NeedInit || !m.NeedLocalize {
					t.Errorf("model PUB: %+v", m)
				}
				if u := d.Models["UBA"]; u.NeedInit || u.NeedLocalize || u.ModuleName != "@ubgo/uba" {
					t.Errorf("model UBA: %+v", u)
				}
				if d.VendorModels == nil || d.CustomerModels == nil || d.Connections != nil {
					t.Error("vendorModels/customerModels missing or connections present")
				}
				// attributes keep the metadata order
				if i, j := strings.Index(body, `"ID":{`), strings.Index(body, `"code":{`); i < 0 || j < i {
					t.Error("attributes are not in metadata order")
				}
			}},
		{name: "captions of the request's language", url: "/getDomainInfo?v=4&userName=admin",
			headers: map[string]string{"Accept-Language": "uk"}, wantStatus: 200,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				e := parseDomainInfo(t, body).Domain["pub_item"]
				if e.I18n == nil || e.I18n.Caption != "Елемент" || e.I18n.Attributes["code"]["caption"] != "Код" {
					t.Errorf("i18n: %+v", e.I18n)
				}
			}},
		{name: "extended for admin", url: "/getDomainInfo?v=4&userName=admin&extended=true", wantStatus: 200,
			wantBody: []string{"CODE_MAPPED", `"realPath"`},
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				d := parseDomainInfo(t, body)
				if len(d.Connections) != 1 || d.Connections[0]["dialect"] != "SQLite3" || d.Connections[0]["isDefault"] != true {
					t.Errorf("connections: %v", d.Connections)
				}
				if strings.Contains(body, "databaseName") {
					t.Error("connection details leak")
				}
				m, _ := d.Domain["pub_item"].Attributes["code"]["mapping"].(map[string]any)
				if m["SQLite3"] == nil {
					t.Errorf("attribute mapping is not keyed by dialect: %v", d.Domain["pub_item"].Attributes["code"])
				}
			}},
		{name: "userName is required", url: "/getDomainInfo?v=4", wantStatus: 400},
		{name: "userName must be the session's", url: "/getDomainInfo?v=4&userName=root", wantStatus: 400},
		{name: "POST is refused", method: "POST", url: "/getDomainInfo?userName=admin", wantStatus: 405},
	}
	runScenarios(t, s, tests)

	first := do(s, httptest.NewRequest("GET", "/getDomainInfo?v=4&userName=admin", nil))
	req := httptest.NewRequest("GET", "/getDomainInfo?v=4&userName=admin", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	if rec := do(s, req); rec.Code != 304 {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
	req = httptest.NewRequest("GET", "/getDomainInfo?v=4&userName=admin&lang=uk", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	if rec := do(s, req); rec.Code != 200 {
		t.Errorf("another language with the same ETag: %d, want 200", rec.Code)
	}
}

// TestGetDomainInfoFiltered: the security layer's hook decides which methods a session
// sees; entities without any are omitted.
func TestGetDomainInfoFiltered(t *testing.T) {
	allowed := func(sess *store.Session, entity, method string) bool {
		if sess.UserName == "admin" {
			return true
		}
		return entity == "pub_item" && method == "select"
	}
	s := newFixtureServer(t, Options{Authorizer: stubAuthorizer{}, MethodAllowed: allowed}, nil)
	runScenarios(t, s, []scenario{
		{name: "a user sees what ELS allows", url: "/getDomainInfo?v=4&userName=bob", headers: map[string]string{"X-Test-User": "bob"},
			wantStatus: 200, check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				d := parseDomainInfo(t, body)
				if len(d.Domain) != 1 || len(d.Domain["pub_item"].EntityMethods) != 1 || d.Domain["pub_item"].EntityMethods["select"] != 1 {
					t.Errorf("domain for bob: %s", body)
				}
			}},
		{name: "a user may not ask for extended info", url: "/getDomainInfo?v=4&userName=bob&extended=true",
			headers: map[string]string{"X-Test-User": "bob"}, wantStatus: 403},
		{name: "admin sees everything", url: "/getDomainInfo?v=4&userName=admin", headers: map[string]string{"X-Test-User": "admin"},
			wantStatus: 200, check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				if d := parseDomainInfo(t, body); len(d.Domain) < 10 {
					t.Errorf("admin sees %d entities", len(d.Domain))
				}
			}},
	})
}
