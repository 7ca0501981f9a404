#!/usr/bin/env bash
# tests/integration/dashboard_page.sh: the users' dashboard end to end in headless Chromium (playwright-core): sign-in, live P&L without reloading, a signal, the kill-switch, another user sees nothing of it; screenshots at desktop and phone width.
#
# tradepulsed serves web/ and the user API on [daemon] http; alpaca-sim is the
# broker. Tenants dash-a and dash-b have keys and open shadow trades. The
# browser (Debian's chromium, driven by tests/integration/dashboard_page.mjs
# over a pipe: one JSON command a line) signs in as dash-a with an emulator ID
# token ([auth] accept_emulator_tokens = yes), the test moves prices in
# alpaca-sim and runs a pulse, and the page must show the daemon's new total
# without a navigation. Screenshots go to
# $TP_BUILDDIR/tests/integration/dashboard_page-shots/ (dashboard_page_fs-shots/
# on Firestore). Skipped (77) without chromium, node or npm, or when npm
# cannot install playwright-core.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=dashboard_page
[ "${TP_STORE_BACKEND:-sqlite}" = sqlite ] || NAME=dashboard_page_fs
tp_init "$NAME"
tp_need_workers || tp_finish
command -v jq >/dev/null || tp_skip "jq is not installed"
CHROMIUM=${TP_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || tp_skip "Debian's chromium is not installed ($CHROMIUM; apt-get install chromium)"
command -v node >/dev/null || tp_skip "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || tp_skip "npm is not installed (apt-get install npm)"

# playwright-core, once per build tree (only the driver library: it downloads no
# browser). From 1.62 on it needs node 20; Debian 12's nodejs is 18: 1.61 there.
NODE_DIR=$TP_BUILDDIR/tests/node
PW=$NODE_DIR/node_modules/playwright-core
PW_SPEC=playwright-core@1
[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ] ||
    PW_SPEC=playwright-core@1.61
# The SQLite and Firestore runs may start together: one installs, the other waits.
mkdir -p "$NODE_DIR"
exec 9>"$NODE_DIR/.install.lock"
flock -w 330 9 || tp_skip "another run has been installing playwright-core for 330 s"
if [ ! -f "$PW/package.json" ]; then
	tp_log "npm install $PW_SPEC in $NODE_DIR"
	if ! timeout 300 npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
	    "$PW_SPEC" >"$T/npm.out" 2>&1 || [ ! -f "$PW/package.json" ]; then
		tp_skip "npm could not install playwright-core: $(tail -n 3 "$T/npm.out" | tr '\n' ' ')"
	fi
fi
exec 9>&-
tp_log "playwright-core $(jq -r .version "$PW/package.json"), $("$CHROMIUM" --version 2>/dev/null)"

SHOTS=$TP_BUILDDIR/tests/integration/$NAME-shots
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

PROJECT=tp-dashboard-test
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT

tp_sim_start --latency 2ms --seed 7 || tp_finish
tp_worker_config "daemon.http=127.0.0.1:$PORT" "daemon.web_root=$TP_SRCDIR/web" \
    auth.accept_emulator_tokens=yes "auth.firebase_project_id=$PROJECT" \
    workers.max_workers=2 workers.job_timeout=15s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }
printf 'dash-a\ndash-b\n' >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# token UID: an emulator ID token ({"alg":"none"}, no signature) for UID.
token() {
	local now h c
	now=$(date +%s)
	h=$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url)
	c=$(jq -cn --arg uid "$1" --arg p "$PROJECT" --argjson now "$now" \
	    '{sub: $uid, user_id: $uid, iss: ("https://securetoken.google.com/" + $p),
	    aud: $p, iat: $now, exp: ($now + 3600), auth_time: $now,
	    firebase: {sign_in_provider: "password", identities: {}}}' | b64url)
	printf '%s.%s.' "$h" "$c"
}
TA=$(token dash-a)
TB=$(token dash-b)

