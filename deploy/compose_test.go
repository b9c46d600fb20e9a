// Package deploy_test checks the Docker Compose examples in this
// directory without Docker: each parses, names the services it should,
// and gives every gatehouse service an environment (and configuration
// file) that the server's own loader accepts.
package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
)

type composeFile struct {
	Name     string `yaml:"name"`
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		DependsOn   any               `yaml:"depends_on"`
		Healthcheck map[string]any    `yaml:"healthcheck"`
	} `yaml:"services"`
}

// The values the user is asked to export.
var userEnv = map[string]string{
	"GATEHOUSE_ADMIN_PASSWORD": "change-me-now",
	"GATEHOUSE_SECRET_KEY":     strings.Repeat("ab", 32),
	"POSTGRES_PASSWORD":        "pg-secret",
}

var interpolation = regexp.MustCompile(`\$\{([A-Z_]+)(?::([-?])([^}]*))?\}`)

// interpolate substitutes ${VAR}, ${VAR:-default} and ${VAR:?message} as
// Compose does, from env.
func interpolate(t *testing.T, s string, env map[string]string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		p := interpolation.FindStringSubmatch(m)
		if v := env[p[1]]; v != "" {
			return v
		}
		switch p[2] {
		case "-":
			return p[3]
		case "?":
			t.Errorf("%s is required: %s", p[1], p[3])
		}
		return ""
	})
}

func load(t *testing.T, name string, env map[string]string) *composeFile {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal([]byte(interpolate(t, string(raw), env)), &cf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &cf
}

// checkServer loads a gatehouse service's configuration the way the
// server does, with the bind-mounted files read from this directory.
func checkServer(t *testing.T, svc string, env map[string]string, volumes []string) *config.Server {
	t.Helper()
	mounts := map[string]string{}
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if strings.HasPrefix(parts[0], "./") {
			mounts[parts[1]] = parts[0]
		}
	}
	getenv := func(k string) string {
		if k == config.EnvConfigFile && env[k] != "" {
			local, ok := mounts[env[k]]
			if !ok {
				t.Errorf("%s: %s=%s is not mounted", svc, k, env[k])
			}
			return local
		}
		return env[k]
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatalf("%s: the server would refuse its configuration: %v", svc, err)
	}
	if cfg.Addr != "0.0.0.0:8080" {
		t.Errorf("%s: addr %s, want 0.0.0.0:8080 (the image's port)", svc, cfg.Addr)
	}
	if env["GATEHOUSE_ADMIN_USER"] == "" || env["GATEHOUSE_ADMIN_PASSWORD"] == "" {
		t.Errorf("%s: no first admin", svc)
	}
	return cfg
}

func TestSingleNode(t *testing.T) {
	cf := load(t, "docker-compose.yaml", userEnv)
	g, ok := cf.Services["gatehouse"]
	if !ok || len(cf.Services) != 1 {
		t.Fatalf("services %v, want gatehouse alone", cf.Services)
	}
	cfg := checkServer(t, "gatehouse", g.Environment, g.Volumes)
	if cfg.DataDir != "/data" || cfg.DB != "" || !slicesContain(g.Volumes, "gatehouse-data:/data") {
		t.Errorf("SQLite not in the /data volume: data_dir %q db %q volumes %v", cfg.DataDir, cfg.DB, g.Volumes)
	}
	if cfg.Issuer != "http://127.0.0.1:8080" || !slicesContain(g.Ports, "127.0.0.1:8080:8080") {
		t.Errorf("issuer %s, ports %v", cfg.Issuer, g.Ports)
	}
	// Without the admin password, Compose refuses to start.
	var missing []string
	env := map[string]string{}
	raw, _ := os.ReadFile("docker-compose.yaml")
	for _, m := range interpolation.FindAllStringSubmatch(string(raw), -1) {
		if m[2] == "?" && env[m[1]] == "" {
			missing = append(missing, m[1])
		}
	}
	if !slicesContain(missing, "GATEHOUSE_ADMIN_PASSWORD") {
		t.Errorf("GATEHOUSE_ADMIN_PASSWORD not required: %v", missing)
	}
}

func TestReplicas(t *testing.T) {
	cf := load(t, "docker-compose.replicas.yaml", userEnv)
	for _, s := range []string{"gatehouse-1", "gatehouse-2", "lb", "postgres", "redis"} {
		if _, ok := cf.Services[s]; !ok {
			t.Fatalf("no service %s", s)
		}
	}
	var issuer, key string
	for _, s := range []string{"gatehouse-1", "gatehouse-2"} {
		g := cf.Services[s]
		cfg := checkServer(t, s, g.Environment, g.Volumes)
		if !strings.HasPrefix(cfg.DB, "postgres://gatehouse:pg-secret@postgres:5432/gatehouse") || cfg.Redis != "redis://redis:6379/0" {
			t.Errorf("%s: db %q redis %q", s, cfg.DB, cfg.Redis)
		}
		if _, err := secret.ParseKey(cfg.SecretKey); err != nil {
			t.Errorf("%s: secret key: %v", s, err)
		}
		if issuer == "" {
			issuer, key = cfg.Issuer, cfg.SecretKey
		} else if cfg.Issuer != issuer || cfg.SecretKey != key {
			t.Errorf("%s: the replicas differ in issuer or secret key", s)
		}
		if len(cfg.TrustedProxies) != 1 || cfg.TrustedProxies[0] != "10.89.0.10/32" {
			t.Errorf("%s: trusted proxies %v, want the load balancer", s, cfg.TrustedProxies)
		}
	}
	pg := cf.Services["postgres"]
	if pg.Environment["POSTGRES_PASSWORD"] != "pg-secret" || pg.Environment["POSTGRES_USER"] != "gatehouse" || pg.Environment["POSTGRES_DB"] != "gatehouse" {
		t.Errorf("postgres env %v does not match the replicas' DSN", pg.Environment)
	}
	if pg.Healthcheck == nil || cf.Services["redis"].Healthcheck == nil {
		t.Error("the replicas wait for healthy dependencies, which need health checks")
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{
		"CGO_ENABLED=0 go build", "FROM scratch", "USER 65532:65532", `VOLUME ["/data"]`,
		`CMD ["/usr/local/bin/gatehouse", "healthcheck"]`, "GATEHOUSE_DATA_DIR=/data", "GATEHOUSE_ADDR=0.0.0.0:8080",
		`ENTRYPOINT ["/usr/local/bin/gatehouse"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`(?m)^FROM golang:(\S+)`).FindStringSubmatch(df); m == nil {
		t.Error("no Go build stage")
	} else if gomod, _ := os.ReadFile(filepath.Join("..", "go.mod")); !regexp.MustCompile(`(?m)^go ` + regexp.QuoteMeta(m[1]) + `\b`).Match(gomod) {
		t.Errorf("build stage golang:%s does not match go.mod's go version", m[1])
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
