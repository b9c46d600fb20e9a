package admincmd

import (
	"reflect"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// The flags of the apikeys commands land in their options.
func TestAPIKeysFlags(t *testing.T) {
	t.Parallel()
	const srv = "https://auth.example"
	c := parse(t, NewCmdAPIKeysCreate, "create", "ci", "--scope", "read", "--scope", "write", "--role", "viewer,editor",
		"--user", "alice", "--expires", "720h", "--json", "--server", srv)
	c.IO = command.IOStreams{}
	want := &APIKeysCreateOptions{Server: srv, Name: "ci", Scopes: []string{"read", "write"}, Roles: []string{"viewer", "editor"},
		Expires: "720h", User: "alice", UserSet: true, JSON: true}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("apikeys create:\n got %+v\nwant %+v", c, want)
	}
	if c := parse(t, NewCmdAPIKeysCreate, "create", "ci"); c.UserSet || c.User != "" || c.JSON || c.Expires != "" {
		t.Errorf("apikeys create defaults: %+v", c)
	}
	if c := parse(t, NewCmdAPIKeysCreate, "create", "ci", "--user", ""); !c.UserSet {
		t.Errorf("apikeys create --user '': UserSet false")
	}
	if l := parse(t, NewCmdAPIKeysList, "list", "--json", "--server", srv); !l.JSON || l.Server != srv {
		t.Errorf("apikeys list: %+v", l)
	}
	if r := parse(t, NewCmdAPIKeysRevoke, "revoke", "k1", "--server", srv); r.ID != "k1" || r.Server != srv {
		t.Errorf("apikeys revoke: %+v", r)
	}
	if r := parse(t, NewCmdAPIKeysRotate, "rotate", "k1", "--json", "--server", srv); r.ID != "k1" || !r.JSON || r.Server != srv {
		t.Errorf("apikeys rotate: %+v", r)
	}
}
