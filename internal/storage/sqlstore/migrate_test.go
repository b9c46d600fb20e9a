package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrationsOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"0010_later.sql": {Data: []byte("B")},
		"0002_init.sql":  {Data: []byte("A")},
		"README.md":      {Data: []byte("not a migration")},
	}
	got, err := readMigrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].version != 2 || got[0].sql != "A" || got[1].version != 10 || got[1].name != "0010_later.sql" {
		t.Errorf("readMigrations = %+v, want 0002_init.sql then 0010_later.sql", got)
	}
}

func TestReadMigrationsErrors(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number":         {"init.sql": {}},
		"no underscore":     {"0001.sql": {}},
		"zero":              {"0000_x.sql": {}},
		"duplicate version": {"0001_a.sql": {}, "1_b.sql": {}},
	} {
		if _, err := readMigrations(fsys); err == nil || !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: error = %v, want a migration error", name, err)
		}
	}
}
