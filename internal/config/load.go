package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvConfigFile names the config file when --config is not given.
const EnvConfigFile = "GATEHOUSE_CONFIG_FILE"

// setting is one value that the environment or a flag can set.
type setting struct {
	key  string // YAML key, for errors
	env  string // environment variable, "" if none
	flag string // flag name, "" if none
	set  func(c *Server, v string) error
}

func str(field func(*Server) *string) func(*Server, string) error {
	return func(c *Server, v string) error { *field(c) = v; return nil }
}

func dur(field func(*Server) *Duration) func(*Server, string) error {
	return func(c *Server, v string) error { return field(c).Set(v) }
}

// settings lists every environment variable and flag Load applies. Other
// GATEHOUSE_* variables belong to the client side and are ignored here.
var settings = []setting{
	{"addr", "GATEHOUSE_ADDR", "addr", str(func(c *Server) *string { return &c.Addr })},
	{"issuer", "GATEHOUSE_ISSUER", "issuer", str(func(c *Server) *string { return &c.Issuer })},
	{"data_dir", "GATEHOUSE_DATA_DIR", "data-dir", str(func(c *Server) *string { return &c.DataDir })},
	{"db", "GATEHOUSE_DB", "db", str(func(c *Server) *string { return &c.DB })},
	{"redis", "GATEHOUSE_REDIS", "redis", str(func(c *Server) *string { return &c.Redis })},
	{"secret_key", "GATEHOUSE_SECRET_KEY", "", str(func(c *Server) *string { return &c.SecretKey })},
	{"secret_key_file", "GATEHOUSE_SECRET_KEY_FILE", "secret-key-file", str(func(c *Server) *string { return &c.SecretKeyFile })},
	{"metrics_addr", "GATEHOUSE_METRICS_ADDR", "metrics-addr", str(func(c *Server) *string { return &c.MetricsAddr })},
	{"log_level", "GATEHOUSE_LOG_LEVEL", "log-level", str(func(c *Server) *string { return &c.LogLevel })},
	{"audit.output", "GATEHOUSE_AUDIT_OUTPUT", "audit-output", str(func(c *Server) *string { return &c.Audit.Output })},
	{"tokens.access_token_ttl", "GATEHOUSE_ACCESS_TOKEN_TTL", "access-token-ttl", dur(func(c *Server) *Duration { return &c.Tokens.AccessTokenTTL })},
	{"tokens.refresh_token_ttl", "GATEHOUSE_REFRESH_TOKEN_TTL", "", dur(func(c *Server) *Duration { return &c.Tokens.RefreshTokenTTL })},
	{"tokens.refresh_reuse_interval", "GATEHOUSE_REFRESH_REUSE_INTERVAL", "", dur(func(c *Server) *Duration { return &c.Tokens.RefreshReuseInterval })},
	{"tokens.refresh_retry_window", "GATEHOUSE_REFRESH_RETRY_WINDOW", "", dur(func(c *Server) *Duration { return &c.Tokens.RefreshRetryWindow })},
	{"dpop.require_nonce", "GATEHOUSE_DPOP_REQUIRE_NONCE", "", func(c *Server, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		c.DPoP.RequireNonce = b
		return nil
	}},
	{"signing.algorithm", "GATEHOUSE_SIGNING_ALGORITHM", "signing-alg", str(func(c *Server) *string { return &c.Signing.Algorithm })},
}

