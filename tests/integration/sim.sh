#!/usr/bin/env bash
# tests/integration/sim.sh: alpaca-sim against Alpaca's OpenAPI documents: endpoints, auth, rate limit, keep-alive, determinism, control API, misbehaviours.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init sim

SIM=$TP_BUILDDIR/sim/alpaca-sim
SPEC=$TP_BUILDDIR/tests/speccheck
TRADING=$TP_SRCDIR/tests/contracts/alpaca/trading-api.json
DATA=$TP_SRCDIR/tests/contracts/alpaca/market-data-api.json
ERROR_SCHEMA='#/components/schemas/Error'

for p in "$SIM" "$SPEC"; do
	[ -x "$p" ] || { tp_fail "program $p is built"; tp_finish; }
done
for f in "$TRADING" "$DATA"; do
	[ -f "$f" ] || { tp_fail "contract $f is there"; tp_finish; }
done
command -v curl >/dev/null || { tp_fail "curl is installed (./quickstart deps)"; tp_finish; }

# Sanitizer builds are slower; the timing checks below leave room for it.
CURL=(curl -s --max-time 30)

# sim_start NAME ARGS...: starts alpaca-sim on a free port; sets SIM_PID and
# U (its URL). 1 if it did not write its port file in time.
sim_start() {
	local name=$1 i
	shift
	rm -f "$T/$name.port"
	"$SIM" -q --port 0 --port-file "$T/$name.port" "$@" \
	    2>>"$T/sim-$name.log" </dev/null &
	SIM_PID=$!
	TP_PIDS+=("$SIM_PID")
	for ((i = 0; i < 300; i++)); do
		[ -s "$T/$name.port" ] && break
		tp_alive "$SIM_PID" || break
		sleep 0.05
	done
	if [ ! -s "$T/$name.port" ]; then
		tp_fail "alpaca-sim $name starts" "$(tail -n 5 "$T/sim-$name.log")"
		return 1
	fi
	U=http://127.0.0.1:$(<"$T/$name.port")
}

# sim_stop PID NAME: SIGTERM; alpaca-sim exits 0 within a bounded wait.
sim_stop() {
	kill -TERM "$1" 2>/dev/null
	if ! tp_wait_exit "$1" "$TP_STOP_WAIT"; then
		kill -KILL "$1" 2>/dev/null
		tp_fail "alpaca-sim $2 exits on SIGTERM"
	fi
	tp_reap "$1"
	tp_eq "alpaca-sim $2 exits 0 on SIGTERM" 0 "$REAP_RC"
}

# get KEY SECRET PATH [CURL ARGS...]: GET with Alpaca's headers; the body
# goes to $T/body, the headers to $T/hdr; CODE is the status (or what the
# curl write-out format $W says), CRC curl's exit status.
get() {
	local kid=$1 sec=$2 path=$3
	shift 3
	# curl leaves an old file alone when nothing arrives
	rm -f "$T/body" "$T/hdr"
	CODE=$("${CURL[@]}" -D "$T/hdr" -o "$T/body" -w "${W:-%{http_code\}}" \
	    -H "APCA-API-KEY-ID: $kid" -H "APCA-API-SECRET-KEY: $sec" "$@" \
	    "$U$path")
	CRC=$?
	touch "$T/body" "$T/hdr"
	tp_slurp BODY "$T/body"
	tp_slurp HDR "$T/hdr"
}

# control PATH JSON: POSTs to the control API; CODE and BODY.
control() {
	printf '%s' "$2" >"$T/ctl.json"
	rm -f "$T/body"
	CODE=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' \
	    -H 'Content-Type: application/json' --data-binary @"$T/ctl.json" \
	    "$U$1")
	touch "$T/body"
	tp_slurp BODY "$T/body"
}

# spec NAME SPECFILE PATH: the last body matches the 200 schema of GET PATH.
spec() {
	tp_run "$SPEC" "$2" get "$3" 200 "$T/body"
	if [ "$RC" = 0 ]; then
		tp_pass "$1"
	else
		tp_fail "$1" "$OUT$ERR" "body: ${BODY:0:600}"
	fi
}

