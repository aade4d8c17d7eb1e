package server

import (
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// compressMinSize is the smallest body the server gzips (UnityBase: 1024). Smaller bodies
// gain little and pay for the gzip header and the CPU.
const compressMinSize = 1024

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// compressWriter gzips a response when the client accepts gzip, the status is 200, the type
// is text-like and the body reaches compressMinSize. It holds the first bytes back until it
// knows the body is large enough, so small responses go out unchanged with their
// Content-Length.
type compressWriter struct {
	w       http.ResponseWriter
	accept  bool
	status  int
	buf     []byte
	decided bool
	gz      *gzip.Writer
}

func newCompressWriter(w http.ResponseWriter, r *http.Request) *compressWriter {
	return &compressWriter{w: w, accept: r.Method != http.MethodHead && acceptsGzip(r.Header.Get("Accept-Encoding"))}
}

func (c *compressWriter) Header() http.Header { return c.w.Header() }

func (c *compressWriter) WriteHeader(code int) {
	switch {
	case c.decided || code < 200:
		c.w.WriteHeader(code)
	case c.status == 0:
		c.status = code
		if !c.accept || code != http.StatusOK {
			c.decide(false)
		}
	}
}

func (c *compressWriter) Write(b []byte) (int, error) {
	if !c.decided {
		if c.status == 0 {
			c.status = http.StatusOK
		}
		if c.accept {
			c.buf = append(c.buf, b...)
			if len(c.buf) < compressMinSize {
				return len(b), nil
			}
			if err := c.decide(true); err != nil {
				return 0, err
			}
			return len(b), nil
		}
		if err := c.decide(false); err != nil {
			return 0, err
		}
	}
	if c.gz != nil {
		return c.gz.Write(b)
	}
	return c.w.Write(b)
}

// decide sends the header, gzipped or not, and what was held back.
func (c *compressWriter) decide(large bool) error {
	c.decided = true
	h := c.w.Header()
	compressible := compressibleType(h.Get("Content-Type"))
	if compressible {
		h.Add("Vary", "Accept-Encoding")
	}
	buf := c.buf
	c.buf = nil
	if large && c.accept && compressible && c.status == http.StatusOK &&
		h.Get("Content-Encoding") == "" && h.Get("Content-Range") == "" {
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		// a strong ETag names the identity bytes; the gzipped ones are only equivalent
		if et := h.Get("ETag"); strings.HasPrefix(et, `"`) {
			h.Set("ETag", "W/"+et)
		}
		c.w.WriteHeader(c.status)
		c.gz = gzipPool.Get().(*gzip.Writer)
		c.gz.Reset(c.w)
		_, err := c.gz.Write(buf)
		return err
	}
	c.w.WriteHeader(c.status)
	if len(buf) > 0 {
		_, err := c.w.Write(buf)
		return err
	}
	return nil
}

// Close sends what is held back and ends the gzip stream. A handler that wrote nothing
// leaves the status to net/http.
func (c *compressWriter) Close() error {
	if !c.decided && (c.status != 0 || len(c.buf) > 0) {
		if err := c.decide(false); err != nil {
			return err
		}
	}
	if c.gz == nil {
		return nil
	}
	err := c.gz.Close()
	gzipPool.Put(c.gz)
	c.gz = nil
	return err
}

func (c *compressWriter) Flush() {
	if !c.decided {
		if c.status == 0 {
			c.status = http.StatusOK
		}
		c.decide(len(c.buf) >= compressMinSize)
	}
	if c.gz != nil {
		c.gz.Flush()
	}
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *compressWriter) Unwrap() http.ResponseWriter { return c.w }

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed with q > 0, or
// not listed and "*" allowed.
func acceptsGzip(header string) bool {
	gz, star := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		switch {
		case strings.EqualFold(name, "gzip"):
			gz = q
		case name == "*":
			star = q
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// compressibleType reports whether a Content-Type is text that gzip shrinks: text/*, JSON,
// JavaScript, XML and SVG. Images, archives and fonts are compressed already.
func compressibleType(ct string) bool {
	// The server's own handlers set a handful of exact values; answering those without
	// parsing keeps mime.ParseMediaType (two allocations) off every response.
	switch ct {
	case "application/json; charset=utf-8", "application/json", "text/html; charset=utf-8",
		"text/plain; charset=utf-8", "text/css; charset=utf-8", "text/javascript; charset=utf-8",
		"application/javascript", "text/xml; charset=utf-8", "text/csv; charset=utf-8":
		return true
	case "", "application/octet-stream", "image/png", "image/jpeg", "image/gif", "font/woff2", "application/zip":
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/javascript", mt == "application/xml",
		mt == "image/svg+xml", strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}
