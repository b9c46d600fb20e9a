package postgres_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

// TestAuditReplicas appends from two stores, each with its own connection
// pool, on one schema, as two server replicas do: the locked head row
// keeps one chain.
func TestAuditReplicas(t *testing.T) {
	dsn := freshSchema(t)
	storagetest.AuditConcurrentAppend(t, openDSN(t, dsn), openDSN(t, dsn))
}
