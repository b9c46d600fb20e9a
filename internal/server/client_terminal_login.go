package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ErrClientNotFound is SetClientTerminalLogin's answer for an unknown
// client.
var ErrClientNotFound = errors.New("client not found")

// SetClientTerminalLogin turns terminal sign-in (the password grant,
// grant_password.go) on or off for the client id: the one operation the
// admin API (PATCH /admin/v1/clients/{id}) and `gatehouse clients update`
// on the database share. Turning it on for a third-party client is
// clientreg.ErrTerminalLoginThirdParty. It returns the updated client and
// the audit event to record (client.updated, change "terminal_login
// on"/"off"), whose Actor the caller sets; nothing is recorded when the
// flag already had that value (changed is false).
func SetClientTerminalLogin(ctx context.Context, st storage.Store, now time.Time, id string, on bool) (c *storage.Client, ev audit.Event, changed bool, err error) {
	err = st.UpdateClient(ctx, id, func(cur *storage.Client) error {
		if err := clientreg.CheckTerminalLogin(cur.FirstParty, on); err != nil {
			return err
		}
		changed = cur.TerminalLogin != on
		cur.TerminalLogin = on
		if changed {
			cur.UpdatedAt = now.UTC()
		}
		c = cur
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ev, false, fmt.Errorf("%w: %q", ErrClientNotFound, id)
	case err != nil:
		return nil, ev, false, err
	}
	state := "off"
	if on {
		state = "on"
	}
	ev = audit.Event{Type: audit.ClientUpdated, Outcome: audit.Success, ClientID: id,
		Details: map[string]string{"change": "terminal_login " + state, "terminal_login": strconv.FormatBool(on)}}
	return c, ev, changed, nil
}
