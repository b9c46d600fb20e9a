package session_test

import (
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
)

func TestOpen(t *testing.T) {
	ctx := t.Context()
	clk := start()
	mr := miniredis.RunT(t)
	st := openSQLite(t)
	for _, tc := range []struct {
		name string
		st   bool
		want string // type of the store; "" for an error
	}{
		{"memory", false, "*session.Memory"},
		{"sql", true, "*session.SQL"},
		{"sql", false, ""},
		{"redis://" + mr.Addr() + "/0", false, "*session.Redis"},
		{"redis://:hunter2@127.0.0.1:1/0", false, ""}, // nothing listens
		{"", false, ""},
		{"Memory", false, ""},
		{"postgres://u:hunter2@db/gatehouse", true, ""},
		{"https://redis.example", false, ""},
	} {
		var db = st
		if !tc.st {
			db = nil
		}
		s, closeFn, err := session.Open(ctx, tc.name, db, clk)
		if tc.want == "" {
			if err == nil {
				closeFn()
				t.Errorf("Open(%q) succeeded, want an error", tc.name)
			} else if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Open(%q) error %q reveals the password", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", tc.name, err)
			continue
		}
		if got := typeName(s); got != tc.want {
			t.Errorf("Open(%q) = %s, want %s", tc.name, got, tc.want)
		}
		sess := newSession(clk, "c1", "alice", time.Hour)
		if err := s.Create(ctx, sess); err != nil {
			t.Errorf("Open(%q): create: %v", tc.name, err)
		} else if _, err := s.Get(ctx, sess.ID); err != nil {
			t.Errorf("Open(%q): get: %v", tc.name, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Open(%q): ping: %v", tc.name, err)
		}
		if err := closeFn(); err != nil {
			t.Errorf("Open(%q): close: %v", tc.name, err)
		}
	}
}

func typeName(s session.Store) string {
	switch s.(type) {
	case *session.Memory:
		return "*session.Memory"
	case *session.SQL:
		return "*session.SQL"
	case *session.Redis:
		return "*session.Redis"
	}
	return "?"
}
