package runner

import (
	"fmt"
	"strings"
)

// Kinds of scenario. Within a group every kind runs the same query; the ratios compare
// kinds of one group.
const (
	KindBase = "base" // the /_perf/json floor
	KindRaw  = "raw"  // hand-written SQL handler
	KindUBQL = "ubql" // POST /ubql: the client protocol, through the server's dispatcher
	KindGo   = "go"   // Go endpoint through the store's UBQL path (the JS endpoint's twin)
	KindJS   = "js"   // JavaScript endpoint through UB.Repository
)

// Scenario is one endpoint under load.
type Scenario struct {
	Name   string // e.g. "ubql_byid"
	Group  string // e.g. "byid"
	Kind   string
	Method string // GET or POST
	Path   string
	// Body is a Lua expression that builds the request body (POST only). It may call the
	// helpers of the script template: nextid() (the next prepared tst_item ID), seq() (a
	// number unique in the run), ids(n) and ubqlByID(n).
	Body string
	// Prep scenarios update or delete tst_item rows: every run gets fresh rows from
	// /_perf/prep, with IDs handed out in order by nextid().
	Prep bool
	// Once marks a scenario that does not depend on the database: it runs in the first
	// dialect only.
	Once bool
}

const (
	worldSelect = `[{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"]`
	prepToken   = `2020-01-01T00:00:00.000Z` // perfapp.PrepTokenText
)

// Scenarios is every scenario in run order: grouped, each group's baseline first.
var Scenarios = []Scenario{
	{Name: "json", Group: "json", Kind: KindBase, Method: "GET", Path: "/_perf/json", Once: true},
	{Name: "js_json", Group: "json", Kind: KindJS, Method: "GET", Path: "/perfjs/json", Once: true},

	{Name: "raw_byid", Group: "byid", Kind: KindRaw, Method: "POST", Path: "/_perf/raw/byid", Body: `'{"id":' .. math.random(1, 10000) .. '}'`},
	{Name: "ubql_byid", Group: "byid", Kind: KindUBQL, Method: "POST", Path: "/ubql", Body: `'` + worldSelect + `,"ID":' .. math.random(1, 10000) .. '}]'`},
	{Name: "go_byid", Group: "byid", Kind: KindGo, Method: "POST", Path: "/_perfgo/byid", Body: `'{"id":' .. math.random(1, 10000) .. '}'`},
	{Name: "js_byid", Group: "byid", Kind: KindJS, Method: "POST", Path: "/perfjs/byid", Body: `'{"id":' .. math.random(1, 10000) .. '}'`},

	{Name: "raw_list20", Group: "list20", Kind: KindRaw, Method: "POST", Path: "/_perf/raw/list20", Body: `'{"from":' .. math.random(1, 9981) .. '}'`},
	{Name: "ubql_list20", Group: "list20", Kind: KindUBQL, Method: "POST", Path: "/ubql", Body: `'` + worldSelect +
		`,"whereList":{"c1":{"expression":"[ID]","condition":"moreEqual","value":' .. math.random(1, 9981) .. '}},"orderList":{"0":{"expression":"ID","order":"asc"}},"options":{"start":0,"limit":20}}]'`},
	{Name: "go_list20", Group: "list20", Kind: KindGo, Method: "POST", Path: "/_perfgo/list20", Body: `'{"from":' .. math.random(1, 9981) .. '}'`},
	{Name: "js_list20", Group: "list20", Kind: KindJS, Method: "POST", Path: "/perfjs/list20", Body: `'{"from":' .. math.random(1, 9981) .. '}'`},

	{Name: "raw_queries20", Group: "queries20", Kind: KindRaw, Method: "POST", Path: "/_perf/raw/queries", Body: `'{"ids":[' .. ids(20) .. ']}'`},
	{Name: "ubql_queries20", Group: "queries20", Kind: KindUBQL, Method: "POST", Path: "/ubql", Body: `'[' .. ubqlByID(20) .. ']'`},
	{Name: "go_queries20", Group: "queries20", Kind: KindGo, Method: "POST", Path: "/_perfgo/queries", Body: `'{"ids":[' .. ids(20) .. ']}'`},
	{Name: "js_queries20", Group: "queries20", Kind: KindJS, Method: "POST", Path: "/perfjs/queries", Body: `'{"ids":[' .. ids(20) .. ']}'`},

	{Name: "raw_fortunes", Group: "fortunes", Kind: KindRaw, Method: "GET", Path: "/_perf/raw/fortunes"},
	{Name: "go_fortunes", Group: "fortunes", Kind: KindGo, Method: "GET", Path: "/_perfgo/fortunes"},
	{Name: "js_fortunes", Group: "fortunes", Kind: KindJS, Method: "GET", Path: "/perfjs/fortunes"},

	{Name: "raw_insert", Group: "insert", Kind: KindRaw, Method: "POST", Path: "/_perf/raw/insert",
		Body: `'{"code":"C' .. seq() .. '","caption":"perf","qty":' .. math.random(1, 1000) .. '}'`},
	{Name: "ubql_insert", Group: "insert", Kind: KindUBQL, Method: "POST", Path: "/ubql",
		Body: `'[{"entity":"tst_item","method":"insert","execParams":{"code":"C' .. seq() .. '","caption":"perf","qty":' .. math.random(1, 1000) .. '}}]'`},

	{Name: "raw_update", Group: "update", Kind: KindRaw, Method: "POST", Path: "/_perf/raw/update", Prep: true,
		Body: `'{"id":' .. nextid() .. ',"qty":' .. math.random(1, 1000) .. ',"token":"` + prepToken + `"}'`},
	{Name: "ubql_update", Group: "update", Kind: KindUBQL, Method: "POST", Path: "/ubql", Prep: true,
		Body: `'[{"entity":"tst_item","method":"update","execParams":{"ID":' .. nextid() .. ',"qty":' .. math.random(1, 1000) .. ',"mi_modifyDate":"` + prepToken + `"}}]'`},

	{Name: "raw_delete", Group: "delete", Kind: KindRaw, Method: "POST", Path: "/_perf/raw/delete", Prep: true,
		Body: `'{"id":' .. nextid() .. '}'`},
	{Name: "ubql_delete", Group: "delete", Kind: KindUBQL, Method: "POST", Path: "/ubql", Prep: true,
		Body: `'[{"entity":"tst_item","method":"delete","execParams":{"ID":' .. nextid() .. '}}]'`},
}

