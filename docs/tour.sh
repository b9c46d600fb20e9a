#!/usr/bin/env bash
# The README's five-minute tour, run unattended: the same commands, in the
# same order, each printed before it runs, with the answers checked.
#
#   bash docs/tour.sh                         # builds ./cmd/gatehouse first
#   GATEHOUSE_BIN=/path/to/gatehouse bash docs/tour.sh
#
# It needs bash, curl and jq. Everything happens in a new temporary
# directory: a server, the demo app and a gateway on free loopback ports,
# their data, and the CLI's logins (in a file, never the OS keyring). On
# exit, success or not, it stops what it started and removes the directory.
#
# The README writes http://127.0.0.1:8080, 127.0.0.1:3000 and 127.0.0.1:4180
# where this script has $ISSUER, $APP_ADDR and $GATEWAY_ADDR; a test
# (e2e/tour_test.go) checks that every command of the README's tour appears
# here, and runs this script.
set -euo pipefail

# ---- Setup: nothing here is part of the tour --------------------------------

_script=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
_repo=$(dirname "$(dirname "$_script")")
_source_lines=() # not mapfile: macOS has bash 3.2
while IFS= read -r _line || [ -n "$_line" ]; do _source_lines+=("$_line"); done <"$_script"

for _tool in curl jq; do
	command -v "$_tool" >/dev/null || { echo "tour: $_tool is needed; install it and run the tour again" >&2; exit 1; }
done

_tour=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-tour.XXXXXX")
_pids=()

_stop() {
	local status=$?
	trap - DEBUG
	for _pid in ${_pids[@]+"${_pids[@]}"}; do
		kill "$_pid" 2>/dev/null || true
	done
	for _pid in ${_pids[@]+"${_pids[@]}"}; do
		wait "$_pid" 2>/dev/null || true
	done
	if [ "$status" -ne 0 ]; then
		for _log in "$_tour"/*.log; do
			[ -f "$_log" ] || continue
			echo "---- ${_log##*/} (last lines)" >&2
			tail -n 20 "$_log" >&2
		done
		echo "tour: FAILED (exit $status)" >&2
	fi
	rm -rf "$_tour"
	exit "$status"
}
trap _stop EXIT
# Ctrl-C or a kill ends the tour through _stop too: the background servers
# ignore SIGINT, as a script's background commands do.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'echo "tour: line $LINENO failed: ${_source_lines[LINENO-1]}" >&2' ERR

# No setting of the caller's may change what the tour does, and its logins
# go to a file in the temporary directory, never to the OS keyring.
while IFS='=' read -r _name _; do
	case $_name in GATEHOUSE_BIN) ;; GATEHOUSE_*) unset "$_name" ;; esac
done < <(env)
export GATEHOUSE_CONFIG_DIR=$_tour/config GATEHOUSE_AUTH_STORAGE=file

mkdir -p "$_tour/bin"
if [ -n "${GATEHOUSE_BIN:-}" ]; then
	ln -s "$GATEHOUSE_BIN" "$_tour/bin/gatehouse"
else
	(cd "$_repo" && go build -o "$_tour/bin/gatehouse" ./cmd/gatehouse)
fi
export PATH=$_tour/bin:$PATH

# _listening VAR PID LOG PREFIX sets VAR to the HOST:PORT that the line
# "PREFIX http://HOST:PORT..." in LOG names, once the process PID wrote it.
_listening() {
	local var=$1 pid=$2 log=$3 prefix=$4 line
	for _ in $(seq 200); do
		line=$(grep -m1 "^$prefix http://" "$log" || true)
		if [ -n "$line" ]; then
			line=${line#"$prefix http://"}
			printf -v "$var" '%s' "${line%%[ /]*}"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { echo "tour: the process writing ${log##*/} exited" >&2; return 1; }
		sleep 0.1
	done
	echo "tour: no \"$prefix\" line in ${log##*/} after 20 s" >&2
	return 1
}

# _expect WHAT VALUE contains|is WANT shows VALUE and checks it.
_expect() {
	local what=$1 value=$2 how=$3 want=$4
	printf '%s\n' "$value" | sed 's/^/  /'
	case $how in
	contains) [[ $value == *"$want"* ]] ;;
	is) [ "$value" = "$want" ] ;;
	esac || { echo "tour: $what: want it to be/contain \"$want\"" >&2; return 1; }
}

