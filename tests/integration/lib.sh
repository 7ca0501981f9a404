#!/usr/bin/env bash
# tests/integration/lib.sh: shared helpers of the integration tests (sourced, not run).
#
# A test script does:
#   . "$(dirname "$0")/lib.sh"
#   tp_init NAME          # temp folder $T, config $TP_CONF, cleanup trap
#   tp_keygen && tp_start # master key, daemon in the foreground, wait for the API
#   ...assertions...
#   tp_finish             # prints "N passed, M failed"; exit 1 if M > 0
#
# Environment: TP_BUILDDIR (the build folder; default: the current folder),
# TP_SRCDIR, TP_KEEP (keep the temp folder of a failed run and print its path),
# TP_VERBOSE (print every passing check too).
# Every wait is bounded both in iterations and in seconds.

# shellcheck shell=bash disable=SC2034  # variables set here for the test scripts
TP_BUILDDIR=${TP_BUILDDIR:-$PWD}
TP_SRCDIR=${TP_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TPD=$TP_BUILDDIR/supervisor/tradepulsed
TPCLI=$TP_BUILDDIR/cli/tradepulse
APICLIENT=$TP_BUILDDIR/tests/apiclient

# Seconds to wait for the daemon to answer or to exit; sanitizer builds are slower.
TP_START_WAIT=${TP_START_WAIT:-30}
TP_STOP_WAIT=${TP_STOP_WAIT:-15}

TP_PASS=0
TP_FAIL=0
TP_FINISHED=0
TP_PIDS=()
TP_PGIDS=()
TPD_PID=
T=
TP_CONF=

# --- reporting ---------------------------------------------------------------

tp_log() { printf '# [%3ds] %s\n' "$SECONDS" "$*"; }

tp_pass() {
	TP_PASS=$((TP_PASS + 1))
	[ -z "${TP_VERBOSE:-}" ] || printf 'ok   %s\n' "$1"
}

# tp_fail NAME [DETAIL...]: a failed check, said clearly with what was seen.
tp_fail() {
	local name=$1 line
	shift
	TP_FAIL=$((TP_FAIL + 1))
	printf 'FAIL %s\n' "$name"
	for line in "$@"; do
		printf '%s\n' "${line:0:2000}" | sed 's/^/     | /'
	done
}

# Shows what the last tp_run saw, for failure messages.
tp_last() {
	printf 'command: %s\nexit %s\nstdout: %s\nstderr: %s' \
	    "$RUN_CMD" "$RC" "$OUT" "$ERR"
}

# --- assertions ----------------------------------------------------------------

# tp_slurp VAR FILE: the file's text without its trailing newlines, read
# without starting a process (processes are slow on a loaded machine).
tp_slurp() {
	local -n tp_slurp_v=$1
	tp_slurp_v=
	IFS= read -r -d '' tp_slurp_v <"$2"
	while [[ $tp_slurp_v == *$'\n' ]]; do
		tp_slurp_v=${tp_slurp_v%$'\n'}
	done
	return 0
}

# tp_run CMD...: runs CMD, sets RC, OUT and ERR (stdin is the caller's).
tp_run() {
	RUN_CMD="$*"
	"$@" >"$T/.run.out" 2>"$T/.run.err"
	RC=$?
	tp_slurp OUT "$T/.run.out"
	tp_slurp ERR "$T/.run.err"
	: >"$T/.run.out"
	: >"$T/.run.err"
	return 0
}

# tp_cli ARGS...: tp_run of the CLI on the test's config with a short timeout.
tp_cli() { tp_run "$TPCLI" -f "$TP_CONF" -t "${TP_CLI_TIMEOUT:-5}" "$@"; }
# tp_jcli ARGS...: the same with --json.
tp_jcli() { tp_run "$TPCLI" -f "$TP_CONF" --json -t "${TP_CLI_TIMEOUT:-5}" "$@"; }

# tp_rc NAME WANT...: the last tp_run exited with one of the WANT codes.
tp_rc() {
	local name=$1 want
	shift
	for want in "$@"; do
		if [ "$RC" = "$want" ]; then
			tp_pass "$name"
			return 0
		fi
	done
	tp_fail "$name" "expected exit $*" "$(tp_last)"
	return 1
}

# tp_eq NAME WANT GOT
tp_eq() {
	if [ "$2" = "$3" ]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected: '$2'" "got:      '$3'"
	return 1
}

# tp_ne NAME UNWANTED GOT
tp_ne() {
	if [ "$2" != "$3" ]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected anything but '$2'"
	return 1
}

# tp_match NAME ERE TEXT / tp_nomatch NAME ERE TEXT: ERE over the whole text
# (^ and $ are its start and end; [[:space:]] includes newlines).
tp_match() {
	if [[ $3 =~ $2 ]]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected to match /$2/" "text: $3"
	return 1
}
tp_nomatch() {
	if ! [[ $3 =~ $2 ]]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected NOT to match /$2/" "text: $3"
	return 1
}

# tp_has NAME NEEDLE TEXT / tp_lacks NAME NEEDLE TEXT: fixed strings.
tp_has() {
	if [[ $3 == *"$2"* ]]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected to contain '$2'" "text: $3"
	return 1
}
tp_lacks() {
	if [[ $3 != *"$2"* ]]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected NOT to contain '$2'" "text: $3"
	return 1
}

# tp_true NAME CMD...: CMD succeeds.
tp_true() {
	local name=$1
	shift
	if "$@"; then
		tp_pass "$name"
		return 0
	fi
	tp_fail "$name" "this did not hold: $*"
	return 1
}

# tp_file_has NAME ERE FILE: FILE exists and has a line matching ERE.
tp_file_has() {
	if [ -f "$3" ] && grep -aqE -- "$2" "$3"; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "no line matching /$2/ in $3" "$(tail -n 5 "$3" 2>/dev/null)"
	return 1
}

# tp_file_lacks NAME NEEDLE FILE...: no byte of NEEDLE in any FILE (binary
# safe); every FILE must exist, so the check cannot pass vacuously.
tp_file_lacks() {
	local name=$1 needle=$2 f bad=
	shift 2
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			bad="$bad missing:$f"
		elif grep -aqF -- "$needle" "$f"; then
			bad="$bad found-in:$f"
		fi
	done
	if [ -z "$bad" ]; then
		tp_pass "$name"
		return 0
	fi
	tp_fail "$name" "$bad"
	return 1
}

# tp_rc_code NAME RC CODE: the last tp_jcli exited RC with a JSON error CODE.
tp_rc_code() {
	local got
	got=$(tp_jerr "$OUT")
	if [ "$RC" = "$2" ] && [ "$got" = "$3" ]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected exit $2 with error code $3, got code '$got'" "$(tp_last)"
	return 1
}

# tp_ok NAME: the last tp_jcli exited 0 with {"ok": true}.
tp_ok() {
	if [ "$RC" = 0 ] && [ "$(tp_jq .ok "$OUT")" = true ]; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "expected exit 0 and \"ok\": true" "$(tp_last)"
	return 1
}

# --- JSON ----------------------------------------------------------------------

# tp_jq FILTER JSON: what the jq FILTER gives for JSON, e.g.
# tp_jq .result.pid "$OUT": strings raw, everything else as JSON (a missing
# key is "null"). Fails, printing nothing, when JSON is empty or not JSON.
tp_jq() {
	printf '%s' "$2" | jq -nr "input | ($1)" 2>/dev/null
}

# tp_jerr JSON: the error code of a failure reply ("" when there is none).
tp_jerr() {
	local re='^[[:space:]]*\{[[:space:]]*"ok"[[:space:]]*:[[:space:]]*false[[:space:]]*,[[:space:]]*"error"[[:space:]]*:[[:space:]]*\{[^{}]*"code"[[:space:]]*:[[:space:]]*"([a-z_]*)"'
	[[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"
	return 0
}

# Processes, the daemon, set-up and clean-up, workers, alpaca-sim.
# shellcheck source=tests/integration/lib_daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_daemon.sh"
