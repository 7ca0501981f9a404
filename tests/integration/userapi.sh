#!/usr/bin/env bash
# tests/integration/userapi.sh: the users' HTTP API on [daemon] http: tokens, /me with the exact P&L total, another user's data refused, trade paging, signals, the kill-switch, the event stream (replay, reset, a slow reader dropped), rate limits, headers and the static files.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init userapi
command -v jq >/dev/null || tp_skip "jq is not installed"
command -v curl >/dev/null || tp_skip "no curl"
command -v python3 >/dev/null || tp_skip "no python3 (the exact sums and the slow reader)"
tp_need_workers || tp_finish

PROJECT=tp-userapi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

# The page's files, this test's own (web/ is the page's folder in the tree).
W=$T/web
mkdir -p "$W/sub" "$T/outside"
printf '<!doctype html><title>t</title>\n' >"$W/index.html"
printf 'console.log(1);\n' >"$W/app.js"
printf 'body{}\n' >"$W/app.css"
printf 'x\n' >"$W/sub/deep.txt"
printf 'secret\n' >"$T/outside/secret.txt"
printf 'hidden\n' >"$W/.hidden.txt"
printf 'bin\n' >"$W/tool.exe"
ln -s "$T/outside/secret.txt" "$W/link.txt"

tp_sim_start || tp_finish
tp_worker_config "daemon.http=127.0.0.1:$PORT" "daemon.web_root=$W" \
    "auth.firebase_project_id=$PROJECT" auth.accept_emulator_tokens=yes \
    workers.max_workers=2 workers.job_timeout=10s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }
printf 'alice\nbob\n' >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# token UID [PROJECT]: an unsigned ID token, as the Auth emulator makes.
token() {
	local now
	now=$(date +%s)
	printf '%s.%s.' "$(printf '{"alg":"none","typ":"JWT"}' | b64url)" \
	    "$(jq -cn --arg uid "$1" --arg p "${2:-$PROJECT}" --argjson now "$now" \
	    '{sub: $uid, user_id: $uid, iss: ("https://securetoken.google.com/" + $p),
	    aud: $p, iat: $now, exp: ($now + 3600), auth_time: $now}' | b64url)"
}
TA=$(token alice)
TB=$(token bob)
TC=$(token carol)

