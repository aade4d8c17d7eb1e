package app

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxWatchedFiles bounds what Watch stats on every poll; a model folder bigger than
// that is watched in part, with a warning.
const maxWatchedFiles = 20000

// Watch polls the files the current generation was built from every interval and
// reloads when they change: the configuration file, its .env file, the
// ubConfig-partial.json files, the *.json files beside ubconfig.json (what "#include"
// usually names), and in the folder of every model that is not built in, the *.js,
// *.json and *.meta* files (node_modules and dot-folders skipped). Only sizes and
// modification times are read, no file contents, and nothing outside the standard
// library is needed (no inotify).
//
// Changes are debounced: after a change is seen, the reload waits until one whole
// interval passes without further change, so that an editor saving several files, or a
// git checkout, gives one reload. A failed reload is logged (see Reload) and the files
// are watched on; the next change tries again. Watch returns when ctx ends or the
// shutdown begins. It is meant for development (`ubgo serve --watch`).
func (a *App) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(a.stopCtx, cancel)()
	seen := a.snapshot()
	// Logged after the first snapshot: a change made once this line is out is seen.
	a.log.Info("watching the configuration and the models for changes", "interval", interval)
	var pending fileSet // the changed state, while it settles
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := a.snapshot()
		switch {
		case pending == nil && now.equal(seen):
			continue
		case pending == nil:
			a.log.Info("change detected; reloading once the files settle", "file", now.firstDiff(seen))
			pending = now
			continue
		case !now.equal(pending):
			pending = now // still changing
			continue
		}
		pending = nil
		a.Reload(ctx) // logs its own failure; the current generation keeps serving
		// Compare the next polls with the state the reload started from, so that a file
		// saved during the reload triggers another one; unless the set of files changed
		// (a model added or removed), then with what the new generation watches.
		seen = now
		if after := a.snapshot(); !after.sameFiles(now) {
			seen = after
		}
	}
}

// fileStamp is what a poll compares: size and modification time.
type fileStamp struct {
	size int64
	mod  time.Time
}

// fileSet maps file paths to their stamps; a missing file has a zero stamp.
type fileSet map[string]fileStamp

func (s fileSet) equal(o fileSet) bool {
	if len(s) != len(o) {
		return false
	}
	for k, v := range s {
		if w, ok := o[k]; !ok || w.size != v.size || !w.mod.Equal(v.mod) {
			return false
		}
	}
	return true
}

// sameFiles reports whether s and o stat the same paths.
func (s fileSet) sameFiles(o fileSet) bool {
	if len(s) != len(o) {
		return false
	}
	for k := range s {
		if _, ok := o[k]; !ok {
			return false
		}
	}
	return true
}

// firstDiff names a file that differs between s and o, for the log.
func (s fileSet) firstDiff(o fileSet) string {
	for k, v := range s {
		if w, ok := o[k]; !ok || w.size != v.size || !w.mod.Equal(v.mod) {
			return k
		}
	}
	for k := range o {
		if _, ok := s[k]; !ok {
			return k
		}
	}
	return ""
}

// snapshot stats the files the current generation was built from.
func (a *App) snapshot() fileSet {
	cfg := a.Current().Config
	set := fileSet{}
	add := func(path string) {
		if path == "" {
			return
		}
		if fi, err := os.Stat(path); err == nil {
			set[path] = fileStamp{size: fi.Size(), mod: fi.ModTime()}
		} else {
			set[path] = fileStamp{} // missing: its appearance is a change too
		}
	}
	add(cfg.File)
	add(cfg.EnvFile)
	for _, p := range cfg.Partials {
		add(p)
	}
	if entries, err := os.ReadDir(cfg.Dir); err == nil {
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
				add(filepath.Join(cfg.Dir, e.Name()))
			}
		}
	}
	warned := false
	for _, m := range cfg.Models {
		if m.Builtin || m.Path == "" {
			continue
		}
		filepath.WalkDir(m.Path, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // a folder that vanished mid-walk: the next poll sees it
			}
			name := d.Name()
			if d.IsDir() {
				if path != m.Path && (name == "node_modules" || strings.HasPrefix(name, ".")) {
					return fs.SkipDir
				}
				return nil
			}
			if !watchedFile(name) {
				return nil
			}
			if len(set) >= maxWatchedFiles {
				if !warned {
					a.log.Warn("too many files to watch; some changes will not trigger a reload", "limit", maxWatchedFiles, "model", m.Name)
					warned = true
				}
				return fs.SkipAll
			}
			if fi, err := d.Info(); err == nil {
				set[path] = fileStamp{size: fi.Size(), mod: fi.ModTime()}
			}
			return nil
		})
	}
	return set
}

// watchedFile reports whether a model file can change what a generation is built from:
// scripts, JSON (package.json, locales, partial configs) and metadata (x.meta,
// x.meta.uk).
func watchedFile(name string) bool {
	return strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".json") ||
		strings.HasSuffix(name, ".meta") || strings.Contains(name, ".meta.")
}