// Groups returns the group names in run order.
func Groups(list []Scenario) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s.Group] {
			seen[s.Group] = true
			out = append(out, s.Group)
		}
	}
	return out
}

// selectScenarios keeps the scenarios whose group or name is in only (all when only is
// empty), and drops the Once scenarios unless first.
func selectScenarios(only []string, first bool) []Scenario {
	var out []Scenario
	for _, s := range Scenarios {
		if s.Once && !first {
			continue
		}
		if len(only) > 0 && !contains(only, s.Group) && !contains(only, s.Name) {
			continue
		}
		out = append(out, s)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// luaScript is the wrk script of a scenario. prepFrom is the first prepared ID (Prep
// scenarios), threads wrk's thread count, seed the random seed (the same for every
// scenario of a group, so they ask for the same rows). done() prints one PERFJSON line
// with the run's figures, which is what the runner reads.
func luaScript(s Scenario, prepFrom int64, threads int, seed int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- perfctl scenario %s (group %s, kind %s); generated for one run.\n", s.Name, s.Group, s.Kind)
	fmt.Fprintf(&b, "local path = %q\nlocal from, nthreads = %d, %d\n", s.Path, prepFrom, threads)
	b.WriteString(`local counter = 0
local threadCount = 0

function setup(thread)
  thread:set("tid", threadCount)
  threadCount = threadCount + 1
end

function init(args)
  tid = tid or 0
`)
	fmt.Fprintf(&b, "  math.randomseed(%d + tid * 7919)\n", seed)
	b.WriteString(`end

-- The next prepared tst_item ID: threads take interleaved IDs, so none is used twice.
local function nextid()
  local id = from + tid + nthreads * counter
  counter = counter + 1
  return string.format("%d", id)
end

-- A number unique in this run (codes of inserted rows).
local function seq()
  counter = counter + 1
  return string.format("%d", tid * 1000000000 + counter)
end

-- n random World IDs, comma-separated.
local function ids(n)
  local t = {}
  for i = 1, n do t[i] = math.random(1, 10000) end
  return table.concat(t, ",")
end

-- n UBQL selects of one random World row each, comma-separated.
local function ubqlByID(n)
  local t = {}
  for i = 1, n do
`)
	fmt.Fprintf(&b, "    t[i] = '%s,\"ID\":' .. math.random(1, 10000) .. '}'\n", worldSelect[1:])
	b.WriteString(`  end
  return table.concat(t, ",")
end

`)
	// GET scenarios send the URL of the command line, built once.
	fmt.Fprintf(&b, "wrk.method = %q\n", s.Method)
	if s.Method == "POST" {
		b.WriteString(`wrk.headers["Content-Type"] = "application/json"

function request()
  return wrk.format(nil, path, nil, ` + s.Body + `)
end
`)
	}
	b.WriteString(`
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('PERFJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`)
	return b.String()
}
