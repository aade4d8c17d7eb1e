// Package gctune keeps Go's garbage collector from running many times a second when the
// live heap is small.
//
// The collector starts a cycle once the heap has grown by GOGC % of what the last cycle
// found live (and at 4 MiB × GOGC/100 at least). An application server often has a small
// live heap (the domain, a few JavaScript runtimes: a few MB) and a high allocation rate
// (every request allocates its buffers and objects), so with GOGC=100 it collects dozens of
// times a second. Each cycle costs marking work, and while it marks, every pointer write
// goes through a write barrier; the JavaScript interpreter writes pointers all the time,
// so a JS endpoint pays more for it than a Go one (docs/performance.md, finding 9).
//
// A Tuner raises GOGC after every cycle so that the next heap goal is at least the live
// heap plus MinHeap: with a live heap of 3 MB and MinHeap of 64 MiB the collector runs
// about twenty times less often, at the price of up to MinHeap of garbage between cycles.
// Once the live heap is MinHeap × 100/Base or more, the tuner leaves GOGC at Base, so
// large applications keep the default proportional behaviour and their memory use.
// GOMEMLIMIT still applies: the runtime collects earlier when the limit is near, whatever
// GOGC says.
//
// The tuner works through a cleanup (runtime.AddCleanup) on a sentinel object that
// becomes unreachable at once, so it runs after each cycle on the runtime's cleanup
// goroutine and costs nothing between cycles.
package gctune

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
)

// Defaults of Options.
const (
	DefaultMinHeap = 64 << 20
	DefaultBase    = 100
	DefaultMax     = 5000
)

// Options configure a Tuner.
type Options struct {
	// MinHeap is the least headroom in bytes the heap may grow by before the next
	// collection. Default DefaultMinHeap.
	MinHeap uint64
	// Base is the GOGC percentage used once the live heap is large. Default 100.
	Base int
	// Max bounds the GOGC percentage the tuner sets, for a nearly empty heap. Default 5000.
	Max int
}

// Percent returns the GOGC percentage that lets a heap with live bytes grow by at least
// minHeap (and by at least base %) before the next collection, at most max.
func Percent(live, minHeap uint64, base, max int) int {
	if live == 0 {
		return max
	}
	p := base
	if headroom := live * uint64(base) / 100; headroom < minHeap {
		want := (minHeap*100 + live - 1) / live // ceil(minHeap / live × 100)
		if want > uint64(max) {
			return max
		}
		p = int(want)
	}
	return min(p, max)
}

// Tuner adjusts GOGC after each garbage collection; see the package documentation.
type Tuner struct {
	opts Options

	mu      sync.Mutex
	stopped bool
	percent int
	before  int // GOGC when the tuner started, restored by Stop
	sample  []metrics.Sample
}

// Start begins tuning and returns the tuner. It sets GOGC for the current live heap at
// once and adjusts it after every cycle until Stop.
func Start(opts Options) *Tuner {
	if opts.MinHeap == 0 {
		opts.MinHeap = DefaultMinHeap
	}
	if opts.Base <= 0 {
		opts.Base = DefaultBase
	}
	if opts.Max < opts.Base {
		opts.Max = max(DefaultMax, opts.Base)
	}
	t := &Tuner{opts: opts, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.mu.Lock()
	t.before = debug.SetGCPercent(opts.Base)
	t.percent = opts.Base
	t.adjustLocked()
	t.mu.Unlock()
	t.arm()
	return t
}

// Stop ends tuning and restores the GOGC of before Start.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.stopped = true
	debug.SetGCPercent(t.before)
}

// Percent is the GOGC percentage the tuner set last.
func (t *Tuner) Percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent
}

// sentinel is allocated for one cycle; it holds a pointer so that it gets an object of
// its own (the tiny allocator batches pointer-free objects, which delays their cleanup).
type sentinel struct{ _ *byte }

func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), (*Tuner).afterGC, t)
}

func (t *Tuner) afterGC() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.adjustLocked()
	t.arm()
}

func (t *Tuner) adjustLocked() {
	metrics.Read(t.sample)
	var live uint64
	if s := t.sample[0]; s.Value.Kind() == metrics.KindUint64 {
		live = s.Value.Uint64()
	}
	if live == 0 {
		return // no cycle has finished yet: keep Base until one has measured the heap
	}
	p := Percent(live, t.opts.MinHeap, t.opts.Base, t.opts.Max)
	// SetGCPercent recomputes the pacer under the heap lock: skip changes within 5 %.
	if d := p - t.percent; d*20 > t.percent || -d*20 > t.percent {
		debug.SetGCPercent(p)
		t.percent = p
	}
}

// ParseSize reads a size such as "64MiB", "512MB", "1GiB" or a number of bytes. "off"
// and "0" give 0.
func ParseSize(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty size")
	}
	if strings.EqualFold(s, "off") {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := uint64(1)
	num := s
	for _, u := range units {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			mult, num = u.mult, strings.TrimSpace(s[:len(s)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, KiB, MiB or GiB (or off)", s)
	}
	if n > (1<<63)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// Stats are the collector's figures for /stat.
type Stats struct {
	GOGC       uint64 `json:"gogc"`            // the GOGC percentage in force
	Cycles     uint64 `json:"gc_cycles"`       // collections since the process started
	LiveBytes  uint64 `json:"heap_live_bytes"` // what the last collection found live
	GoalBytes  uint64 `json:"heap_goal_bytes"` // the heap size that starts the next one
	TotalBytes uint64 `json:"memory_bytes"`    // all memory the Go runtime has mapped
	Goroutines uint64 `json:"goroutines"`
}

var statNames = []string{
	"/gc/gogc:percent", "/gc/cycles/total:gc-cycles", "/gc/heap/live:bytes",
	"/gc/heap/goal:bytes", "/memory/classes/total:bytes", "/sched/goroutines:goroutines",
}

// ReadStats reads the collector's figures (a few microseconds: no stop-the-world).
func ReadStats() Stats {
	s := make([]metrics.Sample, len(statNames))
	for i, n := range statNames {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	return Stats{GOGC: v(0), Cycles: v(1), LiveBytes: v(2), GoalBytes: v(3), TotalBytes: v(4), Goroutines: v(5)}
}
