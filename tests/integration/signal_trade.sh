#!/usr/bin/env bash
# tests/integration/signal_trade.sh: a signal's whole effect on shadow trades, on alpaca-sim with closes and prices the test sets: a confident BUY opens a trade sized from equity, the next pulse closes it at take-profit (and another at stop-loss) with the exact realized P&L, and an opposite SELL closes an open long at its price and opens a short.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init signal_trade

tp_need_workers || tp_finish
tp_sim_start || tp_finish
tp_worker_config workers.max_workers=2 workers.job_timeout=10s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }

printf 'alice\n' >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
P=users/alice/shadowTradeHistory

# UP: 100, then +2, -1, ... (40 closes, the last 121.00): BUY, confidence
# 0.6146 (tests/unit/test_strategy.c); DOWN, its mirror (the last 79.00):
# SELL, confidence 0.6146. [signals] defaults: min_confidence 0.6,
# position_fraction 0.05, take_profit 10 %, stop_loss 5 %.
up=100 down=100 ups='"100.00"' downs='"100.00"'
for i in $(seq 1 39); do
	if [ $((i % 2)) = 1 ]; then up=$((up + 2)); down=$((down - 2)); else up=$((up - 1)); down=$((down + 1)); fi
	ups="$ups,\"$up.00\""
	downs="$downs,\"$down.00\""
done
for s in AAPL MSFT NVDA; do
	tp_sim POST /_sim/bars "{\"symbol\":\"$s\",\"closes\":[$ups]}" >/dev/null || tp_fail "sim: $s's closes"
done
tp_sim POST /_sim/prices '{"AAPL":"121","MSFT":"121","NVDA":"121"}' >/dev/null || tp_fail "sim prices"

# a sync writes the snapshot whose equity sizes the trades
TP_CLI_TIMEOUT=30 tp_cli sync alice --wait
tp_rc "sync alice (the snapshot)" 0
equity=$(tp_text equity users/alice/data/snapshot)
tp_match "alice's equity is a decimal" '^[0-9]+(\.[0-9]+)?$' "$equity"
# qty = equity x 0.05 / 121.00, rounded down to 6 decimals
qty=$(awk -v e="$equity" 'BEGIN { q = int(e * 0.05 / 121 * 1000000) / 1000000; printf "%.6f", q }')
# cents of (price - 121) x qty, half away from zero, from the exact qty
cents() { awk -v p="$1" -v q="$qty" 'BEGIN { split(q, a, "."); m = a[1] * 1000000 + a[2]
	v = (p * 100 - 12100) * m; s = v < 0 ? -1 : 1; v = v < 0 ? -v : v
	c = int((v + 500000) / 1000000); c *= s; printf "%s%d.%02d", (c < 0 ? "-" : ""), (c < 0 ? -c : c) / 100, (c < 0 ? -c : c) % 100 }'; }

# signal SYMBOL: runs it; OUT the reply
signal() {
	TP_CLI_TIMEOUT=30 tp_jcli signal alice "$1"
	tp_ok "signal alice $1"
}

tp_log "a confident BUY opens a trade sized from equity"
signal AAPL
tp_eq "AAPL: a BUY" BUY "$(tp_jq .result.action "$OUT")"
a=$(tp_jq '.result.shadow_trades.opened // empty' "$OUT")
tp_match "the reply names the trade it opened" '^[A-Za-z0-9]{20}$' "$a"
sig=$(tp_jq .result.id "$OUT")
tp_eq "the trade is OPEN" OPEN "$(tp_field status "$P/$a")"
tp_eq "side buy" buy "$(tp_field side "$P/$a")"
tp_eq "entry_price: the signal's price, exactly" 121.00 "$(tp_text entry_price "$P/$a")"
tp_eq "qty: equity $equity x 0.05 / 121.00, rounded down to 6 decimals" "$qty" "$(tp_text qty "$P/$a")"
tp_eq "take_profit_price: entry + 10 %" 133.1 "$(tp_field take_profit_price "$P/$a")"
tp_eq "stop_loss_price: entry - 5 %" 114.95 "$(tp_field stop_loss_price "$P/$a")"
tp_eq "signal_id links it to its signal" "$sig" "$(tp_field signal_id "$P/$a")"
tp_eq "the signal itself is written" BUY "$(tp_field action "users/alice/signals/$sig")"
tp_eq "and has no trade in it (signals are immutable advice)" "" "$(tp_field shadow_trades "users/alice/signals/$sig")"
signal MSFT
m=$(tp_jq '.result.shadow_trades.opened // empty' "$OUT")
tp_match "MSFT: a trade opened" '^[A-Za-z0-9]{20}$' "$m"

