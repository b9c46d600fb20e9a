package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
)

// errBusy: the gateway is inspecting as many bytes or parsing as many
// GraphQL documents as it allows at once, and the request did not get its
// turn in time (503).
var errBusy = errors.New("proxy: too many requests being inspected")

// errBodyRead: the client did not send its body (it stalled past the body
// timeout, or went away).
var errBodyRead = errors.New("proxy: request body not received")

// inspection bounds the work of judging GraphQL requests of identified
// callers: the bytes of request bodies held for inspection at once, and
// the documents parsed at once (SECURITY-CASES 67). Anonymous requests
// never get here unless a public rule could allow them.
type inspection struct {
	bytes  *semaphore.Weighted
	max    int64
	parses *semaphore.Weighted
	wait   time.Duration
}

func newInspection(maxBytes int64, maxParses int, wait time.Duration) *inspection {
	return &inspection{
		bytes:  semaphore.NewWeighted(maxBytes),
		max:    maxBytes,
		parses: semaphore.NewWeighted(int64(maxParses)),
		wait:   wait,
	}
}

// operations reads r's body (at most maxBody bytes) within the byte budget
// and parses its GraphQL operations within the parse budget. It returns
// the body to forward and a release func the caller runs once the body is
// no longer held (after forwarding it); release is never nil.
func (in *inspection) operations(r *http.Request, maxBody int64) (ops []graphql.Operation, body []byte, release func(), err error) {
	release = func() {}
	if r.ContentLength > maxBody {
		return nil, nil, release, fmt.Errorf("proxy: body of %d bytes: %w", r.ContentLength, graphql.ErrTooLarge)
	}
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	if hasBody {
		reserve := maxBody
		if r.ContentLength > 0 {
			reserve = r.ContentLength
		}
		if reserve > in.max {
			reserve = in.max
		}
		if err := in.acquire(r.Context(), in.bytes, reserve); err != nil {
			return nil, nil, release, err
		}
		held := reserve
		release = func() { in.bytes.Release(held) }
		body, err = readLimited(r.Body, r.ContentLength, maxBody)
		if err != nil {
			return nil, nil, release, err
		}
		if n := int64(len(body)); n < held {
			// Give back what the body did not need at once.
			in.bytes.Release(held - n)
			held = n
		}
	}
	if err := in.acquire(r.Context(), in.parses, 1); err != nil {
		return nil, nil, release, err
	}
	ops, err = graphql.FromRequestBody(r, body)
	in.parses.Release(1)
	return ops, body, release, err
}

// acquire takes n of s, waiting at most in.wait.
func (in *inspection) acquire(ctx context.Context, s *semaphore.Weighted, n int64) error {
	if s.TryAcquire(n) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, in.wait)
	defer cancel()
	if err := s.Acquire(ctx, n); err != nil {
		return errBusy
	}
	return nil
}

// readLimited reads a body of at most max bytes; a body of a declared
// length is read into a buffer of that size, so it costs its own size and
// not the doubling of a growing buffer.
func readLimited(r io.Reader, declared, max int64) ([]byte, error) {
	var (
		buf []byte
		err error
	)
	if declared > 0 && declared <= max {
		buf = make([]byte, declared)
		_, err = io.ReadFull(r, buf)
	} else {
		buf, err = io.ReadAll(io.LimitReader(r, max+1))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBodyRead, err)
	}
	if int64(len(buf)) > max {
		return nil, fmt.Errorf("proxy: body over %d bytes: %w", max, graphql.ErrTooLarge)
	}
	return buf, nil
}

// deadlineBody clears the connection's read deadline once the body has
// been read to its end, so the body timeout bounds the upload and nothing
// after it (a streamed response, a long request to the application).
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// withBodyTimeout bounds the time a client may take to send a request
// body: the connection's read deadline is set to now + d for the body and
// cleared when it has been read. A stalled upload fails at the deadline,
// wherever the body is being read (GraphQL inspection, the copy to the
// application, the server discarding an unread body). It returns a
// shallow copy of r with the wrapped body: the server's own request keeps
// its body, whose type tells the server how to finish an unread one.
func withBodyTimeout(w http.ResponseWriter, r *http.Request, d time.Duration) *http.Request {
	if d <= 0 || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return r
	}
	rc := http.NewResponseController(w)
	// A socket deadline is wall-clock time, not the gateway's clock.
	if rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
	return r2
}
