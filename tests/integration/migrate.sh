#!/usr/bin/env bash
# tests/integration/migrate.sh: tradepulse migrate-legacy: the seed's single-user collections copied into two tenants exactly, a second run a no-op, a dry run writes nothing, nothing existing is overwritten, the legacy documents untouched.
#
# The legacy collections (alpacaAccounts/snapshot, tradingSignals,
# shadowTradeHistory) are global: one database held one user's data. The
# two users here are two tenants migrated from them: alice, new, gets all
# of it; bob already has a snapshot of his own (a sync ran) and a signal
# whose id collides with a legacy one, which must both stay his. Runs on
# SQLite, and on the Firestore emulator through migrate_fs.sh.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init migrate
[ -x "$TPSTORETOOL" ] || { tp_fail "tests/storetool is built"; tp_finish; }

# Long enough for a slow emulator; each run reads a handful of pages.
TP_CLI_TIMEOUT=60

# The legacy data, as the single-user version wrote it. Numbers that every
# backend keeps as they are, so the copies can be compared with the text.
snap='{"equity":"100250.75","cash":"50000","buying_power":"200501.5","portfolio_value":"100250.75","last_equity":"99000","status":"ACTIVE","currency":"USD","synced_at":"2025-03-01T14:30:00.000000Z"}'
declare -A sig=(
	[sig1]='{"symbol":"AAPL","action":"BUY","confidence":0.85,"reasoning":"fast SMA crossed above slow","price":187.5,"indicators":{"rsi":48.25,"sma_fast":186.1,"sma_slow":185.9},"strategy":"sma_rsi","timestamp":"2025-03-01T14:00:00.000000Z"}'
	[sig2]='{"symbol":"MSFT","action":"HOLD","confidence":0.4,"reasoning":"no crossover","price":410.25,"indicators":{"rsi":55.5},"strategy":"sma_rsi","timestamp":"2025-03-01T14:05:00.000000Z"}'
	[sig3]='{"symbol":"TSLA","action":"SELL","confidence":0.9,"reasoning":"fast SMA crossed below slow","price":201,"indicators":{"rsi":71,"tags":["overbought",null,true]},"strategy":"sma_rsi","timestamp":"2025-03-01T14:10:00.000000Z"}'
	[Xq7ZkP2mN9bV4cR1tY8a]='{"symbol":"NVDA","action":"BUY","confidence":0.75,"reasoning":"legacy auto id","price":880.5,"indicators":{},"strategy":"sma_rsi","timestamp":"2025-03-01T14:15:00.000000Z"}'
)
declare -A trade=(
	[t1]='{"symbol":"AAPL","side":"BUY","qty":10,"entry_price":187.5,"current_price":190.25,"unrealized_pnl":27.5,"pnl_percent":1.4667,"status":"OPEN","created_at":"2025-03-01T14:00:01.000000Z","signal_id":"sig1"}'
	[t2]='{"symbol":"TSLA","side":"SELL","qty":5,"entry_price":201,"exit_price":190,"realized_pnl":55,"status":"CLOSED","created_at":"2025-03-01T14:10:01.000000Z","closed_at":"2025-03-02T15:00:00.000000Z","signal_id":"sig3"}'
	[t3]='{"symbol":"NVDA","side":"BUY","qty":2,"entry_price":880.5,"status":"OPEN","created_at":"2025-03-01T14:15:01.000000Z","signal_id":"Xq7ZkP2mN9bV4cR1tY8a"}'
	[t4]='{"symbol":"SPY","side":"BUY","qty":1,"entry_price":510.1,"status":"CLOSED","exit_price":505.1,"realized_pnl":-5,"created_at":"2025-02-01T10:00:00.000000Z","closed_at":"2025-02-02T10:00:00.000000Z"}'
)
# What bob already has: his own newer snapshot, and his own "sig2".
bob_snap='{"equity":"5000","cash":"5000","status":"ACTIVE","currency":"USD","synced_at":"2025-06-01T00:00:00.000000Z"}'
bob_sig2='{"symbol":"AMD","action":"BUY","confidence":0.7,"reasoning":"bob own signal","price":150,"indicators":{},"strategy":"sma_rsi","timestamp":"2025-06-01T00:00:00.000000Z"}'

sig_ids=$(printf '%s\n' "${!sig[@]}" | sort)
trade_ids=$(printf '%s\n' "${!trade[@]}" | sort)

