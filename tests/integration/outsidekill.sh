#!/usr/bin/env bash
# tests/integration/outsidekill.sh: a healthy tenant whose batch a poison tenant crashed, then SIGKILLed twice from outside while it runs alone: no strike, no quarantine; the poison is quarantined; outside kills in a row while alone end the job unavailable, without a strike.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init outsidekill

STRIKES=3
tp_need_workers faults || tp_finish
# p1 segfaults; h1 and h2 take 300 ms ("slow"), long enough to be caught
# running alone and killed.
export TP_FAULTS=p1=segv,h0=slow,h1=slow,h2=slow
tp_worker_config workers.batch_size=4 workers.max_workers=1 workers.max_strikes=$STRIKES \
    workers.job_timeout=20s workers.backoff_max=100ms workers.crash_rate=100000
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }
printf '%s\n' h0 p1 h1 h2 >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

# alone_pid UID: the pid of a live worker running UID's job and no other
# (waits up to 20 s), not one killed before ($T/killed); "" when none came.
alone_pid() {
	local out p i
	touch "$T/killed"
	for ((i = 0; i < 400; i++)); do
		out=$("$TPCLI" -f "$TP_CONF" --json -t 2 status 2>/dev/null)
		for p in $(jq -r --arg u "$1" '.. | objects | select(has("uids") and has("pid") and .uids == [$u]) | .pid' <<<"$out" 2>/dev/null); do
			if tp_alive "$p" && ! grep -qx "$p" "$T/killed"; then
				echo "$p"
				return
			fi
		done
		sleep 0.05
	done
}

# strikes UID: the tenant's strikes as its last_sync_error says (0 without one).
strikes() {
	local s
	s=$(tp_sql "SELECT json_extract(data, '\$.strikes') FROM docs WHERE path = 'users/$1/status/last_sync_error'")
	echo "${s:-0}"
}

# --- a batch crashed by p1, then h1 killed twice from outside while alone -----
tp_log "p1 and h1 in one batch (queued behind h0's slow job): p1's segfault ends it"
printf '%s\n' h0 p1 h1 >"$T/sub"
tp_submit "$T/sub" "$T/jobs"
kills=0
for k in 1 2; do
	pid=$(alone_pid h1)
	if [ -z "$pid" ]; then
		tp_fail "outside kill $k: h1 runs alone" "no such worker within 20 s"
		break
	fi
	kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
	echo "$pid" >>"$T/killed"
	tp_wait_exit "$pid" 5
	tp_log "outside kill $k of h1's worker (pid $pid); h1's strikes now $(strikes h1)"
done
tp_eq "h1's alone worker was SIGKILLed twice from outside" 2 "$kills"
tp_jobs_wait "$T/jobs" "$T/ended" 60 || tp_fail "both jobs end within 60s"
tp_jobs_final "$T/ended" >"$T/final"
h1=$(awk '$2 == "h1"' "$T/final")
tp_log "h1's job: $h1"
tp_eq "h1's job is done" done "$(awk '{ print $3 }' <<<"$h1")"
tp_eq "h1 is not quarantined" "" "$(tp_sql "SELECT path FROM docs WHERE path = 'users/h1/status/quarantine'")"
tp_jcli tenant show h1
tp_eq "h1 has no strike" 0 "$(jq -r '[.. | objects | select(has("strikes")) | .strikes][0] // 0' <<<"$OUT")"
tp_file_has "h1's log: its batch's crash is a re-run, not a strike" 're-run' "$T/log/tenants/h1.log"
tp_file_has "h1's log: the outside kill is named" 'not sent by' "$T/log/tenants/h1.log"
p1=$(awk '$2 == "p1"' "$T/final")
tp_eq "p1's job failed" failed "$(awk '{ print $3 }' <<<"$p1")"
tp_eq "p1 is quarantined with $STRIKES strikes" "$STRIKES" \
    "$(tp_sql "SELECT json_extract(data, '\$.strikes') FROM docs WHERE path = 'users/p1/status/quarantine'")"

# --- outside kills in a row, alone, are bounded -------------------------------
tp_log "h2 runs alone (a tenant with a fresh strike-free job) and is SIGKILLed $STRIKES times in a row"
# a sync of one tenant alone: h2 after a batch crash would be alone too, but
# the job of one tenant in a batch of one is alone by construction
printf '%s\n' h2 >"$T/sub2"
tp_submit "$T/sub2" "$T/jobs2"
kills=0
for k in $(seq 1 "$STRIKES"); do
	pid=$(alone_pid h2)
	[ -n "$pid" ] || break
	kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
	echo "$pid" >>"$T/killed"
	tp_wait_exit "$pid" 5
done
tp_eq "h2's worker was SIGKILLed $STRIKES times" "$STRIKES" "$kills"
tp_jobs_wait "$T/jobs2" "$T/ended2" 60 || tp_fail "h2's job ends within 60s"
h2=$(tp_jobs_final "$T/ended2")
tp_log "h2's job: $h2"
tp_eq "h2's job failed unavailable" "failed unavailable" "$(awk '{ print $3, $5 }' <<<"$h2")"
tp_eq "h2 is not quarantined" "" "$(tp_sql "SELECT path FROM docs WHERE path = 'users/h2/status/quarantine'")"
TP_CLI_TIMEOUT=30 tp_cli sync h2 --wait
tp_rc "h2's next sync succeeds" 0

tp_true "the daemon is alive" tp_alive "$TPD_PID"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_finish