# _refused_within SECONDS URL KEY waits until URL answers 401 to KEY.
_refused_within() {
	local code
	for _ in $(seq $(($1 * 10))); do
		code=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $3" "$2")
		[ "$code" = 401 ] && { echo "  (refused: $code)"; return 0; }
		sleep 0.1
	done
	echo "tour: the revoked key still answers $code after $1 s" >&2
	return 1
}

step() { printf '\n==== %s\n' "$1"; }

# Print each command of the tour (a line of this file) before it runs;
# of "_out=$(COMMAND)", which keeps the answer for a check, just COMMAND.
_show_command() {
	local line=${_source_lines[$1 - 1]}
	line=${line#"${line%%[![:space:]]*}"}
	case $line in
	'_out=$('*')') line=${line#'_out=$('} line=${line%')'} ;;
	_* | step\ * | trap\ * | '#'* | "") return ;;
	esac
	[ "$1" = "${_last_shown:-}" ] && return
	_last_shown=$1
	printf '$ %s\n' "$line"
}

# The server the README starts with `go run ./cmd/gatehouse server`, on a
# free port. Its first start creates the user admin with this password.
cd "$_tour"
GATEHOUSE_ADMIN_PASSWORD=tour-Admin-pa55word gatehouse server --addr 127.0.0.1:0 >"$_tour/server-audit.out" 2>"$_tour/server.log" &
_pids+=($!)
_listening ISSUER $! "$_tour/server.log" "Gatehouse listening on"
ISSUER=http://$ISSUER
ALICE_PASSWORD=alice-Tour-pa55word
VERA_PASSWORD=vera-Tour-pa55word
echo "A server for the tour: $ISSUER, in $_tour/gatehouse-data"

trap '_show_command $LINENO' DEBUG

# ---- The tour ---------------------------------------------------------------

step "Discovery and keys"
_out=$(curl -s $ISSUER/.well-known/openid-configuration)
_expect "discovery" "$(jq -c '{issuer, token_endpoint}' <<<"$_out")" contains "\"issuer\":\"$ISSUER\""
_out=$(curl -s $ISSUER/oauth2/jwks)
_expect "JWKS" "$(jq -c '[.keys[] | {kid, alg}]' <<<"$_out")" contains '"alg":"ES256"'

step "CI: a machine client with client credentials"
SECRET=$(gatehouse clients create ci --grant client_credentials --scope read --role viewer --json | jq -r .client_secret)
ACCESS_TOKEN=$(curl -s -u "ci:$SECRET" -d grant_type=client_credentials -d scope=read $ISSUER/oauth2/token | jq -r .access_token)
_expect "the access token's header" "$(cut -d. -f1 <<<"$ACCESS_TOKEN" | tr '_-' '/+' | base64 -d 2>/dev/null || true)" contains '"typ":"at+jwt"'

step "Check and revoke tokens"
API_SECRET=$(gatehouse clients create api --grant client_credentials --json | jq -r .client_secret)
_out=$(curl -s -u "api:$API_SECRET" -d token="$ACCESS_TOKEN" $ISSUER/oauth2/introspect)
_expect "introspection" "$_out" contains '"active":true'
curl -s -u "ci:$SECRET" -d token="$ACCESS_TOKEN" $ISSUER/oauth2/revoke
_out=$(curl -s -u "api:$API_SECRET" -d token="$ACCESS_TOKEN" $ISSUER/oauth2/introspect)
_expect "introspection after revocation" "$_out" is '{"active":false}'

