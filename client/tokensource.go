package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// refreshTimeout bounds one shared refresh (lock, re-read, token request,
// write). It is a safety net: the refresh runs on behalf of every caller
// waiting for it, so no single caller's context may cancel it.
const refreshTimeout = 2 * time.Minute

// TokenSourceOptions configure NewTokenSource. Store and Profile are
// required.
type TokenSourceOptions struct {
	// Store holds the profile's credential; refreshed tokens are written
	// back to it.
	Store credstore.Store
	// Profile names the credential in Store.
	Profile string
	// HTTPClient makes discovery and token requests; nil means
	// http.DefaultClient. It must not be the authorized client this token
	// source feeds.
	HTTPClient *http.Client
	// Clock tells the time; nil means clock.System.
	Clock clock.Clock
	// MinTTL is how long a cached access token must stay valid to be
	// returned without refreshing; zero means DefaultMinTTL.
	MinTTL time.Duration
	// Metadata is the issuer's metadata. When nil it is discovered from
	// the credential's issuer the first time a refresh needs it.
	Metadata *protocol.Metadata
	// Logger receives errors of the background refresh; nil discards them.
	Logger *slog.Logger
	// Warn is told, once per TokenSource, when a refresh failed because
	// the issuer could not be reached and the cached access token, still
	// valid, is returned instead (see TokenWithMinTTL). Nil logs it to
	// Logger at warning level.
	Warn func(err error, validUntil time.Time)
}

// TokenSource is an oauth2.TokenSource backed by a profile's stored
// credential. It returns the stored access token while it is valid for
// more than MinTTL and refreshes it lazily otherwise.
//
// A refresh is coordinated across processes: it takes the profile's lock
// in the store, re-reads the credential under the lock, and adopts a
// token that another process refreshed meanwhile instead of refreshing
// again, so a single-use refresh token is never presented twice
// (RFC 9700 §4.14.2 rotation makes a second presentation revoke the
// login). Concurrent callers in one process share one refresh. A
// refresh whose answer is lost because the process died is retried with
// the same idempotency key by the next refresh (refresh_retry.go), so the
// server can answer it again instead of refusing a spent token.
//
// A user login is refreshed with its refresh token, a client-credentials
// profile fetches a new token with its stored secret, and an API key is
// returned as it is. A TokenSource is safe for concurrent use.
//
// A login stored with a DPoP key (Credential.DPoPKey, RFC 9449) sends a
// proof signed by that key with every refresh (the server refuses a bound
// refresh token without one), and its tokens come back with TokenType
// "DPoP". The key stays in the store: DPoP returns it to Transport, which
// NewHTTPClient builds, so that each resource request carries its own
// proof. A plain oauth2.Transport cannot: see Transport.
type TokenSource struct {
	store   credstore.Store
	profile string
	hc      *http.Client
	clk     clock.Clock
	minTTL  time.Duration
	log     *slog.Logger
	warn    func(error, time.Time)
	warned  sync.Once

	group     singleflight.Group
	refreshMu sync.Mutex // one lock section at a time in this process

	mu sync.Mutex
	// known is the credential this source last read or wrote. It serves
	// cached tokens and is the baseline that tells ForceRefresh whether a
	// peer changed the store since.
	known *credstore.Credential
	md    *protocol.Metadata
	// flights are the shared refreshes in progress, by singleflight key.
	flights map[string]*flight
	// dpop is the DPoP of the stored key, loaded once per key (it keeps
	// the servers' nonces).
	dpop *DPoP
}

// criticalGrace bounds how long a caller that gave up (Ctrl-C) still waits
// for a refresh that has already been sent to the server to be saved.
const criticalGrace = 15 * time.Second

// flight tracks the callers of one shared refresh and whether it has
// reached its critical section: from sending the token request (after
// which the server may have spent the old refresh token) to storing the
// answer. A refresh that every caller has given up on does not start its
// critical section, and a caller that gives up during it waits for the
// answer to be stored before returning, so that a process ending on
// Ctrl-C never drops a refreshed token that the server has already
// rotated (a later run would present the spent token and reuse
// detection would revoke the login).
type flight struct {
	mu       sync.Mutex
	waiters  int
	critical bool
	stored   chan struct{} // closed when the critical section ends
}

