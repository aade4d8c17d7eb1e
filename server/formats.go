package server

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ubgo/ubgo/ubql"
)

// UnityBase 5.18 answers a /ubql request holding a single item in another format than
// JSON when the request's Content-Type asks for it (ub-server changelog of 2020-01-20;
// reference §4.1); the body is still the JSON array of one UBQL item:
//
//	text/csv                                   tab-separated values (customSettings.csvExport)
//	text/html                                  an HTML table
//	text/xml                                   ADO's persisted rowset (urn:schemas-microsoft-com:rowset)
//	application/vnd.oasis.opendocument.spreadsheet   an OpenDocument spreadsheet (ODS)
//
// None of these types is one a cross-site form can send without a CORS preflight, so
// accepting them keeps /ubql as safe from forged requests as the JSON type does.

// resultFormat renders a result set in one of the formats.
type resultFormat struct {
	ext         string
	contentType string
	render      func(s *Server, w io.Writer, name string, rd *ubql.ResultData) error
}

var resultFormats = map[string]resultFormat{
	"text/csv":  {"csv", "text/csv; charset=utf-8", (*Server).renderCSV},
	"text/html": {"html", "text/html; charset=utf-8", (*Server).renderHTML},
	"text/xml":  {"xml", "text/xml; charset=utf-8", (*Server).renderRowset},
	"application/vnd.oasis.opendocument.spreadsheet": {"ods", "application/vnd.oasis.opendocument.spreadsheet", (*Server).renderODS},
}

