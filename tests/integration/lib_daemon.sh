#!/usr/bin/env bash
# tests/integration/lib_daemon.sh: the integration tests' processes: tradepulsed, its configuration, set-up and clean-up, workers, alpaca-sim (sourced by lib.sh, not run).
# shellcheck shell=bash disable=SC2034  # variables set here for the test scripts

# --- processes ---------------------------------------------------------------

# tp_alive PID: the process exists and is not a zombie (a child that has
# exited but was not reaped still answers kill -0).
tp_alive() {
	local st=
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	IFS= read -r st <"/proc/$1/stat" 2>/dev/null || return 1
	st=${st##*) }
	st=${st%% *}
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# tp_wait_exit PID SECONDS: waits (bounded) until PID is gone; 1 if it is not.
tp_wait_exit() {
	local pid=$1 end=$((SECONDS + $2)) i=0
	while tp_alive "$pid"; do
		[ "$SECONDS" -lt "$end" ] && [ "$i" -lt $(($2 * 20 + 20)) ] || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}

tp_forget_pid() {
	local p keep=()
	for p in "${TP_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	TP_PIDS=("${keep[@]}")
}

# tp_reap PID: collects the exit status of a child that has exited into
# REAP_RC (wait returns at once then).
tp_reap() {
	REAP_RC=0
	wait "$1" 2>/dev/null || REAP_RC=$?
	tp_forget_pid "$1"
}

# tp_bg CMD...: starts CMD in the background, remembered for the cleanup.
tp_bg() {
	"$@" &
	BG_PID=$!
	TP_PIDS+=("$BG_PID")
}

# tp_bg_group CMD...: starts CMD in the background in a session and process
# group of its own (BG_PID is its id), so that tp_stop_group and the cleanup
# also stop the children it starts (a launcher script and its java).
tp_bg_group() {
	setsid "$@" &
	BG_PID=$!
	TP_PGIDS+=("$BG_PID")
}

# tp_group_alive PGID: some process of the group is still there (zombies too:
# a group leader that was not reaped yet is not counted).
tp_group_alive() {
	local p
	for p in $(pgrep -g "$1" 2>/dev/null); do
		tp_alive "$p" && return 0
	done
	return 1
}

# tp_stop_group PGID: SIGTERM to the whole group, a bounded wait, then
# SIGKILL; reaps the leader and forgets the group.
tp_stop_group() {
	local g=$1 keep=() i=0
	kill -TERM -- "-$g" 2>/dev/null
	while tp_group_alive "$g" && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if tp_group_alive "$g"; then
		kill -KILL -- "-$g" 2>/dev/null
		i=0
		while tp_group_alive "$g" && [ "$i" -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
	fi
	wait "$g" 2>/dev/null
	for i in "${TP_PGIDS[@]}"; do
		[ "$i" = "$g" ] || keep+=("$i")
	done
	TP_PGIDS=("${keep[@]}")
}

# --- the daemon --------------------------------------------------------------

# tp_write_config FILE [section.key=value...]: the test configuration, with
# overrides (a key given again replaces the default; an empty value is kept).
tp_write_config() {
	local file=$1 kv sec key
	shift
	local -A extra=()
	local order=()
	for kv in "$@"; do
		sec=${kv%%.*}
		key=${kv#*.}
		key=${key%%=*}
		extra["$sec.$key"]=${kv#*=}
		order+=("$sec.$key")
	done
	{
		local cur='' line k seen=" "
		while IFS= read -r line; do
			case $line in
			'['*']')
				[ -z "$cur" ] || tp_config_rest "$cur"
				cur=${line#[}
				cur=${cur%]}
				seen="$seen$cur "
				echo "$line"
				;;
			*' = '* | *' =')
				k=${line%% =*}
				if [ -n "${extra[$cur.$k]+x}" ]; then
					echo "$k = ${extra[$cur.$k]}"
					unset "extra[$cur.$k]"
				else
					echo "$line"
				fi
				;;
			*) echo "$line" ;;
			esac
		done <<EOF
# $TP_NAME test configuration
[daemon]
state_dir = $T/state
log_dir = $T/log
pidfile = $T/run/tradepulsed.pid
api = ipc://$T/run/api.sock
events = ipc://$T/run/events.sock
http =
user = root

[store]
backend = ${TP_STORE_BACKEND:-sqlite}
path = $T/state/tradepulse.db
$(tp_store_fs_lines)

[secrets]
master_key = $T/master.key

[workers]
program = $TP_BUILDDIR/worker/tradepulse-worker

[pulse]
enabled = no
EOF
		tp_config_rest "$cur"
		# Sections the defaults do not have.
		local o
		for o in "${order[@]}"; do
			sec=${o%%.*}
			case $seen in *" $sec "*) continue ;; esac
			seen="$seen$sec "
			printf '\n[%s]\n' "$sec"
			tp_config_rest "$sec"
		done
	} >"$file"
}

# The [store] lines of a Firestore run (TP_STORE_BACKEND=firestore): the
# shared emulator, and a project of this run's own (see tp_init).
tp_store_fs_lines() {
	[ "${TP_STORE_BACKEND:-sqlite}" = firestore ] || return 0
	printf 'emulator_host = %s\nproject_id = %s\n' "$TP_FS_EMULATOR_HOST" "$TP_FS_PROJECT"
}

# Appends the overrides of section $1 that were not defaults (helper of
# tp_write_config, shares its locals).
tp_config_rest() {
	local o
	for o in "${order[@]}"; do
		if [ "${o%%.*}" = "$1" ] && [ -n "${extra[$o]+x}" ]; then
			echo "${o#*.} = ${extra[$o]}"
			unset "extra[$o]"
		fi
	done
}

# tp_keygen: creates the master key of the test configuration.
tp_keygen() {
	tp_cli keygen
	if [ "$RC" != 0 ] || [ ! -f "$T/master.key" ]; then
		tp_fail "keygen for the test" "$(tp_last)"
		return 1
	fi
}

# tp_start [DAEMON ARGS...]: starts tradepulsed -d on $TP_CONF (stderr to
# $T/daemon.log) and waits until `tradepulse status` answers. 1 if the daemon
# died or did not answer in time (TPD_PID is then the dead daemon's pid).
tp_start() {
	"$TPD" -d -f "$TP_CONF" "$@" >>"$T/daemon.log" 2>&1 </dev/null &
	TPD_PID=$!
	TP_PIDS+=("$TPD_PID")
	tp_wait_ready
}

# tp_wait_ready: polls `status` with a short timeout, bounded in count and time.
tp_wait_ready() {
	local end=$((SECONDS + TP_START_WAIT)) i=0
	while [ "$i" -lt 600 ] && [ "$SECONDS" -le "$end" ]; do
		if ! tp_alive "$TPD_PID"; then
			tp_log "tradepulsed (pid $TPD_PID) exited during start-up; its log:"
			tail -n 20 "$T/daemon.log" | sed 's/^/#   /'
			return 1
		fi
		if "$TPCLI" -f "$TP_CONF" -t 1 status >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	tp_log "tradepulsed (pid $TPD_PID) did not answer within ${TP_START_WAIT}s; its log:"
	tail -n 20 "$T/daemon.log" | sed 's/^/#   /'
	return 1
}

# tp_stop [SIGNAL]: SIGTERM (or SIGNAL), a bounded wait, then SIGKILL. The
# daemon's exit status goes to TPD_RC (128+n for a signal); TPD_KILLED=1 if
# it had to be killed.
tp_stop() {
	# stderr off: bash reports a killed background job ("Killed") there
	tp_stop_ "$@" 2>/dev/null
}
tp_stop_() {
	local sig=${1:-TERM}
	TPD_RC=
	TPD_KILLED=0
	[ -n "$TPD_PID" ] || return 0
	kill -"$sig" "$TPD_PID" 2>/dev/null
	if ! tp_wait_exit "$TPD_PID" "$TP_STOP_WAIT"; then
		tp_log "tradepulsed (pid $TPD_PID) did not exit on SIG$sig in ${TP_STOP_WAIT}s: SIGKILL"
		kill -KILL "$TPD_PID" 2>/dev/null
		TPD_KILLED=1
		tp_wait_exit "$TPD_PID" 5
	fi
	tp_reap "$TPD_PID"
	TPD_RC=$REAP_RC
	TPD_PID=
}

# tp_status_pid: the pid that `status --json` reports ("" when no answer).
tp_status_pid() {
	local out
	out=$("$TPCLI" -f "$TP_CONF" --json -t 5 status 2>/dev/null) || return 0
	tp_jq .result.pid "$out" || true
}

# --- set-up and clean-up -----------------------------------------------------

# tp_init NAME [--no-programs]: temp folder, config, traps; checks that the
# programs exist (not with --no-programs: a test that runs none of them).
tp_init() {
	TP_NAME=$1
	local base=${TMPDIR:-/tmp}
	# An ipc:// path must fit in sun_path (108 bytes) with run/events.sock.
	[ ${#base} -le 60 ] || base=/tmp
	T=$(mktemp -d "$base/tp-$TP_NAME.XXXXXX") || {
		echo "cannot create a temporary folder"
		echo "0 passed, 1 failed"
		exit 1
	}
	trap tp_cleanup EXIT
	trap 'tp_log "interrupted"; exit 130' INT
	trap 'tp_log "terminated"; exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
	TP_CONF=$T/tradepulse.conf
	# TP_STORE_BACKEND=firestore (the *_fs.sh tests): the store is a
	# project of this run's own on the emulator make check started
	if [ "${TP_STORE_BACKEND:-sqlite}" = firestore ]; then
		[ -n "${TP_FS_EMULATOR_HOST:-}" ] ||
		    tp_skip "this run on Firestore (TP_STORE_BACKEND=firestore) needs the Firestore emulator, and TP_FS_EMULATOR_HOST is empty (make check starts one when the emulator and java are installed: see tests/emulator.sh)"
		# Google's project ids: lowercase letters, digits and hyphens
		TP_FS_PROJECT=it-$(printf '%s' "$TP_NAME" | tr -c 'a-z0-9-' '-')-$$-$(date +%s%N)
		tp_log "store: Firestore emulator at $TP_FS_EMULATOR_HOST, project $TP_FS_PROJECT"
	fi
	tp_write_config "$TP_CONF"
	tp_log "$TP_NAME: build $TP_BUILDDIR, temp $T"
	# A test that starts none of this build's programs says so.
	[ "${2:-}" != --no-programs ] || return 0
	local p missing=0
	for p in "$TPD" "$TPCLI" "$APICLIENT"; do
		if [ ! -x "$p" ]; then
			tp_fail "program $p is built"
			missing=1
		fi
	done
	[ "$missing" = 0 ] || tp_finish
}

# Kills whatever the test started and removes the temp folder (kept when a
# check failed and TP_KEEP is set).
tp_cleanup() {
	local rc=$? p
	for p in "${TP_PIDS[@]}"; do
		if tp_alive "$p"; then
			kill -TERM "$p" 2>/dev/null
			tp_wait_exit "$p" 3 || kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
	TP_PIDS=()
	for p in "${TP_PGIDS[@]}"; do
		tp_stop_group "$p" 2>/dev/null
	done
	# A daemon that forked away (run without -d) is found by its config,
	# which is unique to this test's folder.
	if [ -n "$TP_CONF" ]; then
		for p in $(pgrep -f -- "$TP_CONF" 2>/dev/null); do
			[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$TPD")" ] || continue
			kill -KILL "$p" 2>/dev/null
		done
	fi
	if [ "$TP_FINISHED" != 1 ]; then
		tp_fail "$TP_NAME ran to its end" "the script stopped early (exit $rc)"
		[ -f "$T/daemon.log" ] && {
			tp_log "last lines of the daemon log:"
			tail -n 20 "$T/daemon.log" | sed 's/^/#   /'
		}
		printf '%d passed, %d failed\n' "$TP_PASS" "$TP_FAIL"
		rc=1
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "$TP_FAIL" -gt 0 ] && [ -n "${TP_KEEP:-}" ]; then
			tp_log "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# tp_skip REASON: the test cannot run here (say why); it ends with
# "0 passed, 0 failed" and exit 77, automake's SKIP (tests/summary shows
# "(skipped)"). Only before any check ran.
tp_skip() {
	tp_log "SKIPPED: $*"
	TP_FINISHED=1
	printf '%d passed, %d failed\n' 0 0
	exit 77
}

# tp_finish: the final line; exit 1 if any check failed.
tp_finish() {
	# A daemon built with the sanitizers reports on its stderr, which the
	# tests keep in $T; such a report fails the test.
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
			tp_fail "sanitizer report in $(basename "$f")"
			grep -E -A 12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | sed 's/^/#   /' | head -40
		fi
	done
	if [ "$TP_FAIL" -gt 0 ] && [ -f "$T/daemon.log" ]; then
		tp_log "last lines of the daemon log:"
		tail -n 30 "$T/daemon.log" | sed 's/^/#   /'
	fi
	TP_FINISHED=1
	printf '%d passed, %d failed\n' "$TP_PASS" "$TP_FAIL"
	[ "$TP_FAIL" -eq 0 ] && exit 0
	exit 1
}

# --- workers (the sandboxed worker pool) -----------------------------------------
# For the tests that run jobs in workers: configuration, many API calls over
# one connection, tenants with keys, sync jobs and their ends, the store read
# (tp_doc, tp_field; tp_sql on SQLite only).

TPW=$TP_BUILDDIR/worker/tradepulse-worker

# tp_worker_config [section.key=value...]: writes $TP_CONF with this build's
# worker program, run as nobody, Alpaca at the test's alpaca-sim (started
# here when it is not running yet), then the overrides.
tp_worker_config() {
	[ -n "$TP_SIM_URL" ] || tp_sim_start || return 1
	tp_write_config "$TP_CONF" "workers.program=$TPW" workers.user=nobody \
	    "alpaca.trading_url=$TP_SIM_URL" "alpaca.data_url=$TP_SIM_URL" "$@"
}

# --- alpaca-sim (the broker of the tests) -------------------------------------

TPSIM=$TP_BUILDDIR/sim/alpaca-sim
TP_SIM_PID=
TP_SIM_URL=

# tp_sim_start [SIM ARGS...]: alpaca-sim on a free loopback port (its log
# in $T/sim.log); sets TP_SIM_URL. 1 (after a failed check) when it does
# not come up.
tp_sim_start() {
	local i=0
	if [ ! -x "$TPSIM" ]; then
		tp_fail "program $TPSIM is built"
		return 1
	fi
	rm -f "$T/sim.port"
	"$TPSIM" --port 0 --port-file "$T/sim.port" "$@" >>"$T/sim.log" 2>&1 </dev/null &
	TP_SIM_PID=$!
	TP_PIDS+=("$TP_SIM_PID")
	while [ ! -s "$T/sim.port" ] && [ "$i" -lt 100 ]; do
		if ! tp_alive "$TP_SIM_PID"; then
			tp_fail "alpaca-sim starts" "$(tail -n 5 "$T/sim.log")"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -s "$T/sim.port" ]; then
		tp_fail "alpaca-sim wrote its port within 10 s"
		return 1
	fi
	TP_SIM_URL=http://127.0.0.1:$(head -n 1 "$T/sim.port")
}

# tp_sim_stop: stops the test's alpaca-sim (SIGTERM, bounded).
tp_sim_stop() {
	[ -n "$TP_SIM_PID" ] || return 0
	kill -TERM "$TP_SIM_PID" 2>/dev/null
	tp_wait_exit "$TP_SIM_PID" 5 || kill -KILL "$TP_SIM_PID" 2>/dev/null
	wait "$TP_SIM_PID" 2>/dev/null
	TP_SIM_PID=
	TP_SIM_URL=
}

# tp_sim METHOD PATH [JSON]: one call of alpaca-sim's control API; the
# body to stdout; 1 unless it answered 2xx.
tp_sim() {
	local code body=()
	[ $# -lt 3 ] || body=(--data-binary "$3")
	code=$(curl -s -o "$T/.sim.out" -w '%{http_code}' -X "$1" \
	    -H 'Content-Type: application/json' "${body[@]}" \
	    "$TP_SIM_URL$2") || code=000
	cat "$T/.sim.out" 2>/dev/null
	case $code in 2??) return 0 ;; esac
	return 1
}

# tp_sim_file METHOD PATH FILE: the same with the body from FILE.
tp_sim_file() {
	local code
	code=$(curl -s -o "$T/.sim.out" -w '%{http_code}' -X "$1" \
	    -H 'Content-Type: application/json' --data-binary "@$3" \
	    "$TP_SIM_URL$2") || code=000
	case $code in 2??) return 0 ;; esac
	cat "$T/.sim.out" 2>/dev/null
	return 1
}

# tp_need_workers: 0 when the worker program is built (else a failed
# check, and 1). With "faults" the test needs fault injection too: in a
# build without it (a release build, plain `make distcheck`) the test is
# skipped, exit 77, saying why.
tp_need_workers() {
	if [ ! -x "$TPW" ]; then
		tp_fail "program $TPW is built"
		return 1
	fi
	if [ "${1:-}" = faults ] && ! tp_has_faults; then
		tp_skip "this test needs fault injection, and this build has none (configure --enable-fault-injection; ./quickstart test does)"
	fi
	return 0
}

# tp_has_faults: true when fault injection is compiled in.
tp_has_faults() {
	grep -q '^#define TP_FAULT_INJECTION 1' "$TP_BUILDDIR/config.h" 2>/dev/null
}

# tp_sanitized: true for a build with the sanitizers (slower: tests may
# scale their counts or waits, and say so).
tp_sanitized() {
	grep -q -e '-fsanitize=' "$TP_BUILDDIR/Makefile" 2>/dev/null
}

# tp_api IN OUT: sends each line of IN as one request over one connection
# (tests/apiclient --lines), the replies to OUT one a line; apiclient's exit
# status (3: a reply did not come within TP_API_TIMEOUT seconds).
tp_api() {
	"$APICLIENT" -t "${TP_API_TIMEOUT:-10}" --lines "ipc://$T/run/api.sock" "$1" >"$2"
}

# Reading and writing the test's store through the store interface, opened
# as the daemon opens it ([store] of $TP_CONF), so that the same checks
# work on SQLite and on Firestore (tests/storetool):
#   tp_store ARGS...   storetool's commands (load FILE, set PATH JSON, ...)
#   tp_doc PATH        the document as compact JSON; nothing when missing
#   tp_field FIELD PATH  one field (a.b.c): a string as it is, a number as
#                      written, else JSON; nothing when missing or null
#   tp_text FIELD PATH   one field as the store keeps it: a number's exact
#                      text (122011.09751111286868), else JSON
#   tp_tenants         the tenants' uids, one a line
TPSTORETOOL=$TP_BUILDDIR/tests/storetool
tp_store() { "$TPSTORETOOL" -f "$TP_CONF" "$@"; }
tp_doc() { tp_store field "$1"; }
tp_field() { tp_store field "$2" "$1"; }
tp_text() { tp_store text "$2" "$1"; }
tp_tenants() { tp_store tenants; }

# tp_sql SQL: runs SQL on the test's SQLite store (read-only), rows to
# stdout. SQLite only: a test that also runs on Firestore uses tp_doc and
# tp_field instead.
tp_sql() {
	sqlite3 -readonly -batch "$T/state/tradepulse.db" "$1"
}

# tp_key_id N / tp_key_last4 N: the key id given to the Nth tenant by
# tp_add_tenants (its last four characters are N's last four digits).
tp_key_id() { printf 'PKITEST%012d' "$1"; }
tp_key_last4() { printf '%04d' $(($1 % 10000)); }

# tp_add_tenants UIDFILE: adds the tenants of UIDFILE (one uid a line) and
# sets the keys of the Nth to tp_key_id N. 1 (after a failed check) unless
# every call succeeded.
tp_add_tenants() {
	local n
	awk '{ printf "{\"op\":\"tenant.add\",\"uid\":\"%s\"}\n", $1 }' "$1" >"$T/.add.req"
	awk '{ printf "{\"op\":\"keys.set\",\"uid\":\"%s\",\"key_id\":\"PKITEST%012d\",\"secret\":\"itestsecret%029d\"}\n", $1, NR, NR }' \
	    "$1" >"$T/.keys.req"
	TP_API_TIMEOUT=30 tp_api "$T/.add.req" "$T/.add.rep" &&
	    TP_API_TIMEOUT=30 tp_api "$T/.keys.req" "$T/.keys.rep"
	n=$(grep -c '^{"ok":true' "$T/.keys.rep" 2>/dev/null)
	if [ "${n:-0}" != "$(wc -l <"$1")" ] ||
	    [ "$(grep -c '^{"ok":true' "$T/.add.rep")" != "$(wc -l <"$1")" ]; then
		tp_fail "add $(wc -l <"$1") tenants with keys" \
		    "$(grep -v '^{"ok":true' "$T/.add.rep" "$T/.keys.rep" | head -5)"
		return 1
	fi
	rm -f "$T/.add.req" "$T/.keys.req" "$T/.add.rep" "$T/.keys.rep"
	# the same keys open an account at the test's broker
	if [ -n "$TP_SIM_URL" ]; then
		awk 'BEGIN { printf "{\"accounts\":[" }
		{ printf "%s{\"key_id\":\"PKITEST%012d\",\"secret\":\"itestsecret%029d\"}", (NR > 1 ? "," : ""), NR, NR }
		END { print "]}" }' "$1" >"$T/.accounts.json"
		if ! tp_sim_file POST /_sim/accounts "$T/.accounts.json" >/dev/null; then
			tp_fail "alpaca-sim accounts for $(wc -l <"$1") tenants"
			return 1
		fi
		rm -f "$T/.accounts.json"
	fi
	return 0
}

# Awk function jv(s, k): the first value of "k" in the JSON text s (strings
# unquoted, escapes left as they are; "" when there is none).
TP_AWK_JV='
function jv(s, k,    re, m) {
	re = "\"" k "\"[ ]*:[ ]*(\"([^\"\\\\]|\\\\.)*\"|[-+0-9.eE]+|true|false|null)"
	if (!match(s, re))
		return ""
	m = substr(s, RSTART, RLENGTH)
	sub("^\"" k "\"[ ]*:[ ]*", "", m)
	if (m ~ /^"/)
		m = substr(m, 2, length(m) - 2)
	return m
}'

# tp_submit UIDFILE OUT: one sync request per uid of UIDFILE; OUT gets
# "uid job_id" a line, or "uid - CODE" for a refused request.
tp_submit() {
	awk '{ printf "{\"op\":\"sync\",\"uid\":\"%s\"}\n", $1 }' "$1" >"$T/.sync.req"
	TP_API_TIMEOUT=30 tp_api "$T/.sync.req" "$T/.sync.rep"
	awk "$TP_AWK_JV"'
	NR == FNR { uid[NR] = $1; next }
	{
		id = jv($0, "job_id")
		if ($0 ~ /^\{"ok":true/ && id != "")
			print uid[FNR], id
		else
			print uid[FNR], "-", (jv($0, "code") == "" ? "no_reply" : jv($0, "code"))
		seen = FNR
	}
	END { for (i = seen + 1; i in uid; i++) print uid[i], "-", "no_reply" }' \
	    "$1" "$T/.sync.rep" >"$2"
	rm -f "$T/.sync.req" "$T/.sync.rep"
}

# tp_jobs_wait JOBS OUT SECONDS [HOOK]: polls the "job" op for every job
# of JOBS (lines "uid job_id", as tp_submit writes them) until each has
# ended, at most SECONDS. A failed job that the daemon re-ran as a new job
# (its "retried_by") is followed to that job. OUT gets one line per ended
# job:
#   job_id uid state attempts error_code crash_id retried_by
# ("-" for an empty field; state "missing" when the daemon no longer knows
# the job). HOOK, if given, is run between polls. 1 when some job had not
# ended in time (they are left out of OUT and listed in $T/.jobs.pending).
tp_jobs_wait() {
	local end=$((SECONDS + $3)) i=0
	: >"$2"
	awk '$2 != "-" { print $2, $1 }' "$1" >"$T/.jobs.pending"
	while [ -s "$T/.jobs.pending" ]; do
		if [ "$SECONDS" -ge "$end" ] || [ "$i" -ge $(($3 * 4 + 10)) ]; then
			return 1
		fi
		awk '{ printf "{\"op\":\"job\",\"id\":\"%s\"}\n", $1 }' "$T/.jobs.pending" >"$T/.jobs.req"
		TP_API_TIMEOUT=30 tp_api "$T/.jobs.req" "$T/.jobs.rep"
		awk "$TP_AWK_JV"'
		function f(v) { return v == "" || v == "null" ? "-" : v }
		NR == FNR { id[NR] = $1; uid[NR] = $2; n = NR; next }
		{
			st = jv($0, "state")
			if ($0 ~ /^\{"ok":false/ && jv($0, "code") == "not_found")
				st = "missing"
			rb = f(jv($0, "retried_by"))
			if (st == "done" || st == "failed" || st == "missing") {
				print id[FNR], uid[FNR], st, f(jv($0, "attempts")),
				    f(jv($0, "code")), f(jv($0, "crash_id")), rb >> out
				if (st == "failed" && rb != "-")
					print rb, uid[FNR] > pending
			} else
				print id[FNR], uid[FNR] > pending
			seen = FNR
		}
		END { for (j = seen + 1; j <= n; j++) print id[j], uid[j] > pending }' \
		    out="$2" pending="$T/.jobs.pending.new" "$T/.jobs.pending" "$T/.jobs.rep"
		touch "$T/.jobs.pending.new"
		mv "$T/.jobs.pending.new" "$T/.jobs.pending"
		[ -s "$T/.jobs.pending" ] || break
		[ -z "${4:-}" ] || "$4"
		sleep 0.5
		i=$((i + 1))
	done
	return 0
}

# tp_jobs_final ENDED: the lines of ENDED (tp_jobs_wait's OUT) that end a
# chain of re-runs: the job's final outcome.
tp_jobs_final() {
	awk '$7 == "-"' "$1"
}

# tp_worker_pids: the pids of the daemon's live worker processes (its
# children running tradepulse-worker), one a line.
tp_worker_pids() {
	local p comm
	[ -n "$TPD_PID" ] || return 0
	for p in $(pgrep -P "$TPD_PID" 2>/dev/null); do
		comm=
		IFS= read -r comm 2>/dev/null <"/proc/$p/comm" || continue
		case $comm in tradepulse-wor*) tp_alive "$p" && echo "$p" ;; esac
	done
	return 0
}

# tp_proc_field PID FIELD: the value of "FIELD:" in /proc/PID/status
# (tabs and runs of spaces made single spaces).
tp_proc_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status" 2>/dev/null
}