// enter starts the critical section; false when every caller gave up.
func (f *flight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiters == 0 {
		return false
	}
	f.critical = true
	return true
}

// exit ends the critical section.
func (f *flight) exit() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.critical {
		f.critical = false
		close(f.stored)
	}
}

// leave removes a caller that gave up and returns a channel to wait on
// when the critical section is under way (nil otherwise).
func (f *flight) leave() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiters--
	if f.critical {
		return f.stored
	}
	return nil
}

type flightKey struct{}

// enterCritical marks the start of the critical section of the refresh
// running with ctx; it fails when every caller has given up. exit must be
// called when the answer is stored (or the request failed).
func enterCritical(ctx context.Context) (exit func(), err error) {
	f, _ := ctx.Value(flightKey{}).(*flight)
	if f == nil {
		return func() {}, nil
	}
	if !f.enter() {
		return nil, fmt.Errorf("client: refresh abandoned: %w", context.Canceled)
	}
	return f.exit, nil
}

// NewTokenSource returns a TokenSource for opts.Profile in opts.Store.
// Nothing is read until the first token is asked for.
func NewTokenSource(opts TokenSourceOptions) (*TokenSource, error) {
	if opts.Store == nil {
		return nil, errors.New("client: token source: no credential store")
	}
	if opts.Profile == "" {
		return nil, errors.New("client: token source: no profile")
	}
	s := &TokenSource{
		store:   opts.Store,
		profile: opts.Profile,
		hc:      opts.HTTPClient,
		clk:     opts.Clock,
		minTTL:  opts.MinTTL,
		log:     opts.Logger,
		md:      opts.Metadata,
		warn:    opts.Warn,
	}
	if s.clk == nil {
		s.clk = clock.System
	}
	if s.minTTL <= 0 {
		s.minTTL = DefaultMinTTL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.warn == nil {
		s.warn = func(err error, until time.Time) {
			s.log.Warn("client: cannot reach the issuer to refresh; using the cached access token", "profile", s.profile, "valid_until", until, "err", err)
		}
	}
	return s, nil
}

// Token returns a valid access token, refreshing it first if it expires
// within MinTTL. It implements oauth2.TokenSource.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	return s.TokenWithMinTTL(context.Background(), s.minTTL)
}

// TokenContext is Token with a context.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return s.TokenWithMinTTL(ctx, s.minTTL)
}

// TokenWithMinTTL returns an access token that is valid for more than
// minTTL (as `gatehouse token --min-ttl` asks), refreshing first if
// needed.
//
// When that refresh fails because the issuer cannot be reached (a network
// error, a timeout, or a 5xx answer) and the cached access token has not
// expired yet, the cached token is returned with a nil error, and Warn is
// told once: a short outage of the issuer does not break a command whose
// token still works. An expired token, or any answer of the issuer
// (invalid_grant: ErrLoginExpired), is still an error.
func (s *TokenSource) TokenWithMinTTL(ctx context.Context, minTTL time.Duration) (*oauth2.Token, error) {
	cred, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if credFresh(cred, s.clk.Now(), minTTL) {
		return credToken(cred), nil
	}
	tok, err := s.shared(ctx, fmt.Sprintf("ttl/%d", minTTL), func(ctx context.Context) (*credstore.Credential, error) {
		return s.refresh(ctx, func(cur, _ *credstore.Credential) bool {
			return credFresh(cur, s.clk.Now(), minTTL)
		})
	})
	if err != nil && ctx.Err() == nil && Unreachable(err) {
		s.mu.Lock()
		known := s.known
		s.mu.Unlock()
		if known != nil && known.Kind != credstore.KindAPIKey && tokenFresh(known.AccessToken, known.Expiry, s.clk.Now(), 0) {
			s.warned.Do(func() { s.warn(err, known.Expiry) })
			return credToken(known), nil
		}
	}
	return tok, err
}

