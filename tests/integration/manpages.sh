#!/usr/bin/env bash
# tests/integration/manpages.sh: the manual pages (made with the configured paths) are clean under mandoc -T lint -W warning, and name what the programs do.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init manpages --no-programs

command -v mandoc >/dev/null || tp_skip "mandoc is not installed (Debian package mandoc)"

PAGES=(man/tradepulsed.8 man/tradepulse.1 man/tradepulse.conf.5 man/alpaca-sim.1)
for p in "${PAGES[@]}"; do
	f=$TP_BUILDDIR/$p
	if [ ! -f "$f" ]; then
		tp_fail "$p is built"
		continue
	fi
	tp_run mandoc -T lint -W warning "$f"
	tp_rc "$p: mandoc -T lint -W warning finds nothing" 0
	tp_eq "$p: ... and prints nothing" "" "$OUT$ERR"
	tp_nomatch "$p: every @token@ is replaced" '@[a-zA-Z_]+@' "$(grep -v gserviceaccount "$f")"
	mandoc -T ascii "$f" | col -b >"$T/$(basename "$p").txt"
done

# The pages are rendered and say what the issue asks of them.
t8=$T/tradepulsed.8.txt
tp_file_has "tradepulsed(8) has a TROUBLESHOOTING section" 'TROUBLESHOOTING' "$t8"
tp_file_has "... for a user's data that does not load" "A user's data does not load" "$t8"
tp_file_has "... for a pulse that does not sync" 'The pulse does not sync' "$t8"
tp_file_has "... for a suspected cross-user leak" 'A suspected cross-user data leak' "$t8"
for c in 'tradepulse status' 'tradepulse tenant show' 'tradepulse logs' \
    'tradepulse crashes' 'tradepulse pulse --wait' 'tradepulse pause'; do
	tp_file_has "... with the command $c" "$c" "$t8"
done
tp_file_has "tradepulsed(8) documents SIGUSR1" 'SIGUSR1' "$t8"
tp_file_has "tradepulsed(8) documents --version" '--version' "$t8"
tp_file_has "tradepulse.conf(5) documents [daemon] log" 'log_dir/tradepulsed.log' "$T/tradepulse.conf.5.txt"

# What --help names as SEE ALSO exists.
if [ -x "$TP_BUILDDIR/cli/tradepulse" ]; then
	tp_run "$TP_BUILDDIR/cli/tradepulse" --help
	tp_has "tradepulse --help: SEE ALSO tradepulsed(8), tradepulse.conf(5)" 'tradepulsed(8), tradepulse.conf(5)' "$OUT"
fi
if [ -x "$TP_BUILDDIR/supervisor/tradepulsed" ]; then
	tp_run "$TP_BUILDDIR/supervisor/tradepulsed" --version
	tp_rc "tradepulsed --version exits 0" 0
	tp_match "... and prints the version" '^tradepulsed [0-9]+\.[0-9]+' "$OUT"
fi

tp_finish
