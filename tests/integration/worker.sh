#!/usr/bin/env bash
# tests/integration/worker.sh: one sandboxed worker against alpaca-sim, driven by tests/workerharness: sync, P&L, prices, every misbehaviour, limits, deadlines.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init worker

HARNESS=$TP_BUILDDIR/tests/workerharness
[ -x "$HARNESS" ] || { tp_fail "program $HARNESS is built"; tp_finish; }
tp_need_workers || tp_finish
tp_sim_start -q || tp_finish

# A deadline that leaves the sanitizer build room to start its worker.
DL=6000
tp_sanitized && DL=10000
HB=1500

SECRET_MARK=s3cretWORKERtest

# account KEY [behaviour JSON]: an account at the sim, with a behaviour.
account() {
	tp_sim POST /_sim/accounts "{\"key_id\":\"$1\",\"secret\":\"$SECRET_MARK-$1\"}" >/dev/null ||
	    tp_fail "sim account $1"
	[ -z "${2:-}" ] || tp_sim POST /_sim/behaviour "{\"key_id\":\"$1\",$2}" >/dev/null ||
	    tp_fail "sim behaviour of $1: $2"
}

# job ID UID KEY [EXTRA JSON]: one sync JOB line.
job() {
	printf '{"job_id":"%s","uid":"%s","kind":"sync","deadline_ms":%d,"keys":{"key_id":"%s","secret":"%s-%s"}%s}\n' \
	    "$1" "$2" "$DL" "$3" "$SECRET_MARK" "$3" "${4:-}"
}

# run CONFIG JOBFILE OUTFILE: the harness; its exit status.
run() {
	"$HARNESS" "$TPW" "$1" "$2" 60000 >"$3" 2>>"$T/worker.log"
}

# result ID FILE: the RESULT line of job ID.
result() { grep -m 1 "^RESULT {\"job_id\":\"$1\"" "$2"; }