{
	echo "set alpacaAccounts/snapshot $snap"
	for id in "${!sig[@]}"; do echo "set tradingSignals/$id ${sig[$id]}"; done
	for id in "${!trade[@]}"; do echo "set shadowTradeHistory/$id ${trade[$id]}"; done
} >"$T/legacy.load"

# canon JSON: the same document whatever the member order.
canon() { jq -cS . 2>/dev/null <<<"$1"; }

# The update time of every legacy and tenant document, one "PATH TIME" a
# line, to show what a run did not write.
times() {
	local id u
	echo "alpacaAccounts/snapshot $(tp_store updated alpacaAccounts/snapshot)"
	for id in $sig_ids; do echo "tradingSignals/$id $(tp_store updated "tradingSignals/$id")"; done
	for id in $trade_ids; do echo "shadowTradeHistory/$id $(tp_store updated "shadowTradeHistory/$id")"; done
	for u in "$@"; do
		echo "users/$u/alpacaAccounts/snapshot $(tp_store updated "users/$u/alpacaAccounts/snapshot")"
		echo "users/$u/data/snapshot $(tp_store updated "users/$u/data/snapshot")"
		for id in $(tp_store ids "users/$u/signals"); do
			echo "users/$u/signals/$id $(tp_store updated "users/$u/signals/$id")"
		done
		for id in $(tp_store ids "users/$u/shadowTradeHistory"); do
			echo "users/$u/shadowTradeHistory/$id $(tp_store updated "users/$u/shadowTradeHistory/$id")"
		done
	done
}

# counts NAME JSON KIND "LEGACY COPIED EXISTING DIFFERING FAILED"
counts() {
	local got
	got=$(tp_jq ".result.kinds.$3 | \"\(.legacy) \(.copied) \(.skipped_existing) \(.differing) \(.failed)\"" "$2")
	tp_eq "$1: $3 legacy/copied/existing/differing/failed" "$4" "$got"
}

# same_docs NAME TENANT: every legacy document has its copy under TENANT,
# equal to the legacy document as the store reads it and to the text
# written, and the tenant's collections hold exactly the legacy ids.
same_docs() {
	local name=$1 u=$2 id
	tp_eq "$name: account snapshot copied exactly" "$(canon "$snap")" "$(canon "$(tp_doc "users/$u/alpacaAccounts/snapshot")")"
	tp_eq "$name: account snapshot equals the legacy one as stored" "$(canon "$(tp_doc alpacaAccounts/snapshot)")" "$(canon "$(tp_doc "users/$u/alpacaAccounts/snapshot")")"
	for id in $sig_ids; do
		tp_eq "$name: signal $id copied exactly" "$(canon "${sig[$id]}")" "$(canon "$(tp_doc "users/$u/signals/$id")")"
		tp_eq "$name: signal $id equals the legacy one as stored" "$(canon "$(tp_doc "tradingSignals/$id")")" "$(canon "$(tp_doc "users/$u/signals/$id")")"
	done
	for id in $trade_ids; do
		tp_eq "$name: trade $id copied exactly" "$(canon "${trade[$id]}")" "$(canon "$(tp_doc "users/$u/shadowTradeHistory/$id")")"
		tp_eq "$name: trade $id equals the legacy one as stored" "$(canon "$(tp_doc "shadowTradeHistory/$id")")" "$(canon "$(tp_doc "users/$u/shadowTradeHistory/$id")")"
	done
	tp_eq "$name: the tenant's trades are exactly the legacy ids" "$trade_ids" "$(tp_store ids "users/$u/shadowTradeHistory")"
}

# --- set-up ----------------------------------------------------------------------

tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }
tp_store load "$T/legacy.load"
tp_eq "legacy data loaded (signals)" "$sig_ids" "$(tp_store ids tradingSignals)"
tp_eq "legacy data loaded (trades)" "$trade_ids" "$(tp_store ids shadowTradeHistory)"
tp_cli tenant add alice
tp_rc "tenant add alice" 0
tp_cli tenant add bob
tp_rc "tenant add bob" 0
tp_store set users/bob/data/snapshot "$bob_snap"
tp_store set users/bob/signals/sig2 "$bob_sig2"
legacy_t0=$(times)

# --- usage and refusals ------------------------------------------------------------