# api TOKEN METHOD PATH [BODY]: the user API; status to CODE, body to BODY.
api() {
	local a=(-s -m 60 -o "$T/resp" -w '%{http_code}' -X "$2")
	[ -z "$1" ] || a+=(-H "Authorization: Bearer $1")
	[ $# -lt 4 ] || a+=(-H 'Content-Type: application/json' --data-binary "$4")
	CODE=$(curl "${a[@]}" "$BASE$3") || CODE=000
	tp_slurp BODY "$T/resp"
}

# Prices, A's and B's trades, and AAPL's daily closes (a rising series: a BUY signal).
tp_sim POST /_sim/prices '{"AAPL":"150.00","MSFT":"300.00","NVDA":"100.00"}' >/dev/null ||
    tp_fail "sim: prices set"
up=100 closes='"100.00"'
for i in $(seq 1 39); do
	if [ $((i % 2)) = 1 ]; then up=$((up + 2)); else up=$((up - 1)); fi
	closes="$closes,\"$up.00\""
done
tp_sim POST /_sim/bars "{\"symbol\":\"AAPL\",\"closes\":[$closes]}" >/dev/null ||
    tp_fail "sim: AAPL's closes set"
cat >"$T/docs" <<'DOCS'
set users/dash-a/shadowTradeHistory/ta1 {"symbol":"AAPL","side":"long","qty":"10","entry_price":"140.00","status":"OPEN","created_at":"2026-11-03T10:00:00.000000Z"}
set users/dash-a/shadowTradeHistory/ta2 {"symbol":"MSFT","side":"short","qty":"2","entry_price":"310.10","status":"OPEN","created_at":"2026-11-02T10:00:00.000000Z"}
set users/dash-a/shadowTradeHistory/ta3 {"symbol":"MSFT","side":"long","qty":"1","entry_price":"290","exit_price":"302.5","realized_pnl":"12.5","status":"CLOSED","close_reason":"take_profit","created_at":"2026-10-01T10:00:00.000000Z","closed_at":"2026-10-05T10:00:00.000000Z"}
set users/dash-b/shadowTradeHistory/tb1 {"symbol":"NVDA","side":"long","qty":"3","entry_price":"90","status":"OPEN","created_at":"2026-11-01T10:00:00.000000Z"}
DOCS
tp_store load "$T/docs" || { tp_fail "the trades are written"; tp_finish; }

pulse() { "$TPCLI" -f "$TP_CONF" --json -t 120 pulse --wait; }
out=$(pulse)
tp_eq "the first pulse syncs both tenants" 2 "$(tp_jq .synced "$out")" "$out"

api "$TA" GET /api/v1/me
tp_eq "GET /api/v1/me with A's token" 200 "$CODE" || { tp_log "$BODY"; tp_finish; }
ME_A=$BODY
EQ_A=$(tp_jq .snapshot.equity "$ME_A")
TOTAL1=$(tp_jq .total_unrealized_pnl "$ME_A")
OPEN_A=$(tp_jq '[.open_trades[].id] | sort | join(" ")' "$ME_A")
tp_eq "A has two open trades" "ta1 ta2" "$OPEN_A"
tp_match "A's total is decimal text" '^-?[0-9]+\.[0-9]{2}$' "$TOTAL1"
tp_log "A: equity $EQ_A, total unrealized P&L $TOTAL1"

# --- the browser ---------------------------------------------------------------------

coproc PWD_DRV { exec node "$TP_SRCDIR/tests/integration/dashboard_page.mjs" "$PW" "$CHROMIUM" 2>>"$T/browser.log"; }
TP_PIDS+=("$PWD_DRV_PID")
# pw JSON: one command to the browser; its reply in R (and 1 unless "ok").
pw() {
	R=
	{ printf '%s\n' "$1" >&"${PWD_DRV[1]}"; } 2>/dev/null || { R='{"ok":false,"error":"the driver is gone"}'; return 1; }
	IFS= read -r -t 60 R <&"${PWD_DRV[0]}" || R='{"ok":false,"error":"no reply from the driver in 60 s"}'
	[ "$(tp_jq .ok "$R")" = true ]
}
# pwv JS: the value of a page expression (strings raw).
pwv() { pw "$(jq -cn --arg js "$1" '{op: "eval", js: $js}')" && tp_jq .value "$R"; }
# pwwait NAME JS [MS]: a check that the page expression becomes true in time.
pwwait() {
	if pw "$(jq -cn --arg js "$2" --argjson t "${3:-15000}" '{op: "wait", js: $js, timeout_ms: $t}')"; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "$(tp_jq .error "$R")" "the page's alert: $(pwv 'document.getElementById("alert").textContent')"
	return 1
}
pwdo() { pw "$1" || tp_fail "browser: $1" "$(tp_jq .error "$R")"; }
ds() { printf 'document.getElementById("%s").dataset.%s' "$1" "$2"; }
shot() {
	pwdo "$(jq -cn --argjson w "$1" --argjson h "$2" '{op: "viewport", width: $w, height: $h}')"
	pwdo "$(jq -cn --arg p "$SHOTS/$3" '{op: "shot", path: $p}')"
	[ -s "$SHOTS/$3" ] && tp_log "screenshot: $SHOTS/$3 ($1x$2 viewport, the full page)"
}

pwdo "$(jq -cn --arg u "$BASE/" '{op: "goto", url: $u}')" || tp_finish
pwwait "the page shows the sign-in form" '!document.getElementById("signin").hidden'
tp_eq "the token field has the focus" token "$(pwv 'document.activeElement.id')"
pwdo '{"op":"key","key":"Tab"}'
tp_eq "Tab moves to the sign-in button" "Sign in" "$(pwv 'document.activeElement.textContent')"
tp_eq "... whose keyboard focus is visible (a 3 px outline)" "solid 3px" \
    "$(pwv 'getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth')"
shot 1280 800 signin-desktop.png

tp_log "sign in as dash-a"
pwdo "$(jq -cn --arg v "$TA" '{op: "fill", sel: "#token", value: $v}')"
pwdo '{"op":"click","sel":"#signin-form button[type=submit]"}'
pwwait "A's dashboard loads (the daemon's total is shown)" \
    "$(ds total-pnl value) === $(jq -cn --arg v "$TOTAL1" '$v')"
tp_eq "the page shows A's uid" dash-a "$(pwv 'document.getElementById("uid").textContent')"
tp_eq "the page shows A's equity, as the API sends it" "$EQ_A" "$(pwv "$(ds equity value)")"
tp_eq "... cash" "$(tp_jq .snapshot.cash "$ME_A")" "$(pwv "$(ds cash value)")"
tp_eq "... buying power" "$(tp_jq .snapshot.buying_power "$ME_A")" "$(pwv "$(ds buying-power value)")"
tp_eq "the page lists A's open trades" "$OPEN_A" \
    "$(pwv '[...document.querySelectorAll("#open-rows tr")].map(r => r.dataset.id).sort().join(" ")')"
tp_match "the total is shown as money, with its sign" '^[+−]?\$[0-9,]+\.[0-9]{2}$' \
    "$(pwv 'document.getElementById("total-pnl").textContent')"
pwwait "the trade history lists A's closed trade" 'document.querySelector("#history-rows tr[data-id=ta3]") !== null'
pwwait "the event stream is connected" "$(ds conn state) === 'live'"
pwdo '{"op":"eval","js":"window.__tpMarker = \"still-the-same-page\""}'
pw '{"op":"status"}'
NAV0=$(tp_jq .navigations "$R")

tp_log "prices move in alpaca-sim; a pulse; the page must follow without reloading"
tp_sim POST /_sim/prices '{"AAPL":"157.35","MSFT":"296.40","NVDA":"101.00"}' >/dev/null ||
    tp_fail "sim: prices moved"
out=$(pulse)
tp_eq "the second pulse syncs both tenants" 2 "$(tp_jq .synced "$out")" "$out"
api "$TA" GET /api/v1/me
TOTAL2=$(tp_jq .total_unrealized_pnl "$BODY")
tp_ne "the API's total changed with the prices" "$TOTAL1" "$TOTAL2"
pwwait "the page shows the new total ($TOTAL2) without reloading" \
    "$(ds total-pnl value) === $(jq -cn --arg v "$TOTAL2" '$v')" 20000
tp_eq "no navigation happened (the marker on window is still there)" still-the-same-page \
    "$(pwv 'window.__tpMarker')"
pw '{"op":"status"}'
tp_eq "the browser counted no new navigation" "$NAV0" "$(tp_jq .navigations "$R")"
tp_eq "the page's per-trade P&L is the API's (AAPL)" "$(tp_jq '.open_trades[] | select(.id == "ta1") | .unrealized_pnl' "$BODY")" \
    "$(pwv 'document.querySelector("#open-rows tr[data-id=ta1] .pnl").textContent.replace(/[^0-9.−-]/g, "").replace("−", "-")')"

tp_log "generate a signal from the form"
api "$TA" GET '/api/v1/me/signals?limit=5'
NSIG0=$(tp_jq '.signals | length' "$BODY")
pwdo '{"op":"fill","sel":"#symbol","value":"aapl"}'
pwdo '{"op":"click","sel":"#generate"}'
pwwait "a new signal appears in the feed" \
    "document.querySelectorAll('#signal-list li').length === $((NSIG0 + 1))" 60000
api "$TA" GET '/api/v1/me/signals?limit=5'
SIG=$(tp_jq '.signals[0].id' "$BODY")
tp_eq "the API lists the new signal first: AAPL" AAPL "$(tp_jq '.signals[0].symbol' "$BODY")"
tp_eq "the feed's first item is that signal" "$SIG" "$(pwv 'document.querySelector("#signal-list li").dataset.id')"
tp_match "the feed shows its action" "$(tp_jq '.signals[0].action' "$BODY")" \
    "$(pwv 'document.querySelector("#signal-list li .action").textContent')"

shot 1280 800 dashboard-desktop.png
shot 375 812 dashboard-phone.png
tp_eq "at 375 px nothing is wider than the screen" 375 "$(pwv 'document.documentElement.scrollWidth')"
pwdo '{"op":"viewport","width":1280,"height":800}'

tp_log "the kill-switch"
pwdo '{"op":"fill","sel":"#kill-reason","value":"e2e: stop"}'
pwdo '{"op":"click","sel":"#kill"}'
pwwait "the page says trading is stopped" "$(ds trading-state enabled) === 'false'"
pwwait "... and that only an operator can turn it back on" '!document.getElementById("kill-note").hidden && /operator/.test(document.getElementById("kill-note").textContent)'
api "$TA" GET /api/v1/me
tp_eq "the API: A's trading is off" false "$(tp_jq .trading.enabled "$BODY")"
tp_eq "... with the reason given on the page" "e2e: stop" "$(tp_jq .trading.reason "$BODY")"
api "$TA" POST /api/v1/me/trading '{"enabled":true}'
tp_eq "A may not turn trading back on (403)" 403 "$CODE" "$BODY"
tp_eq "... permission_denied" permission_denied "$(tp_jq .error.code "$BODY")"
out=$(pulse)
tp_eq "the next pulse skips A (trading disabled)" 1 "$(tp_jq .skipped_disabled "$out")" "$out"
tp_eq "... and syncs B" 1 "$(tp_jq .synced "$out")" "$out"
shot 1280 800 stopped-desktop.png

pw '{"op":"status"}'
tp_eq "no console error on A's page" '[]' "$(tp_jq '.console_errors | tostring' "$R")" "$R"
tp_eq "no CSP violation" '[]' "$(tp_jq '.csp_violations | tostring' "$R")" "$R"
tp_eq "every request went to the daemon (no other host)" "[\"$BASE\"]" "$(tp_jq '.origins | tostring' "$R")"

tp_log "sign out; sign in as dash-b"
pwdo '{"op":"click","sel":"#signout"}'
pwwait "signed out: the sign-in form again" '!document.getElementById("signin").hidden && document.getElementById("dash").hidden'
tp_eq "the token is gone from sessionStorage" null "$(pwv 'sessionStorage.getItem("tradepulse.idToken")')"
pwdo "$(jq -cn --arg v "$TB" '{op: "fill", sel: "#token", value: $v}')"
pwdo '{"op":"click","sel":"#signin-form button[type=submit]"}'
pwwait "B's dashboard loads" 'document.getElementById("uid").textContent === "dash-b" && document.querySelector("#open-rows tr[data-id=tb1]") !== null'
pwwait "B's history is loaded" 'document.querySelector("#history-rows tr[data-id=tb1]") !== null'
HTML=$(pwv 'document.documentElement.outerHTML')
for x in dash-a ta1 ta2 ta3 "$SIG"; do
	tp_lacks "B's page holds nothing of A's: $x" "$x" "$HTML"
done
tp_eq "B's open trades and history name no A symbol" "NVDA" \
    "$(pwv '[...new Set([...document.querySelectorAll("#open-rows th, #history-rows th")].map(e => e.textContent))].join(" ")')"
tp_eq "B's signal feed is empty" 0 "$(pwv 'document.querySelectorAll("#signal-list li").length')"
tp_eq "B's page says trading is on (A's switch is A's)" true "$(pwv "$(ds trading-state enabled)")"
shot 375 812 dashboard-b-phone.png

tp_log "B's token against A's data"
api "$TB" GET /api/v1/me
tp_eq "B's token: /me is B's" dash-b "$(tp_jq .uid "$BODY")"
for path in /api/v1/me /api/v1/me/trades?status=all /api/v1/me/signals; do
	api "$TB" GET "$path"
	for x in dash-a ta1 ta2 ta3 "$SIG"; do
		tp_lacks "B's token: $path holds no $x" "\"$x\"" "$BODY"
	done
done
# the API's uid-addressed routes (/api/v1/users/UID...) answer only for the token's uid
for path in /api/v1/users/dash-a /api/v1/users/dash-a/trades /api/v1/users/dash-a/signals; do
	api "$TB" GET "$path"
	tp_eq "B's token: GET $path is 403" 403 "$CODE" "$BODY"
	tp_eq "... permission_denied" permission_denied "$(tp_jq .error.code "$BODY")"
	tp_lacks "... and says nothing of A's trades" ta1 "$BODY"
done
api "$TB" POST /api/v1/users/dash-a/trading '{"enabled":false,"reason":"not mine"}'
tp_eq "B's token: POST A's kill-switch is 403" 403 "$CODE" "$BODY"
api "$TA" GET /api/v1/me
tp_eq "... and A's switch is as A left it (its reason)" "e2e: stop" "$(tp_jq .trading.reason "$BODY")"
api "$TB" GET '/api/v1/me?uid=dash-a'
case $CODE in
400) tp_pass "B's token: /me?uid=dash-a is refused (400)" ;;
*) tp_eq "B's token: /me?uid=dash-a is still B's" dash-b "$(tp_jq .uid "$BODY")" ;;
esac
api "" GET /api/v1/me
tp_eq "no token: 401" 401 "$CODE" "$BODY"

