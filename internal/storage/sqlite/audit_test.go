package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

// TestAuditTwoProcesses appends from two stores on one file, as the server
// and an admin command do: the file lock keeps one chain.
func TestAuditTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	open := func() *sqlite.Store {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storagetest.AuditConcurrentAppend(t, open(), open())
}