# spec_error NAME: the last body is an Error ({code: number, message}).
spec_error() {
	tp_run "$SPEC" "$TRADING" --schema "$ERROR_SCHEMA" "$T/body"
	if [ "$RC" = 0 ]; then
		tp_pass "$1"
	else
		tp_fail "$1" "$OUT$ERR" "body: ${BODY:0:600}"
	fi
}

# header NAME: the value of header NAME in the last reply ("" if none).
header() {
	awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
	    tolower($1) == n { sub(/\r$/, ""); $1 = ""; sub(/^ /, ""); print; exit }' "$T/hdr"
}

# --- arguments -------------------------------------------------------------

tp_log "arguments"
tp_run "$SIM" --help
tp_rc "--help exits 0" 0
tp_has "--help documents the control API" "POST /_sim/behaviour" "$OUT"
tp_has "--help documents which symbols are unknown" "starting with ZZ" "$OUT"
tp_run "$SIM" --latency soon
tp_rc "a bad --latency exits 2" 2
tp_has "a bad --latency is said" "--latency" "$ERR"
tp_run "$SIM" --port 70000
tp_rc "a bad --port exits 2" 2
tp_run "$SIM" --frobnicate
tp_rc "an unknown option exits 2" 2
tp_has "an unknown option prints the usage" "usage:" "$ERR"
tp_run timeout 10 "$SIM" -q --bind 256.1.1.1 --port 0
tp_rc "a bad --bind exits 1" 1
tp_has "a bad --bind is said" "not an IP address" "$ERR"

# --- the endpoints against the spec --------------------------------------------

tp_log "endpoints against the OpenAPI documents"
sim_start a --seed 42 --rate-limit 1000 || tp_finish
A_PID=$SIM_PID
A_URL=$U
KA=PKTESTALPHA000000001
SA=alpha-secret-$RANDOM$RANDOM
KB=PKTESTBRAVO000000002
SB=bravo-secret-$RANDOM$RANDOM
ACCOUNT_A='{"key_id":"'$KA'","secret":"'$SA'","equity":"122011.09751111286868","cash":"-23140.2","status":"ACTIVE","daytrade_count":2,"pattern_day_trader":false,"positions":[{"symbol":"AAPL","qty":"10","avg_entry_price":"150.25"},{"symbol":"TSLA","qty":"3","avg_entry_price":"200","side":"short"}]}'
control /_sim/accounts "$ACCOUNT_A"
tp_eq "POST /_sim/accounts answers 200" 200 "$CODE"
tp_has "and counts the account" '"accounts":1' "$BODY"
control /_sim/accounts '{"key_id":"'$KB'","secret":"'$SB'"}'
tp_eq "a second account" 200 "$CODE"

get "$KA" "$SA" /v2/account
tp_eq "GET /v2/account is 200" 200 "$CODE"
spec "GET /v2/account matches the spec" "$TRADING" /v2/account
tp_has "the equity is the exact decimal string given" '"equity":"122011.09751111286868"' "$BODY"
tp_has "a negative cash string is kept" '"cash":"-23140.2"' "$BODY"
tp_has "daytrade_count is an integer" '"daytrade_count":2' "$BODY"
tp_match "Content-Type is JSON" '[Cc]ontent-[Tt]ype: application/json' "$HDR"
tp_match "Content-Length is set" '[Cc]ontent-[Ll]ength: [0-9]+' "$HDR"
tp_eq "X-RateLimit-Limit" 1000 "$(header X-RateLimit-Limit)"
tp_eq "X-RateLimit-Remaining counts down" 999 "$(header X-RateLimit-Remaining)"
reset=$(header X-RateLimit-Reset)
now=$(date +%s)
tp_true "X-RateLimit-Reset is unix seconds within the minute" \
    test "${reset:-0}" -gt "$now" -a "${reset:-0}" -le $((now + 61))

get "$KB" "$SB" /v2/account
spec "a default account matches the spec" "$TRADING" /v2/account
tp_has "a default account is ACTIVE" '"status":"ACTIVE"' "$BODY"

get "$KA" "$SA" /v2/positions
tp_eq "GET /v2/positions is 200" 200 "$CODE"
spec "GET /v2/positions matches the spec" "$TRADING" /v2/positions
tp_match "a short position has a negative qty" '"symbol":"TSLA"[^}]*"qty":"-3"[^}]*"side":"short"' "$BODY"
get "$KB" "$SB" /v2/positions
tp_eq "no positions is an empty array" '[]' "$BODY"
spec "an empty positions list matches the spec" "$TRADING" /v2/positions

