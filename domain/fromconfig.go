package domain

import (
	"log/slog"

	"github.com/ubgo/ubgo/config"
)

// FromConfig builds the Input for Load from a loaded configuration. The caller still sets
// Transform (the hook runner) and may replace Logger.
func FromConfig(cfg *config.Config, log *slog.Logger) Input {
	app := cfg.Application
	in := Input{
		DefaultLang:    app.DefaultLang,
		Languages:      app.Domain.SupportedLanguages,
		ImplicitMixins: app.Domain.ImplicitlyAddedMixins,
		Connections:    []string{},
		Expand:         cfg.Expand,
		ServerConfig:   cfg.Raw,
		Logger:         log,
	}
	for _, c := range app.Connections {
		in.Connections = append(in.Connections, c.Name)
	}
	for _, b := range app.BlobStores {
		in.BlobStores = append(in.BlobStores, b.Name)
		if b.IsDefault {
			in.DefaultBlobStore = b.Name
		}
	}
	for _, m := range cfg.Models {
		in.Models = append(in.Models, ModelSource{Name: m.Name, Path: m.Path, FS: m.FS, Version: m.Version,
			ModuleName: m.ModuleName, PublicPath: m.PublicPath, IsPublic: m.IsPublic, Builtin: m.Builtin})
	}
	return in
}
