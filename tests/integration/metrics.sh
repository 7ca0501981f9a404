#!/usr/bin/env bash
# tests/integration/metrics.sh: [daemon] http: /metrics parses with the Prometheus client's parser and counts a pulse with a failing tenant and a crash; /healthz is 200, then 503 with the reason while spawning is throttled; other paths and methods.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init metrics

# A Python with the official client library (Debian: python3-prometheus-client).
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || tp_skip "no python3 with prometheus_client (install python3-prometheus-client)"
grep -q '^#define TP_FAULT_INJECTION 1' "$TP_BUILDDIR/config.h" 2>/dev/null ||
    tp_skip "this build has no fault injection (configure --enable-fault-injection): no worker can be made to crash"
command -v curl >/dev/null || tp_skip "no curl"
PARSE=$TP_SRCDIR/tests/integration/promparse.py

tp_need_workers || tp_finish
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
mkdir -p "$T/bin"
prog=$T/bin/tradepulse-worker
cp "$TPW" "$prog"
tp_worker_config "daemon.http=127.0.0.1:$PORT" "workers.program=$prog" \
    workers.batch_size=8 workers.max_workers=2 workers.job_timeout=10s \
    workers.backoff_max=2s
tp_keygen
# bob's jobs crash the worker running them (worker/faults.c)
export TP_FAULTS=bob=segv
tp_start || { tp_fail "tradepulsed starts with [daemon] http"; tp_finish; }

# get PATH [CURL ARGS...]: CODE (the status), BODY, HDRS (response headers).
get() {
	local path=$1
	shift
	CODE=$(curl -s -m 10 -o "$T/.body" -D "$T/.hdrs" -w '%{http_code}' "$@" "$URL$path") || CODE=000
	BODY=$(cat "$T/.body" 2>/dev/null)
	HDRS=$(tr -d '\r' <"$T/.hdrs" 2>/dev/null)
}

# scrape: /metrics parsed into $T/metrics.json; 1 if it does not parse.
scrape() {
	get /metrics
	printf '%s' "$BODY" >"$T/metrics.txt"
	"$PY" "$PARSE" <"$T/metrics.txt" >"$T/metrics.json" 2>"$T/parse.err"
}

# val NAME [LABEL=VALUE...]: the sample's value from the last scrape ("" if none).
val() {
	local name=$1 sel='.' kv
	shift
	for kv in "$@"; do
		sel="$sel and .labels[\"${kv%%=*}\"] == \"${kv#*=}\""
	done
	jq -r --arg n "$name" "[.samples[] | select(.name == \$n and ($sel))][0].value // empty" "$T/metrics.json"
}

# ge NAME WANT GOT: GOT is a number >= WANT
ge() {
	tp_true "$1 ($3 >= $2)" awk -v g="$3" -v w="$2" 'BEGIN { exit !(g != "" && g + 0 >= w + 0) }'
}

tp_log "healthz and metrics on a fresh daemon"
get /healthz
tp_eq "GET /healthz: 200" 200 "$CODE"
tp_eq "GET /healthz says ok" ok "$BODY"
head_() {
	curl -s -m 10 -I -o /dev/null -w '%{http_code} %{size_download}' "$URL$1" || echo 000
}
tp_eq "HEAD /healthz: 200 and no body" "200 0" "$(head_ /healthz)"
tp_eq "HEAD /metrics: 200 and no body" "200 0" "$(head_ /metrics)"
get /metrics -X POST -d x=1
tp_eq "POST /metrics: 405" 405 "$CODE"
tp_match "405 says which methods are allowed" '(^|'$'\n'')Allow: GET, HEAD' "$HDRS"
get /nope
tp_eq "GET /nope: 404" 404 "$CODE"
get /metrics/x
tp_eq "GET /metrics/x: 404" 404 "$CODE"
big=$(head -c 12000 /dev/zero | tr '\0' x)
get /healthz -H "X-Big: $big"
tp_match "headers over 8 KiB are refused (4xx, or the connection closed: $CODE)" '^(4[0-9][0-9]|000)$' "$CODE"
head -c 5000 /dev/zero | tr '\0' y >"$T/body4k"
get /healthz -X GET --data-binary "@$T/body4k"
tp_match "a body over 4 KiB is refused (4xx, or the connection closed: $CODE)" '^(4[0-9][0-9]|000)$' "$CODE"
get /healthz
tp_eq "and the next request is served" 200 "$CODE"
if scrape; then
	tp_pass "a fresh /metrics parses"
