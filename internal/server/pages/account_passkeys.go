package pages

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// A user's passkeys on the account page: register (through
// static/passkey.js), rename and remove. Registering or removing one needs
// a recent sign-in, like making an API key (recentSignIn); a user in the
// middle of a required enrolment (mfa.required_roles) may register one
// instead of setting up TOTP, which completes the sign-in.

// passkeyRow is a passkey as the account page lists it.
type passkeyRow struct {
	ID, Name, Created, LastUsed string
	// Synced says the passkey is backed up (BS flag), e.g. in a
	// password manager or platform keychain; Syncable that it may be
	// (BE flag) though it is not now.
	Synced, Syncable bool
}

func passkeyRows(keys []*storage.Passkey) []passkeyRow {
	out := make([]passkeyRow, 0, len(keys))
	for _, k := range keys {
		row := passkeyRow{ID: k.ID, Name: k.Name, Created: k.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
			LastUsed: "never", Synced: k.BackupState, Syncable: k.BackupEligible && !k.BackupState}
		if !k.LastUsedAt.IsZero() {
			row.LastUsed = k.LastUsedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		out = append(out, row)
	}
	return out
}

// passkeyActor is accountRequest for the JSON passkey endpoints: the
// account page's actor, or nil when it has answered (with where to sign
// in). recent asks for a recent sign-in as recentSignIn does.
func (pg *Pages) passkeyActor(w http.ResponseWriter, r *http.Request, recent bool) *accountActor {
	a, err := pg.actor(r)
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return nil
	}
	if a == nil {
		respond.JSON(w, http.StatusUnauthorized, passkeyAnswer{Error: "Sign in first.", Redirect: pg.loginURL(pg.at(PathAccount), false)})
		return nil
	}
	if recent && a.sess != nil && pg.clock.Now().Sub(a.sess.AuthTime) > time.Duration(pg.cfg.Tokens.AccountRecentAuth) {
		respond.JSON(w, http.StatusUnauthorized, passkeyAnswer{Error: "Sign in again to add a passkey.", Redirect: pg.loginURL(pg.at(PathAccount), true)})
		return nil
	}
	return a
}

// handlePasskeyRegisterBegin starts registering a passkey for the account
// page's user: a discoverable credential (resident key required), user
// verification required, no attestation asked for, and none of the
// user's passkeys again (excludeCredentials).
func (pg *Pages) handlePasskeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	if !pg.passkeyForm(w, r) {
		return
	}
	a := pg.passkeyActor(w, r, true)
	if a == nil {
		return
	}
	keys, err := pg.userPasskeys(r.Context(), a.user.ID)
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	if len(keys) >= maxPasskeys {
		passkeyFail(w, http.StatusConflict, "You have the most passkeys an account may have. Remove one to add another.")
		return
	}
	pu := passkeyUser{u: a.user, keys: keys}
	required := true
	opts, sd, err := pg.webauthn.BeginRegistration(pu,
		webauthn.WithExclusions(webauthn.Credentials(pu.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			RequireResidentKey: &required,
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
	)
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	if err := pg.setCeremony(w, passkeyCeremony{Kind: ceremonyRegister, UserID: a.user.ID, Session: *sd}); err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, passkeyAnswer{Options: opts})
}