get "$KA" "$SA" /v2/clock
tp_eq "GET /v2/clock is 200" 200 "$CODE"
spec "GET /v2/clock matches the spec" "$TRADING" /v2/clock

control /_sim/prices '{"AAPL":"187.25","QQQ":null,"MSFT":412}'
tp_eq "POST /_sim/prices answers 200" 200 "$CODE"
get "$KA" "$SA" /v2/stocks/AAPL/trades/latest
tp_eq "GET /v2/stocks/AAPL/trades/latest is 200" 200 "$CODE"
spec "the latest trade matches the spec" "$DATA" '/v2/stocks/{symbol}/trades/latest'
tp_has "the latest trade has the price set" '"p":187.25' "$BODY"
tp_ne "market data carries the rate limit too" "" "$(header X-RateLimit-Remaining)"
get "$KA" "$SA" /v2/stocks/QQQ/trades/latest
tp_eq "a symbol made unknown has no latest trade (404)" 404 "$CODE"
spec_error "and its body is an Alpaca error"
get "$KA" "$SA" /v2/stocks/ZZZZ/trades/latest
tp_eq "a symbol starting with ZZ is unknown" 404 "$CODE"
get "$KA" "$SA" /v2/stocks/bad%20sym/trades/latest
tp_eq "an invalid symbol is 400" 400 "$CODE"

get "$KA" "$SA" '/v2/stocks/trades/latest?symbols=AAPL,ZZZZ,MSFT,QQQ,NVDA'
tp_eq "GET /v2/stocks/trades/latest is 200" 200 "$CODE"
spec "latest trades match the spec" "$DATA" /v2/stocks/trades/latest
tp_has "AAPL is in the map" '"AAPL":{' "$BODY"
tp_has "NVDA is in the map" '"NVDA":{' "$BODY"
tp_has "a price set as a number" '"p":412' "$BODY"
tp_lacks "an unknown ZZ symbol is left out" 'ZZZZ' "$BODY"
tp_lacks "a symbol made unknown is left out" 'QQQ' "$BODY"
get "$KA" "$SA" '/v2/stocks/trades/latest?symbols=AAPL%2CMSFT'
tp_has "an encoded comma separates symbols" '"MSFT":{' "$BODY"
get "$KA" "$SA" '/v2/stocks/trades/latest'
tp_eq "latest trades without symbols is 400" 400 "$CODE"
spec_error "with an Alpaca error body"

get "$KA" "$SA" '/v2/stocks/AAPL/bars?timeframe=1Min&limit=5'
tp_eq "GET /v2/stocks/AAPL/bars is 200" 200 "$CODE"
spec "bars match the spec" "$DATA" '/v2/stocks/{symbol}/bars'
tp_eq "limit=5 gives 5 bars" 5 "$(grep -o '"vw":' "$T/body" | wc -l)"
token=$(tp_jq .next_page_token "$BODY")
tp_match "a next_page_token when there are more" '^[0-9]+$' "$token"
last=$(grep -o '"t":"[^"]*"' "$T/body" | tail -n 1)
get "$KA" "$SA" "/v2/stocks/AAPL/bars?timeframe=1Min&limit=5&page_token=$token"
first=$(grep -o '"t":"[^"]*"' "$T/body" | head -n 1)
tp_true "the next page starts after the first ends" test "$first" '>' "$last"
get "$KA" "$SA" '/v2/stocks/AAPL/bars?timeframe=1Day&start=2023-12-01&end=2023-12-05'
tp_eq "start and end bound the bars (5 days)" 5 "$(grep -o '"vw":' "$T/body" | wc -l)"
tp_has "the last page has a null next_page_token" '"next_page_token":null' "$BODY"
spec "a last page matches the spec" "$DATA" '/v2/stocks/{symbol}/bars'
get "$KA" "$SA" '/v2/stocks/AAPL/bars?timeframe=1Hour&start=2023-12-01T00:00:00Z&limit=3&sort=desc'
tp_match "sort=desc goes backwards" '"t":"([^"]*)".*"t":"([^"]*)"' "$BODY"
tp_true "sort=desc: the first bar is the latest" test "${BASH_REMATCH[1]}" '>' "${BASH_REMATCH[2]}"
get "$KA" "$SA" '/v2/stocks/ZZTOP/bars?timeframe=1Day'
tp_eq "an unknown symbol has no bars" '{"bars":[],"symbol":"ZZTOP","next_page_token":null}' "$BODY"
get "$KA" "$SA" '/v2/stocks/AAPL/bars?timeframe=7Fortnights'
tp_eq "a bad timeframe is 400" 400 "$CODE"
spec_error "with an Alpaca error body"
tp_has "which says what a timeframe is" "timeframe" "$BODY"
get "$KA" "$SA" '/v2/stocks/AAPL/bars?timeframe=1Day&limit=0'
tp_eq "limit=0 is 400" 400 "$CODE"
# the closes a test sets: exactly these 1Day bars, the last one today's
control /_sim/bars '{"symbol":"SETC","closes":["10","10.5",11,"12.125"]}'
tp_eq "POST /_sim/bars answers 200" 200 "$CODE"
get "$KA" "$SA" /v2/clock
today=$(tp_jq '.timestamp[0:10]' "$BODY")
get "$KA" "$SA" '/v2/stocks/SETC/bars?timeframe=1Day&start=2000-01-03&limit=3&sort=desc'
tp_eq "the newest 3 of the 4 closes set, newest first" '12.125 11.00 10.50' \
    "$(grep -o '"c":[0-9.]*' "$T/body" | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')"
