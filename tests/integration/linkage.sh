#!/usr/bin/env bash
# tests/integration/linkage.sh: the sandboxed worker links only what it runs: no SQLite, no libevent.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init linkage

tp_need_workers || tp_finish

# The libraries the worker program names (readelf -d: its NEEDED entries).
if ! needed=$(readelf -d "$TPW" 2>"$T/readelf.err"); then
	tp_fail "readelf -d $TPW" "$(cat "$T/readelf.err")"
	tp_finish
fi
needed=$(printf '%s\n' "$needed" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
tp_log "tradepulse-worker needs: $(printf '%s' "$needed" | tr '\n' ' ')"

# The list was read at all: the worker surely needs the C library, its
# sandbox library and libcurl, so an empty or unparsed list fails here.
tp_match "the worker needs libc" '(^|[[:space:]])libc\.so' "$needed"
tp_match "the worker needs libseccomp" '(^|[[:space:]])libseccomp\.so' "$needed"
tp_match "the worker needs libcurl" '(^|[[:space:]])libcurl\.so' "$needed"

tp_nomatch "the worker does not link SQLite" 'libsqlite' "$needed"
tp_nomatch "the worker does not link libevent" 'libevent' "$needed"
tp_nomatch "the worker does not link inih" 'libinih' "$needed"

tp_finish