step "A person: the CLI logs in once"
# The README's `gatehouse users add alice` prompts for the password; here it
# comes from stdin.
printf '%s\n' "$ALICE_PASSWORD" | gatehouse users add alice --role editor --password-stdin
# The README signs in in the browser. No one is here to click, so the tour
# allows terminal sign-in (the password grant, off by default) for the CLI's
# client and gives the name and password on stdin.
gatehouse clients update gatehouse-cli --terminal-login
printf 'alice\n%s\n' "$ALICE_PASSWORD" | gatehouse login --issuer $ISSUER --terminal
_out=$(gatehouse api /oauth2/userinfo)
_expect "userinfo through gatehouse api" "$_out" contains '"preferred_username":"alice"'
gatehouse status
_out=$(curl -s -H "$(gatehouse token --output header --url $ISSUER/oauth2/userinfo)" $ISSUER/oauth2/userinfo)
_expect "userinfo with a DPoP proof from gatehouse token" "$_out" contains '"preferred_username":"alice"'
gatehouse logout

step "API keys for scripts"
KEY=$(gatehouse apikeys create nightly-report --user alice --expires 90d --json | jq -r .key)
_out=$(curl -s -H "Authorization: Bearer $KEY" $ISSUER/oauth2/userinfo)
_expect "userinfo with the API key" "$_out" contains '"preferred_username":"alice"'
echo "$KEY" | gatehouse login --with-api-key --issuer $ISSUER --profile reports
gatehouse apikeys revoke "$KEY"
_refused_within 6 $ISSUER/oauth2/userinfo "$KEY"   # the server caches keys for up to 5 s

step "Operate it"
gatehouse audit list --type user.created
_out=$(gatehouse audit verify)
_expect "audit verify" "$_out" contains "audit trail intact"

step "Accounts and administration"
ADMIN_KEY=$(gatehouse apikeys create tour-admin --user admin --role admin --expires 1d --json | jq -r .key)
_out=$(GATEHOUSE_API_KEY=$ADMIN_KEY gatehouse users list --server $ISSUER)
_expect "users over the admin API" "$_out" contains "alice"
gatehouse roles create operator --permission runs:launch --permission assets:materialize
gatehouse users set-role alice operator

step "Protect a web app that has no login"
APP_ADDR=127.0.0.1:0
gatehouse demo-app --addr $APP_ADDR 2>"$_tour/demo-app.log" &
_pids+=($!)
_listening APP_ADDR $! "$_tour/demo-app.log" "Demo app listening on"
printf '%s\n' "$VERA_PASSWORD" | gatehouse users add vera --role viewer --password-stdin
GATEWAY_ADDR=127.0.0.1:0
gatehouse proxy --upstream http://$APP_ADDR --preset demo --addr $GATEWAY_ADDR >"$_tour/gateway-audit.out" 2>"$_tour/gateway.log" &
_pids+=($!)
_listening GATEWAY_ADDR $! "$_tour/gateway.log" "Gatehouse gateway listening on"
_out=$(curl -s -o /dev/null -w "%{http_code}\n" http://$GATEWAY_ADDR/)
_expect "an anonymous request" "$_out" is 401
_out=$(curl -s -o /dev/null -w "%{http_code} %{redirect_url}\n" -H "Accept: text/html" http://$GATEWAY_ADDR/)
_expect "an anonymous page load" "$_out" is "302 http://$GATEWAY_ADDR/_gatehouse/login?rd=%2F"
VERA_KEY=$(gatehouse apikeys create demo --user vera --json | jq -r .key)
_out=$(curl -s -H "Authorization: Bearer $VERA_KEY" http://$GATEWAY_ADDR/)
_expect "vera's API key at the gateway" "$_out" is "Hello vera (roles viewer; signed in with an API key)."
_out=$(curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $VERA_KEY" http://$GATEWAY_ADDR/admin)
_expect "vera at the admin area" "$_out" is 403

trap - DEBUG
printf '\n==== The tour ran as written.\n'
