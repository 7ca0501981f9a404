#!/usr/bin/env bash
# tests/integration/userapi_fs.sh: userapi.sh (the users' HTTP API, its event stream and files) with the store on the Firestore emulator; skipped, saying why, without one.
# TP_STORE_BACKEND=firestore makes lib.sh write [store] backend = firestore
# with the emulator at TP_FS_EMULATOR_HOST and a project of this run's own.
TP_STORE_BACKEND=firestore
export TP_STORE_BACKEND
exec "${BASH:-bash}" "$(dirname "${BASH_SOURCE[0]}")/userapi.sh" "$@"
