package adminbackend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Backend is where the admin commands work: the database,
// through the admin layer (dbBackend), or a server's admin API, which
// calls the same layer there (apiBackend). Run picks one
// where the admin target is resolved; the commands never ask which.
//
// Refusals come back as *admin.Error in both, so a command prints them
// the same way whichever backend it has (CommandError).
type Backend interface {
	ListUsers(ctx context.Context) ([]*storage.User, error)
	GetUser(ctx context.Context, name string) (*storage.User, error)
	CreateUser(ctx context.Context, nu admin.NewUser) (*storage.User, error)
	UpdateUser(ctx context.Context, name string, up admin.UserUpdate) (*storage.User, error)
	SetPassword(ctx context.Context, name, password string) error
	DeleteUser(ctx context.Context, name string) error
	// ResetMFA removes the user's second factors; removed is false when
	// there were none.
	ResetMFA(ctx context.Context, name string) (u *storage.User, removed bool, err error)

	ListRoles(ctx context.Context) ([]*storage.Role, error)
	GetRole(ctx context.Context, name string) (*storage.Role, error)
	CreateRole(ctx context.Context, nr admin.NewRole) (*storage.Role, error)
	UpdateRole(ctx context.Context, name string, up admin.RoleUpdate) (*storage.Role, error)
	DeleteRole(ctx context.Context, name string) error

	ListAPIKeys(ctx context.Context) ([]*storage.APIKey, error)
	// CreateAPIKey returns the key with its secret, shown only once, and
	// the user it acts as (nil for none).
	CreateAPIKey(ctx context.Context, nk admin.NewAPIKey) (k *storage.APIKey, key string, user *storage.User, err error)
	// RevokeAPIKey returns the key; revoked is false when it already was.
	RevokeAPIKey(ctx context.Context, id string) (k *storage.APIKey, revoked bool, err error)
	RotateAPIKey(ctx context.Context, id string) (k *storage.APIKey, key string, err error)

	ListSigningKeys(ctx context.Context) ([]signing.KeyInfo, error)
	// RotateSigningKey creates a key that signs activateIn from now (nil:
	// signing.prepublish).
	RotateSigningKey(ctx context.Context, activateIn *time.Duration) (signing.KeyInfo, error)
	// SigningTimes are signing.prepublish and signing.reload_interval of
	// the target; over the admin API the defaults, which the server does
	// not tell.
	SigningTimes() (prepublish, reload config.Duration)

	ListClients(ctx context.Context) ([]*storage.Client, error)
	GetClient(ctx context.Context, id string) (*storage.Client, error)
	// CreateClient returns the client with its secret, shown only once
	// ("" for a client without one).
	CreateClient(ctx context.Context, nc admin.NewClient) (c *storage.Client, secret string, err error)
	UpdateClient(ctx context.Context, id string, set admin.ClientSettings) (*storage.Client, error)
	// RotateClientSecret returns the client's new secret.
	RotateClientSecret(ctx context.Context, id string) (secret string, err error)
	DeleteClient(ctx context.Context, id string) error

	// ListAudit returns the audit records f selects, oldest first.
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error)
	// VerifyAudit checks the audit trail's hash chain.
	VerifyAudit(ctx context.Context) (admin.AuditCheck, error)
}

// Run runs an admin command on the backend of the target runTarget
// resolves: the admin API of serverURL (--server), else the database.
func Run(cmd *cobra.Command, f *command.Factory, serverURL string, run func(ctx context.Context, b Backend) error) error {
	streams := f.IOStreams
	return runTarget(cmd, f, serverURL, func(ctx context.Context, api *adminAPI, env *Env) error {
		if api != nil {
			return run(ctx, apiBackend{api})
		}
		return run(ctx, NewDatabase(streams, env))
	})
}

// CommandError is what a command prints for an error of its backend:
// invalid input is a usage error, an unknown user or role says where to
// look (list names the list command), anything else is the error itself.
func CommandError(err error, list string) error {
	switch admin.KindOf(err) {
	case admin.Invalid:
		return &command.UsageError{Err: err}
	case admin.NotFound:
		return fmt.Errorf("%w; see '%s'", err, list)
	}
	return err
}

// dbBackend works on the database opened by openAdmin; clients are
// checked against the issuer of its configuration.
type dbBackend struct {
	ops     *admin.Service
	env     *Env
	streams command.IOStreams
}

