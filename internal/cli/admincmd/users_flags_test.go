package admincmd

import (
	"reflect"
	"testing"
)

// The flags of the users commands land in their options.
func TestUsersFlags(t *testing.T) {
	t.Parallel()
	const srv = "https://auth.example"
	add := parse(t, NewCmdUsersAdd, "add", "alice", "--role", "editor,viewer", "--role", "ops",
		"--email", "alice@example.com", "--email-verified", "--name", "Alice Liddell",
		"--password-stdin", "--connector", "ldap", "--json", "--server", srv)
	if add.Name != "alice" || !reflect.DeepEqual(add.Roles, []string{"editor", "viewer", "ops"}) ||
		add.Profile.email != "alice@example.com" || !add.Profile.emailVerified || add.Profile.name != "Alice Liddell" ||
		!add.PasswordStdin || add.Connector != "ldap" || !add.JSON || add.Server != srv {
		t.Errorf("users add: %+v", add)
	}
	if a := parse(t, NewCmdUsersAdd, "add", "bob"); a.Roles != nil || a.PasswordStdin || a.Connector != "" || a.JSON || a.Profile.emailVerified {
		t.Errorf("users add defaults: %+v", a)
	}

	up := parse(t, NewCmdUsersUpdate, "update", "alice", "--email", "a@example.com", "--email-verified=false",
		"--name", "Al", "--disabled", "--json", "--server", srv)
	if up.Name != "alice" || up.Profile.email != "a@example.com" || up.Profile.emailVerified || up.Profile.name != "Al" ||
		up.Disabled == nil || !*up.Disabled || !up.JSON || up.Server != srv {
		t.Errorf("users update: %+v", up)
	}
	if u := parse(t, NewCmdUsersUpdate, "update", "alice", "--disabled=false"); u.Disabled == nil || *u.Disabled {
		t.Errorf("users update --disabled=false: %+v", u)
	}
	if u := parse(t, NewCmdUsersUpdate, "update", "alice", "--name", "Al"); u.Disabled != nil {
		t.Errorf("users update without --disabled: %+v", u)
	}

	if s := parse(t, NewCmdUsersSetRole, "set-role", "alice", "editor", "ops", "--server", srv); s.Name != "alice" ||
		!reflect.DeepEqual(s.Roles, []string{"editor", "ops"}) || s.Server != srv {
		t.Errorf("users set-role: %+v", s)
	}
	parseFails(t, NewCmdUsersSetRole, "set-role", "alice")
	if p := parse(t, NewCmdUsersPasswd, "passwd", "alice", "--password-stdin", "--server", srv); p.Name != "alice" || !p.PasswordStdin || p.Server != srv {
		t.Errorf("users passwd: %+v", p)
	}
	if p := parse(t, NewCmdUsersPasswd, "passwd", "alice"); p.PasswordStdin {
		t.Errorf("users passwd without --password-stdin: %+v", p)
	}
	if l := parse(t, NewCmdUsersList, "list", "--json", "--server", srv); !l.JSON || l.Server != srv {
		t.Errorf("users list: %+v", l)
	}
	if s := parse(t, NewCmdUsersShow, "show", "alice", "--json", "--server", srv); s.Name != "alice" || !s.JSON || s.Server != srv {
		t.Errorf("users show: %+v", s)
	}
	if d := parse(t, NewCmdUsersDelete, "delete", "alice", "--server", srv); d.Name != "alice" || d.Server != srv {
		t.Errorf("users delete: %+v", d)
	}
	if m := parse(t, NewCmdUsersMFAReset, "mfa-reset", "alice", "--server", srv); m.Name != "alice" || m.Server != srv {
		t.Errorf("users mfa-reset: %+v", m)
	}
}
