#!/usr/bin/env bash
# tests/integration/pause.sh: the big red button: pause --reason stops pulses and jobs at once (refused with the reason, the schedule idle, a running job killed after the grace, no strike), shows in status and the events, survives a restart; resume runs pulses again.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init pause

tp_need_workers || tp_finish
# a job that never ends needs fault injection: without it, that part is
# left out (and said so); the rest runs
FAULTS=no
grep -q '^#define TP_FAULT_INJECTION 1' "$TP_BUILDDIR/config.h" 2>/dev/null && FAULTS=yes
tp_sim_start || tp_finish
# a worker each: alice's job ends while stuck's hangs
tp_worker_config workers.max_workers=2 workers.batch_size=1 workers.job_timeout=60s \
    workers.heartbeat_timeout=60s pulse.enabled=yes pulse.interval=2s
export TP_FAULTS=stuck=hang
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }

if [ "$FAULTS" = yes ]; then
	printf '%s\n' alice stuck >"$T/uids"
else
	tp_log "no fault injection in this build: the drain of a running job is not tested"
	printf '%s\n' alice >"$T/uids"
fi
tp_add_tenants "$T/uids" || tp_finish

tp_bg sh -c 'exec "$@" >"$0" 2>"$0.err"' "$T/w_ops" "$TPCLI" -f "$TP_CONF" --json watch
W_OPS=$BG_PID

# st FILTER: a field of status --json's result
st() { tp_jcli status >/dev/null; tp_jq ".result | $1" "$OUT"; }

tp_log "the schedule runs pulses"
for _ in $(seq 1 100); do
	[ "$(st '.pulse.running != null or .pulse.runs >= 1')" = true ] && break
	sleep 0.1
done
tp_eq "a scheduled pulse has started" true "$(st '.pulse.running != null or .pulse.runs >= 1')"
tp_eq "status: not paused" null "$(st .paused)"
if [ "$FAULTS" = yes ]; then
	for _ in $(seq 1 100); do
		[ -n "$(tp_worker_pids | head -1)" ] && [ "$(st .running)" -ge 1 ] && break
		sleep 0.1
	done
	wpids=$(tp_worker_pids | paste -sd' ' -)
	tp_ne "a worker runs stuck's job" "" "$wpids"
	tp_eq "its pulse cannot end (stuck hangs)" true "$(st '.pulse.running != null')"
fi

tp_log "pause --reason"
reason="suspected cross-user leak, ticket 4711"
t0=$SECONDS
tp_cli pause --reason "$reason"
tp_rc "pause exits 0" 0
tp_match "it says so: since, by whom, why" "^paused since 20[0-9-]+T[0-9:.]+Z by uid $(id -u): $reason\$" "$OUT"
tp_jcli status
tp_ok "status answers while paused"
tp_eq "status: paused.reason" "$reason" "$(tp_jq .result.paused.reason "$OUT")"
tp_eq "status: paused.by" "uid $(id -u)" "$(tp_jq .result.paused.by "$OUT")"
tp_match "status: paused.since" '^20[0-9-]+T[0-9:.]+Z$' "$(tp_jq .result.paused.since "$OUT")"
tp_cli status
tp_match "status, for people: the paused line" "paused:[[:space:]]+YES since .* by uid $(id -u): $reason" "$OUT"
tp_true "the pause file is there" test -f "$T/state/paused"
tp_eq "it is the daemon's own (0600)" 600 "$(stat -c %a "$T/state/paused")"
tp_eq "it holds the reason" "$reason" "$(jq -r .reason "$T/state/paused")"

tp_log "nothing new runs: pulse, sync and signal are refused with the reason"
tp_jcli pulse
tp_rc "pulse: refused" 1
tp_eq "pulse: failed_precondition" failed_precondition "$(tp_jq .error.code "$OUT")"
tp_has "pulse: the message gives the reason" "$reason" "$(tp_jq .error.message "$OUT")"
tp_jcli sync alice
tp_rc "sync alice: refused" 1
tp_eq "sync: failed_precondition" failed_precondition "$(tp_jq .error.code "$OUT")"
tp_match "sync: paused since ... by ...: REASON" "^paused since .* by uid $(id -u): $reason" "$(tp_jq .error.message "$OUT")"
tp_jcli signal alice AAPL
tp_rc "signal alice AAPL: refused" 1
tp_has "signal: the reason" "$reason" "$(tp_jq .error.message "$OUT")"
tp_cli pause --reason "another reason"
tp_rc "pause again: exit 0" 0
tp_match "the first pause stands" "^already paused since .*: $reason\$" "$OUT"

