// Package ldaptest runs a real OpenLDAP server for tests and benchmarks:
// Debian's /usr/sbin/slapd in a temporary directory, on free 127.0.0.1
// ports, with a generated slapd.conf (mdb backend; the core, cosine,
// inetorgperson and nis schemas from /etc/ldap/schema; the access rules of
// docs/examples/ldap-acl.ldif) and docs/examples/ldap.ldif loaded with
// slapadd. It runs the ppolicy overlay (pwdAccountLockedTime locks an
// account) and, with Options.MemberOf, the memberof overlay. Like Active Directory it accepts unauthenticated binds (a DN
// with an empty password), which a client must never take for a
// successful sign-in. It serves ldap:// (with StartTLS) and ldaps:// with a server
// certificate from a CA it generates, so that a client can be tested with
// the CA file, and logs slapd's "stats" lines (one per operation) so that a
// test can count binds and searches.
//
// New is for tests (skips without slapd, fails without it when CI=true,
// stops slapd on t.Cleanup); Start is the same for programs (the
// benchmark), which call Stop themselves.
package ldaptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The directory docs/examples/ldap.ldif describes.
const (
	Suffix          = "dc=example,dc=org"
	ServiceDN       = "cn=gatehouse,ou=services,dc=example,dc=org"
	ServicePassword = "gatehouse-service-password"
	PeopleDN        = "ou=people,dc=example,dc=org"
	GroupsDN        = "ou=groups,dc=example,dc=org"
	// RootDN is slapd's rootdn: it may write anything (tests that add
	// entries at run time bind as it with Server.RootPassword).
	RootDN = "cn=admin,dc=example,dc=org"
)

// Slapd is where Debian's slapd package installs the server.
const Slapd = "/usr/sbin/slapd"

// startTimeout bounds slapadd and the wait for slapd to accept connections.
const startTimeout = 20 * time.Second

// Options change what Start runs.
type Options struct {
	// LDIF is the file loaded into the empty directory; default
	// docs/examples/ldap.ldif of this module.
	LDIF string
	// Quiet turns slapd's per-operation stats log off (for benchmarks:
	// the log costs throughput). Server.Log is then empty.
	Quiet bool
	// MemberOf loads slapd's memberof overlay: a group change made over
	// LDAP (not slapadd) keeps the members' memberOf attribute in step,
	// as Active Directory does.
	MemberOf bool
}

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT (StartTLS available), LDAPSURL is
	// ldaps://127.0.0.1:PORT.
	URL, LDAPSURL string
	// CAFile is the PEM file of the CA that issued the server
	// certificate (for 127.0.0.1 and localhost).
	CAFile string
	// RootPassword is the password of RootDN.
	RootPassword string
	// Dir is the temporary directory with slapd.conf, the database and
	// the certificates.
	Dir string

	conf      string
	ownDir    bool
	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
	log       *syncBuffer
	ldapPort  int
	ldapsPort int
	quiet     bool
	memberOf  bool
}

// Available reports whether slapd is installed.
func Available() bool {
	_, err := os.Stat(Slapd)
	return err == nil
}

// New starts slapd for t and stops it when t ends. Without slapd it skips
// t, or fails it when the CI environment variable is "true" (CI must run
// these tests: .ci/run installs slapd).
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if !Available() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing and CI=true: install slapd and ldap-utils (.ci/run does)", Slapd)
		}
		t.Skipf("%s is missing: install Debian's slapd and ldap-utils to run the LDAP tests", Slapd)
	}
	s, err := start(t.TempDir(), false, opts)
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("ldaptest: stop slapd: %v", err)
		}
		if t.Failed() {
			t.Logf("slapd log (last 4 KiB):\n%s", tail(s.Log(), 4096))
		}
	})
	return s
}

