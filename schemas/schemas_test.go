package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// corpusDir is the shared UnityBase corpus, relative to this package.
const corpusDir = "../../shared/corpus/ubjs"

func decode(t testing.TB, src string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(src), &v); err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, src)
	}
	return v
}

func TestSchemasCompile(t *testing.T) {
	if _, err := configSchema(); err != nil {
		t.Fatal(err)
	}
	if _, err := entitySchema(); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"config": ConfigSchemaJSON(), "entity": EntitySchemaJSON()} {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s schema: %v", name, err)
		}
		if m["$schema"] == nil {
			t.Errorf("%s schema has no $schema", name)
		}
	}
}

var allDataTypes = []string{"String", "Int", "BigInt", "Float", "Currency", "Boolean", "DateTime", "Text", "ID",
	"Entity", "Document", "Many", "Enum", "BLOB", "Date", "TimeLog", "Json"}

// attrFor returns a valid attribute of the given type.
func attrFor(dt string) string {
	extra := ""
	switch dt {
	case "String":
		extra = `, "size": 64`
	case "Entity":
		extra = `, "associatedEntity": "tst_ref"`
	case "Many":
		extra = `, "associatedEntity": "tst_ref", "associationManyData": "tst_ref_many"`
	case "Enum":
		extra = `, "enumGroup": "TST_GROUP"`
	}
	return fmt.Sprintf(`{"name": "a%s", "dataType": %q, "caption": "A"%s}`, dt, dt, extra)
}

func entityWith(attrs ...string) string {
	return `{"caption": "Test", "attributes": [` + strings.Join(attrs, ",") + `]}`
}

func TestValidateEntityValid(t *testing.T) {
	cases := map[string]string{
		"minimal":         `{"attributes": []}`,
		"minimal caption": entityWith(`{"name": "code", "dataType": "String", "size": 32}`),
		"full": `{
			"caption": "Users", "captionSingular": "User", "description": "d", "documentation": "doc",
			"descriptionAttribute": "name", "connectionName": "main", "cacheType": "SessionEntity",
			"sqlAlias": "usr", "dsType": "Normal", "overriddenBy": "A,B", "isManyManyRef": false,
			"privateSettings": {"x": 1}, "customSettings": {"y": [1]},
			"mapping": [{"name": "AnsiSQL", "selectName": "v_usr", "execName": "usr", "pkGenerator": "seq"}],
			"mixins": {
				"mStorage": {"simpleAudit": true, "safeDelete": false},
				"audit": {"enabled": false},
				"rls": {"func": "RLS.x"},
				"aclRls": {"onEntities": ["uba_subject"], "selectionRule": "Exists"},
				"als": {"stateAttrName": "state", "optimistic": true},
				"dataHistory": {"historyType": "OriginalRemainsActual"},
				"unity": {"entity": "uba_subject", "attributeList": ["code"], "mapping": {"name": "code"}, "defaults": {"sType": "U"}},
				"tree": {"parentAttr": "parentID", "pathDelimiter": "/"},
				"fts": {"dataProvider": "Mixin", "scope": "Connection", "indexedAttributes": ["name"]},
				"softLock": {"lockIdentifier": "ID"},
				"clobTruncate": {"attributeList": {"body": {"size": 100}}},
				"multitenancy": {"enabled": true, "rlsRule": "tenantAndCommon"},
				"fsStorage": {"dataPath": "forms", "naturalKey": "code"},
				"aclRlsStorage": {},
				"someCustomMixin": {"anything": [1, 2]}
			},
			"dbKeys": {"UK_X": {"code": {}, "name": {"sort": "DESC", "func": "LOWER({0})"}}},
			"dbExtensions": {"IDX_X": {"type": "INDEX", "definition": {"keys": {"code": {"sort": "ASC"}}, "isUnique": true}},
				"CHK_X": {"type": "CHECK", "definition": {"check": "a > 0"}, "PostgreSQL": {"expression": "ALTER ..."}}},
			"attributes": [
				{"name": "name", "dataType": "String", "size": 128, "allowNull": false, "isUnique": true, "caption": "Login",
				 "restrictions": {"I": "Supervisor", "S": "Supervisor", "U": "Supervisor", "replaceBy": "null"},
				 "customSettings": {"hiddenInDetails": true}, "privateSettings": {}, "isMultiLang": true,
				 "allowSort": true, "defaultView": true, "readOnly": false, "defaultValue": "x", "description": "d", "documentation": "d"},
				{"name": "amount", "dataType": "Currency", "precision": 19, "scale": 2},
				{"name": "calc", "dataType": "Int", "mapping": [{"name": "AnsiSQL", "expressionType": "Expression", "expression": "[a]+1"}]},
				{"name": "ref", "dataType": "Entity", "associatedEntity": "x", "associationAttr": "ID", "generateFK": false, "cascadeDelete": true},
				{"name": "doc", "dataType": "Document", "storeName": "simple"}
			]}`,
		"disabled unity and tree need no options": `{"attributes": [], "mixins": {"unity": {"enabled": false}, "tree": {"enabled": false}}}`,
	}
	for _, dt := range allDataTypes {
		cases["dataType "+dt] = entityWith(attrFor(dt))
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			errs, warns := ValidateEntity(decode(t, src))
			if len(errs) != 0 || len(warns) != 0 {
				t.Fatalf("errs=%v warns=%v", errs, warns)
			}
		})
	}
}