tp_log "usage and refusals"
tp_cli migrate-legacy
tp_rc "no --uid is a usage error" 2
tp_has "no --uid says so" "--uid UID is required" "$ERR"
tp_cli migrate-legacy --uid 'a/../b'
tp_rc "a bad uid is refused before sending" 2
tp_cli migrate-legacy --uid alice extra
tp_rc "an extra argument is a usage error" 2
tp_cli migrate-legacy --help
tp_rc "--help exits 0" 0
tp_has "--help gives the synopsis" "migrate-legacy --uid UID [--dry-run]" "$OUT"
tp_has "--help says what goes where" "tradingSignals/ID         -> users/UID/signals/ID" "$OUT"
tp_cli help
tp_has "the command list names migrate-legacy" "migrate-legacy" "$OUT"
tp_jcli migrate-legacy --uid nobody
tp_rc_code "an unknown tenant is not_found" 1 not_found
tp_eq "nothing was made for an unknown tenant" "" "$(tp_store ids users/nobody/signals)"
printf '%s\n' '{"op":"migrate.legacy","uid":"../x"}' '{"op":"migrate.legacy","uid":"alice","dry_run":"yes"}' \
    '{"op":"migrate.legacy","uid":"alice","limit":5}' '{"op":"migrate.legacy"}' >"$T/bad.in"
tp_api "$T/bad.in" "$T/bad.out"
mapfile -t bad <"$T/bad.out"
for i in 0 1 2 3; do
	tp_eq "API refuses bad request $((i + 1)) with invalid_argument" invalid_argument "$(tp_jerr "${bad[$i]:-}")"
done

# --- alice: a dry run, then the real one, then again ----------------------------------

tp_log "alice: dry run"
tp_jcli migrate-legacy --uid alice --dry-run
tp_ok "dry run succeeds"
tp_eq "dry run says so" true "$(tp_jq .result.dry_run "$OUT")"
counts "dry run" "$OUT" account_snapshot "1 1 0 0 0"
counts "dry run" "$OUT" data_snapshot "1 1 0 0 0"
counts "dry run" "$OUT" signals "4 4 0 0 0"
counts "dry run" "$OUT" shadow_trades "4 4 0 0 0"
tp_eq "dry run: total to copy" 10 "$(tp_jq .result.copied "$OUT")"
tp_eq "dry run wrote no snapshot" "" "$(tp_doc users/alice/alpacaAccounts/snapshot)$(tp_doc users/alice/data/snapshot)"
tp_eq "dry run wrote no signal" "" "$(tp_store ids users/alice/signals)"
tp_eq "dry run wrote no trade" "" "$(tp_store ids users/alice/shadowTradeHistory)"
tp_cli migrate-legacy --uid alice --dry-run
tp_rc "dry run as a table exits 0" 0
tp_match "the dry-run table has its header" "FROM +TO +LEGACY +TO_COPY +EXISTING +DIFFERING +FAILED" "$OUT"
tp_has "the dry-run summary says nothing was written" "dry run: nothing written; 10 documents would be copied" "$OUT"
tp_eq "two dry runs wrote nothing" "" "$(tp_store ids users/alice/signals)$(tp_doc users/alice/data/snapshot)"

tp_log "alice: migrate"
tp_jcli migrate-legacy --uid alice
tp_ok "migration succeeds"
tp_eq "not a dry run" false "$(tp_jq .result.dry_run "$OUT")"
counts "first run" "$OUT" account_snapshot "1 1 0 0 0"
counts "first run" "$OUT" data_snapshot "1 1 0 0 0"
counts "first run" "$OUT" signals "4 4 0 0 0"
counts "first run" "$OUT" shadow_trades "4 4 0 0 0"
tp_eq "first run: from/to of signals" "tradingSignals/* users/alice/signals/*" "$(tp_jq '.result.kinds.signals | "\(.from) \(.to)"' "$OUT")"
tp_eq "first run: totals" "10 0 0 0" "$(tp_jq '.result | "\(.copied) \(.skipped_existing) \(.differing) \(.failed)"' "$OUT")"
same_docs "alice" alice
tp_eq "alice: data/snapshot copied exactly" "$(canon "$snap")" "$(canon "$(tp_doc users/alice/data/snapshot)")"
tp_eq "alice: signals are exactly the legacy ids" "$sig_ids" "$(tp_store ids users/alice/signals)"
tp_file_has "alice's tenant log has the migration" "legacy data migrated: 10 copied, 0 already there, 0 failed" "$T/log/tenants/alice.log"