// NewDatabase is the Backend on the database of env, through the admin
// layer; its events go to env's audit trail.
func NewDatabase(streams command.IOStreams, env *Env) Backend {
	var connectors []string
	if env.Config != nil {
		for _, c := range env.Config.Connectors {
			connectors = append(connectors, c.ID)
		}
	}
	var issuer string
	if env.Config != nil {
		issuer = env.Config.Issuer
	}
	checkClient := func(c *storage.Client) error { return oauth.CheckClientRegistration(issuer, c) }
	return dbBackend{env: env, streams: streams, ops: admin.New(env.Store, admin.Options{Hasher: newHasher(), Clock: env.Clock,
		Connectors: connectors, CheckClient: checkClient})}
}

// record logs the event of an operation, unless it is empty.
func (b dbBackend) record(ev audit.Event) {
	if ev.Type != "" {
		b.env.Log(ev)
	}
}

func (b dbBackend) ListUsers(ctx context.Context) ([]*storage.User, error) {
	return b.ops.ListUsers(ctx)
}

func (b dbBackend) GetUser(ctx context.Context, name string) (*storage.User, error) {
	return b.ops.GetUser(ctx, name)
}

func (b dbBackend) CreateUser(ctx context.Context, nu admin.NewUser) (*storage.User, error) {
	u, ev, err := b.ops.CreateUser(ctx, nu)
	b.record(ev)
	return u, err
}

func (b dbBackend) UpdateUser(ctx context.Context, name string, up admin.UserUpdate) (*storage.User, error) {
	u, ev, err := b.ops.UpdateUser(ctx, name, up)
	b.record(ev)
	return u, err
}

func (b dbBackend) SetPassword(ctx context.Context, name, password string) error {
	ev, err := b.ops.SetPassword(ctx, name, password)
	b.record(ev)
	return err
}

func (b dbBackend) DeleteUser(ctx context.Context, name string) error {
	_, ev, err := b.ops.DeleteUser(ctx, name)
	b.record(ev)
	return err
}

func (b dbBackend) ResetMFA(ctx context.Context, name string) (*storage.User, bool, error) {
	u, removed, ev, err := b.ops.ResetMFA(ctx, name)
	b.record(ev)
	return u, removed, err
}

func (b dbBackend) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	return b.ops.ListRoles(ctx)
}

func (b dbBackend) GetRole(ctx context.Context, name string) (*storage.Role, error) {
	return b.ops.GetRole(ctx, name)
}

func (b dbBackend) CreateRole(ctx context.Context, nr admin.NewRole) (*storage.Role, error) {
	r, ev, err := b.ops.CreateRole(ctx, nr)
	b.record(ev)
	return r, err
}

func (b dbBackend) UpdateRole(ctx context.Context, name string, up admin.RoleUpdate) (*storage.Role, error) {
	r, ev, err := b.ops.UpdateRole(ctx, name, up)
	b.record(ev)
	return r, err
}

func (b dbBackend) DeleteRole(ctx context.Context, name string) error {
	ev, err := b.ops.DeleteRole(ctx, name)
	b.record(ev)
	return err
}

func (b dbBackend) ListAPIKeys(ctx context.Context) ([]*storage.APIKey, error) {
	return b.ops.ListAPIKeys(ctx)
}

func (b dbBackend) CreateAPIKey(ctx context.Context, nk admin.NewAPIKey) (*storage.APIKey, string, *storage.User, error) {
	k, key, u, ev, err := b.ops.CreateAPIKey(ctx, nk)
	b.record(ev)
	return k, key, u, err
}

func (b dbBackend) RevokeAPIKey(ctx context.Context, id string) (*storage.APIKey, bool, error) {
	k, revoked, ev, err := b.ops.RevokeAPIKey(ctx, id)
	b.record(ev)
	return k, revoked, err
}

func (b dbBackend) RotateAPIKey(ctx context.Context, id string) (*storage.APIKey, string, error) {
	k, key, ev, err := b.ops.RotateAPIKey(ctx, id)
	b.record(ev)
	return k, key, err
}

func (b dbBackend) ListSigningKeys(ctx context.Context) ([]signing.KeyInfo, error) {
	m, err := openKeyManager(ctx, b.streams, b.env)
	if err != nil {
		return nil, err
	}
	return m.Keys(), nil
}

func (b dbBackend) RotateSigningKey(ctx context.Context, activateIn *time.Duration) (signing.KeyInfo, error) {
	m, err := openKeyManager(ctx, b.streams, b.env)
	if err != nil {
		return signing.KeyInfo{}, err
	}
	k, ev, err := admin.RotateSigningKey(ctx, m, activateIn)
	b.record(ev)
	return k, err
}

