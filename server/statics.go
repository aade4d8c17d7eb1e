package server

import (
	"fmt"
	"net/http"
)

// openStatics opens httpServer.inetPub, when the application has one. A configured folder
// that does not exist is a configuration error.
func (s *Server) openStatics() error {
	dir := s.cfg.HTTPServer.InetPub
	if dir == "" {
		return nil
	}
	pf, closer, err := openDir(dir)
	if err == nil && closer == nil {
		err = fmt.Errorf("the folder does not exist")
	}
	if err != nil {
		return fmt.Errorf("httpServer.inetPub %s: %w", dir, err)
	}
	s.closers = append(s.closers, closer)
	s.statics = pf
	return nil
}

// serveStatics answers GET with a file of inetPub; a folder serves its httpServer.inetIndex.
// It is also the default endpoint: /app.js is /statics/app.js.
func (s *Server) serveStatics(w http.ResponseWriter, r *http.Request) {
	index := s.cfg.HTTPServer.InetIndex
	if index == "" {
		index = "index.html"
	}
	s.statics.serve(w, r, Rest(r), index)
}
