package admin

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ListAudit returns the audit records f selects, in seq order; the front
// ends parse f from their own flags and query parameters.
func (s *Service) ListAudit(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error) {
	return s.store.ListAudit(ctx, f)
}

// AuditCheck is what verifying the audit trail found.
type AuditCheck struct {
	// Checked is how many events checked out (before the break, when
	// broken).
	Checked int64
	// Last is the last event that checked out; nil for none.
	Last *storage.AuditRecord
	// Broken is nil for an intact trail, else the first broken link: an
	// *audit.ChainError (over the admin API, the server's words for it).
	Broken error
	// PrunedThrough and CheckpointHash are the retention checkpoint the
	// kept events were checked from; 0 and "" when nothing was pruned.
	PrunedThrough  int64
	CheckpointHash string
}

// VerifyAudit checks every link of the audit trail's hash chain
// (audit.Verify). A broken trail is a result, not an error: the error is
// for a trail that could not be read.
func (s *Service) VerifyAudit(ctx context.Context) (AuditCheck, error) {
	var v AuditCheck
	n, err := audit.Verify(ctx, s.store, func(r *storage.AuditRecord) { v.Last = r })
	var ce *audit.ChainError
	if err != nil && !errors.As(err, &ce) {
		return AuditCheck{}, err
	}
	v.Checked = n
	if ce != nil {
		v.Broken = ce
	}
	if seq, hash, cerr := s.store.AuditCheckpoint(ctx); cerr == nil && seq > 0 {
		v.PrunedThrough, v.CheckpointHash = seq, hash
	}
	return v, nil
}
