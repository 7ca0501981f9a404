#!/usr/bin/env bash
# tests/integration/curve.sh: the job API on tcp:// with CURVE: keygen --curve, the allowlist (ZAP), roles (a service may pulse, not set keys; an admin may), an unlisted key refused at the handshake, the client's name in the log, and a tcp:// api without CURVE refused by -n.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init curve
tp_keygen

# file_has NAME FILE TEXT: FILE has TEXT (a fixed string: keys hold
# characters that are special in a regex).
file_has() {
	if [ -f "$2" ] && grep -aqF -- "$3" "$2"; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "no '$3' in $2" "$(tail -n 5 "$2" 2>/dev/null)"
	return 1
}

# --- keygen --curve --------------------------------------------------------------

tp_log "keygen --curve"
for who in server ops svc stranger; do
	tp_run "$TPCLI" keygen --curve --out "$T/$who"
	tp_rc "keygen --curve --out $who exits 0" 0
	tp_eq "keygen --curve prints a 40-character public key ($who)" 40 "${#OUT}"
	tp_eq "$who.pub holds the printed public key" "$OUT" "$(cat "$T/$who.pub" 2>/dev/null)"
	tp_eq "$who.key is mode 0600" 600 "$(stat -c %a "$T/$who.key" 2>/dev/null)"
	tp_lacks "keygen --curve does not print the secret key ($who)" "$(cat "$T/$who.key" 2>/dev/null)" "$OUT$ERR"
done
tp_run "$TPCLI" keygen --curve --out "$T/ops"
tp_rc "keygen --curve never overwrites a key pair (exit 1)" 1
tp_run "$TPCLI" keygen --out "$T/x"
tp_rc "keygen --out without --curve is a usage error (exit 2)" 2

clients=$T/clients
cat >"$clients" <<EOF
# the job API's CURVE clients: NAME ROLE PUBLIC_KEY
ops admin $(cat "$T/ops.pub")

  # a remote service
svc-bot	service   $(cat "$T/svc.pub")
EOF
chmod 644 "$clients"

# --- the configuration ---------------------------------------------------------------

tp_log "tcp:// needs CURVE"
port=$((20000 + RANDOM % 20000))
bare=$T/bare.conf
tp_write_config "$bare" "daemon.api=tcp://127.0.0.1:$port"
tp_run "$TPD" -n -f "$bare"
tp_rc "-n refuses a tcp:// api without CURVE (exit 1)" 1
tp_match "-n says a tcp:// api needs CURVE" "^$bare:[0-9]+: api: a tcp:// endpoint needs CURVE" "$ERR"

ep=tcp://127.0.0.1:$port
tp_write_config "$TP_CONF" "daemon.api=$ep" "auth.curve_server_key=$T/server.key" "auth.curve_clients=$clients"
tp_run "$TPD" -n -f "$TP_CONF"
tp_rc "-n accepts a tcp:// api with CURVE" 0

# --- the daemon on tcp:// -----------------------------------------------------------------

# cli KEY ARGS...: the CLI as the client whose key pair is $T/KEY.*
cli() {
	local who=$1
	shift
	tp_run "$TPCLI" -f "$TP_CONF" -e "$ep" --curve-key "$T/$who.key" --server-key "$T/server.pub" --json -t "${TP_CLI_TIMEOUT:-5}" "$@"
}

tp_log "start on $ep"
"$TPD" -d -v -f "$TP_CONF" >>"$T/daemon.log" 2>&1 </dev/null &
TPD_PID=$!
TP_PIDS+=("$TPD_PID")
ready=0
for _ in $(seq 1 100); do
	tp_alive "$TPD_PID" || break
	if "$TPCLI" -e "$ep" --curve-key "$T/ops.key" --server-key "$T/server.pub" -t 1 status >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.2
done
if [ "$ready" != 1 ]; then
	tp_fail "the daemon answers on $ep" "$(tail -n 20 "$T/daemon.log")"
	tp_finish
