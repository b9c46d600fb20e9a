package credstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// On Linux and the BSDs the keyring is the Secret Service, reached over
// the D-Bus session bus. Without a session bus address, the D-Bus library
// falls back to `dbus-launch --autolaunch`, which starts a dbus-daemon and,
// through it, a gnome-keyring-daemon that outlive the command: one stray
// pair per first login on a server or in a container. So storage auto
// looks for a session bus first and, when there is none, does not touch
// the keyring at all.

// ErrNoSessionBus means there is no D-Bus session bus to reach the
// keyring through, so storage auto did not try it.
var ErrNoSessionBus = errors.New("no D-Bus session bus")

// envSessionBus is where D-Bus clients find the session bus.
const envSessionBus = "DBUS_SESSION_BUS_ADDRESS"

// sessionBus reports whether a keyring on goos can be reached without
// starting a daemon: nil on systems whose keyring is not reached over
// D-Bus, and where DBUS_SESSION_BUS_ADDRESS is set or the bus socket of
// the user's runtime directory ($XDG_RUNTIME_DIR/bus, /run/user/UID/bus)
// exists; an error wrapping ErrNoSessionBus otherwise. getenv and exists
// read the environment and the file system.
func sessionBus(goos string, uid int, getenv func(string) string, exists func(string) bool) error {
	switch goos {
	case "darwin", "windows", "ios", "android", "plan9", "js", "wasip1":
		return nil
	}
	if getenv(envSessionBus) != "" {
		return nil
	}
	sockets := []string{}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		sockets = append(sockets, filepath.Join(d, "bus"))
	}
	if uid >= 0 {
		sockets = append(sockets, "/run/user/"+strconv.Itoa(uid)+"/bus")
	}
	for _, s := range sockets {
		if exists(s) {
			return nil
		}
	}
	return fmt.Errorf("%w (%s is unset and there is no bus socket), so the keyring was not tried: "+
		"trying would start a dbus-daemon and a keyring daemon that keep running", ErrNoSessionBus, envSessionBus)
}

// socketExists reports whether path exists and is a socket.
func socketExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}
