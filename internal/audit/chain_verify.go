package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ErrBrokenChain matches (errors.Is) every *ChainError.
var ErrBrokenChain = errors.New("audit: trail broken")

// ChainError names the first broken link of the audit trail: the record
// whose hash, prev_hash, seq or columns do not fit the chain.
type ChainError struct {
	// Seq is the seq of the first record that does not fit (or of the
	// first missing one).
	Seq int64
	// Problem says what is wrong.
	Problem string
	// Expected and Stored are the values that differ (hashes, a seq, a
	// column), when there are two to compare.
	Expected, Stored string
}

func (e *ChainError) Error() string {
	msg := fmt.Sprintf("audit trail broken at seq %d: %s", e.Seq, e.Problem)
	if e.Expected != "" || e.Stored != "" {
		msg += fmt.Sprintf(": expected %s, stored %s", e.Expected, e.Stored)
	}
	return msg
}

// Is reports whether target is ErrBrokenChain.
func (e *ChainError) Is(target error) bool { return target == ErrBrokenChain }

// Verify walks the whole audit trail in st and checks every link: seqs run
// 1, 2, 3, ... without gaps, each record's prev_hash is the hash of the
// record before it (64 zeros for the first), each hash is
// hex(SHA-256(prev_hash + "\n" + event)), the type and time columns match
// the event, and the trail reaches the chain head that appenders keep. It
// calls fn (when not nil) with every record that checked out, in order,
// and returns how many did.
//
// An altered event fails at its own seq; a removed or reordered one at the
// first record whose prev_hash no longer fits (or as a missing seq);
// records removed from the end as missing seqs below the head. The error
// is then a *ChainError naming the first broken link. Other errors (the
// database) are returned wrapped.
//
// The chain proves that the rows were not changed one by one. Someone who
// can rewrite the whole table from some seq on, head included, can forge a
// consistent chain; compare the last hash with a copy kept elsewhere (the
// JSON lines carry every hash) to catch that.
//
// A trail pruned by retention (CheckpointStore) is checked from its
// checkpoint on: the first kept record must be the checkpoint's seq + 1
// and chain to the checkpoint's hash, so the kept part is proved as a
// whole and the deletion of more than retention removed is still caught.
func Verify(ctx context.Context, st ChainStore, fn func(*storage.AuditRecord)) (checked int64, err error) {
	// The head first: events appended while the scan runs come after it.
	headSeq, headHash, err := st.AuditHead(ctx)
	if err != nil {
		return 0, fmt.Errorf("audit: verify: %w", err)
	}
	prev := storage.AuditGenesisHash
	var base int64
	if cs, ok := st.(CheckpointStore); ok {
		if base, prev, err = cs.AuditCheckpoint(ctx); err != nil {
			return 0, fmt.Errorf("audit: verify: %w", err)
		}
	}
	err = st.ScanAudit(ctx, base, func(r *storage.AuditRecord) error {
		if err := checkLink(r, base+checked+1, prev); err != nil {
			return err
		}
		if r.Seq == headSeq && r.Hash != headHash {
			return &ChainError{Seq: r.Seq, Problem: "the hash does not match the chain head", Expected: headHash, Stored: r.Hash}
		}
		if fn != nil {
			fn(r)
		}
		checked++
		prev = r.Hash
		return nil
	})
	var ce *ChainError
	if errors.As(err, &ce) {
		return checked, ce
	}
	if err != nil {
		return checked, fmt.Errorf("audit: verify: %w", err)
	}
	if base+checked < headSeq {
		return checked, &ChainError{
			Seq:     base + checked + 1,
			Problem: fmt.Sprintf("missing: the chain head is seq %d but the trail ends at seq %d (events removed from the end)", headSeq, base+checked),
		}
	}
	return checked, nil
}

// CheckpointStore is a ChainStore whose old records may have been pruned
// (storage.Store implements it): AuditCheckpoint returns the seq and hash
// of the last pruned record (0 and the genesis hash when none was).
type CheckpointStore interface {
	AuditCheckpoint(ctx context.Context) (seq int64, hash string, err error)
}

// checkLink checks record r, which should be seq next and follow a record
// whose hash is prev.
func checkLink(r *storage.AuditRecord, next int64, prev string) error {
	switch {
	case r.Seq > next:
		return &ChainError{Seq: next, Problem: fmt.Sprintf("missing (the next stored event is seq %d)", r.Seq)}
	case r.Seq < next:
		return &ChainError{Seq: r.Seq, Problem: "out of order", Expected: fmt.Sprint(next), Stored: fmt.Sprint(r.Seq)}
	}
	if r.PrevHash != prev {
		return &ChainError{Seq: r.Seq,
			Problem:  "prev_hash does not match the hash of the event before it (an event was removed, inserted or reordered)",
			Expected: prev, Stored: r.PrevHash}
	}
	if want := storage.AuditHash(prev, r.Event); r.Hash != want {
		return &ChainError{Seq: r.Seq, Problem: "the event was altered (its hash does not match)", Expected: want, Stored: r.Hash}
	}
	return checkColumns(r)
}

// checkColumns checks that the type and time columns, which queries use
// but the hash does not cover, match the event.
func checkColumns(r *storage.AuditRecord) error {
	var e Event
	if err := json.Unmarshal(r.Event, &e); err != nil {
		return &ChainError{Seq: r.Seq, Problem: fmt.Sprintf("the event is not valid JSON: %v", err)}
	}
	if e.Type != r.Type {
		return &ChainError{Seq: r.Seq, Problem: "the type column was altered", Expected: e.Type, Stored: r.Type}
	}
	if want := e.Time.UTC().Truncate(storage.AuditTimeResolution); !r.Time.Equal(want) {
		return &ChainError{Seq: r.Seq, Problem: "the time column was altered",
			Expected: want.Format(timeFormat), Stored: r.Time.UTC().Format(timeFormat)}
	}
	return nil
}

// timeFormat shows times in errors to the stored precision.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"
