package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// A refresh whose answer is lost — the process was killed (SIGKILL, a
// crash, a second Ctrl-C) after the server rotated the refresh token and
// before the new one was stored — would leave only the spent token, and
// presenting it again is refused (and, after the server's reuse interval,
// revokes the login). So before a refresh token is spent, a random
// idempotency key is stored next to it (Credential.PendingRefreshKey, in
// the same atomic write as the rest of the credential) and sent with the
// request in an Idempotency-Key header
// (draft-ietf-httpapi-idempotency-key-header). Every later attempt with
// the same refresh token sends the same key; a Gatehouse server that
// already rotated the token for that key answers with the same successor
// (within its reuse interval, while the successor is unused), which is
// then stored and the key cleared. A server that does not know the header
// ignores it.

// idempotencyKeyHeader is the header the key is sent in.
const idempotencyKeyHeader = "Idempotency-Key"

// newIdempotencyKey returns 128 random bits, base64url (22 characters).
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// recordPendingRefresh makes sure cur, a login about to be refreshed with
// its refresh token, has a pending refresh key in the store before the
// request is sent, and returns it with the key. A key already there (an
// earlier attempt whose answer was lost) is kept, so the retry repeats it.
func (s *TokenSource) recordPendingRefresh(ctx context.Context, cur *credstore.Credential) (*credstore.Credential, error) {
	if (cur.Kind != credstore.KindUser && cur.Kind != "") || cur.RefreshToken == "" || cur.PendingRefreshKey != "" {
		return cur, nil
	}
	next := cloneCred(cur)
	next.PendingRefreshKey = newIdempotencyKey()
	if err := s.store.Put(ctx, s.profile, next); err != nil {
		// Nothing is spent yet: better no refresh than one whose answer
		// could be lost for good.
		return nil, fmt.Errorf("client: store profile %q before refreshing it: %w", s.profile, err)
	}
	s.remember(next)
	return next, nil
}

// withIdempotencyKey returns a copy of hc (nil: http.DefaultClient) that
// sends key as the Idempotency-Key of every request, as the draft's RFC
// 8941 string: in double quotes (a base64url key needs no escapes).
func withIdempotencyKey(hc *http.Client, key string) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = idempotencyKeyTransport{base: base, value: `"` + key + `"`}
	return &c
}

type idempotencyKeyTransport struct {
	base  http.RoundTripper
	value string
}

func (t idempotencyKeyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set(idempotencyKeyHeader, t.value)
	return t.base.RoundTrip(r)
}
