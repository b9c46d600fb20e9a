package jwt

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// JWKS refresh timing of a RemoteKeySet.
const (
	// MinJWKSRefetchInterval is the least time between two JWKS fetches,
	// whatever asks for them: unknown kids, expired max-age, retries.
	MinJWKSRefetchInterval = 10 * time.Second
	// DefaultJWKSRefresh is how long a JWKS is used before it is fetched
	// again when its response carries no Cache-Control max-age.
	DefaultJWKSRefresh = 5 * time.Minute
	// DefaultHTTPTimeout bounds one JWKS fetch.
	DefaultHTTPTimeout = 10 * time.Second
	// maxJWKSRefresh caps a max-age hint.
	maxJWKSRefresh = 24 * time.Hour
	// maxJWKSBytes bounds the JWKS read.
	maxJWKSBytes = 1 << 20
)

// RemoteOptions configures a RemoteKeySet; the zero value is usable.
type RemoteOptions struct {
	// HTTPClient fetches the JWKS. Default: http.DefaultClient (each fetch
	// is bounded by DefaultHTTPTimeout anyway).
	HTTPClient *http.Client
	// Clock tells the time. Default: clock.System.
	Clock clock.Clock
	// RequireKeyID refuses tokens without a kid (ErrUnknownKey). Without
	// it such a token is tried against every key of the set, which costs
	// one signature check per key.
	RequireKeyID bool
}

// RemoteKeySet is a KeySet fetched from a JWKS URL. It fetches lazily,
// keeps the last good set, and fetches again when a kid is unknown or the
// set's Cache-Control max-age has passed (DefaultJWKSRefresh without one) —
// at most once per MinJWKSRefetchInterval, one fetch at a time, so a
// stream of made-up kids cannot flood the issuer. Keys without a kid are
// used only for tokens without one. It is safe for concurrent use.
type RemoteKeySet struct {
	url          string
	client       *http.Client
	clock        clock.Clock
	requireKeyID bool

	set         atomic.Pointer[remoteSet] // nil until the first good fetch
	lastAttempt atomic.Int64              // UnixNano of the last fetch started; 0: none
	refreshing  atomic.Bool               // a background refresh is running
	flight      singleflight.Group
}

// remoteSet is one fetched JWKS.
type remoteSet struct {
	keys      map[string]*Key // by kid
	all       []*Key          // every key, with or without kid
	refreshAt time.Time       // when to fetch it again
}

// NewRemoteKeySet returns a key source for the JWKS at url. Nothing is
// fetched until a key is needed.
func NewRemoteKeySet(url string, opts RemoteOptions) *RemoteKeySet {
	s := &RemoteKeySet{url: url, client: opts.HTTPClient, clock: opts.Clock, requireKeyID: opts.RequireKeyID}
	if s.client == nil {
		s.client = http.DefaultClient
	}
	if s.clock == nil {
		s.clock = clock.System
	}
	return s
}

