#!/usr/bin/env bash
# tests/integration/pulse.sh: the pulse against alpaca-sim: the seed's three scenarios, snapshots, P&L to the cent, prices fetched once, ops/last_pulse, no overlap, the schedule.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init pulse

tp_need_workers || tp_finish
tp_sim_start || tp_finish
echo "data-secret-0123456789" >"$T/data.secret"
chmod 600 "$T/data.secret"
tp_worker_config workers.batch_size=8 workers.max_workers=2 workers.job_timeout=10s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }

# alice, bob: healthy; carol: keys the broker does not know; dave: trading
# disabled; erin: no keys.
printf '%s\n' alice bob carol dave >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
tp_cli tenant add erin
tp_rc "tenant add erin (no keys)" 0
tp_cli keys set carol --key-id PKBADBADBADBAD01 <<<"not-the-secret-at-all"
tp_rc "keys set carol (keys unknown to the broker)" 0
tp_cli trading disable dave --reason "test: kill-switch"
tp_rc "trading disable dave" 0

# accounts: alice's and bob's equity tell their snapshots apart
tp_sim POST /_sim/accounts "{\"key_id\":\"$(tp_key_id 1)\",\"secret\":\"itestsecret$(printf '%029d' 1)\",\"equity\":\"122011.09751111286868\",\"cash\":\"5000.5\"}" >/dev/null ||
    tp_fail "sim account for alice"
tp_sim POST /_sim/accounts "{\"key_id\":\"$(tp_key_id 2)\",\"secret\":\"itestsecret$(printf '%029d' 2)\",\"equity\":\"777.77\"}" >/dev/null ||
    tp_fail "sim account for bob"
tp_sim POST /_sim/prices '{"AAPL":"187.2512","MSFT":"399.99","TSLA":"199.995","HALF":"10.005"}' >/dev/null ||
    tp_fail "sim prices"

# shadow trades (created_at in order); t9 is CLOSED and must stay as it is
cat >"$T/trades" <<'EOF'
set users/alice/shadowTradeHistory/t1 {"symbol":"AAPL","side":"long","qty":"10","entry_price":"150.25","status":"OPEN","created_at":"2026-01-01T00:00:01.000000Z"}
set users/alice/shadowTradeHistory/t2 {"symbol":"MSFT","side":"short","qty":3.5,"entry_price":"410.123456789","status":"OPEN","created_at":"2026-01-01T00:00:02.000000Z"}
set users/alice/shadowTradeHistory/t3 {"symbol":"TSLA","side":"BUY","qty":2,"entry_price":250,"status":"OPEN","created_at":"2026-01-01T00:00:03.000000Z"}
set users/alice/shadowTradeHistory/t4 {"symbol":"ZZNOPE","side":"long","qty":"1","entry_price":"5","status":"OPEN","created_at":"2026-01-01T00:00:04.000000Z"}
set users/alice/shadowTradeHistory/t5 {"symbol":"HALF","side":"long","qty":"1","entry_price":"10.00","status":"OPEN","created_at":"2026-01-01T00:00:05.000000Z"}
set users/alice/shadowTradeHistory/t6 {"symbol":"HALF","side":"sell","qty":"1","entry_price":"10.00","status":"OPEN","created_at":"2026-01-01T00:00:06.000000Z"}
set users/alice/shadowTradeHistory/t7 {"symbol":"AAPL","side":"sideways","qty":"1","entry_price":"10","status":"OPEN","created_at":"2026-01-01T00:00:07.000000Z"}
set users/alice/shadowTradeHistory/t8 {"symbol":"AAPL","side":"long","qty":"-1","entry_price":"10","status":"OPEN","created_at":"2026-01-01T00:00:08.000000Z"}
set users/alice/shadowTradeHistory/t9 {"symbol":"AAPL","side":"long","qty":"1","entry_price":"10","status":"CLOSED","created_at":"2026-01-01T00:00:09.000000Z","unrealized_pnl":0}
set users/bob/shadowTradeHistory/b1 {"symbol":"AAPL","side":"long","qty":"1","entry_price":"100","status":"OPEN","created_at":"2026-01-01T00:00:01.000000Z"}
set users/carol/shadowTradeHistory/c1 {"symbol":"AAPL","side":"long","qty":"1","entry_price":"100","status":"OPEN","created_at":"2026-01-01T00:00:01.000000Z"}
set users/dave/shadowTradeHistory/d1 {"symbol":"AAPL","side":"long","qty":"1","entry_price":"100","status":"OPEN","created_at":"2026-01-01T00:00:01.000000Z"}
EOF
tp_store load "$T/trades" || tp_fail "shadow trades written with storetool"

