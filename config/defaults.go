package config

import (
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// applyEarlyDefaults sets the defaults UnityBase sets right after parsing the main config
// (reference §1.4 step 6). Values of a wrong type are left for the schema check to report.
func applyEarlyDefaults(root map[string]any) {
	app, ok := objectAt(root, "application")
	if !ok {
		return
	}
	httpPath := ""
	if hs, ok := root["httpServer"].(map[string]any); ok {
		httpPath, _ = hs["path"].(string)
	}
	if httpPath == "" {
		httpPath = "/"
	}
	app["name"] = httpPath
	if isEmpty(app["defaultLang"]) {
		app["defaultLang"] = "en"
	}
	if isEmpty(app["domain"]) {
		app["domain"] = map[string]any{"models": []any{}}
	}
	if dom, ok := app["domain"].(map[string]any); ok && dom["models"] == nil {
		dom["models"] = []any{}
	}
}

// applyLateDefaults completes the merged config (reference §1.4 step 9).
func applyLateDefaults(raw map[string]any, dir string) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	if isEmpty(raw["security"]) {
		raw["security"] = map[string]any{}
	}
	if isEmpty(raw["uiSettings"]) {
		raw["uiSettings"] = map[string]any{}
	}
	app, _ := objectAt(raw, "application")
	if app != nil {
		if dom, ok := app["domain"].(map[string]any); ok {
			mixins, isList := dom["implicitlyAddedMixins"].([]any)
			if dom["implicitlyAddedMixins"] == nil || (isList && len(mixins) == 0) {
				mixins, isList = []any{"audit"}, true
			}
			if sec, ok := raw["security"].(map[string]any); ok && isList {
				if mt, ok := sec["multitenancy"].(map[string]any); ok && mt["enabled"] == true && !containsString(mixins, "multitenancy") {
					mixins = append(mixins, "multitenancy")
				}
			}
			if isList {
				dom["implicitlyAddedMixins"] = mixins
			}
			if dom["supportedLanguages"] == nil {
				var langs []any
				if conns, ok := app["connections"].([]any); ok {
					for _, c := range conns {
						cm, _ := c.(map[string]any)
						sl, _ := cm["supportLang"].([]any)
						for _, lang := range sl {
							if s, ok := lang.(string); ok && !containsString(langs, s) {
								langs = append(langs, s)
							}
						}
					}
				}
				if len(langs) == 0 {
					langs = []any{app["defaultLang"]}
				}
				dom["supportedLanguages"] = langs
			}
		}
		if app["blobStores"] == nil {
			app["blobStores"] = []any{}
		}
		if stores, ok := app["blobStores"].([]any); ok {
			for _, s := range stores {
				sm, ok := s.(map[string]any)
				if !ok {
					continue
				}
				if p, ok := sm["path"].(string); ok && p != "" {
					sm["path"] = abs(p)
					if isEmpty(sm["tempPath"]) {
						sm["tempPath"] = filepath.Join(sm["path"].(string), "_temp")
					}
				}
				if p, ok := sm["tempPath"].(string); ok && p != "" {
					sm["tempPath"] = abs(p)
				}
			}
		}
		if isEmpty(app["customSettings"]) {
			app["customSettings"] = map[string]any{}
		}
	}
	if isEmpty(raw["httpServer"]) {
		raw["httpServer"] = map[string]any{"serverType": "None"}
	}
	hs, ok := raw["httpServer"].(map[string]any)
	if !ok {
		return
	}
	if isEmpty(hs["path"]) {
		hs["path"] = "/"
	}
	if p, ok := hs["inetPub"].(string); ok && p != "" {
		hs["inetPub"] = abs(p)
	}
	if hs["serverType"] == "None" {
		return
	}
	if isEmpty(hs["externalURL"]) {
		hs["externalURL"] = serverURL(hs)
	}
	if hs["reverseProxy"] == nil {
		hs["reverseProxy"] = map[string]any{}
	}
	if rp, ok := hs["reverseProxy"].(map[string]any); ok && rp["kind"] == "nginx" {
		setDefault(rp, "remoteIPHeader", "X-Real-IP")
		setDefault(rp, "remoteConnIDHeader", "X-Conn-ID")
		setDefault(rp, "sendFileHeader", "X-Accel-Redirect")
		if isEmpty(rp["sendFileLocationRoot"]) {
			if ext, ok := hs["externalURL"].(string); ok {
				if u, err := url.Parse(ext); err == nil {
					rp["sendFileLocationRoot"] = strings.ReplaceAll(u.Hostname(), ".", "-")
				}
			}
		}
		if _, ok := rp["serveStatic"]; !ok {
			rp["serveStatic"] = true
		}
	}
}

// serverURL is the URL the server listens on, as UnityBase computes externalURL.
func serverURL(hs map[string]any) string {
	scheme := "http://"
	if hs["protocol"] == "https" {
		scheme = "https://"
	}
	host, _ := hs["host"].(string)
	if len(host) <= 1 || strings.HasPrefix(host, "unix:") {
		host = "localhost"
	}
	u := scheme + host
	if port := portString(hs["port"]); port != "" {
		u += ":" + port
	}
	if p, _ := hs["path"].(string); strings.Trim(p, "/") != "" {
		u += "/" + strings.Trim(p, "/")
	}
	return u
}

// portString renders a port given as a string or a number.
func portString(v any) string {
	switch p := v.(type) {
	case string:
		return p
	case float64:
		return strconv.FormatFloat(p, 'f', -1, 64)
	}
	return ""
}

func setDefault(m map[string]any, key string, v any) {
	if isEmpty(m[key]) {
		m[key] = v
	}
}

// objectAt returns m[key] as an object, creating it when absent or null.
func objectAt(m map[string]any, key string) (map[string]any, bool) {
	switch v := m[key].(type) {
	case map[string]any:
		return v, true
	case nil:
		o := map[string]any{}
		m[key] = o
		return o, true
	}
	return nil, false
}

// isEmpty reports a JavaScript-falsy absent value: missing, null or "".
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	}
	return false
}

func containsString(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