// Keys returns the key named kid. A kid the current set does not hold
// makes it fetch the JWKS again (if the rate limit allows) and look once
// more. For an empty kid it returns every key, unless RequireKeyID.
func (s *RemoteKeySet) Keys(ctx context.Context, kid string) ([]*Key, error) {
	if kid == "" {
		if s.requireKeyID {
			return nil, errorf(ErrUnknownKey, "the token has no kid")
		}
		set := s.set.Load()
		if set == nil {
			var err error
			if set, err = s.refetch(ctx, s.clock.Now()); set == nil {
				return nil, err
			}
		}
		if len(set.all) == 0 {
			return nil, errorf(ErrUnknownKey, "the JWKS has no usable key")
		}
		return set.all, nil
	}
	if k := s.Cached(kid); k != nil {
		return []*Key{k}, nil
	}
	set, err := s.refetch(ctx, s.clock.Now())
	if set != nil {
		if k := set.keys[kid]; k != nil {
			return []*Key{k}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return nil, errorf(ErrUnknownKey, "kid %.64q is not in the JWKS", kid)
}

// Cached returns the key named kid in the set in use, without fetching;
// nil when there is none. A key keeps its identity (the same *Key) across
// fetches while the JWKS still maps kid to it, so a caller may compare
// pointers to learn whether a key was replaced or removed.
func (s *RemoteKeySet) Cached(kid string) *Key {
	if set := s.set.Load(); set != nil {
		return set.keys[kid]
	}
	return nil
}

// RefreshIfStale starts a background fetch when the set's max-age has
// passed. Callers go on with the keys they have meanwhile, so a slow or
// unreachable issuer does not hold them up.
func (s *RemoteKeySet) RefreshIfStale(ctx context.Context) {
	set := s.set.Load()
	if set == nil {
		return
	}
	now := s.clock.Now()
	if now.Before(set.refreshAt) || !s.due(now) || !s.refreshing.CompareAndSwap(false, true) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer s.refreshing.Store(false)
		_, _, _ = s.flight.Do("", func() (any, error) { return s.fetch(ctx, now) })
	}()
}

// due reports whether the rate limit allows a fetch now. A clock that went
// backwards does not block fetches.
func (s *RemoteKeySet) due(now time.Time) bool {
	last := s.lastAttempt.Load()
	d := now.UnixNano() - last
	return last == 0 || d < 0 || d >= int64(MinJWKSRefetchInterval)
}

// claim records a fetch attempt at now if the rate limit allows one.
func (s *RemoteKeySet) claim(now time.Time) bool {
	for {
		last := s.lastAttempt.Load()
		if d := now.UnixNano() - last; last != 0 && d >= 0 && d < int64(MinJWKSRefetchInterval) {
			return false
		}
		if s.lastAttempt.CompareAndSwap(last, now.UnixNano()) {
			return true
		}
	}
}

// refetch fetches the JWKS if the rate limit allows, sharing one fetch
// among concurrent callers, and returns the set in use afterwards. When it
// fetched and failed, it returns the previous set (if any) and the error.
// While no set is loaded yet it always joins the single flight, so that
// callers arriving during the first fetch wait for it instead of failing.
func (s *RemoteKeySet) refetch(ctx context.Context, now time.Time) (*remoteSet, error) {
	if !s.due(now) && s.set.Load() != nil {
		return s.loaded()
	}
	ch := s.flight.DoChan("", func() (any, error) { return s.fetch(ctx, now) })
	select {
	case r := <-ch:
		set, _ := r.Val.(*remoteSet)
		return set, r.Err
	case <-ctx.Done():
		return s.set.Load(), fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// loaded returns the set in use, or an ErrUnavailable error.
func (s *RemoteKeySet) loaded() (*remoteSet, error) {
	if set := s.set.Load(); set != nil {
		return set, nil
	}
	return nil, errorf(ErrUnavailable, "the JWKS could not be fetched yet")
}

// fetch claims a fetch attempt, fetches and installs the JWKS. It runs in
// the single flight; a caller that arrives just after another fetch
// finished finds the rate limit spent and gets that fetch's result.
func (s *RemoteKeySet) fetch(ctx context.Context, now time.Time) (*remoteSet, error) {
	if !s.claim(now) {
		return s.loaded()
	}
	// The fetch is shared: one caller giving up must not fail the others.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultHTTPTimeout)
	defer cancel()
	keys, all, maxAge, err := s.download(ctx)
	if err != nil {
		return s.set.Load(), fmt.Errorf("%w: jwks: %w", ErrUnavailable, err)
	}
	// Keys that did not change keep their identity (see Cached).
	if old := s.set.Load(); old != nil {
		for kid, k := range keys {
			if o := old.keys[kid]; o != nil && o.Equal(k) {
				keys[kid] = o
			}
		}
	}
	for i, k := range all {
		if k.ID != "" {
			all[i] = keys[k.ID]
		}
	}
	set := &remoteSet{keys: keys, all: all, refreshAt: s.clock.Now().Add(maxAge)}
	s.set.Store(set)
	return set, nil
}

// download GETs the JWKS and parses it.
func (s *RemoteKeySet) download(ctx context.Context) (map[string]*Key, []*Key, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, nil, 0, err
	}
	list, err := parseJWKS(body, false)
	if err != nil {
		return nil, nil, 0, err
	}
	keys := make(map[string]*Key, len(list))
	for _, k := range list {
		if k.ID != "" {
			keys[k.ID] = k
		}
	}
	return keys, list, refreshInterval(resp.Header.Values("Cache-Control")), nil
}

// refreshInterval reads max-age from Cache-Control as the time to use the
// JWKS before fetching it again, within [MinJWKSRefetchInterval, 24h].
func refreshInterval(cacheControl []string) time.Duration {
	for _, line := range cacheControl {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			if !strings.EqualFold(name, "max-age") {
				continue
			}
			n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err != nil || n < 0 {
				continue
			}
			age := maxJWKSRefresh
			if n < int64(maxJWKSRefresh/time.Second) {
				age = time.Duration(n) * time.Second
			}
			return max(age, MinJWKSRefetchInterval)
		}
	}
	return DefaultJWKSRefresh
}
