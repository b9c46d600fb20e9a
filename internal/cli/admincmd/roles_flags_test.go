package admincmd

import (
	"reflect"
	"testing"
)

// The flags of the roles commands land in their options.
func TestRolesFlags(t *testing.T) {
	t.Parallel()
	const srv = "https://auth.example"
	c := parse(t, NewCmdRolesCreate, "create", "ops", "--permission", "clients:read", "--permission", "users:read",
		"--description", "operators", "--json", "--server", srv)
	if c.Name != "ops" || !reflect.DeepEqual(c.Permissions, []string{"clients:read", "users:read"}) ||
		c.Description != "operators" || !c.JSON || c.Server != srv {
		t.Errorf("roles create: %+v", c)
	}
	u := parse(t, NewCmdRolesUpdate, "update", "ops", "--add-permission", "a", "--add-permission", "b",
		"--remove-permission", "c", "--description", "", "--json", "--server", srv)
	if u.Name != "ops" || !reflect.DeepEqual(u.Add, []string{"a", "b"}) || !reflect.DeepEqual(u.Remove, []string{"c"}) ||
		u.Description == nil || *u.Description != "" || !u.JSON || u.Server != srv {
		t.Errorf("roles update: %+v", u)
	}
	if u := parse(t, NewCmdRolesUpdate, "update", "ops", "--remove-permission", "c"); u.Description != nil || u.Add != nil || u.JSON {
		t.Errorf("roles update without --description: %+v", u)
	}
	if l := parse(t, NewCmdRolesList, "list", "--json", "--server", srv); !l.JSON || l.Server != srv {
		t.Errorf("roles list: %+v", l)
	}
	if s := parse(t, NewCmdRolesShow, "show", "ops", "--json", "--server", srv); s.Name != "ops" || !s.JSON || s.Server != srv {
		t.Errorf("roles show: %+v", s)
	}
	if d := parse(t, NewCmdRolesDelete, "delete", "ops", "--server", srv); d.Name != "ops" || d.Server != srv {
		t.Errorf("roles delete: %+v", d)
	}
}
