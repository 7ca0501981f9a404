#!/usr/bin/env bash
# tests/integration/signal.sh: the signal job against alpaca-sim with closes the test sets: BUY and HOLD written to users/{uid}/signals, the reply, signals newest first, and the refusals.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init signal

tp_need_workers || tp_finish
tp_sim_start || tp_finish
tp_worker_config workers.max_workers=2 workers.job_timeout=10s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }

# alice, bob: keys; dave: trading disabled; erin: no keys
printf '%s\n' alice bob dave >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
tp_cli tenant add erin
tp_rc "tenant add erin (no keys)" 0
tp_cli trading disable dave --reason "test: kill-switch"
tp_rc "trading disable dave" 0

# The series and the expected figures are those of tests/unit/test_strategy.c
# (computed there independently, with exact fractions): [signals] fast 10,
# slow 30, rsi_period 14 are the defaults.
# UP: 100, then +2, -1, ... (40 closes): SMA(10) 118, SMA(30) 113,
# RSI(14) 68.5440736419, BUY with confidence 0.6146.
up=100 closes='"100.00"'
for i in $(seq 1 39); do
	if [ $((i % 2)) = 1 ]; then up=$((up + 2)); else up=$((up - 1)); fi
	closes="$closes,\"$up.00\""
done
tp_sim POST /_sim/bars "{\"symbol\":\"AAPL\",\"closes\":[$closes]}" >/dev/null ||
    tp_fail "sim: AAPL's closes set"
# FLAT: 40 closes of 100: no trend, RSI 50, HOLD with confidence 1.
flat=$(printf '"100",%.0s' $(seq 1 40))
tp_sim POST /_sim/bars "{\"symbol\":\"MSFT\",\"closes\":[${flat%,}]}" >/dev/null ||
    tp_fail "sim: MSFT's closes set"
# SHORT: 10 closes, fewer than the 31 the strategy needs
tp_sim POST /_sim/bars '{"symbol":"SHRT","closes":["1","2","3","4","5","6","7","8","9","10.5"]}' >/dev/null ||
    tp_fail "sim: SHRT's closes set"
bars=$(curl -s -H "APCA-API-KEY-ID: $(tp_key_id 1)" -H "APCA-API-SECRET-KEY: itestsecret$(printf '%029d' 1)" \
    "$TP_SIM_URL/v2/stocks/AAPL/bars?timeframe=1Day&start=2000-01-03&limit=2&sort=desc")
tp_eq "the sim serves the newest 2 of the 40 daily bars" 2 "$(tp_jq '.bars | length' "$bars")"
tp_match "the newest first, its close as set" '^\{"bars":\[\{"t":"[0-9TZ:-]+","o":119.00,"h":121.00,"l":119.00,"c":121.00,' "$bars"

tp_log "BUY: alice on AAPL"
TP_CLI_TIMEOUT=30 tp_jcli signal alice AAPL
tp_ok "signal alice AAPL succeeds"
r=$OUT
id=$(tp_jq .result.id "$r")
tp_match "the reply carries the signal's id" '^[A-Za-z0-9]{20}$' "$id"
tp_match "... and the job's" '^j[0-9a-f]{16}$' "$(tp_jq .result.job_id "$r")"
tp_eq "reply: action" BUY "$(tp_jq .result.action "$r")"
tp_eq "reply: symbol" AAPL "$(tp_jq .result.symbol "$r")"
tp_eq "reply: confidence" 0.6146 "$(tp_jq .result.confidence "$r")"
tp_eq "reply: the price is the last close" 121 "$(tp_jq .result.price "$r")"
tp_eq "reply: sma_fast" 118 "$(tp_jq .result.indicators.sma_fast "$r")"
tp_eq "reply: sma_slow" 113 "$(tp_jq .result.indicators.sma_slow "$r")"
tp_eq "reply: rsi" 68.5441 "$(tp_jq .result.indicators.rsi "$r")"
doc=$(tp_doc "users/alice/signals/$id")
tp_ne "the signal is in the store" "" "$doc"
tp_eq "store: action" BUY "$(tp_field action "users/alice/signals/$id")"
tp_eq "store: symbol" AAPL "$(tp_field symbol "users/alice/signals/$id")"
tp_eq "store: confidence" 0.6146 "$(tp_text confidence "users/alice/signals/$id")"
tp_eq "store: price, the exact text of the last close" 121.00 "$(tp_text price "users/alice/signals/$id")"
tp_eq "store: price is a number" number "$(tp_jq '.price | type' "$doc")"
tp_eq "store: indicators" '{"rsi":68.5441,"sma_fast":118,"sma_slow":113}' \
    "$(tp_jq '.indicators | to_entries | sort_by(.key) | from_entries | tojson' "$doc")"
