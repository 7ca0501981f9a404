#!/usr/bin/env bash
# tests/integration/poison.sh: 1,000 tenants, 10 poison tenants with mixed faults, batches of 32: the healthy all sync in one run, the 10 are quarantined with reports naming their fault, no healthy tenant is harmed.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init poison

TENANTS=1000
STRIKES=3
# Poison tenants, one in every hundred (so in different batches of 32), and
# their faults (worker/faults.c).
POISON=(t0050 t0150 t0250 t0350 t0450 t0550 t0650 t0750 t0850 t0950)
FAULTS=(segv abort hang oom open execve fork ptrace spin segv)
WAIT=150		# seconds for all the jobs to end
HEARTBEAT=5s		# a hung worker is found by its missing heartbeats ...
DEADLINE=7s		# ... before the job deadline
# The oom fault touches memory up to memory_limit without a heartbeat: a
# worker needs some 45M of address space, so 96M keeps that short (touching
# 256M takes 1.5 s alone on this VM, over 5 s on 2 loaded cores), and it
# ends in its own "out of memory" rather than looking hung. ASan is slower.
MEMORY=96M
if tp_sanitized; then
	WAIT=240
	HEARTBEAT=10s
	DEADLINE=12s
fi

tp_need_workers faults || tp_finish

faults=
declare -A fault_of=()
for i in "${!POISON[@]}"; do
	fault_of[${POISON[i]}]=${FAULTS[i]}
	faults="$faults${faults:+,}${POISON[i]}=${FAULTS[i]}"
done
export TP_FAULTS=$faults

# Backoff and the crash rate are set so that some 30 crashes do not stall
# the run.
tp_worker_config workers.batch_size=32 workers.max_workers=4 workers.max_strikes=$STRIKES \
    workers.heartbeat_timeout=$HEARTBEAT workers.job_timeout=$DEADLINE workers.backoff_max=200ms \
    workers.crash_rate=100000 workers.memory_limit=$MEMORY
tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts with workers configured"
	tp_finish
fi

tp_log "add $TENANTS tenants with keys"
seq -f 't%04g' 1 "$TENANTS" >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
printf '%s\n' "${POISON[@]}" | sort >"$T/poison"
grep -vxF -f "$T/poison" "$T/uids" >"$T/healthy"

tp_log "submit $TENANTS sync jobs (TP_FAULTS=$TP_FAULTS)"
start=$SECONDS
tp_submit "$T/uids" "$T/jobs"
tp_eq "every sync request was accepted" 0 "$(awk '$2 == "-"' "$T/jobs" | wc -l)"

# Samples of the workers while the jobs run: a batch is never bigger than
# batch_size, and at most max_workers run at once.
sample_status() {
	"$TPCLI" -f "$TP_CONF" --json -t 5 status >>"$T/status.samples" 2>/dev/null
	echo >>"$T/status.samples"
}
if ! tp_jobs_wait "$T/jobs" "$T/ended" "$WAIT" sample_status; then
	tp_fail "every job ends within ${WAIT}s" "$(wc -l <"$T/.jobs.pending") still pending, e.g. $(head -3 "$T/.jobs.pending" | tr '\n' ' ')"
fi
tp_log "all jobs ended after $((SECONDS - start))s"
tp_jobs_final "$T/ended" >"$T/final"

# --- the healthy ------------------------------------------------------------
awk 'NR == FNR { h[$1] = 1; next } ($2 in h)' "$T/healthy" "$T/final" >"$T/final.healthy"
tp_eq "every healthy tenant's job has ended" "$(wc -l <"$T/healthy")" "$(wc -l <"$T/final.healthy")"
notdone=$(awk '$3 != "done" { print $2 ":" $3 ":" $5 }' "$T/final.healthy" | head -10 | tr '\n' ' ')
tp_eq "every healthy tenant's job is done" "" "$notdone"
retried=$(awk 'NR == FNR { h[$1] = 1; next } ($2 in h) && $7 != "-"' "$T/healthy" "$T/ended" | wc -l)
tp_eq "no healthy tenant needed a second job: done in that one run" 0 "$retried"
# A healthy job runs once, or twice when a poison tenant crashed its batch
# (then alone).
tp_eq "every healthy job ran once or twice" "" \
    "$(awk '$4 != 1 && $4 != 2 { print $2 ":" $4 }' "$T/final.healthy" | head -10 | tr '\n' ' ')"
