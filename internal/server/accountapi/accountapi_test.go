package accountapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The tests here drive the handlers with fake collaborators; the tests of
// the API wired into the real server (who may call it, enrolment with
// real codes, the login limits) are in internal/server's
// account_api_test.go.

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakes records what the API asked of its collaborators.
type fakes struct {
	caller      *Caller // nil: Authenticate refuses with 401
	beginErr    error
	codes       []string // Confirm's codes for the code "123456"
	limitErr    error
	refusal     *protocol.Error
	attempts    int
	begun       int
	writtenErrs []error
}

func (f *fakes) Begin(ctx context.Context, u *storage.User) (string, string, error) {
	f.begun++
	if f.beginErr != nil {
		return "", "", f.beginErr
	}
	return "otpauth://totp/Gatehouse:" + u.Username + "?secret=ABC", "ABC", nil
}

func (f *fakes) Confirm(r *http.Request, u *storage.User, code string) ([]string, bool, error) {
	if code != "123456" {
		return nil, false, nil
	}
	return f.codes, true, nil
}

func (f *fakes) Verify(ctx context.Context, encoded, password string) (bool, error) {
	return encoded == "hash-of:"+password, nil
}

func (f *fakes) api() *API {
	return New(Deps{
		Authenticate: func(w http.ResponseWriter, r *http.Request) *Caller {
			if f.caller == nil {
				w.WriteHeader(http.StatusUnauthorized)
			}
			return f.caller
		},
		TOTP: f,
		LimitAttempt: func(r *http.Request, u *storage.User) (*protocol.Error, error) {
			f.attempts++
			return f.refusal, f.limitErr
		},
		Passwords: f,
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			f.writtenErrs = append(f.writtenErrs, err)
			w.WriteHeader(599)
		},
		RecentAuth: 5 * time.Minute,
		Clock:      clocktest.New(now),
	})
}

// call posts body to path through the API's routes.
func (f *fakes) call(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	mux := http.NewServeMux()
	f.api().Routes(func(pattern, route string, h http.HandlerFunc) {
		if route != "account_api" {
			t.Errorf("%s: route %q", pattern, route)
		}
		mux.Handle(pattern, h)
	})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	var m map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: not JSON (%d): %s", path, w.Code, w.Body)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
		}
	}
	return w.Code, m
}

func alice(authAgo time.Duration) *Caller {
	return &Caller{User: &storage.User{ID: "u-alice", Username: "alice", PasswordHash: "hash-of:right"}, AuthTime: now.Add(-authAgo)}
}

func TestEnrollAfterARecentSignIn(t *testing.T) {
	f := &fakes{caller: alice(time.Minute)}
	st, body := f.call(t, PathMFAEnroll, "")
	if st != http.StatusOK || body["secret"] != "ABC" || !strings.HasPrefix(body["otpauth_uri"].(string), "otpauth://totp/") {
		t.Fatalf("enroll: %d %v", st, body)
	}
	if f.attempts != 0 {
		t.Errorf("a recent sign-in counted %d attempts, want none", f.attempts)
	}
}

func TestEnrollWithoutARecentSignInNeedsThePassword(t *testing.T) {
	for _, c := range []struct {
		what, body   string
		caller       *Caller
		want         int
		wantAttempts int
	}{
		{"old sign-in, no password", "", alice(time.Hour), http.StatusUnauthorized, 0},
		{"no auth_time, no password", "", &Caller{User: alice(0).User}, http.StatusUnauthorized, 0},
		{"old sign-in, wrong password", `{"password":"wrong"}`, alice(time.Hour), http.StatusUnauthorized, 1},
		{"old sign-in, right password", `{"password":"right"}`, alice(time.Hour), http.StatusOK, 1},
	} {
		f := &fakes{caller: c.caller}
		st, body := f.call(t, PathMFAEnroll, c.body)
		if st != c.want || f.attempts != c.wantAttempts {
			t.Errorf("%s: %d %v after %d attempts, want %d after %d", c.what, st, body, f.attempts, c.want, c.wantAttempts)
		}
		if st == http.StatusUnauthorized && (body["error"] != ErrCodeReauth || f.begun != 0) {
			t.Errorf("%s: %v, begun %d (want %s, nothing begun)", c.what, body, f.begun, ErrCodeReauth)
		}
	}
}

