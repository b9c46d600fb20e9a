package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const selectAuditCheckpoint = "SELECT seq, hash FROM audit_checkpoint WHERE id = 1"

// PruneAudit deletes the audit records up to seq through, never the head
// record (appenders chain to it), and moves the checkpoint to the last one
// deleted, in one transaction.
func (s *Store) PruneAudit(ctx context.Context, through int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		var headSeq int64
		var headHash string
		if err := s.txRow(ctx, tx, selectAuditHead+s.d.ForUpdate).Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		through = min(through, headSeq-1)
		var hash string
		err := s.txRow(ctx, tx, "SELECT hash FROM audit_events WHERE seq = $1", through).Scan(&hash)
		if err == sql.ErrNoRows {
			return nil // nothing there: pruned already, or an empty trail
		}
		if err != nil {
			return fmt.Errorf("read last pruned: %w", err)
		}
		res, err := s.txExec(ctx, tx, "DELETE FROM audit_events WHERE seq <= $1", through)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// pruned_at is informational (when the operator looks at the
		// table); nothing decides on it.
		if _, err := s.txExec(ctx, tx, "UPDATE audit_checkpoint SET seq = $1, hash = $2, pruned_at = $3 WHERE id = 1",
			through, hash, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("update checkpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, s.wrap("prune audit", err)
	}
	return n, nil
}

// AuditCheckpoint returns the seq and hash of the last pruned record.
func (s *Store) AuditCheckpoint(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := s.readRow(ctx, selectAuditCheckpoint).Scan(&seq, &hash); err != nil {
		return 0, "", s.wrap("audit checkpoint", err)
	}
	return seq, hash, nil
}
