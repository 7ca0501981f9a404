#!/usr/bin/env bash
# tests/integration/killstorm.sh: workers SIGKILLed from outside every 200 ms during 1,000 jobs: every job ends exactly once, none is lost, none is committed twice.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init killstorm

TENANTS=1000
KILL_EVERY=0.2		# seconds between two kills
KILL_FOR=60		# seconds of killing at most
WAIT=150		# seconds for all the jobs to end
tp_sanitized && WAIT=240

tp_need_workers || tp_finish
# Strikes high enough that most tenants survive a few kills; those that do
# not end failed, which is allowed (with a reason).
tp_worker_config workers.batch_size=32 workers.max_workers=4 workers.max_strikes=5 \
    workers.job_timeout=20s workers.backoff_max=200ms workers.crash_rate=100000
# Every 25th tenant's job takes 300 ms (fault "slow"), so that kills land
# on jobs in flight and not only on workers starting or idle.
TP_FAULTS=$(seq -f 'k%04g=slow' 25 25 "$TENANTS" | paste -sd, -)
export TP_FAULTS
tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts with workers configured"
	tp_finish
fi
tp_log "add $TENANTS tenants with keys"
seq -f 'k%04g' 1 "$TENANTS" >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

# killer: every KILL_EVERY seconds, SIGKILL one live worker picked at random
# ("pid" lines to $T/kills), until $T/stop exists or KILL_FOR is over.
killer() {
	local end=$((SECONDS + KILL_FOR)) pids p
	while [ ! -e "$T/stop" ] && [ "$SECONDS" -lt "$end" ]; do
		mapfile -t pids < <(tp_worker_pids)
		if [ "${#pids[@]}" -gt 0 ]; then
			p=${pids[RANDOM % ${#pids[@]}]}
			kill -KILL "$p" 2>/dev/null && echo "$p" >>"$T/kills"
		fi
		sleep "$KILL_EVERY"
	done
}

tp_log "submit $TENANTS sync jobs while a worker is SIGKILLed every ${KILL_EVERY}s"
: >"$T/kills"
tp_bg killer
killer_pid=$BG_PID
start=$SECONDS
tp_submit "$T/uids" "$T/jobs"
tp_eq "every sync request was accepted" 0 "$(awk '$2 == "-"' "$T/jobs" | wc -l)"
ok=1
tp_jobs_wait "$T/jobs" "$T/ended" "$WAIT" || ok=0
touch "$T/stop"
tp_wait_exit "$killer_pid" 10 || kill -KILL "$killer_pid" 2>/dev/null
tp_reap "$killer_pid"
kills=$(wc -l <"$T/kills")
tp_log "$kills workers killed; the jobs ended after $((SECONDS - start))s"
[ "$ok" = 1 ] || tp_fail "every job ends within ${WAIT}s" \
    "$(wc -l <"$T/.jobs.pending") still pending, e.g. $(head -3 "$T/.jobs.pending" | tr '\n' ' ')"
tp_true "workers were killed during the run ($kills)" test "$kills" -ge 3

tp_jobs_final "$T/ended" >"$T/final"
tp_eq "every tenant's job ended, none lost" "$TENANTS" "$(awk '$3 == "done" || $3 == "failed"' "$T/final" | wc -l)"
tp_eq "no job is unknown to the daemon" "" "$(awk '$3 == "missing" { print $1 }' "$T/ended" | head -5 | tr '\n' ' ')"
tp_eq "each job ended once: no job id twice" "" "$(awk '{ print $1 }' "$T/ended" | sort | uniq -d | head -5 | tr '\n' ' ')"
tp_eq "one final outcome per tenant" "" "$(awk '{ print $2 }' "$T/final" | sort | uniq -d | head -5 | tr '\n' ' ')"
tp_eq "every failed job says why" "" "$(awk '$3 == "failed" && $5 == "-" { print $1 }' "$T/ended" | head -5 | tr '\n' ' ')"
done_n=$(awk '$3 == "done"' "$T/final" | wc -l)
failed_n=$(awk '$3 == "failed"' "$T/final" | wc -l)
rerun=$(awk '$4 > 1 || $7 != "-"' "$T/ended" | wc -l)
tp_log "$done_n done, $failed_n failed, $rerun jobs ran more than once"
# Without fault injection no job is slow, and whether a kill lands on a
# job in flight is luck: the other checks hold either way.
if tp_has_faults; then
	tp_true "kills hit jobs in flight: some ran again ($rerun)" test "$rerun" -ge 1
else
	tp_log "kills hit jobs in flight: not checked, this build has no fault injection (no slow jobs)"
fi
tp_true "most jobs still succeeded ($done_n of $TENANTS)" test "$done_n" -ge $((TENANTS / 2))

# Commits: one "committed job JOBID" line in the tenant's log per done job,
# none for a failed one.
grep -H ' committed job ' "$T"/log/tenants/*.log 2>/dev/null |
    sed -E 's|^.*/([^/]+)\.log:.* committed job ([A-Za-z0-9_-]+)$|\1 \2|' | sort >"$T/commits"
tp_eq "no job was committed twice" "" "$(uniq -d "$T/commits" | head -5 | tr '\n' ' ')"
awk '$3 == "done" { print $2, $1 }' "$T/final" | sort >"$T/done"
tp_eq "each done job was committed, in its tenant's log" "" "$(comm -23 "$T/done" "$T/commits" | head -5 | tr '\n' ' ')"
tp_eq "nothing else was committed (no failed or re-run job)" "" "$(comm -13 "$T/done" "$T/commits" | head -5 | tr '\n' ' ')"
tp_sql "SELECT tenant, json_extract(data, '\$.job_id') FROM docs WHERE path LIKE 'users/%/status/last_sync'" |
    tr '|' ' ' | sort >"$T/last_sync"
tp_eq "status/last_sync exists exactly for the done jobs, naming them" "" \
    "$(comm -3 "$T/done" "$T/last_sync" | head -5 | tr '\n' ' ')"

tp_jcli status
tp_ok "the daemon still serves status"
tp_true "status counts the crashes ($(tp_jq .result.crashes "$OUT"))" test "$(tp_jq .result.crashes "$OUT")" -ge 1
tp_eq "status: nothing queued" 0 "$(tp_jq .result.queue "$OUT")"
tp_eq "status: nothing running" 0 "$(tp_jq .result.running "$OUT")"
left=$(tp_worker_pids)
for ((i = 0; i < 100 && ${#left} > 0; i++)); do
	sleep 0.1
	left=$(tp_worker_pids)
done
tp_eq "no worker is left once the jobs are done" "" "$(printf '%s' "$left" | tr '\n' ' ')"
healthy=$(awk '$3 == "done" { print $2; exit }' "$T/final")
TP_CLI_TIMEOUT=60 tp_cli sync "${healthy:-k0001}" --wait
tp_rc "a sync after the storm succeeds" 0
tp_true "the daemon is alive" tp_alive "$TPD_PID"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_finish
