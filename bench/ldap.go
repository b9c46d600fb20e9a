package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
)

// --ldap: sign-ins per second through the LDAP connector
// (internal/connector/ldap) against a real slapd that ldaptest starts on
// 127.0.0.1 with docs/examples/ldap.ldif (its per-operation log off). Each
// of --concurrency workers signs ada and bob in, in turn, back to back: a
// user search, a bind as the user and a group search, on pooled
// connections (pool_size = --ldap-pool). Workloads:
//
//	starttls  ldap:// with StartTLS and the test CA
//	ldaps     ldaps:// with the test CA
//	wrong     StartTLS, a wrong password every time (a search and a
//	          refused bind)
//
// It reports sign-ins/s, latency, slapd's CPU, and the binds and searches
// the connector sent per sign-in (counted over opsSample sign-ins one
// after another once the pool is warm).
const (
	ldapStartTLS = "starttls"
	ldapLDAPS    = "ldaps"
	ldapWrong    = "wrong"
)

// opsSample is how many sign-ins the operations per sign-in are counted
// over, after the measurement.
const opsSample = 100

var ldapAliases = map[string]string{
	ldapStartTLS: ldapStartTLS, "ldap": ldapStartTLS,
	ldapLDAPS: ldapLDAPS,
	ldapWrong: ldapWrong, "wrong-password": ldapWrong,
}

// LDAPReport is the result of --ldap.
type LDAPReport struct {
	Machine     Machine      `json:"machine"`
	Slapd       string       `json:"slapd"`
	Concurrency int          `json:"concurrency"`
	PoolSize    int          `json:"pool_size"`
	Duration    string       `json:"duration"`
	Warmup      string       `json:"warmup"`
	Workloads   []LDAPResult `json:"workloads"`
}

// LDAPResult is one workload: WorkloadResult's RPS are sign-ins per
// second, and ServerCPUPct is slapd's.
type LDAPResult struct {
	WorkloadResult
	BindsPerSignIn    float64 `json:"binds_per_sign_in"`
	SearchesPerSignIn float64 `json:"searches_per_sign_in"`
}

// ldapWorker signs one person in per do.
type ldapWorker struct {
	c        *ldap.Connector
	user, pw string
	wantErr  bool
}

func (w *ldapWorker) do(ctx context.Context, _ *http.Client) error {
	id, err := w.c.Login(ctx, w.user, w.pw)
	if w.wantErr {
		if err == nil {
			return fmt.Errorf("%s signed in with a wrong password", w.user)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if len(id.Groups) != 1 {
		return fmt.Errorf("%s: groups %q", w.user, id.Groups)
	}
	return nil
}

func (w *ldapWorker) recover(context.Context) bool { return true }

func runLDAP(ctx context.Context, opts *options, logw io.Writer) (*LDAPReport, error) {
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "bench: "+format+"\n", args...) }
	srv, err := ldaptest.Start(ldaptest.Options{Quiet: true})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	logf("slapd pid %d at %s and %s", srv.PID(), srv.URL, srv.LDAPSURL)
	pwFile := filepath.Join(srv.Dir, "bind-password")
	if err := os.WriteFile(pwFile, []byte(ldaptest.ServicePassword), 0o600); err != nil {
		return nil, err
	}
	bin, _ := os.Executable()
	rep := &LDAPReport{
		Machine: describeMachine(bin), Slapd: ldaptest.Slapd, Concurrency: opts.Concurrency,
		PoolSize: opts.LDAPPool, Duration: opts.Duration.String(), Warmup: opts.Warmup.String(),
	}
	for _, name := range opts.Workloads {
		cfg := ldap.Config{
			URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
			BindDN: ldaptest.ServiceDN, BindPasswordFile: pwFile,
			UserSearch: ldap.UserSearch{
				BaseDN: ldaptest.PeopleDN, Filter: "(objectClass=inetOrgPerson)",
				DisabledFilter: "(employeeType=disabled)",
			},
			GroupSearch: &ldap.GroupSearch{BaseDN: ldaptest.GroupsDN},
			PoolSize:    opts.LDAPPool,
		}
		if name == ldapLDAPS {
			cfg.URL, cfg.StartTLS = srv.LDAPSURL, false
		}
		c, err := ldap.New("bench", "bench", cfg)
		if err != nil {
			return rep, err
		}
		res, err := measureLDAP(ctx, opts, name, c, srv.PID())
		c.Close()
		if err != nil {
			return rep, err
		}
		rep.Workloads = append(rep.Workloads, res)
		logf("%s: %.0f sign-ins/s, p99 %.2f ms", name, res.RPS, res.P99Ms)
	}
	return rep, nil
}

