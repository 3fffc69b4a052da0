package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStats is what one child process cost.
type procStats struct {
	Wall time.Duration
	// Peak is the child's peak resident set size: MaxRSS when that is
	// above ParentHWM, else SampledHWM (PeakFrom says which).
	Peak     int64
	PeakFrom string // "rusage" or "sampled"
	// MaxRSS is ru_maxrss from wait4. Go starts children with vfork, and
	// Linux then carries the parent's own peak into the child's figure at
	// exec: MaxRSS is max(ParentHWM, the child's true peak), exact only
	// when it exceeds ParentHWM.
	MaxRSS int64
	// SampledHWM is the highest VmHWM (per address space, so not
	// inherited) read from /proc/PID/status every 10ms; it misses only
	// growth in the child's last few milliseconds.
	SampledHWM int64
	ParentHWM  int64 // this process's own peak RSS when the child ended
	CPU        time.Duration
	Stdout     []byte
}

// runMeasured runs a child process to completion and measures it. Its
// stderr is passed through; its stdout is captured.
func runMeasured(ctx context.Context, env []string, name string, args ...string) (procStats, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return procStats{}, err
	}
	stopSampling := make(chan struct{})
	sampled := make(chan int64, 1)
	go func() { sampled <- sampleHWM(cmd.Process.Pid, stopSampling) }()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stopSampling)
	st := procStats{Wall: wall, SampledHWM: <-sampled, Stdout: stdout.Bytes(), ParentHWM: selfHWM()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		st.MaxRSS = ru.Maxrss << 10 // KiB on Linux
		st.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	st.Peak, st.PeakFrom = st.MaxRSS, "rusage"
	if st.MaxRSS <= st.ParentHWM {
		st.Peak, st.PeakFrom = st.SampledHWM, "sampled"
	}
	if err != nil {
		return st, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stdout.String())
	}
	return st, nil
}

// sampleHWM polls a process's VmHWM until stop closes and returns the
// highest value seen, in bytes.
func sampleHWM(pid int, stop <-chan struct{}) int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	var best int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if v := statusField(path, "VmHWM:"); v > best {
			best = v
		}
		select {
		case <-stop:
			return best
		case <-tick.C:
		}
	}
}

// selfHWM is this process's own peak RSS in bytes.
func selfHWM() int64 { return statusField("/proc/self/status", "VmHWM:") }

// statusField reads a "Name:   123 kB" line of a /proc status file, in
// bytes; 0 if absent.
func statusField(path, field string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			v, _ := strconv.ParseInt(f[0], 10, 64)
			return v << 10
		}
	}
	return 0
}

// parseByteSize reads 512MiB, 2GB, 1048576 (the dormouse CLI's syntax).
func parseByteSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 256MiB)", s)
	}
	return int64(v * float64(mult)), nil
}

// dirBytes sums the sizes of the files under dir whose names end in suffix.
func dirBytes(dir, suffix string) (n int64, files int) {
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), suffix) {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
			files++
		}
		return nil
	})
	return n, files
}

// procCPU is the CPU time process pid has used (0 for pid 0 or if
// unknown), from /proc/PID/stat in clock ticks of 10ms (Linux's USER_HZ).
func procCPU(pid int) time.Duration {
	f := procStat(pid) // f[0] is field 3: utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0
	}
	return ticksOf(f[11:13])
}

// procStat returns the fields of /proc/PID/stat from the third (state)
// on, or nil.
func procStat(pid int) []string {
	if pid == 0 {
		return nil
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.Fields(rest)
}

// ticksOf adds up fields of clock ticks (10ms, Linux's USER_HZ).
func ticksOf(fields []string) time.Duration {
	var ticks int64
	for _, s := range fields {
		n, _ := strconv.ParseInt(s, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// procTreeCPU is the CPU time process pid and its children have used:
// its own, that of the children it has waited for (cutime, cstime), and
// that of its live children. PostgreSQL's postmaster forks a backend per
// connection and reaps it when the client leaves, so this counts every
// backend of a pgbench run, whether it is still there or not.
func procTreeCPU(pid int) time.Duration {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	total := ticksOf(f[11:15])
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	parent := strconv.Itoa(pid)
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if cf := procStat(child); len(cf) >= 13 && cf[1] == parent {
			total += ticksOf(cf[11:13])
		}
	}
	return total
}

// machineCPU is the time the machine's CPUs have spent busy and idle
// (idle and waiting for I/O) since boot, from /proc/stat.
func machineCPU() (busy, idle time.Duration) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	return ticksOf(append(f[1:4:4], f[6:9]...)), ticksOf(f[4:6])
}
