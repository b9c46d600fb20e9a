package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// userCacheSize bounds the user records kept in memory.
const userCacheSize = 50_000

// auditPollInterval is how often the audit trail is read for user changes
// made by other processes (the CLI on the database, other replicas).
const auditPollInterval = time.Second

// UserDirectory answers "who is this user now" for the embedded server's
// users without a database query per request. Records are cached for a
// TTL, and every change is applied sooner:
//
//   - changes made in this process (admin API, /account) reach it
//     synchronously through the audit logger's observer (Observe);
//   - changes made by other processes (`gatehouse users set-role --db`,
//     another replica) are read from the audit trail, which every admin
//     change is written to, once a second (Run).
//
// A deleted user, a disabled user and a changed password also end the
// user's gateway sessions.
type UserDirectory struct {
	store userDirectoryStore
	clock clock.Clock
	ttl   time.Duration
	log   *slog.Logger
	cache *lru.Cache[string, cachedUser]

	mu     sync.Mutex
	endFns []func(ctx context.Context, userID string)
}

type cachedUser struct {
	u       *storage.User // nil: no such user (or disabled)
	fetched time.Time
}

// userDirectoryStore is what the directory reads: users, and the audit
// trail for the events that tell it a user changed.
type userDirectoryStore interface {
	GetUser(ctx context.Context, id string) (*storage.User, error)
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error)
}

// NewUserDirectory returns a directory over st; ttl bounds how long a
// record is reused when no change event arrives.
func NewUserDirectory(st userDirectoryStore, clk clock.Clock, ttl time.Duration, log *slog.Logger) *UserDirectory {
	if clk == nil {
		clk = clock.System
	}
	if log == nil {
		log = slog.Default()
	}
	if ttl <= 0 {
		ttl = DefaultUserCacheTTL
	}
	c, _ := lru.New[string, cachedUser](userCacheSize)
	return &UserDirectory{store: st, clock: clk, ttl: ttl, log: log, cache: c}
}

// Current returns the user with id as the database has it now, or nil
// when the user does not exist or is disabled.
func (d *UserDirectory) Current(ctx context.Context, id string) (*storage.User, error) {
	now := d.clock.Now()
	if v, ok := d.cache.Get(id); ok && now.Sub(v.fetched) < d.ttl {
		return v.u, nil
	}
	u, err := d.store.GetUser(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("proxy: get user: %w", err)
	}
	if u != nil && u.Disabled {
		u = nil
	}
	d.cache.Add(id, cachedUser{u: u, fetched: now})
	return u, nil
}

// onSessionsEnd registers fn to end a user's sessions.
func (d *UserDirectory) onSessionsEnd(fn func(ctx context.Context, userID string)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endFns = append(d.endFns, fn)
}

// Observe is an audit observer (audit.WithObserver): it forgets the
// cached record of a changed user at once, and ends the sessions of a
// deleted user or of one whose password changed.
func (d *UserDirectory) Observe(e audit.Event) {
	if e.UserID == "" || (e.Type != audit.UserUpdated && e.Type != audit.UserDeleted) {
		return
	}
	d.cache.Remove(e.UserID)
	if endsSessions(e) {
		// The observer runs inside the caller's Log; the session store may
		// be remote, so end sessions off that path.
		go d.endSessions(e.UserID)
	}
}

func endsSessions(e audit.Event) bool {
	if e.Type == audit.UserDeleted {
		return true
	}
	change := e.Details["change"]
	return strings.Contains(change, "password") || strings.Contains(change, "disabled")
}

func (d *UserDirectory) endSessions(userID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.mu.Lock()
	fns := append([]func(context.Context, string){}, d.endFns...)
	d.mu.Unlock()
	for _, fn := range fns {
		fn(ctx, userID)
	}
}

// Run follows the audit trail for user changes made by other processes
// until ctx ends.
func (d *UserDirectory) Run(ctx context.Context) {
	seq, _, err := d.store.AuditHead(ctx)
	if err != nil {
		d.log.Warn("audit trail: cannot read its head; user changes by other processes apply after the cache TTL", "err", err)
	}
	t := d.clock.NewTicker(auditPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		seq = d.poll(ctx, seq)
	}
}

// poll applies the user events after seq and returns the seq it read up
// to. It asks only for the two event types it acts on (the audit table is
// indexed by type and seq), so a busy trail of token events costs nothing
// here; events appended after the head it read are left for the next poll.
func (d *UserDirectory) poll(ctx context.Context, seq int64) int64 {
	head, _, err := d.store.AuditHead(ctx)
	if err != nil || head <= seq {
		if err != nil && ctx.Err() == nil {
			d.log.Warn("audit trail: read its head", "err", err)
		}
		return seq
	}
	for _, typ := range []string{audit.UserUpdated, audit.UserDeleted} {
		recs, err := d.store.ListAudit(ctx, storage.AuditFilter{Type: typ, AfterSeq: seq})
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("audit trail: read user changes", "err", err)
			}
			return seq // read the same range again next time
		}
		for _, rec := range recs {
			if rec.Seq > head {
				break
			}
			if e, ok := userEvent(rec); ok {
				d.Observe(e)
			}
		}
	}
	return head
}

// userEvent decodes the user change an audit record holds, if any.
func userEvent(rec *storage.AuditRecord) (audit.Event, bool) {
	var e audit.Event
	if rec.Type != audit.UserUpdated && rec.Type != audit.UserDeleted {
		return e, false
	}
	if err := json.Unmarshal(rec.Event, &e); err != nil {
		return e, false
	}
	return e, true
}