func TestValidateEntityErrors(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		pointer string
		msg     []string // substrings expected in the message
	}{
		{"String without size", entityWith(attrFor("Int"), `{"name": "code", "dataType": "String"}`),
			"/attributes/1/size", []string{`attribute "code"`, `missing required property "size"`, `dataType is "String"`}},
		{"Entity without associatedEntity", entityWith(`{"name": "ref", "dataType": "Entity"}`),
			"/attributes/0/associatedEntity", []string{`missing required property "associatedEntity"`, `dataType is "Entity"`}},
		{"Many without associatedEntity", entityWith(`{"name": "m", "dataType": "Many", "associationManyData": "x"}`),
			"/attributes/0/associatedEntity", []string{`missing required property "associatedEntity"`, `dataType is "Many"`}},
		{"Many without associationManyData", entityWith(`{"name": "m", "dataType": "Many", "associatedEntity": "x"}`),
			"/attributes/0/associationManyData", []string{`missing required property "associationManyData"`, `dataType is "Many"`}},
		{"Enum without enumGroup", entityWith(`{"name": "e", "dataType": "Enum"}`),
			"/attributes/0/enumGroup", []string{`missing required property "enumGroup"`, `dataType is "Enum"`}},
		{"unknown dataType", entityWith(`{"name": "code", "dataType": "Strin", "size": 3}`),
			"/attributes/0/dataType", []string{`attribute "code": dataType "Strin" is not one of String, Int,`}},
		{"missing dataType", entityWith(`{"name": "code"}`),
			"/attributes/0/dataType", []string{`missing required property "dataType"`}},
		{"missing name", entityWith(`{"dataType": "Int"}`),
			"/attributes/0/name", []string{`attribute #0: missing required property "name"`}},
		{"missing attributes", `{"caption": "x"}`,
			"/attributes", []string{`missing required property "attributes"`}},
		{"attributes as object (UB4 form)", `{"attributes": {"code": {"dataType": "String"}}}`,
			"/attributes", []string{"attributes must be an array, not an object"}},
		{"not an object", `[1]`, "", []string{"the entity definition must be an object, not an array"}},
		{"size of wrong type", entityWith(`{"name": "code", "dataType": "String", "size": "32"}`),
			"/attributes/0/size", []string{`attribute "code": size must be an integer, not a string`}},
		{"mixin option of wrong type", `{"attributes": [], "mixins": {"mStorage": {"simpleAudit": "yes"}}}`,
			"/mixins/mStorage/simpleAudit", []string{"mixins.mStorage.simpleAudit must be a boolean, not a string"}},
		{"mixin enum option", `{"attributes": [], "mixins": {"dataHistory": {"historyType": "Newest"}}}`,
			"/mixins/dataHistory/historyType", []string{`"Newest" is not one of NewBecomesActual, OriginalRemainsActual`}},
		{"unknown mixin not an object", `{"attributes": [], "mixins": {"custom": true}}`,
			"/mixins/custom", []string{"mixins.custom must be an object, not a boolean"}},
		{"unity without entity", `{"attributes": [], "mixins": {"unity": {"attributeList": []}}}`,
			"/mixins/unity/entity", []string{`missing required property "entity" (required unless enabled is false)`}},
		{"tree without parentAttr", `{"attributes": [], "mixins": {"tree": {}}}`,
			"/mixins/tree/parentAttr", []string{`missing required property "parentAttr"`}},
		{"cacheType", `{"attributes": [], "cacheType": "Always"}`,
			"/cacheType", []string{`cacheType "Always" is not one of None, Entity, SessionEntity, Session`}},
		{"dsType", `{"attributes": [], "dsType": "View"}`, "/dsType", []string{`dsType "View" is not one of`}},
		{"attribute mapping dialect", entityWith(`{"name": "c", "dataType": "Int", "mapping": [{"name": "Oracle8", "expression": "x"}]}`),
			"/attributes/0/mapping/0/name", []string{`attribute "c", mapping "Oracle8": name "Oracle8" is not one of AnsiSQL`}},
		{"dbExtension without type", `{"attributes": [], "dbExtensions": {"IDX": {"definition": {}}}}`,
			"/dbExtensions/IDX/type", []string{`dbExtensions.IDX: missing required property "type"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs, _ := ValidateEntity(decode(t, tc.src))
			if len(errs) != 1 {
				t.Fatalf("want exactly 1 error, got %d: %v", len(errs), errs)
			}
			e := errs[0]
			if e.Pointer != tc.pointer {
				t.Errorf("pointer = %q, want %q (message %q)", e.Pointer, tc.pointer, e.Message)
			}
			for _, want := range tc.msg {
				if !strings.Contains(e.Message, want) {
					t.Errorf("message %q does not contain %q", e.Message, want)
				}
			}
			if strings.Contains(e.Message, "$defs") || strings.Contains(e.Message, "#/") || strings.Contains(e.Message, "ubgo.dev") {
				t.Errorf("message mentions schema internals: %q", e.Message)
			}
			if len(e.Unknown) != 0 {
				t.Errorf("error carries Unknown: %v", e.Unknown)
			}
		})
	}
}

func TestValidateEntityWarnings(t *testing.T) {
	src := `{"caption": "x", "modelName": "X", "attributes": [
		{"name": "photo", "dataType": "Document", "documentMIME": "image/jpeg", "zzz": 1},
		{"name": "code", "dataType": "String", "size": 10}],
		"mixins": {"mStorage": {"simpleAudit": true, "trackChanges": true}}}`
	errs, warns := ValidateEntity(decode(t, src))
	if len(errs) != 0 {
		t.Fatalf("unknown keys must not be errors: %v", errs)
	}
	want := []Issue{
		{Pointer: "", Message: `unknown property "modelName" (ignored)`, Unknown: []string{"modelName"}},
		{Pointer: "/attributes/0", Message: `attribute "photo": unknown properties "documentMIME", "zzz" (ignored)`, Unknown: []string{"documentMIME", "zzz"}},
		{Pointer: "/mixins/mStorage", Message: `mixins.mStorage: unknown property "trackChanges" (ignored)`, Unknown: []string{"trackChanges"}},
	}
	if !reflect.DeepEqual(warns, want) {
		t.Fatalf("warnings:\n got %#v\nwant %#v", warns, want)
	}
}

func TestValidateEntityManyIssuesSortedAndDeterministic(t *testing.T) {
	src := entityWith(
		`{"name": "b", "dataType": "Many"}`,
		`{"name": "a", "dataType": "String", "extra": 1}`,
		`{"name": "c", "dataType": "Bogus"}`,
	)
	v := decode(t, src)
	first, firstW := ValidateEntity(v)
	var ptrs []string
	for _, e := range first {
		ptrs = append(ptrs, e.Pointer)
	}
	wantPtrs := []string{"/attributes/0/associatedEntity", "/attributes/0/associationManyData", "/attributes/1/size", "/attributes/2/dataType"}
	if !reflect.DeepEqual(ptrs, wantPtrs) {
		t.Fatalf("pointers %v, want %v (%v)", ptrs, wantPtrs, first)
	}
	if len(firstW) != 1 || firstW[0].Pointer != "/attributes/1" {
		t.Fatalf("warnings %v", firstW)
	}
	for i := 0; i < 20; i++ {
		e, w := ValidateEntity(v)
		if !reflect.DeepEqual(e, first) || !reflect.DeepEqual(w, firstW) {
			t.Fatalf("run %d differs: %v %v", i, e, w)
		}
	}
}

const minimalConfig = `{
	"httpServer": {"host": "+", "port": "8881", "threadPoolSize": 8},
	"logging": {"levels": [], "path": ""},
	"security": {"authenticationMethods": []},
	"application": {"defaultLang": "en",
		"domain": {"models": [{"path": "./models/ub"}, {"name": "UBA"}]},
		"connections": [{"name": "main", "driver": "SQLite3", "isDefault": true, "dialect": "SQLite3",
			"databaseName": "./db.sqlite3", "supportLang": ["en"]}],
		"blobStores": [{"name": "mdb", "storeType": "Virtual", "tempPath": "./_temp"}]},
	"uiSettings": {"adminUI": {"applicationName": "X", "endpoint": "ubadmin"}}
}`

func TestValidateConfigValid(t *testing.T) {
	cases := map[string]string{
		"empty":   `{}`,
		"minimal": minimalConfig,
		"full": `{
			"httpServer": {"serverType": "Socket", "protocol": "https", "host": "unix:/tmp/ub.sock", "port": 8881,
				"path": "/app", "externalURL": "https://x", "threadPoolSize": 2, "inetPub": "./inetpub", "inetIndex": "index.html",
				"requestQueueLength": 100, "maxBandwidth": 0, "maxConnections": 0, "allowCORSFrom": "*", "compression": "deflate",
				"timeouts": {"entityBody": 120, "minSendRate": 150}, "autoShutdownTimeoutSec": 0,
				"reverseProxy": {"kind": "nginx", "remoteIPHeader": "X-Real-IP", "sendFileHeader": "X-Accel-Redirect", "serveStatic": true}},
			"wsServer": {"protocol": "ws", "host": "", "port": "8882", "threadPoolSize": 1, "pingTimeout": 0},
			"logging": {"levels": ["*", "Error", "Custom4"], "path": "./logs", "rotationSizeInMB": 100, "slowQueryThreshold": 200,
				"flushTimeOut": 10, "stackTrackDepth": 5},
			"metrics": {"enabled": true, "allowedFrom": "10.0.0.0/8", "disableMethodProfile": false},
			"javascript": {"fullGCPeriod": 100, "anything": "goes"},
			"security": {"authenticationMethods": ["UB", "Negotiate", "OpenIDConnect"], "lockOutInDB": true, "lockOutTimeoutSec": 300,
				"zones": [{"name": "intra", "includes": ["10.0.0.0/8"]}],
				"zonesAuthenticationMethods": [{"name": "intra", "authenticationMethods": ["UB"]}],
				"userSessionMode": "Displacing", "ldapCatalogs": [{"name": "D", "URL": "ldaps://x", "ignoreSSLCertificateErrors": false}],
				"jsonRequestsOnly": true, "skipCheckingCallerAndSessionIpEquality": false, "limitGroupsTo": ["A"], "excludeGroups": [],
				"disabledAccounts": "^guest$", "multitenancy": {"enabled": true, "tenants": [{"URI": "t1.local", "TID": 101}]},
				"trustedProxies": ["127.0.0.1", "10.0.0.0/8", "::1/128"]},
			"application": {"name": "/", "defaultLang": "uk", "rootHandler": "index.html", "schedulers": {"enabled": false},
				"domain": {"models": [{"name": "UB", "path": "./ub", "publicPath": "./ub/public"}], "vendorModels": "a:b",
					"customerModels": "", "implicitlyAddedMixins": ["audit"], "supportedLanguages": ["en", "uk"]},
				"connections": [{"name": "main", "driver": "PostgreSQL", "dialect": "PostgreSQL", "isDefault": true, "serverName": "",
					"databaseName": "postgres://x/db", "userID": "s", "password": "p", "supportLang": ["en", "uk"],
					"executeWhenConnected": ["SET search_path TO s"], "advSettings": "", "statementCacheSize": 30,
					"statementMaxMemoryMb": 50, "replicatedAs": "", "maxConnections": 10},
					{"name": "lite", "driver": "SQLite3", "synchronous": "NORMAL"}],
				"blobStores": [{"name": "simple", "isDefault": true, "implementedBy": "fs", "storeType": "FileSystem", "path": "./s",
					"tempPath": "./t", "historyDepth": 2, "storeSize": "Hourly", "LUCount": 4, "keepOriginalFileNames": false}],
				"customSettings": {"mailerConfig": {"targetPort": "25"}}, "mixinsDefaults": {"aclRls": {"selectionRule": "Exists"}},
				"fts": {"enabled": true, "async": false}},
			"uiSettings": {"adminUI": {"anything": 1}, "portalUI": {}, "nativeUI": {}, "cspAllow": {"scriptSrc": ["'self'"]}, "custom": 1},
			"licenseFilePath": "./ubLicense.json"
		}`,
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			errs, warns := ValidateConfig(decode(t, src))
			if len(errs) != 0 || len(warns) != 0 {
				t.Fatalf("errs=%v warns=%v", errs, warns)
			}
		})
	}
}

func TestValidateConfigErrors(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		pointer string
		msg     string
	}{
		{"threadPoolSize string", `{"httpServer": {"threadPoolSize": "8"}}`,
			"/httpServer/threadPoolSize", "httpServer.threadPoolSize must be an integer, not a string"},
		{"threadPoolSize fraction", `{"httpServer": {"threadPoolSize": 1.5}}`,
			"/httpServer/threadPoolSize", "must be an integer, not a number"},
		{"threadPoolSize zero", `{"httpServer": {"threadPoolSize": 0}}`,
			"/httpServer/threadPoolSize", "httpServer.threadPoolSize must be at least 1, not 0"},
		{"port boolean", `{"httpServer": {"port": true}}`,
			"/httpServer/port", "httpServer.port must be a string or an integer, not a boolean"},
		{"unknown driver", `{"application": {"connections": [{"name": "main", "driver": "Oracle8"}]}}`,
			"/application/connections/0/driver", `connection "main": driver "Oracle8" is not one of Oracle, MSSQL2008OleDB`},
		{"connection without name", `{"application": {"connections": [{"driver": "SQLite3"}]}}`,
			"/application/connections/0/name", `connection #0: missing required property "name"`},
		{"synchronous", `{"application": {"connections": [{"name": "m", "synchronous": "off"}]}}`,
			"/application/connections/0/synchronous", `"off" is not one of OFF, NORMAL, FULL, EXTRA`},
		{"model with neither name nor path", `{"application": {"domain": {"models": [{"publicPath": "x"}]}}}`,
			"/application/domain/models/0/path", `model #0: missing required property "path" (required when "name" is absent)`},
		{"auth method", `{"security": {"authenticationMethods": ["UB", "Kerberos"]}}`,
			"/security/authenticationMethods/1", `security.authenticationMethods[1] "Kerberos" is not one of CERT`},
		{"log level", `{"logging": {"levels": ["Verbose"]}}`,
			"/logging/levels/0", `logging.levels[0] "Verbose" is not one of *, Info`},
		{"userSessionMode", `{"security": {"userSessionMode": "Single"}}`,
			"/security/userSessionMode", `"Single" is not one of Multiple, Displacing, Singleton`},
		{"trustedProxies", `{"security": {"trustedProxies": ["proxy.local"]}}`,
			"/security/trustedProxies/0", `security.trustedProxies[0] "proxy.local" is not in the expected form`},
		{"storeSize", `{"application": {"blobStores": [{"name": "s", "storeSize": "Yearly"}]}}`,
			"/application/blobStores/0/storeSize", `blob store "s": storeSize "Yearly" is not one of`},
		{"supportLang", `{"application": {"connections": [{"name": "m", "supportLang": ["EN"]}]}}`,
			"/application/connections/0/supportLang/0", `connection "m": supportLang[0] "EN" is not in the expected form`},
		{"customSettings must be object", `{"application": {"customSettings": []}}`,
			"/application/customSettings", "application.customSettings must be an object, not an array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs, _ := ValidateConfig(decode(t, tc.src))
			if len(errs) != 1 {
				t.Fatalf("want exactly 1 error, got %d: %v", len(errs), errs)
			}
			if errs[0].Pointer != tc.pointer {
				t.Errorf("pointer = %q, want %q (%q)", errs[0].Pointer, tc.pointer, errs[0].Message)
			}
			if !strings.Contains(errs[0].Message, tc.msg) {
				t.Errorf("message %q does not contain %q", errs[0].Message, tc.msg)
			}
		})
	}
}