# j FIELD PATH: a field of a document, read through the store (tp_field)
j() { tp_field "$1" "$2"; }

tp_log "one pulse, prices fetched by each tenant (no data key)"
tp_sim POST /_sim/reset '{}' >/dev/null
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait exits 1: a tenant failed" 1
tp_match "the progress line on stderr" "pulse p[0-9a-f]{16}: 3/3 tenants done, 1 errors, done" "$ERR"
tp_match "summary: tenants" "tenants:[[:space:]]+5" "$OUT"
tp_match "summary: synced" "synced:[[:space:]]+2" "$OUT"
tp_match "summary: errors" "errors:[[:space:]]+1 \\(0 crashed, 0 quarantined\\)" "$OUT"
tp_match "summary: skipped" "skipped:[[:space:]]+1 disabled, 1 without keys, 0 quarantined" "$OUT"

tp_log "seed scenario 1: each tenant's data under its own path"
# money is a number (the dashboard computes with it) that keeps its text
tp_eq "alice's snapshot has her equity, exactly" "122011.09751111286868" "$(tp_text equity users/alice/data/snapshot)"
tp_eq "alice's alpacaAccounts/snapshot too" "122011.09751111286868" "$(tp_text equity users/alice/alpacaAccounts/snapshot)"
tp_eq "her equity is a JSON number" number "$(tp_jq '.equity | type' "$(tp_doc users/alice/data/snapshot)")"
tp_eq "alice's cash" "5000.5" "$(j cash users/alice/data/snapshot)"
tp_eq "bob's snapshot has his equity" "777.77" "$(j equity users/bob/data/snapshot)"
tp_eq "bob's alpacaAccounts/snapshot too" "777.77" "$(j equity users/bob/alpacaAccounts/snapshot)"
tp_match "the snapshot has synced_at" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$(j synced_at users/bob/data/snapshot)"
tp_match "the snapshot has the account status" '^[A-Z_]+$' "$(j status users/alice/data/snapshot)"
tp_eq "no document of a tenant but the five" "alice bob carol dave erin" \
    "$(tp_tenants | tr '\n' ' ' | sed 's/ $//')"
tp_eq "bob's trade marked with his own price and qty" "87.25" "$(j unrealized_pnl users/bob/shadowTradeHistory/b1)"

tp_log "P&L to the cent, long and short, rounded half away from zero"
tp_eq "t1 long: current_price" "187.2512" "$(j current_price users/alice/shadowTradeHistory/t1)"
tp_eq "t1 long: (187.2512 - 150.25) x 10" "370.01" "$(j unrealized_pnl users/alice/shadowTradeHistory/t1)"
tp_eq "t1 long: pnl_percent" "24.6264" "$(j pnl_percent users/alice/shadowTradeHistory/t1)"
tp_eq "t2 short: (410.123456789 - 399.99) x 3.5" "35.47" "$(j unrealized_pnl users/alice/shadowTradeHistory/t2)"
tp_eq "t2 short: pnl_percent" "2.4708" "$(j pnl_percent users/alice/shadowTradeHistory/t2)"
tp_eq "t3 BUY, numbers: (199.995 - 250) x 2" "-100.01" "$(j unrealized_pnl users/alice/shadowTradeHistory/t3)"
tp_eq "t3: pnl_percent" "-20.002" "$(j pnl_percent users/alice/shadowTradeHistory/t3)"
tp_eq "t5 long 0.005 rounds up to 0.01" "0.01" "$(j unrealized_pnl users/alice/shadowTradeHistory/t5)"
tp_eq "t6 short -0.005 rounds to -0.01" "-0.01" "$(j unrealized_pnl users/alice/shadowTradeHistory/t6)"
tp_eq "t1 has no pnl_error" "" "$(j pnl_error users/alice/shadowTradeHistory/t1)"
tp_has "t1 is stored with cents exactly" '"unrealized_pnl":370.01' \
    "$(tp_doc users/alice/shadowTradeHistory/t1)"