CONF="{\"trading_url\":\"$TP_SIM_URL\",\"data_url\":\"$TP_SIM_URL\",\"heartbeat_ms\":$HB}"
TRADES=',"trades":[
{"id":"t1","symbol":"AAPL","side":"long","qty":"10","entry_price":"180.00"},
{"id":"t2","symbol":"MSFT","side":"short","qty":3,"entry_price":400.1},
{"id":"t3","symbol":"ZZZZ","side":"long","qty":1,"entry_price":1},
{"id":"t4","symbol":"AAPL","side":"sideways","qty":1,"entry_price":1},
{"id":"t5","symbol":"AAPL","side":"buy","qty":"0","entry_price":1},
{"id":"t6","symbol":"BRK.B","side":"sell","qty":"0.333333","entry_price":"122011.09751111286868"}]'
TRADES=${TRADES//$'\n'/}

tp_sim POST /_sim/prices '{"AAPL":"187.25","MSFT":"410.50","BRK.B":"100.01"}' >/dev/null ||
    tp_fail "sim prices"
# ZZZZ must be unknown to the sim for the unknown-symbol check
tp_sim POST /_sim/prices '{"ZZZZ":null}' >/dev/null 2>&1

# --- one worker, healthy tenants next to every misbehaviour -------------------

account PKWGOOD0001
account PKWGOOD0002
account PKW503XXXX '"behaviour":"status","status":503'
account PKW403XXXX '"behaviour":"status","status":403'
BEHAVIOURS="malformed truncated huge deep wrong_types bad_utf8 drip silent"
for b in $BEHAVIOURS; do
	account "PKW${b//_/}X" "\"behaviour\":\"$b\""
done
account PKWSLOWXXX '"behaviour":"latency","latency":"60s"'

{
	job good good PKWGOOD0001 "$TRADES"
	job bad bad PKWNOSUCHKEY
	job s503 s503 PKW503XXXX
	job s403 s403 PKW403XXXX
	for b in $BEHAVIOURS; do
		job "b-${b//_/-}" "u-${b//_/-}" "PKW${b//_/}X" "$TRADES"
	done
	job slow slow PKWSLOWXXX
	job good2 good2 PKWGOOD0002
	printf '{"job_id":"px","kind":"prices","deadline_ms":%d,"keys":{"key_id":"PKWGOOD0002","secret":"%s-PKWGOOD0002"},"symbols":["AAPL","MSFT","AAPL","BRK.B","ZZZZ"]}\n' \
	    "$DL" "$SECRET_MARK"
} >"$T/jobs.txt"
NJOBS=$(wc -l <"$T/jobs.txt")

tp_log "$NJOBS jobs in one worker"
run "$CONF" "$T/jobs.txt" "$T/out.txt"
rc=$?
tp_eq "harness: every job answered, worker exited 0" 0 "$rc"
SUMMARY=$(sed -n 's/^SUMMARY //p' "$T/out.txt")
tp_eq "RESULTs" "$NJOBS" "$(tp_jq .results "$SUMMARY")"
tp_eq "worker exit" "status 0" "$(tp_jq .exit "$SUMMARY")" ||
    { tp_log "the worker's stderr:"; tail -n 20 "$T/worker.log" | sed 's/^/#   /'; }
gap=$(tp_jq .max_heartbeat_gap_ms "$SUMMARY")
tp_true "heartbeats kept flowing during slow transfers (max gap ${gap} ms < $HB)" \
    test "${gap:-99999}" -lt "$HB"
ms=$(tp_jq .ms "$SUMMARY")
tp_true "every RESULT before the deadline (${ms} ms for the run, deadline $DL)" \
    test "${ms:-99999}" -lt $((DL + 3000))
tp_file_lacks "no secret in RESULTs or LOGs" "$SECRET_MARK" "$T/out.txt"
tp_file_lacks "no secret on the worker's stderr" "$SECRET_MARK" "$T/worker.log"

# the healthy tenant, its snapshot and its trades
r=$(result good "$T/out.txt")
tp_has "good: ok" '"ok":true' "$r"
tp_has "good: key_id_last4" '"key_id_last4":"0001"' "$r"
tp_has "good: status" '"status":"ACTIVE"' "$r"
# typed RESULT (common/wire_result.h): what was learned, no document paths;
# the supervisor composes the writes (pulse.sh checks the documents)
tp_nomatch "good: no document path in the RESULT" '"path":|"writes":' "$r"
tp_match "good: account fields, equity a decimal string" '"account":\{[^}]*"equity":"[0-9.]+"' "$r"
tp_has "good: long trade marked" '{"id":"t1","current_price":187.25,"unrealized_pnl":72.50,"pnl_percent":4.0278}' "$r"
tp_has "good: short trade marked" '{"id":"t2","current_price":410.50,"unrealized_pnl":-31.20,"pnl_percent":-2.5994}' "$r"
# (122011.09751111286868 - 100.01) * 0.333333 = 40636.988533341785...
# -> 40636.99; percent of entry * qty -> 99.9180
tp_has "good: short with many decimals" '{"id":"t6","current_price":100.01,"unrealized_pnl":40636.99,"pnl_percent":99.9180}' "$r"
tp_has "good: unknown symbol fails that trade only" '"pnl_error":{"code":"not_found","message":"no latest trade for symbol ZZZZ"' "$r"
tp_has "good: bad side fails that trade only" 'side \"sideways\" is not long, short, buy or sell' "$r"
tp_has "good: zero qty fails that trade only" 'qty must be above zero' "$r"
tp_eq "good: counts (marked)" 3 "$(grep -o '"current_price":' <<<"$r" | wc -l)"
tp_eq "good: counts (failed)" 3 "$(grep -o '"pnl_error":' <<<"$r" | wc -l)"
tp_has "good: requests counted" '"requests":{"account":1,"trades_latest":1,"retries":0}' "$r"
tp_file_has "good: the account line in its RESULT's log" '^RESULT \{"job_id":"good",.*"log":\[.*\{"level":"info","event":"account","message":"account ACTIVE, equity' "$T/out.txt"
tp_file_has "good: the pnl line in its RESULT's log" '^RESULT \{"job_id":"good",.*"log":\[.*\{"level":"warn","event":"pnl","message":"marked 3 open trades, unrealized P&L 40678.29; 3 failed' "$T/out.txt"
tp_has "good2: ok" '"ok":true' "$(result good2 "$T/out.txt")"

# errors, one tenant each, in words
r=$(result bad "$T/out.txt")
tp_has "bad keys: unauthenticated" '"ok":false,"error":{"code":"unauthenticated","message":"Alpaca rejected the API keys (HTTP 401): check the key id and secret with `tradepulse keys set bad`"}' "$r"
tp_nomatch "bad keys: nothing learned" '"account":|"marks":' "$r"
tp_has "503: unavailable after retries" '"code":"unavailable","message":"Alpaca answered with HTTP 503 (GET /v2/account, ' "$(result s503 "$T/out.txt")"
tp_file_has "503: retries logged" '^RESULT \{"job_id":"s503",.*"log":\[\{"level":"warn","event":"alpaca","message":"GET /v2/account: Alpaca answered with HTTP 503; retry 1 in' "$T/out.txt"
tp_has "403: permission_denied" '"code":"permission_denied","message":"Alpaca refused GET /v2/account (HTTP 403)' "$(result s403 "$T/out.txt")"
tp_has "malformed" '"code":"unavailable","message":"Alpaca sent a malformed reply to GET /v2/account: invalid JSON' "$(result b-malformed "$T/out.txt")"
tp_has "truncated" '"code":"unavailable","message":"Alpaca' "$(result b-truncated "$T/out.txt")"
tp_has "huge" '"code":"resource_exhausted","message":"Alpaca'"'"'s reply to GET /v2/account is larger than 1 MiB"' "$(result b-huge "$T/out.txt")"
tp_has "deep" '"code":"unavailable","message":"Alpaca sent a malformed reply to GET /v2/account: invalid JSON at offset' "$(result b-deep "$T/out.txt")"
tp_has "wrong types" '"code":"unavailable","message":"Alpaca sent a malformed reply to GET /v2/account: field \"' "$(result b-wrong-types "$T/out.txt")"
tp_has "bad UTF-8" 'invalid UTF-8' "$(result b-bad-utf8 "$T/out.txt")"
tp_has "drip" '"code":"unavailable","message":"Alpaca did not answer within the job'"'"'s deadline' "$(result b-drip "$T/out.txt")"
tp_has "silent" '"code":"unavailable","message":"Alpaca did not answer within the job'"'"'s deadline' "$(result b-silent "$T/out.txt")"
tp_has "slow" '"code":"unavailable","message":"Alpaca did not answer within the job'"'"'s deadline' "$(result slow "$T/out.txt")"

# the prices job
r=$(result px "$T/out.txt")
tp_has "prices: ok" '"ok":true' "$r"
tp_has "prices: decimal strings" '"AAPL":"187.25","MSFT":"410.50","BRK.B":"100.01"' "$r"
tp_lacks "prices: unknown symbol left out" '"ZZZZ"' "$r"
tp_has "prices: one request for the distinct symbols" '"requests":{"trades_latest":1,' "$r"

# --- prices handed over by the pulse, and JOB checks -----------------------------

{
	job pp pp PKWGOOD0001 ',"prices":{"AAPL":"200.005"},"trades":[{"id":"a","symbol":"AAPL","side":"long","qty":2,"entry_price":"100"},{"id":"m","symbol":"MSFT","side":"long","qty":1,"entry_price":"1"}]'
	job badprice bp PKWGOOD0001 ',"prices":{"AAPL":"-1"}'
	job badtrade bt PKWGOOD0001 ',"trades":[{"id":"../x","symbol":"AAPL"}]'
	awk 'BEGIN { printf "{\"job_id\":\"many\",\"uid\":\"many\",\"kind\":\"sync\",\"deadline_ms\":5000,\"keys\":{\"key_id\":\"PKWGOOD0001\",\"secret\":\"x\"},\"trades\":["
		for (i = 0; i <= 500; i++) printf "%s{\"id\":\"t%d\"}", (i ? "," : ""), i
		print "]}" }'
	# sealed keys: the harness seals "keys"; these lines bring their own
	sk() { printf '{"job_id":"%s","uid":"%s","kind":"sync","deadline_ms":%d,%s}\n' "$1" "$1" "$DL" "$2"; }
	sk skclear '"keys_clear":{"key_id":"PKWGOOD0001","secret":"'"$SECRET_MARK"'-PKWGOOD0001"}'
	sk sknob64 '"keys_sealed":"not base64!"'
	sk skshort '"keys_sealed":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"'
	sk sklong "\"keys_sealed\":\"$(head -c 600 /dev/zero | base64 -w0)\""
	# the right length, another key (or a tampered box): the MAC fails
	sk skmac "\"keys_sealed\":\"$(head -c 80 /dev/urandom | base64 -w0)\""
	sk sknum '"keys_sealed":42'
} >"$T/pp.txt"
run "$CONF" "$T/pp.txt" "$T/pp.out"
r=$(result pp "$T/pp.out")
tp_has "pulse prices: used" '{"id":"a","current_price":200.005,"unrealized_pnl":200.01,"pnl_percent":100.0050}' "$r"
tp_has "pulse prices: a symbol they lack has none" '"message":"no latest trade for symbol MSFT"' "$r"
tp_has "pulse prices: no price request" '"requests":{"account":1,"trades_latest":0,' "$r"
tp_has "a bad price map refuses the JOB" '"code":"invalid_argument","message":"\"prices\" of AAPL is not a decimal string above 0"' "$(result badprice "$T/pp.out")"
tp_has "a trade id outside the tenant refuses the JOB" '"code":"invalid_argument","message":"trade 0 is not a map with a document \"id\""' "$(result badtrade "$T/pp.out")"
tp_has "clear keys refuse the JOB" '"code":"invalid_argument","message":"\"keys_sealed\" is missing or not a string"' "$(result skclear "$T/pp.out")"
tp_has "keys_sealed not a string refuses the JOB" '"code":"invalid_argument","message":"\"keys_sealed\" is missing or not a string"' "$(result sknum "$T/pp.out")"
tp_has "keys_sealed not base64 refuses the JOB" '"code":"invalid_argument","message":"\"keys_sealed\" is not base64 of at most' "$(result sknob64 "$T/pp.out")"
tp_has "keys_sealed too short refuses the JOB" '"code":"invalid_argument","message":"\"keys_sealed\" is too short' "$(result skshort "$T/pp.out")"
tp_has "keys_sealed too long refuses the JOB" '"code":"invalid_argument","message":"\"keys_sealed\" is not base64 of at most' "$(result sklong "$T/pp.out")"
tp_has "keys_sealed under another key refuses the JOB" '"code":"invalid_argument","message":"\"keys_sealed\" does not open under this worker'"'"'s session key"' "$(result skmac "$T/pp.out")"
tp_lacks "the clear secret is never echoed" "$SECRET_MARK" "$(cat "$T/pp.out")"
tp_has "more than 500 trades refuse the JOB" '"code":"invalid_argument","message":"\"trades\" must be a list of at most 500 trades"' "$(result many "$T/pp.out")"

