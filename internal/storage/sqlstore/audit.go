package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The audit trail is two tables: audit_events, one row per event, and
// audit_head, one row with the seq and hash of the last event. An append
// locks the head row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite BEGIN
// IMMEDIATE already holds the database's write lock), chains its events to
// the head, inserts them and moves the head, all in one transaction; so
// appenders in several processes or replicas take turns and form one
// chain.

const (
	auditCols       = "seq, event_time, type, event, prev_hash, hash"
	selectAuditHead = "SELECT seq, hash FROM audit_head WHERE id = 1"
	updateAuditHead = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1"
	// auditScanPage is how many rows one query of ScanAudit reads.
	auditScanPage = 1000
)

// auditInsertSizes are the row counts of the multi-row INSERT statements an
// append uses, largest first: a batch goes out in as few statements as
// these sizes allow (a batch of 256 is eight statements). Larger statements
// cost more than they save: modernc.org/sqlite binds each parameter in time
// linear in the number of parameters.
var auditInsertSizes = []int{32, 8, 1}

// auditInserts maps a row count of auditInsertSizes to its statement.
var auditInserts = func() map[int]string {
	m := make(map[int]string, len(auditInsertSizes))
	for _, n := range auditInsertSizes {
		m[n] = auditInsert(n)
	}
	return m
}()

// auditRowCols is the number of columns auditInsert sets per row.
const auditRowCols = 7

func auditInsert(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO audit_events (seq, event_time, type, user_id, event, prev_hash, hash) VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range auditRowCols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(r*auditRowCols + c + 1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// auditMeta is what the store reads from an event for its query columns.
type auditMeta struct {
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	UserID string    `json:"user_id"`
}

func parseAuditEvent(ev []byte) (auditMeta, error) {
	var m auditMeta
	if !utf8.Valid(ev) {
		return m, errors.New("event is not valid UTF-8")
	}
	if err := json.Unmarshal(ev, &m); err != nil {
		return m, fmt.Errorf("event is not a JSON object: %w", err)
	}
	if m.Type == "" || m.Time.IsZero() {
		return m, errors.New(`event lacks "type" or "time"`)
	}
	return m, nil
}

// AppendAudit chains events to the audit trail in one transaction and
// returns their records.
func (s *Store) AppendAudit(ctx context.Context, events [][]byte) ([]*storage.AuditRecord, error) {
	if len(events) == 0 {
		return nil, nil
	}
	metas := make([]auditMeta, len(events))
	for i, ev := range events {
		m, err := parseAuditEvent(ev)
		if err != nil {
			return nil, s.wrap("append audit", fmt.Errorf("event %d: %w", i, err))
		}
		metas[i] = m
	}
	s.prepareAuditQueries(ctx)
	recs := make([]*storage.AuditRecord, len(events))
	args := make([]any, 0, auditInsertSizes[0]*auditRowCols)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		var prev string
		if err := s.txRow(ctx, tx, selectAuditHead+s.d.ForUpdate).Scan(&seq, &prev); err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		for i, ev := range events {
			seq++
			h := storage.AuditHash(prev, ev)
			recs[i] = &storage.AuditRecord{
				Seq: seq, Time: metas[i].Time.UTC().Truncate(storage.AuditTimeResolution),
				Type: metas[i].Type, Event: ev, PrevHash: prev, Hash: h,
			}
			prev = h
		}
		for start := 0; start < len(recs); {
			n := chunk(len(recs) - start)
			args = args[:0]
			for i := start; i < start+n; i++ {
				r := recs[i]
				args = append(args, r.Seq, s.time(r.Time), r.Type, metas[i].UserID,
					string(r.Event), r.PrevHash, r.Hash)
			}
			if _, err := s.txExec(ctx, tx, auditInserts[n], args...); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			start += n
		}
		last := recs[len(recs)-1]
		if _, err := s.txExec(ctx, tx, updateAuditHead, last.Seq, last.Hash); err != nil {
			return fmt.Errorf("update head: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap("append audit", s.mapErr(err))
	}
	return recs, nil
}

// chunk is the largest of auditInsertSizes that is at most n.
func chunk(n int) int {
	for _, size := range auditInsertSizes {
		if size <= n {
			return size
		}
	}
	return 1
}

// prepareAuditQueries prepares the statements of AppendAudit on the write
// pool once, outside a transaction (see stmtCache). A failure only means
// the queries run unprepared.
func (s *Store) prepareAuditQueries(ctx context.Context) {
	if !s.d.PrepareStatements {
		return
	}
	if _, ok := s.stmts.lookup(s.w, updateAuditHead); ok {
		return
	}
	queries := []string{selectAuditHead + s.d.ForUpdate}
	for _, n := range auditInsertSizes {
		queries = append(queries, auditInserts[n])
	}
	// The head update last: its presence marks the set complete.
	for _, q := range append(queries, updateAuditHead) {
		if _, err := s.stmts.get(ctx, s.w, q); err != nil {
			return
		}
	}
}

// AuditHead returns the seq and hash of the last audit record.
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := s.readRow(ctx, selectAuditHead).Scan(&seq, &hash); err != nil {
		return 0, "", s.wrap("audit head", err)
	}
	return seq, hash, nil
}

func scanAuditRecord(r rowScanner) (*storage.AuditRecord, error) {
	var a storage.AuditRecord
	if err := r.Scan(&a.Seq, timeCol{&a.Time}, &a.Type, bytesCol{&a.Event}, &a.PrevHash, &a.Hash); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListAudit returns the records f selects, in Seq order.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error) {
	where := []string{"seq > $1"}
	args := []any{f.AfterSeq}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if !f.Since.IsZero() {
		add("event_time >=", s.time(f.Since))
	}
	if f.Type != "" {
		add("type =", f.Type)
	}
	if f.UserID != "" {
		add("user_id =", f.UserID)
	}
	q := "SELECT " + auditCols + " FROM audit_events WHERE " + strings.Join(where, " AND ") + " ORDER BY seq"
	if f.Latest {
		q += " DESC"
	}
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	out, err := s.queryAudit(ctx, q, args...)
	if err != nil {
		return nil, s.wrap("list audit", err)
	}
	if f.Latest {
		slices.Reverse(out)
	}
	return out, nil
}

// ScanAudit calls fn with every record after afterSeq in Seq order. It
// reads a page of rows at a time, so no query stays open for long and
// memory stays bounded however long the trail is.
func (s *Store) ScanAudit(ctx context.Context, afterSeq int64, fn func(*storage.AuditRecord) error) error {
	q := "SELECT " + auditCols + " FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT " + strconv.Itoa(auditScanPage)
	for {
		page, err := s.queryAudit(ctx, q, afterSeq)
		if err != nil {
			return s.wrap("scan audit", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
			afterSeq = r.Seq
		}
		if len(page) < auditScanPage {
			return nil
		}
	}
}

func (s *Store) queryAudit(ctx context.Context, q string, args ...any) ([]*storage.AuditRecord, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*storage.AuditRecord
	for rows.Next() {
		r, err := scanAuditRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
