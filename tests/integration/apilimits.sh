#!/usr/bin/env bash
# tests/integration/apilimits.sh: the job API under abuse: a connection flood at a 1024-descriptor limit, ten clients that never read, a message of two million frames.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init apilimits

ABUSE=$TP_BUILDDIR/tests/apiabuse
SOCK=$T/run/api.sock
EP=ipc://$SOCK
NOREAD_SECONDS=${NOREAD_SECONDS:-30}
RSS_MAX_KB=$((256 * 1024))
STATUS_MAX_MS=1000
# A sanitizer build keeps freed memory in quarantine and runs several
# times slower: its figures are printed, not held to the release bounds.
SAN=0
tp_sanitized && SAN=1 && STATUS_MAX_MS=5000

tp_write_config "$TP_CONF" pulse.enabled=no
tp_keygen

# rss PID: VmRSS in kB ("" when the process is gone).
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
now_ms() { date +%s%3N; }

# status_timed: one `tradepulse status --json`; sets RC, OUT, MS.
status_timed() {
	local t0
	t0=$(now_ms)
	tp_jcli status
	MS=$(($(now_ms) - t0))
}

# --- 1. 5,000 connections with RLIMIT_NOFILE 1024 ---------------------------
tp_log "connection flood at RLIMIT_NOFILE 1024"
prlimit --nofile=1024:1024 "$TPD" -d -f "$TP_CONF" >>"$T/daemon.log" 2>&1 </dev/null &
TPD_PID=$!
TP_PIDS+=("$TPD_PID")
if ! tp_wait_ready; then
	tp_fail "tradepulsed starts under prlimit --nofile=1024"
	tp_finish
fi
tp_eq "the daemon's descriptor limit is 1024" 1024 \
    "$(awk '/^Max open files/ { print $4 }' "/proc/$TPD_PID/limits")"

"$ABUSE" flood "$SOCK" 5000 4000 >"$T/flood.json" 2>"$T/flood.err" &
flood=$!
sleep 2
tp_true "the daemon is alive while 5,000 connections are attempted" tp_alive "$TPD_PID"
status_timed
tp_rc "status answers during the flood" 0
wait "$flood"
tp_eq "the flood tool attempted 5,000 connections" 5000 \
    "$(jq -r '.attempted' "$T/flood.json" 2>/dev/null)"
tp_true "more connections were made than the descriptor limit (1024)" \
    test "$(jq -r '.connected' "$T/flood.json" 2>/dev/null || echo 0)" -gt 1024
tp_true "the daemon survived the flood" tp_alive "$TPD_PID"
status_timed
tp_rc "status answers after the flood" 0
if [ "$RC" = 0 ]; then
	tp_true "connections were closed to stay under max_clients" \
	    test "$(jq -r '.result.api.clients_evicted' <<<"$OUT")" -gt 0
	tp_eq "the cap in force is max_clients" 64 "$(jq -r '.result.api.max_clients' <<<"$OUT")"
	tp_true "the peak stayed far below the descriptor limit" \
	    test "$(jq -r '.result.api.clients_peak' <<<"$OUT")" -lt 900
fi
tp_stop
tp_eq "the daemon exits 0 after the flood" 0 "$TPD_RC"

# --- 2. a message of 2,000,000 frames, then ten clients that never read ---
tp_log "1000 tenants with long uids"
uidpad=$(head -c 110 /dev/zero | tr '\0' u)
for i in $(seq -w 1 1000); do
	printf 'set users/%s-%s {"created_at":"2024-01-02T03:04:05.000000Z"}\n' "$uidpad" "$i"
done >"$T/tenants.txt"
tp_run "$TP_BUILDDIR/tests/storetool" "$T/state/tradepulse.db" load "$T/tenants.txt"
tp_rc "storetool loads 1000 tenants" 0
if ! tp_start; then
	tp_fail "tradepulsed starts again"
	tp_finish
fi
tp_jcli status
base_kb=$(rss "$TPD_PID")
tp_log "daemon RSS at rest: ${base_kb} kB"

# --- 2b. one message of 2,000,000 empty frames ---------------------------
tp_log "a message of 2,000,000 frames"
before_kb=$(rss "$TPD_PID")
"$ABUSE" frames "$EP" 2000000 >"$T/frames.json" 2>"$T/frames.err" &
framer=$!
frames_peak=0
while tp_alive "$framer"; do
	kb=$(rss "$TPD_PID")
	[ -n "$kb" ] && [ "$kb" -gt "$frames_peak" ] && frames_peak=$kb
	sleep 0.1
