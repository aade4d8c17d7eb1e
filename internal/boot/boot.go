// Package boot runs the startup phases that turn a configuration file into a built
// application: read the configuration, load the models' metadata, run the transformation
// hooks and build the domain. The commands of cmd/ubgo and the tests share it, so that
// what `ubgo check` accepts is exactly what `ubgo serve` will start.
package boot

import (
	"context"
	"log/slog"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/models"
	"github.com/ubgo/ubgo/runtime/metahook"
)

// Options say where the application is.
type Options struct {
	ConfigFile string // -cfg; see config.Options.File
	EnvFile    string // -env; see config.Options.EnvFile
	WorkDir    string
	LookupEnv  func(string) (string, bool) // nil: the process environment
	Logger     *slog.Logger
	// HookTimeout bounds all transformation hooks together; 0 means 30 seconds.
	HookTimeout time.Duration
}

// App is a loaded application.
type App struct {
	Config *config.Config
	Domain *domain.Domain
	Phases []Phase // how long each startup phase took, in order
}

// Phase is the duration of one startup phase.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Load reads the configuration and builds the domain. Errors from the configuration are
// returned as they are (joined *config.Error values), errors from metadata as joined
// *domain.Error values or a *metahook.Error.
func Load(ctx context.Context, opts Options) (*App, error) {
	app := &App{}
	start := time.Now()
	cfg, err := LoadConfig(opts)
	if err != nil {
		return nil, err
	}
	app.Config = cfg
	app.Phases = append(app.Phases, Phase{"config", time.Since(start)})

	start = time.Now()
	dom, err := BuildDomain(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	app.Domain = dom
	app.Phases = append(app.Phases, Phase{"metadata", time.Since(start)})
	return app, nil
}

// LoadConfig is Load's first phase: it reads and checks the configuration. Errors are
// joined *config.Error values.
func LoadConfig(opts Options) (*config.Config, error) {
	start := time.Now()
	cfg, err := config.Load(config.Options{File: opts.ConfigFile, EnvFile: opts.EnvFile, WorkDir: opts.WorkDir,
		LookupEnv: opts.LookupEnv, Builtin: models.Builtin})
	if err != nil {
		return nil, err
	}
	logger(opts).Info("configuration loaded", "file", cfg.File, "models", len(cfg.Models), "duration", time.Since(start))
	return cfg, nil
}

// BuildDomain is Load's second phase: it loads the models' metadata, runs the
// transformation hooks (bounded by opts.HookTimeout) and builds the domain. Errors are
// joined *domain.Error values or a *metahook.Error.
func BuildDomain(ctx context.Context, cfg *config.Config, opts Options) (*domain.Domain, error) {
	log := logger(opts)
	start := time.Now()
	in := domain.FromConfig(cfg, log)
	timeout := opts.HookTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	in.Transform = func(ctx context.Context, hooks []domain.Hook, domainJSON, serverConfig map[string]any) (map[string]any, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		mh := make([]metahook.Hook, len(hooks))
		for i, h := range hooks {
			mh[i] = metahook.Hook{Model: h.Model, FS: h.FS, Dir: h.Dir, File: h.File}
		}
		return metahook.Run(ctx, log, mh, domainJSON, serverConfig)
	}
	dom, err := domain.Load(ctx, in)
	if err != nil {
		return nil, err
	}
	log.Info("domain built", "entities", len(dom.Entities), "attributes", dom.AttributeCount(),
		"warnings", len(dom.Warnings), "duration", time.Since(start))
	return dom, nil
}

func logger(opts Options) *slog.Logger {
	if opts.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return opts.Logger
}
