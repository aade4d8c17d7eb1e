package domain

import (
	"log/slog"

	"github.com/ubgo/ubgo/config"
)

// FromConfig builds the Input for Load from a loaded configuration. The caller still sets
// Transform (the hook runner) and may replace Logger.
func FromConfig(cfg *config.Config, log *slog.Logger) Input {
	app, _ := cfg.Raw["application"].(map[string]any)
	dom, _ := app["domain"].(map[string]any)
	in := Input{
		DefaultLang:    str(app, "defaultLang"),
		Languages:      strList(dom["supportedLanguages"]),
		ImplicitMixins: strList(dom["implicitlyAddedMixins"]),
		Connections:    []string{},
		Expand:         cfg.Expand,
		ServerConfig:   cfg.Raw,
		Logger:         log,
	}
	for _, c := range asSlice(app["connections"]) {
		if cm, ok := c.(map[string]any); ok {
			in.Connections = append(in.Connections, str(cm, "name"))
		}
	}
	for _, b := range asSlice(app["blobStores"]) {
		bm, ok := b.(map[string]any)
		if !ok {
			continue
		}
		in.BlobStores = append(in.BlobStores, str(bm, "name"))
		if boolOr(bm, "isDefault", false) {
			in.DefaultBlobStore = str(bm, "name")
		}
	}
	for _, m := range cfg.Models {
		in.Models = append(in.Models, ModelSource{Name: m.Name, Path: m.Path, FS: m.FS, Version: m.Version,
			ModuleName: m.ModuleName, PublicPath: m.PublicPath, IsPublic: m.IsPublic, Builtin: m.Builtin})
	}
	return in
}
