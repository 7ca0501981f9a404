#!/usr/bin/env bash
# tests/integration/lifecycle.sh: shadow trades on alpaca-sim with prices set by the test: a pulse closes a trade at its take-profit or stop-loss level with the exact realized P&L, keeps one below both, and tradepulse trades lists them.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init lifecycle

tp_need_workers || tp_finish
tp_sim_start || tp_finish
tp_worker_config workers.batch_size=8 workers.max_workers=2 workers.job_timeout=10s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }

printf '%s\n' alice >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

# The trades as lifecycle_open makes them from a signal with the default
# rules (10 % of equity, take-profit 10 %, stop-loss 5 %): qty rounded
# down to 6 places, the exit levels fixed at entry. Expected values
# computed with Python's decimal (ROUND_HALF_UP to the cent).
#  a1  AAPL long,  entry 187.25: take-profit 205.975, stop-loss 177.8875
#  m1  MSFT short, entry 399.99: take-profit 359.991, stop-loss 419.9895
#  n1  NVDA long,  entry 150.25: stop-loss 142.7375, reached exactly
#  d1  AMD short,  entry 410.12: take-profit 369.108, reached exactly
#  t1  TSLA long,  entry 200: take-profit 220, stop-loss 190: stays OPEN
#  x1  AAPL long without levels (a trade the dashboard opened): stays OPEN
cat >"$T/trades" <<'EOF'
set users/alice/shadowTradeHistory/a1 {"symbol":"AAPL","side":"buy","qty":53.404539,"entry_price":187.25,"status":"OPEN","created_at":"2026-01-01T00:00:01.000000Z","signal_id":"sig-a1","take_profit_price":205.975,"stop_loss_price":177.8875}
set users/alice/shadowTradeHistory/m1 {"symbol":"MSFT","side":"sell","qty":12.500437,"entry_price":399.99,"status":"OPEN","created_at":"2026-01-01T00:00:02.000000Z","signal_id":"sig-m1","take_profit_price":359.991,"stop_loss_price":419.9895}
set users/alice/shadowTradeHistory/n1 {"symbol":"NVDA","side":"buy","qty":10,"entry_price":150.25,"status":"OPEN","created_at":"2026-01-01T00:00:03.000000Z","signal_id":"sig-n1","take_profit_price":165.275,"stop_loss_price":142.7375}
set users/alice/shadowTradeHistory/d1 {"symbol":"AMD","side":"sell","qty":3.5,"entry_price":410.12,"status":"OPEN","created_at":"2026-01-01T00:00:04.000000Z","signal_id":"sig-d1","take_profit_price":369.108,"stop_loss_price":430.626}
set users/alice/shadowTradeHistory/t1 {"symbol":"TSLA","side":"buy","qty":3,"entry_price":200,"status":"OPEN","created_at":"2026-01-01T00:00:05.000000Z","signal_id":"sig-t1","take_profit_price":220,"stop_loss_price":190}
set users/alice/shadowTradeHistory/x1 {"symbol":"AAPL","side":"long","qty":"1","entry_price":"100","status":"OPEN","created_at":"2026-01-01T00:00:06.000000Z"}
EOF
tp_store load "$T/trades" || tp_fail "shadow trades written with storetool"

j() { tp_field "$1" "$2"; }
P=users/alice/shadowTradeHistory

tp_log "prices inside every trade's levels: a pulse marks them all, closes none"
tp_sim POST /_sim/prices '{"AAPL":"190","MSFT":"400","NVDA":"150","AMD":"400","TSLA":"205"}' >/dev/null ||
    tp_fail "sim prices"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait" 0
for id in a1 m1 n1 d1 t1 x1; do
	tp_eq "$id is OPEN" OPEN "$(j status $P/$id)"
done
tp_eq "a1 marked: (190 - 187.25) x 53.404539" "146.86" "$(j unrealized_pnl $P/a1)"
tp_eq "a1 has no exit_price" "" "$(j exit_price $P/a1)"

