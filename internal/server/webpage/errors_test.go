package webpage

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// loggingPages are the pages of an origin issuer, with the log they
// write.
func loggingPages(t *testing.T) (*Pages, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	p, err := New("", "https://h.example", "Acme Sign-in", slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

func TestErrorPageIsPlainWithAWayBackAndALoggedReference(t *testing.T) {
	p, logs := loggingPages(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/oauth2/authorize?client_id=nope", nil)
	p.RequestError(rec, req, "Sign-in cannot go on", protocol.NewError(protocol.ErrInvalidClient, "unknown client"))
	body := rec.Body.String()
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d", rec.Code)
	}
	m := regexp.MustCompile(`<dt>Reference</dt><dd><code>([a-z2-7]{8})</code></dd>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no reference on the page:\n%s", body)
	}
	if !strings.Contains(logs.String(), "ref="+m[1]) || !strings.Contains(logs.String(), "code=invalid_client") {
		t.Errorf("reference %s not logged: %s", m[1], logs.String())
	}
	if !strings.Contains(body, `href="/"`) || !strings.Contains(body, "Go back to the application") {
		t.Errorf("no way back:\n%s", body)
	}
	// The protocol words are details, not the message.
	msg := body[strings.Index(body, `role="alert"`):]
	msg = msg[:strings.Index(msg, "</p>")]
	if strings.Contains(msg, "unknown client") || strings.Contains(msg, "invalid_client") {
		t.Errorf("protocol words in the message: %s", msg)
	}
}

func TestServerErrorLogsAtErrorLevel(t *testing.T) {
	p, logs := loggingPages(t)
	rec := httptest.NewRecorder()
	p.ServerError(rec, httptest.NewRequest("POST", "/login", nil), errors.New("boom"))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "Please try again in a moment.") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, `msg="error page"`) ||
		!strings.Contains(l, "status=500 method=POST path=/login err=boom") {
		t.Errorf("log: %s", l)
	}
}

func TestTooManySaysHowLongToWait(t *testing.T) {
	p := newPages(t, "", "https://h.example")
	for _, tc := range []struct {
		retryAfter int
		header     string
		say        string
	}{
		{0, "", "Too many attempts. Wait a moment and try again."},
		{45, "45", "Too many attempts. Try again in 45 seconds."},
		{150, "150", "Too many attempts. Try again in 3 minutes."},
	} {
		rec := httptest.NewRecorder()
		p.TooMany(rec, httptest.NewRequest("POST", "/login", nil), tc.retryAfter)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != tc.header || !strings.Contains(rec.Body.String(), tc.say) {
			t.Errorf("retry after %d: %d %q\n%s", tc.retryAfter, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	for secs, want := range map[int]string{0: "1 second", 1: "1 second", 45: "45 seconds", 119: "119 seconds", 120: "2 minutes", 121: "3 minutes"} {
		if got := waitText(secs); got != want {
			t.Errorf("waitText(%d) = %q, want %q", secs, got, want)
		}
	}
}
