#!/usr/bin/env bash
# tests/integration/events.sh: the event feed on alpaca-sim: `tradepulse watch UID` gets that tenant's events only (alicex is not alice's, al gets none), `watch` gets the ops topic and every tenant's, a crash and a quarantine are events of their tenant, and no event carries a secret.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init events

tp_need_workers || tp_finish
# crashy's worker crashes (fault injection); without it the crash and
# quarantine events are left out, and the log says so
FAULTS=no
grep -q '^#define TP_FAULT_INJECTION 1' "$TP_BUILDDIR/config.h" 2>/dev/null && FAULTS=yes
tp_sim_start || tp_finish
tp_worker_config workers.max_workers=2 workers.job_timeout=10s \
    workers.max_strikes=2 workers.backoff_max=200ms workers.crash_rate=1000
export TP_FAULTS=crashy=segv
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }

# alice and alicex: the prefix trap (ZeroMQ matches topics by prefix)
printf '%s\n' alice alicex bob >"$T/uids"
[ "$FAULTS" = no ] || echo crashy >>"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
# carol: keys the broker does not know (an error event)
tp_cli tenant add carol
tp_rc "tenant add carol" 0
tp_cli keys set carol --key-id PKBADBADBADBAD01 <<<"carol-secret-not-known"
tp_rc "keys set carol" 0

tp_log "the events socket: 0660 next to the api socket"
tp_eq "events.sock is a socket of mode 660" "socket 660" \
    "$(stat -c '%F %a' "$T/run/events.sock")"

# closes that make AAPL a confident BUY (as signal_trade.sh)
up=100 ups='"100.00"'
for i in $(seq 1 39); do
	if [ $((i % 2)) = 1 ]; then up=$((up + 2)); else up=$((up - 1)); fi
	ups="$ups,\"$up.00\""
done
tp_sim POST /_sim/bars "{\"symbol\":\"AAPL\",\"closes\":[$ups]}" >/dev/null || tp_fail "sim: AAPL's closes"
tp_sim POST /_sim/prices '{"AAPL":"121"}' >/dev/null || tp_fail "sim prices"

# watch NAME ARGS...: a background `tradepulse watch`, its output in
# $T/w_NAME (stderr in $T/w_NAME.err); its pid in W_NAME
watch_bg() {
	local name=$1
	shift
	tp_bg sh -c 'exec "$@" >"$0" 2>"$0.err"' "$T/w_$name" "$TPCLI" -f "$TP_CONF" "$@"
	eval "W_$name=\$BG_PID"
}
watch_bg alice --json watch alice
watch_bg alicex --json watch alicex
watch_bg al --json watch al
watch_bg all --json watch
watch_bg bobtext watch bob
watch_bg two --json watch --count 2
# a subscription takes effect after its connection: give them a moment
sleep 1
for w in "$W_alice" "$W_alicex" "$W_al" "$W_all" "$W_bobtext"; do
	tp_true "watch pid $w is running" tp_alive "$w"
done

tp_log "a pulse (carol's keys are refused; crashy's worker crashes until quarantined), then a signal of alice's"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait exits 1: carol (and crashy) failed" 1
TP_CLI_TIMEOUT=30 tp_jcli signal alice AAPL
tp_ok "signal alice AAPL"
trade=$(tp_jq '.result.shadow_trades.opened // empty' "$OUT")
tp_match "the signal opened a trade" '^[A-Za-z0-9]{20}$' "$trade"

