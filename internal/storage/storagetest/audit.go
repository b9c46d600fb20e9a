package storagetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var auditTests = []test{
	{"Audit/Empty", testAuditEmpty},
	{"Audit/AppendBatches", testAuditAppendBatches},
	{"Audit/RejectsMalformedBatch", testAuditRejectsMalformed},
	{"Audit/Filters", testAuditFilters},
	{"Audit/Scan", testAuditScan},
	{"Concurrent/AuditAppend", func(t *testing.T, s storage.Store) { AuditConcurrentAppend(t, s, s) }},
}

// auditEvent is the canonical JSON of a test event: i orders the times.
func auditEvent(typ, userID string, i int) []byte {
	e := map[string]any{
		"time": base.Add(time.Duration(i) * time.Millisecond).Add(time.Nanosecond),
		"type": typ,
		// Characters that a careless backend might normalise.
		"details": map[string]string{"i": fmt.Sprint(i), "note": "naïve \u2028 <tag> \"quoted\" \\ 日本"},
	}
	if userID != "" {
		e["user_id"] = userID
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

// checkChain fails t unless recs are seq 1..len(recs), each chained to the
// one before it by hash.
func checkChain(t *testing.T, recs []*storage.AuditRecord) {
	t.Helper()
	prev := storage.AuditGenesisHash
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d, want %d", i, r.Seq, i+1)
		}
		if r.PrevHash != prev {
			t.Fatalf("seq %d: prev_hash %s, want %s", r.Seq, r.PrevHash, prev)
		}
		if want := storage.AuditHash(prev, r.Event); r.Hash != want {
			t.Fatalf("seq %d: hash %s, want %s", r.Seq, r.Hash, want)
		}
		prev = r.Hash
	}
}

// allAudit reads the whole trail with ScanAudit.
func allAudit(t *testing.T, s storage.Store) []*storage.AuditRecord {
	t.Helper()
	var out []*storage.AuditRecord
	must(t, "scan audit", s.ScanAudit(t.Context(), 0, func(r *storage.AuditRecord) error {
		out = append(out, r)
		return nil
	}))
	return out
}

func testAuditEmpty(t *testing.T, s storage.Store) {
	ctx := t.Context()
	seq, hash, err := s.AuditHead(ctx)
	must(t, "head", err)
	if seq != 0 || hash != storage.AuditGenesisHash {
		t.Errorf("head of an empty trail = %d %s, want 0 and the genesis hash", seq, hash)
	}
	recs, err := s.ListAudit(ctx, storage.AuditFilter{})
	must(t, "list", err)
	if len(recs) != 0 {
		t.Errorf("empty trail lists %d records", len(recs))
	}
	if got := allAudit(t, s); len(got) != 0 {
		t.Errorf("empty trail scans %d records", len(got))
	}
	recs, err = s.AppendAudit(ctx, nil)
	if err != nil || len(recs) != 0 {
		t.Errorf("AppendAudit(nil) = %v, %v; want nothing", recs, err)
	}
}

func testAuditAppendBatches(t *testing.T, s storage.Store) {
	ctx := t.Context()
	var events [][]byte
	var returned []*storage.AuditRecord
	// Sizes that cross the backends' multi-row statement sizes.
	for _, n := range []int{1, 3, 64, 73, 9} {
		var batch [][]byte
		for range n {
			ev := auditEvent("token.issued", "", len(events))
			batch = append(batch, ev)
			events = append(events, ev)
		}
		recs, err := s.AppendAudit(ctx, batch)
		must(t, fmt.Sprintf("append %d", n), err)
		if len(recs) != n {
			t.Fatalf("append %d returned %d records", n, len(recs))
		}
		returned = append(returned, recs...)
	}
	checkChain(t, returned)
	stored := allAudit(t, s)
	diff(t, "stored records", returned, stored)
	checkChain(t, stored)
	for i, r := range stored {
		if !bytes.Equal(r.Event, events[i]) {
			t.Fatalf("seq %d: event changed in storage:\n got %s\nwant %s", r.Seq, r.Event, events[i])
		}
		want := base.Add(time.Duration(i) * time.Millisecond)
		if !r.Time.Equal(want) || r.Time.Location() != time.UTC || r.Type != "token.issued" {
			t.Fatalf("seq %d: time %v type %q, want %v token.issued", r.Seq, r.Time, r.Type, want)
		}
	}
	seq, hash, err := s.AuditHead(ctx)
	must(t, "head", err)
	last := stored[len(stored)-1]
	if seq != last.Seq || hash != last.Hash {
		t.Errorf("head = %d %s, want the last record %d %s", seq, hash, last.Seq, last.Hash)
	}
}

