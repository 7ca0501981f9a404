#!/usr/bin/env bash
# tests/integration/drain.sh: SIGTERM drains: no new batches, running jobs get until a deadline, then workers are killed and their jobs reported as interrupted.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init drain

tp_need_workers faults || tp_finish
# Long timeouts, so only the stop's own deadline can end the stuck job.
tp_worker_config workers.batch_size=8 workers.max_workers=2 workers.job_timeout=60s \
    workers.heartbeat_timeout=60s workers.backoff_max=200ms workers.crash_rate=1000
export TP_FAULTS=stuck=hang
tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts with workers configured"
	tp_finish
fi
printf '%s\n' ok1 ok2 ok3 >"$T/healthy"
{ cat "$T/healthy"; echo stuck; } >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

tp_log "the healthy tenants sync"
tp_submit "$T/healthy" "$T/jobs"
tp_jobs_wait "$T/jobs" "$T/ended" 60 || tp_fail "the healthy jobs end within 60s"
tp_eq "the healthy jobs are done" 3 "$(awk '$3 == "done"' "$T/ended" | wc -l)"

tp_log "a job that never ends, then SIGTERM"
tp_bg sh -c 'exec "$@" >"$0" 2>&1' "$T/waiter.out" "$TPCLI" -f "$TP_CONF" --json -t 60 sync stuck --wait
waiter=$BG_PID
wpid=
for _ in $(seq 1 100); do
	wpid=$(tp_worker_pids | head -1)
	[ -n "$wpid" ] && break
	sleep 0.1
done
tp_ne "a worker runs the stuck job" "" "$wpid"
sleep 0.5
t0=$SECONDS
kill -TERM "$TPD_PID"
tp_wait_exit "$TPD_PID" 30
elapsed=$((SECONDS - t0))
tp_false_alive() { ! tp_alive "$1"; }
tp_true "tradepulsed exits by itself after SIGTERM (${elapsed}s)" tp_false_alive "$TPD_PID"
tp_true "it waited for the running job before killing it (${elapsed}s >= 2)" test "$elapsed" -ge 2
tp_reap "$TPD_PID"
tp_eq "SIGTERM: exit 0" 0 "$REAP_RC"
TPD_PID=
tp_true "the stuck worker is gone" tp_false_alive "$wpid"

tp_wait_exit "$waiter" 10
tp_reap "$waiter"
tp_ne "sync --wait did not succeed" 0 "$REAP_RC"
tp_has "the waiting client was told the job was interrupted" "interrupted" "$(cat "$T/waiter.out" 2>/dev/null)"
tp_has "the stuck tenant's log says interrupted" "interrupted" "$(cat "$T/log/tenants/stuck.log" 2>/dev/null)"
# every healthy tenant's log must exist (each synced), and none says interrupted
mapfile -t healthy_logs < <(sed "s|.*|$T/log/tenants/&.log|" "$T/healthy")
tp_eq "three healthy tenants' logs to read" 3 "${#healthy_logs[@]}"
for f in "${healthy_logs[@]}"; do
	tp_true "$(basename "$f") is there and not empty" test -s "$f"
done
tp_file_lacks "no healthy tenant's log mentions an interruption" interrupted "${healthy_logs[@]}"
tp_finish