tp_log "an expired sign-in on the page: back to the sign-in form"
pwdo "$(jq -cn '{op: "eval", js: "sessionStorage.setItem(\"tradepulse.idToken\", \"e30.e30.\")"}')"
pwdo "$(jq -cn --arg u "$BASE/" '{op: "goto", url: $u}')"
pwwait "a refused token leads to the sign-in form with a message" \
    '!document.getElementById("signin").hidden && /sign in again/i.test(document.getElementById("alert").textContent)'

tp_log "the daemon goes away: the page says so"
pwdo "$(jq -cn --arg v "$TB" '{op: "fill", sel: "#token", value: $v}')"
pwdo '{"op":"click","sel":"#signin-form button[type=submit]"}'
pwwait "B is signed in again, live" 'document.getElementById("uid").textContent === "dash-b" && document.getElementById("conn").dataset.state === "live"'
tp_stop
pwwait "the header no longer says Live" "$(ds conn state) !== 'live'"
pwdo '{"op":"fill","sel":"#symbol","value":"NVDA"}'
pwdo '{"op":"click","sel":"#generate"}'
pwwait "an action while the daemon is down: a network error in the alert" \
    '/cannot reach/i.test(document.getElementById("alert").textContent)'

pw '{"op":"quit"}'
shots=("$SHOTS"/*.png)
printf '# shot: %s\n' "${shots[@]}"
tp_eq "the five screenshots were saved" 5 "$(find "$SHOTS" -name '*.png' -size +1k | wc -l)"
tp_finish
