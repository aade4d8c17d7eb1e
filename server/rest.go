package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/store"
)

// mountRest adds rest/<entity>/<method> (reference §3.4): any HTTP verb, authorization
// required, the entity's JS method called with the request and response objects inside a
// transaction (jsvm.Worker.CallRest has the rules: 400 unknown entity, 501 no method, 403
// "REST: unknown method or access deny" when ELS denies).
func (s *Server) mountRest(pool *jsvm.Pool, st *store.Store) error {
	if _, taken := s.lookup("rest"); taken {
		return fmt.Errorf("mount the models' JavaScript: the server already has endpoint \"rest\" (MountJS called twice?)")
	}
	s.Handle("rest", &jsEndpoint{name: "rest", pool: pool, store: st, rest: true}, true)
	return nil
}

// mountDefault makes the endpoint a model registered with isDefault the default endpoint
// (jsvm.Load refuses two). Requests for unknown first segments reach it with the whole
// path as Rest, as statics gets them otherwise; /statics itself stays.
func (s *Server) mountDefault(pool *jsvm.Pool, st *store.Store) {
	def, ok := pool.Program().DefaultEndpoint()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = &jsEndpoint{name: def.Name, pool: pool, store: st, asDefault: true}
	s.fallbackName, s.fallbackAuth = def.Name, def.AuthorizationRequired
	s.log.Info("default endpoint", "endpoint", def.Name, "model", def.Model)
}

// replaceAdminUI puts a model's endpoint in the place of the admin UI placeholder.
func (s *Server) replaceAdminUI(h *jsEndpoint, auth bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints[h.name] = endpoint{h: h, auth: auth}
	s.adminUIName = ""
}

// extendAppInfo runs the models' App "getAppInfo" listeners on the getAppInfo answer and
// keeps what they made of it (jsvm.Pool.ExtendAppInfo explains why once, not per request).
func (s *Server) extendAppInfo(pool *jsvm.Pool) error {
	if !pool.Program().HasAppListeners(jsvm.EventGetAppInfo) {
		return nil
	}
	var info map[string]any
	if err := json.Unmarshal(s.appInfo, &info); err != nil {
		return fmt.Errorf("getAppInfo: %w", err)
	}
	out, err := pool.ExtendAppInfo(context.Background(), info)
	if err != nil {
		return fmt.Errorf("App getAppInfo listeners: %w", err)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("getAppInfo after the listeners: %w", err)
	}
	s.appInfo, s.appETag = body, etagOf(body)
	return nil
}
