#!/usr/bin/env bash
# tests/integration/sandbox.sh: a live worker is sandboxed (uid, no_new_privs, seccomp, no secrets or store files); workers that make forbidden syscalls die and their crash reports name the syscall.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init sandbox

# The fault of each tenant (worker/faults.c), and what its report must name.
declare -A FAULT=([s_open]=open [s_execve]=execve [s_fork]=fork [s_ptrace]=ptrace)
declare -A SYSCALL=([s_open]='^(openat|open)$' [s_execve]='^(execve|execveat)$'
    [s_fork]='^(fork|vfork|clone|clone3)$' [s_ptrace]='^ptrace$')
FORBIDDEN=(s_open s_execve s_fork s_ptrace)
NL=$'\n'
declare -A spid=()

tp_need_workers faults || tp_finish
nobody_uid=$(id -u nobody 2>/dev/null)
tp_ne "the user nobody exists" "" "$nobody_uid"

# One job per worker, so each crash report is about one tenant; one strike
# quarantines, so each forbidden call is made once; a hung worker lives a
# few seconds, long enough to be looked at.
tp_worker_config workers.batch_size=1 workers.max_workers=4 workers.max_strikes=1 \
    workers.heartbeat_timeout=8s workers.job_timeout=10s workers.backoff_max=200ms \
    workers.crash_rate=1000
export TP_FAULTS="s_hang=hang,s_open=open,s_execve=execve,s_fork=fork,s_ptrace=ptrace"
tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts with workers configured"
	tp_finish
fi
printf '%s\n' s_ok s_hang "${FORBIDDEN[@]}" >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

tp_log "the command line of sync, job and tenant release"
tp_cli sync
tp_rc "sync without a uid: usage error" 2
tp_cli sync 'bad/uid'
tp_rc "sync with a bad uid: usage error" 2
tp_cli sync s_ok --bogus
tp_rc "sync with an unknown option: usage error" 2
tp_cli job
tp_rc "job without an id: usage error" 2
tp_cli job 'bad id'
tp_rc "job with a bad id: usage error" 2
tp_cli tenant release
tp_rc "tenant release without a uid: usage error" 2
for c in sync job; do
	tp_cli help "$c"
	tp_match "help $c has the man page's sections" "^NAME${NL}.*SYNOPSIS${NL}.*DESCRIPTION${NL}.*EXIT STATUS${NL}.*EXAMPLES" "$OUT"
done
tp_cli --help
tp_match "the full help lists sync" "${NL} +sync UID \\[--wait\\]${NL}" "$OUT"
tp_match "the full help lists job" "${NL} +job ID${NL}" "$OUT"
tp_match "the full help lists tenant release" "${NL} +tenant release UID${NL}" "$OUT"
tp_jcli job j0123456789abcdef
tp_rc_code "job of an unknown id: not_found" 1 not_found
tp_jcli sync nobody_here
tp_rc_code "sync of an unknown tenant: not_found" 1 not_found

tp_log "a healthy sync runs in a worker"
TP_CLI_TIMEOUT=60 tp_cli sync s_ok --wait
tp_rc "sync s_ok --wait exits 0" 0
tp_match "sync --wait prints the job's end with the key id's last 4" \
    "^job [A-Za-z0-9_-]+ done: equity [0-9.]+ \\(ACTIVE\\), 0 open trades marked, unrealized P&L 0\\.00, key id "$'\xe2\x80\xa6'"$(tp_key_last4 1)\$" "$OUT"
ok_job=$(printf '%s' "$OUT" | awk '{ print $2 }')
tp_jcli job "$ok_job"
tp_eq "job $ok_job is done" "done" "$(tp_jq .result.state "$OUT")"
tp_eq "job $ok_job result: the tenant's own key id" "$(tp_key_last4 1)" "$(tp_jq .result.result.key_id_last4 "$OUT")"
last_sync=$(tp_sql "SELECT data FROM docs WHERE path = 'users/s_ok/status/last_sync'")
tp_has "users/s_ok/status/last_sync names the job" "\"job_id\":\"$ok_job\"" "$last_sync"
tp_cli job "$ok_job"
tp_rc "job ID exits 0" 0
tp_match "job ID prints key: value lines" "(^|$NL)state: +done($NL|$)" "$OUT"
tp_jcli sync s_ok
tp_ok "sync --json answers ok"
tp_match "sync --json gives the queued job" '"job_id":"[A-Za-z0-9_-]+","uid":"s_ok"' "$OUT"