func (b dbBackend) SigningTimes() (prepublish, reload config.Duration) {
	return b.env.Config.Signing.PrePublish, b.env.Config.Signing.ReloadInterval
}

func (b dbBackend) ListClients(ctx context.Context) ([]*storage.Client, error) {
	return b.ops.ListClients(ctx)
}

func (b dbBackend) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	return b.ops.GetClient(ctx, id)
}

func (b dbBackend) CreateClient(ctx context.Context, nc admin.NewClient) (*storage.Client, string, error) {
	c, sec, ev, err := b.ops.CreateClient(ctx, nc)
	b.record(ev)
	return c, sec, err
}

func (b dbBackend) UpdateClient(ctx context.Context, id string, set admin.ClientSettings) (*storage.Client, error) {
	c, ev, err := b.ops.UpdateClient(ctx, id, set)
	b.record(ev)
	return c, err
}

func (b dbBackend) RotateClientSecret(ctx context.Context, id string) (string, error) {
	_, sec, ev, err := b.ops.RotateClientSecret(ctx, id)
	b.record(ev)
	return sec, err
}

func (b dbBackend) DeleteClient(ctx context.Context, id string) error {
	ev, err := b.ops.DeleteClient(ctx, id)
	b.record(ev)
	return err
}

func (b dbBackend) ListAudit(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error) {
	return b.ops.ListAudit(ctx, f)
}

func (b dbBackend) VerifyAudit(ctx context.Context) (admin.AuditCheck, error) {
	return b.ops.VerifyAudit(ctx)
}

// apiBackend works through a server's admin API; the server records the
// audit events.
type apiBackend struct{ api *adminAPI }

// refusal turns the admin API's 400, 404 and 409 answers back into the
// *admin.Error the server's admin layer gave, with its message.
func refusal(err error) error {
	var e *adminAPIError
	if !errors.As(err, &e) || e.Description == "" {
		return err
	}
	kind := map[int]admin.Kind{http.StatusBadRequest: admin.Invalid, http.StatusNotFound: admin.NotFound, http.StatusConflict: admin.Conflict}[e.Status]
	if kind == 0 {
		return err
	}
	return &admin.Error{Kind: kind, Err: errors.New(e.Description)}
}

func (b apiBackend) ListUsers(ctx context.Context) ([]*storage.User, error) {
	users, err := b.api.listUsers(ctx)
	return users, refusal(err)
}

func (b apiBackend) GetUser(ctx context.Context, name string) (*storage.User, error) {
	u, err := b.api.getUser(ctx, name)
	return u, refusal(err)
}

func (b apiBackend) CreateUser(ctx context.Context, nu admin.NewUser) (*storage.User, error) {
	u, err := b.api.createUser(ctx, nu)
	return u, refusal(err)
}

func (b apiBackend) UpdateUser(ctx context.Context, name string, up admin.UserUpdate) (*storage.User, error) {
	u, err := b.api.updateUser(ctx, name, up)
	return u, refusal(err)
}

func (b apiBackend) SetPassword(ctx context.Context, name, password string) error {
	return refusal(b.api.setPassword(ctx, name, password))
}

func (b apiBackend) DeleteUser(ctx context.Context, name string) error {
	return refusal(b.api.deleteUser(ctx, name))
}

func (b apiBackend) ResetMFA(ctx context.Context, name string) (*storage.User, bool, error) {
	u, removed, err := b.api.resetMFA(ctx, name)
	return u, removed, refusal(err)
}

func (b apiBackend) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	roles, err := b.api.listRoles(ctx)
	return roles, refusal(err)
}

func (b apiBackend) GetRole(ctx context.Context, name string) (*storage.Role, error) {
	r, err := b.api.getRole(ctx, name)
	return r, refusal(err)
}

func (b apiBackend) CreateRole(ctx context.Context, nr admin.NewRole) (*storage.Role, error) {
	r, err := b.api.createRole(ctx, nr)
	return r, refusal(err)
}

func (b apiBackend) UpdateRole(ctx context.Context, name string, up admin.RoleUpdate) (*storage.Role, error) {
	r, err := b.api.updateRole(ctx, name, up)
	return r, refusal(err)
}

func (b apiBackend) DeleteRole(ctx context.Context, name string) error {
	return refusal(b.api.deleteRole(ctx, name))
}

func (b apiBackend) ListAPIKeys(ctx context.Context) ([]*storage.APIKey, error) {
	keys, err := b.api.listAPIKeys(ctx)
	return keys, refusal(err)
}