func TestValidateConfigWarnings(t *testing.T) {
	src := `{"httpServer": {"port": "1", "keepAlive": true}, "extraSection": {}, "application": {"connections": [{"name": "m", "poolSize": 3}]},
		"javascript": {"fullGCPeriod": 1}, "uiSettings": {"whatever": true}, "application2": 1}`
	errs, warns := ValidateConfig(decode(t, src))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []Issue{
		{Pointer: "", Message: `unknown properties "application2", "extraSection" (ignored)`, Unknown: []string{"application2", "extraSection"}},
		{Pointer: "/application/connections/0", Message: `connection "m": unknown property "poolSize" (ignored)`, Unknown: []string{"poolSize"}},
		{Pointer: "/httpServer", Message: `httpServer: unknown property "keepAlive" (ignored)`, Unknown: []string{"keepAlive"}},
	}
	if !reflect.DeepEqual(warns, want) {
		t.Fatalf("warnings:\n got %#v\nwant %#v", warns, want)
	}
}

func TestPointerEscaping(t *testing.T) {
	errs, warns := ValidateEntity(decode(t, `{"attributes": [], "dbKeys": {"a/b~c d": {"x": {"sort": "UP"}}}, "we ird/key": 1}`))
	if len(errs) != 1 || errs[0].Pointer != "/dbKeys/a~1b~0c d/x/sort" {
		t.Fatalf("errs %v", errs)
	}
	if len(warns) != 1 || !reflect.DeepEqual(warns[0].Unknown, []string{"we ird/key"}) {
		t.Fatalf("warns %v", warns)
	}
}