after_first=$(times alice)
tp_log "alice: second run"
tp_jcli migrate-legacy --uid alice
tp_ok "second run succeeds"
counts "second run" "$OUT" account_snapshot "1 0 1 0 0"
counts "second run" "$OUT" data_snapshot "1 0 1 0 0"
counts "second run" "$OUT" signals "4 0 4 0 0"
counts "second run" "$OUT" shadow_trades "4 0 4 0 0"
tp_eq "second run copied nothing" 0 "$(tp_jq .result.copied "$OUT")"
tp_eq "second run wrote nothing (update times of every document)" "$after_first" "$(times alice)"
tp_cli migrate-legacy --uid alice
tp_rc "second run as a table exits 0" 0
tp_has "the table summary" "0 documents copied, 10 already there (0 with other data, kept), 0 failed" "$OUT"
tp_match "the table has a row per target" "shadowTradeHistory/\* +users/alice/shadowTradeHistory/\* +4 +0 +4 +0 +0" "$OUT"

# --- bob: his own data stay his ------------------------------------------------------

tp_log "bob: dry run and migrate, with data of his own"
bob_own=$(times bob)
tp_jcli migrate-legacy --uid bob --dry-run
tp_ok "bob's dry run succeeds"
counts "bob dry run" "$OUT" account_snapshot "1 1 0 0 0"
counts "bob dry run" "$OUT" data_snapshot "1 0 1 1 0"
counts "bob dry run" "$OUT" signals "4 3 1 1 0"
counts "bob dry run" "$OUT" shadow_trades "4 4 0 0 0"
tp_eq "bob's dry run wrote nothing" "$bob_own" "$(times bob)"
tp_eq "bob's dry run: his signals are still his one" sig2 "$(tp_store ids users/bob/signals)"

tp_jcli migrate-legacy --uid bob
tp_ok "bob's migration succeeds"
counts "bob" "$OUT" account_snapshot "1 1 0 0 0"
counts "bob" "$OUT" data_snapshot "1 0 1 1 0"
counts "bob" "$OUT" signals "4 3 1 1 0"
counts "bob" "$OUT" shadow_trades "4 4 0 0 0"
tp_eq "bob: his newer snapshot was not overwritten" "$(canon "$bob_snap")" "$(canon "$(tp_doc users/bob/data/snapshot)")"
tp_eq "bob: his own sig2 was not overwritten" "$(canon "$bob_sig2")" "$(canon "$(tp_doc users/bob/signals/sig2)")"
tp_eq "bob: his snapshot and sig2 were not written at all" \
    "$(grep -E '^users/bob/(data/snapshot|signals/sig2) ' <<<"$bob_own")" \
    "$(times bob | grep -E '^users/bob/(data/snapshot|signals/sig2) ')"
for id in $sig_ids; do
	[ "$id" = sig2 ] && continue
	tp_eq "bob: signal $id copied exactly" "$(canon "${sig[$id]}")" "$(canon "$(tp_doc "users/bob/signals/$id")")"
done
tp_eq "bob: account snapshot copied exactly" "$(canon "$snap")" "$(canon "$(tp_doc users/bob/alpacaAccounts/snapshot)")"
tp_eq "bob: trades are exactly the legacy ids" "$trade_ids" "$(tp_store ids users/bob/shadowTradeHistory)"
tp_eq "bob's run did not touch alice's documents" "$after_first" "$(times alice)"
tp_eq "alice's sig2 is the legacy one, not bob's" "$(canon "${sig[sig2]}")" "$(canon "$(tp_doc users/alice/signals/sig2)")"
tp_eq "bob's signals: the legacy ids (his own sig2 among them)" "$sig_ids" "$(tp_store ids users/bob/signals)"
bob_after=$(times bob)
tp_jcli migrate-legacy --uid bob
counts "bob again" "$OUT" signals "4 0 4 1 0"
tp_eq "bob again: copied nothing" 0 "$(tp_jq .result.copied "$OUT")"
tp_eq "bob again: wrote nothing" "$bob_after" "$(times bob)"

# --- newer data in the tenant, new legacy data -----------------------------------------------