func (b apiBackend) CreateAPIKey(ctx context.Context, nk admin.NewAPIKey) (*storage.APIKey, string, *storage.User, error) {
	var user *storage.User
	if nk.User != "" {
		// The answer names the user by id; the command shows the user.
		var err error
		if user, err = b.GetUser(ctx, nk.User); err != nil {
			return nil, "", nil, err
		}
		nk.User = user.ID
	}
	k, key, err := b.api.createAPIKey(ctx, nk)
	return k, key, user, refusal(err)
}

func (b apiBackend) RevokeAPIKey(ctx context.Context, id string) (*storage.APIKey, bool, error) {
	// The answer does not say whether the key was revoked before; the
	// list does.
	k, err := b.api.findAPIKey(ctx, id)
	if err != nil || !k.RevokedAt.IsZero() {
		return k, false, refusal(err)
	}
	k, err = b.api.revokeAPIKey(ctx, id)
	return k, err == nil, refusal(err)
}

func (b apiBackend) RotateAPIKey(ctx context.Context, id string) (*storage.APIKey, string, error) {
	k, key, err := b.api.rotateAPIKey(ctx, id)
	return k, key, refusal(err)
}

func (b apiBackend) ListSigningKeys(ctx context.Context) ([]signing.KeyInfo, error) {
	keys, err := b.api.listKeys(ctx)
	return keys, refusal(err)
}

func (b apiBackend) RotateSigningKey(ctx context.Context, activateIn *time.Duration) (signing.KeyInfo, error) {
	var secs *int64
	if activateIn != nil {
		// Whole seconds on the wire; a negative value stays negative, so
		// the server refuses it.
		n := int64(*activateIn / time.Second)
		if *activateIn < 0 && n == 0 {
			n = -1
		}
		secs = &n
	}
	k, err := b.api.rotateKeys(ctx, secs)
	return k, refusal(err)
}

func (b apiBackend) SigningTimes() (prepublish, reload config.Duration) {
	d := config.Default()
	return d.Signing.PrePublish, d.Signing.ReloadInterval
}

func (b apiBackend) ListClients(ctx context.Context) ([]*storage.Client, error) {
	clients, err := b.api.listClients(ctx)
	return clients, refusal(err)
}

func (b apiBackend) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := b.api.getClient(ctx, id)
	return c, refusal(err)
}

func (b apiBackend) CreateClient(ctx context.Context, nc admin.NewClient) (*storage.Client, string, error) {
	if nc.AuthMethod == protocol.AuthMethodPrivateKeyJWT {
		return nil, "", &admin.Error{Kind: admin.Invalid, Err: errors.New("the admin API cannot create private_key_jwt clients (it takes no JWKS); use --db or --data-dir to create the client on the database")}
	}
	c, sec, err := b.api.createClient(ctx, nc)
	return c, sec, refusal(err)
}

func (b apiBackend) UpdateClient(ctx context.Context, id string, set admin.ClientSettings) (*storage.Client, error) {
	c, err := b.api.updateClient(ctx, id, set)
	return c, refusal(err)
}

func (b apiBackend) RotateClientSecret(ctx context.Context, id string) (string, error) {
	sec, err := b.api.rotateClientSecret(ctx, id)
	return sec, refusal(err)
}

func (b apiBackend) DeleteClient(ctx context.Context, id string) error {
	if id == server.CLIClientID {
		return fmt.Errorf("the admin API cannot delete the built-in client %s; use --db (or --data-dir) to delete it on the database", server.CLIClientID)
	}
	return refusal(b.api.deleteClient(ctx, id))
}

func (b apiBackend) ListAudit(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error) {
	recs, err := b.api.listAuditFiltered(ctx, f)
	return recs, refusal(err)
}

// VerifyAudit has the server verify its audit trail. The admin API names
// the first broken link only in words (Broken is them), and not the last
// intact event, which the newest event is when the trail is intact.
func (b apiBackend) VerifyAudit(ctx context.Context) (admin.AuditCheck, error) {
	res, err := b.api.verifyAudit(ctx)
	if err != nil {
		return admin.AuditCheck{}, refusal(err)
	}
	v := admin.AuditCheck{Checked: res.Checked}
	switch {
	case !res.OK:
		v.Broken = errors.New(res.Error)
	case res.Checked > 0:
		if v.Last, err = b.api.lastAudit(ctx); err != nil {
			return admin.AuditCheck{}, refusal(err)
		}
	}
	return v, nil
}
