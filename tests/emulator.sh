#!/usr/bin/env bash
# tests/emulator.sh: starts and stops the one Firestore emulator that `make check` shares among the tests that run on Firestore.
#
#   tests/emulator.sh start HOSTFILE [WATCH_PID]
#   tests/emulator.sh stop HOSTFILE
#
# start: launches the official emulator on a free loopback port in a
# session and process group of its own (its launcher script and its java),
# waits (at most TP_FS_EMULATOR_WAIT seconds, 60 by default) until it
# answers, and writes "127.0.0.1:PORT" to HOSTFILE; its process group id
# goes to HOSTFILE.pgid and its output to HOSTFILE.log. With WATCH_PID, a
# watchdog stops the emulator (its whole group) once that process has
# exited: `make check` passes the make that runs the tests, so the emulator
# goes away when the tests end, fail or are interrupted. An emulator left
# from an earlier run under the same HOSTFILE is stopped first.
#
# When the emulator or java is missing, or TP_FS_EMULATOR=no, nothing is
# started, HOSTFILE is removed and start says why and succeeds: the tests
# then find TP_FS_EMULATOR_HOST empty and the Firestore ones skip (exit 77)
# saying so. A failure to come up is an error (exit 1).
# When TP_FS_EMULATOR_HOST is already set, that emulator is used instead:
# it is written to HOSTFILE and nothing is started.
#
# stop: stops the emulator's group (SIGTERM, a bounded wait, SIGKILL) and
# removes HOSTFILE and HOSTFILE.pgid.
#
# Environment: TP_FIRESTORE_EMULATOR (the emulator's launcher; default the
# Debian package's path), JAVA (the java it runs).
#
# Running the Firestore tests by hand, from the build folder:
#   make check                                   # starts and stops it itself
#   make check TESTS='tests/unit/test_store_docs_fs tests/integration/pulse_fs.sh'
# or with an emulator of your own (kept running between runs):
#   ../tests/emulator.sh start "$PWD/tests/emulator.host"   # no watchdog
#   export TP_FS_EMULATOR_HOST=$(cat tests/emulator.host)
#   tests/unit/test_store_docs_fs --verbose       # a unit suite on Firestore
#   TP_BUILDDIR=$PWD bash ../tests/integration/pulse_fs.sh
#   ../tests/emulator.sh stop "$PWD/tests/emulator.host"
# Each Firestore test uses projects of its own (a unique project_id), so
# the tests can share one emulator and run in parallel.
set -u

EMU=${TP_FIRESTORE_EMULATOR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator}
WAIT=${TP_FS_EMULATOR_WAIT:-60}

emu_say() { printf 'emulator.sh: %s\n' "$*" >&2; }

