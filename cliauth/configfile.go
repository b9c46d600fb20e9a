package cliauth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// configFileName is the settings file inside the configuration directory.
const configFileName = "config.yaml"

// defaultProfileName is the profile used when none is named anywhere.
const defaultProfileName = "default"

// browserNone as the browser setting means: never open a browser.
const browserNone = "none"

// configFile is config.yaml:
//
//	default_profile: default
//	storage: auto            # auto | keyring | file
//	pinned_storage: file     # where the credentials are; what auto uses (written by the tool)
//	browser: firefox         # a command run with the URL, or none
//	redirect_ports: [8085, 8086]
//	profiles:
//	  default:
//	    issuer: https://auth.example.com
//	    client_id: gatehouse-cli
//	    scopes: [openid, profile, offline_access]
type configFile struct {
	DefaultProfile string                    `yaml:"default_profile,omitempty"`
	Storage        string                    `yaml:"storage,omitempty"`
	PinnedStorage  string                    `yaml:"pinned_storage,omitempty"`
	Browser        string                    `yaml:"browser,omitempty"`
	RedirectPorts  []int                     `yaml:"redirect_ports,omitempty,flow"`
	Profiles       map[string]*profileConfig `yaml:"profiles,omitempty"`
	// Settings are the values of the tool's own settings (App.Settings).
	Settings map[string]string `yaml:"settings,omitempty"`

	// path is where the file was read from and is written to.
	path string
}

// profileConfig is one profile: which server and client it logs in with.
type profileConfig struct {
	Issuer   string   `yaml:"issuer"`
	ClientID string   `yaml:"client_id,omitempty"`
	Scopes   []string `yaml:"scopes,omitempty,flow"`
	// Resources are the resource indicators (RFC 8707) logins ask for.
	Resources []string `yaml:"resources,omitempty,flow"`
	// APIHosts are hosts ("api.example.com", or with a port
	// "api.example.com:8443") besides the issuer's origin that may receive
	// the profile's token from a tool's own requests (`gatehouse api`).
	APIHosts []string `yaml:"api_hosts,omitempty,flow"`
	// NoDPoP is set by `login --no-dpop`: the profile's logins stay
	// bearer logins (for tools that cannot make DPoP proofs) until a
	// login with --dpop.
	NoDPoP bool `yaml:"no_dpop,omitempty"`
}

// loadConfig reads config.yaml; a missing file is an empty configuration.
// A file that does not parse, has unknown keys, or fails validate is a
// usage error naming the file.
func (a *App) loadConfig() (*configFile, error) {
	dir, err := a.configDir()
	if err != nil {
		return nil, err
	}
	cfg := &configFile{path: filepath.Join(dir, configFileName)}
	data, err := os.ReadFile(cfg.path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cliauth: read %s: %w", cfg.path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, usageErrorf("%s: %v; fix it, or see `%s config list`", cfg.path, err, a.Name)
	}
	if err := cfg.validate(); err != nil {
		return nil, usageErrorf("%s: %v", cfg.path, err)
	}
	return cfg, nil
}

// validate checks every value of the file.
func (c *configFile) validate() error {
	if c.DefaultProfile != "" {
		if err := validateProfile(c.DefaultProfile); err != nil {
			return fmt.Errorf("default_profile: %w", err)
		}
	}
	if c.Storage != "" {
		if _, err := credstore.ParseMode(c.Storage); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
	}
	if c.PinnedStorage != "" {
		if m, err := credstore.ParseMode(c.PinnedStorage); err != nil || m == credstore.ModeAuto {
			return fmt.Errorf("pinned_storage: %q is not keyring or file", c.PinnedStorage)
		}
	}
	for _, p := range c.RedirectPorts {
		if p < 1 || p > 65535 {
			return fmt.Errorf("redirect_ports: %d is not a TCP port", p)
		}
	}
	for name, p := range c.Profiles {
		if err := validateProfile(name); err != nil {
			return fmt.Errorf("profiles: %w", err)
		}
		if p == nil || p.Issuer == "" {
			return fmt.Errorf("profiles: %s: no issuer", name)
		}
		if err := checkIssuer(p.Issuer); err != nil {
			return fmt.Errorf("profiles: %s: %w", name, err)
		}
		for _, h := range p.APIHosts {
			if u, err := url.Parse("//" + h); h == "" || err != nil || u.Host != h || u.User != nil {
				return fmt.Errorf("profiles: %s: api_hosts: %q is not a host or host:port", name, h)
			}
		}
	}
	return nil
}

// save writes the file atomically: a temporary file created 0600 in the
// same directory (created 0700), fsynced, renamed over the old one.
func (c *configFile) save() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("cliauth: config: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString("# Settings and profiles of the command-line login. Change them with the\n# `config` and `profiles` commands, or here.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("cliauth: encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("cliauth: encode config: %w", err)
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cliauth: create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".config.yaml-*")
	if err != nil {
		return fmt.Errorf("cliauth: write config: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing to remove
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("cliauth: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cliauth: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cliauth: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("cliauth: write %s: %w", c.path, err)
	}
	return nil
}

// profileNames lists the configured profiles, sorted.
func (c *configFile) profileNames() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// defaultProfile is the default profile's name.
func (c *configFile) defaultProfile() string {
	if c.DefaultProfile != "" {
		return c.DefaultProfile
	}
	return defaultProfileName
}

// setProfile records a profile's settings.
func (c *configFile) setProfile(name string, p profileConfig) {
	if c.Profiles == nil {
		c.Profiles = map[string]*profileConfig{}
	}
	c.Profiles[name] = &p
}

// normalizeIssuer turns what a person typed into an issuer identifier:
// "auth.example.com" becomes "https://auth.example.com", and the "/" of a
// bare origin ("https://auth.example.com/") is dropped. Anything with a
// path is kept byte for byte, since discovery compares it exactly.
func normalizeIssuer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	if u, err := url.Parse(s); err == nil && u.Path == "/" && u.RawQuery == "" && u.Fragment == "" {
		s = strings.TrimSuffix(s, "/")
	}
	return s, checkIssuer(s)
}

// checkIssuer accepts an http(s) URL with a host and no query or
// fragment (RFC 8414 §2).
func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("issuer %q is not an http(s) URL without query, fragment or user", s)
	}
	return nil
}