// RegisterFlags adds the server flags to fs: --config and the settings
// that operators most often change. Every other key is set in the file.
// Defaults shown in the help are the built-in ones; a flag only overrides
// the file and the environment when it is given.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Default()
	registerConfigFlag(fs)
	addString(fs, "addr", d.Addr, "listen on `HOST:PORT` (env GATEHOUSE_ADDR)")
	addString(fs, "issuer", "", "public `URL` of this server exactly as clients reach it; https unless the host is loopback (default http:// + --addr; env GATEHOUSE_ISSUER)")
	addString(fs, "data-dir", d.DataDir, "`DIR` for the SQLite database and the generated secret key (env GATEHOUSE_DATA_DIR)")
	addString(fs, "db", "", "database `URL`, e.g. postgres://user@host/db; empty for SQLite in --data-dir (env GATEHOUSE_DB)")
	addString(fs, "redis", "", "Redis `URL` (redis://host:6379/0) for state shared between instances (env GATEHOUSE_REDIS)")
	addString(fs, "secret-key-file", "", "`FILE` with the key that encrypts signing keys at rest, created if missing (default DIR/secret.key; env GATEHOUSE_SECRET_KEY_FILE; GATEHOUSE_SECRET_KEY holds the key itself and wins)")
	addString(fs, "metrics-addr", "", "serve /metrics on this separate `HOST:PORT` instead of the main listener (env GATEHOUSE_METRICS_ADDR)")
	addString(fs, "audit-output", d.Audit.Output, "where audit events go: stdout, stderr, off or a file `PATH` (env GATEHOUSE_AUDIT_OUTPUT)")
	addString(fs, "log-level", d.LogLevel, "log `LEVEL`: debug, info, warn or error (env GATEHOUSE_LOG_LEVEL)")
	addString(fs, "signing-alg", d.Signing.Algorithm, "token signing `ALG`: ES256 or EdDSA (env GATEHOUSE_SIGNING_ALGORITHM)")
	if fs.Lookup("access-token-ttl") == nil {
		v := d.Tokens.AccessTokenTTL
		fs.Var(&v, "access-token-ttl", "lifetime of access tokens, e.g. 5m (env GATEHOUSE_ACCESS_TOKEN_TTL)")
	}
}

// RegisterStorageFlags adds only --config, --data-dir and --db: what admin
// commands that open the database directly (`gatehouse clients ...`) need.
// Calling it and RegisterFlags on one FlagSet is harmless.
func RegisterStorageFlags(fs *pflag.FlagSet) {
	d := Default()
	registerConfigFlag(fs)
	addString(fs, "data-dir", d.DataDir, "`DIR` of the server's SQLite database (env GATEHOUSE_DATA_DIR)")
	addString(fs, "db", "", "database `URL`, e.g. postgres://user@host/db; empty for SQLite in --data-dir (env GATEHOUSE_DB)")
}

func registerConfigFlag(fs *pflag.FlagSet) {
	addString(fs, "config", "", "read server settings from this YAML `FILE`; environment and flags override it (env "+EnvConfigFile+")")
}

func addString(fs *pflag.FlagSet, name, def, usage string) {
	if fs.Lookup(name) == nil {
		fs.String(name, def, usage)
	}
}

// Load builds the configuration: defaults, then the YAML file named by
// --config (or GATEHOUSE_CONFIG_FILE), then the environment, then the flags
// of fs that were set (fs.Changed). fs may carry any subset of the flags
// (RegisterStorageFlags) or be nil; getenv nil means os.Getenv. An empty
// environment variable counts as unset. The result has passed Validate.
//
// Relative paths (data_dir, secret_key_file, an audit file) are relative
// to the working directory, not to the config file.
func Load(fs *pflag.FlagSet, getenv func(string) string) (*Server, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	changed := func(name string) (string, bool) {
		if fs == nil {
			return "", false
		}
		f := fs.Lookup(name)
		if f == nil || !f.Changed {
			return "", false
		}
		return f.Value.String(), true
	}

	c := base()
	sources := map[string]string{} // key -> where its value came from

	path, fromFlag := changed("config")
	if !fromFlag {
		path = getenv(EnvConfigFile)
	}
	if path != "" {
		if err := loadFile(&c, path, sources); err != nil {
			return nil, err
		}
	}

	var errs []error
	for _, s := range settings {
		if s.env == "" {
			continue
		}
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v); err != nil {
				errs = append(errs, fmt.Errorf("config: %s: %w", s.env, err))
			}
			sources[s.key] = s.env
		}
	}
	for _, s := range settings {
		if s.flag == "" {
			continue
		}
		if v, ok := changed(s.flag); ok {
			if err := s.set(&c, v); err != nil {
				errs = append(errs, fmt.Errorf("config: --%s: %w", s.flag, err))
			}
			sources[s.key] = "--" + s.flag
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	if c.Issuer == "" {
		c.Issuer = defaultIssuer(c.Addr)
		sources["issuer"] = "default http:// + addr"
	}
	if err := c.Validate(); err != nil {
		return nil, withSources(err, sources)
	}
	return &c, nil
}

// withSources names, in each *FieldError of err, where the value came from.
func withSources(err error, sources map[string]string) error {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for _, e := range list {
		var fe *FieldError
		if errors.As(e, &fe) && fe.Source == "" {
			fe.Source = sources[fe.Key]
		}
	}
	return err
}

// loadFile decodes the YAML file at path over c. Unknown keys are errors.
func loadFile(c *Server, path string, sources map[string]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	ix := index(&root)
	first := map[string]int{}
	for line, key := range ix.byLine {
		if l, ok := first[key]; !ok || line < l {
			first[key] = line
		}
	}
	for key, line := range first {
		sources[key] = fmt.Sprintf("%s:%d", path, line)
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err = dec.Decode(c)
	if errors.Is(err, io.EOF) {
		return nil // empty file: nothing to change
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, len(te.Errors))
		for i, msg := range te.Errors {
			errs[i] = fmt.Errorf("config: %s", describe(path, msg, ix))
		}
		return errors.Join(errs...)
	}
	if err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: want one YAML document, found more", path)
	}
	return nil
}