spec "bars of set closes match the spec" "$DATA" '/v2/stocks/{symbol}/bars'
tp_match "each opens at the close before" '"o":11.00,"h":12.125,"l":11.00,"c":12.125' "$BODY"
tp_match "the last one is today's" "^\\{\"bars\":\\[\\{\"t\":\"${today}T00:00:00Z\"" "$BODY"
get "$KA" "$SA" '/v2/stocks/SETC/bars?timeframe=1Day&start=2000-01-03'
tp_eq "ascending from start: all 4, oldest first" '10.00 10.50 11.00 12.125' \
    "$(grep -o '"c":[0-9.]*' "$T/body" | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')"
get "$KA" "$SA" '/v2/stocks/SETC/bars?timeframe=1Hour&limit=2'
tp_eq "other timeframes stay generated" 2 "$(grep -o '"vw":' "$T/body" | wc -l)"
control /_sim/bars '{"symbol":"SETC","closes":["1","0"]}'
tp_eq "a close of 0 is refused" 400 "$CODE"
control /_sim/bars '{"symbol":"set c","closes":["1"]}'
tp_eq "a bad symbol is refused" 400 "$CODE"
control /_sim/bars '{"symbol":"SETC"}'
tp_eq "closes are required" 400 "$CODE"
control /_sim/bars '{"symbol":"SETC","closes":[]}'
tp_eq "an empty list forgets them" 200 "$CODE"
get "$KA" "$SA" '/v2/stocks/SETC/bars?timeframe=1Day&start=2000-01-03&limit=3&sort=desc'
tp_eq "... back to the generated bars" 3 "$(grep -o '"vw":' "$T/body" | wc -l)"
tp_lacks "... not the ones set" '"c":12.125' "$BODY"
get "$KA" "$SA" /v2/orders
tp_eq "an endpoint the sim does not serve is 404" 404 "$CODE"
CODE=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X POST -H "APCA-API-KEY-ID: $KA" \
    -H "APCA-API-SECRET-KEY: $SA" "$U/v2/account")
tp_eq "POST /v2/account is 405" 405 "$CODE"

# --- authentication ------------------------------------------------------------

tp_log "authentication"
CODE=$("${CURL[@]}" -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$U/v2/account")
tp_slurp BODY "$T/body"
tp_eq "no keys: 401" 401 "$CODE"
spec_error "the 401 body is an Alpaca error"
tp_has "the 401 body has Alpaca's code" '"code":40110000' "$BODY"
tp_eq "no rate-limit headers on an unauthenticated reply" "" "$(header X-RateLimit-Limit)"
get "$KA" "$SB" /v2/account
tp_eq "another key's secret: 401" 401 "$CODE"
get "$KA" "${SA}x" /v2/account
tp_eq "a longer secret: 401" 401 "$CODE"
get "PKNOSUCHKEY" "$SA" /v2/stocks/AAPL/trades/latest
tp_eq "an unknown key id on market data: 401" 401 "$CODE"
CODE=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "APCA-API-KEY-ID: $KA" "$U/v2/account")
tp_eq "a key id without a secret: 401" 401 "$CODE"