# the feed is asynchronous: wait for the last expected event
for _ in $(seq 1 100); do
	[ "$(jq -s '[.[] | select(.type == "trade" and .uid == "alice")] | length' "$T/w_all" 2>/dev/null)" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
sleep 0.3
for w in "$W_alice" "$W_alicex" "$W_al" "$W_all" "$W_bobtext"; do
	kill -INT "$w" 2>/dev/null
	tp_wait_exit "$w" 5
	tp_reap "$w"
	tp_eq "watch pid $w exits 0 on SIGINT" 0 "$REAP_RC"
done

tp_wait_exit "$W_two" 5
tp_reap "$W_two"
tp_eq "watch --count 2 exits 0 by itself" 0 "$REAP_RC"
tp_eq "after 2 events" 2 "$(wc -l <"$T/w_two")"
tp_eq "the first two of all" "$(head -2 "$T/w_all" | jq -c .seq | paste -sd' ' -)" \
    "$(jq -c .seq "$T/w_two" | paste -sd' ' -)"

# n FILE JQ-FILTER: how many events of FILE the filter selects
n() { jq -s "[.[] | select($2)] | length" "$1"; }

tp_log "watch alice: her events, none of alicex's or bob's"
tp_true "every line of w_alice is a JSON object" jq -e -s 'all(type == "object")' "$T/w_alice"
tp_eq "alice's snapshot came" 1 "$(n "$T/w_alice" '.type == "snapshot"')"
tp_eq "it is hers" alice "$(jq -r 'select(.type == "snapshot") | .uid' "$T/w_alice")"
tp_eq "its key_id_last4 (the most of a key id ever shown)" 0001 \
    "$(jq -r 'select(.type == "snapshot") | .key_id_last4' "$T/w_alice")"
tp_match "its equity" '^[0-9]+(\.[0-9]+)?$' "$(jq -r 'select(.type == "snapshot") | .equity' "$T/w_alice")"
tp_match "its job_id" '^j[0-9a-f]{16}$' "$(jq -r 'select(.type == "snapshot") | .job_id' "$T/w_alice")"
tp_eq "her signal came: a BUY of AAPL" "BUY AAPL" \
    "$(jq -r 'select(.type == "signal") | "\(.action) \(.symbol)"' "$T/w_alice")"
tp_eq "the trade it opened came" "opened $trade" \
    "$(jq -r 'select(.type == "trade") | "\(.event) \(.trade_id)"' "$T/w_alice")"
tp_eq "no event of another tenant (nor of ops)" 0 "$(n "$T/w_alice" '.uid != "alice"')"
tp_eq "seq grows" true "$(jq -s '[.[].seq] | . == sort' "$T/w_alice")"

tp_log "watch alicex: hers only; watch al: nothing"
tp_eq "alicex's snapshot came" 1 "$(n "$T/w_alicex" '.type == "snapshot" and .uid == "alicex"')"
tp_eq "no event of alice's (the prefix trap)" 0 "$(n "$T/w_alicex" '.uid != "alicex"')"
tp_eq "watch al printed nothing" 0 "$(wc -c <"$T/w_al")"

tp_log "watch (all): ops and every tenant's"
tp_eq "ops: pulse.started" 1 "$(n "$T/w_all" '.type == "pulse.started"')"
tp_eq "ops: pulse.finished" 1 "$(n "$T/w_all" '.type == "pulse.finished"')"
errors=2
[ "$FAULTS" = yes ] || errors=1
tp_eq "pulse.finished: 3 synced, $errors errors" "3 $errors" \
    "$(jq -r 'select(.type == "pulse.finished") | "\(.synced) \(.errors)"' "$T/w_all")"
tp_eq "the ops events have no uid" 0 "$(n "$T/w_all" '(.type | startswith("pulse.")) and has("uid")')"
tp_eq "snapshots of alice, alicex and bob" "alice alicex bob" \
    "$(jq -r 'select(.type == "snapshot") | .uid' "$T/w_all" | sort | paste -sd' ' -)"
if [ "$FAULTS" = yes ]; then
	tp_eq "crashy's crash events (one per crash, max_strikes 2)" 2 "$(n "$T/w_all" '.type == "crash" and .uid == "crashy"')"
	tp_match "a crash event names its crash report" '^[A-Za-z0-9]{20}$' \
	    "$(jq -r 'select(.type == "crash") | .crash_id' "$T/w_all" | head -1)"
	tp_match "and what happened" 'SIGSEGV' "$(jq -r 'select(.type == "crash") | .what' "$T/w_all" | head -1)"
	tp_eq "crashy's quarantine event" 1 "$(n "$T/w_all" '.type == "quarantine" and .uid == "crashy"')"
	tp_eq "its strikes" 2 "$(jq -r 'select(.type == "quarantine") | .strikes' "$T/w_all")"
	tp_eq "crashes only on crashy's topic" 0 "$(n "$T/w_all" '(.type == "crash" or .type == "quarantine") and .uid != "crashy"')"
else
	tp_log "no fault injection in this build: the crash and quarantine events are not tested"
fi
tp_eq "watch alice saw no crash" 0 "$(n "$T/w_alice" '.type == "crash"')"
tp_eq "carol's error: unauthenticated, of a sync" "unauthenticated sync" \
    "$(jq -r 'select(.type == "error") | "\(.code) \(.kind)"' "$T/w_all")"
tp_eq "it is carol's" carol "$(jq -r 'select(.type == "error") | .uid' "$T/w_all")"
tp_has "its message says the broker refused the keys" "HTTP 401" \
    "$(jq -r 'select(.type == "error") | .message' "$T/w_all")"

tp_log "the readable form"
tp_match "watch bob: a line per event, TIME TOPIC TYPE key=value" \
    '^20[0-9-]{8}T[0-9:.]+Z tenant\.bob snapshot job_id=j[0-9a-f]{16} key_id_last4=0003 ' "$(head -1 "$T/w_bobtext")"
tp_eq "watch bob: nothing but bob's" 0 "$(grep -vc ' tenant\.bob ' "$T/w_bobtext")"

tp_log "never a secret: no key id, no secret in any event"
cat "$T"/w_alice "$T"/w_alicex "$T"/w_all "$T"/w_bobtext >"$T/all_events"
tp_true "the events to look through are there ($(wc -l <"$T/all_events") lines)" test "$(wc -l <"$T/all_events")" -ge 10
tp_file_lacks "no tenant secret" "itestsecret" "$T/all_events"
tp_file_lacks "no key id (only its last 4)" "PKITEST" "$T/all_events"
tp_file_lacks "not carol's secret" "carol-secret" "$T/all_events"
tp_file_lacks "nor her key id" "PKBADBAD" "$T/all_events"

tp_log "watch without a daemon, and with events off"
tp_write_config "$T/off.conf" daemon.events=
tp_run "$TPCLI" -f "$T/off.conf" watch
tp_rc "events off: watch exits 1" 1
tp_has "and says why" "[daemon] events is empty" "$ERR"
tp_run "$TPCLI" -f "$TP_CONF" watch --events "ipc://$T/run/nothing.sock"
tp_rc "no socket: watch exits 3" 3
tp_run "$TPCLI" -f "$TP_CONF" watch 'bad uid'
tp_rc "a bad uid: usage, exit 2" 2

tp_finish
