package admincmd

import (
	"testing"
	"time"
)

// The flags of the keys commands land in their options.
func TestKeysFlags(t *testing.T) {
	t.Parallel()
	const srv = "https://auth.example"
	r := parse(t, NewCmdKeysRotate, "rotate", "--activate-in", "10m", "--json", "--server", srv)
	if r.ActivateIn == nil || *r.ActivateIn != 10*time.Minute || !r.JSON || r.Server != srv {
		t.Errorf("keys rotate: %+v", r)
	}
	if r := parse(t, NewCmdKeysRotate, "rotate", "--activate-in", "0s"); r.ActivateIn == nil || *r.ActivateIn != 0 {
		t.Errorf("keys rotate --activate-in 0s: %+v", r)
	}
	if r := parse(t, NewCmdKeysRotate, "rotate"); r.ActivateIn != nil || r.JSON {
		t.Errorf("keys rotate without flags: %+v", r)
	}
	parseFails(t, NewCmdKeysRotate, "rotate", "--activate-in", "soon")
	if l := parse(t, NewCmdKeysList, "list", "--json", "--server", srv); !l.JSON || l.Server != srv {
		t.Errorf("keys list: %+v", l)
	}
}