# --- limits --------------------------------------------------------------------

# 2 requests a minute at the sim: a second sync of the key is refused with
# a reset a minute away, past the deadline
tp_sim_stop
tp_sim_start -q --rate-limit 2 || tp_finish
CONF="{\"trading_url\":\"$TP_SIM_URL\",\"data_url\":\"$TP_SIM_URL\"}"
account PKWRATE001
{ job r1 r1 PKWRATE001; job r2 r2 PKWRATE001; job r3 r3 PKWRATE001; } >"$T/rate.txt"
run "$CONF" "$T/rate.txt" "$T/rate.out"
tp_match "429 past the deadline: resource_exhausted with the reset time" \
    '"code":"resource_exhausted","message":"Alpaca'"'"'s rate limit for this account is exhausted until [0-2][0-9]:[0-5][0-9]:[0-5][0-9] UTC' \
    "$(cat "$T/rate.out")"
tp_eq "429: the others synced" 2 "$(grep -c '"ok":true' "$T/rate.out")"

# the worker's own bucket: 1 request a minute leaves the prices request
# no room before the deadline; the account still syncs
job b1 b1 PKWRATE001 ',"trades":[{"id":"t1","symbol":"AAPL","side":"long","qty":1,"entry_price":1}]' >"$T/bucket.txt"
tp_sim POST /_sim/reset '{}' >/dev/null
tp_sim_stop
tp_sim_start -q || tp_finish
account PKWRATE001
run "{\"trading_url\":\"$TP_SIM_URL\",\"data_url\":\"$TP_SIM_URL\",\"requests_per_minute\":1}" \
    "$T/bucket.txt" "$T/bucket.out"
