#!/usr/bin/env bash
# tests/integration/orphan.sh: the supervisor SIGKILLed: every worker, hung in a job or anywhere in its life (start-up, HELLO, jobs, idle), exits within 5 s.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init orphan

GRACE=5			# seconds a worker may outlive its supervisor
WATCH=15		# seconds an orphan is watched before it counts as forever
ROUNDS=4		# supervisor kills in the middle of many spawns
TENANTS=300

tp_need_workers faults || tp_finish
# h0001 hangs in its job; the heartbeat limit is long so that only the
# supervisor's death can end that worker within the test.
export TP_FAULTS=h0001=hang
tp_worker_config workers.batch_size=2 workers.max_workers=4 \
    workers.heartbeat_timeout=60s workers.job_timeout=60s workers.backoff_max=200ms \
    workers.crash_rate=100000
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }
seq -f 'h%04g' 1 "$TENANTS" >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

# lived START PIDFILE: waits up to WATCH seconds for the pids of PIDFILE to be
# gone; prints the seconds (tenths) the last one outlived the kill, or
# "WATCH+" when one was still alive; the survivors go to $T/survivors.
lived() {
	local start=$1 file=$2 p left now
	: >"$T/survivors"
	while :; do
		left=0
		while read -r p; do
			tp_alive "$p" && left=$((left + 1))
		done <"$file"
		now=$(date +%s%N)
		[ "$left" = 0 ] && { echo $(((now - start) / 100000000)); return; }
		[ $(((now - start) / 1000000000)) -ge "$WATCH" ] && break
		sleep 0.1
	done
	while read -r p; do
		tp_alive "$p" && echo "$p" >>"$T/survivors"
	done <"$file"
	echo "$WATCH+"
}

# kill_orphans: the test's own clean-up of what it found alive (by pid).
kill_orphans() {
	local p
	while read -r p; do
		kill -KILL "$p" 2>/dev/null
	done <"$T/survivors"
}

# --- a worker hung in a job -------------------------------------------------
tp_log "a worker hangs in h0001's job; then the supervisor is SIGKILLed"
tp_cli sync h0001
tp_rc "sync h0001 accepted" 0
pid=
for ((i = 0; i < 100; i++)); do
	pid=$(tp_worker_pids | head -1)
	[ -n "$pid" ] && break
	sleep 0.1
done
tp_ne "a worker runs h0001's job" "" "$pid"
sleep 1			# the job has begun: the worker sleeps in the fault
echo "$pid" >"$T/pids"
start=$(date +%s%N)
tp_stop KILL
tp_eq "the supervisor died of SIGKILL" 137 "$TPD_RC"
t=$(lived "$start" "$T/pids")
tp_log "the hung worker outlived its supervisor by ${t}/10 s"
case $t in
*+) tp_fail "the hung worker exits within ${GRACE}s of its supervisor's death" "alive after ${WATCH}s" ;;
*) tp_true "the hung worker exits within ${GRACE}s of its supervisor's death (${t}/10 s)" test "$t" -le $((GRACE * 10)) ;;
esac
kill_orphans

# --- workers in every stage of their life ------------------------------------
# Batches of 2 over 300 tenants: while the supervisor is killed, workers
# are starting, saying HELLO, running jobs or waiting for SHUTDOWN.
export TP_FAULTS=
worst=0
forever=0
for r in $(seq 1 "$ROUNDS"); do
	tp_start || { tp_fail "round $r: tradepulsed restarts"; break; }
	tp_submit "$T/uids" "$T/jobs.$r"
	: >"$T/pids"
	# kill after a round-dependent delay, while workers come and go
	sleep "0.$((r * 2 - 1))"
	for ((i = 0; i < 20; i++)); do
		tp_worker_pids >>"$T/pids"
		sleep 0.02
	done
	tp_worker_pids >>"$T/pids"
	sort -u -o "$T/pids" "$T/pids"
	start=$(date +%s%N)
	tp_stop KILL
	# and those spawned after the last look: orphans of this test's daemon
	pgrep -f -- "--channel ipc://$T/" >>"$T/pids"
	sort -u -o "$T/pids" "$T/pids"
	n=$(wc -l <"$T/pids")
	t=$(lived "$start" "$T/pids")
	tp_log "round $r: $n workers seen; the last outlived its supervisor by ${t}/10 s"
	case $t in
	*+) forever=$((forever + $(wc -l <"$T/survivors"))) ;;
	*) [ "$t" -gt "$worst" ] && worst=$t ;;
	esac
	kill_orphans
done
tp_eq "no worker outlived its supervisor by ${WATCH}s (round after round)" 0 "$forever"
tp_true "every worker exited within ${GRACE}s of its supervisor's death (worst ${worst}/10 s)" \
    test "$worst" -le $((GRACE * 10))
tp_finish
