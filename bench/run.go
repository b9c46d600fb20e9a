package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// settle is how long the server is left alone (no requests) before its idle RSS is read
// after setup.
const settle = 5 * time.Second

// run does the whole benchmark: build, start, set up, load, report. The
// report is returned even when a later step fails, with what was measured.
func run(ctx context.Context, opts *options, logw io.Writer) (rep *Report, err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "bench: "+format+"\n", args...) }

	dir, bin, cleanup, err := workspace(ctx, opts, "gatehouse-bench-", logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	rep = &Report{
		Machine:     describeMachine(bin),
		Backend:     "sqlite",
		Concurrency: opts.Concurrency,
		Duration:    opts.Duration.String(),
		Warmup:      opts.Warmup.String(),
		Binary:      bin,
	}

	st := storageTarget{dataDir: filepath.Join(dir, "data")}
	// dbComm names the database server's processes, whose CPU is shown
	// separately (SQLite runs inside the gatehouse process).
	dbComm := ""
	if opts.DB != "" {
		rep.Backend = "postgres"
		dbComm = "postgres"
		dsn, drop, err := freshSchema(ctx, opts.DB)
		if err != nil {
			return nil, err
		}
		defer func() {
			// The server is stopped by then (deferred later, runs first).
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if derr := drop(dctx); derr != nil {
				logf("drop schema: %v", derr)
			}
		}()
		st.dsn = dsn
	}

	env := childEnv()
	if opts.AuditRetention > 0 {
		cfg, err := auditRetentionConfig(dir, opts.AuditRetention)
		if err != nil {
			return nil, err
		}
		env = append(env, "GATEHOUSE_CONFIG_FILE="+cfg)
		rep.AuditRetention, rep.retention = opts.AuditRetention.String(), opts.AuditRetention
	}
	var srv, srvB *server
	if opts.Replicas == 2 {
		redisURL, cleanup, err := redisWithPrefix(ctx, opts.RedisURL)
		if err != nil {
			return nil, err
		}
		defer func() {
			// Both servers are stopped by then (deferred later, run first).
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if cerr := cleanup(fctx); cerr != nil {
				logf("delete redis keys: %v", cerr)
			}
		}()
		rep.Backend = "postgres, 2 replicas, redis"
		rep.Redis = redisURL
		// The same secret key for both, and for the CLI.
		env = append(env, "GATEHOUSE_SECRET_KEY="+randomHex(32))
		logf("starting two gatehouse servers (postgres, %s)", redisURL)
		srv, srvB, err = startReplicas(ctx, bin, dir, st, env, redisURL)
		if srvB != nil {
			defer func() {
				rep.MemoryB.HWMKB, _ = readStatusKB(srvB.pid, "VmHWM")
				rep.MemoryB.PeakKB = rep.MemoryB.IdleKB
				for _, w := range rep.Workloads {
					rep.MemoryB.PeakKB = max(rep.MemoryB.PeakKB, w.PeakRSSKBB)
				}
				if serr := srvB.stop(); serr != nil {
					logf("stop replica b: %v", serr)
				}
			}()
		}
		if err != nil {
			if srvB != nil {
				logf("replica b log (last lines):\n%s", srvB.logTail(40))
			}
			if srv != nil {
				logf("replica a log (last lines):\n%s", srv.logTail(40))
				srv.stop()
			}
			return nil, err
		}
	} else {
		logf("starting gatehouse server (%s)", rep.Backend)
		srv, err = startServer(ctx, bin, dir, st, env)
		if err != nil {
			if srv != nil {
				logf("server log (last lines):\n%s", srv.logTail(40))
			}
			return nil, err
		}
	}
	pids := []int{srv.pid}
	if srvB != nil {
		pids = append(pids, srvB.pid)
		rep.ServerPIDB = srvB.pid
		rep.MemoryB.StartKB, _ = readStatusKB(srvB.pid, "VmRSS")
		logf("replica b pid %d on %s", srvB.pid, srvB.base)
	}
	defer func() {
		rep.Memory.HWMKB, _ = readStatusKB(srv.pid, "VmHWM")
		rep.Memory.PeakKB = rep.Memory.IdleKB
		for _, w := range rep.Workloads {
			rep.Memory.PeakKB = max(rep.Memory.PeakKB, w.PeakRSSKB)
		}
		rep.evaluate()
		if serr := srv.stop(); serr != nil {
			logf("stop server: %v", serr)
		}
		if err != nil {
			logf("server log (last lines):\n%s", srv.logTail(40))
		}
	}()
	rep.ServerPID = srv.pid
	rep.Memory.StartKB, _ = readStatusKB(srv.pid, "VmRSS")
	logf("server pid %d on %s", srv.pid, srv.base)

	logf("setting up clients and user with the CLI")
	fx, err := setup(ctx, bin, dir, st, env, srv.base, opts)
	if err != nil {
		return rep, err
	}
	defer fx.close()
	fx.bases = []string{srv.base}
	if srvB != nil {
		fx.bases = append(fx.bases, srvB.base)
	}

	if err := sleepCtx(ctx, settle); err != nil {
		return rep, err
	}
	rep.Memory.IdleKB, _ = readStatusKB(srv.pid, "VmRSS")
	if srvB != nil {
		rep.MemoryB.IdleKB, _ = readStatusKB(srvB.pid, "VmRSS")
	}

	if opts.SizeEvery > 0 && opts.DB == "" {
		sizes := sampleDBSize(st.dataDir, opts.SizeEvery, logf)
		defer func() { rep.DBSizes = sizes.Stop() }()
	}
	for _, name := range opts.Workloads {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		w := fx.workload(name)
		logf("running %s: %d workers, %s warm-up + %s", name, opts.Concurrency, opts.Warmup, opts.Duration)
		res, err := runWorkload(ctx, w, opts, pids, dbComm)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", name, err)
		}
		rep.Workloads = append(rep.Workloads, res)
		if opts.DB == "" {
			// A long run (make bench-soak) shows whether the database
			// grows without bound: the audit trail and expired rows.
			logf("after %s: SQLite database %s", name, sqliteSize(st.dataDir))
		}
	}
	return rep, nil
}