tp_log "a live worker, caught with a hanging job"
tp_cli sync s_hang
tp_rc "sync s_hang exits 0" 0
tp_match "sync prints the queued job" '^queued job [A-Za-z0-9_-]+ for s_hang$' "$OUT"
wpid=
end=$((SECONDS + 30))
i=0
while [ -z "$wpid" ] && [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 300 ]; do
	out=$("$TPCLI" -f "$TP_CONF" --json -t 5 status 2>/dev/null)
	# The worker that has the hanging job: sent one, done none (the worker
	# of the sync before may still be on its way out).
	for p in $(tp_jq '.result.workers[] | select(.state == "ready" and .jobs_sent == 1 and .jobs_done == 0) | .pid' "$out"); do
		# sandboxed once its own seccomp filter is on, the second
		# (the first is the daemon's, inherited): the job (and the
		# hang) comes after
		[ "$(tp_proc_field "$p" Seccomp_filters)" = 2 ] && wpid=$p && break
	done
	[ -n "$wpid" ] || sleep 0.1
	i=$((i + 1))
done
if [ -z "$wpid" ]; then
	tp_fail "status --json lists a live, sandboxed worker within 30s" "last status: $out"
else
	tp_pass "status --json lists a live, sandboxed worker (pid $wpid)"
	tp_eq "the worker is a child of the daemon" "$TPD_PID" "$(awk '{ print $4 }' "/proc/$wpid/stat" 2>/dev/null)"
	read -r -a uids <<<"$(tp_proc_field "$wpid" Uid)"
	read -r -a gids <<<"$(tp_proc_field "$wpid" Gid)"
	tp_eq "worker real, effective, saved and fs uid are nobody's" \
	    "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" "${uids[*]}"
	tp_nomatch "worker gids hold no root" '(^| )0( |$)' "${gids[*]}"
	tp_nomatch "worker supplementary groups hold no root" '(^| )0( |$)' "$(tp_proc_field "$wpid" Groups)"
	tp_eq "worker NoNewPrivs: 1" 1 "$(tp_proc_field "$wpid" NoNewPrivs)"
	tp_eq "worker Seccomp: 2 (filter)" 2 "$(tp_proc_field "$wpid" Seccomp)"
	tp_eq "worker has no effective capabilities" 0000000000000000 "$(tp_proc_field "$wpid" CapEff)"
	tp_eq "worker has no permitted capabilities" 0000000000000000 "$(tp_proc_field "$wpid" CapPrm)"
	tp_eq "worker has no ambient capabilities" 0000000000000000 "$(tp_proc_field "$wpid" CapAmb)"
	# started by a root daemon ([daemon] user = root here): it cut its
	# bounding set too (privdrop.sh: under a dropped daemon)
	tp_eq "worker's bounding set is empty" 0000000000000000 "$(tp_proc_field "$wpid" CapBnd)"
	# Not inherited from the daemon: the store, the master key, the logs.
	fds=$(for f in /proc/"$wpid"/fd/*; do readlink "$f"; done 2>/dev/null)
	tp_ne "the worker's open files can be listed" "" "$fds"
	tp_lacks "the worker holds no store file" "tradepulse.db" "$fds"
	tp_lacks "the worker holds no master key file" "master.key" "$fds"
	tp_lacks "the worker holds no log file" "$T/log" "$fds"
	tp_lacks "the worker holds no API socket" "api.sock" "$fds"
	extra=
	for name in $(tr '\0' '\n' <"/proc/$wpid/environ" | sed 's/=.*//'); do
		case $name in
		PATH | LANG | LC_* | TP_FAULTS | ASAN_OPTIONS | UBSAN_OPTIONS | LSAN_OPTIONS) ;;
		*) extra="$extra $name" ;;
		esac
	done
	tp_eq "the worker's environment has only PATH, LANG, TP_FAULTS and sanitizer options" "" "$extra"
	tp_file_lacks "the worker's command line holds no secret" "itestsecret" "/proc/$wpid/cmdline"
	tp_file_lacks "the worker's environment holds no secret" "itestsecret" "/proc/$wpid/environ"
	tp_cli status
	tp_rc "status exits 0 while a worker runs" 0
	tp_match "status shows the worker in its table" \
	    "(^|$NL)workers:${NL}PID +GEN +UPTIME +STATE +JOBS +RSS$NL(.*$NL)?$wpid +[0-9]+ " "$OUT"
	rss=$(printf '%s\n' "$OUT" | awk -v p="$wpid" '$1 == p { print $(NF - 1), $NF }')
	tp_match "status shows the worker's RSS" '^[0-9.]+ (KiB|MiB)$' "$rss"
fi