if [ "$FAULTS" = yes ]; then
	tp_log "the running job gets its grace, then its worker is killed"
	for _ in $(seq 1 150); do
		[ -z "$(tp_worker_pids | head -1)" ] && break
		sleep 0.1
	done
	elapsed=$((SECONDS - t0))
	tp_eq "no worker left (${elapsed}s after the pause)" "" "$(tp_worker_pids | paste -sd' ' -)"
	tp_true "not before the 5 s grace (${elapsed}s)" test "$elapsed" -ge 4
	for _ in $(seq 1 50); do
		[ "$(st '.pulse.running')" = null ] && break
		sleep 0.1
	done
	tp_eq "the pulse has ended" null "$(st .pulse.running)"
	tp_eq "with stuck's error" 1 "$(st .pulse.last.errors)"
	tp_file_has "stuck's log: interrupted because paused" "interrupted: tradepulsed paused" "$T/log/tenants/stuck.log"
	tp_eq "no strike for stuck" 0 "$(st .jobs.tenants_with_strikes)"
	# later pulses skip stuck (it would hang again)
	tp_cli trading disable stuck --reason "test: it hangs"
	tp_rc "trading disable stuck, while paused" 0
fi

tp_log "the schedule stays idle"
runs=$(st .pulse.runs)
sleep 5
tp_eq "no pulse in 5 s (interval 2 s)" "$runs" "$(st .pulse.runs)"
tp_eq "none running" null "$(st .pulse.running)"

tp_log "a restart keeps the pause"
tp_stop
tp_eq "tradepulsed stops" 0 "$TPD_RC"
tp_start || { tp_fail "tradepulsed starts again"; tp_finish; }
tp_eq "still paused after the restart" "$reason" "$(st .paused.reason)"
tp_file_has "the log says it started paused" "paused since .*: $reason" "$T/daemon.log"
tp_jcli pulse
tp_rc "pulse: still refused" 1
runs=$(st .pulse.runs)
sleep 3
tp_eq "no scheduled pulse after the restart" "$runs" "$(st .pulse.runs)"

tp_log "resume"
tp_cli resume
tp_rc "resume exits 0" 0
tp_match "it says what ended" "^resumed \\(paused since .* by uid $(id -u): $reason\\)\$" "$OUT"
tp_eq "status: not paused" null "$(st .paused)"
tp_false() { ! "$@"; }
tp_true "the pause file is gone" tp_false test -e "$T/state/paused"
TP_CLI_TIMEOUT=60 tp_jcli pulse --wait
tp_rc "pulse --wait runs again" 0
tp_eq "alice synced" 1 "$(tp_jq .synced "$OUT")"
tp_cli resume
tp_rc "resume when not paused: exit 0" 0
tp_eq "it says so" "not paused" "$OUT"

tp_log "the events"
sleep 0.5
kill -INT "$W_OPS" 2>/dev/null
tp_wait_exit "$W_OPS" 5
tp_reap "$W_OPS"
tp_eq "paused: one event with the reason and who" "$reason uid $(id -u)" \
    "$(jq -r 'select(.type == "paused") | "\(.reason) \(.by)"' "$T/w_ops")"
tp_eq "resumed: one event naming the pause" "$reason" \
    "$(jq -r 'select(.type == "resumed") | .reason' "$T/w_ops")"
# in the order received (seq restarts with the daemon)
order=$(jq -r 'select(.type == "paused" or .type == "resumed" or .type == "pulse.started") | .type' "$T/w_ops" | uniq | paste -sd' ' -)
tp_eq "pulses before the pause, none while paused, one after" "pulse.started paused resumed pulse.started" "$order"
tp_eq "the ops events carry no uid" 0 \
    "$(jq -s '[.[] | select((.type | test("^(pulse[.]|paused$|resumed$)")) and has("uid"))] | length' "$T/w_ops")"

tp_finish
