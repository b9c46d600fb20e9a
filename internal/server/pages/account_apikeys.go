package pages

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// A user's own API keys on the account page: keys that act as the user
// (their current roles, nothing more), expire after ownAPIKeyTTL, are
// shown once when made and can be revoked by the user.

const (
	ownAPIKeyTTL     = 90 * 24 * time.Hour
	maxAPIKeyNameLen = 100
)

type apiKeyRow struct {
	ID, Name, Created, Expires string
}

// ownAPIKeys lists the usable keys acting as userID.
func (pg *Pages) ownAPIKeys(r *http.Request, userID string) ([]apiKeyRow, error) {
	all, err := pg.store.ListAPIKeys(r.Context())
	if err != nil {
		return nil, err
	}
	now := pg.clock.Now()
	var out []apiKeyRow
	for _, k := range all {
		if k.UserID != userID || !k.RevokedAt.IsZero() || !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			continue
		}
		row := apiKeyRow{ID: k.ID, Name: k.Name, Created: k.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), Expires: "never"}
		if !k.ExpiresAt.IsZero() {
			row.Expires = k.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		out = append(out, row)
	}
	return out, nil
}

func (pg *Pages) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, true)
	if a == nil || !pg.recentSignIn(w, r, a) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > maxAPIKeyNameLen {
		pg.renderAccount(w, r, http.StatusBadRequest, a, accountPage{Section: sectionAPIKeys, Error: "Give the key a name of at most 100 characters."})
		return
	}
	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	now := pg.clock.Now().UTC()
	k := &storage.APIKey{ID: id, Name: name, SecretHash: secret.Hash(sec), UserID: a.user.ID,
		CreatedAt: now, ExpiresAt: now.Add(ownAPIKeyTTL)}
	if err := pg.store.CreateAPIKey(r.Context(), k); err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.APIKeyCreated, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r),
		Details: map[string]string{"apikey_id": id, "name": name, "via": "account"}})
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionAPIKeys, NewAPIKey: key})
}

func (pg *Pages) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, true)
	if a == nil {
		return
	}
	id := r.PostFormValue("id")
	now := pg.clock.Now().UTC()
	errNotOwn := errors.New("not the user's key")
	err := pg.store.UpdateAPIKey(r.Context(), id, func(k *storage.APIKey) error {
		if k.UserID != a.user.ID {
			return errNotOwn
		}
		if k.RevokedAt.IsZero() {
			k.RevokedAt = now
		}
		return nil
	})
	switch {
	case errors.Is(err, errNotOwn), errors.Is(err, storage.ErrNotFound):
		pg.renderAccount(w, r, http.StatusNotFound, a, accountPage{Section: sectionAPIKeys, Error: "No such API key."})
		return
	case err != nil:
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.APIKeyRevoked, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r),
		Details: map[string]string{"apikey_id": id, "via": "account"}})
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionAPIKeys, Message: "API key revoked."})
}
