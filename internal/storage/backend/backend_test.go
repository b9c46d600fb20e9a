package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage/pgtest"
)

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, url, dataDir, wantPath string
	}{
		{"default file in data dir", "", filepath.Join(dir, "data", "nested"), filepath.Join(dir, "data", "nested", DefaultFile)},
		{"sqlite://", "sqlite://" + filepath.Join(dir, "a.db"), "", filepath.Join(dir, "a.db")},
		{"sqlite:", "sqlite:" + filepath.Join(dir, "b.db"), "", filepath.Join(dir, "b.db")},
		{"plain path", filepath.Join(dir, "c.db"), "ignored", filepath.Join(dir, "c.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, desc, err := Open(t.Context(), tc.url, tc.dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if want := "sqlite " + tc.wantPath; desc != want {
				t.Errorf("description = %q, want %q", desc, want)
			}
			if err := s.Ping(t.Context()); err != nil {
				t.Errorf("ping: %v", err)
			}
			if _, err := os.Stat(tc.wantPath); err != nil {
				t.Errorf("database file: %v", err)
			}
		})
	}
	info, err := os.Stat(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode = %v, want 0700", perm)
	}
}

func TestDisplayPath(t *testing.T) {
	for in, want := range map[string]string{
		"gatehouse-data/gatehouse.db": "./gatehouse-data/gatehouse.db",
		"./x.db":                      "./x.db",
		"/var/lib/g.db":               "/var/lib/g.db",
	} {
		if got := displayPath(filepath.FromSlash(in)); got != filepath.FromSlash(want) {
			t.Errorf("displayPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ url, dataDir, want string }{
		{"mysql://db/gatehouse", "", "postgres://"},
		{"redis://localhost", "", `"redis"`},
		{"sqlite://", "", "without a path"},
		{"", "", "no data directory"},
	} {
		_, _, err := Open(t.Context(), tc.url, tc.dataDir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %q) error = %v, want one mentioning %s", tc.url, tc.dataDir, err, tc.want)
		}
	}
}

func TestDescribePostgres(t *testing.T) {
	got := describePostgres("postgres://gate:s3cret@db.example:5432/gatehouse?sslmode=require&password=x")
	if want := "postgres db.example:5432/gatehouse"; got != want {
		t.Errorf("describePostgres = %q, want %q", got, want)
	}
}

func TestOpenPostgres(t *testing.T) {
	// Migrate into a schema of our own, not the shared database's public.
	schemaDSN := pgtest.NewSchema(t)
	s, desc, err := Open(t.Context(), schemaDSN, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(desc, "postgres ") || strings.Contains(desc, "@") {
		t.Errorf("description = %q", desc)
	}
}
