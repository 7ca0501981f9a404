#!/usr/bin/env bash
# tests/integration/pulse_fs.sh: pulse.sh (the seed's three scenarios, snapshots, P&L, ops/last_pulse) with the store on the Firestore emulator; skipped, saying why, without one.
# TP_STORE_BACKEND=firestore makes lib.sh write [store] backend = firestore
# with the emulator at TP_FS_EMULATOR_HOST and a project of this run's own.
TP_STORE_BACKEND=firestore
export TP_STORE_BACKEND
exec "${BASH:-bash}" "$(dirname "${BASH_SOURCE[0]}")/pulse.sh" "$@"
