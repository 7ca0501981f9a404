#!/usr/bin/env bash
# tests/integration/signal_trade_fs.sh: signal_trade.sh (signals opening, and the pulse and reversals closing, shadow trades) with the store on the Firestore emulator; skipped, saying why, without one.
TP_STORE_BACKEND=firestore
export TP_STORE_BACKEND
exec "${BASH:-bash}" "$(dirname "${BASH_SOURCE[0]}")/signal_trade.sh" "$@"
