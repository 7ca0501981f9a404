#!/usr/bin/env bash
# tests/integration/chaos.sh: 1,000 tenants, 10 poison, a random worker SIGKILLed every 200 ms through a pulse, then the supervisor SIGKILLed mid-pulse and restarted: the 990 healthy sync once in each pulse, the 10 are quarantined, no worker outlives its supervisor by 5 s.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init chaos

TENANTS=1000
KILL_EVERY=0.2		# seconds between two outside kills
GRACE=5			# seconds a worker may outlive its supervisor
PULSE_WAIT=120		# seconds a pulse may take
tp_sanitized && PULSE_WAIT=300
POISON=(c0050 c0150 c0250 c0350 c0450 c0550 c0650 c0750 c0850 c0950)

tp_need_workers faults || tp_finish
TP_FAULTS=$(printf '%s=segv\n' "${POISON[@]}" | paste -sd, -)
export TP_FAULTS
tp_worker_config workers.batch_size=32 workers.max_workers=4 workers.max_strikes=3 \
    workers.job_timeout=20s workers.backoff_max=200ms workers.crash_rate=100000
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }
seq -f 'c%04g' 1 "$TENANTS" >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
printf '%s\n' "${POISON[@]}" | sort >"$T/poison"
grep -vxF -f "$T/poison" "$T/uids" >"$T/healthy"
HEALTHY=$(wc -l <"$T/healthy")

# commits OUT: "uid count" of the "committed job" lines of every tenant log.
commits() {
	grep -c ' committed job ' "$T"/log/tenants/c*.log 2>/dev/null |
	    sed -E 's|^.*/([^/]+)\.log:|\1 |' | sort >"$1"
}

# pulse_check NAME BEFORE: ops/last_pulse says HEALTHY synced, and each
# healthy tenant has exactly one more commit than in BEFORE, none other.
pulse_check() {
	local lp once
	lp=$(tp_sql "SELECT data FROM docs WHERE path = 'ops/last_pulse'")
	tp_eq "$1: ops/last_pulse synced $HEALTHY" "$HEALTHY" "$(jq -r .synced <<<"$lp")"
	commits "$T/after"
	once=$(join -a 2 -e 0 -o 0,1.2,2.2 "$2" "$T/after" | awk '{ print $1, $3 - $2 }' |
	    awk 'NR == FNR { h[$1] = 1; next } ($1 in h) != ($2 == 1) { print }' "$T/healthy" - | head -5 | tr '\n' ' ')
	tp_eq "$1: each healthy tenant committed exactly once, no poison one" "" "$once"
	tp_log "$1: $(jq -c '{synced, errors, crashed, quarantined, skipped_quarantined, duration_ms}' <<<"$lp")"
}

# pulse NAME: a pulse, waited for (bounded).
pulse() {
	TP_CLI_TIMEOUT=$PULSE_WAIT tp_cli pulse --wait
	tp_true "$1: the pulse ended (rc $RC)" test "$RC" -le 1
}

# --- pulse 1: a worker SIGKILLed every 200 ms ----------------------------------
killer() {
	local pids p
	while [ ! -e "$T/stop" ]; do
		mapfile -t pids < <(tp_worker_pids)
		if [ "${#pids[@]}" -gt 0 ]; then
			p=${pids[RANDOM % ${#pids[@]}]}
			kill -KILL "$p" 2>/dev/null && echo "$p" >>"$T/kills"
		fi
		sleep "$KILL_EVERY"
	done
}
tp_log "pulse 1, a worker SIGKILLed every ${KILL_EVERY}s"
: >"$T/kills"
tp_bg killer
killer_pid=$BG_PID
pulse "storm pulse"
touch "$T/stop"
tp_wait_exit "$killer_pid" 10 || kill -KILL "$killer_pid" 2>/dev/null
tp_reap "$killer_pid"
tp_log "$(wc -l <"$T/kills") workers killed from outside"
tp_true "workers were killed during the storm" test "$(wc -l <"$T/kills")" -ge 3

# --- pulse 2: after the storm -------------------------------------------------
commits "$T/before"
tp_log "pulse 2, after the storm"
pulse "pulse after the storm"
pulse_check "pulse after the storm" "$T/before"
q=$(tp_sql "SELECT tenant FROM docs WHERE path LIKE 'users/%/status/quarantine' ORDER BY tenant")
tp_eq "the 10 poison tenants are quarantined, no healthy one" "$(cat "$T/poison")" "$q"

# --- pulse 3: the supervisor SIGKILLed mid-pulse --------------------------------
tp_log "pulse 3, the supervisor SIGKILLed mid-pulse"
"$TPCLI" -f "$TP_CONF" -t "$PULSE_WAIT" pulse --wait >/dev/null 2>&1 &
cli_pid=$!
: >"$T/pids"
for ((i = 0; i < 200; i++)); do
	tp_worker_pids >>"$T/pids"
	[ "$(sort -u "$T/pids" | wc -l)" -ge 4 ] && break
	sleep 0.05
done
tp_worker_pids >>"$T/pids"
tp_stop KILL
tp_eq "the supervisor died of SIGKILL" 137 "$TPD_RC"
pgrep -f -- "--channel ipc://$T/" >>"$T/pids"
sort -u -o "$T/pids" "$T/pids"
tp_true "workers ran at the kill ($(wc -l <"$T/pids"))" test "$(wc -l <"$T/pids")" -ge 1
sleep "$GRACE"
left=
while read -r p; do
	tp_alive "$p" && left="$left $p"
done <"$T/pids"
left="$left $(pgrep -f -- "--channel ipc://$T/" | tr '\n' ' ')"
left=$(echo $left)
tp_eq "no worker alive ${GRACE}s after its supervisor died" "" "$left"
for p in $left; do kill -KILL "$p" 2>/dev/null; done
tp_wait_exit "$cli_pid" 30 || kill -KILL "$cli_pid" 2>/dev/null
wait "$cli_pid" 2>/dev/null

# --- pulse 4: after the restart -------------------------------------------------
tp_start || { tp_fail "tradepulsed restarts"; tp_finish; }
commits "$T/before"
tp_log "pulse 4, after the restart"
pulse "pulse after the restart"
pulse_check "pulse after the restart" "$T/before"
q=$(tp_sql "SELECT tenant FROM docs WHERE path LIKE 'users/%/status/quarantine' ORDER BY tenant")
tp_eq "after the restart: still exactly the 10 poison tenants quarantined" "$(cat "$T/poison")" "$q"

tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_eq "PRAGMA integrity_check" ok "$(sqlite3 "$T/state/tradepulse.db" 'PRAGMA integrity_check')"
tp_finish