tp_log "prices over take-profit and stop-loss: the next pulse closes those trades"
tp_sim POST /_sim/prices '{"AAPL":"206.00","MSFT":"420","NVDA":"142.7375","AMD":"369.108","TSLA":"219.99"}' >/dev/null ||
    tp_fail "sim prices moved"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait" 0
tp_eq "a1 (long over take-profit) is CLOSED" CLOSED "$(j status $P/a1)"
tp_eq "a1 exit_price: the mark's price, exactly" "206.00" "$(tp_text exit_price $P/a1)"
tp_eq "a1 realized_pnl: (206.00 - 187.25) x 53.404539 = 1001.3351..." "1001.34" "$(tp_text realized_pnl $P/a1)"
tp_eq "a1 realized_pnl is a number" number "$(tp_jq '.realized_pnl | type' "$(tp_doc $P/a1)")"
tp_eq "a1 close_reason" take_profit "$(j close_reason $P/a1)"
tp_match "a1 closed_at is a timestamp" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$(j closed_at $P/a1)"
tp_eq "a1 keeps its last mark: current_price" "206.00" "$(tp_text current_price $P/a1)"
tp_eq "a1 keeps its last mark: unrealized_pnl" "1001.34" "$(tp_text unrealized_pnl $P/a1)"
tp_eq "a1 keeps its signal_id" sig-a1 "$(j signal_id $P/a1)"
tp_eq "a1 keeps its entry" "187.25" "$(tp_text entry_price $P/a1)"
tp_eq "m1 (short over stop-loss) is CLOSED" CLOSED "$(j status $P/m1)"
tp_eq "m1 realized_pnl: (399.99 - 420) x 12.500437" "-250.13" "$(tp_text realized_pnl $P/m1)"
tp_eq "m1 exit_price, as the broker sent it" "420.00" "$(tp_text exit_price $P/m1)"
tp_eq "m1 close_reason" stop_loss "$(j close_reason $P/m1)"
tp_eq "n1 (long exactly at stop-loss) is CLOSED" CLOSED "$(j status $P/n1)"
tp_eq "n1 realized_pnl: -75.125 rounds half away to -75.13" "-75.13" "$(tp_text realized_pnl $P/n1)"
tp_eq "n1 exit_price" "142.7375" "$(tp_text exit_price $P/n1)"
tp_eq "n1 close_reason" stop_loss "$(j close_reason $P/n1)"
tp_eq "d1 (short exactly at take-profit) is CLOSED" CLOSED "$(j status $P/d1)"
tp_eq "d1 realized_pnl: 41.012 x 3.5 = 143.542" "143.54" "$(tp_text realized_pnl $P/d1)"
tp_eq "d1 close_reason" take_profit "$(j close_reason $P/d1)"
tp_eq "t1 (just below take-profit) stays OPEN" OPEN "$(j status $P/t1)"
tp_eq "t1 is marked: (219.99 - 200) x 3" "59.97" "$(tp_text unrealized_pnl $P/t1)"
tp_eq "t1 has no realized_pnl" "" "$(j realized_pnl $P/t1)"
tp_eq "x1 (no levels) stays OPEN far above its entry" OPEN "$(j status $P/x1)"
tp_eq "x1 is marked" "106.00" "$(tp_text unrealized_pnl $P/x1)"

tp_log "a closed trade is never marked again, nor deleted"
tp_sim POST /_sim/prices '{"AAPL":"150","MSFT":"300","NVDA":"100","AMD":"500","TSLA":"210"}' >/dev/null
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait" 0
tp_eq "a1 still CLOSED" CLOSED "$(j status $P/a1)"
tp_eq "a1's current_price is still its exit" "206.00" "$(tp_text current_price $P/a1)"
tp_eq "a1's realized_pnl unchanged" "1001.34" "$(tp_text realized_pnl $P/a1)"
tp_eq "m1's realized_pnl unchanged" "-250.13" "$(tp_text realized_pnl $P/m1)"
tp_eq "x1 marked at the new price" "50.00" "$(tp_text unrealized_pnl $P/x1)"