rerun=$(awk '$4 == 2' "$T/final.healthy" | wc -l)
tp_log "$rerun healthy jobs were re-run alone after a crash of their batch"
tp_true "some healthy jobs were re-run after their batch crashed ($rerun)" test "$rerun" -ge 1

# Each job saw its own tenant's keys (the worker reports the key id's end).
awk '{ printf "{\"op\":\"job\",\"id\":\"%s\"}\n", $1 }' "$T/final.healthy" >"$T/res.req"
tp_api "$T/res.req" "$T/res.rep"
wrong=$(paste -d ' ' "$T/final.healthy" "$T/res.rep" | awk "$TP_AWK_JV"'
	{ n = substr($2, 2) + 0; want = sprintf("%04d", n % 10000)
	  if (jv($0, "key_id_last4") != want) print $2 ":" jv($0, "key_id_last4") }' | head -10 | tr '\n' ' ')
tp_eq "each healthy job's result carries its own tenant's key id" "" "$wrong"

quarantined=$(tp_sql "SELECT tenant FROM docs WHERE path LIKE 'users/%/status/quarantine' ORDER BY tenant")
tp_eq "exactly the 10 poison tenants are quarantined" "$(cat "$T/poison")" "$quarantined"
synced=$(tp_sql "SELECT count(*) FROM docs WHERE path LIKE 'users/%/status/last_sync'
    AND tenant NOT IN ($(sed "s/.*/'&'/" "$T/poison" | paste -sd,))")
tp_eq "every healthy tenant has status/last_sync" "$(wc -l <"$T/healthy")" "$synced"
tp_sql "SELECT tenant, json_extract(data, '\$.job_id') FROM docs WHERE path LIKE 'users/%/status/last_sync'" |
    tr '|' ' ' | sort >"$T/last_sync"
mismatch=$(awk '{ print $2, $1 }' "$T/final.healthy" | sort | comm -3 - "$T/last_sync" | head -5 | tr '\n' ' ')
tp_eq "each healthy tenant's last_sync names its job" "" "$mismatch"
errs=$(tp_sql "SELECT tenant FROM docs WHERE path LIKE 'users/%/status/last_sync_error'" |
    grep -vxF -f "$T/poison" | head -10 | tr '\n' ' ')
tp_eq "no healthy tenant is left with a last_sync_error" "" "$errs"

# One "committed job JOBID" line per healthy tenant, for its job, in its log.
grep -H ' committed job ' "$T"/log/tenants/*.log 2>/dev/null |
    sed -E 's|^.*/([^/]+)\.log:.* committed job ([A-Za-z0-9_-]+)$|\1 \2|' | sort >"$T/commits"
awk '{ print $2, $1 }' "$T/final.healthy" | sort >"$T/want.commits"
tp_eq "each healthy tenant's log has its job committed exactly once, and nothing else is" "" \
    "$(diff "$T/want.commits" "$T/commits" | grep '^[<>]' | head -5 | tr '\n' ' ')"

# --- the poison -------------------------------------------------------------
for u in "${POISON[@]}"; do
	f=${fault_of[$u]}
	line=$(awk -v u="$u" '$2 == u' "$T/final")
	read -r _ _ state _ <<<"$line"
	tp_eq "$u ($f): its job failed" failed "$state"
	q=$(tp_sql "SELECT data FROM docs WHERE path = 'users/$u/status/quarantine'")
	if [ -z "$q" ]; then
		tp_fail "$u ($f) is quarantined" "its job: $line"
		continue
	fi
	tp_eq "$u ($f): quarantined with $STRIKES strikes" "$STRIKES" "$(tp_jq .strikes "$q")"
	tp_ne "$u ($f): the quarantine has a reason" "" "$(tp_jq '.reason // empty' "$q")"
	cid=$(tp_jq .crash_id "$q")
	report=$(tp_sql "SELECT data FROM docs WHERE path = 'ops/crashes/reports/$cid'")
	if [ -z "$report" ]; then
		tp_fail "$u ($f): the quarantine's crash report exists" "quarantine: $q"
		continue
	fi
	tp_eq "$u ($f): the report's jobs are its own, alone" "1 1" \
	    "$(tp_jq '.jobs | "\(length) \(map(select(.uid == "'"$u"'")) | length)"' "$report")"
	sig=$(tp_jq .signal "$report")
	sc=$(tp_jq .syscall "$report")
	why=$(tp_jq .reason "$report")
	tail=$(tp_jq .stderr_tail "$report")
	case $f in
	segv) tp_eq "$u ($f): the report names SIGSEGV" SIGSEGV "$sig" ;;
	abort) tp_eq "$u ($f): the report names SIGABRT" SIGABRT "$sig" ;;
	hang) tp_match "$u ($f): the report says no heartbeat" '[Hh]eartbeat' "$why" ;;
	spin) tp_match "$u ($f): the report says the job ran out of time" '[Tt]ime|[Dd]eadline|SIGXCPU|[Hh]eartbeat' "$why $sig" ;;
	oom) tp_has "$u ($f): the report's stderr says out of memory" "out of memory" "$tail" ;;
	open) tp_match "$u ($f): the report names the syscall" '^(openat|open)$' "$sc" ;;
	execve) tp_match "$u ($f): the report names the syscall" '^(execve|execveat)$' "$sc" ;;
	fork) tp_match "$u ($f): the report names the syscall" '^(fork|vfork|clone|clone3)$' "$sc" ;;
	ptrace) tp_eq "$u ($f): the report names the syscall" ptrace "$sc" ;;
	esac
	tp_file_lacks "$u ($f): no commit in its log" "committed job" "$T/log/tenants/$u.log"
	tp_eq "$u ($f): no last_sync" "" "$(tp_sql "SELECT path FROM docs WHERE path = 'users/$u/status/last_sync'")"
