#!/usr/bin/env bash
# tests/integration/misbehave.sh: every alpaca-sim misbehaviour given to one tenant among healthy ones, in one worker: that tenant's clear error, no crash, the others synced in the same pulse.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init misbehave
STORETOOL=$TP_BUILDDIR/tests/storetool

tp_need_workers || tp_finish
# one batch: the misbehaving tenants share their worker with the healthy
tp_worker_config workers.batch_size=64 workers.max_workers=1 workers.job_timeout=6s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }

# uid  behaviour-json-fields  expected-code  message-ERE
cases=(
	"m-status500|\"behaviour\":\"status\",\"status\":500|unavailable|HTTP 500"
	"m-status503|\"behaviour\":\"status\",\"status\":503|unavailable|HTTP 503"
	"m-status403|\"behaviour\":\"status\",\"status\":403|permission_denied|HTTP 403"
	"m-status401|\"behaviour\":\"status\",\"status\":401|unauthenticated|rejected the API keys"
	"m-status429|\"behaviour\":\"status\",\"status\":429|resource_exhausted|rate limit"
	"m-latency|\"behaviour\":\"latency\",\"latency\":\"30s\"|unavailable|deadline|time"
	"m-malformed|\"behaviour\":\"malformed\"|unavailable|malformed|JSON"
	"m-truncated|\"behaviour\":\"truncated\"|unavailable|.+"
	"m-huge|\"behaviour\":\"huge\"|resource_exhausted|larger than"
	"m-deep|\"behaviour\":\"deep\"|unavailable|nest|deep"
	"m-wrongtypes|\"behaviour\":\"wrong_types\"|unavailable|field"
	"m-badutf8|\"behaviour\":\"bad_utf8\"|unavailable|UTF-8"
	"m-drip|\"behaviour\":\"drip\"|unavailable|.+"
	"m-silent|\"behaviour\":\"silent\"|unavailable|.+"
)
HEALTHY=(h1 h2 h3 h4 h5 h6)
: >"$T/uids"
for c in "${cases[@]}"; do echo "${c%%|*}" >>"$T/uids"; done
printf '%s\n' "${HEALTHY[@]}" >>"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

# every tenant has one open trade
awk '{ printf "set users/%s/shadowTradeHistory/t1 {\"symbol\":\"AAPL\",\"side\":\"long\",\"qty\":\"1\",\"entry_price\":\"100\",\"status\":\"OPEN\",\"created_at\":\"2026-01-01T00:00:00.000000Z\"}\n", $1 }' \
    "$T/uids" >"$T/trades"
"$STORETOOL" "$T/state/tradepulse.db" load "$T/trades" || tp_fail "trades written"

n=0
for c in "${cases[@]}"; do
	n=$((n + 1))
	IFS='|' read -r uid fields _ <<<"$c"
	tp_sim POST /_sim/behaviour "{\"key_id\":\"$(tp_key_id "$n")\",$fields}" >/dev/null ||
	    tp_fail "alpaca-sim takes the behaviour of $uid" "$(cat "$T/.sim.out")"
done

tp_log "one pulse: ${#cases[@]} misbehaving tenants and ${#HEALTHY[@]} healthy ones in one worker"
TP_CLI_TIMEOUT=90 tp_jcli pulse --wait
tp_rc "pulse --wait ends (exit 1: tenants failed)" 1
tp_eq "every healthy tenant synced" "${#HEALTHY[@]}" "$(tp_jq .synced "$OUT")"
tp_eq "every misbehaving tenant failed" "${#cases[@]}" "$(tp_jq .errors "$OUT")"
tp_eq "no worker crashed" 0 "$(tp_jq .crashed "$OUT")"
tp_eq "no tenant was quarantined" 0 "$(tp_jq .quarantined "$OUT")"
tp_eq "no crash report was written" "" "$(tp_sql "SELECT path FROM docs WHERE path LIKE 'ops/crashes/%'")"
tp_jcli status
tp_eq "status: no crash" 0 "$(tp_jq .result.crashes "$OUT")"

for u in "${HEALTHY[@]}"; do
	tp_ne "$u: snapshot written" "" "$(tp_sql "SELECT path FROM docs WHERE path = 'users/$u/data/snapshot'")"
	tp_ne "$u: its trade marked" "" "$(tp_sql "SELECT json_extract(data, '\$.unrealized_pnl') FROM docs WHERE path = 'users/$u/shadowTradeHistory/t1'")"
	tp_eq "$u: no last_sync_error" "" "$(tp_sql "SELECT path FROM docs WHERE path = 'users/$u/status/last_sync_error'")"
done

for c in "${cases[@]}"; do
	IFS='|' read -r uid _ code re <<<"$c"
	lse=$(tp_sql "SELECT data FROM docs WHERE path = 'users/$uid/status/last_sync_error'")
	tp_eq "$uid: last_sync_error code" "$code" "$(tp_jq .code "$lse")"
	tp_match "$uid: the message says what went wrong" "$re" "$(tp_jq .message "$lse")"
	tp_nomatch "$uid: the message is not a crash" 'crash|signal|killed' "$(tp_jq .message "$lse")"
	tp_eq "$uid: no snapshot" "" "$(tp_sql "SELECT path FROM docs WHERE path = 'users/$uid/data/snapshot'")"
	tp_file_has "$uid: its log says so" "$code|Alpaca" "$T/log/tenants/$uid.log"
done

tp_log "the broker behaves again: the same tenants sync"
n=0
for c in "${cases[@]}"; do
	n=$((n + 1))
	tp_sim POST /_sim/behaviour "{\"key_id\":\"$(tp_key_id "$n")\",\"behaviour\":\"normal\"}" >/dev/null
done
TP_CLI_TIMEOUT=90 tp_jcli pulse --wait
tp_rc "pulse --wait exits 0" 0
tp_eq "every tenant synced" "$(wc -l <"$T/uids")" "$(tp_jq .synced "$OUT")"
tp_eq "no last_sync_error left" "" "$(tp_sql "SELECT path FROM docs WHERE path LIKE 'users/%/status/last_sync_error'")"

tp_finish