TP_CLI_TIMEOUT=60 tp_jcli sync alice --wait
tp_rc "sync alice --wait" 0
tp_eq "a sync closes nothing more" 0 "$(tp_jq .result.result.trades_closed "$OUT")"
echo 'set users/alice/shadowTradeHistory/t2 {"symbol":"TSLA","side":"sell","qty":2,"entry_price":200,"status":"OPEN","created_at":"2026-01-01T00:00:07.000000Z","take_profit_price":180,"stop_loss_price":210}' >"$T/more"
tp_store load "$T/more" || tp_fail "t2 written with storetool"
TP_CLI_TIMEOUT=60 tp_jcli sync alice --wait
tp_rc "sync alice --wait" 0
tp_eq "a sync closes t2 (short at 210.00, its stop-loss) and says so" 1 "$(tp_jq .result.result.trades_closed "$OUT")"
tp_eq "t2 realized_pnl: (200 - 210.00) x 2" "-20.00" "$(tp_text realized_pnl $P/t2)"
tp_eq "t2 close_reason" stop_loss "$(j close_reason $P/t2)"

tp_log "tradepulse trades"
tp_cli trades alice
tp_rc "trades alice" 0
tp_match "the header" '^ID +SYMBOL +SIDE +QTY +ENTRY +PRICE +P&L +STATUS +CREATED' "$OUT"
tp_match "newest first: t2 on the first row" '^t2 ' "$(sed -n 2p <<<"$OUT")"
tp_match "a1 last, closed: exit price and realized P&L" '^a1 +AAPL +buy +53.404539 +187.25 +206.00 +1001.34 +CLOSED +2026-01-01T00:00:01.000000Z$' \
    "$(sed -n 8p <<<"$OUT")"
tp_match "t1 open: the last mark" '^t1 +TSLA +buy +3 +200 +210.00 +30.00 +OPEN ' "$(grep '^t1 ' <<<"$OUT")"
tp_eq "the count" "7 trades" "$(tail -n 1 <<<"$OUT")"
tp_cli trades alice --open
tp_rc "trades alice --open" 0
tp_eq "only t1 and x1 are open, newest first" "x1 t1" "$(awk 'NR > 1 && $1 != "2" { printf "%s%s", (n++ ? " " : ""), $1 }' <<<"$(head -n -1 <<<"$OUT")")"
tp_eq "the count says open" "2 open trades" "$(tail -n 1 <<<"$OUT")"
tp_jcli trades alice -n 2
tp_rc "trades alice -n 2 --json" 0
tp_eq "--json: two trades, newest first" '["t2","x1"]' "$(tp_jq '[.result.trades[].id] | tojson' "$OUT")"
tp_jcli trades alice
tp_eq "--json: a1's fields" '{"status":"CLOSED","exit_price":206,"realized_pnl":1001.34,"close_reason":"take_profit","signal_id":"sig-a1"}' \
    "$(tp_jq '.result.trades[] | select(.id == "a1") | {status, exit_price, realized_pnl, close_reason, signal_id} | tojson' "$OUT")"
# jq 1.6 reads numbers as doubles: the exact texts are checked in the reply
tp_match "--json: a1's numbers keep their text" '"id":"a1",[^}]*"exit_price":206\.00,"realized_pnl":1001\.34,' "$OUT"
tp_cli trades nobody
tp_rc "trades of an unknown tenant" 1
tp_match "not_found" 'not_found' "$ERR"
tp_cli trades alice -n 101
tp_rc "-n 101 is a usage error" 2
tp_cli trades alice -n 0
tp_rc "-n 0 is a usage error" 2
tp_cli trades 'bad/uid'
tp_rc "a bad uid is a usage error" 2
printf '{"op":"trades.list","uid":"alice","limit":101}\n' >"$T/req"
tp_api "$T/req" "$T/rep"
tp_eq "the API refuses limit 101" invalid_argument "$(tp_jq .error.code "$(cat "$T/rep")")"

tp_finish
