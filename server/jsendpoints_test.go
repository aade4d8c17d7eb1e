package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

// TestModelEndpointsAndJSMethods serves the sample application with its JavaScript: a
// tsk_task insert runs the model's insert:before listener on a worker, and the model's
// tasksSummary endpoint answers through the same front as built-in endpoints.
func TestModelEndpointsAndJSMethods(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := filepath.Join(t.TempDir(), "app.sqlite3")
	app, err := boot.Load(ctx, boot.Options{ConfigFile: "../ubconfig.json", Logger: log,
		LookupEnv: func(k string) (string, bool) {
			if k == "UB_DB" {
				return db, true
			}
			return "", false
		}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, app.Config, app.Domain, store.Options{Create: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Init(ctx, store.InitOptions{AdminPassword: "x"}); err != nil {
		t.Fatal(err)
	}
	prog, err := jsvm.Load(ctx, app.Domain, app.Config, log)
	if err != nil {
		t.Fatal(err)
	}
	pool := jsvm.NewPool(prog, jsvm.PoolOptions{Size: 2})
	defer pool.Close()
	srv, err := server.NewWithOptions(app.Config, app.Domain, log, server.Options{
		Dispatcher: &jsvm.Dispatcher{Store: st, Pool: pool}, DevAnonymousAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.MountJS(pool, st); err != nil {
		t.Fatal(err)
	}
	if err := srv.MountJS(pool, st); err == nil || !strings.Contains(err.Error(), "already has") {
		t.Fatalf("mounting twice: %v", err)
	}
	do := func(method, path, body string) (int, string) {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	code, body := do("POST", "/ubql", `[{"entity":"tsk_project","method":"insert","execParams":{"code":"P","name":"P"}}]`)
	if code != http.StatusOK {
		t.Fatalf("insert project: %d %s", code, body)
	}
	prj := body[strings.Index(body, `"ID":`)+5:]
	prj = prj[:strings.IndexAny(prj, ",}")]
	for _, title := range []string{"a", "b"} {
		if code, body = do("POST", "/ubql", `[{"entity":"tsk_task","method":"insert","fieldList":["status"],"execParams":{"project":`+prj+`,"title":"`+title+`"}}]`); code != http.StatusOK {
			t.Fatalf("insert task: %d %s", code, body)
		}
	}
	if code, body = do("GET", "/tasksSummary", ""); code != http.StatusOK || !strings.Contains(body, `"count":2`) {
		t.Fatalf("tasksSummary: %d %s", code, body)
	}
	if s := pool.Stats(); s.Created == 0 {
		t.Fatal("no worker was created: the JS paths did not run")
	}
}
