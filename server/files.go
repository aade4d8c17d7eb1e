package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
)

// MaxFilePathLen is the longest path the file endpoints accept (UnityBase: 250), counted
// after the endpoint name and percent-decoding.
const MaxFilePathLen = 250

// publicFiles is a folder served read-only over HTTP: a model's public folder or inetPub.
// Folders on disk are opened with os.Root, so no name — "..", an absolute path, a symlink
// pointing outside — resolves to a file outside the folder; the check is the kernel's, not
// a string prefix test.
type publicFiles struct {
	fsys  fs.FS    // nil: the folder does not exist
	etags sync.Map // name → ETag of files without a modification time (embedded ones)
}

// openDir opens a folder on disk. A missing folder is not an error: it has no files.
func openDir(dir string) (*publicFiles, io.Closer, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return &publicFiles{}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return &publicFiles{fsys: root.FS()}, root, nil
}

// exists reports whether name is a regular file of the folder.
func (p *publicFiles) exists(name string) bool {
	if p == nil || p.fsys == nil {
		return false
	}
	fi, err := fs.Stat(p.fsys, name)
	return err == nil && fi.Mode().IsRegular()
}

// readFile returns the content of a file of the folder; fs.ErrNotExist when there is none.
func (p *publicFiles) readFile(name string) ([]byte, error) {
	if p == nil || p.fsys == nil {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(p.fsys, name)
}

// checkFilePath validates a requested file name before it reaches the file system: the
// rules of fs.ValidPath (no "..", no ".", no empty element, not absolute), no backslash
// (a Windows separator, never needed in a URL), and no element starting with a dot, so
// that .git or .env left in a public folder stay private (404, as if missing).
func checkFilePath(name string) error {
	if strings.ContainsRune(name, '\\') || !fs.ValidPath(name) || name == "." {
		return errStatus(http.StatusBadRequest, fmt.Sprintf("invalid file path %q", name))
	}
	for _, el := range strings.Split(name, "/") {
		if strings.HasPrefix(el, ".") {
			return errStatus(http.StatusNotFound, fmt.Sprintf("hidden file %q", name))
		}
	}
	return nil
}

// serve answers GET and HEAD for one file: Content-Type by extension, ETag, Cache-Control
// no-cache (clients revalidate, the answer is a cheap 304), ranges. With index set, a
// folder (or "") serves its index file; without, a folder is a 400 as in UnityBase.
func (p *publicFiles) serve(w http.ResponseWriter, r *http.Request, name, index string) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	if len(name) > MaxFilePathLen {
		WriteErr(w, r, errStatus(http.StatusBadRequest, "the path is longer than "+strconv.Itoa(MaxFilePathLen)))
		return
	}
	if index != "" && (name == "" || strings.HasSuffix(name, "/")) {
		name += index
	}
	if name == "" {
		WriteErr(w, r, errStatus(http.StatusBadRequest, "no file name"))
		return
	}
	f, fi, err := p.open(name)
	if err == nil && fi.IsDir() && index != "" {
		f.Close()
		name = name + "/" + index
		f, fi, err = p.open(name)
	}
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	defer f.Close()
	if !fi.Mode().IsRegular() {
		WriteErr(w, r, errStatus(http.StatusBadRequest, fmt.Sprintf("%q is not a file", name)))
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			WriteErr(w, r, err)
			return
		}
		rs = bytes.NewReader(b)
	}
	etag, err := p.etag(name, fi, rs)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(name))
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", fi.ModTime(), rs)
}

// open opens a file, mapping file system errors to statuses: missing → 404, outside the
// folder (a symlink escaping os.Root) or unreadable → 400. The cause goes to the log only.
func (p *publicFiles) open(name string) (fs.File, fs.FileInfo, error) {
	if err := checkFilePath(name); err != nil {
		return nil, nil, err
	}
	if p.fsys == nil {
		return nil, nil, errStatus(http.StatusNotFound, fmt.Sprintf("no file %q", name))
	}
	f, err := p.fsys.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf("no file %q", name), Err: err}
		}
		return nil, nil, &Error{Status: http.StatusBadRequest, Detail: fmt.Sprintf("cannot open %q", name), Err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// etag identifies a file's version: size and modification time for files on disk (no need
// to read them), a hash of the content for embedded files, which have no time.
func (p *publicFiles) etag(name string, fi fs.FileInfo, rs io.ReadSeeker) (string, error) {
	if !fi.ModTime().IsZero() {
		return `"` + strconv.FormatInt(fi.Size(), 16) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 16) + `"`, nil
	}
	if v, ok := p.etags.Load(name); ok {
		return v.(string), nil
	}
	b, err := io.ReadAll(rs)
	if err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	etag := etagOf(b)
	p.etags.Store(name, etag)
	return etag, nil
}

// contentTypes are the types of the files clients load from models and inetPub, fixed here
// so that answers do not depend on the machine's mime.types.
var contentTypes = map[string]string{
	".js":    "application/javascript; charset=utf-8",
	".mjs":   "application/javascript; charset=utf-8",
	".cjs":   "application/javascript; charset=utf-8",
	".json":  "application/json; charset=utf-8",
	".map":   "application/json; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".html":  "text/html; charset=utf-8",
	".htm":   "text/html; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".md":    "text/markdown; charset=utf-8",
	".xml":   "application/xml; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".ico":   "image/x-icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".eot":   "application/vnd.ms-fontobject",
	".pdf":   "application/pdf",
	".wasm":  "application/wasm",
}

// contentType is the Content-Type of a file name; unknown extensions are binary (with
// nosniff, browsers will not guess otherwise).
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}