# --- the control API -----------------------------------------------------------

tp_log "control API"
control /_sim/accounts '{"key_id":"PKX","secret":"s","equity":{"a":1}}'
tp_eq "an account with a bad equity is refused" 400 "$CODE"
tp_has "saying which field" "equity" "$BODY"
control /_sim/accounts '{"key_id":"PKX","secret":"s","frobnicate":1}'
tp_eq "an unknown account field is refused" 400 "$CODE"
control /_sim/accounts '{"key_id":"PKX","secret":"s","status":"HAPPY"}'
tp_eq "a status Alpaca does not have is refused" 400 "$CODE"
control /_sim/accounts '{"key_id":"PKX"'
tp_eq "bad JSON is refused" 400 "$CODE"
tp_has "with an error code" '"code":"invalid_argument"' "$BODY"
control /_sim/behaviour '{"key_id":"'$KB'","behaviour":"tantrum"}'
tp_eq "an unknown behaviour is refused" 400 "$CODE"
control /_sim/behaviour '{"key_id":"PKNOSUCHKEY","behaviour":"silent"}'
tp_eq "a behaviour for an unknown key is 404" 404 "$CODE"
control /_sim/behaviour '{"key_id":"'$KB'","behaviour":"status"}'
tp_eq "behaviour status needs a status" 400 "$CODE"
control /_sim/prices '{"AAPL":"1.2345678"}'
tp_eq "a price with 7 decimals is refused" 400 "$CODE"
CODE=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' "$U/_sim/stats")
tp_slurp BODY "$T/body"
tp_eq "GET /_sim/stats is 200" 200 "$CODE"
tp_match "stats count account requests" '"account":[1-9]' "$BODY"
tp_match "stats count refused keys" '"unauthorized":5' "$BODY"
for k in positions clock trades_latest trades_latest_multi bars rate_limited total; do
	tp_has "stats have $k" "\"$k\":" "$BODY"
done
control /_sim/reset ''
tp_eq "POST /_sim/reset is 200" 200 "$CODE"
"${CURL[@]}" -o "$T/body" "$U/_sim/stats"
tp_slurp BODY "$T/body"
tp_has "reset zeroes the counters" '"total":0' "$BODY"
tp_has "reset keeps the accounts" '"accounts":2' "$BODY"
# (The control API refuses peers that are not loopback with 403; a test
# would need a second address on this machine, so it is not run here.)

tp_log "50,000 accounts in one request"
awk 'BEGIN { printf "{\"accounts\":["; for (i = 0; i < 50000; i++)
	printf "%s{\"key_id\":\"PKBULK%08d\",\"secret\":\"bulk-secret-%08d\",\"equity\":\"%d.%02d\"}",
	    (i ? "," : ""), i, i, 1000 + i, i % 100; printf "]}" }' >"$T/bulk.json"
start=$(date +%s%N)
CODE=$("${CURL[@]}" --max-time 120 -o "$T/body" -w '%{http_code}' \
    --data-binary @"$T/bulk.json" "$U/_sim/accounts")
ms=$((($(date +%s%N) - start) / 1000000))
tp_slurp BODY "$T/body"
tp_eq "a bulk load of 50,000 accounts is 200" 200 "$CODE"
tp_has "and all are there" '"accounts":50002' "$BODY"
tp_log "50,000 accounts loaded in ${ms} ms"
get PKBULK00031337 bulk-secret-00031337 /v2/account
tp_has "a bulk account answers with its own equity" '"equity":"32337.37"' "$BODY"

# --- keep-alive -----------------------------------------------------------------

tp_log "keep-alive"
curl -sv --max-time 10 -o /dev/null -o /dev/null -H "APCA-API-KEY-ID: $KA" \
    -H "APCA-API-SECRET-KEY: $SA" "$U/v2/account" "$U/v2/clock" 2>"$T/verbose"
