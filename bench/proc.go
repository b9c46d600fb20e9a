package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// rssInterval is how often the server's VmRSS is sampled under load.
const rssInterval = 50 * time.Millisecond

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// readStatusKB reads a "Vm..." line of /proc/PID/status, in KiB.
func readStatusKB(pid int, field string) (int64, error) {
	return readKBLine(fmt.Sprintf("/proc/%d/status", pid), field)
}

// readKBLine reads the "field: N kB" line of a /proc file.
func readKBLine(path, field string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		v := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB"))
		return strconv.ParseInt(v, 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return 0, fmt.Errorf("read %s: no %s line", path, field)
}

// cpuTime is the user+system CPU time the process pid has used so far.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("proc stat: %w", err)
	}
	// The command name (field 2) may contain spaces; fields are counted
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: malformed")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: malformed")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("proc stat: malformed times")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// machineBusy is the CPU time all CPUs of the machine have spent on
// anything but idling, from the first line of /proc/stat.
func machineBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("proc stat: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("proc stat: malformed")
	}
	var busy int64
	// user nice system idle iowait irq softirq steal; guest time is
	// already counted in user.
	for i, v := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: %w", err)
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// commandCPUTime is the CPU time used so far by every process whose command
// name is comm (the PostgreSQL server's processes are all "postgres").
// Processes that exited are no longer counted, so a difference between two
// readings is a lower bound.
func commandCPUTime(comm string) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(data)) != comm {
			continue
		}
		if t, err := cpuTime(pid); err == nil {
			total += t
		}
	}
	return total
}

// selfCPUTime is the CPU time this process (the load generator) has used.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssSampler polls a process's VmRSS and remembers the highest value.
type rssSampler struct {
	pid  int
	stop chan struct{}
	done sync.WaitGroup
	peak int64
}

// sampleRSS starts polling pid every rssInterval until Stop.
func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{})}
	s.sample()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(rssInterval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	if kb, err := readStatusKB(s.pid, "VmRSS"); err == nil && kb > s.peak {
		s.peak = kb
	}
}

// Stop ends the polling, takes a last sample and returns the peak in KiB.
func (s *rssSampler) Stop() int64 {
	close(s.stop)
	s.done.Wait()
	s.sample()
	return s.peak
}
