package admincmd

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to tamper with the trail

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/backend"
)

// auditLine is one line of audit list --json.
type auditLine struct {
	Seq      int64  `json:"seq"`
	Type     string `json:"type"`
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	ClientID string `json:"client_id"`
	Actor    string `json:"actor"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

func auditLines(t *testing.T, out string) []auditLine {
	t.Helper()
	var lines []auditLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l auditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("audit list --json line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

func auditTypes(lines []auditLine) string {
	var types []string
	for _, l := range lines {
		types = append(types, l.Type)
	}
	return strings.Join(types, " ")
}

// newAuditHarness is a harness whose commands have left client.created,
// user.created, user.created and client.updated events, a minute apart.
func newAuditHarness(t *testing.T) (*harness, *clocktest.Fake) {
	t.Helper()
	h := newHarness(t)
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	h.prepare = func(s *command.IOStreams) { s.Clock = clk }
	h.ok("", "clients", "create", "ci", "--grant", "client_credentials", "--json")
	clk.Advance(time.Minute)
	h.ok("pass-Word-1234\n", "users", "add", "alice", "--role", "viewer", "--password-stdin")
	clk.Advance(time.Minute)
	h.ok("pass-Word-5678\n", "users", "add", "bob", "--role", "viewer", "--password-stdin")
	clk.Advance(time.Minute)
	h.ok("", "clients", "rotate-secret", "ci")
	return h, clk
}

func TestAuditListAndFilters(t *testing.T) {
	t.Parallel()
	h, _ := newAuditHarness(t)

	all := auditLines(t, h.ok("", "audit", "list", "--json").Out)
	if got := auditTypes(all); got != "client.created user.created user.created client.updated" {
		t.Fatalf("audit list --json types: %s", got)
	}
	prev := storage.AuditGenesisHash
	for i, l := range all {
		if l.Seq != int64(i+1) || l.PrevHash != prev || len(l.Hash) != 64 || l.Actor != "cli" {
			t.Errorf("line %d: %+v; want seq %d chained to %s, actor cli", i, l, i+1, prev)
		}
		prev = l.Hash
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--type", "user.created"}, "user.created user.created"},
		{[]string{"--user", "alice"}, "user.created"},
		{[]string{"--user", "ALICE", "--type", "client.created"}, ""},
		{[]string{"--limit", "2"}, "user.created client.updated"},
		{[]string{"--limit", "0"}, "client.created user.created user.created client.updated"},
		{[]string{"--since", "90s"}, "user.created client.updated"},
		{[]string{"--since", "2030-01-02T03:05:05Z"}, "user.created user.created client.updated"},
		{[]string{"--since", "2030-01-03"}, ""},
		{[]string{"--since", "1d", "--type", "client.created"}, "client.created"},
	} {
		lines := auditLines(t, h.ok("", append([]string{"audit", "list", "--json"}, tc.args...)...).Out)
		if got := auditTypes(lines); got != tc.want {
			t.Errorf("audit list %v: %q, want %q", tc.args, got, tc.want)
		}
	}
	if lines := auditLines(t, h.ok("", "audit", "list", "--user", "bob", "--json").Out); len(lines) != 1 || lines[0].Username != "bob" {
		t.Errorf("--user bob: %+v", lines)
	}

	table := h.ok("", "audit", "list").Out
	rows := strings.Split(strings.TrimSpace(table), "\n")
	if len(rows) != 5 || !strings.HasPrefix(rows[0], "SEQ") {
		t.Fatalf("audit list table:\n%s", table)
	}
	for _, want := range []string{"2030-01-02T03:04:05Z", "client.created", "alice", "roles=viewer", "change=secret rotated"} {
		if !strings.Contains(table, want) {
			t.Errorf("audit list table lacks %q:\n%s", want, table)
		}
	}

	// An unknown name is taken as the ID of a deleted user.
	r := h.ok("", "audit", "list", "--user", "nobody")
	if !strings.Contains(r.ErrOut, "no user is called") || strings.Count(r.Out, "\n") != 1 {
		t.Errorf("--user nobody: stdout %q stderr %q", r.Out, r.ErrOut)
	}
}

func TestAuditListUsage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fail(command.ExitUsage, "--limit", "", "audit", "list", "--limit", "-1")
	h.fail(command.ExitUsage, "want a duration", "", "audit", "list", "--since", "yesterday")
	h.fail(command.ExitUsage, "negative", "", "audit", "list", "--since", "-5m")
	h.fail(command.ExitUsage, "unknown command", "", "audit", "check")
}

func TestAuditVerify(t *testing.T) {
	t.Parallel()
	h, _ := newAuditHarness(t)
	r := h.ok("", "audit", "verify")
	if !strings.HasPrefix(r.Out, "audit trail intact: 4 events\n") || !strings.Contains(r.Out, "seq 4, hash ") {
		t.Errorf("audit verify:\n%s", r.Out)
	}
	v := decode[auditVerifyJSON](t, h.ok("", "audit", "verify", "--json").Out)
	if !v.Intact || v.Events != 4 || v.LastSeq != 4 || len(v.LastHash) != 64 {
		t.Errorf("audit verify --json = %+v", v)
	}

	// Tamper with the second event directly in the database.
	db, err := sql.Open("sqlite", filepath.Join(h.dataDir, backend.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE audit_events SET event = replace(event, '"viewer"', '"admin"') WHERE seq = 2`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tampered with %d rows", n)
	}

	r = h.fail(command.ExitError, "audit trail broken at seq 2", "", "audit", "verify")
	if strings.Contains(r.Out, "intact") {
		t.Errorf("a broken trail printed %q", r.Out)
	}
	if !strings.Contains(r.Err.Error(), "expected ") || !strings.Contains(r.Err.Error(), "stored ") {
		t.Errorf("the error does not show the expected and stored hashes: %v", r.Err)
	}
	r = h.fail(command.ExitError, "seq 2", "", "audit", "verify", "--json")
	v = decode[auditVerifyJSON](t, r.Out)
	if v.Intact || v.BrokenSeq != 2 || v.Events != 1 || v.LastSeq != 1 || v.Expected == v.Stored || v.Stored == "" {
		t.Errorf("audit verify --json on a tampered trail = %+v", v)
	}

	// Removing the event instead is caught too.
	if _, err := db.Exec(`DELETE FROM audit_events WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	h.fail(command.ExitError, "audit trail broken at seq 2: missing", "", "audit", "verify")
}

func TestAuditVerifyEmptyDatabase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if r := h.ok("", "audit", "verify"); !strings.HasPrefix(r.Out, "audit trail intact: 0 events\n") {
		t.Errorf("audit verify on a new database:\n%s", r.Out)
	}
}

func TestAuditPrune(t *testing.T) {
	t.Parallel()
	h, clk := newAuditHarness(t)
	h.fail(command.ExitUsage, "--before is required", "", "audit", "prune")
	archive := filepath.Join(t.TempDir(), "archive.jsonl")
	// Events at 03:04:05, 03:05:05, 03:06:05 and 03:07:05; now 03:07:05.
	clk.Advance(30 * time.Second)
	r := h.ok("", "audit", "prune", "--before", "2m", "--archive", archive)
	if !strings.HasPrefix(r.Out, "pruned 2 audit events") {
		t.Fatalf("audit prune: %q", r.Out)
	}
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	if got := auditLines(t, string(b)); len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || got[0].Type != "client.created" {
		t.Fatalf("archive = %+v", got)
	}
	// The kept part (and the prune's own event) still verifies.
	v := decode[auditVerifyJSON](t, h.ok("", "audit", "verify", "--json").Out)
	if !v.Intact || v.Events != 3 || v.LastSeq != 5 || v.PrunedThrough != 2 || len(v.CheckpointHash) != 64 {
		t.Errorf("audit verify --json after prune = %+v", v)
	}
	if lines := auditLines(t, h.ok("", "audit", "list", "--json", "--limit", "0").Out); auditTypes(lines) != "user.created client.updated audit.pruned" {
		t.Errorf("kept events: %s", auditTypes(lines))
	}
}