# A group still has a live (not zombie) process.
emu_group_alive() {
	local p st
	for p in $(pgrep -g "$1" 2>/dev/null); do
		st=
		IFS= read -r st <"/proc/$p/stat" 2>/dev/null || continue
		st=${st##*) }
		st=${st%% *}
		[ "$st" = Z ] || [ "$st" = X ] || return 0
	done
	return 1
}

# Stops the process group $1: SIGTERM, up to 5 s, then SIGKILL.
emu_kill_group() {
	local g=$1 i=0
	[ -n "$g" ] && [ "$g" -gt 1 ] 2>/dev/null || return 0
	kill -TERM -- "-$g" 2>/dev/null
	while emu_group_alive "$g" && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if emu_group_alive "$g"; then
		kill -KILL -- "-$g" 2>/dev/null
		i=0
		while emu_group_alive "$g" && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	! emu_group_alive "$g"
}

# Stops process group $1 if it still runs the emulator (a group id is
# reused after a while, by anything).
emu_stop_group() {
	local g=$1 p
	[ -n "$g" ] || return 0
	for p in $(pgrep -g "$g" 2>/dev/null); do
		if grep -qa -e cloud_firestore_emulator -e CloudFirestore \
		    "/proc/$p/cmdline" 2>/dev/null; then
			emu_kill_group "$g" || emu_say "process group $g did not stop"
			return
		fi
	done
}

# The emulator recorded under HOSTFILE $1, stopped and forgotten.
emu_stop() {
	local f=$1 g=
	[ -r "$f.pgid" ] && IFS= read -r g <"$f.pgid"
	emu_stop_group "$g"
	rm -f "$f" "$f.pgid"
}

# A loopback port nothing listens on (bash's /dev/tcp connect fails).
emu_free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Polls process $1 every second; when it is gone, stops the emulator of
# HOSTFILE $2 (only the one of process group $3: a later run may have
# replaced it). Runs in a session of its own, deaf to the terminal's ^C
# (which make also gets) until its job is done.
emu_watchdog() {
	local watch=$1 f=$2 g=$3 cur
	trap '' INT HUP QUIT TERM PIPE
	while kill -0 "$watch" 2>/dev/null; do
		sleep 1
	done
	cur=
	[ -r "$f.pgid" ] && IFS= read -r cur <"$f.pgid"
	if [ "$cur" = "$g" ]; then
		emu_stop "$f"
	else
		emu_stop_group "$g"
	fi
}

emu_start() {
	local f=$1 watch=${2:-} port try i end code g
	emu_stop "$f"
	mkdir -p "$(dirname "$f")" || return 1
	if [ -n "${TP_FS_EMULATOR_HOST:-}" ]; then
		printf '%s\n' "$TP_FS_EMULATOR_HOST" >"$f"
		emu_say "using the emulator at TP_FS_EMULATOR_HOST=$TP_FS_EMULATOR_HOST"
		return 0
	fi
	if [ "${TP_FS_EMULATOR:-}" = no ]; then
		emu_say "not started (TP_FS_EMULATOR=no): the Firestore tests will be skipped"
		return 0
	fi
	if [ ! -x "$EMU" ]; then
		emu_say "not started: the Firestore emulator is not installed ($EMU is missing; Debian package google-cloud-cli-firestore-emulator): the Firestore tests will be skipped"
		return 0
	fi
	if ! command -v "${JAVA:-java}" >/dev/null 2>&1; then
		emu_say "not started: the Firestore emulator needs java, which is not installed: the Firestore tests will be skipped"
		return 0
	fi
	: >"$f.log"
	for try in 1 2 3; do
		port=$(emu_free_port) || {
			emu_say "no free loopback port found"
			return 1
		}
		# setsid: a group of its own, away from the terminal's signals;
		# not a group leader here, so setsid execs and $! is the group id
		setsid "$EMU" --host=127.0.0.1 --port="$port" --project_id=tp-test \
		    >>"$f.log" 2>&1 </dev/null &
		g=$!
		printf '%s\n' "$g" >"$f.pgid"
		# ^C (make's too) while it starts: the emulator goes as well
		trap 'emu_kill_group "$g"; rm -f "$f" "$f.pgid"; exit 130' INT HUP TERM
		end=$((SECONDS + WAIT))
		i=0
		while [ "$SECONDS" -le "$end" ] && [ "$i" -lt $((WAIT * 10)) ]; do
			emu_group_alive "$g" || break
			code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
			    "http://127.0.0.1:$port/" 2>/dev/null) || code=
			if [ "$code" = 200 ]; then
				trap - INT HUP TERM
				printf '127.0.0.1:%s\n' "$port" >"$f"
				emu_say "the Firestore emulator answers at 127.0.0.1:$port (process group $g, log $f.log)"
				if [ -n "$watch" ]; then
					setsid bash -c "$(declare -f emu_say emu_group_alive emu_kill_group emu_stop_group emu_stop emu_watchdog); emu_watchdog \"\$@\"" \
					    emu-watchdog "$watch" "$f" "$g" </dev/null >/dev/null 2>&1 &
				fi
				return 0
			fi
			sleep 0.1
			i=$((i + 1))
		done
		emu_say "the emulator on port $port did not answer within ${WAIT}s (try $try); the end of its log:"
		tail -n 10 "$f.log" | sed 's/^/emulator.sh:   /' >&2
		emu_kill_group "$g"
		rm -f "$f.pgid"
	done
	emu_say "the Firestore emulator did not start: see $f.log"
	return 1
}

case ${1:-}:${2:-} in
start:?*) emu_start "$2" "${3:-}" ;;
stop:?*) emu_stop "$2" ;;
*)
	echo "usage: $0 start HOSTFILE [WATCH_PID] | stop HOSTFILE" >&2
	exit 2
	;;
esac
