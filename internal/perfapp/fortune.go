package perfapp

import (
	"github.com/ubgo/ubgo/internal/mustache"
	"slices"
	"strconv"
	"strings"
)

// Fortune is one row of tst_fortune.
type Fortune struct {
	ID      int64
	Message string
}

// Fortunes are the rows of the TechEmpower Fortunes test (its public test data), loaded
// into tst_fortune. One of them is markup that must come out escaped, one is not ASCII.
var Fortunes = []Fortune{
	{1, "fortune: No such file or directory"},
	{2, "A computer scientist is someone who fixes things that aren't broken."},
	{3, "After enough decimal places, nobody gives a damn."},
	{4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"},
	{5, "A computer program does what you tell it to do, not what you want it to do."},
	{6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"},
	{7, "Any program that runs right is obsolete."},
	{8, "A list is only as strong as its weakest link. — Donald Knuth"},
	{9, "Feature: A bug with seniority."},
	{10, "Computers make very fast, very accurate mistakes."},
	{11, `<script>alert("This should not be displayed in a browser alert box.");</script>`},
	{12, "フレームワークのベンチマーク"},
}

// ExtraFortune is the row the Fortunes test adds at request time, before sorting.
var ExtraFortune = Fortune{0, "Additional fortune added at request time."}

const (
	fortunesHead = "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>"
	fortunesTail = "</table></body></html>"
)

// renderFortunes applies the Fortunes rules to the rows read from the database: add
// ExtraFortune, sort by message, and write the table with every message HTML-escaped as
// mustache.js escapes it, so that the raw handler, the Go twin and the JS endpoint
// (which renders with require('mustache'), as UnityBase's own benchmark does) answer
// the same bytes.
// rows is changed (appended to and sorted).
func renderFortunes(b []byte, rows []Fortune) []byte {
	rows = append(rows, ExtraFortune)
	slices.SortFunc(rows, func(a, b Fortune) int { return strings.Compare(a.Message, b.Message) })
	b = append(b, fortunesHead...)
	for _, f := range rows {
		b = append(b, "<tr><td>"...)
		b = strconv.AppendInt(b, f.ID, 10)
		b = append(b, "</td><td>"...)
		b = mustache.AppendEscapedHTML(b, f.Message)
		b = append(b, "</td></tr>"...)
	}
	return append(b, fortunesTail...)
}
