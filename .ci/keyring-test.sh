#!/usr/bin/env bash
# Runs the credstore keyring tests against a real Secret Service: a private
# D-Bus session with gnome-keyring's secrets component, unlocked with a
# throwaway password, keyrings kept in a temporary directory.
#
# Installs gnome-keyring and dbus with apt-get when they are missing and we
# are root. If they cannot be had, it says so and exits 0 (a missing package
# is not a test failure); if the tests run and fail, it exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

have_tools() {
  command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null
}

if ! have_tools; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing gnome-keyring and dbus for the keyring tests"
    if ! (apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gnome-keyring dbus dbus-x11 >/dev/null); then
      echo "keyring tests SKIPPED: could not install gnome-keyring/dbus with apt-get"
      exit 0
    fi
  fi
fi
if ! have_tools; then
  echo "keyring tests SKIPPED: need dbus-run-session and gnome-keyring-daemon" \
    "(apt-get install gnome-keyring dbus dbus-x11)"
  exit 0
fi

keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export KEYRING_HOME="$keyring_home"

# Inside the session: start the daemon (it creates and unlocks the "login"
# collection with the password read from stdin), then run the tests. The
# session bus and the daemon end with the inner shell.
dbus-run-session -- bash -c '
  set -euo pipefail
  export XDG_DATA_HOME="$KEYRING_HOME/data" XDG_RUNTIME_DIR="$KEYRING_HOME/run"
  mkdir -p -m 0700 "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
  echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  GATEHOUSE_TEST_REAL_KEYRING=1 go test -race -count=1 -run "Keyring" ./credstore/...
'