done

# --- the pool while it ran, and the daemon after --------------------------------
sent=$(grep -oE '"jobs_sent"[[:space:]]*:[[:space:]]*[0-9]+' "$T/status.samples" 2>/dev/null | grep -oE '[0-9]+$' | sort -n | tail -1)
tp_true "workers were seen while the jobs ran" test -n "$sent"
tp_true "no worker was sent more than a batch of 32 jobs (most: ${sent:-none})" test "${sent:-0}" -le 32
most=$(awk '{ n = gsub(/"jobs_sent"/, "&"); if (n > m) m = n } END { print m + 0 }' "$T/status.samples" 2>/dev/null)
tp_true "at most 4 workers at once (most seen: $most)" test "$most" -le 4

tp_jcli status
tp_ok "the daemon still serves status"
tp_true "status counts the crashes ($(tp_jq .result.crashes "$OUT"))" test "$(tp_jq .result.crashes "$OUT")" -ge ${#POISON[@]}
tp_eq "status: nothing queued" 0 "$(tp_jq .result.queue "$OUT")"
tp_eq "status: nothing running" 0 "$(tp_jq .result.running "$OUT")"
tp_jcli sync t0050
tp_rc_code "a quarantined tenant's sync is refused" 1 failed_precondition
TP_CLI_TIMEOUT=60 tp_cli sync t0001 --wait
tp_rc "a healthy tenant still syncs" 0

# Releasing the 10 clears their strikes: then no tenant has any, which shows
# that no healthy tenant kept one.
for u in "${POISON[@]}"; do
	tp_cli tenant release "$u"
	[ "$OUT" = "released tenant $u" ] || tp_fail "tenant release $u" "$(tp_last)"
done
tp_jcli status
tp_eq "after the releases, no tenant has a strike" 0 "$(tp_jq .result.jobs.tenants_with_strikes "$OUT")"
tp_eq "no quarantine document is left" 0 "$(tp_sql "SELECT count(*) FROM docs WHERE path LIKE 'users/%/status/quarantine'")"

tp_true "the daemon is alive" tp_alive "$TPD_PID"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_finish
