package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ErrClientNotFound is UpdateClientSettings' answer for an unknown client.
var ErrClientNotFound = errors.New("client not found")

// ClientSettings are the settings of a client that can change without
// registering it again. A nil member stays as it is.
type ClientSettings struct {
	// RequirePAR: only pushed authorization requests (RFC 9126).
	RequirePAR *bool
	// DPoPRequired: no token without a DPoP proof (RFC 9449).
	DPoPRequired *bool
	// TerminalLogin: the password grant for `gatehouse login --terminal`;
	// only ever for first-party clients.
	TerminalLogin *bool
}

// Empty says that s changes nothing.
func (s ClientSettings) Empty() bool {
	return s.RequirePAR == nil && s.DPoPRequired == nil && s.TerminalLogin == nil
}

// UpdateClientSettings applies s to the client id: the one operation the
// admin API (PATCH /admin/v1/clients/{id}) and `gatehouse clients update`
// on the database share. Turning terminal sign-in on for a third-party
// client is clientreg.ErrTerminalLoginThirdParty. It returns the client as
// stored and the audit event to record (client.updated; its details name
// each change, e.g. "terminal_login on, dpop_required off"), whose Actor
// the caller sets; nothing needs recording when no setting had another
// value before (changed is false).
func UpdateClientSettings(ctx context.Context, st storage.Store, now time.Time, id string, s ClientSettings) (c *storage.Client, ev audit.Event, changed bool, err error) {
	var changes []string
	details := map[string]string{}
	set := func(name string, cur *bool, want *bool) {
		if want == nil {
			return
		}
		details[name] = strconv.FormatBool(*want)
		if *cur != *want {
			*cur = *want
			state := "off"
			if *want {
				state = "on"
			}
			changes = append(changes, name+" "+state)
		}
	}
	err = st.UpdateClient(ctx, id, func(cur *storage.Client) error {
		changes = changes[:0]
		if s.TerminalLogin != nil {
			if err := clientreg.CheckTerminalLogin(cur.FirstParty, *s.TerminalLogin); err != nil {
				return err
			}
		}
		set("terminal_login", &cur.TerminalLogin, s.TerminalLogin)
		set("require_par", &cur.RequirePAR, s.RequirePAR)
		set("dpop_required", &cur.DPoPRequired, s.DPoPRequired)
		if len(changes) > 0 {
			cur.UpdatedAt = now.UTC()
		}
		cp := *cur
		c = &cp
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ev, false, fmt.Errorf("%w: %q", ErrClientNotFound, id)
	case err != nil:
		return nil, ev, false, err
	}
	if len(changes) == 0 {
		return c, ev, false, nil
	}
	details["change"] = strings.Join(changes, ", ")
	ev = audit.Event{Type: audit.ClientUpdated, Outcome: audit.Success, ClientID: id, Details: details}
	return c, ev, true, nil
}
