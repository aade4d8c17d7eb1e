package lifecycle

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Phase is one named step of a start and how long it took.
type Phase struct {
	Name     string
	Duration time.Duration
}

// PhaseError is the failure of one phase.
type PhaseError struct {
	Phase string
	Err   error
}

func (e *PhaseError) Error() string { return e.Phase + " phase: " + e.Err.Error() }

func (e *PhaseError) Unwrap() error { return e.Err }

// Sequence runs phases in order and remembers their cleanups. It is not safe for
// concurrent use: one goroutine starts a server.
type Sequence struct {
	log      *slog.Logger
	now      func() time.Time
	phases   []Phase
	cleanups []cleanup
}

type cleanup struct {
	name string
	fn   func() error
}

// NewSequence starts an empty sequence. now is the clock that times the phases
// (time.Now when nil); log receives a line per phase (nothing when nil).
func NewSequence(log *slog.Logger, now func() time.Time) *Sequence {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Sequence{log: log, now: now}
}

// Run runs phase name: it times fn, logs the duration and records it. An error from fn
// comes back as a *PhaseError; the phase's duration is recorded either way.
func (s *Sequence) Run(name string, fn func() error) error {
	start := s.now()
	err := fn()
	d := s.now().Sub(start)
	s.phases = append(s.phases, Phase{Name: name, Duration: d})
	if err != nil {
		s.log.Error("phase failed", "phase", name, "duration", d)
		return &PhaseError{Phase: name, Err: err}
	}
	s.log.Info("phase done", "phase", name, "duration", d)
	return nil
}

// OnCleanup registers what undoes a phase's work (close a store, a pool...). Cleanup runs
// the registered functions in reverse order.
func (s *Sequence) OnCleanup(name string, fn func() error) {
	s.cleanups = append(s.cleanups, cleanup{name: name, fn: fn})
}

// Cleanup runs the registered cleanups, the last registered first, once each. Every
// cleanup runs even when an earlier one fails; the failures come back joined.
func (s *Sequence) Cleanup() error {
	var errs []error
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		c := s.cleanups[i]
		if err := c.fn(); err != nil {
			s.log.Warn("cleanup failed", "step", c.name, "err", err)
			errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
		}
	}
	s.cleanups = nil
	return errors.Join(errs...)
}

// Phases returns the phases run so far, in order.
func (s *Sequence) Phases() []Phase { return append([]Phase(nil), s.phases...) }

// Total is the sum of the phases' durations.
func Total(phases []Phase) time.Duration {
	var t time.Duration
	for _, p := range phases {
		t += p.Duration
	}
	return t
}

// Format renders phases as "config=1.2ms domain=30ms ...", for a log line.
func Format(phases []Phase) string {
	var b strings.Builder
	for i, p := range phases {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(p.Duration.Round(10 * time.Microsecond).String())
	}
	return b.String()
}