// stripJSONC removes a UTF-8 BOM and // and /* */ comments outside strings.
// Test-only; the loader has its own parser.
func stripJSONC(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	out := make([]byte, 0, len(b))
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out = append(out, c)
			if c == '\\' && i+1 < len(b) {
				i++
				out = append(out, b[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out = append(out, c)
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			if i < len(b) {
				out = append(out, '\n')
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return out
			}
			i += 2 + end + 1
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}

func readJSONC(t testing.TB, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(stripJSONC(b), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestCorpusEntities validates every base *.meta file of the UnityBase corpus.
// Only files with a "caption" are validated: those are base definitions, while
// files of later models may be partial overrides that only make sense merged.
// (In the current corpus every *.meta file is a base definition.)
func TestCorpusEntities(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus %s not available: %v", corpusDir, err)
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".meta") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no *.meta files under %s", corpusDir)
	}
	unknown := map[string]int{}
	validated := 0
	for _, f := range files {
		v := readJSONC(t, f)
		m, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: not an object", f)
			continue
		}
		if _, ok := m["caption"]; !ok {
			t.Logf("%s: skipped (no caption: partial override)", f)
			continue
		}
		validated++
		errs, warns := ValidateEntity(v)
		for _, e := range errs {
			t.Errorf("%s: %s", f, e)
		}
		for _, w := range warns {
			t.Logf("%s: warning %s", f, w)
			for _, k := range w.Unknown {
				unknown[k]++
			}
		}
	}
	keys := make([]string, 0, len(unknown))
	for k := range unknown {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("validated %d of %d *.meta files; unknown keys: %v", validated, len(files), keys)
}

func TestCorpusBenchmarkConfig(t *testing.T) {
	path := filepath.Join(corpusDir, "benchmarks", "ubConfig.json")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus config %s not available: %v", path, err)
	}
	errs, warns := ValidateConfig(readJSONC(t, path))
	for _, e := range errs {
		t.Errorf("%s", e)
	}
	for _, w := range warns {
		t.Logf("warning %s", w)
	}
}

func benchEntity(b testing.TB) any {
	attrs := []string{`{"name": "code", "dataType": "String", "size": 32, "caption": "Code", "allowNull": false, "isUnique": true}`}
	for i := 1; i < 20; i++ {
		dt := allDataTypes[i%len(allDataTypes)]
		a := attrFor(dt)
		a = strings.Replace(a, `"name": "a`, fmt.Sprintf(`"name": "a%d`, i), 1)
		attrs = append(attrs, a)
	}
	src := `{"caption": "Bench", "captionSingular": "Bench", "sqlAlias": "bnch", "cacheType": "None",
		"descriptionAttribute": "code", "connectionName": "main",
		"mixins": {"mStorage": {"simpleAudit": true, "safeDelete": true}, "audit": {"enabled": true}},
		"dbKeys": {"UK_BENCH": {"code": {}, "a1String": {"sort": "DESC"}}},
		"attributes": [` + strings.Join(attrs, ",") + `]}`
	return decode(b, src)
}

func BenchmarkValidateEntity(b *testing.B) {
	v := benchEntity(b)
	if errs, warns := ValidateEntity(v); len(errs)+len(warns) != 0 {
		b.Fatalf("bench entity invalid: %v %v", errs, warns)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ValidateEntity(v)
	}
}

func TestFastPreCheckCoversSchemas(t *testing.T) {
	for name, get := range map[string]func() (*compiled, error){"config": configSchema, "entity": entitySchema} {
		c, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := compileFast(c.raw); err != nil {
			t.Errorf("%s schema: the fast pre-check does not cover it, every validation would be slow: %v", name, err)
		}
	}
}

// TestFastAgreesWithValidator checks, on many valid and broken instances,
// that the allocation-free pre-check calls an instance clean exactly when
// jsonschema/v5 accepts it.
func TestFastAgreesWithValidator(t *testing.T) {
	type sample struct {
		name string
		get  func() (*compiled, error)
		v    any
	}
	var bases []sample
	bases = append(bases,
		sample{"bench entity", entitySchema, benchEntity(t)},
		sample{"warnings entity", entitySchema, decode(t, `{"attributes": [{"name": "p", "dataType": "Document", "documentMIME": "x"}],
			"mixins": {"unity": {"entity": "x"}, "tree": {"parentAttr": "p"}, "x": {}},
			"dbExtensions": {"I": {"type": "INDEX", "definition": {"keys": {"a": {"sort": "ASC"}}}}}}`)},
		sample{"minimal config", configSchema, decode(t, minimalConfig)},
	)
	for _, dt := range allDataTypes {
		bases = append(bases, sample{"type " + dt, entitySchema, decode(t, entityWith(attrFor(dt)))})
	}
	if _, err := os.Stat(corpusDir); err == nil {
		_ = filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".meta") {
				bases = append(bases, sample{p, entitySchema, readJSONC(t, p)})
			}
			return nil
		})
		bases = append(bases, sample{"benchmarks config", configSchema, readJSONC(t, filepath.Join(corpusDir, "benchmarks", "ubConfig.json"))})
	}
	replacements := []any{"x", "String", "Many", "Enum", "Entity", "SQLite3", "", 0.0, -1.0, 1.5, 7.0, true, false, nil,
		map[string]any{}, []any{}, []any{"x"}, map[string]any{"enabled": false}}
	rng := newRand(1)
	checked, rejected, mismatches := 0, 0, 0
	warned := 0
	check := func(name string, c *compiled, v any) {
		checked++
		fast := c.fast.clean(v)
		slow := c.schema.Validate(v) == nil
		if !slow {
			rejected++
		}
		if fast != slow {
			mismatches++
			if mismatches <= 10 {
				b, _ := json.Marshal(v)
				t.Errorf("%s: pre-check clean=%v, jsonschema/v5 valid=%v for %.300s", name, fast, slow, b)
			}
		}
		// The public result (pre-check, warnings-only shortcut, or v5) must
		// equal what the v5 error walk alone produces.
		label, public := "entity definition", ValidateEntity
		if c.raw.(map[string]any)["$id"] == configSchemaURL {
			label, public = "configuration", ValidateConfig
		}
		e1, w1 := public(v)
		e2, w2 := validateSlow(c, v, label)
		if len(e2) == 0 && len(w2) > 0 {
			warned++
		}
		if !reflect.DeepEqual(e1, e2) || !reflect.DeepEqual(w1, w2) {
			mismatches++
			if mismatches <= 10 {
				b, _ := json.Marshal(v)
				t.Errorf("%s: public result %v / %v differs from the v5 walk %v / %v for %.300s", name, e1, w1, e2, w2, b)
			}
		}
	}
	for _, b := range bases {
		c, err := b.get()
		if err != nil || c.fast == nil {
			t.Fatalf("no pre-check: %v", err)
		}
		check(b.name, c, b.v)
		paths := allPaths(b.v, nil)
		n := 60
		if testing.Short() {
			n = 10
		}
		for i := 0; i < n; i++ {
			m := deepCopy(b.v)
			p := paths[rng.intn(len(paths))]
			switch op := rng.intn(3); {
			case op == 0 && len(p) > 0:
				deleteAt(m, p)
			case op == 1:
				if obj, ok := at(m, p).(map[string]any); ok {
					obj["zzUnknown"] = 1.0
					break
				}
				fallthrough
			default:
				m = setAt(m, p, deepCopy(replacements[rng.intn(len(replacements))]))
			}
			check(b.name+" mutated", c, m)
		}
	}
	t.Logf("compared %d instances: %d rejected by jsonschema/v5, %d valid with unknown keys", checked, rejected, warned)
	if rejected == 0 || rejected == checked || warned == 0 {
		t.Errorf("mutations do not exercise both outcomes")
	}
}

