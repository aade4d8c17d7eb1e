package config

import (
	"sort"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// srcFile is a file as the user wrote it.
type srcFile struct {
	name string // shown in errors
	data []byte // original bytes
}

// piece is a run of preprocessed text together with where it came from. A verbatim piece is a
// copy of src.data[off:off+len(text)]; any other piece (a substituted macro, a synthetic
// newline) maps all its text to src offset off.
type piece struct {
	text     string
	src      *srcFile
	off      int
	verbatim bool
}

// doc is preprocessed text plus its source map.
type doc struct {
	pieces []piece
	starts []int // start offset of each piece in text
	text   []byte
}

func newDoc(pieces []piece) *doc {
	d := &doc{}
	n := 0
	for _, p := range pieces {
		if p.text == "" {
			continue
		}
		d.pieces = append(d.pieces, p)
		d.starts = append(d.starts, n)
		n += len(p.text)
	}
	d.text = make([]byte, 0, n)
	for _, p := range d.pieces {
		d.text = append(d.text, p.text...)
	}
	return d
}

// find returns the index of the piece holding text offset off (the last piece when off is at
// the end), or -1 for an empty doc.
func (d *doc) find(off int) int {
	if len(d.pieces) == 0 {
		return -1
	}
	i := sort.Search(len(d.pieces), func(i int) bool { return d.starts[i]+len(d.pieces[i].text) > off })
	if i == len(d.pieces) {
		i--
	}
	return i
}

// origin maps a text offset to the original file and offset.
func (d *doc) origin(off int) (*srcFile, int) {
	i := d.find(off)
	if i < 0 {
		return nil, 0
	}
	p := d.pieces[i]
	if !p.verbatim {
		return p.src, p.off
	}
	rel := off - d.starts[i]
	if rel > len(p.text) {
		rel = len(p.text)
	}
	return p.src, p.off + rel
}

// verbatimAt reports whether the text at off was copied from a file (not substituted).
func (d *doc) verbatimAt(off int) bool {
	i := d.find(off)
	return i >= 0 && d.pieces[i].verbatim && off < d.starts[i]+len(d.pieces[i].text)
}

// pos returns the original file, line and column of a text offset.
func (d *doc) pos(off int) (file string, line, col int) {
	src, o := d.origin(off)
	if src == nil {
		return "", 0, 0
	}
	line, col = jsonc.Position(src.data, o)
	return src.name, line, col
}

// errAt builds an *Error located at a text offset.
func (d *doc) errAt(off int, ptr, msg string) *Error {
	f, l, c := d.pos(off)
	return &Error{File: f, Line: l, Col: c, Pointer: ptr, Msg: msg}
}

// slice returns the pieces covering text[a:b].
func (d *doc) slice(a, b int) []piece {
	var out []piece
	if a >= b {
		return nil
	}
	for i := d.find(a); i >= 0 && i < len(d.pieces); i++ {
		s := d.starts[i]
		p := d.pieces[i]
		e := s + len(p.text)
		if s >= b {
			break
		}
		lo, hi := max(a, s), min(b, e)
		if lo >= hi {
			continue
		}
		q := p
		q.text = p.text[lo-s : hi-s]
		if p.verbatim {
			q.off = p.off + (lo - s)
		}
		out = append(out, q)
	}
	return out
}

// edit replaces text[start:end] by with.
type edit struct {
	start, end int
	with       []piece
}

// apply returns a new doc with the edits (sorted by start, not overlapping) applied.
func (d *doc) apply(edits []edit) *doc {
	if len(edits) == 0 {
		return d
	}
	var out []piece
	last := 0
	for _, e := range edits {
		out = append(out, d.slice(last, e.start)...)
		out = append(out, e.with...)
		last = e.end
	}
	out = append(out, d.slice(last, len(d.text))...)
	return newDoc(out)
}