# req TOKEN METHOD PATH [BODY [CURL ARGS...]]: CODE, BODY, HDRS ("" BODY: none).
req() {
	local tok=$1 m=$2 path=$3 a
	shift 3
	a=(-s -m 30 -o "$T/.body" -D "$T/.hdrs" -w '%{http_code}' -X "$m")
	[ -z "$tok" ] || a+=(-H "Authorization: Bearer $tok")
	if [ $# -gt 0 ]; then
		[ -z "$1" ] || a+=(-H 'Content-Type: application/json' --data-binary "$1")
		shift
	fi
	CODE=$(curl "${a[@]}" "$@" "$URL$path") || CODE=000
	BODY=$(cat "$T/.body" 2>/dev/null)
	HDRS=$(tr -d '\r' <"$T/.hdrs" 2>/dev/null)
}
hdr() { printf '%s\n' "$HDRS" | awk -v h="$1" 'BEGIN { h = tolower(h) } { i = index($0, ":"); if (tolower(substr($0, 1, i - 1)) == h) { print substr($0, i + 2); exit } }'; }

# --- the trades: 25 of alice's (3 OPEN), 1 of bob's --------------------------------
{
	printf 'set users/alice/shadowTradeHistory/open1 {"symbol":"AAPL","side":"buy","qty":"3","entry_price":"150.25","status":"OPEN","created_at":"2026-11-30T10:00:00.000000Z"}\n'
	printf 'set users/alice/shadowTradeHistory/open2 {"symbol":"MSFT","side":"sell","qty":"2.5","entry_price":"412.10","status":"OPEN","created_at":"2026-11-29T10:00:00.000000Z"}\n'
	printf 'set users/alice/shadowTradeHistory/open3 {"symbol":"NVDA","side":"buy","qty":"7","entry_price":"101.333","status":"OPEN","created_at":"2026-11-28T10:00:00.000000Z"}\n'
	for i in $(seq 10 31); do
		printf 'set users/alice/shadowTradeHistory/closed%02d {"symbol":"AMD","side":"buy","qty":"1","entry_price":"100","status":"CLOSED","exit_price":"101","realized_pnl":"1.00","close_reason":"take_profit","created_at":"2026-10-%02dT10:00:00.000000Z","closed_at":"2026-10-%02dT11:00:00.000000Z"}\n' "$i" "$i" "$i" "$i"
	done
	printf 'set users/bob/shadowTradeHistory/bobopen {"symbol":"AAPL","side":"sell","qty":"2","entry_price":"151","status":"OPEN","created_at":"2026-11-01T10:00:00.000000Z"}\n'
} >"$T/docs"
tp_store load "$T/docs" || { tp_fail "the trades are written"; tp_finish; }
tp_sim POST /_sim/prices '{"AAPL":"152.015","MSFT":"409.333","NVDA":"99.8765"}' >/dev/null ||
    tp_fail "sim prices"
out=$("$TPCLI" -f "$TP_CONF" --json -t 60 pulse --wait)
tp_eq "the pulse syncs both tenants" 2 "$(tp_jq .synced "$out")" "$out"

# --- tokens ----------------------------------------------------------------------
req "" GET /api/v1/me
tp_eq "no token: 401" 401 "$CODE" "$BODY"
tp_eq "... unauthenticated" unauthenticated "$(tp_jq .error.code "$BODY")"
tp_eq "... WWW-Authenticate: Bearer" Bearer "$(hdr WWW-Authenticate)"
req "not.a.token" GET /api/v1/me
tp_eq "a junk token: 401" 401 "$CODE" "$BODY"
req "$(token alice other-project)" GET /api/v1/me
tp_eq "a token of another project: 401" 401 "$CODE" "$BODY"
tp_eq "... the message says no more" "invalid ID token" "$(tp_jq .error.message "$BODY")"
tp_file_has "the daemon's log says why" 'http: ID token refused' "$T/daemon.log"
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer not.a.token" "$URL/api/v1/me/events?access_token=$TA")
tp_eq "a bad header and a good ?access_token=: the header counts" 401 "$code"
req "" GET "/api/v1/me?access_token=$TA"
tp_eq "access_token is for the event stream only" 401 "$CODE" "$BODY"

# --- /me ----------------------------------------------------------------------------
req "$TA" GET /api/v1/me
tp_eq "GET /me as alice: 200" 200 "$CODE" "$BODY"
ME=$BODY
tp_eq "uid" alice "$(tp_jq .uid "$ME")"
tp_eq "the snapshot's equity is a string" string "$(tp_jq '.snapshot.equity | type' "$ME")" "$ME"
tp_eq "... and so is its cash" string "$(tp_jq '.snapshot.cash | type' "$ME")"
tp_eq "the snapshot is alice's, as stored (equity)" "$(tp_text equity users/alice/data/snapshot)" "$(tp_jq .snapshot.equity "$ME")"
tp_eq "trading enabled" true "$(tp_jq .trading.enabled "$ME")"
tp_eq "the last sync went well" true "$(tp_jq .last_sync.ok "$ME")" "$ME"
tp_eq "three open trades" 3 "$(tp_jq .open_count "$ME")"
tp_eq "... newest first" "open1 open2 open3" "$(tp_jq '[.open_trades[].id] | join(" ")' "$ME")"
tp_eq "sides in capitals" "BUY SELL BUY" "$(tp_jq '[.open_trades[].side] | join(" ")' "$ME")"
tp_eq "money as strings: qty, entry_price, current_price, unrealized_pnl" "string string string string" \
    "$(tp_jq '.open_trades[1] | [.qty, .entry_price, .current_price, .unrealized_pnl | type] | join(" ")' "$ME")"
tp_eq "the marked price is the broker's" 409.333 "$(tp_jq '.open_trades[1].current_price' "$ME")"
# The figures, computed here independently with Python's Decimal
# (ROUND_HALF_UP is half away from zero): each to the cent, then summed.
want=$(python3 - <<'EOF'
from decimal import Decimal as D, ROUND_HALF_UP
c = D("0.01")
a = ((D("152.015") - D("150.25")) * D("3")).quantize(c, ROUND_HALF_UP)
m = ((D("412.10") - D("409.333")) * D("2.5")).quantize(c, ROUND_HALF_UP)
n = ((D("99.8765") - D("101.333")) * D("7")).quantize(c, ROUND_HALF_UP)
print(a, m, n, a + m + n)
EOF
)
tp_eq "each trade's unrealized P&L, to the cent" "${want% *}" "$(tp_jq '[.open_trades[].unrealized_pnl] | join(" ")' "$ME")"
tp_eq "total_unrealized_pnl is their exact sum" "${want##* }" "$(tp_jq .total_unrealized_pnl "$ME")" "$ME"
tp_eq "... a string" string "$(tp_jq '.total_unrealized_pnl | type' "$ME")"
tp_eq "no trade of bob's" 0 "$(tp_jq '[.open_trades[] | select(.id == "bobopen")] | length' "$ME")"
tp_eq "Cache-Control: no-store" no-store "$(hdr Cache-Control)"
tp_eq "Content-Security-Policy" "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'" \
    "$(hdr Content-Security-Policy)"
tp_eq "X-Content-Type-Options" nosniff "$(hdr X-Content-Type-Options)"
tp_eq "Referrer-Policy" no-referrer "$(hdr Referrer-Policy)"
tp_eq "no CORS header" "" "$(hdr Access-Control-Allow-Origin)"

req "$TB" GET /api/v1/me
tp_eq "GET /me as bob: 200" 200 "$CODE" "$BODY"
tp_eq "bob's uid" bob "$(tp_jq .uid "$BODY")"
tp_eq "bob's one open trade, none of alice's" bobopen "$(tp_jq '[.open_trades[].id] | join(" ")' "$BODY")"
tp_eq "bob's snapshot is his" "$(tp_text equity users/bob/data/snapshot)" "$(tp_jq .snapshot.equity "$BODY")"
req "$TB" GET /api/v1/users/alice
tp_eq "bob asking for alice's data: 403" 403 "$CODE" "$BODY"
tp_eq "... permission_denied" permission_denied "$(tp_jq .error.code "$BODY")"
req "$TB" GET /api/v1/users/alice/trades
tp_eq "... her trades: 403" 403 "$CODE"
req "$TB" POST /api/v1/users/alice/trading '{"enabled":false}'
tp_eq "... her kill-switch: 403" 403 "$CODE"
req "$TB" GET /api/v1/users/bob
tp_eq "bob's own uid spelled out: 200" 200 "$CODE"
req "$TC" GET /api/v1/me
tp_eq "a valid token of no tenant: 404" 404 "$CODE" "$BODY"
tp_eq "... not_found" not_found "$(tp_jq .error.code "$BODY")"
req "$TC" GET /api/v1/me/trades
tp_eq "... and so are its trades" 404 "$CODE"
req "$TC" GET /api/v1/me/signals
tp_eq "... and its signals" 404 "$CODE"
req "$TA" GET /api/v1/nothing
tp_eq "an unknown route: 404" 404 "$CODE"
req "$TA" DELETE /api/v1/me
tp_eq "DELETE /me: 405" 405 "$CODE"
tp_eq "... Allow: GET" GET "$(hdr Allow)"

# --- trades, paged -----------------------------------------------------------------
ids="" cursor="" pages=0
while :; do
	q="limit=10"
	[ -z "$cursor" ] || q="$q&cursor=$cursor"
	req "$TA" GET "/api/v1/me/trades?$q"
	[ "$CODE" = 200 ] || { tp_fail "a page of trades" "$CODE $BODY"; break; }
	pages=$((pages + 1))
	ids="$ids $(tp_jq '[.trades[].id] | join(" ")' "$BODY")"
	cursor=$(tp_jq '.next_cursor // empty' "$BODY")
	[ -n "$cursor" ] && [ $pages -lt 10 ] || break
done
ids=$(echo $ids)
tp_eq "25 trades in 3 pages of 10" "3 25" "$pages $(wc -w <<<"$ids")"
tp_eq "each once" 25 "$(tr ' ' '\n' <<<"$ids" | sort -u | wc -l)"
tp_eq "newest first" "open1 open2 open3 closed31 closed30" "$(cut -d' ' -f1-5 <<<"$ids")"
tp_eq "the oldest last" closed10 "${ids##* }"
req "$TA" GET "/api/v1/me/trades?status=closed&limit=100"
tp_eq "status=closed: 22" 22 "$(tp_jq '.trades | length' "$BODY")" "$BODY"
tp_eq "a closed trade's realized_pnl, a string" '"1.00"' "$(tp_jq '.trades[0].realized_pnl | tojson' "$BODY")"
tp_eq "... no next page" null "$(tp_jq '.next_cursor' "$BODY")"
req "$TA" GET "/api/v1/me/trades?status=open"
tp_eq "status=open: 3" 3 "$(tp_jq '.trades | length' "$BODY")"
for q in status=bogus limit=0 limit=101 limit=1x cursor=abc 'cursor=2026-11-30T10:00:00.000000Z_..%2F' other=1 'limit=5&limit=6'; do
	req "$TA" GET "/api/v1/me/trades?$q"
	tp_eq "trades?$q: 400 invalid_argument" "400 invalid_argument" "$CODE $(tp_jq .error.code "$BODY")"
done
req "$TB" GET "/api/v1/me/trades?status=all&limit=100"
tp_eq "bob's trades: his one" bobopen "$(tp_jq '[.trades[].id] | join(" ")' "$BODY")"

# --- signals ------------------------------------------------------------------------
up=100 closes='"100.00"'
for i in $(seq 1 39); do
	if [ $((i % 2)) = 1 ]; then up=$((up + 2)); else up=$((up - 1)); fi
	closes="$closes,\"$up.00\""
done
tp_sim POST /_sim/bars "{\"symbol\":\"AAPL\",\"closes\":[$closes]}" >/dev/null || tp_fail "sim bars"
req "$TA" GET /api/v1/me/signals
tp_eq "no signal yet" "200 0" "$CODE $(tp_jq '.signals | length' "$BODY")" "$BODY"
req "$TA" POST /api/v1/me/signals '{"symbol":"AAPL"}'
tp_eq "POST /me/signals: 200" 200 "$CODE" "$BODY"
sid=$(tp_jq .id "$BODY")
tp_eq "... a BUY" BUY "$(tp_jq .action "$BODY")"
tp_match "... with its id" '^[A-Za-z0-9]{20}$' "$sid"
tp_eq "... its price as text" '"121.00"' "$(tp_jq '.price | tojson' "$BODY")"
req "$TA" GET "/api/v1/me/signals?limit=5"
tp_eq "the new signal is listed first" "$sid" "$(tp_jq '.signals[0].id' "$BODY")" "$BODY"
tp_eq "... its price as text" '"121.00"' "$(tp_jq '.signals[0].price | tojson' "$BODY")"
req "$TB" GET /api/v1/me/signals
tp_eq "bob sees no signal of alice's" 0 "$(tp_jq '.signals | length' "$BODY")"
req "$TA" POST /api/v1/me/signals '{"symbol":"no such"}'
tp_eq "a bad symbol: 400" 400 "$CODE"
req "$TA" POST /api/v1/me/signals '{"symbol":"AAPL","x":1}'
tp_eq "an unknown field: 400" 400 "$CODE"
req "$TA" POST /api/v1/me/signals "{\"symbol\":\"$(head -c 5000 /dev/zero | tr '\0' A)\"}"
tp_ne "a body past 4 KiB is refused" 200 "$CODE"

# --- the event stream ------------------------------------------------------------------
sse() { # FILE SECONDS [HEADER]: alice's stream into FILE, in the background
	local h=()
	[ $# -lt 3 ] || h=(-H "$3")
	curl -sN -m "$2" -H "Authorization: Bearer $TA" "${h[@]}" "$URL/api/v1/me/events" >"$1" 2>/dev/null &
	SSE_PID=$!
}
sse "$T/sse1" 20
sleep 0.5
out=$("$TPCLI" -f "$TP_CONF" --json -t 60 pulse --wait)
tp_eq "a pulse while alice watches" 2 "$(tp_jq .synced "$out")" "$out"
for _ in $(seq 50); do grep -q '^event: snapshot' "$T/sse1" && break; sleep 0.1; done
kill "$SSE_PID" 2>/dev/null
wait "$SSE_PID" 2>/dev/null
tp_file_has "alice's stream has a snapshot event" '^event: snapshot$' "$T/sse1"
first=$(awk '/^id: / { id = $2 } /^event: snapshot/ { print id; exit }' "$T/sse1")
tp_match "... with an id" '^[0-9]+$' "$first"
data=$(awk '/^event: snapshot/ { getline; sub(/^data: /, ""); print; exit }' "$T/sse1")
tp_eq "... whose data is alice's JSON" alice "$(tp_jq .uid "$data")" "$data"
tp_file_lacks "none of bob's" '"uid":"bob"' "$T/sse1"
out=$("$TPCLI" -f "$TP_CONF" --json -t 60 pulse --wait)
sse "$T/sse2" 3 "Last-Event-ID: $first"
wait "$SSE_PID" 2>/dev/null
tp_file_has "after a reconnect, the snapshot missed is replayed" '^event: snapshot$' "$T/sse2"
tp_true "... with a later id" [ "$(awk '/^id: / { print $2; exit }' "$T/sse2")" -gt "$first" ]
tp_file_lacks "... and not the one seen" "^id: $first\$" "$T/sse2"
sse "$T/sse3" 3 "Last-Event-ID: 0"
wait "$SSE_PID" 2>/dev/null
tp_file_has "an id older than the buffer: event: reset" '^event: reset$' "$T/sse3"
sse "$T/sse4" 3 "Last-Event-ID: 99999999"
wait "$SSE_PID" 2>/dev/null
tp_file_has "an id from before a restart: reset" '^event: reset$' "$T/sse4"
req "$TA" GET /api/v1/me/events "" -m 2 -H "Last-Event-ID: x1"
tp_eq "a malformed Last-Event-ID: 400" 400 "$CODE"
curl -sN -m 3 "$URL/api/v1/me/events?access_token=$TA" -D "$T/sse5.h" >"$T/sse5" 2>/dev/null
tp_file_has "?access_token= opens the stream" '^retry: ' "$T/sse5"
tp_file_has "... as text/event-stream" '^Content-Type: text/event-stream' "$T/sse5.h"
# five streams of alice's at once: the fifth is refused
pids=()
for i in 1 2 3 4; do
	curl -sN -m 6 -H "Authorization: Bearer $TA" "$URL/api/v1/me/events" >/dev/null 2>&1 &
	pids+=($!)
done
sleep 1
req "$TA" GET /api/v1/me/events "" -m 2
tp_eq "a fifth stream of one user: 429" 429 "$CODE" "$BODY"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null

# A reader that never reads: its stream is dropped once 256 KiB wait,
# and the daemon's memory stays bounded.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$TPD_PID/status"; }
python3 - "$PORT" "$TA" >"$T/slow.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET /api/v1/me/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % sys.argv[2]).encode())
time.sleep(25)		# never reads; then: was the connection closed?
n = 0
s.settimeout(5)
try:
    while True:
        b = s.recv(65536)
        if not b:
            print("closed after", n, "bytes"); break
        n += len(b)
except Exception as e:
    print("not closed:", e, n)
EOF
SLOW=$!
sleep 1
rss0=$(rss)
reason=$(head -c 250 /dev/zero | tr '\0' r)
for i in $(seq 1500); do
	printf '{"op":"trading.set","uid":"alice","enabled":true,"reason":"%s %d"}\n' "$reason" "$i"
done >"$T/flood.req"
TP_API_TIMEOUT=120 tp_api "$T/flood.req" "$T/flood.rep"
tp_eq "1500 kill-switch changes (1500 events of ~400 bytes for alice)" 1500 "$(grep -c '"ok":true' "$T/flood.rep")"
rss1=$(rss)
tp_log "the daemon's RSS: $rss0 KiB before the flood, $rss1 KiB after"
tp_file_has "the slow reader's stream is dropped" 'event stream of alice is [0-9]+ bytes behind: dropped' "$T/daemon.log"
# (ASan's quarantine keeps freed memory: no bound to check there)
if tp_sanitized; then
	tp_log "a sanitizer build: the RSS bound is not checked"
else
	tp_true "the daemon's RSS grew less than 16 MiB ($rss0 -> $rss1 KiB)" [ $((rss1 - rss0)) -lt 16384 ]
fi
wait "$SLOW"
tp_log "the slow client: $(cat "$T/slow.out")"
tp_file_has "the slow client finds its connection closed" '^closed after' "$T/slow.out"

# --- the kill-switch --------------------------------------------------------------------
req "$TA" POST /api/v1/me/trading '{"enabled":true}'
tp_eq "a user turning trading on: 403" "403 permission_denied" "$CODE $(tp_jq .error.code "$BODY")"
req "$TA" POST /api/v1/me/trading '{"enabled":"no"}'
tp_eq "enabled not a boolean: 400" 400 "$CODE"
tp_cli pause --reason "test: userapi"
tp_rc "pause" 0
req "$TA" POST /api/v1/me/signals '{"symbol":"AAPL"}'
tp_eq "a signal while the operator's pause holds: 412 failed_precondition" "412 failed_precondition" "$CODE $(tp_jq .error.code "$BODY")" "$BODY"
tp_cli resume
tp_rc "resume" 0
sse "$T/sse_trading" 10
sleep 0.5
req "$TA" POST /api/v1/me/trading '{"enabled":false,"reason":"going on holiday"}'
tp_eq "alice stops her trading: 200" 200 "$CODE" "$BODY"
for _ in $(seq 50); do grep -q '^event: trading' "$T/sse_trading" && break; sleep 0.1; done
kill "$SSE_PID" 2>/dev/null
wait "$SSE_PID" 2>/dev/null
data=$(awk '/^event: trading/ { getline; sub(/^data: /, ""); print; exit }' "$T/sse_trading")
tp_eq "her stream has a trading event, by her" "false user:alice" "$(tp_jq '"\(.enabled) \(.by)"' "$data")" "$data"
tp_eq "... the reply" '{"enabled":false,"reason":"going on holiday","by":"user:alice"}' "$(tp_jq '.trading | tojson' "$BODY")"
req "$TA" GET /api/v1/me
tp_eq "/me says trading is off, by alice" "false user:alice" "$(tp_jq '"\(.trading.enabled) \(.trading.by)"' "$BODY")"
tp_file_has "the tenant log has it, as trading.set logs" 'trading disabled by user:alice: going on holiday' "$T/log/tenants/alice.log"
out=$("$TPCLI" -f "$TP_CONF" --json -t 60 pulse --wait)
tp_eq "the next pulse skips alice" "1 1" "$(tp_jq '"\(.skipped_disabled) \(.synced)"' "$out")" "$out"
req "$TB" GET /api/v1/me
tp_eq "bob still trades" true "$(tp_jq .trading.enabled "$BODY")"

# --- rate limit ---------------------------------------------------------------------------
codes=$(for i in $(seq 40); do curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TB" "$URL/api/v1/me/signals?limit=1"; done | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
tp_log "40 requests of bob's at once: $codes"
tp_match "40 requests at once: some 429 ($codes)" '429:' "$codes"
tp_match "... after the burst was served" '200:(1[89]|2[0-9])' "$codes"
sleep 1.2
req "$TB" GET /api/v1/me
tp_eq "a second later bob is served again" 200 "$CODE"
req "$TA" GET /api/v1/me
tp_eq "... and alice was never limited" 200 "$CODE"

# --- static files -----------------------------------------------------------------------------
req "" GET /
tp_eq "GET /: the page" "200 text/html; charset=utf-8" "$CODE $(hdr Content-Type)"
tp_eq "... its text" '<!doctype html><title>t</title>' "$BODY"
tp_eq "... with the CSP" "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'" \
    "$(hdr Content-Security-Policy)"
tp_eq "... nosniff" nosniff "$(hdr X-Content-Type-Options)"
etag=$(hdr ETag)
tp_match "... an ETag" '^"[0-9a-f-]+"$' "$etag"
req "" GET / "" -H "If-None-Match: $etag"
tp_eq "revalidated: 304" 304 "$CODE"
req "" GET /assets/app.js
tp_eq "a script" "200 text/javascript; charset=utf-8" "$CODE $(hdr Content-Type)"
req "" GET /assets/app.css
tp_eq "a style sheet" "200 text/css; charset=utf-8" "$CODE $(hdr Content-Type)"
req "" GET /assets/sub/deep.txt
tp_eq "a file in a folder" 200 "$CODE"
req "" HEAD /assets/app.js "" -I
tp_eq "HEAD" 200 "$CODE"
for p in /assets/../outside/secret.txt /assets/sub/../app.js /assets/%2e%2e/outside/secret.txt \
    /assets/link.txt /assets/.hidden.txt /assets/tool.exe /assets/nothing.js /assets/ /assets/sub /index.html /other; do
	req "" GET "$p" "" --path-as-is
	tp_eq "GET $p: 404" 404 "$CODE" "$BODY"
done
tp_lacks "the link out of web_root was not followed" secret "$BODY"
req "" POST / '{}'
tp_eq "POST /: 405" 405 "$CODE"
req "" GET /healthz
tp_eq "/healthz still answers" 200 "$CODE" "$BODY"

# an open event stream ends when the daemon stops (it never ends by itself)
curl -sN -m 30 -H "Authorization: Bearer $TA" "$URL/api/v1/me/events" >"$T/sse_stop" 2>/dev/null &
SP=$!
sleep 0.5
tp_stop
for _ in $(seq 50); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SP" 2>/dev/null; then
	tp_fail "an open event stream ends when the daemon stops"
	kill "$SP" 2>/dev/null
else
	tp_pass "an open event stream ends when the daemon stops"
fi
wait "$SP" 2>/dev/null
tp_finish
