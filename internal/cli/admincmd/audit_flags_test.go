package admincmd

import (
	"reflect"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// The flags of the audit commands land in their options.
func TestAuditFlags(t *testing.T) {
	t.Parallel()
	const srv = "https://auth.example"
	l := parse(t, NewCmdAuditList, "list", "--since", "24h", "--user", "alice", "--type", "user.created",
		"--limit", "7", "--json", "--server", srv)
	l.IO = command.IOStreams{}
	want := &AuditListOptions{Server: srv, Since: "24h", User: "alice", Type: "user.created", Limit: 7, JSON: true}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("audit list:\n got %+v\nwant %+v", l, want)
	}
	p := parse(t, NewCmdAuditPrune, "prune", "--before", "2160h", "--archive", "old.jsonl")
	if p.Before != "2160h" || p.Archive != "old.jsonl" || p.Admin != nil {
		t.Errorf("audit prune: %+v", p)
	}
	if v := parse(t, NewCmdAuditVerify, "verify", "--json", "--server", srv); !v.JSON || v.Server != srv {
		t.Errorf("audit verify: %+v", v)
	}
}