else
	tp_fail "a fresh /metrics parses" "$(cat "$T/parse.err")" "$(head -c 1500 "$T/metrics.txt")"
fi
tp_match "Content-Type is the text format 0.0.4" '(^|'$'\n'')Content-Type: text/plain; version=0.0.4' "$HDRS"
tp_eq "tradepulse_pulses_total starts at 0" 0 "$(val tradepulse_pulses_total)"
tp_eq "the error outcome is there from the start, as 0" 0 "$(val tradepulse_tenant_syncs_total outcome=error)"
tp_eq "tradepulse_workers_throttled is 0" 0 "$(val tradepulse_workers_throttled)"
tp_eq "tradepulse_build_info is 1" 1 "$(val tradepulse_build_info)"
for fam in tradepulse_pulses_total:counter tradepulse_tenant_syncs_total:counter \
    tradepulse_worker_spawns_total:counter tradepulse_worker_crashes_total:counter \
    tradepulse_worker_restarts_total:counter tradepulse_quarantines_total:counter \
    tradepulse_api_requests_total:counter tradepulse_queue_depth:gauge \
    tradepulse_workers:gauge tradepulse_workers_throttled:gauge \
    tradepulse_pulse_duration_seconds:histogram tradepulse_job_duration_seconds:histogram \
    tradepulse_last_pulse_finished_timestamp_seconds:gauge tradepulse_pulse_interval_seconds:gauge \
    tradepulse_alpaca_requests_total:counter tradepulse_alpaca_request_duration_seconds:histogram; do
	# the client's parser names a counter family without its _total
	n=${fam%%:*}
	[ "${fam#*:}" = counter ] && n=${n%_total}
	tp_eq "family ${fam%%:*} is a ${fam#*:}" "${fam#*:}" \
	    "$(jq -r --arg n "$n" '.families[$n].type // empty' "$T/metrics.json")"
done

tp_log "a pulse: alice syncs, bob's worker crashes, carol's keys get a 401"
printf '%s\n' alice bob >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
tp_cli tenant add carol
tp_rc "tenant add carol" 0
tp_cli keys set carol --key-id PKBADBADBADBAD01 <<<"not-the-secret-at-all"
tp_rc "keys set carol (keys unknown to the broker)" 0
tp_cli job j0000000000000000
tp_rc "job of an unknown id fails (counted as not_found)" 1 2 3 4 5 6 7 8
TP_CLI_TIMEOUT=120 tp_cli pulse --wait
tp_rc "pulse --wait exits 1: tenants failed" 1
tp_match "the pulse saw errors" "errors:[[:space:]]+2" "$OUT"

if scrape; then
	tp_pass "/metrics after the pulse parses (and its histograms are consistent)"
else
	tp_fail "/metrics after the pulse parses" "$(cat "$T/parse.err")" "$(head -c 1500 "$T/metrics.txt")"