done
wait "$framer"
RC=$?
tp_rc "the frames client sent its message" 0
sleep 1
status_timed
tp_rc "status answers after the 2,000,000-frame message" 0
tp_true "the daemon survived the frames" tp_alive "$TPD_PID"
sleep 4
after_kb=$(rss "$TPD_PID")
tp_log "RSS before the frames ${before_kb} kB, at most ${frames_peak} kB while ZeroMQ held them, after ${after_kb} kB"
if [ "$SAN" = 0 ]; then
	tp_true "the frames were not kept (RSS ${after_kb} kB, before ${before_kb} kB)" \
	    test -n "$after_kb" -a "$after_kb" -lt $((before_kb + 32768))
fi

printf '{"op":"tenant.list","limit":1000}' >"$T/list.json"
tp_run "$APICLIENT" -t 5 "$EP" "$T/list.json"
tp_rc "tenant.list limit 1000 answers" 0
tp_eq "tenant.list limit 1000 is capped at a page of 500" 500 \
    "$(jq -r '.result.tenants | length' <<<"$OUT" 2>/dev/null)"
tp_true "the page says where the next one starts" \
    test "$(jq -r '.result.next' <<<"$OUT" 2>/dev/null)" != null
tp_true "a page is at most 256 KiB" test "${#OUT}" -le 262144

"$ABUSE" noread "$EP" 10 "$NOREAD_SECONDS" "$T/list.json" >"$T/noread.json" 2>"$T/noread.err" &
abuser=$!
peak_kb=0 worst_ms=0 slow=0 failed=0 asked=0
end=$((SECONDS + NOREAD_SECONDS))
while [ "$SECONDS" -lt "$end" ] && tp_alive "$TPD_PID"; do
	kb=$(rss "$TPD_PID")
	[ -n "$kb" ] && [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
	status_timed
	asked=$((asked + 1))
	[ "$RC" = 0 ] || failed=$((failed + 1))
	[ "$MS" -gt "$worst_ms" ] && worst_ms=$MS
	[ "$MS" -le "$STATUS_MAX_MS" ] || slow=$((slow + 1))
	sleep 0.3
done
wait "$abuser"
tp_log "10 clients that never read, ${NOREAD_SECONDS}s: peak RSS ${peak_kb} kB, $asked status calls, slowest ${worst_ms} ms, requests sent $(jq -r .sent "$T/noread.json" 2>/dev/null)"
tp_true "the daemon survived the clients that never read" tp_alive "$TPD_PID"
tp_true "the abusers sent requests" test "$(jq -r '.sent' "$T/noread.json" 2>/dev/null || echo 0)" -gt 100
tp_true "status was asked at least 20 times meanwhile" test "$asked" -ge 20
tp_eq "every status call succeeded" 0 "$failed"
tp_eq "every status call answered within ${STATUS_MAX_MS} ms (slowest ${worst_ms} ms)" 0 "$slow"
if [ "$SAN" = 0 ]; then
	tp_true "peak RSS ${peak_kb} kB is under 256 MB" test "$peak_kb" -gt 0 -a "$peak_kb" -lt "$RSS_MAX_KB"
else
	tp_log "sanitizer build: peak RSS ${peak_kb} kB not held to 256 MB"
fi
status_timed
tp_true "replies to the clients that did not read were dropped, not kept" \
    test "$(jq -r '.result.api.replies_dropped' <<<"$OUT" 2>/dev/null || echo 0)" -gt 0

# memory goes back once they are gone (a trim every 2 s after a disconnect)
sleep 5
after_kb=$(rss "$TPD_PID")
tp_log "RSS after the clients left: ${after_kb} kB (at rest ${base_kb} kB)"
if [ "$SAN" = 0 ]; then
	tp_true "RSS after they left (${after_kb} kB) is within 32 MB of the start (${base_kb} kB)" \
	    test -n "$after_kb" -a "$after_kb" -lt $((base_kb + 32768))
fi

tp_stop
tp_eq "the daemon exits 0" 0 "$TPD_RC"
tp_finish