// serveUBQLAnyFormat is the ubql (and runList) endpoint: JSON unless the request's
// Content-Type names one of resultFormats.
func (s *Server) serveUBQLAnyFormat(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if plainJSON(ct) { // the usual case: no second parse of the same header
		s.serveUBQL(w, r)
		return
	}
	mt, params, err := mime.ParseMediaType(ct)
	f, ok := resultFormats[mt]
	if err != nil || !ok {
		s.serveUBQL(w, r)
		return
	}
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		WriteErr(w, r, errStatus(http.StatusUnsupportedMediaType, "Content-Encoding "+ce+" is not accepted"))
		return
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		WriteErr(w, r, errStatus(http.StatusUnsupportedMediaType, "the body must be UTF-8"))
		return
	}
	if s.opt.Dispatcher == nil {
		WriteErr(w, r, errStatus(http.StatusNotImplemented, "no Dispatcher is configured"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	reqs, err := ubql.DecodeBatch(body)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	if len(reqs) != 1 {
		WriteErr(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidData,
			Msg: fmt.Sprintf("a %s answer needs exactly one UBQL item, got %d", f.ext, len(reqs))})
		return
	}
	switch reqs[0].Method {
	case "insert", "update", "delete", "addnew":
		// Checked before running: the rows would be written and the answer refused.
		WriteErr(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidData,
			Msg: fmt.Sprintf("a %s answer is for methods that return rows, not %q", f.ext, reqs[0].Method)})
		return
	}
	resps, err := s.opt.Dispatcher.Run(r.Context(), Session(r), reqs)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	rd := resps[0].ResultData
	if rd == nil {
		WriteErr(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidData,
			Msg: fmt.Sprintf("%s.%s returned no rows to answer as %s", reqs[0].Entity, reqs[0].Method, f.ext)})
		return
	}
	var out bytes.Buffer
	if err := f.render(s, &out, reqs[0].Entity, rd); err != nil {
		WriteErr(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": reqs[0].Entity + "." + f.ext}))
	h.Set("Cache-Control", "no-store")
	if f.ext == "html" {
		// The table is data, never a page that runs anything, even if opened inline.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	w.Write(out.Bytes())
}

// cellText renders a cell value as text: ISO-8601 UTC for times, base64 for bytes, the
// JSON text of Json attributes, "" for null.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case json.RawMessage:
		return string(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// csvSettings is application.customSettings.csvExport: separator (default a tab, as
// UnityBase) and addBOM (a UTF-8 byte order mark, for spreadsheet programs that guess
// the encoding).
func (s *Server) csvSettings() (sep rune, bom bool) {
	sep = '\t'
	app, _ := s.cfg.Raw["application"].(map[string]any)
	cs, _ := app["customSettings"].(map[string]any)
	ce, _ := cs["csvExport"].(map[string]any)
	if v, ok := ce["separator"].(string); ok {
		if v == `\t` {
			v = "\t"
		}
		if r, size := utf8.DecodeRuneInString(v); size == len(v) && r != utf8.RuneError && r != '"' && r != '\r' && r != '\n' {
			sep = r
		} else {
			s.log.Warn("application.customSettings.csvExport.separator must be one character other than a quote or a line break; using a tab", "separator", v)
		}
	}
	bom, _ = ce["addBOM"].(bool)
	return sep, bom
}

// renderCSV writes RFC 4180 CSV with the configured separator and CRLF line ends, a header
// row of field names. A text cell that a spreadsheet would take for a formula (starting
// with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, the OWASP
// defence against CSV injection; numbers are written as numbers.
func (s *Server) renderCSV(w io.Writer, _ string, rd *ubql.ResultData) error {
	sep, bom := s.csvSettings()
	var b strings.Builder
	if bom {
		b.WriteString("\uFEFF")
	}
	row := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteRune(sep)
			}
			b.WriteString(csvField(c, sep))
		}
		b.WriteString("\r\n")
	}
	header := make([]string, len(rd.Fields))
	for i, f := range rd.Fields {
		header[i] = csvSafe(f)
	}
	row(header)
	cells := make([]string, len(rd.Fields))
	for _, r := range rd.Data {
		for i := range cells {
			cells[i] = ""
			if i < len(r) {
				cells[i] = cellText(r[i])
				if _, isText := r[i].(string); isText {
					cells[i] = csvSafe(cells[i])
				}
			}
		}
		row(cells)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// csvSafe neutralizes text a spreadsheet would evaluate as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvField quotes a field when it holds the separator, a quote or a line break.
func csvField(s string, sep rune) string {
	if !strings.ContainsRune(s, sep) && !strings.ContainsAny(s, "\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// renderHTML writes a standalone HTML document with one table; every field name and cell
// is HTML-escaped.
func (s *Server) renderHTML(w io.Writer, name string, rd *ubql.ResultData) error {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(name))
	b.WriteString("</title></head><body>\n<table border=\"1\">\n<thead><tr>")
	for _, f := range rd.Fields {
		b.WriteString("<th>" + html.EscapeString(f) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range rd.Data {
		b.WriteString("<tr>")
		for i := range rd.Fields {
			b.WriteString("<td>")
			if i < len(r) {
				b.WriteString(html.EscapeString(cellText(r[i])))
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// xmlText escapes s for XML text and attribute values; characters XML cannot carry
// (most controls) become U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	writeXMLText(&b, s)
	return b.String()
}

// writeXMLText writes s escaped as xmlText does.
func writeXMLText(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s))
}

// rowsetType is the ADO data type of a column, from its first non-null value.
func rowsetType(rd *ubql.ResultData, col int) string {
	for _, r := range rd.Data {
		if col >= len(r) || r[col] == nil {
			continue
		}
		switch r[col].(type) {
		case int64, int:
			return "i8"
		case float64:
			return "float"
		case bool:
			return "boolean"
		case time.Time:
			return "dateTime"
		}
		return "string"
	}
	return "string"
}

// renderRowset writes the result as ADO's persisted XML rowset (what UnityBase calls the
// MS rowset format): a schema of the columns, then one z:row per row with a column's
// value in an attribute (absent for null). Columns are named c0, c1, ... with the field
// name in rs:name, because field names such as "mi_owner.name" need not be XML names.
func (s *Server) renderRowset(w io.Writer, _ string, rd *ubql.ResultData) error {
	var b strings.Builder
	b.WriteString(`<xml xmlns:s="uuid:BDC6E3F0-6DA3-11d1-A2A3-00AA00C14882" xmlns:dt="uuid:C2F41010-65B3-11d1-A29F-00AA00C14882" xmlns:rs="urn:schemas-microsoft-com:rowset" xmlns:z="#RowsetSchema">` + "\n")
	b.WriteString(`<s:Schema id="RowsetSchema"><s:ElementType name="row" content="eltOnly">` + "\n")
	for i, f := range rd.Fields {
		fmt.Fprintf(&b, `<s:AttributeType name="c%d" rs:name="%s" rs:number="%d"><s:datatype dt:type="%s"/></s:AttributeType>`+"\n",
			i, xmlText(f), i+1, rowsetType(rd, i))
	}
	b.WriteString(`<s:extends type="rs:rowbase"/></s:ElementType></s:Schema>` + "\n<rs:data>\n")
	for _, r := range rd.Data {
		b.WriteString("<z:row")
		for i := range rd.Fields {
			if i >= len(r) || r[i] == nil {
				continue
			}
			v := cellText(r[i])
			if t, ok := r[i].(time.Time); ok {
				v = t.UTC().Format("2006-01-02T15:04:05")
			}
			b.WriteString(" c")
			b.WriteString(strconv.Itoa(i))
			b.WriteString(`="`)
			writeXMLText(&b, v)
			b.WriteByte('"')
		}
		b.WriteString("/>\n")
	}
	b.WriteString("</rs:data>\n</xml>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// renderODS writes an OpenDocument spreadsheet (ODF 1.2): the stored "mimetype" entry
// first, the manifest, and content.xml with one table, a header row of field names and
// typed cells (numbers as float, booleans, dates; everything else as text, which an ODS
// reader never evaluates as a formula).
func (s *Server) renderODS(w io.Writer, name string, rd *ubql.ResultData) error {
	const odsType = "application/vnd.oasis.opendocument.spreadsheet"
	zw := zip.NewWriter(w)
	mt, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		return err
	}
	io.WriteString(mt, odsType)
	man, err := zw.Create("META-INF/manifest.xml")
	if err != nil {
		return err
	}
	io.WriteString(man, xml.Header+`<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">`+
		`<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="`+odsType+`"/>`+
		`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>`+
		`</manifest:manifest>`)
	content, err := zw.Create("content.xml")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(xml.Header + `<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"` +
		` xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"` +
		` office:version="1.2"><office:body><office:spreadsheet>`)
	b.WriteString(`<table:table table:name="` + xmlText(name) + `">`)
	textCell := func(s string) {
		b.WriteString(`<table:table-cell office:value-type="string"><text:p>`)
		writeXMLText(&b, s)
		b.WriteString(`</text:p></table:table-cell>`)
	}
	b.WriteString("<table:table-row>")
	for _, f := range rd.Fields {
		textCell(f)
	}
	b.WriteString("</table:table-row>")
	for _, r := range rd.Data {
		b.WriteString("<table:table-row>")
		for i := range rd.Fields {
			var v any
			if i < len(r) {
				v = r[i]
			}
			switch x := v.(type) {
			case nil:
				b.WriteString("<table:table-cell/>")
			case int64, int, float64:
				t := cellText(x)
				b.WriteString(`<table:table-cell office:value-type="float" office:value="` + t + `"><text:p>` + t + `</text:p></table:table-cell>`)
			case bool:
				t := strconv.FormatBool(x)
				b.WriteString(`<table:table-cell office:value-type="boolean" office:boolean-value="` + t + `"><text:p>` + t + `</text:p></table:table-cell>`)
			case time.Time:
				t := x.UTC().Format("2006-01-02T15:04:05")
				b.WriteString(`<table:table-cell office:value-type="date" office:date-value="` + t + `"><text:p>` + t + `</text:p></table:table-cell>`)
			default:
				textCell(cellText(x))
			}
		}
		b.WriteString("</table:table-row>")
	}
	b.WriteString("</table:table></office:spreadsheet></office:body></office:document-content>")
	if _, err := io.WriteString(content, b.String()); err != nil {
		return err
	}
	return zw.Close()
}