// sqliteSize describes the size of the SQLite database in dataDir and of
// its write-ahead log.
func sqliteSize(dataDir string) string {
	size := func(name string) int64 {
		fi, err := os.Stat(filepath.Join(dataDir, name))
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	return fmt.Sprintf("%.1f MiB, WAL %.1f MiB", float64(size("gatehouse.db"))/(1<<20), float64(size("gatehouse.db-wal"))/(1<<20))
}

// workspace makes the temporary directory of a run and builds the
// gatehouse binary into it, unless --binary names one. cleanup removes the
// directory, or with --keep says where it is.
func workspace(ctx context.Context, opts *options, prefix string, logf func(string, ...any)) (dir, bin string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", nil, fmt.Errorf("temp dir: %w", err)
	}
	cleanup = func() {
		if opts.Keep {
			logf("kept %s", dir)
			return
		}
		os.RemoveAll(dir)
	}
	bin = opts.Binary
	if bin == "" {
		bin = filepath.Join(dir, "gatehouse")
		logf("building ./cmd/gatehouse (CGO_ENABLED=0)")
		err = buildBinary(ctx, bin)
	} else if bin, err = filepath.Abs(bin); err != nil {
		err = fmt.Errorf("--binary: %w", err)
	}
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	return dir, bin, cleanup, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// childEnv is the environment of the server and CLI processes: this
// process's, without any GATEHOUSE_* variable (a GATEHOUSE_DB in the
// caller's shell must not point the benchmark at a real database), plus a
// random admin password.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) >= 10 && kv[:10] == "GATEHOUSE_" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GATEHOUSE_ADMIN_PASSWORD="+randomToken(18))
}
