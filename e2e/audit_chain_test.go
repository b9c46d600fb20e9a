package e2e

import (
	"bufio"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to tamper with the trail
)

// TestAuditChainVerify: a server records logins in the hash-chained audit
// trail; after it stops, `gatehouse audit verify` finds the trail intact and
// `audit list` shows the logins. Changing one stored event by hand makes
// verify fail with a non-zero status naming that event's seq.
func TestAuditChainVerify(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	if err := loginHTTP(newBrowser(t, g.URL), g.URL, "admin", "Wrong-"+rand.Text()); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	for range 2 {
		if err := loginHTTP(newBrowser(t, g.URL), g.URL, "admin", adminPassword); err != nil {
			t.Fatalf("login: %v", err)
		}
	}
	g.signal(t, syscall.SIGTERM)
	if exited, err := g.wait(25 * time.Second); !exited || err != nil {
		t.Fatalf("server after SIGTERM: exited %v, %v", exited, err)
	}

	out, errOut, code := runCLI(t, "", append([]string{"audit", "verify"}, g.storage...)...)
	if code != 0 || !strings.HasPrefix(out, "audit trail intact: ") {
		t.Fatalf("audit verify: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	out, errOut, code = runCLI(t, "", append([]string{"audit", "list", "--json", "--type", "login.success"}, g.storage...)...)
	if code != 0 {
		t.Fatalf("audit list: exit %d\nstderr: %s", code, errOut)
	}
	type login struct {
		Seq      int64  `json:"seq"`
		Username string `json:"username"`
		Hash     string `json:"hash"`
	}
	var logins []login
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l login
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("audit list --json line %q: %v", sc.Text(), err)
		}
		logins = append(logins, l)
	}
	if len(logins) != 2 || logins[0].Username != "admin" || logins[0].Seq == 0 || len(logins[0].Hash) != 64 {
		t.Fatalf("audit list --type login.success: %+v\n%s", logins, out)
	}
	// The server's own output carries the same chain.
	stdout, err := os.ReadFile(g.stdout)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stdout), `"hash":"`+logins[1].Hash+`"`) {
		t.Errorf("the server's audit output lacks the hash of seq %d:\n%s", logins[1].Seq, tail(string(stdout), 3000))
	}

	// Turn the first successful login into one of another user.
	db, err := sql.Open("sqlite", filepath.Join(g.DataDir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE audit_events SET event = replace(event, '"username":"admin"', '"username":"mallory"') WHERE seq = $1`, logins[0].Seq)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tampered with %d rows", n)
	}
	db.Close()

	out, errOut, code = runCLI(t, "", append([]string{"audit", "verify"}, g.storage...)...)
	if code == 0 || strings.Contains(out, "intact") {
		t.Fatalf("audit verify after tampering: exit %d\nstdout: %s", code, out)
	}
	if want := "audit trail broken at seq " + strconv.FormatInt(logins[0].Seq, 10); !strings.Contains(errOut, want) {
		t.Errorf("audit verify: stderr %q does not contain %q", errOut, want)
	}
}