tp_jcli tenant show alice
tp_eq "tenant show: alice's open trades" 8 "$(tp_jq .result.trades.open "$OUT")"
tp_eq "tenant show: 5 of them marked" 5 "$(tp_jq .result.trades.marked "$OUT")"
tp_eq "tenant show: 3 could not be" 3 "$(tp_jq .result.trades.errors "$OUT")"
tp_eq "tenant show: their unrealized P&L, as a decimal string" '"305.47"' "$(tp_jq '.result.trades.unrealized_pnl | tojson' "$OUT")"
tp_cli tenant show alice
tp_match "tenant show (human): open trades and P&L" "open trades:[[:space:]]+8, unrealized P&L 305.47 \\(3 could not be marked\\)" "$OUT"

tp_log "a bad trade gets an error on that trade, not on the tenant"
tp_match "t4 (unknown symbol) has a pnl_error naming it" 'ZZNOPE' "$(j pnl_error.message users/alice/shadowTradeHistory/t4)"
tp_eq "t4 has no unrealized_pnl" "" "$(j unrealized_pnl users/alice/shadowTradeHistory/t4)"
tp_match "t7 (side sideways) has a pnl_error" 'side' "$(j pnl_error.message users/alice/shadowTradeHistory/t7)"
tp_match "t8 (qty -1) has a pnl_error" 'qty' "$(j pnl_error.message users/alice/shadowTradeHistory/t8)"
tp_eq "t9 (CLOSED) is not touched" "0" "$(j unrealized_pnl users/alice/shadowTradeHistory/t9)"
tp_eq "t9 has no current_price" "" "$(j current_price users/alice/shadowTradeHistory/t9)"
tp_eq "alice has no last_sync_error" "" \
    "$(tp_doc users/alice/status/last_sync_error)"

tp_log "seed scenario 2: invalid keys fail with last_sync_error while the others sync"
tp_eq "carol's last_sync_error code" "unauthenticated" "$(j code users/carol/status/last_sync_error)"
tp_match "carol's error says the keys were rejected" 'rejected the API keys.*401' "$(j message users/carol/status/last_sync_error)"
tp_match "carol's error names its job" '^j[0-9a-f]{16}$' "$(j job_id users/carol/status/last_sync_error)"
tp_eq "carol has no snapshot" "" "$(tp_doc users/carol/data/snapshot)"
tp_eq "carol's trade is not marked" "" "$(j unrealized_pnl users/carol/shadowTradeHistory/c1)"
tp_file_has "carol's log says why" 'rejected the API keys' "$T/log/tenants/carol.log"
tp_file_lacks "carol's log holds no secret" 'not-the-secret-at-all' "$T/log/tenants/carol.log"
tp_file_has "alice's log: the account step" 'account' "$T/log/tenants/alice.log"
tp_file_has "alice's log: the P&L step" 'marked' "$T/log/tenants/alice.log"

tp_log "seed scenario 3: a disabled tenant is skipped and counted"
tp_eq "dave has no snapshot" "" "$(tp_doc users/dave/data/snapshot)"
tp_eq "dave's trade is not marked" "" "$(j unrealized_pnl users/dave/shadowTradeHistory/d1)"
tp_eq "dave has no last_sync_error" "" "$(tp_doc users/dave/status/last_sync_error)"
for f in "users_total 5" "synced 2" "errors 1" "skipped_disabled 1" "skipped_no_keys 1" "crashed 0" "quarantined 0"; do
	tp_eq "ops/last_pulse $f" "${f#* }" "$(j "${f% *}" ops/last_pulse)"
done
tp_match "ops/last_pulse duration_ms" '^[0-9]+$' "$(j duration_ms ops/last_pulse)"
tp_match "ops/last_pulse started_at" '^20[0-9-]+T' "$(j started_at ops/last_pulse)"
tp_match "ops/last_pulse finished_at" '^20[0-9-]+T' "$(j finished_at ops/last_pulse)"
tp_eq "prices were fetched per tenant" "per_tenant" "$(j prices.source ops/last_pulse)"
lp=$(tp_doc ops/last_pulse)
tp_log "the pulse made $(jq .store_requests <<<"$lp") store requests, $(jq .store_requests_per_synced_tenant <<<"$lp") per synced tenant"
tp_eq "ops/last_pulse store_requests is a count > 0" true \
    "$(jq '.store_requests | type == "number" and . > 0 and . == floor' <<<"$lp")"