// ForceRefresh refreshes the token even if it is still valid — unless a
// peer already changed the stored token since this source last saw it,
// in which case that newer token is adopted instead of spending another
// refresh.
func (s *TokenSource) ForceRefresh(ctx context.Context) (*oauth2.Token, error) {
	// The baseline must be read before waiting for the lock, so that a
	// refresh by a peer holding the lock shows up as a change.
	if _, err := s.current(ctx); err != nil {
		return nil, err
	}
	s.log.Info("client: force refresh: stored token read; waiting for the profile lock", "profile", s.profile)
	return s.shared(ctx, "force", func(ctx context.Context) (*credstore.Credential, error) {
		return s.refresh(ctx, func(cur, seen *credstore.Credential) bool {
			return seen != nil && changed(seen, cur) && credFresh(cur, s.clk.Now(), s.minTTL)
		})
	})
}

// Invalidate handles a 401 for the access token rejected: it refreshes
// once, and only if the store still holds that token; if another caller
// or process already replaced it, the replacement is returned. An API
// key cannot be replaced; it comes back unchanged.
func (s *TokenSource) Invalidate(ctx context.Context, rejected string) (*oauth2.Token, error) {
	return s.shared(ctx, "invalidate/"+rejected, func(ctx context.Context) (*credstore.Credential, error) {
		return s.refresh(ctx, func(cur, _ *credstore.Credential) bool {
			return credToken(cur).AccessToken != rejected && credFresh(cur, s.clk.Now(), s.minTTL)
		})
	})
}

// DPoP returns the DPoP of the key the profile's tokens are bound to, or
// nil for a bearer login (a login stored before DPoP, or with --no-dpop).
// It implements DPoPSource.
func (s *TokenSource) DPoP(ctx context.Context) (*DPoP, error) {
	cred, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.dpopFor(cred)
}

