package jsvm

import "github.com/ubgo/ubgo/domain"

// AllMethods lists the registered methods of every entity of the domain (Methods), the
// table entity-level security is computed over (els.Build, els.Start).
func AllMethods(p *Program) map[string][]string {
	out := make(map[string][]string, len(p.dom.Entities))
	for _, e := range p.dom.Entities {
		if ms := p.Methods(e.Name); len(ms) > 0 {
			out[e.Name] = ms
		}
	}
	return out
}

// EntityMethods is Methods in the form server.Options.EntityMethods takes.
func EntityMethods(p *Program) func(e *domain.Entity) []string {
	return func(e *domain.Entity) []string { return p.Methods(e.Name) }
}