tp_log "forbidden syscalls: ${FORBIDDEN[*]}"
for u in "${FORBIDDEN[@]}"; do
	tp_bg "$TPCLI" -f "$TP_CONF" -t 90 sync "$u" --wait >"$T/sync.$u.out" 2>"$T/sync.$u.err"
	spid[$u]=$BG_PID
done
for u in "${FORBIDDEN[@]}"; do
	if ! tp_wait_exit "${spid[$u]}" 100; then
		tp_fail "sync $u --wait returns within 100s"
		kill -KILL "${spid[$u]}" 2>/dev/null
	fi
	tp_reap "${spid[$u]}"
	tp_slurp out "$T/sync.$u.out"
	tp_eq "sync $u --wait exits 1: the job failed" 1 "$REAP_RC"
	tp_match "sync $u --wait prints the failure" "^job [A-Za-z0-9_-]+ failed: [a-z_]+: " "$out"
	job=$(printf '%s' "$out" | awk '{ print $2 }')
	tp_jcli job "$job"
	crash=$(tp_jq .result.crash_id "$OUT")
	q=$(tp_sql "SELECT data FROM docs WHERE path = 'users/$u/status/quarantine'")
	tp_ne "$u is quarantined after its crash" "" "$q"
	[ -n "$crash" ] && [ "$crash" != null ] || crash=$(tp_jq .crash_id "$q")
	report=$(tp_sql "SELECT data FROM docs WHERE path = 'ops/crashes/reports/$crash'")
	if [ -z "$report" ]; then
		tp_fail "$u: the crash report ops/crashes/reports/$crash exists" "job: $OUT" "quarantine: $q"
		continue
	fi
	tp_match "$u (${FAULT[$u]}): the report names the syscall" "${SYSCALL[$u]}" "$(tp_jq .syscall "$report")"
	tp_eq "$u: the worker died of SIGSYS" SIGSYS "$(tp_jq .signal "$report")"
	tp_eq "$u: the report's jobs are this tenant's" true "$(tp_jq 'any(.jobs[]; .uid == "'"$u"'")' "$report")"
	tp_has "$u: the report keeps the worker's last stderr" "forbidden syscall" "$(tp_jq .stderr_tail "$report")"
	tp_match "$u: the report has the worker's pid" '^[0-9]+$' "$(tp_jq .pid "$report")"
	err=$(tp_sql "SELECT data FROM docs WHERE path = 'users/$u/status/last_sync_error'")
	tp_has "$u: last_sync_error names the crash report" "$crash" "$err"
	tp_file_lacks "$u: the tenant log has no commit" "committed job" "$T/log/tenants/$u.log"
	tp_has "$u: the tenant log tells of the crash" "$crash" "$(cat "$T/log/tenants/$u.log" 2>/dev/null)"
done

tp_log "status shows the crashes"
tp_jcli status
tp_ok "status --json after the crashes"
for u in "${FORBIDDEN[@]}"; do
	tp_match "status recent_crashes: $u with its syscall" '^[a-z0-9_]+$' \
	    "$(tp_jq 'first(.result.recent_crashes[] | select(any(.uids[]; . == "'"$u"'"))) | .syscall | strings' "$OUT")"
done
tp_cli status
tp_match "status (human) lists the crashes with their syscall" \
    "recent crashes[^$NL]*${NL}TIME +PID +SIGNAL/EXIT +SYSCALL +TENANTS$NL(.*$NL)?[^$NL]* SIGSYS +(openat|open|execve|ptrace|clone|fork|clone3|vfork) " "$OUT"

tp_log "a quarantined tenant is refused, then released"
tp_jcli sync s_open
tp_rc_code "sync of a quarantined tenant: failed_precondition" 1 failed_precondition
tp_has "the refusal names the quarantine" quarantin "$(tp_jq .error.message "$OUT")"
tp_cli tenant show s_open
tp_match "tenant show: quarantined" "(^|$NL)quarantine: +yes" "$OUT"
tp_cli tenant release s_open
tp_rc "tenant release exits 0" 0
tp_eq "tenant release prints it" "released tenant s_open" "$OUT"
tp_cli tenant release s_open
tp_eq "a second release says there was nothing to release" "tenant s_open was not quarantined" "$OUT"
tp_eq "the quarantine document is gone" "" \
    "$(tp_sql "SELECT path FROM docs WHERE path = 'users/s_open/status/quarantine'")"

tp_log "the daemon still serves"
TP_CLI_TIMEOUT=60 tp_cli sync s_ok --wait
tp_rc "a healthy sync still succeeds after the crashes" 0
tp_true "the daemon is alive" tp_alive "$TPD_PID"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
[ -z "$wpid" ] || tp_true "the hung worker is gone after the stop" tp_wait_exit "$wpid" 5
tp_finish