// dpopFor returns the DPoP of cred's key, loading it the first time (and
// again when a new login stored another key).
func (s *TokenSource) dpopFor(cred *credstore.Credential) (*DPoP, error) {
	if !cred.Bound() {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dpop != nil && s.dpop.PrivateKeyPEM() == cred.DPoPKey {
		return s.dpop, nil
	}
	d, err := LoadDPoPKey(cred.DPoPKey, s.clk)
	if err != nil {
		return nil, fmt.Errorf("client: profile %q: the stored DPoP key: %w; log in again", s.profile, err)
	}
	s.dpop = d
	return d, nil
}

// tokenClient is the client for cred's token requests: with proofs of its
// key when it has one.
func (s *TokenSource) tokenClient(cred *credstore.Credential) (*http.Client, error) {
	d, err := s.dpopFor(cred)
	if err != nil || d == nil {
		return s.hc, err
	}
	return d.HTTPClient(s.hc), nil
}

// current returns the credential this source knows, reading the store
// the first time.
func (s *TokenSource) current(ctx context.Context) (*credstore.Credential, error) {
	s.mu.Lock()
	known := s.known
	s.mu.Unlock()
	if known != nil {
		return known, nil
	}
	cred, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	s.remember(cred)
	return cred, nil
}

// read gets the profile's credential from the store.
func (s *TokenSource) read(ctx context.Context) (*credstore.Credential, error) {
	cred, err := s.store.Get(ctx, s.profile)
	if errors.Is(err, credstore.ErrNotFound) {
		return nil, fmt.Errorf("client: profile %q: %w", s.profile, ErrNotLoggedIn)
	}
	if err != nil {
		return nil, fmt.Errorf("client: read profile %q: %w", s.profile, err)
	}
	return cloneCred(cred), nil
}

func (s *TokenSource) remember(c *credstore.Credential) {
	s.mu.Lock()
	s.known = c
	s.mu.Unlock()
}

// shared runs fn once for every concurrent caller with the same key. It
// runs on a context detached from any one caller, so a caller that gives
// up does not fail the others; each caller still stops waiting when its
// own ctx ends.
//
// A caller that gives up while the refresh is in its critical section (see
// flight) waits up to criticalGrace for the answer to be stored, and gets
// the new token if it arrives.
func (s *TokenSource) shared(ctx context.Context, key string, fn func(context.Context) (*credstore.Credential, error)) (*oauth2.Token, error) {
	s.mu.Lock()
	if s.flights == nil {
		s.flights = map[string]*flight{}
	}
	f := s.flights[key]
	if f == nil {
		f = &flight{stored: make(chan struct{})}
		s.flights[key] = f
	}
	f.mu.Lock()
	f.waiters++
	f.mu.Unlock()
	s.mu.Unlock()
	ch := s.group.DoChan(key, func() (any, error) {
		defer func() {
			s.mu.Lock()
			if s.flights[key] == f {
				delete(s.flights, key)
			}
			s.mu.Unlock()
		}()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return fn(context.WithValue(fctx, flightKey{}, f))
	})
	result := func(r singleflight.Result) (*oauth2.Token, error) {
		if r.Err != nil {
			return nil, r.Err
		}
		return credToken(r.Val.(*credstore.Credential)), nil
	}
	select {
	case r := <-ch:
		f.mu.Lock()
		f.waiters--
		f.mu.Unlock()
		return result(r)
	case <-ctx.Done():
	}
	if stored := f.leave(); stored != nil {
		t := s.clk.NewTimer(criticalGrace)
		defer t.Stop()
		select {
		case r := <-ch:
			return result(r)
		case <-t.C():
		}
	}
	return nil, fmt.Errorf("client: token for profile %q: %w", s.profile, ctx.Err())
}

// refresh is the cross-process refresh: lock the profile, re-read it,
// adopt the stored credential if adopt says so, otherwise renew it and
// write the result back before unlocking. adopt gets the credential read
// under the lock and the one this source saw before.
func (s *TokenSource) refresh(ctx context.Context, adopt func(cur, seen *credstore.Credential) bool) (*credstore.Credential, error) {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	unlock, err := s.store.Lock(ctx, s.profile)
	if err != nil {
		return nil, fmt.Errorf("client: lock profile %q: %w", s.profile, err)
	}
	defer unlock()

	s.mu.Lock()
	seen := s.known
	s.mu.Unlock()
	cur, err := s.read(ctx)
	if err != nil {
		if errors.Is(err, ErrNotLoggedIn) {
			s.remember(nil)
		}
		return nil, err
	}
	if cur.Kind == credstore.KindAPIKey || adopt(cur, seen) {
		s.remember(cur)
		return cur, nil
	}
	exit, err := enterCritical(ctx)
	if err != nil {
		return nil, err
	}
	defer exit()
	if cur, err = s.recordPendingRefresh(ctx, cur); err != nil {
		return nil, err
	}
	next, err := s.renew(ctx, cur)
	if err != nil {
		s.remember(cur)
		return nil, err
	}
	if err := s.store.Put(ctx, s.profile, next); err != nil {
		// The old refresh token may already be spent; keep the new
		// tokens in memory so this process can go on.
		s.remember(next)
		return nil, fmt.Errorf("client: store refreshed token for profile %q: %w", s.profile, err)
	}
	s.remember(next)
	return next, nil
}

// renew obtains a new access token for cur and returns the credential to
// store.
func (s *TokenSource) renew(ctx context.Context, cur *credstore.Credential) (*credstore.Credential, error) {
	md, err := s.metadata(ctx, cur.Issuer)
	if err != nil {
		return nil, err
	}
	hc, err := s.tokenClient(cur)
	if err != nil {
		return nil, err
	}
	next := cloneCred(cur)
	switch cur.Kind {
	case credstore.KindUser, "":
		if cur.RefreshToken == "" {
			return nil, fmt.Errorf("client: profile %q has no refresh token: %w", s.profile, ErrLoginExpired)
		}
		oc := &oauth2.Config{ClientID: cur.ClientID, ClientSecret: cur.ClientSecret, Endpoint: endpointFor(md, cur.ClientSecret)}
		if cur.PendingRefreshKey != "" {
			hc = withIdempotencyKey(hc, cur.PendingRefreshKey)
		}
		// RFC 6749 §6. Without an access token, x/oauth2 refreshes at
		// once, exactly one request (the auth style is never probed).
		tok, err := oc.TokenSource(withHTTPClient(ctx, hc), &oauth2.Token{RefreshToken: cur.RefreshToken}).Token()
		if err != nil {
			err = ParseError(err)
			if isCode(err, protocol.ErrInvalidGrant) {
				return nil, fmt.Errorf("client: refresh profile %q: %w (%w)", s.profile, ErrLoginExpired, err)
			}
			if isCode(err, protocol.ErrInvalidDPoPProof) && !cur.Bound() {
				// RFC 9449 §5: the refresh token is bound to a key this
				// credential does not hold (it was copied from the machine
				// that has it); it can never be refreshed here.
				return nil, fmt.Errorf("client: refresh profile %q: the refresh token is bound to a DPoP key that is not stored here: %w (%w)", s.profile, ErrLoginExpired, err)
			}
			return nil, fmt.Errorf("client: refresh profile %q: %w", s.profile, err)
		}
		if err := checkTokenType(tok); err != nil {
			return nil, fmt.Errorf("client: refresh profile %q: %w", s.profile, err)
		}
		stampExpiry(tok, s.clk.Now())
		next.AccessToken, next.TokenType, next.Expiry = tok.AccessToken, tok.Type(), tok.Expiry
		if tok.RefreshToken != "" {
			next.RefreshToken = tok.RefreshToken
		}
		next.PendingRefreshKey = "" // answered
		if id := idToken(tok); id != "" {
			next.IDToken = id
		}
		if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
			next.Scopes = strings.Fields(sc)
		}
	case credstore.KindClientCredentials:
		tok, err := clientCredentialsToken(ctx, hc, s.clk, md, cur.ClientID, cur.ClientSecret, cur.Scopes)
		if err != nil {
			return nil, fmt.Errorf("client: profile %q: %w", s.profile, err)
		}
		next.AccessToken, next.TokenType, next.Expiry = tok.AccessToken, tok.Type(), tok.Expiry
	default:
		return nil, fmt.Errorf("client: profile %q: unknown credential kind %q", s.profile, cur.Kind)
	}
	next.UpdatedAt = s.clk.Now().UTC()
	return next, nil
}