tp_slurp V "$T/verbose"
tp_has "curl re-uses the connection for a second request" "Re-using existing connection" "$V"

# --- misbehaviours ---------------------------------------------------------------

tp_log "misbehaviours"
K=()
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
	K[i]=PKMIS$i
	control /_sim/accounts '{"key_id":"PKMIS'$i'","secret":"mis-secret-'$i'"}'
done
behave() { control /_sim/behaviour "$1"; tp_eq "behaviour ${1:0:60}... is set" 200 "$CODE"; }

behave '{"key_id":"PKMIS0","behaviour":"status","status":503}'
get PKMIS0 mis-secret-0 /v2/account
tp_eq "status: the fixed status code" 503 "$CODE"
spec_error "status: with an Alpaca error body"
tp_has "status: the code says the status" '"code":50310000' "$BODY"
tp_ne "status: the rate-limit headers are there" "" "$(header X-RateLimit-Remaining)"

behave '{"key_id":"PKMIS1","behaviour":"latency","latency":"1500ms"}'
W='%{http_code} %{time_total}' get PKMIS1 mis-secret-1 /v2/account
t=${CODE#* }
tp_eq "latency: the reply comes" 200 "${CODE%% *}"
tp_true "latency: after 1.5 s ($t s)" awk -v t="$t" 'BEGIN { exit !(t >= 1.45) }'
W='%{http_code} %{time_total}' get "$KA" "$SA" /v2/account
t=${CODE#* }
tp_true "latency: other keys are not slowed ($t s)" awk -v t="$t" 'BEGIN { exit !(t < 1.0) }'

behave '{"key_id":"PKMIS2","behaviour":"malformed"}'
get PKMIS2 mis-secret-2 /v2/account
tp_eq "malformed: status 200" 200 "$CODE"
tp_run "$SPEC" "$TRADING" get /v2/account 200 "$T/body"
tp_rc "malformed: the body is not valid JSON" 1
tp_has "malformed: as the checker says" "not a valid JSON reply" "$OUT"

behave '{"key_id":"PKMIS3","behaviour":"truncated"}'
get PKMIS3 mis-secret-3 /v2/account
tp_eq "truncated: curl reports a partial transfer (18)" 18 "$CRC"
tp_true "truncated: part of the body came" test "${#BODY}" -gt 10

behave '{"key_id":"PKMIS4","behaviour":"huge"}'
size=$("${CURL[@]}" --max-time 120 -o /dev/null -w '%{size_download}' \
    -H "APCA-API-KEY-ID: PKMIS4" -H "APCA-API-SECRET-KEY: mis-secret-4" "$U/v2/account")
tp_eq "huge: 64 MiB arrive" 67108864 "$size"
"${CURL[@]}" --max-time 120 -H "APCA-API-KEY-ID: PKMIS4" -H "APCA-API-SECRET-KEY: mis-secret-4" \
    "$U/v2/account" | head -c 60 >"$T/head"
tp_slurp H "$T/head"
tp_match "huge: it is an account with padding" '^\{"id":"' "$H"
size=$("${CURL[@]}" --max-time 120 -o /dev/null -w '%{size_download}' \
    -H "APCA-API-KEY-ID: PKMIS4" -H "APCA-API-SECRET-KEY: mis-secret-4" "$U/v2/positions")
tp_eq "huge: on every endpoint" 67108864 "$size"

behave '{"key_id":"PKMIS5","behaviour":"deep"}'
get PKMIS5 mis-secret-5 /v2/account
tp_eq "deep: status 200" 200 "$CODE"
tp_eq "deep: starts with the nesting" '{"nested":[[[[[[[[' "${BODY:0:18}"
tp_eq "deep: 100,000 levels" 200011 "${#BODY}"

behave '{"key_id":"PKMIS6","behaviour":"wrong_types"}'
for ep in /v2/account /v2/positions /v2/clock; do
	get PKMIS6 mis-secret-6 "$ep"
	tp_run "$SPEC" "$TRADING" get "$ep" 200 "$T/body"
	tp_rc "wrong_types: $ep breaks the spec" 1
done
get PKMIS6 mis-secret-6 /v2/account
tp_run "$SPEC" "$TRADING" get /v2/account 200 "$T/body"
tp_has "wrong_types: equity is an object" '$.equity: expected string, got object' "$OUT"
tp_has "wrong_types: status is a number" '$.status: expected string, got integer' "$OUT"
for ep in '/v2/stocks/{symbol}/trades/latest' /v2/stocks/trades/latest '/v2/stocks/{symbol}/bars'; do
	path=${ep/\{symbol\}/AAPL}
	case $ep in
	*trades/latest) [ "$path" = /v2/stocks/trades/latest ] && path="$path?symbols=AAPL" ;;
	*bars) path="$path?timeframe=1Hour&limit=2" ;;
	esac
	get PKMIS6 mis-secret-6 "$path"
	tp_run "$SPEC" "$DATA" get "$ep" 200 "$T/body"
	tp_rc "wrong_types: $ep breaks the spec" 1
