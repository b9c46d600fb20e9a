package credstore

import (
	"errors"
	"testing"
)

func TestSessionBus(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	sockets := func(paths ...string) func(string) bool {
		return func(p string) bool {
			for _, s := range paths {
				if s == p {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name   string
		goos   string
		env    map[string]string
		socket []string
		ok     bool
	}{
		{"address set", "linux", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}, nil, true},
		{"runtime dir socket", "linux", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, []string{"/run/user/1000/bus"}, true},
		{"uid socket", "linux", nil, []string{"/run/user/1000/bus"}, true},
		{"nothing", "linux", nil, nil, false},
		{"runtime dir without socket", "freebsd", map[string]string{"XDG_RUNTIME_DIR": "/tmp/x"}, nil, false},
		{"macOS needs no bus", "darwin", nil, nil, true},
		{"Windows needs no bus", "windows", nil, nil, true},
	} {
		err := sessionBus(tc.goos, 1000, env(tc.env), sockets(tc.socket...))
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrNoSessionBus) {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