func testAuditRejectsMalformed(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.AppendAudit(ctx, [][]byte{auditEvent("login.success", "u1", 0)})
	must(t, "append", err)
	for name, bad := range map[string][]byte{
		"not JSON":  []byte("login ok"),
		"no type":   []byte(`{"time":"2025-03-14T15:09:26Z"}`),
		"no time":   []byte(`{"type":"login.success"}`),
		"bad UTF-8": []byte("{\"time\":\"2025-03-14T15:09:26Z\",\"type\":\"x\xff\"}"),
		"an array":  []byte(`["time","type"]`),
	} {
		// The good event before the bad one must not be appended either.
		_, err := s.AppendAudit(ctx, [][]byte{auditEvent("login.success", "u1", 1), bad})
		if err == nil {
			t.Errorf("%s: AppendAudit succeeded", name)
		}
	}
	if got := allAudit(t, s); len(got) != 1 {
		t.Errorf("%d records after rejected batches, want 1", len(got))
	}
	if seq, _, err := s.AuditHead(ctx); err != nil || seq != 1 {
		t.Errorf("head after rejected batches = %d, %v; want 1", seq, err)
	}
}

func testAuditFilters(t *testing.T, s storage.Store) {
	ctx := t.Context()
	type ev struct{ typ, user string }
	input := []ev{
		{"login.failure", ""}, {"login.success", "u1"}, {"token.issued", "u1"}, {"login.success", "u2"},
		{"token.issued", ""}, {"token.revoked", "u1"}, {"login.success", "u1"}, {"logout", "u2"},
	}
	var batch [][]byte
	for i, e := range input {
		batch = append(batch, auditEvent(e.typ, e.user, i*1000)) // one second apart
	}
	_, err := s.AppendAudit(ctx, batch)
	must(t, "append", err)

	for _, tc := range []struct {
		name string
		f    storage.AuditFilter
		want []int64
	}{
		{"all", storage.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"type", storage.AuditFilter{Type: "login.success"}, []int64{2, 4, 7}},
		{"user", storage.AuditFilter{UserID: "u1"}, []int64{2, 3, 6, 7}},
		{"type and user", storage.AuditFilter{Type: "login.success", UserID: "u1"}, []int64{2, 7}},
		{"since (inclusive)", storage.AuditFilter{Since: base.Add(5 * time.Second)}, []int64{6, 7, 8}},
		{"after seq", storage.AuditFilter{AfterSeq: 6}, []int64{7, 8}},
		{"limit", storage.AuditFilter{Limit: 3}, []int64{1, 2, 3}},
		{"latest", storage.AuditFilter{Limit: 3, Latest: true}, []int64{6, 7, 8}},
		{"latest of a type", storage.AuditFilter{Type: "login.success", Limit: 2, Latest: true}, []int64{4, 7}},
		{"latest without limit", storage.AuditFilter{Latest: true, UserID: "u2"}, []int64{4, 8}},
		{"since and user and after", storage.AuditFilter{Since: base.Add(2 * time.Second), UserID: "u1", AfterSeq: 3}, []int64{6, 7}},
		{"nothing", storage.AuditFilter{Type: "no.such"}, nil},
	} {
		recs, err := s.ListAudit(ctx, tc.f)
		must(t, tc.name, err)
		var got []int64
		for _, r := range recs {
			got = append(got, r.Seq)
			if r.Hash == "" || len(r.Event) == 0 || r.Time.IsZero() {
				t.Errorf("%s: seq %d incomplete: %+v", tc.name, r.Seq, r)
			}
		}
		diff(t, tc.name, tc.want, got)
	}
}