// tiny deterministic generator (xorshift), enough for picking mutations.
type xorshift struct{ s uint64 }

func newRand(seed uint64) *xorshift { return &xorshift{s: seed*2654435761 + 88172645463325252} }
func (r *xorshift) intn(n int) int {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return int(r.s % uint64(n))
}

func allPaths(v any, prefix []string) [][]string {
	out := [][]string{append([]string(nil), prefix...)}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, allPaths(x[k], append(prefix, k))...)
		}
	case []any:
		for i, e := range x {
			out = append(out, allPaths(e, append(prefix, fmt.Sprint(i)))...)
		}
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func at(v any, p []string) any {
	r, _ := jsonc.Get(v, p)
	return r
}

func setAt(root any, p []string, val any) any {
	if len(p) == 0 {
		return val
	}
	switch c := at(root, p[:len(p)-1]).(type) {
	case map[string]any:
		c[p[len(p)-1]] = val
	case []any:
		var i int
		fmt.Sscan(p[len(p)-1], &i)
		c[i] = val
	}
	return root
}

func deleteAt(root any, p []string) {
	switch c := at(root, p[:len(p)-1]).(type) {
	case map[string]any:
		delete(c, p[len(p)-1])
	case []any:
		var i int
		fmt.Sscan(p[len(p)-1], &i)
		c[i] = nil
	}
}

// BenchmarkValidateEntityWithWarning measures the slow path: an entity with an
// unknown key goes through jsonschema/v5 and the error walk.
func BenchmarkValidateEntityWithWarning(b *testing.B) {
	v := benchEntity(b)
	v.(map[string]any)["attributes"].([]any)[0].(map[string]any)["documentMIME"] = "image/png"
	if errs, warns := ValidateEntity(v); len(errs) != 0 || len(warns) != 1 {
		b.Fatalf("unexpected: %v %v", errs, warns)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ValidateEntity(v)
	}
}