func TestEnrollRefusals(t *testing.T) {
	f := &fakes{caller: alice(time.Minute)}
	if st, body := f.call(t, PathMFAEnroll, "not json"); st != http.StatusBadRequest || body["error"] != protocol.ErrInvalidRequest || f.begun != 0 {
		t.Errorf("bad body: %d %v, begun %d", st, body, f.begun)
	}
	f = &fakes{caller: alice(time.Minute), beginErr: ErrAlreadyEnrolled}
	if st, body := f.call(t, PathMFAEnroll, ""); st != http.StatusConflict || body["error"] != ErrCodeAlreadyEnrolled {
		t.Errorf("already enrolled: %d %v", st, body)
	}
	down := errors.New("database down")
	f = &fakes{caller: alice(time.Minute), beginErr: down}
	if st, _ := f.call(t, PathMFAEnroll, ""); st != 599 || len(f.writtenErrs) != 1 || f.writtenErrs[0] != down {
		t.Errorf("failed begin: %d, written %v (want the server's error writer)", st, f.writtenErrs)
	}
	f = &fakes{caller: alice(time.Hour), refusal: protocol.NewError(protocol.ErrTooManyRequests, "slow down")}
	if st, _ := f.call(t, PathMFAEnroll, `{"password":"right"}`); st != 599 || len(f.writtenErrs) != 1 || f.begun != 0 {
		t.Errorf("refused password attempt: %d, written %v, begun %d", st, f.writtenErrs, f.begun)
	}
}

func TestUnauthenticatedCallsGoNoFurther(t *testing.T) {
	for _, path := range []string{PathMFAEnroll, PathMFAConfirm} {
		f := &fakes{}
		if st, _ := f.call(t, path, `{"code":"123456"}`); st != http.StatusUnauthorized || f.begun != 0 || f.attempts != 0 {
			t.Errorf("%s: %d, begun %d, attempts %d", path, st, f.begun, f.attempts)
		}
	}
}

func TestConfirm(t *testing.T) {
	f := &fakes{caller: alice(time.Hour), codes: []string{"aaaa-bbbb", "cccc-dddd"}}
	st, body := f.call(t, PathMFAConfirm, `{"code":"123456"}`)
	if list, _ := body["recovery_codes"].([]any); st != http.StatusOK || len(list) != 2 || list[0] != "aaaa-bbbb" {
		t.Fatalf("confirm: %d %v", st, body)
	}
	if f.attempts != 1 {
		t.Errorf("attempts %d, want 1: every code counts", f.attempts)
	}
	if st, body := f.call(t, PathMFAConfirm, `{"code":"654321"}`); st != http.StatusBadRequest || body["error"] != ErrCodeBadCode || body["recovery_codes"] != nil {
		t.Errorf("wrong code: %d %v", st, body)
	}
	if st, body := f.call(t, PathMFAConfirm, "not json"); st != http.StatusBadRequest || body["error"] != protocol.ErrInvalidRequest {
		t.Errorf("bad body: %d %v", st, body)
	}
}

func TestConfirmUnderTheLimits(t *testing.T) {
	f := &fakes{caller: alice(time.Minute), limitErr: errors.New("redis down")}
	if st, body := f.call(t, PathMFAConfirm, `{"code":"123456"}`); st != http.StatusServiceUnavailable || body["error"] != protocol.ErrTemporarilyUnavailable {
		t.Errorf("limiter down: %d %v, want 503", st, body)
	}
	refusal := protocol.NewError(protocol.ErrTooManyRequests, "slow down")
	f = &fakes{caller: alice(time.Minute), refusal: refusal}
	if st, body := f.call(t, PathMFAConfirm, `{"code":"123456"}`); st != 599 || len(f.writtenErrs) != 1 || f.writtenErrs[0] != refusal || body != nil {
		t.Errorf("refused: %d %v, written %v (want the refusal through the server's error writer)", st, body, f.writtenErrs)
	}
}