// metadata returns the issuer's metadata, discovering it once.
func (s *TokenSource) metadata(ctx context.Context, issuer string) (*protocol.Metadata, error) {
	s.mu.Lock()
	md := s.md
	s.mu.Unlock()
	if md != nil {
		if issuer != "" && md.Issuer != issuer {
			return nil, fmt.Errorf("client: profile %q is for issuer %q, metadata for %q: %w", s.profile, issuer, md.Issuer, ErrIssuerMismatch)
		}
		return md, nil
	}
	if issuer == "" {
		return nil, fmt.Errorf("client: profile %q has no issuer", s.profile)
	}
	md, err := Discover(ctx, s.hc, issuer)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.md = md
	s.mu.Unlock()
	return md, nil
}

// credFresh reports whether c yields an access token valid for more than
// minTTL at now.
func credFresh(c *credstore.Credential, now time.Time, minTTL time.Duration) bool {
	if c.Kind == credstore.KindAPIKey {
		return c.APIKey != ""
	}
	return tokenFresh(c.AccessToken, c.Expiry, now, minTTL)
}

// changed reports whether the stored access token differs from the one
// seen before.
func changed(seen, cur *credstore.Credential) bool {
	return seen.AccessToken != cur.AccessToken || !seen.Expiry.Equal(cur.Expiry)
}

// credToken is the oauth2.Token a credential yields. It never carries the
// refresh token: that stays in the store.
func credToken(c *credstore.Credential) *oauth2.Token {
	if c.Kind == credstore.KindAPIKey {
		return &oauth2.Token{AccessToken: c.APIKey, TokenType: protocol.TokenTypeBearer}
	}
	tok := &oauth2.Token{AccessToken: c.AccessToken, TokenType: c.TokenType, Expiry: c.Expiry}
	if tok.TokenType == "" {
		tok.TokenType = protocol.TokenTypeBearer
	}
	if c.IDToken != "" {
		tok = tok.WithExtra(map[string]any{"id_token": c.IDToken})
	}
	return tok
}

// cloneCred copies c so that neither the store's value nor ours is
// changed behind the other's back.
func cloneCred(c *credstore.Credential) *credstore.Credential {
	n := *c
	n.Scopes = slices.Clone(c.Scopes)
	return &n
}