// Start starts slapd in a new temporary directory; Stop stops it and
// removes the directory.
func Start(opts Options) (*Server, error) {
	if !Available() {
		return nil, fmt.Errorf("%s is missing: install Debian's slapd and ldap-utils", Slapd)
	}
	dir, err := os.MkdirTemp("", "gatehouse-slapd-")
	if err != nil {
		return nil, err
	}
	s, err := start(dir, true, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func start(dir string, ownDir bool, opts Options) (*Server, error) {
	ldif := opts.LDIF
	if ldif == "" {
		var err error
		if ldif, err = ExampleLDIF(); err != nil {
			return nil, err
		}
	}
	s := &Server{Dir: dir, ownDir: ownDir, RootPassword: randomHex(12), log: &syncBuffer{}, quiet: opts.Quiet, memberOf: opts.MemberOf}
	ca, err := writeCertificates(dir)
	if err != nil {
		return nil, err
	}
	s.CAFile = ca
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	s.conf = filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(s.conf, []byte(s.config()), 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/sbin/slapadd", "-q", "-f", s.conf, "-l", ldif).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("slapadd -l %s: %w\n%s", ldif, err, out)
	}
	// A free port can be taken by someone else between finding it and
	// slapd binding it: try again with new ports.
	for attempt := 0; ; attempt++ {
		if s.ldapPort, err = freePort(); err != nil {
			return nil, err
		}
		if s.ldapsPort, err = freePort(); err != nil {
			return nil, err
		}
		s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", s.ldapPort)
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", s.ldapsPort)
		if err = s.Restart(); err == nil || attempt == 2 {
			return s, err
		}
	}
}

// config is slapd.conf.
func (s *Server) config() string {
	schemas := ""
	for _, name := range []string{"core", "cosine", "inetorgperson", "nis"} {
		schemas += "include /etc/ldap/schema/" + name + ".schema\n"
	}
	overlay := ""
	if s.memberOf {
		overlay = "overlay memberof\n"
	}
	return schemas + fmt.Sprintf(`pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload ppolicy
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server-key.pem
sizelimit 500
# Like Active Directory, answer a bind with a DN and no password
# ("unauthenticated", RFC 4513 §5.1.2) with success: a client must refuse
# empty passwords itself.
allow bind_anon_dn

database mdb
maxsize 67108864
suffix %[2]q
rootdn %[3]q
rootpw %[4]s
directory %[1]s/db
index objectClass eq
index uid,mail,member,uniqueMember,memberUid,entryUUID eq
%[6]s# Password policy: knows pwdAccountLockedTime, and refuses binds of an
# account an administrator locked with it.
overlay ppolicy

# The rules of docs/examples/ldap-acl.ldif.
access to attrs=userPassword
	by self =xw
	by anonymous auth
	by * none
access to dn.subtree=%[2]q
	by dn.exact=%[5]q read
	by self read
	by anonymous auth
	by * none
`, s.Dir, Suffix, RootDN, s.RootPassword, ServiceDN, overlay)
}

// Restart starts slapd again on the same ports and database after Stop
// (and is how Start starts it the first time).
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("slapd is running")
	}
	level := "stats"
	if s.quiet {
		level = "none"
	}
	urls := s.URL + "/ " + s.LDAPSURL + "/"
	// -d keeps slapd in the foreground (so that it is our child and its
	// log goes to stderr).
	cmd := exec.Command(Slapd, "-d", level, "-f", s.conf, "-h", urls)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start slapd: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.After(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.ldapPort), time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			return fmt.Errorf("slapd exited at start: %s\n%s", cmd.ProcessState, tail(s.Log(), 2048))
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("slapd did not accept connections within %s\n%s", startTimeout, tail(s.Log(), 2048))
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// Stop stops slapd (SIGTERM, then SIGKILL after 10 s); Restart starts it
// again. A Server from Start also loses its directory.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
		s.cmd = nil
	}
	if s.ownDir {
		s.ownDir = false
		return os.RemoveAll(s.Dir)
	}
	return nil
}

// PID is slapd's process id, 0 when stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Log is everything slapd logged so far.
func (s *Server) Log() string { return s.log.String() }

// Ops counts the operations in slapd's stats log since mark (a length of
// Log() taken before): binds (`BIND dn="..." method=`) and searches
// (`SRCH base=`) by every client. Stats lines can lag the answer by a
// moment: poll.
func (s *Server) Ops(mark int) (binds, searches int) {
	log := s.Log()
	if mark > len(log) {
		mark = len(log)
	}
	for _, line := range strings.Split(log[mark:], "\n") {
		switch {
		case strings.Contains(line, " BIND dn=") && strings.Contains(line, " method="):
			binds++
		case strings.Contains(line, " SRCH base="):
			searches++
		}
	}
	return binds, searches
}

// Count counts the lines of slapd's log since mark that contain substr,
// e.g. " ACCEPT from" for connections opened.
func (s *Server) Count(mark int, substr string) int {
	log := s.Log()
	if mark > len(log) {
		mark = len(log)
	}
	return strings.Count(log[mark:], substr)
}

// Mark is the current length of the log, for Ops and Count.
func (s *Server) Mark() int { return s.log.Len() }

// ExampleLDIF finds docs/examples/ldap.ldif of this module.
func ExampleLDIF() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("ldaptest: cannot locate the module")
	}
	// internal/connector/ldap/ldaptest/ldaptest.go -> module root
	root := filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
	p := filepath.Join(root, "docs", "examples", "ldap.ldif")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("ldaptest: %w", err)
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// syncBuffer is a bytes.Buffer written by slapd's output copier and read
// by tests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}