tp_eq "ops/last_pulse store_requests_per_synced_tenant is a number > 0" true \
    "$(jq '.store_requests_per_synced_tenant | type == "number" and . > 0' <<<"$lp")"
tp_match "store_requests_per_synced_tenant has 2 decimals at most" '^[0-9]+(\.[0-9]{1,2})?$' \
    "$(tp_field store_requests_per_synced_tenant ops/last_pulse)"
tp_eq "store_requests_per_synced_tenant is store_requests / synced" true \
    "$(jq '((.store_requests / .synced) - .store_requests_per_synced_tenant | fabs) <= 0.005' <<<"$lp")"
tp_cli status
tp_match "status shows the last pulse's store requests" \
    "last pulse store.* $(jq .store_requests <<<"$lp") requests, [0-9.]+ per synced tenant" "$OUT"
stats=$(tp_sim GET /_sim/stats)
tp_eq "the broker saw one account request per tenant with keys (3)" 3 "$(tp_jq .requests.account "$stats")"

tp_log "with a data key: prices fetched once per pulse, not per tenant"
tp_sim POST /_sim/accounts '{"key_id":"PKDATAKEY0000001","secret":"data-secret-0123456789"}' >/dev/null ||
    tp_fail "sim account for the data key"
tp_stop
tp_worker_config workers.batch_size=8 workers.max_workers=2 workers.job_timeout=10s \
    alpaca.data_key_id=PKDATAKEY0000001 "alpaca.data_secret_file=$T/data.secret"
tp_start || { tp_fail "tradepulsed restarts with a data key"; tp_finish; }
tp_sim POST /_sim/prices '{"AAPL":"190.00"}' >/dev/null
tp_sim POST /_sim/reset '{}' >/dev/null
TP_CLI_TIMEOUT=60 tp_jcli pulse --wait
tp_rc "pulse --json --wait exits 1 (carol)" 1
tp_eq "--json: the pulse's figures" 2 "$(tp_jq .synced "$OUT")"
tp_eq "prices came from the data key" "data_key" "$(j prices.source ops/last_pulse)"
tp_eq "5 symbols asked for (AAPL MSFT TSLA HALF ZZNOPE)" 5 "$(j prices.symbols ops/last_pulse)"
tp_eq "4 of them found" 4 "$(j prices.found ops/last_pulse)"
stats=$(tp_sim GET /_sim/stats)
tp_eq "one multi-symbol latest-trades request in the whole pulse" 1 "$(tp_jq .requests.trades_latest_multi "$stats")"
tp_eq "no single-symbol price request" 0 "$(tp_jq .requests.trades_latest "$stats")"
tp_eq "the new price reached bob's trade" "90.0" "$(j unrealized_pnl users/bob/shadowTradeHistory/b1)"
tp_match "t4 still has its unknown-symbol error" 'ZZNOPE' "$(j pnl_error.message users/alice/shadowTradeHistory/t4)"

tp_log "a wrong data key: the pulse goes on, each tenant fetches its prices"
echo "wrong-data-secret" >"$T/data.secret"
tp_sim POST /_sim/reset '{}' >/dev/null
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait exits 1 (carol)" 1
tp_match "the summary says the price fetch failed" 'the one fetch with the data key failed: unauthenticated' "$OUT"
tp_eq "alice and bob synced all the same" 2 "$(j synced ops/last_pulse)"
tp_eq "per-tenant prices" "per_tenant" "$(j prices.source ops/last_pulse)"

tp_log "pulses never overlap"
tp_sim POST /_sim/behaviour "{\"key_id\":\"$(tp_key_id 2)\",\"behaviour\":\"latency\",\"latency\":\"2s\"}" >/dev/null ||
    tp_fail "slow broker for bob"