func measureLDAP(ctx context.Context, opts *options, name string, c *ldap.Connector, slapdPID int) (LDAPResult, error) {
	start := time.Now()
	from := start.Add(opts.Warmup)
	end := from.Add(opts.Duration)
	var (
		cpu0, self0, mb0 time.Duration
		once             sync.Once
	)
	// Counters and CPU are read when the warm-up ends.
	go func() {
		t := time.NewTimer(time.Until(from))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		once.Do(func() {
			cpu0, _ = cpuTime(slapdPID)
			self0, mb0 = selfCPUTime(), mustBusy()
		})
	}()
	results := make([]workerResult, opts.Concurrency)
	var wg sync.WaitGroup
	for i := range results {
		w := &ldapWorker{c: c, user: "ada", pw: "ada-password-1"}
		if i%2 == 1 {
			w.user, w.pw = "bob", "bob-password-1"
		}
		if name == ldapWrong {
			w.pw, w.wantErr = "not-the-password", true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = drive(ctx, w, nil, from, end)
		}()
	}
	wg.Wait()
	once.Do(func() {}) // the warm-up reading ran, or never will
	if ctx.Err() != nil {
		return LDAPResult{}, ctx.Err()
	}
	cpu1, _ := cpuTime(slapdPID)
	self1, mb1 := selfCPUTime(), mustBusy()
	res := LDAPResult{WorkloadResult: summarize(name, results, from)}
	if res.Seconds > 0 {
		wall := time.Duration(res.Seconds * float64(time.Second))
		res.ServerCPUPct = pct(cpu1-cpu0, wall)
		res.BenchCPUPct = pct(self1-self0, wall)
		res.OtherCPUPct = max(0, pct(mb1-mb0, wall)-res.ServerCPUPct-res.BenchCPUPct)
	}
	// Operations per sign-in, counted exactly: opsSample sign-ins one
	// after another on the warm pool.
	w := &ldapWorker{c: c, user: "ada", pw: "ada-password-1", wantErr: name == ldapWrong}
	if w.wantErr {
		w.pw = "not-the-password"
	}
	before := c.Stats()
	for range opsSample {
		if err := w.do(ctx, nil); err != nil {
			return res, fmt.Errorf("%s: counting operations: %w", name, err)
		}
	}
	after := c.Stats()
	res.BindsPerSignIn = float64(after.Binds-before.Binds) / opsSample
	res.SearchesPerSignIn = float64(after.Searches-before.Searches) / opsSample
	return res, nil
}

func mustBusy() time.Duration {
	d, _ := machineBusy()
	return d
}

func pct(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * float64(cpu) / float64(wall)
}

func (r *LDAPReport) writeTable(w io.Writer) {
	fmt.Fprintf(w, "LDAP sign-ins through internal/connector/ldap against %s (docs/examples/ldap.ldif), %d workers, pool_size %d, %s each after %s warm-up\n",
		r.Slapd, r.Concurrency, r.PoolSize, r.Duration, r.Warmup)
	r.Machine.writeLine(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tsign-ins\terrors\tsign-ins/s\tp50 ms\tp99 ms\tmax ms\tbinds/sign-in\tsearches/sign-in\tslapd CPU\tbench CPU\tother CPU\t")
	for _, x := range r.Workloads {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f%%\t%.0f%%\t%.0f%%\t\n",
			x.Name, x.OK, x.Errors, thousands(x.RPS), x.P50Ms, x.P99Ms, x.MaxMs,
			x.BindsPerSignIn, x.SearchesPerSignIn, x.ServerCPUPct, x.BenchCPUPct, x.OtherCPUPct)
	}
	tw.Flush()
	for _, x := range r.Workloads {
		if x.FirstError != "" {
			fmt.Fprintf(w, "  %s: first error: %s\n", x.Name, x.FirstError)
		}
	}
}
