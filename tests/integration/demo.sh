#!/usr/bin/env bash
# tests/integration/demo.sh: ./quickstart demo's tour (tests/demo) runs to its end, shows each tenant's outcome, and leaves no process or folder behind, also when interrupted.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init demo
DEMO=$TP_SRCDIR/tests/demo

# left_behind OUTPUT: the demo's folder and its processes, as its output
# names them ("tradepulse demo in DIR", "tradepulsed is up (pid N)",
# "stopped alpaca-sim (pid N)") that still exist; "" when none does.
left_behind() {
	local dir pid
	dir=$(printf '%s\n' "$1" | sed -n 's/^.*tradepulse demo in \(\/tmp\/tradepulse-demo\.[A-Za-z0-9]*\).*$/\1/p' | head -n 1)
	[ -n "$dir" ] || { echo "no demo folder named"; return; }
	[ ! -e "$dir" ] || echo "folder $dir"
	for pid in $(printf '%s\n' "$1" | sed -n 's/^.*(pid \([0-9][0-9]*\)).*$/\1/p'); do
		[ -d "/proc/$pid" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)" != Z ] &&
		    echo "process $pid ($(cat "/proc/$pid/comm" 2>/dev/null))"
	done
	return 0
}

tp_log "the whole tour"
tp_run timeout 120 "$DEMO" "$TP_BUILDDIR"
tp_rc "the demo exits 0" 0
tp_match "one pulse ran" 'pulse p[0-9a-f]{16}: 2/2 tenants done, 1 errors' "$OUT$ERR"
tp_match "the healthy tenant synced, with equity, trades and P&L" \
    'demo-alice +synced +104250\.37 +3 +-?[0-9]+\.[0-9]{2} +-' "$OUT"
tp_match "the tenant with bad keys failed, saying why" \
    'demo-bob +failed .*unauthenticated: Alpaca rejected the API keys \(HTTP 401\)' "$OUT"
tp_match "the disabled tenant was skipped" 'demo-carol +skipped .*trading disabled \(vacation\)' "$OUT"
tp_match "the failing tenant's log is shown" 'ERROR j[0-9a-f]{16} alpaca Alpaca rejected the API keys' "$OUT"
tp_match "it stops the daemon and the sim" 'stopped tradepulsed .*stopped alpaca-sim' "$(printf '%s' "$OUT" | tr '\n' ' ')"
tp_eq "no process or folder of the demo is left" "" "$(left_behind "$OUT")"
tp_match "it names the daemon and the sim it stopped" 'stopped tradepulsed \(pid [0-9]+\).*stopped alpaca-sim \(pid [0-9]+\)' "$(printf '%s' "$OUT" | tr '\n' ' ')"

tp_log "interrupted in the middle (SIGINT to its process group, as Ctrl-C sends)"
# its own process group, and SIGINT not ignored (a script's background
# jobs start with it ignored): perl, which Debian always has, resets it
setsid perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"' \
    "$DEMO" "$TP_BUILDDIR" >"$T/int.out" 2>&1 &
pid=$!
i=0
while ! grep -q 'tradepulsed is up' "$T/int.out" 2>/dev/null && [ "$i" -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
tp_file_has "the daemon came up before the interrupt" 'tradepulsed is up' "$T/int.out"
kill -INT -- "-$pid"
tp_wait_exit "$pid" 30 || kill -KILL "$pid"
wait "$pid"
rc=$?
tp_eq "the interrupted demo exits 130" 130 "$rc"
tp_file_has "it says it was interrupted" 'demo: interrupted' "$T/int.out"
tp_slurp int "$T/int.out"
tp_eq "no process or folder of the demo is left" "" "$(left_behind "$int")"

tp_finish