// The regexps are compiled on first use, not at package initialisation,
// which every gatehouse process (client commands included) would pay.
var (
	lineRE    = lazyRegexp(`^line (\d+)(?: column (\d+))?: (.*)$`)
	unknownRE = lazyRegexp(`^field (\S+) not found in type`)
	dupRE     = lazyRegexp(`^field (\S+) already set in type`)
)

// lazyRegexp returns a function that compiles expr once, on first call.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// describe turns a yaml.v3 decoding message ("line 7: field foo not found
// in type config.Server") into "server.yaml:7: tokens.foo: unknown key".
func describe(path, msg string, ix keyIndex) string {
	m := lineRE().FindStringSubmatch(msg)
	if m == nil {
		return path + ": " + msg
	}
	line, _ := strconv.Atoi(m[1])
	rest := m[3]
	key := ix.byLine[line]
	if m[2] != "" {
		col, _ := strconv.Atoi(m[2])
		if k, ok := ix.byPos[[2]int{line, col}]; ok {
			key = k
		}
	}
	switch u := unknownRE().FindStringSubmatch(rest); {
	case u != nil:
		rest = "unknown key"
		if field := u[1]; key != field && !strings.HasSuffix(key, "."+field) {
			rest += " " + strconv.Quote(field)
		}
		if strings.HasSuffix(key, "secret_key") {
			rest += " (the secret key itself comes only from GATEHOUSE_SECRET_KEY; a file can name secret_key_file)"
		}
	case dupRE().MatchString(rest):
		rest = "key given twice"
	}
	if key == "" {
		return fmt.Sprintf("%s:%d: %s", path, line, rest)
	}
	return fmt.Sprintf("%s:%d: %s: %s", path, line, key, rest)
}

// keyIndex tells which dotted key sits where in a YAML document, for
// error messages.
type keyIndex struct {
	byLine map[int]string    // first key on each line
	byPos  map[[2]int]string // value node {line, column} -> key
}

// index walks a YAML document. When a line holds several keys (flow style)
// byLine keeps the first; byPos tells the values apart.
func index(root *yaml.Node) keyIndex {
	ix := keyIndex{byLine: map[int]string{}, byPos: map[[2]int]string{}}
	note := func(n *yaml.Node, key string) {
		if _, ok := ix.byLine[n.Line]; !ok {
			ix.byLine[n.Line] = key
		}
	}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if prefix != "" {
			ix.byPos[[2]int{n.Line, n.Column}] = prefix
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				key := k.Value
				if prefix != "" {
					key = prefix + "." + k.Value
				}
				note(k, key)
				walk(v, key)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", prefix, i))
			}
		case yaml.ScalarNode:
			if prefix != "" {
				note(n, prefix)
			}
		}
	}
	walk(root, "")
	return ix
}
