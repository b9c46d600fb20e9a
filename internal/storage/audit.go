package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// AuditGenesisHash is the PrevHash of the first audit record: 64 zeros.
const AuditGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditRecord is one event of the tamper-evident audit trail. Records are
// numbered 1, 2, 3, ... without gaps, and each is chained to the one before
// it: Hash is AuditHash(PrevHash, Event) and PrevHash is the Hash of the
// record before (AuditGenesisHash for the first). Changing, removing or
// reordering a record therefore breaks the chain at that record.
//
// Event is the canonical JSON of the event exactly as it was appended; Time
// and Type are copied from its "time" and "type" members for queries (Time
// truncated to microseconds) and are not covered by the hash.
type AuditRecord struct {
	Seq      int64
	Time     time.Time
	Type     string
	Event    []byte
	PrevHash string
	Hash     string
}

// AuditFilter selects records for ListAudit. Zero fields do not filter.
type AuditFilter struct {
	// Since keeps events whose time is at or after it.
	Since time.Time
	// Type keeps events of this type.
	Type string
	// UserID keeps events whose "user_id" is this.
	UserID string
	// AfterSeq keeps records with Seq > AfterSeq (paging).
	AfterSeq int64
	// Limit caps the number of records; 0 means no limit.
	Limit int
	// Latest picks the Limit newest matching records instead of the oldest.
	// Records are returned in Seq order either way.
	Latest bool
}

// AuditHash returns the hash that chains event to the record before it:
// hex(SHA-256(prevHash + "\n" + event)).
func AuditHash(prevHash string, event []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write([]byte{'\n'})
	h.Write(event)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// AuditTimeResolution is how precisely a backend keeps AuditRecord.Time.
const AuditTimeResolution = time.Microsecond