// handlePasskeyRegisterFinish checks the new credential and stores it.
func (pg *Pages) handlePasskeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	if !pg.passkeyForm(w, r) {
		return
	}
	c := pg.ceremony(w, r, ceremonyRegister)
	a := pg.passkeyActor(w, r, true)
	if a == nil {
		return
	}
	if c == nil || c.UserID != a.user.ID {
		passkeyFail(w, http.StatusBadRequest, msgPasskeyExpired)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = "Passkey"
	}
	if len(name) > maxPasskeyNameLen {
		passkeyFail(w, http.StatusBadRequest, "Give the passkey a name of at most 100 characters.")
		return
	}
	ctx := r.Context()
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		pg.log.Info("passkey registration refused", "err", err, "info", passkeyErrInfo(err))
		passkeyFail(w, http.StatusBadRequest, "The authenticator's answer could not be read. Try again.")
		return
	}
	if ok, err := pg.useChallenge(ctx, c); err != nil {
		pg.passkeyServerError(w, r, err)
		return
	} else if !ok {
		passkeyFail(w, http.StatusBadRequest, msgPasskeyExpired)
		return
	}
	keys, err := pg.userPasskeys(ctx, a.user.ID)
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	cred, err := pg.webauthn.CreateCredential(passkeyUser{u: a.user, keys: keys}, c.Session, parsed)
	if err != nil {
		pg.log.Info("passkey registration refused", "err", err, "info", passkeyErrInfo(err))
		passkeyFail(w, http.StatusBadRequest, "The passkey could not be registered: the authenticator's answer did not check out for this site. Try again, or use another authenticator.")
		return
	}
	now := pg.clock.Now().UTC()
	pk := &storage.Passkey{
		ID:                "pk_" + secret.NewID(),
		UserID:            a.user.ID,
		CredentialID:      cred.ID,
		PublicKey:         cred.PublicKey,
		AttestationType:   cred.AttestationType,
		AttestationFormat: cred.AttestationFormat,
		AAGUID:            cred.Authenticator.AAGUID,
		SignCount:         cred.Authenticator.SignCount,
		UserVerified:      cred.Flags.UserVerified,
		BackupEligible:    cred.Flags.BackupEligible,
		BackupState:       cred.Flags.BackupState,
		Name:              name,
		CreatedAt:         now,
	}
	for _, t := range cred.Transport {
		pk.Transports = append(pk.Transports, string(t))
	}
	if err := pg.store.CreatePasskey(ctx, pk); errors.Is(err, storage.ErrAlreadyExists) {
		passkeyFail(w, http.StatusConflict, "This passkey is already registered.")
		return
	} else if err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.PasskeyRegistered, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r),
		Details: map[string]string{"passkey_id": pk.ID, "name": name, "aaguid": aaguidString(pk.AAGUID),
			"backup_eligible": boolText(pk.BackupEligible), "via": "account"}})
	if a.pend != nil {
		// A required enrolment completes the sign-in.
		pg.finishPasskeySignIn(w, r, a.user, pk, "password+passkey", a.pend.ReturnTo)
		return
	}
	respond.JSON(w, http.StatusOK, passkeyAnswer{Redirect: pg.at(PathAccount)})
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// ownPasskey returns a.user's passkey with the id of the form, or
// answers that there is none.
func (pg *Pages) ownPasskey(w http.ResponseWriter, r *http.Request, a *accountActor) *storage.Passkey {
	pk, err := pg.store.GetPasskey(r.Context(), r.PostFormValue("id"))
	if errors.Is(err, storage.ErrNotFound) || err == nil && pk.UserID != a.user.ID {
		pg.renderAccount(w, r, http.StatusNotFound, a, accountPage{Section: sectionPasskeys, Error: "No such passkey."})
		return nil
	}
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return nil
	}
	return pk
}

func (pg *Pages) handlePasskeyRename(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, true)
	if a == nil {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > maxPasskeyNameLen {
		pg.renderAccount(w, r, http.StatusBadRequest, a, accountPage{Section: sectionPasskeys, Error: "Give the passkey a name of at most 100 characters."})
		return
	}
	pk := pg.ownPasskey(w, r, a)
	if pk == nil {
		return
	}
	err := pg.store.UpdatePasskey(r.Context(), pk.ID, func(p *storage.Passkey) error {
		p.Name = name
		return nil
	})
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.PasskeyRenamed, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r),
		Details: map[string]string{"passkey_id": pk.ID, "name": name, "old_name": pk.Name, "via": "account"}})
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionPasskeys, Message: "Passkey renamed."})
}

func (pg *Pages) handlePasskeyRemove(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, true)
	if a == nil || !pg.recentSignIn(w, r, a) {
		return
	}
	pk := pg.ownPasskey(w, r, a)
	if pk == nil {
		return
	}
	if err := pg.store.DeletePasskey(r.Context(), pk.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.PasskeyRemoved, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r),
		Details: map[string]string{"passkey_id": pk.ID, "name": pk.Name, "via": "account"}})
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionPasskeys, Message: "Passkey removed. It no longer signs you in here; you may also delete it from your authenticator."})
}
