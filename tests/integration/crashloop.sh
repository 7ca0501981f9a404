#!/usr/bin/env bash
# tests/integration/crashloop.sh: a worker program that exits at once: start-up failures throttle spawning, status says so, the daemon stays up, and the job completes by itself once the program is fixed.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init crashloop

RECOVER_WAIT=30		# seconds for the queued job to end once the program is fixed
tp_sanitized && RECOVER_WAIT=60

tp_need_workers || tp_finish
mkdir -p "$T/bin"
prog=$T/bin/tradepulse-worker
cp "$TPW" "$prog"
# The backoff cap bounds how long a fixed program waits to be tried again.
tp_worker_config "workers.program=$prog" workers.backoff_max=2s
tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts with workers configured"
	tp_finish
fi
echo c1 >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
# the ops topic tells of the throttle too (docs/events.md)
tp_bg sh -c 'exec "$@" >"$0" 2>&1' "$T/w_ops" "$TPCLI" -f "$TP_CONF" --json watch
W_OPS=$BG_PID
sleep 0.5

TP_CLI_TIMEOUT=60 tp_cli sync c1 --wait
tp_rc "with the real program, sync c1 --wait succeeds" 0

# replace FILE: puts FILE in place of the worker program in one rename, as
# a package upgrade would.
replace() {
	cp "$1" "$prog.new" && chmod 755 "$prog.new" && mv -f "$prog.new" "$prog"
}

tp_log "the worker program now exits at once"
printf '#!/bin/sh\nexit 1\n' >"$T/broken"
replace "$T/broken"
tp_cli sync c1
tp_rc "sync c1 is queued" 0
job=$(printf '%s' "$OUT" | awk '/^queued job / { print $3 }')
tp_ne "sync printed the job id" "" "$job"

throttled=
end=$((SECONDS + 30))
i=0
while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 300 ]; do
	out=$("$TPCLI" -f "$TP_CONF" --json -t 5 status 2>/dev/null)
	if [ "$(tp_jq .result.throttled "$out")" = true ]; then
		throttled=$out
		break
	fi
	tp_alive "$TPD_PID" || break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$throttled" ]; then
	tp_fail "status shows spawning throttled within 30s" "last status: $out"
else
	tp_pass "status shows spawning throttled"
	tp_match "the throttle reason names start-up failures" '[Ss]tart' "$(tp_jq .result.throttle_reason "$throttled")"
	tp_true "status counts start-up failures ($(tp_jq .result.startup_failures "$throttled"))" \
	    test "$(tp_jq .result.startup_failures "$throttled")" -ge 1
	# throttled means a wait still to come: at least 1 ms, and no longer
	# than the crash-rate window (60 s; the backoff alone is capped at 2 s)
	retry=$(tp_jq .result.retry_ms "$throttled")
	tp_match "status says when spawning is tried again ($retry ms)" '^[0-9]+$' "$retry"
	tp_true "that is within 1 ms .. 60 s ($retry ms)" test "${retry:-0}" -ge 1 -a "${retry:-0}" -le 60000
fi

# A few seconds of the loop: throttled, not a tight loop; the daemon stays.
sleep 4
tp_jcli status
tp_ok "the daemon serves status during the crash loop"
f0=$(tp_jq .result.startup_failures "$throttled")
f1=$(tp_jq .result.startup_failures "$OUT")
tp_true "start-up failures go on ($f1)" test "${f1:-0}" -ge 2
tp_true "but throttled: at most 20 more in 4 seconds ($f0, then $f1)" \
    test $((${f1:-999} - ${f0:-0})) -le 20
tp_cli status
tp_match "status (human) says throttled, and why" '(^|'$'\n'')throttled: +yes: [^'$'\n'']*[Ss]tart' "$OUT"
tp_jcli job "$job"
tp_match "the job waits: queued or running, not failed" '^(queued|running)$' "$(tp_jq .result.state "$OUT")"
tp_eq "start-up failures strike no tenant: c1 is not quarantined" "" \
    "$(tp_sql "SELECT path FROM docs WHERE path = 'users/c1/status/quarantine'")"
tp_true "the daemon is alive during the crash loop" tp_alive "$TPD_PID"

tp_log "the worker program is fixed"
fixed_at=$SECONDS
replace "$TPW"
echo "c1 $job" >"$T/jobs"
if tp_jobs_wait "$T/jobs" "$T/ended" "$RECOVER_WAIT"; then
	tp_pass "the queued job ended by itself within ${RECOVER_WAIT}s ($((SECONDS - fixed_at))s)"
else
	tp_fail "the queued job ends by itself within ${RECOVER_WAIT}s"
fi
read -r _ _ state _ <<<"$(tp_jobs_final "$T/ended")"
tp_eq "the job is done" "done" "$state"
tp_has "its commit is in the tenant log" "committed job $job" "$(cat "$T/log/tenants/c1.log" 2>/dev/null)"

unthrottled=
end=$((SECONDS + 30))
i=0
while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 300 ]; do
	out=$("$TPCLI" -f "$TP_CONF" --json -t 5 status 2>/dev/null)
	[ "$(tp_jq .result.throttled "$out")" = false ] && unthrottled=1 && break
	sleep 0.1
	i=$((i + 1))
done
tp_eq "spawning is no longer throttled after a good start" 1 "${unthrottled:-0}"
TP_CLI_TIMEOUT=60 tp_cli sync c1 --wait
tp_rc "a new sync succeeds at once" 0

tp_true "the daemon never exited" tp_alive "$TPD_PID"
kill -INT "$W_OPS" 2>/dev/null
tp_wait_exit "$W_OPS" 5
tp_reap "$W_OPS"
tp_match "a throttled event on ops, with the reason" '[Ss]tart' \
    "$(jq -r 'select(.type == "throttled") | .reason' "$T/w_ops" | head -1)"
# as the log: one event per episode, the last ended by the fixed program
thr=$(jq -r 'select(.type | test("throttled")) | .type' "$T/w_ops" | paste -sd' ' -)
tp_match "throttled and unthrottled alternate, the last unthrottled" '^throttled unthrottled( throttled unthrottled)*$' "$thr"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_finish
