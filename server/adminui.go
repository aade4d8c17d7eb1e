package server

import (
	"io/fs"
	"net/http"
	"strings"
)

// The admin UI (reference §3.4, §10): UnityBase serves it from the endpoint named by
// uiSettings.adminUI.endpoint, rendering @unitybase/adminui-pub's index.mustache, and
// answers that endpoint requested with a trailing slash with 301 to the name without it
// (packages/adminui-reg/index.html.js). ubgo bundles no admin UI, so the endpoint answers
// 404 with an explanation instead of a page, keeping the redirect rule, until a model
// registers an endpoint of that name (MountJS lets it take the place).

// adminUIEndpoint is uiSettings.adminUI.endpoint, or "" when not configured.
func (s *Server) adminUIEndpoint() string {
	ui, _ := s.cfg.Raw["uiSettings"].(map[string]any)
	admin, _ := ui["adminUI"].(map[string]any)
	name, _ := admin["endpoint"].(string)
	return name
}

// registerAdminUI adds the admin UI placeholder endpoint when one is configured.
func (s *Server) registerAdminUI() {
	name := s.adminUIEndpoint()
	if name == "" {
		return
	}
	if !validEndpointName(name) {
		s.log.Warn("uiSettings.adminUI.endpoint is not a valid endpoint name; no admin UI endpoint", "endpoint", name)
		return
	}
	if _, taken := s.lookup(name); taken {
		s.log.Warn("uiSettings.adminUI.endpoint names a built-in endpoint; no admin UI endpoint", "endpoint", name)
		return
	}
	s.Handle(name, http.HandlerFunc(s.serveAdminUI), false)
	s.adminUIName = name
}

// serveAdminUI keeps UnityBase's URL rule (a trailing slash redirects to the endpoint
// name) and explains why there is no page.
func (s *Server) serveAdminUI(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	if strings.HasSuffix(r.URL.Path, "/") {
		s.redirect(w, r, s.externalBase()+s.adminUIName)
		return
	}
	WriteErr(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
		Msg: "the admin UI is not available: ubgo does not bundle @unitybase/adminui-pub; uiSettings.adminUI.endpoint " +
			s.adminUIName + " is reserved for a model that registers an endpoint of that name"})
}

// externalBase is where the application's endpoints are for clients: httpServer.externalURL
// when configured (a reverse proxy may change host and path), else httpServer.path.
func (s *Server) externalBase() string {
	if u := s.cfg.HTTPServer.ExternalURL; u != "" {
		return strings.TrimSuffix(u, "/") + "/"
	}
	return s.prefix
}

// redirect answers 301 to location with the request's query string. Locations come from
// the configuration and the validated request path, never from headers a client sets.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, location string) {
	if r.URL.RawQuery != "" {
		location += "?" + r.URL.RawQuery
	}
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusMovedPermanently)
}

// serveStaticsDirs is the statics endpoint: a folder of inetPub requested without its
// trailing slash redirects to the name with it (so that the index page's relative links
// resolve against the folder), everything else is serveStatics.
func (s *Server) serveStaticsDirs(w http.ResponseWriter, r *http.Request) {
	name := Rest(r)
	if name != "" && !strings.HasSuffix(name, "/") && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		checkFilePath(name) == nil && s.statics != nil && s.statics.fsys != nil {
		if fi, err := fs.Stat(s.statics.fsys, name); err == nil && fi.IsDir() && !strings.HasPrefix(r.URL.EscapedPath(), "//") {
			s.redirect(w, r, r.URL.EscapedPath()+"/")
			return
		}
	}
	s.serveStatics(w, r)
}
