package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for tampering
	_ "modernc.org/sqlite"             // the "sqlite" driver for tampering

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/pgtest"
	"github.com/gatehouse-auth/gatehouse/internal/storage/postgres"
)

// tamperDB is a backend under test: a store and a raw connection to the
// same database, and how to shift a time column by a second there.
type tamperDB struct {
	st        storage.Store
	db        *sql.DB
	shiftTime string
}

func sqliteTamperDB(t *testing.T) tamperDB {
	st, path := openSQLite(t)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return tamperDB{st: st, db: db, shiftTime: "event_time + 1000000"}
}

// postgresTamperDB opens a store in a new schema of the database that
// GATEHOUSE_TEST_POSTGRES_DSN names, or skips.
func postgresTamperDB(t *testing.T) tamperDB {
	dsn := pgtest.NewSchema(t)
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return tamperDB{st: st, db: db, shiftTime: "event_time + interval '1 second'"}
}

// fillTrail logs ten events through a Logger into st.
func fillTrail(t *testing.T, st storage.Store) {
	t.Helper()
	clk := clocktest.New(t0)
	l := NewWithStore(nil, st, clk, WithBatchSize(3))
	for i := range 10 {
		clk.Advance(time.Second)
		l.Log(Event{Type: LoginSuccess, UserID: fmt.Sprint("u", i), Username: "alice", IP: "203.0.113.9"})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	type tamper struct {
		name    string
		do      func(t *testing.T, d tamperDB)
		seq     int64
		problem string
	}
	exec := func(stmts ...string) func(t *testing.T, d tamperDB) {
		return func(t *testing.T, d tamperDB) {
			for _, s := range stmts {
				if _, err := d.db.Exec(s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
		}
	}
	// rehash alters seq 4 and stores the hash its new content has, as a
	// forger would; the next record's prev_hash then gives it away.
	rehash := func(t *testing.T, d tamperDB) {
		var prev, event string
		if err := d.db.QueryRow("SELECT prev_hash, event FROM audit_events WHERE seq = 4").Scan(&prev, &event); err != nil {
			t.Fatal(err)
		}
		event = strings.Replace(event, "alice", "mallory", 1)
		_, err := d.db.Exec("UPDATE audit_events SET event = $1, hash = $2 WHERE seq = 4", event, storage.AuditHash(prev, []byte(event)))
		if err != nil {
			t.Fatal(err)
		}
	}
	tampers := []tamper{
		{"altered event", exec("UPDATE audit_events SET event = replace(event, 'alice', 'mallory') WHERE seq = 4"),
			4, "the event was altered"},
		{"altered event with its hash recomputed", rehash, 5, "prev_hash does not match"},
		{"altered hash", exec("UPDATE audit_events SET hash = replace(hash, substr(hash, 1, 1), 'x') WHERE seq = 7"),
			7, "the event was altered"},
		{"deleted row", exec("DELETE FROM audit_events WHERE seq = 6"), 6, "missing (the next stored event is seq 7)"},
		{"deleted row, later ones renumbered", exec(
			"DELETE FROM audit_events WHERE seq = 6",
			"UPDATE audit_events SET seq = 6 WHERE seq = 7", "UPDATE audit_events SET seq = 7 WHERE seq = 8",
			"UPDATE audit_events SET seq = 8 WHERE seq = 9", "UPDATE audit_events SET seq = 9 WHERE seq = 10",
		), 6, "prev_hash does not match"},
		{"swapped pair", exec(
			"UPDATE audit_events SET seq = -3 WHERE seq = 3",
			"UPDATE audit_events SET seq = 3 WHERE seq = 4",
			"UPDATE audit_events SET seq = 4 WHERE seq = -3",
		), 3, "prev_hash does not match"},
		{"deleted first row", exec("DELETE FROM audit_events WHERE seq = 1"), 1, "missing"},
		{"deleted last rows", exec("DELETE FROM audit_events WHERE seq >= 9"), 9, "events removed from the end"},
		{"moved head", exec("UPDATE audit_head SET hash = (SELECT hash FROM audit_events WHERE seq = 9)"),
			10, "does not match the chain head"},
		{"altered type column", exec("UPDATE audit_events SET type = 'logout' WHERE seq = 2"), 2, "type column"},
		{"altered time column", func(t *testing.T, d tamperDB) {
			exec("UPDATE audit_events SET event_time = "+d.shiftTime+" WHERE seq = 8")(t, d)
		}, 8, "time column"},
	}
	for _, backend := range []struct {
		name string
		open func(t *testing.T) tamperDB
	}{{"sqlite", sqliteTamperDB}, {"postgres", postgresTamperDB}} {
		t.Run(backend.name, func(t *testing.T) {
			t.Run("intact", func(t *testing.T) {
				d := backend.open(t)
				fillTrail(t, d.st)
				var seqs []int64
				n, err := Verify(t.Context(), d.st, func(r *storage.AuditRecord) { seqs = append(seqs, r.Seq) })
				if err != nil || n != 10 || len(seqs) != 10 || seqs[9] != 10 {
					t.Errorf("Verify = %d, %v (saw %v); want 10 events intact", n, err, seqs)
				}
			})
			for _, tc := range tampers {
				t.Run(tc.name, func(t *testing.T) {
					d := backend.open(t)
					fillTrail(t, d.st)
					tc.do(t, d)
					n, err := Verify(t.Context(), d.st, nil)
					var ce *ChainError
					if !errors.As(err, &ce) || !errors.Is(err, ErrBrokenChain) {
						t.Fatalf("Verify = %d, %v; want a *ChainError", n, err)
					}
					if ce.Seq != tc.seq || !strings.Contains(ce.Problem, tc.problem) {
						t.Errorf("Verify: %v; want seq %d and %q", err, tc.seq, tc.problem)
					}
					if n != tc.seq-1 {
						t.Errorf("Verify checked %d events before the break, want %d", n, tc.seq-1)
					}
					if !strings.Contains(err.Error(), fmt.Sprintf("seq %d", tc.seq)) {
						t.Errorf("error %q does not name seq %d", err, tc.seq)
					}
				})
			}
		})
	}
}

func TestVerifyMismatchNamesBothHashes(t *testing.T) {
	d := sqliteTamperDB(t)
	fillTrail(t, d.st)
	var stored string
	if err := d.db.QueryRow("SELECT hash FROM audit_events WHERE seq = 3").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec("UPDATE audit_events SET event = replace(event, '203.0.113.9', '198.51.100.1') WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	var event, prev string
	if err := d.db.QueryRow("SELECT event, prev_hash FROM audit_events WHERE seq = 3").Scan(&event, &prev); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(t.Context(), d.st, nil)
	want := fmt.Sprintf("audit trail broken at seq 3: the event was altered (its hash does not match): expected %s, stored %s",
		storage.AuditHash(prev, []byte(event)), stored)
	if err == nil || err.Error() != want {
		t.Errorf("Verify error\n got %v\nwant %s", err, want)
	}
}

func TestVerifyEmptyAndDatabaseErrors(t *testing.T) {
	st, _ := openSQLite(t)
	if n, err := Verify(t.Context(), st, nil); n != 0 || err != nil {
		t.Errorf("Verify of an empty trail = %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Verify(ctx, st, nil)
	if err == nil || errors.Is(err, ErrBrokenChain) {
		t.Errorf("Verify with a cancelled context = %v; want a database error, not a broken chain", err)
	}
}