done

behave '{"key_id":"PKMIS7","behaviour":"bad_utf8"}'
get PKMIS7 mis-secret-7 /v2/account
tp_eq "bad_utf8: status 200" 200 "$CODE"
tp_run "$SPEC" "$TRADING" get /v2/account 200 "$T/body"
tp_has "bad_utf8: the body is not UTF-8" "invalid UTF-8" "$OUT"
tp_true "bad_utf8: bytes C3 28 in it" grep -q "$(printf '\xc3(')" "$T/body"

behave '{"key_id":"PKMIS8","behaviour":"drip"}'
get PKMIS8 mis-secret-8 /v2/account --max-time 3
tp_eq "drip: the client times out (28)" 28 "$CRC"
tp_true "drip: a few bytes came, one a second (${#BODY})" test "${#BODY}" -ge 2 -a "${#BODY}" -le 5
tp_eq "drip: they are the start of the account" '{"i' "${BODY:0:3}"

behave '{"key_id":"PKMIS9","behaviour":"silent"}'
curl -s --max-time 2 -o /dev/null -H "APCA-API-KEY-ID: PKMIS9" \
    -H "APCA-API-SECRET-KEY: mis-secret-9" "$U/v2/account" &
bg=$!
sleep 0.5
get "$KA" "$SA" /v2/account
tp_eq "silent: other keys are answered meanwhile" 200 "$CODE"
wait "$bg"
tp_eq "silent: a client that gave up timed out (28)" 28 "$?"
get PKMIS9 mis-secret-9 /v2/account --max-time 2
tp_eq "silent: the client times out (28)" 28 "$CRC"
tp_eq "silent: nothing came" "" "$BODY"
held=
for ((i = 0; i < 40; i++)); do
	"${CURL[@]}" -o "$T/body" "$U/_sim/stats"
	held=$(tp_jq .pending "$(<"$T/body")")
	[ "$held" = 0 ] && break
	sleep 0.1
done
tp_eq "silent: the held request is released when the client leaves" 0 "$held"

# a silent request still held when the sim stops must be freed too
# (sanitizer builds would report a leak in the sim's log)
"${CURL[@]}" --max-time 20 -o /dev/null -H "APCA-API-KEY-ID: PKMIS9" \
    -H "APCA-API-SECRET-KEY: mis-secret-9" "$U/v2/account" &
held_curl=$!
behave '{"key_id":"PKMIS10","behaviour":"drip"}'
"${CURL[@]}" --max-time 20 -o /dev/null -H "APCA-API-KEY-ID: PKMIS10" \
    -H "APCA-API-SECRET-KEY: mis-secret-10" "$U/v2/account" &
drip_curl=$!
behave '{"key_id":"PKMIS11","behaviour":"latency","latency":"10s"}'
"${CURL[@]}" --max-time 20 -o /dev/null -H "APCA-API-KEY-ID: PKMIS11" \
    -H "APCA-API-SECRET-KEY: mis-secret-11" "$U/v2/account" &
late_curl=$!
for ((i = 0; i < 40; i++)); do
	"${CURL[@]}" -o "$T/body" "$U/_sim/stats"
	held=$(tp_jq .pending "$(<"$T/body")")
	[ "$held" = 3 ] && break
	sleep 0.1
done
tp_eq "three replies are pending (silent, drip, latency)" 3 "$held"

