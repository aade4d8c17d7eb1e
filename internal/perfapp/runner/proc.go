package runner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The machine is shared: a compile or a test suite of someone else running beside a wrk run
// takes CPU from the server and skews the numbers. The runner therefore measures, for every
// run, how much CPU went to processes that are not part of the benchmark ("outsiders"): the
// busy time of the whole machine (/proc/stat) minus the CPU time of the benchmark's own
// processes (the server, wrk, the runner, and the PostgreSQL processes that serve the perf
// database). Short-lived processes (a compiler started and finished during the run) are
// caught too, because /proc/stat counts them.

// clockTicks is USER_HZ, the unit of /proc/stat and /proc/<pid>/stat times. Linux has used
// 100 on every architecture Go supports for decades.
const clockTicks = 100

// cpuSample is one reading of the machine and of the benchmark's processes.
type cpuSample struct {
	at    time.Time
	busy  int64          // machine busy ticks: user+nice+system+irq+softirq
	procs map[int]int64  // pid → utime+stime ticks of the benchmark's processes
	names map[int]string // pid → its command line, for the log
}

// procFS reads /proc; tests point it at a fake tree.
type procFS struct {
	root string // "/proc"
	// ours reports whether a process is part of the benchmark, from its pid and command line.
	ours func(pid int, cmdline string) bool
}

// machineBusy reads the busy ticks of all CPUs from <root>/stat.
func (p procFS) machineBusy() (int64, error) {
	data, err := os.ReadFile(filepath.Join(p.root, "stat"))
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected %s/stat: %q", p.root, line)
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system (idle iowait) irq softirq
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/stat: %w", p.root, err)
		}
		busy += n
	}
	return busy, nil
}

// procTicks reads utime+stime (all threads) of one process.
func (p procFS) procTicks(pid int) (int64, error) {
	data, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may contain spaces and parentheses: the
	// fields after it start after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("malformed stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed stat")
	}
	return u + s, nil
}

func (p procFS) cmdline(pid int) string {
	data, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
}

// sample reads the machine and every process that is ours.
func (p procFS) sample() (cpuSample, error) {
	s := cpuSample{at: time.Now(), procs: map[int]int64{}, names: map[int]string{}}
	var err error
	if s.busy, err = p.machineBusy(); err != nil {
		return s, err
	}
	entries, err := os.ReadDir(p.root)
	if err != nil {
		return s, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd := p.cmdline(pid)
		if !p.ours(pid, cmd) {
			continue
		}
		t, err := p.procTicks(pid)
		if err != nil {
			continue // it ended meanwhile
		}
		s.procs[pid], s.names[pid] = t, cmd
	}
	return s, nil
}

// outsiderCores is the CPU, in cores, that went to other work between two samples: the
// machine's busy time minus what our processes used. A process of ours that appeared
// between the samples counts with all its time; one that disappeared is lost (and counted
// as an outsider, which errs on the side of calling a run disturbed).
func outsiderCores(a, b cpuSample) float64 {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return 0
	}
	var ours int64
	for pid, t := range b.procs {
		ours += t - a.procs[pid]
	}
	other := b.busy - a.busy - ours
	return max(0, float64(other)/clockTicks/secs)
}

// machineCores is the busy CPU of the whole machine between two samples, in cores.
func machineCores(a, b cpuSample) float64 {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(b.busy-a.busy) / clockTicks / secs
}

// procSeconds is the CPU time one process used between two samples.
func procSeconds(a, b cpuSample, pid int) float64 {
	return float64(b.procs[pid]-a.procs[pid]) / clockTicks
}

// isPerfPostgres reports whether a PostgreSQL process works for the perf database: a
// backend connected to it ("postgres: 15/main: postgres ubgo_perf 127.0.0.1(5678) idle"),
// or one of the server's own processes, which our writes keep busy (WAL writer,
// checkpointer, background writer, autovacuum). Backends of other databases are outsiders.
func isPerfPostgres(cmdline, database string) bool {
	if !strings.HasPrefix(cmdline, "postgres: ") && !strings.Contains(cmdline, "/postgres ") {
		return false
	}
	if strings.Contains(cmdline, " "+database+" ") {
		return true
	}
	for _, aux := range []string{"checkpointer", "background writer", "walwriter", "autovacuum", "logical replication launcher", "stats collector", "/bin/postgres "} {
		if strings.Contains(cmdline, aux) {
			return true
		}
	}
	return false
}

// memStatus reads VmHWM (peak resident set) and VmRSS of a process, in bytes.
func memStatus(root string, pid int) (hwm, rss int64, err error) {
	data, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmHWM":
			hwm = n << 10
		case "VmRSS":
			rss = n << 10
		}
	}
	if hwm == 0 {
		return 0, 0, fmt.Errorf("no VmHWM in %s/%d/status", root, pid)
	}
	return hwm, rss, nil
}
