package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name          string
		live, minHeap uint64
		base, max     int
		want          int
	}{
		{"small heap gets the headroom", 4 * mib, 64 * mib, 100, 5000, 1600},
		{"rounds up", 3 * mib, 64 * mib, 100, 5000, 2134},
		{"large heap keeps base", 64 * mib, 64 * mib, 100, 5000, 100},
		{"larger heap keeps base", 1000 * mib, 64 * mib, 100, 5000, 100},
		{"just below the switch", 63 * mib, 64 * mib, 100, 5000, 102},
		{"base above 100 counts", 40 * mib, 64 * mib, 200, 5000, 200},
		{"tiny heap is capped", 10 << 10, 64 * mib, 100, 5000, 5000},
		{"no measurement yet", 0, 64 * mib, 100, 5000, 5000},
		{"no headroom asked", 4 * mib, 0, 100, 5000, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Percent(c.live, c.minHeap, c.base, c.max); got != c.want {
				t.Errorf("Percent(%d, %d, %d, %d) = %d, want %d", c.live, c.minHeap, c.base, c.max, got, c.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"64MiB", 64 << 20, false},
		{"64 mib", 64 << 20, false},
		{"1GiB", 1 << 30, false},
		{"512KB", 512e3, false},
		{"100MB", 100e6, false},
		{"4096", 4096, false},
		{"4096B", 4096, false},
		{"off", 0, false},
		{"OFF", 0, false},
		{"0", 0, false},
		{"", 0, true},
		{"-5MiB", 0, true},
		{"1.5GiB", 0, true},
		{"lots", 0, true},
		{"MiB", 0, true},
		{"99999999999999GiB", 0, true},
	} {
		got, err := ParseSize(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

// TestTunerFollowsTheLiveHeap runs real collections: with a small live heap the tuner
// raises GOGC, with a live heap above the headroom it goes back to Base, and Stop restores
// what was there before.
func TestTunerFollowsTheLiveHeap(t *testing.T) {
	before := debug.SetGCPercent(77)
	defer debug.SetGCPercent(before)

	tu := Start(Options{MinHeap: 256 << 20, Base: 100, Max: 100000})
	waitFor(t, "a high GOGC for a small heap", func() bool { return tu.Percent() > 1000 })

	// A live heap of 400 MiB is above the headroom: the next cycles bring GOGC to 100.
	big := make([][]byte, 400)
	for i := range big {
		big[i] = make([]byte, 1<<20)
	}
	waitFor(t, "base GOGC for a large heap", func() bool { return tu.Percent() == 100 })
	runtime.KeepAlive(big)
	big = nil

	waitFor(t, "a high GOGC again once the heap is small", func() bool { return tu.Percent() > 1000 })
	tu.Stop()
	if got := debug.SetGCPercent(77); got != 77 {
		t.Errorf("after Stop GOGC = %d, want the 77 of before Start", got)
	}
}

// waitFor forces collections until cond holds (the tuner acts after each one, on the
// runtime's cleanup goroutine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

func TestReadStats(t *testing.T) {
	before := ReadStats()
	runtime.GC()
	s := ReadStats()
	if s.Cycles <= before.Cycles || s.LiveBytes == 0 || s.GoalBytes < s.LiveBytes || s.TotalBytes < s.LiveBytes || s.Goroutines == 0 || s.GOGC == 0 {
		t.Errorf("ReadStats after a collection = %+v (before %+v)", s, before)
	}
}