func testAuditScan(t *testing.T, s storage.Store) {
	ctx := t.Context()
	// More than one page of the backends' paged scans (1000 rows).
	const n = 1100
	var batch [][]byte
	for i := range n {
		batch = append(batch, auditEvent("token.issued", "", i))
		if len(batch) == 256 || i == n-1 {
			_, err := s.AppendAudit(ctx, batch)
			must(t, "append", err)
			batch = batch[:0]
		}
	}
	all := allAudit(t, s)
	if len(all) != n {
		t.Fatalf("scanned %d records, want %d", len(all), n)
	}
	checkChain(t, all)

	var from []int64
	must(t, "scan after", s.ScanAudit(ctx, n-3, func(r *storage.AuditRecord) error {
		from = append(from, r.Seq)
		return nil
	}))
	diff(t, "scan after seq", []int64{n - 2, n - 1, n}, from)

	calls := 0
	err := s.ScanAudit(ctx, 0, func(r *storage.AuditRecord) error {
		calls++
		if r.Seq == 5 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 5 {
		t.Errorf("scan stopped by fn: err %v after %d calls, want errStop after 5", err, calls)
	}
}

// AuditConcurrentAppend appends batches from several goroutines, half
// through a and half through b, and checks that they form one valid chain
// holding every event once, each batch in order and unbroken. a and b may
// be the same store, or two stores on one database (two replicas).
func AuditConcurrentAppend(t *testing.T, a, b storage.Store) {
	ctx := t.Context()
	const workers, batches = 8, 12
	errs := race(workers, func(w int) error {
		s := a
		if w%2 == 1 {
			s = b
		}
		for i := range batches {
			var batch [][]byte
			for j := range 1 + (w+i)%9 {
				batch = append(batch, auditEvent("token.issued", fmt.Sprintf("w%d-b%d-e%d", w, i, j), i))
			}
			recs, err := s.AppendAudit(ctx, batch)
			if err != nil {
				return err
			}
			for j := 1; j < len(recs); j++ {
				if recs[j].Seq != recs[j-1].Seq+1 || recs[j].PrevHash != recs[j-1].Hash {
					return fmt.Errorf("worker %d batch %d: records %d and %d not consecutive", w, i, recs[j-1].Seq, recs[j].Seq)
				}
			}
		}
		return nil
	})
	for w, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", w, err)
		}
	}
	all := allAudit(t, a)
	checkChain(t, all)
	want := 0
	for w := range workers {
		for i := range batches {
			want += 1 + (w+i)%9
		}
	}
	if len(all) != want {
		t.Fatalf("%d records, want %d", len(all), want)
	}
	// Every event once; each worker's events in the order it appended them.
	seen := map[string]bool{}
	last := map[string]string{}
	for _, r := range all {
		var e struct {
			UserID string `json:"user_id"`
		}
		must(t, "decode", json.Unmarshal(r.Event, &e))
		if seen[e.UserID] {
			t.Errorf("event %s stored twice", e.UserID)
		}
		seen[e.UserID] = true
		worker, _, _ := strings.Cut(e.UserID, "-")
		if prev := last[worker]; prev != "" && !before(prev, e.UserID) {
			t.Errorf("%s stored after %s", e.UserID, prev)
		}
		last[worker] = e.UserID
	}
	for _, s := range []storage.Store{a, b} {
		seq, hash, err := s.AuditHead(ctx)
		must(t, "head", err)
		if seq != all[len(all)-1].Seq || hash != all[len(all)-1].Hash {
			t.Errorf("head %d %s, want the last record %d", seq, hash, all[len(all)-1].Seq)
		}
	}
}

// before reports whether test event id x ("wW-bB-eE") was appended before y
// by the same worker.
func before(x, y string) bool {
	var w1, b1, e1, w2, b2, e2 int
	fmt.Sscanf(x, "w%d-b%d-e%d", &w1, &b1, &e1)
	fmt.Sscanf(y, "w%d-b%d-e%d", &w2, &b2, &e2)
	return b1 < b2 || b1 == b2 && e1 < e2
}