fi
tp_pass "the daemon answers an admin on $ep"
file_has "the daemon logs its CURVE public key" "$T/daemon.log" "api: CURVE server, public key $(cat "$T/server.pub")"

tp_log "roles"
cli ops tenant add alice
tp_ok "admin: tenant add"
cli svc pulse
tp_ok "service: pulse"
cli svc status
tp_ok "service: status"
cli svc keys set alice --key-id PKSVC0000000001 <<<"svc-secret-000"
tp_rc_code "service: keys set is permission_denied" 1 permission_denied
cli svc tenant add bob
tp_rc_code "service: tenant add is permission_denied" 1 permission_denied
cli svc tenant list
tp_rc_code "service: tenant list is permission_denied" 1 permission_denied
cli svc trading disable alice --reason test
tp_rc_code "service: trading is permission_denied" 1 permission_denied
cli svc keygen --rotate
tp_rc_code "service: keygen --rotate is permission_denied" 1 permission_denied
cli svc pause --reason "not yours to press"
tp_rc_code "service: pause is permission_denied" 1 permission_denied
cli svc resume
tp_rc_code "service: resume is permission_denied" 1 permission_denied
cli ops pause --reason "curve test"
tp_eq "admin: pause, by the client's name" "client ops" "$(tp_jq .result.paused.by "$OUT")"
cli ops resume
tp_ok "admin: resume"
cli svc sync nosuchuser
tp_ne "service: sync is allowed (not permission_denied)" permission_denied "$(tp_jerr "$OUT")"
cli ops keys set alice --key-id PKOPS0000000001 <<<"ops-secret-000"
tp_ok "admin: keys set"
cli ops tenant show alice
tp_ok "admin: tenant show"
tp_eq "admin: the keys were set by the admin" 0001 "$(tp_jq .result.keys.key_id_last4 "$OUT")"

tp_log "an unlisted key"
cli stranger status
tp_rc "an unlisted key gets no answer (exit 3)" 3
tp_match "the CLI says it cannot reach the daemon" "cannot reach the daemon at $ep" "$ERR"
file_has "the daemon logs the refusal" "$T/daemon.log" "api: refused a client from 127.0.0.1: its public key is not in curve_clients (public key $(head -c 10 "$T/stranger.pub")...)"

tp_log "a wrong server key"
tp_run "$TPCLI" -e "$ep" --curve-key "$T/ops.key" --server-key "$T/stranger.pub" -t 2 status
tp_rc "a client expecting another server key gets no answer (exit 3)" 3

tp_log "the client's options"
tp_run "$TPCLI" -e "$ep" -t 2 status
tp_rc "tcp:// without --curve-key is refused by the CLI (exit 1)" 1
tp_match "the CLI says tcp:// needs CURVE" "tcp:// endpoint is served with CURVE only" "$ERR"
chmod 644 "$T/ops.key"
tp_run "$TPCLI" -e "$ep" --curve-key "$T/ops.key" --server-key "$T/server.pub" -t 2 status
tp_rc "a secret key file others may read is refused (exit 1)" 1
tp_match "the CLI says why" "must be a regular file that only its owner may read" "$ERR"
chmod 600 "$T/ops.key"
tp_run "$TPCLI" -e "$ep" --curve-key "$T/ops.key" --server-key "$(cat "$T/server.pub")" -t 5 status
tp_rc "--server-key takes the 40 Z85 characters too" 0

tp_log "the log"
file_has "the -v request line names the service client" "$T/daemon.log" "api: pulse client=svc-bot: ok"
file_has "the -v request line names the admin client" "$T/daemon.log" "api: keys.set uid=alice client=ops: ok"
file_has "a refused operation is logged with the client's name" "$T/daemon.log" "api: keys.set refused to client svc-bot (role service)"
for who in server ops svc stranger; do
	tp_file_lacks "no secret key in the log ($who)" "$(cat "$T/$who.key")" "$T/daemon.log"
done

tp_stop
tp_eq "the daemon exits 0" 0 "$TPD_RC"
tp_finish
