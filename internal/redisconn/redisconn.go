// Package redisconn reads the Redis URLs of the server and the gateway: a
// redis://, rediss:// or unix:// URL as go-redis reads it, plus one
// parameter of Gatehouse's own, key_prefix, so that several deployments
// (or tests) can share one Redis database without touching each other's
// keys.
package redisconn

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultKeyPrefix starts every key Gatehouse writes to Redis unless the
// URL's key_prefix parameter names another.
const DefaultKeyPrefix = "gatehouse:"

// maxKeyPrefix bounds key_prefix; a longer one is surely a mistake.
const maxKeyPrefix = 128

// URL is a parsed Redis URL.
type URL struct {
	// Options are go-redis's client options from the URL (address,
	// database, credentials, timeouts and pool parameters that go-redis
	// reads from the query).
	Options *redis.Options
	// KeyPrefix starts every key: the key_prefix parameter, else
	// DefaultKeyPrefix.
	KeyPrefix string
}

// Parse reads rawURL. Errors never contain the URL, which may hold a
// password.
func Parse(rawURL string) (URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // url.Error repeats the whole URL
		}
		return URL{}, fmt.Errorf("parse redis url: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return URL{}, fmt.Errorf("unsupported redis url scheme %q (want redis://, rediss:// or unix://)", u.Scheme)
	}
	q := u.Query()
	prefix := DefaultKeyPrefix
	if vs, ok := q["key_prefix"]; ok {
		if len(vs) != 1 || !validPrefix(vs[0]) {
			return URL{}, fmt.Errorf("redis url: key_prefix must be given once, 1-%d printable characters without spaces", maxKeyPrefix)
		}
		prefix = vs[0]
		q.Del("key_prefix")
		u.RawQuery = q.Encode()
	}
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return URL{}, fmt.Errorf("parse redis url: %w", err)
	}
	bound(opts)
	return URL{Options: opts, KeyPrefix: prefix}, nil
}

// Bounds applied when the URL does not set them. go-redis's own defaults
// (5 s to dial, 5 dial attempts, 3 s reads, 3 retries with backoff) make
// every call to a stalled or dead Redis take seconds; Gatehouse's callers
// put a deadline of their own on each call as well.
const (
	DefaultDialTimeout = time.Second
	DefaultIOTimeout   = time.Second
	DefaultPoolTimeout = time.Second
)

// bound fills in the timeouts the URL left unset, makes go-redis honour
// the deadline of each call's context (ContextTimeoutEnabled), and turns
// go-redis's retries off unless the URL asks for them: a rate-limit script
// is not idempotent, and a caller with a deadline does better to fail and
// let the circuit breaker decide.
func bound(o *redis.Options) {
	o.ContextTimeoutEnabled = true
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultIOTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultIOTimeout
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = DefaultPoolTimeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = -1
	}
}

func validPrefix(p string) bool {
	if p == "" || len(p) > maxKeyPrefix {
		return false
	}
	return !strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
