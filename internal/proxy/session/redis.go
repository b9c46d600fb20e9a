package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// DefaultRedisPrefix is the key prefix NewRedis uses when prefix is empty.
const DefaultRedisPrefix = "gatehouse:ps:"

// Redis is a Store in Redis, shared by every gateway replica on it.
//
// A session is a hash at prefix+"s:"+ID whose key expires at ExpiresAt
// (measured with the store's clock), so Redis forgets it by itself. A
// sorted set at prefix+"u:"+UserID holds the user's session IDs scored by
// ExpiresAt (milliseconds), for DeleteUser; each Create prunes the
// members that have expired and keeps the set's own expiry at least as
// long as its longest session, so it never outgrows the user's live
// sessions by much. Every change is one Lua script, atomic in Redis: a
// session created while DeleteUser runs is either deleted by it or in the
// set for the next one.
//
// The scripts touch a session key together with its user's set key. On
// Redis Cluster give the prefix a hash tag (for example
// "{gatehouse}:ps:") so that they share a slot.
type Redis struct {
	client redis.UniversalClient
	prefix string
	clk    clock.Clock
}

// NewRedis returns a Store on client whose keys start with prefix
// (DefaultRedisPrefix when empty) and whose time is clk.
func NewRedis(client redis.UniversalClient, prefix string, clk clock.Clock) *Redis {
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &Redis{client: client, prefix: prefix, clk: clk}
}

// redisRecord is the JSON of a session in its hash's "v" field; LastSeen
// is the separate field "seen" so that Touch need not rewrite it.
type redisRecord struct {
	UserID   string   `json:"user"`
	Username string   `json:"name,omitempty"`
	Email    string   `json:"email,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	// Groups and EmailVerified are absent from records written before
	// they were kept: such sessions decode with no groups and an
	// unverified address.
	Groups        []string  `json:"groups,omitempty"`
	EmailVerified bool      `json:"email_verified,omitempty"`
	AuthTime      time.Time `json:"auth"`
	CreatedAt     time.Time `json:"created"`
	ExpiresAt     time.Time `json:"expires"`
	Data          []byte    `json:"data,omitempty"`
}

// createScript stores a session unless its key exists. KEYS: session,
// user set. ARGV: record JSON, last seen, user ID, expiry (Unix ms), TTL
// (ms), session ID, now (Unix ms). Returns 1 if stored, 0 if the ID is
// taken.
var createScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("HSET", KEYS[1], "v", ARGV[1], "seen", ARGV[2], "user", ARGV[3], "exp", ARGV[4])
redis.call("PEXPIRE", KEYS[1], ARGV[5])
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[7])
redis.call("ZADD", KEYS[2], ARGV[4], ARGV[6])
if redis.call("PTTL", KEYS[2]) < tonumber(ARGV[5]) then
  redis.call("PEXPIRE", KEYS[2], ARGV[5])
end
return 1
`)

// touchScript sets "seen" of a live session, leaving its expiry alone.
// KEYS: session. ARGV: last seen, now (Unix ms). Returns 1 if set, 0 if
// the session is missing or expired at now.
var touchScript = redis.NewScript(`
local exp = redis.call("HGET", KEYS[1], "exp")
if not exp or tonumber(exp) <= tonumber(ARGV[2]) then
  return 0
end
redis.call("HSET", KEYS[1], "seen", ARGV[1])
return 1
`)

// deleteScript removes a session and its user set entry. KEYS: session.
// ARGV: user set key prefix, session ID.
var deleteScript = redis.NewScript(`
local user = redis.call("HGET", KEYS[1], "user")
if user then
  redis.call("ZREM", ARGV[1] .. user, ARGV[2])
end
redis.call("DEL", KEYS[1])
return 0
`)

// deleteUserScript removes every session in a user set and the set.
// KEYS: user set. ARGV: session key prefix, now (Unix ms). Returns how
// many of the sessions were live at now.
var deleteUserScript = redis.NewScript(`
local n = 0
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  local exp = redis.call("HGET", key, "exp")
  if exp then
    if tonumber(exp) > tonumber(ARGV[2]) then
      n = n + 1
    end
    redis.call("DEL", key)
  end
end
redis.call("DEL", KEYS[1])
return n
`)

