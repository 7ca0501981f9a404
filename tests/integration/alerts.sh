#!/usr/bin/env bash
# tests/integration/alerts.sh: etc/prometheus/tradepulse-alerts.yml passes `promtool check rules`, and `promtool test rules` with series taken from a real run's /metrics: each alert fires, or not, as it should.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init alerts

RULES=$(cd "$TP_SRCDIR/etc/prometheus" && pwd)/tradepulse-alerts.yml
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import prometheus_client.parser, yaml' 2>/dev/null; then
		PY=$p
		break
	fi
done
command -v promtool >/dev/null || tp_skip "no promtool (Debian package prometheus)"
[ -n "$PY" ] || tp_skip "no python3 with prometheus_client and yaml (python3-prometheus-client, python3-yaml)"
grep -q '^#define TP_FAULT_INJECTION 1' "$TP_BUILDDIR/config.h" 2>/dev/null ||
    tp_skip "this build has no fault injection (configure --enable-fault-injection): no worker can be made to crash"
command -v curl >/dev/null || tp_skip "no curl"
PARSE=$TP_SRCDIR/tests/integration/promparse.py
GEN=$TP_SRCDIR/tests/integration/alerts_gen.py

tp_run promtool check rules "$RULES"
tp_rc "promtool check rules" 0
tp_match "promtool found the 7 rules" "SUCCESS: 7 rules found" "$OUT"

tp_need_workers || tp_finish
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
INSTANCE=127.0.0.1:$PORT
mkdir -p "$T/bin"
prog=$T/bin/tradepulse-worker
cp "$TPW" "$prog"
# a schedule (its first turn an hour away) so that the interval is exposed
tp_worker_config "daemon.http=$INSTANCE" "workers.program=$prog" \
    workers.batch_size=8 workers.max_workers=2 workers.job_timeout=10s \
    workers.backoff_max=2s pulse.enabled=yes pulse.interval=1h
tp_keygen
export TP_FAULTS=bob=segv
tp_start || { tp_fail "tradepulsed starts with [daemon] http"; tp_finish; }

# scrape NAME: /metrics parsed into $T/NAME.json, with the time of the scrape.
scrape() {
	local at
	at=$(date +%s.%N)
	if ! curl -s -m 10 -o "$T/$1.txt" "http://$INSTANCE/metrics"; then
		tp_fail "scrape $1"
		return 1
	fi
	if ! "$PY" "$PARSE" <"$T/$1.txt" >"$T/$1.parsed" 2>"$T/parse.err"; then
		tp_fail "scrape $1 parses" "$(cat "$T/parse.err")"
		return 1
	fi
	jq --argjson at "$at" '. + {scraped_at: $at}' "$T/$1.parsed" >"$T/$1.json"
	tp_pass "scrape $1"
}

scrape fresh
printf '%s\n' alice bob >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
tp_cli tenant add carol
tp_rc "tenant add carol" 0
tp_cli keys set carol --key-id PKBADBADBADBAD01 <<<"not-the-secret-at-all"
tp_rc "keys set carol (keys the broker refuses)" 0
TP_CLI_TIMEOUT=120 tp_cli pulse --wait
tp_rc "pulse --wait: tenants failed (bob crashes his worker, carol gets a 401)" 1
scrape after

printf '#!/bin/sh\nexit 1\n' >"$prog.new" && chmod 755 "$prog.new" && mv -f "$prog.new" "$prog"
tp_cli sync alice
tp_rc "sync alice is queued (with a worker program that exits at once)" 0
throttled=
for i in $(seq 1 300); do
	code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$INSTANCE/healthz")
	[ "$code" = 503 ] && throttled=1 && break
	sleep 0.1
done
tp_eq "spawning gets throttled (/healthz 503)" 1 "${throttled:-0}"
scrape throttled
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_eq "the target is down once stopped (what up == 0 records)" 000 \
    "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$INSTANCE/metrics")"

if "$PY" "$GEN" "$RULES" "$T/fresh.json" "$T/after.json" "$T/throttled.json" \
    "$INSTANCE" >"$T/alerts_test.yml" 2>"$T/gen.err"; then
	tp_pass "the test series come from the run"
	tp_run promtool test rules "$T/alerts_test.yml"
	tp_rc "promtool test rules: every alert fires, or not, as expected" 0
	tp_match "promtool says SUCCESS" SUCCESS "$OUT$ERR"
	# it can fail: the same series against a rule file without the error
	# ratio alert must not pass
	sed 's/> 0\.1$/> 0.99/' "$RULES" >"$T/weak.yml"
	sed "s|$RULES|$T/weak.yml|" "$T/alerts_test.yml" >"$T/weak_test.yml"
	tp_run promtool test rules "$T/weak_test.yml"
	tp_rc "a rule that cannot fire fails the same test" 1
else
	tp_fail "the test series come from the run" "$(cat "$T/gen.err")"
fi
tp_finish