tp_eq "store: strategy" sma_crossover_rsi "$(tp_field strategy "users/alice/signals/$id")"
tp_eq "store: parameters" '{"bars":40,"fast":10,"rsi_period":14,"slow":30}' \
    "$(tp_jq '.parameters | to_entries | sort_by(.key) | from_entries | tojson' "$doc")"
tp_match "store: the reasoning is one sentence" '^SMA\(10\) 118\.00 is above SMA\(30\) 113\.00 and RSI\(14\) 68\.5 is below 70, so the uptrend gives a BUY\.$' \
    "$(tp_field reasoning "users/alice/signals/$id")"
tp_match "store: timestamp, the store's canonical form" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' \
    "$(tp_field timestamp "users/alice/signals/$id")"
tp_eq "the reply is the document with its id and job id" \
    "$(tp_jq 'del(.timestamp) | tojson' "$doc")" \
    "$(tp_jq '.result | del(.id, .timestamp, .shadow_trades) | tojson' "$r")"
tp_eq "store: its job id" "$(tp_jq .result.job_id "$r")" "$(tp_field job_id "users/alice/signals/$id")"
tp_file_has "the tenant log has the decision" 'AAPL BUY \(confidence 0\.6146\)' "$T/log/tenants/alice.log"

tp_log "HOLD: alice on MSFT (flat)"
TP_CLI_TIMEOUT=30 tp_cli signal alice MSFT
tp_rc "signal alice MSFT exits 0" 0
tp_match "the table shows HOLD" 'action:[[:space:]]+HOLD' "$OUT"
tp_match "... the confidence" 'confidence:[[:space:]]+1\.0000' "$OUT"
tp_match "... the price and its bar" 'price:[[:space:]]+100\.00 \(last daily close, 20[0-9-]+T' "$OUT"
hold=$(printf '%s\n' "$OUT" | awk '$1 == "signal:" { print $2 }')
tp_eq "store: HOLD" HOLD "$(tp_field action "users/alice/signals/$hold")"
tp_eq "store: HOLD's confidence" 1.0000 "$(tp_text confidence "users/alice/signals/$hold")"
tp_eq "store: HOLD's rsi" 50.0000 "$(tp_text indicators.rsi "users/alice/signals/$hold")"

tp_log "signals: newest first, -n"
tp_jcli signals alice
tp_ok "signals alice"
tp_eq "two signals, newest first" "$hold $id" "$(tp_jq '[.result.signals[].id] | join(" ")' "$OUT")"
tp_eq "each listed with its fields" "HOLD BUY" "$(tp_jq '[.result.signals[].action] | join(" ")' "$OUT")"
tp_jcli signals alice -n 1
tp_eq "-n 1: the newest only" "$hold" "$(tp_jq '[.result.signals[].id] | join(" ")' "$OUT")"
tp_cli signals alice
tp_match "the table: a header and two lines" 'TIMESTAMP +SYMBOL +ACTION +CONFIDENCE +PRICE +ID' "$OUT"
tp_match "the table counts them" '^2 signals$' "$(printf '%s\n' "$OUT" | tail -n 1)"
tp_cli signals alice -n 101
tp_rc "-n 101 is a usage error" 2
tp_jcli signals bob
tp_eq "bob has none" 0 "$(tp_jq '.result.signals | length' "$OUT")"
tp_jcli signals nobody_here
tp_rc_code "signals of an unknown tenant: not_found" 1 not_found

