package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// PruneStore is the part of storage.Store that retention uses.
type PruneStore interface {
	ChainStore
	CheckpointStore
	PruneAudit(ctx context.Context, through int64) (int64, error)
}

// PruneBatch is how many records one prune transaction deletes, so that
// retention never holds the write lock for long.
const PruneBatch = 1000

// Prune deletes the audit records older than before, oldest first, in
// transactions of PruneBatch records, and returns how many went. Each
// transaction moves the checkpoint (the seq and hash of the last deleted
// record), from which Verify then checks the kept part. The head record is
// never deleted. When archive is not nil, every record is written to it
// as its JSON line (RecordLine, chain members included) before it is
// deleted; if archive has a Sync method it is called before each delete.
//
// Records are taken in seq order and pruning stops at the first one that
// is not older than before, so the kept part is one unbroken run of the
// chain even when replicas' clocks disagree a little.
func Prune(ctx context.Context, st PruneStore, before time.Time, archive io.Writer) (int64, error) {
	var total int64
	for {
		base, _, err := st.AuditCheckpoint(ctx)
		if err != nil {
			return total, fmt.Errorf("audit: prune: %w", err)
		}
		headSeq, _, err := st.AuditHead(ctx)
		if err != nil {
			return total, fmt.Errorf("audit: prune: %w", err)
		}
		var last int64
		var n int
		err = st.ScanAudit(ctx, base, func(r *storage.AuditRecord) error {
			if !r.Time.Before(before) || r.Seq >= headSeq || n == PruneBatch {
				return errFound
			}
			if archive != nil {
				if _, err := archive.Write(RecordLine(r)); err != nil {
					return fmt.Errorf("archive: %w", err)
				}
			}
			last = r.Seq
			n++
			return nil
		})
		if err != nil && !errors.Is(err, errFound) {
			return total, fmt.Errorf("audit: prune: %w", err)
		}
		if n == 0 {
			return total, nil
		}
		if s, ok := archive.(interface{ Sync() error }); ok && archive != nil {
			if err := s.Sync(); err != nil {
				return total, fmt.Errorf("audit: prune: archive: %w", err)
			}
		}
		deleted, err := st.PruneAudit(ctx, last)
		if err != nil {
			return total, fmt.Errorf("audit: prune: %w", err)
		}
		total += deleted
		if deleted == 0 {
			return total, nil
		}
	}
}
