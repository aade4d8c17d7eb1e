package server

import (
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/models"
)

// openModels opens the public folder of every model: the "public" folder inside a built-in
// model's embedded files, the resolved publicPath of a model on disk.
func (s *Server) openModels() error {
	s.models = make(map[string]*publicFiles, len(s.dom.Models))
	for _, m := range s.dom.Models {
		if m.Builtin {
			mfs, ok := models.Builtin(m.Name)
			if !ok {
				return fmt.Errorf("model %s: not a built-in model", m.Name)
			}
			sub, err := fs.Sub(mfs, "public")
			if err != nil {
				return fmt.Errorf("model %s: %w", m.Name, err)
			}
			s.models[m.Name] = &publicFiles{fsys: sub}
			continue
		}
		if m.PublicPath == "" {
			s.models[m.Name] = &publicFiles{}
			continue
		}
		pf, closer, err := openDir(m.PublicPath)
		if err != nil {
			return fmt.Errorf("model %s: public folder: %w", m.Name, err)
		}
		if closer != nil {
			s.closers = append(s.closers, closer)
		}
		s.models[m.Name] = pf
	}
	return nil
}

// serveModels answers GET /models/<Model>/<path> with a file of the model's public folder
// (reference §3.4): 400 for a path over MaxFilePathLen, a folder or a path that leaves the
// folder, 404 for a missing file or an unknown model.
func (s *Server) serveModels(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	rest := Rest(r)
	if len(rest) > MaxFilePathLen {
		WriteErr(w, r, errStatus(http.StatusBadRequest, "the path is longer than "+strconv.Itoa(MaxFilePathLen)))
		return
	}
	name, file, _ := strings.Cut(rest, "/")
	if name == "" || file == "" {
		WriteErr(w, r, errStatus(http.StatusBadRequest, "expected /models/<Model>/<path>"))
		return
	}
	m := s.models[name]
	if m == nil {
		WriteErr(w, r, errStatus(http.StatusNotFound, "no model "+strconv.Quote(name)))
		return
	}
	m.serve(w, r, file, "")
}