tp_log "newer tenant data kept; only new legacy documents copied"
# The pulse marks alice's open trade after the migration: that is newer.
tp_store merge users/alice/shadowTradeHistory/t1 '{"current_price":199.5,"unrealized_pnl":120}'
marked=$(tp_doc users/alice/shadowTradeHistory/t1)
# The single-user app wrote one more signal before it was switched off.
sig[sig4]='{"symbol":"AMZN","action":"BUY","confidence":0.66,"reasoning":"late legacy signal","price":178.25,"indicators":{},"strategy":"sma_rsi","timestamp":"2025-03-03T09:00:00.000000Z"}'
tp_store set tradingSignals/sig4 "${sig[sig4]}"
sig_ids=$(printf '%s\n' "${!sig[@]}" | sort)
legacy_t1=$(grep -v '^users/' <<<"$(times)")
tp_jcli migrate-legacy --uid alice
tp_ok "third run succeeds"
counts "third run" "$OUT" signals "5 1 4 0 0"
counts "third run" "$OUT" shadow_trades "4 0 4 1 0"
tp_eq "third run: the marked trade was not overwritten" "$(canon "$marked")" "$(canon "$(tp_doc users/alice/shadowTradeHistory/t1)")"
tp_eq "third run: the new legacy signal was copied" "$(canon "${sig[sig4]}")" "$(canon "$(tp_doc users/alice/signals/sig4)")"
tp_eq "third run: alice's signals are the legacy ids" "$sig_ids" "$(tp_store ids users/alice/signals)"
tp_eq "bob did not get sig4 from alice's run" "" "$(tp_doc users/bob/signals/sig4)"

# --- the legacy documents ----------------------------------------------------------------

tp_log "legacy documents untouched"
tp_eq "no legacy document was written by any run (update times)" "$legacy_t0" "$(grep -v -e '^users/' -e '^tradingSignals/sig4 ' <<<"$(times)")"
tp_eq "nor the late one (update times)" "$legacy_t1" "$(grep -v '^users/' <<<"$(times)")"
tp_eq "legacy snapshot unchanged" "$(canon "$snap")" "$(canon "$(tp_doc alpacaAccounts/snapshot)")"
for id in $sig_ids; do
	tp_eq "legacy signal $id unchanged" "$(canon "${sig[$id]}")" "$(canon "$(tp_doc "tradingSignals/$id")")"
done
for id in $trade_ids; do
	tp_eq "legacy trade $id unchanged" "$(canon "${trade[$id]}")" "$(canon "$(tp_doc "shadowTradeHistory/$id")")"
done

# --- many documents: the run pages through them ----------------------------------------------

tp_log "paging: 150 more legacy trades, into carol"
for i in $(seq 0 149); do
	printf 'set shadowTradeHistory/many%03d {"symbol":"SPY","side":"BUY","qty":%d,"entry_price":500.25,"status":"OPEN","created_at":"2025-03-04T10:00:00.000000Z"}\n' "$i" "$((i + 1))"
done >"$T/many.load"
tp_store load "$T/many.load"
all_trades=$(tp_store ids shadowTradeHistory)
tp_eq "154 legacy trades" 154 "$(grep -c . <<<"$all_trades")"
tp_cli tenant add carol
tp_jcli migrate-legacy --uid carol
tp_ok "carol's migration succeeds"
counts "carol" "$OUT" shadow_trades "154 154 0 0 0"
counts "carol" "$OUT" signals "5 5 0 0 0"
tp_eq "carol: every legacy trade, each once" "$all_trades" "$(tp_store ids users/carol/shadowTradeHistory)"
tp_eq "carol: the last one copied exactly" '{"symbol":"SPY","side":"BUY","qty":150,"entry_price":500.25,"status":"OPEN","created_at":"2025-03-04T10:00:00.000000Z"}' "$(tp_doc users/carol/shadowTradeHistory/many149)"
tp_jcli migrate-legacy --uid carol
counts "carol again" "$OUT" shadow_trades "154 0 154 0 0"
tp_jcli migrate-legacy --uid alice --dry-run
counts "alice's dry run after the many" "$OUT" shadow_trades "154 150 4 1 0"
tp_eq "alice's dry run did not copy them" "$trade_ids" "$(tp_store ids users/alice/shadowTradeHistory)"

tp_stop
tp_eq "the daemon exits 0" 0 "$TPD_RC"
tp_finish