fi
tp_eq "pulses_total is 1" 1 "$(val tradepulse_pulses_total)"
tp_eq "pulses_started_total is 1" 1 "$(val tradepulse_pulses_started_total)"
tp_eq "no pulse failed to plan" 0 "$(val tradepulse_pulse_failures_total)"
tp_eq "syncs ok: alice" 1 "$(val tradepulse_tenant_syncs_total outcome=ok)"
tp_eq "syncs error: bob and carol" 2 "$(val tradepulse_tenant_syncs_total outcome=error)"
ge "worker crashes by SIGSEGV" 1 "$(val tradepulse_worker_crashes_total signal=SIGSEGV)"
ge "worker spawns" 2 "$(val tradepulse_worker_spawns_total)"
ge "worker restarts" 1 "$(val tradepulse_worker_restarts_total)"
ge "quarantines: bob, after his strikes" 1 "$(val tradepulse_quarantines_total)"
ge "api requests: pulse ok" 1 "$(val tradepulse_api_requests_total op=pulse code=ok)"
ge "api requests: keys.set ok" 3 "$(val tradepulse_api_requests_total op=keys.set code=ok)"
ge "api requests: job not_found" 1 "$(val tradepulse_api_requests_total op=job code=not_found)"
ge "alpaca attempts answered 2xx (alice's account)" 1 "$(val tradepulse_alpaca_requests_total class=2xx)"
ge "alpaca attempts answered 4xx (carol's 401)" 1 "$(val tradepulse_alpaca_requests_total class=4xx)"
attempts=$(jq '[.samples[] | select(.name == "tradepulse_alpaca_requests_total") | .value] | add' "$T/metrics.json")
tp_eq "the Alpaca latency histogram counts every attempt ($attempts)" "$attempts" \
    "$(val tradepulse_alpaca_request_duration_seconds_count)"
tp_eq "pulse duration: one observation" 1 "$(val tradepulse_pulse_duration_seconds_count)"
tp_eq "pulse duration: +Inf bucket is the count" 1 "$(val tradepulse_pulse_duration_seconds_bucket le=+Inf)"
ge "job durations of sync jobs" 3 "$(val tradepulse_job_duration_seconds_count kind=sync)"
ge "failed sync jobs" 2 "$(val tradepulse_jobs_total kind=sync outcome=failed)"
now=$(date +%s)
last=$(val tradepulse_last_pulse_finished_timestamp_seconds)
tp_true "the last pulse finished in the last 5 minutes ($last, now $now)" \
    awk -v l="$last" -v n="$now" 'BEGIN { exit !(l + 0 > n - 300 && l + 0 <= n + 1) }'
tp_eq "the queue is empty" 0 "$(val tradepulse_queue_depth)"
cp "$T/metrics.txt" "$T/metrics.after-pulse.txt"
[ -z "${TP_METRICS_SAVE:-}" ] || cp "$T/metrics.txt" "$TP_METRICS_SAVE"

tp_log "healthz turns 503 while spawning is throttled"
# healthy again once the crash backoff (at most 2 s here) is over
ok=
for i in $(seq 1 100); do
	get /healthz
	[ "$CODE" = 200 ] && ok=1 && break
	sleep 0.1
done
tp_eq "/healthz is 200 once the crash backoff is over" 1 "${ok:-0}" || tp_log "last: $CODE $BODY"
printf '#!/bin/sh\nexit 1\n' >"$prog.new" && chmod 755 "$prog.new" && mv -f "$prog.new" "$prog"
tp_cli sync alice
tp_rc "sync alice is queued (with a worker program that exits at once)" 0
bad=
for i in $(seq 1 300); do
	get /healthz
	[ "$CODE" = 503 ] && bad=$BODY && break
	tp_alive "$TPD_PID" || break
	sleep 0.1
done
tp_ne "/healthz turns 503 within 30 s" "" "$bad"
tp_match "its reason: the worker pool is throttled" '^worker pool throttled: ' "$bad"
if scrape; then
	tp_pass "/metrics while throttled parses"
else
	tp_fail "/metrics while throttled parses" "$(cat "$T/parse.err")"
fi
tp_eq "tradepulse_workers_throttled is 1" 1 "$(val tradepulse_workers_throttled)"
ge "start-up failures counted" 1 "$(val tradepulse_worker_startup_failures_total)"
ge "the queued job waits" 1 "$(val tradepulse_queue_depth)"
tp_eq "HEAD /healthz: 503 too, no body" "503 0" "$(head_ /healthz)"

cp "$TPW" "$prog.new" && mv -f "$prog.new" "$prog"
tp_true "the daemon never exited" tp_alive "$TPD_PID"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
get /healthz
tp_eq "nothing listens once it stopped" 000 "$CODE"
tp_finish
