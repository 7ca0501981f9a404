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

# tradepulse.conf(5) documents exactly the keys of the example
# configuration (which sets every key to its default): section.key from
# "key =" lines under [section] there, and from ".It Cm key , key" items
# under ".Sh [section]" here.
ex=$TP_BUILDDIR/etc/tradepulse.conf.example
if [ -f "$ex" ] && [ -f "$TP_BUILDDIR/man/tradepulse.conf.5" ]; then
	awk '/^\[[a-z]+\]/ { s = substr($0, 2, length($0) - 2); next }
	    s != "" && /^[a-z_]+ =/ { print s "." $1 }' "$ex" | sort -u >"$T/keys.example"
	awk '/^\.Sh \[[a-z]+\]/ { s = $2; gsub(/[][]/, "", s); next }
	    /^\.Sh / { s = ""; next }
	    s != "" && /^\.It Cm / { for (i = 3; i <= NF; i++) if ($i != ",") print s "." $i }' \
	    "$TP_BUILDDIR/man/tradepulse.conf.5" | sort -u >"$T/keys.man"
	tp_ne "the example configuration has keys" 0 "$(wc -l <"$T/keys.example")"
	tp_eq "tradepulse.conf(5) documents every key of the example, and no other" "" \
	    "$(diff "$T/keys.example" "$T/keys.man" | grep '^[<>]')"
else
	tp_fail "the example configuration and tradepulse.conf(5) are built"
fi

# What --help names as SEE ALSO exists.
if [ -x "$TP_BUILDDIR/cli/tradepulse" ]; then
	tp_run "$TP_BUILDDIR/cli/tradepulse" --help
	tp_has "tradepulse --help: SEE ALSO tradepulsed(8), tradepulse.conf(5)" 'tradepulsed(8), tradepulse.conf(5)' "$OUT"
	# tradepulse(1) has an item for each command --help lists, and no other.
	awk '/^COMMANDS/ { c = 1; next } /^[A-Z]/ { c = 0 }
	    c && /^     [a-z]/ { print $1 }' <<<"$OUT" | sort -u >"$T/cmds.help"
	awk '/^\.Sh COMMANDS/ { c = 1; next } /^\.Sh / { c = 0 }
	    c && /^\.It Cm [a-z]/ { print $3 }' "$TP_BUILDDIR/man/tradepulse.1" | sort -u >"$T/cmds.man"
	tp_ne "tradepulse --help lists commands" 0 "$(wc -l <"$T/cmds.help")"
	tp_eq "tradepulse(1) describes every command of --help, and no other" "" \
	    "$(diff "$T/cmds.help" "$T/cmds.man" | grep '^[<>]')"
fi
if [ -x "$TP_BUILDDIR/supervisor/tradepulsed" ]; then
	tp_run "$TP_BUILDDIR/supervisor/tradepulsed" --version
	tp_rc "tradepulsed --version exits 0" 0
	tp_match "... and prints the version" '^tradepulsed [0-9]+\.[0-9]+' "$OUT"
fi

tp_finish