func (r *Redis) sessionKey(id string) string  { return r.prefix + "s:" + id }
func (r *Redis) userKey(userID string) string { return r.prefix + "u:" + userID }

// Create stores s with a key TTL that ends at s.ExpiresAt. A session that
// has already expired is not stored.
func (r *Redis) Create(ctx context.Context, s *Session) error {
	if err := check(s); err != nil {
		return err
	}
	now := r.clk.Now()
	ttl := s.ExpiresAt.Sub(now).Milliseconds()
	if ttl <= 0 {
		return nil
	}
	v, err := json.Marshal(redisRecord{
		UserID: s.UserID, Username: s.Username, Email: s.Email, Roles: s.Roles,
		AuthTime: s.AuthTime, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, Data: s.Data,
		Groups: s.Groups, EmailVerified: s.EmailVerified,
	})
	if err != nil {
		return fmt.Errorf("session: redis: create: %w", err)
	}
	seen, err := s.LastSeen.MarshalText()
	if err != nil {
		return fmt.Errorf("session: redis: create: %w", err)
	}
	ok, err := createScript.Run(ctx, r.client,
		[]string{r.sessionKey(s.ID), r.userKey(s.UserID)},
		v, seen, s.UserID, s.ExpiresAt.UnixMilli(), ttl, s.ID, now.UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("session: redis: create: %w", err)
	}
	if ok == 0 {
		return ErrAlreadyExists
	}
	return nil
}

// Get returns the session with id.
func (r *Redis) Get(ctx context.Context, id string) (*Session, error) {
	vals, err := r.client.HMGet(ctx, r.sessionKey(id), "v", "seen").Result()
	if err != nil {
		return nil, fmt.Errorf("session: redis: get: %w", err)
	}
	v, ok := vals[0].(string)
	if !ok {
		return nil, ErrNotFound
	}
	var rec redisRecord
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return nil, fmt.Errorf("session: redis: get: %w", err)
	}
	if expired(rec.ExpiresAt, r.clk.Now()) {
		return nil, ErrNotFound
	}
	s := &Session{
		ID: id, UserID: rec.UserID, Username: rec.Username, Email: rec.Email, Roles: rec.Roles,
		AuthTime: rec.AuthTime, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt, Data: rec.Data,
		Groups: rec.Groups, EmailVerified: rec.EmailVerified,
	}
	if seen, ok := vals[1].(string); ok {
		if err := s.LastSeen.UnmarshalText([]byte(seen)); err != nil {
			return nil, fmt.Errorf("session: redis: get: %w", err)
		}
	}
	return s, nil
}

// Touch sets the LastSeen of the session with id.
func (r *Redis) Touch(ctx context.Context, id string, lastSeen time.Time) error {
	seen, err := lastSeen.MarshalText()
	if err != nil {
		return fmt.Errorf("session: redis: touch: %w", err)
	}
	ok, err := touchScript.Run(ctx, r.client, []string{r.sessionKey(id)}, seen, r.clk.Now().UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("session: redis: touch: %w", err)
	}
	if ok == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete removes the session with id.
func (r *Redis) Delete(ctx context.Context, id string) error {
	err := deleteScript.Run(ctx, r.client, []string{r.sessionKey(id)}, r.prefix+"u:", id).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("session: redis: delete: %w", err)
	}
	return nil
}

// DeleteUser removes every session of userID.
func (r *Redis) DeleteUser(ctx context.Context, userID string) (int, error) {
	n, err := deleteUserScript.Run(ctx, r.client, []string{r.userKey(userID)},
		r.prefix+"s:", strconv.FormatInt(r.clk.Now().UnixMilli(), 10)).Int()
	if err != nil {
		return 0, fmt.Errorf("session: redis: delete user: %w", err)
	}
	return n, nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("session: redis: ping: %w", err)
	}
	return nil
}

var _ Store = (*Redis)(nil)