tp_cli pulse
tp_rc "pulse starts" 0
tp_match "it says it started" '^started pulse p[0-9a-f]{16}$' "$OUT"
first=${OUT##* }
tp_cli pulse
tp_rc "a second pulse while one runs" 0
tp_eq "it names the running one" "pulse $first is already running" "${OUT%% (*}"
TP_CLI_TIMEOUT=30 tp_cli pulse --wait
tp_match "pulse --wait follows the running one" "pulse $first" "$ERR"
tp_sim POST /_sim/behaviour "{\"key_id\":\"$(tp_key_id 2)\",\"behaviour\":\"normal\"}" >/dev/null
tp_jcli status
tp_eq "status shows the last pulse" "$first" "$(tp_jq .result.pulse.last.pulse_id "$OUT")"

tp_log "the plan's bulk read keeps trades_read's choice: created_at order, no created_at, the cap"
# alice's t11 has no created_at: ordering by it leaves it out
echo 'set users/alice/shadowTradeHistory/t11 {"symbol":"AAPL","side":"long","qty":"1","entry_price":"100","status":"OPEN"}' >"$T/more_trades"
tp_store load "$T/more_trades" || tp_fail "t11 written with storetool"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait exits 1 (carol)" 1
tp_eq "alice's t1 is marked" "397.5" "$(j unrealized_pnl users/alice/shadowTradeHistory/t1)"
tp_eq "alice's t11 (no created_at) is not" "" "$(j unrealized_pnl users/alice/shadowTradeHistory/t11)"
tp_eq "alice and bob synced" 2 "$(j synced ops/last_pulse)"
# t10's created_at is a number: the plan leaves alice to trades_read
echo 'set users/alice/shadowTradeHistory/t10 {"symbol":"AAPL","side":"long","qty":"1","entry_price":"100","status":"OPEN","created_at":5}' >"$T/more_trades"
tp_store load "$T/more_trades" || tp_fail "t10 written with storetool"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait exits 1 (carol)" 1
tp_eq "alice's t10 (created_at a number) is marked" "90.0" "$(j unrealized_pnl users/alice/shadowTradeHistory/t10)"
tp_eq "alice's t11 is still not" "" "$(j unrealized_pnl users/alice/shadowTradeHistory/t11)"
tp_eq "alice and bob synced again" 2 "$(j synced ops/last_pulse)"
# bob: 501 OPEN trades: the JOB carries the oldest 496 (TRADES_JOB_MAX:
# with the snapshots and sync status, the result's writes fill one
# 500-write batch), and bob syncs
for i in $(seq 0 499); do
	printf 'set users/bob/shadowTradeHistory/bz%03d {"symbol":"AAPL","side":"long","qty":"1","entry_price":"100","status":"OPEN","created_at":"2026-01-02T00:%02d:%02d.000000Z"}\n' \
	    "$i" $(((500 - i) / 60)) $(((500 - i) % 60))
done >"$T/more_trades"
tp_store load "$T/more_trades" || tp_fail "bob's trades written with storetool"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait exits 1 (carol)" 1
tp_file_has "the daemon log says one tenant has more than 496" '1 tenants have more than 496 open trades; the first 496 of each are marked' "$T/daemon.log"
tp_eq "alice and bob (501 open trades) synced" 2 "$(j synced ops/last_pulse)"
tp_ne "bob's oldest trade (bz499) is marked" "" "$(j unrealized_pnl users/bob/shadowTradeHistory/bz499)"
tp_eq "bob's newest (bz000) is past the cap, not marked" "" "$(j unrealized_pnl users/bob/shadowTradeHistory/bz000)"

tp_log "the schedule: [pulse] enabled, every second"
tp_stop
tp_worker_config workers.batch_size=8 workers.max_workers=2 workers.job_timeout=10s \
    pulse.enabled=yes pulse.interval=1s
tp_start || { tp_fail "tradepulsed restarts with a schedule"; tp_finish; }
i=0
while [ "$i" -lt 100 ] && [ "$(j trigger ops/last_pulse)" != schedule ]; do
	sleep 0.2
	i=$((i + 1))
done
tp_eq "a scheduled pulse wrote ops/last_pulse" schedule "$(j trigger ops/last_pulse)"
tp_stop
tp_eq "the daemon stops cleanly with the schedule on" 0 "$TPD_RC"

tp_finish
