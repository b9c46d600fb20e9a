// Package admin is the one place each administrator operation lives:
// creating, changing and deleting users, roles, API keys and OAuth
// clients, rotating signing keys, and listing and verifying the audit
// trail, each checked by one validator and returning the audit
// event it caused. The admin API (internal/server) and the CLI working on
// the database (internal/cli) both call it, and the CLI working over the
// admin API reaches it through the server, so the three front ends accept
// and refuse the same inputs with the same words.
//
// Operations return errors as *Error with a Kind (invalid input, not
// found, conflict) that each front end renders its own way: the admin
// API as 400, 404 or 409, the CLI as a usage error or a message. Storage
// failures come back unchanged.
//
// Audit events are returned without an actor; the caller, who knows who
// asked, sets it and records the event. An event with an empty Type means
// the operation changed nothing worth recording.
package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// Store is what the operations need of a storage.Store.
type Store interface {
	userreg.Creator
	userreg.Updater
	rolereg.Lister
	rolereg.Deleter
	storage.SecondFactorStore

	GetUser(ctx context.Context, id string) (*storage.User, error)
	UpdateUser(ctx context.Context, id string, fn func(*storage.User) error) error
	DeleteUserKeepingRole(ctx context.Context, id, role string) error

	CreateRole(ctx context.Context, r *storage.Role) error
	UpdateRole(ctx context.Context, name string, fn func(*storage.Role) error) error

	CreateAPIKey(ctx context.Context, k *storage.APIKey) error
	UpdateAPIKey(ctx context.Context, id string, fn func(*storage.APIKey) error) error

	CreateClient(ctx context.Context, c *storage.Client) error
	GetClient(ctx context.Context, id string) (*storage.Client, error)
	ListClients(ctx context.Context) ([]*storage.Client, error)
	UpdateClient(ctx context.Context, id string, fn func(*storage.Client) error) error
	DeleteClient(ctx context.Context, id string) error

	audit.ChainStore
	audit.CheckpointStore
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error)
}

// Service runs the operations on one store.
type Service struct {
	store       Store
	hasher      *password.Hasher
	clock       clock.Clock
	connectors  []string
	checkClient func(*storage.Client) error
}

// Options are the dependencies of a Service besides its store.
type Options struct {
	// Hasher hashes new passwords.
	Hasher *password.Hasher
	// Clock stamps CreatedAt and UpdatedAt; nil is the system clock.
	Clock clock.Clock
	// Connectors are the ids of the configured connectors, which users
	// may be pre-created for.
	Connectors []string
	// CheckClient, when not nil, applies the server's own rules to a
	// client being registered, after the rules of package clientreg: which
	// audiences and scopes are open to third-party clients
	// (CheckClientRegistration of internal/server/oauth with the server's
	// issuer).
	CheckClient func(*storage.Client) error
}

// New returns a Service working on st.
func New(st Store, o Options) *Service {
	if o.Clock == nil {
		o.Clock = clock.System
	}
	return &Service{store: st, hasher: o.Hasher, clock: o.Clock, connectors: o.Connectors, checkClient: o.CheckClient}
}

// Kind says why an operation refused its input.
type Kind int

// The kinds of refusal; the admin API answers them with 400, 404 and 409.
const (
	// Invalid is input the rules do not allow.
	Invalid Kind = iota + 1
	// NotFound is a user or role that does not exist.
	NotFound
	// Conflict is a request that contradicts what is stored: a name
	// taken, the last admin, a role still held or built in.
	Conflict
)

// Error is an operation refusing its input. Its message is a sentence a
// user can act on, the same in every front end.
type Error struct {
	Kind Kind
	Err  error
	// Field, when set, is the member of the request an Invalid refusal is
	// about (FieldGrants, ...), for a front end to name its own word for
	// it (a flag of the CLI).
	Field string
	// cause is a sentinel the message stands for without quoting it
	// (storage.ErrLastRoleHolder).
	cause error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap gives errors.Is and errors.As the errors behind e
// (userreg.ErrEmailTaken, storage.ErrLastRoleHolder, ...).
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.cause}
}

// KindOf returns the Kind of the *Error in err's chain, 0 when there is
// none (a storage failure).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func invalid(err error) error { return &Error{Kind: Invalid, Err: err} }

func invalidf(format string, args ...any) error {
	return &Error{Kind: Invalid, Err: fmt.Errorf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &Error{Kind: NotFound, Err: fmt.Errorf(format, args...)}
}

func conflict(err error) error { return &Error{Kind: Conflict, Err: err} }

func conflictf(format string, args ...any) error {
	return &Error{Kind: Conflict, Err: fmt.Errorf(format, args...)}
}