r=$(result b1 "$T/bucket.out")
tp_has "requests_per_minute: account synced" '"ok":true' "$r"
tp_has "requests_per_minute: trade fails for lack of requests" 'the limit of 1 Alpaca requests per minute leaves no request for GET /v2/stocks/trades/latest' "$r"

# --- configuration ---------------------------------------------------------------

job c1 c1 PKWGOOD0001 >"$T/c.txt"
run '{}' "$T/c.txt" "$T/c.out"
tp_has "CONFIG without URLs: the job says so" '"code":"failed_precondition","message":"the worker'"'"'s CONFIG has no trading_url"' "$(result c1 "$T/c.out")"
run "{\"trading_url\":\"http://alpaca.invalid:1\",\"data_url\":\"$TP_SIM_URL\"}" "$T/c.txt" "$T/c2.out"
tp_has "a host without an address in resolve: the job says so" 'has no address in the worker' "$(result c1 "$T/c2.out")"
port=${TP_SIM_URL##*:}
account PKWGOOD0001
run "{\"trading_url\":\"http://broker.test:$port\",\"data_url\":\"http://broker.test:$port/\",\"resolve\":[\"broker.test:$port:127.0.0.1\"]}" \
    "$T/c.txt" "$T/c3.out"
tp_has "a host name through resolve" '"ok":true' "$(result c1 "$T/c3.out")"
run '{"trading_url":"ftp://x"}' "$T/c.txt" "$T/c4.out"
tp_ne "a bad URL in CONFIG ends the worker" 0 "$?"
tp_file_has "... saying why" 'CONFIG "trading_url" must be an http:// or https:// URL' "$T/worker.log"

# --- TLS inside the sandbox (a fault-injection build reads a test CA) ---------------

if ! tp_has_faults; then
	tp_log "TLS inside the sandbox: not checked, this build has no fault injection (it reads the test CA)"
elif ! command -v openssl >/dev/null; then
	tp_log "TLS inside the sandbox: not checked, openssl is missing"
else
	mkdir -p "$T/www/v2/stocks/trades"
	printf '{"id":"x","status":"ACTIVE","equity":"12.5"}' >"$T/www/v2/account"
	printf '{"trades":{"AAPL":{"p":13.5}}}' >"$T/www/v2/stocks/trades/latest?symbols=AAPL"
	if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" \
	    -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1; then
		# a random port may be taken (other tests run beside this one),
		# and a loaded machine may take a while to start the server:
		# wait until it accepts, on another port if it died
		tready=0
		for tattempt in 1 2 3 4 5; do
			tport=$((20000 + RANDOM % 20000))
			(cd "$T/www" && exec openssl s_server -quiet -accept "127.0.0.1:$tport" \
			    -cert "$T/c.pem" -key "$T/k.pem" -WWW) >"$T/s_server.log" 2>&1 &
			tpid=$!
			TP_PIDS+=("$tpid")
			for _ in $(seq 1 100); do
				tp_alive "$tpid" || break
				if (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null; then
					tready=1
					break
				fi
				sleep 0.1
			done
			[ "$tready" = 1 ] && break
			kill "$tpid" 2>/dev/null
		done
		tp_eq "the test's HTTPS server accepts connections (attempt $tattempt)" 1 "$tready"
		job tls tls PKWTLS0001 ',"trades":[{"id":"t1","symbol":"AAPL","side":"long","qty":2,"entry_price":10}]' >"$T/tls.txt"
		TP_TEST_CA_FILE=$T/c.pem run "{\"trading_url\":\"https://127.0.0.1:$tport\",\"data_url\":\"https://127.0.0.1:$tport\"}" \
		    "$T/tls.txt" "$T/tls.out"
		r=$(result tls "$T/tls.out")
		tp_has "HTTPS in the sandbox: synced" '"ok":true' "$r"
		tp_has "HTTPS in the sandbox: marked" '"unrealized_pnl":7.00' "$r"
		run "{\"trading_url\":\"https://127.0.0.1:$tport\",\"data_url\":\"https://127.0.0.1:$tport\"}" \
		    "$T/tls.txt" "$T/tls2.out"
		tp_has "HTTPS: an untrusted certificate is refused" "TLS certificate was not accepted" \
		    "$(result tls "$T/tls2.out")"
	fi
fi

tp_finish