tp_log "trading disabled: a signal still, kept under dave's own path"
TP_CLI_TIMEOUT=30 tp_jcli signal dave AAPL
tp_ok "signal dave AAPL succeeds"
did=$(tp_jq .result.id "$OUT")
tp_eq "dave's signal is under users/dave" BUY "$(tp_field action "users/dave/signals/$did")"
tp_eq "and not under alice's" "" "$(tp_doc "users/alice/signals/$did")"

tp_log "refusals"
cat >"$T/bad.req" <<'EOF2'
{"op":"signal","uid":"alice","symbol":"aapl"}
{"op":"signal","uid":"alice","symbol":"A B"}
{"op":"signal","uid":"alice","symbol":"ABCDEFGHIJKLMNOPQ"}
{"op":"signal","uid":"alice","symbol":"../X"}
{"op":"signal","uid":"alice","symbol":7}
{"op":"signal","uid":"alice"}
{"op":"signal","uid":"a/b","symbol":"AAPL"}
{"op":"signal","uid":"alice","symbol":"AAPL","bogus":1}
{"op":"signals.list","uid":"alice","limit":0}
{"op":"signals.list","uid":"alice","limit":101}
EOF2
tp_api "$T/bad.req" "$T/bad.rep"
tp_eq "10 bad requests: invalid_argument each" \
    "invalid_argument invalid_argument invalid_argument invalid_argument invalid_argument invalid_argument invalid_argument invalid_argument invalid_argument invalid_argument" \
    "$(jq -r '.error.code' "$T/bad.rep" | tr '\n' ' ' | sed 's/ $//')"
tp_jcli signal alice 'aapl'
tp_rc "the CLI refuses a bad symbol itself" 2
TP_CLI_TIMEOUT=30 tp_jcli signal erin AAPL
tp_rc_code "a tenant without keys: failed_precondition" 1 failed_precondition
tp_match "... saying so" 'has no Alpaca keys' "$(tp_jq .error.message "$OUT")"
TP_CLI_TIMEOUT=30 tp_jcli signal nobody_here AAPL
tp_rc_code "an unknown tenant: not_found" 1 not_found
TP_CLI_TIMEOUT=30 tp_jcli signal alice SHRT
tp_rc_code "too few daily bars: failed_precondition" 1 failed_precondition
tp_match "... naming the count" '10 daily bars of SHRT, and the strategy needs at least 31' "$(tp_jq .error.message "$OUT")"
TP_CLI_TIMEOUT=30 tp_jcli signal alice ZZNONE
tp_rc_code "a symbol the broker does not know: failed_precondition" 1 failed_precondition
tp_jcli signals erin
tp_eq "no signal was written for erin" 0 "$(tp_jq '.result.signals | length' "$OUT")"
tp_jcli signals alice
tp_eq "nor another one for alice" 2 "$(tp_jq '.result.signals | length' "$OUT")"
tp_cli tenant show bob
tp_rc "tenant show bob still works" 0

tp_log "without wait: the job, then its result"
printf '{"op":"signal","uid":"bob","symbol":"AAPL","wait":false}\n' >"$T/nw.req"
tp_api "$T/nw.req" "$T/nw.rep"
jid=$(jq -r .result.job_id "$T/nw.rep")
tp_match "wait:false answers with the job" '^j[0-9a-f]{16}$' "$jid"
i=0
while tp_jcli job "$jid" && [ "$(tp_jq .result.state "$OUT")" != done ] &&
    [ "$(tp_jq .result.state "$OUT")" != failed ] && [ "$i" -lt 150 ]; do
	sleep 0.2
	i=$((i + 1))
done
tp_eq "the job is done" done "$(tp_jq .result.state "$OUT")"
tp_eq "the job is a signal job" signal "$(tp_jq .result.kind "$OUT")"
tp_eq "its result is the signal" BUY "$(tp_jq .result.result.action "$OUT")"
bid=$(tp_jq .result.result.id "$OUT")
tp_eq "written under bob" AAPL "$(tp_field symbol "users/bob/signals/$bid")"

tp_stop
tp_eq "the daemon stops cleanly" 0 "$TPD_RC"
tp_finish