tp_log "prices move: the pulse closes AAPL at take-profit, MSFT at stop-loss"
tp_sim POST /_sim/prices '{"AAPL":"134.00","MSFT":"114.00","NVDA":"121"}' >/dev/null || tp_fail "sim prices moved"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait" 0
tp_eq "AAPL's trade is CLOSED" CLOSED "$(tp_field status "$P/$a")"
tp_eq "at take-profit" take_profit "$(tp_field close_reason "$P/$a")"
tp_eq "exit_price: the mark, exactly" 134.00 "$(tp_text exit_price "$P/$a")"
tp_eq "realized_pnl: (134.00 - 121.00) x $qty, to the cent" "$(cents 134.00)" "$(tp_text realized_pnl "$P/$a")"
tp_match "closed_at is a timestamp" '^20[0-9-]+T[0-9:.]+Z$' "$(tp_field closed_at "$P/$a")"
tp_eq "MSFT's trade is CLOSED" CLOSED "$(tp_field status "$P/$m")"
tp_eq "at stop-loss" stop_loss "$(tp_field close_reason "$P/$m")"
tp_eq "realized_pnl: (114.00 - 121.00) x $qty, to the cent" "$(cents 114.00)" "$(tp_text realized_pnl "$P/$m")"

tp_log "an opposite signal reverses: SELL closes the open long and opens a short"
signal NVDA
n=$(tp_jq '.result.shadow_trades.opened // empty' "$OUT")
tp_match "NVDA: a long opened" '^[A-Za-z0-9]{20}$' "$n"
tp_sim POST /_sim/bars "{\"symbol\":\"NVDA\",\"closes\":[$downs]}" >/dev/null || tp_fail "sim: NVDA goes down"
signal NVDA
tp_eq "NVDA: now a SELL" SELL "$(tp_jq .result.action "$OUT")"
tp_eq "the reply says one trade closed" 1 "$(tp_jq .result.shadow_trades.closed "$OUT")"
s=$(tp_jq '.result.shadow_trades.opened // empty' "$OUT")
tp_eq "the long is CLOSED" CLOSED "$(tp_field status "$P/$n")"
tp_eq "by reversal" reversal "$(tp_field close_reason "$P/$n")"
tp_eq "at the SELL's price, exactly" 79.00 "$(tp_text exit_price "$P/$n")"
tp_eq "realized_pnl: (79.00 - 121.00) x $qty, to the cent" "$(cents 79.00)" "$(tp_text realized_pnl "$P/$n")"
tp_match "the SELL opened a short" '^[A-Za-z0-9]{20}$' "$s"
tp_eq "side sell" sell "$(tp_field side "$P/$s")"
tp_eq "entry 79.00" 79.00 "$(tp_text entry_price "$P/$s")"

tp_log "a disabled tenant gets signals, and no trade"
tp_cli trading disable alice --reason "test"
tp_rc "trading disable alice" 0
signal AAPL
tp_eq "no trade opened" null "$(tp_jq .result.shadow_trades.opened "$OUT")"
tp_eq "because trading is disabled" "trading is disabled" "$(tp_jq .result.shadow_trades.reason "$OUT")"

tp_finish
