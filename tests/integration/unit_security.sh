#!/usr/bin/env bash
# tests/integration/unit_security.sh: the systemd unit runs as tradepulse with only the documented capabilities, and systemd-analyze security --offline=true rates it 2.0 or below.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init unit_security --no-programs

command -v systemd-analyze >/dev/null 2>&1 ||
    tp_skip "systemd-analyze is not installed (Debian: systemd, in ./quickstart's packages)"
systemd-analyze security --help 2>/dev/null | grep -q -- '--offline' ||
    tp_skip "this systemd-analyze has no security --offline (systemd 252 or later)"

# the unit as built (its paths substituted) or as in the sources; a
# template's @dir@ placeholders do not change the rating
unit=
for u in "$TP_BUILDDIR/etc/tradepulsed.service" "$TP_SRCDIR/etc/tradepulsed.service"; do
	[ -f "$u" ] && unit=$u && break
done
if [ -z "$unit" ] && [ -f "$TP_SRCDIR/etc/tradepulsed.service.in" ]; then
	sed 's|@[a-z_]*@|/usr|g' "$TP_SRCDIR/etc/tradepulsed.service.in" >"$T/tradepulsed.service"
	unit=$T/tradepulsed.service
fi
[ -n "$unit" ] || { tp_fail "the unit etc/tradepulsed.service exists"; tp_finish; }
tp_log "unit: $unit"

# the value of the last KEY= line of the [Service] section
svc() { awk -v k="$1" '/^\[/ { s = $0 } s == "[Service]" && index($0, k "=") == 1 { v = substr($0, length(k) + 2) } END { print v }' "$unit"; }
tp_eq "User=tradepulse" tradepulse "$(svc User)"
tp_eq "Group=tradepulse" tradepulse "$(svc Group)"
# the set privdrop.c keeps, documented in docs/security.md
tp_eq "AmbientCapabilities: the three" "CAP_SETUID CAP_SETGID CAP_KILL" "$(svc AmbientCapabilities)"
tp_eq "CapabilityBoundingSet: the three" "CAP_SETUID CAP_SETGID CAP_KILL" "$(svc CapabilityBoundingSet)"
tp_eq "NoNewPrivileges=yes" yes "$(svc NoNewPrivileges)"

tp_run systemd-analyze security --offline=true "$unit"
tp_rc "systemd-analyze security --offline=true exits 0" 0
level=$(printf '%s\n' "$OUT" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' | tail -n 1)
tp_match "the overall exposure level is printed" '^[0-9]+\.[0-9]$' "$level"
tp_log "exposure level: $level"
tp_true "the exposure level $level is 2.0 or below" awk -v l="$level" 'BEGIN { exit !(l != "" && l + 0 <= 2.0) }'
tp_finish