control /_sim/reset '{"behaviours":true}'
get PKMIS2 mis-secret-2 /v2/account
spec "reset behaviours: a misbehaving key is normal again" "$TRADING" /v2/account

# --- the rate limit ---------------------------------------------------------------

tp_log "rate limit"
sim_start b --seed 42 --rate-limit 5 || tp_finish
B_PID=$SIM_PID
control /_sim/accounts "$ACCOUNT_A"
control /_sim/accounts '{"key_id":"'$KB'","secret":"'$SB'"}'
codes=
for i in 1 2 3 4 5 6 7; do
	get "$KA" "$SA" /v2/account
	codes="$codes $CODE"
done
tp_eq "5 requests a minute, then 429" " 200 200 200 200 200 429 429" "$codes"
spec_error "the 429 body is an Alpaca error"
tp_has "the 429 body has Alpaca's code" '"code":42910000' "$BODY"
tp_eq "429: X-RateLimit-Remaining is 0" 0 "$(header X-RateLimit-Remaining)"
tp_eq "429: X-RateLimit-Limit" 5 "$(header X-RateLimit-Limit)"
reset=$(header X-RateLimit-Reset)
now=$(date +%s)
tp_true "429: X-RateLimit-Reset is within the minute" \
    test "${reset:-0}" -ge "$now" -a "${reset:-0}" -le $((now + 61))
get "$KA" "$SA" /v2/stocks/AAPL/trades/latest
tp_eq "the limit covers market data of the same key" 429 "$CODE"
get "$KB" "$SB" /v2/account
tp_eq "another key is not limited" 200 "$CODE"
"${CURL[@]}" -o "$T/body" "$U/_sim/stats"
tp_has "stats count the refused requests" '"rate_limited":3' "$(<"$T/body")"

# --- determinism --------------------------------------------------------------

tp_log "determinism"
# The same seed and control calls give the same bytes; compare sim b
# (limit aside) with sim c started afresh.
sim_start c --seed 42 --rate-limit 0 || tp_finish
C_PID=$SIM_PID
C_URL=$U
control /_sim/accounts "$ACCOUNT_A"
paths=(/v2/account /v2/positions /v2/clock /v2/stocks/AAPL/trades/latest
    '/v2/stocks/trades/latest?symbols=AAPL,MSFT,BRK.B,SPY'
    '/v2/stocks/MSFT/bars?timeframe=15Min&limit=20'
    '/v2/stocks/MSFT/bars?timeframe=1Month&start=2020-01-01&limit=50')
n=0
for p in "${paths[@]}"; do
	get "$KA" "$SA" "$p"
	cp "$T/body" "$T/c.$n.body"
	n=$((n + 1))
done
if sim_start d --seed 42 --rate-limit 0; then
	control /_sim/accounts "$ACCOUNT_A"
	n=0
	for p in "${paths[@]}"; do
		get "$KA" "$SA" "$p"
		tp_true "same seed, same reply: $p" cmp -s "$T/body" "$T/c.$n.body"
		n=$((n + 1))
	done
	sim_stop "$SIM_PID" d
fi
U=$C_URL
sim_start e --seed 43 --rate-limit 0 || tp_finish
control /_sim/accounts "$ACCOUNT_A"
get "$KA" "$SA" '/v2/stocks/trades/latest?symbols=AAPL,MSFT,BRK.B,SPY'
cp "$T/body" "$T/e.body"
U=$C_URL
get "$KA" "$SA" '/v2/stocks/trades/latest?symbols=AAPL,MSFT,BRK.B,SPY'
tp_true "another seed, other prices" sh -c "! cmp -s '$T/body' '$T/e.body'"
sim_stop "$SIM_PID" e

# --- stopping ----------------------------------------------------------------------

tp_log "stopping"
sim_stop "$C_PID" c
sim_stop "$B_PID" b
sim_stop "$A_PID" a
# The sim closed the connections of the replies it held: their clients
# end on that (52: empty reply, 18: partial), not on their 20 s timeout.
for p in "$held_curl" "$drip_curl" "$late_curl"; do
	wait "$p" 2>/dev/null
	tp_ne "a client of a held reply is let go when the sim stops" 28 "$?"
done
for f in "$T"/sim-*.log; do
	tp_file_lacks "no warning in $(basename "$f")" "warning" "$f"
done

tp_finish
