#!/usr/bin/env bash
# tests/integration/dashboard_sdk.sh: the dashboard's sign-in through Firebase Auth's web SDK, served by tradepulsed, against a real Firebase Auth emulator, in headless Chromium: /api/v1/config, the CSP, a wrong password, a user's own dashboard, sign-out.
#
# firebase-tools (its Auth emulator runs in node: nothing is downloaded), the
# npm package firebase 12.x (its browser modules, copied by web/vendor.sh into
# a web root beside the test's copy of web/) and playwright-core are installed
# with npm into $TP_BUILDDIR/tests/node on the first run. The emulator's user
# is made a tenant with keys and trades; tradepulsed names the emulator in
# [auth] web_auth_emulator and accepts its unsigned tokens. The browser
# (tests/integration/dashboard_page.mjs) signs in with the email and password
# on the page and must see that user's equity and trades, then signs out.
# Skipped (77) without chromium, node or npm, when npm cannot install the
# packages, or when the emulator does not come up.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init dashboard_sdk
tp_need_workers || tp_finish
command -v jq >/dev/null || tp_skip "jq is not installed"
CHROMIUM=${TP_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || tp_skip "Debian's chromium is not installed ($CHROMIUM; apt-get install chromium)"
command -v node >/dev/null || tp_skip "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || tp_skip "npm is not installed (apt-get install npm)"

# The npm packages, once per build tree (dashboard_page.sh shares the folder
# and the lock). playwright-core 1.62+ and firebase-tools 14+ need node 20;
# Debian 12's nodejs is 18: playwright-core 1.61 and firebase-tools 13 there.
# firebase 12's browser modules do not run in node, whatever its version.
NODE_DIR=$TP_BUILDDIR/tests/node
NM=$NODE_DIR/node_modules
PW_SPEC=playwright-core@1
[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ] ||
    PW_SPEC=playwright-core@1.61
mkdir -p "$NODE_DIR"
exec 9>"$NODE_DIR/.install.lock"
flock -w 600 9 || tp_skip "another run has been installing npm packages for 600 s"
want=()
[ -f "$NM/playwright-core/package.json" ] || want+=("$PW_SPEC")
[ -f "$NM/firebase/firebase-auth.js" ] || want+=(firebase@12)
[ -x "$NM/.bin/firebase" ] || want+=(firebase-tools@13)
if [ "${#want[@]}" -gt 0 ]; then
	tp_log "npm install ${want[*]} in $NODE_DIR"
	# --ignore-scripts: nothing here needs one (re2, an optional part of
	# firebase-tools' static server, would otherwise download or compile)
	if ! timeout 580 npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
	    --ignore-scripts "${want[@]}" >"$T/npm.out" 2>&1; then
		tp_skip "npm could not install ${want[*]}: $(tail -n 3 "$T/npm.out" | tr '\n' ' ')"
	fi
fi
exec 9>&-
if [ ! -f "$NM/playwright-core/package.json" ] || [ ! -f "$NM/firebase/firebase-auth.js" ] ||
    [ ! -x "$NM/.bin/firebase" ]; then
	tp_skip "npm did not install playwright-core, firebase and firebase-tools"
fi
tp_log "firebase $(jq -r .version "$NM/firebase/package.json"), firebase-tools" \
    "$(jq -r .version "$NM/firebase-tools/package.json"), playwright-core" \
    "$(jq -r .version "$NM/playwright-core/package.json"), node $(node --version)"

# The page's files as `make install` lays them out: web/ and vendor/.
WEB=$T/web
mkdir -p "$WEB"
cp "$TP_SRCDIR"/web/index.html "$TP_SRCDIR"/web/app.js "$TP_SRCDIR"/web/app.css "$WEB"/
tp_run sh "$TP_SRCDIR/web/vendor.sh" "$NM/firebase" "$WEB/vendor"
tp_rc "web/vendor.sh copies the SDK's modules" 0 || tp_finish
tp_eq "firebase-auth.js imports firebase-app.js by a relative path, nothing else" './firebase-app.js' \
    "$(grep -Eo '(from|import) ?"[^"]*"' "$WEB/vendor/firebase-auth.js" | sed 's/^[a-z]* \{0,1\}"\(.*\)"$/\1/' | sort -u | tr '\n' ' ' | sed 's/ $//')"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PROJECT=demo-tp-sdk
PORT=$(free_port)
AUTH_PORT=$(free_port)
HUB_PORT=$(free_port)
LOG_PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
EMU=http://127.0.0.1:$AUTH_PORT

# The Auth emulator, in a folder of its own (firebase.json; its config store in $T).
mkdir -p "$T/emu"
jq -n --argjson a "$AUTH_PORT" --argjson h "$HUB_PORT" --argjson l "$LOG_PORT" \
    '{emulators: {auth: {host: "127.0.0.1", port: $a}, hub: {host: "127.0.0.1", port: $h},
    logging: {host: "127.0.0.1", port: $l}, ui: {enabled: false}, singleProjectMode: true}}' >"$T/emu/firebase.json"
cd "$T/emu" || tp_finish
HOME=$T/emu XDG_CONFIG_HOME=$T/emu NO_UPDATE_NOTIFIER=1 \
    tp_bg_group "$NM/.bin/firebase" emulators:start --only auth --project "$PROJECT" \
    >"$T/emulator.log" 2>&1
cd - >/dev/null || tp_finish
i=0
until curl -sf -m 2 "$EMU/" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 120 ]; then
		tp_log "$(tail -n 20 "$T/emulator.log")"
		tp_skip "the Firebase Auth emulator did not answer in 60 s (log: $T/emulator.log)"
	fi
	sleep 0.5
done
tp_pass "the Firebase Auth emulator answers at $EMU"

# signup EMAIL PASSWORD: a user of the emulator; its uid to stdout.
signup() {
	curl -sf -m 10 -H 'Content-Type: application/json' \
	    -d "$(jq -cn --arg e "$1" --arg p "$2" '{email: $e, password: $p, returnSecureToken: true}')" \
	    "$EMU/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any" | jq -r .localId
}
EMAIL_A=ann@example.com PASS_A='correct horse 1'
UID_A=$(signup "$EMAIL_A" "$PASS_A")
UID_B=$(signup bob@example.com 'another secret 2')
tp_match "the emulator made user A" '^[A-Za-z0-9]{20,}$' "$UID_A"
tp_match "... and user B" '^[A-Za-z0-9]{20,}$' "$UID_B"

tp_sim_start --latency 2ms --seed 11 || tp_finish
tp_worker_config "daemon.http=127.0.0.1:$PORT" "daemon.web_root=$WEB" \
    auth.accept_emulator_tokens=yes "auth.firebase_project_id=$PROJECT" \
    auth.web_api_key=fake-api-key "auth.web_auth_emulator=$EMU" \
    workers.max_workers=2 workers.job_timeout=15s
tp_keygen
tp_start || { tp_fail "tradepulsed starts"; tp_finish; }
printf '%s\n%s\n' "$UID_A" "$UID_B" >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

tp_sim POST /_sim/prices '{"AAPL":"150.00","MSFT":"300.00"}' >/dev/null || tp_fail "sim: prices set"
cat >"$T/docs" <<DOCS
set users/$UID_A/shadowTradeHistory/sa1 {"symbol":"AAPL","side":"long","qty":"10","entry_price":"140.00","status":"OPEN","created_at":"2026-11-03T10:00:00.000000Z"}
set users/$UID_A/shadowTradeHistory/sa2 {"symbol":"MSFT","side":"long","qty":"1","entry_price":"290","exit_price":"302.5","realized_pnl":"12.5","status":"CLOSED","close_reason":"take_profit","created_at":"2026-10-01T10:00:00.000000Z","closed_at":"2026-10-05T10:00:00.000000Z"}
set users/$UID_B/shadowTradeHistory/sb1 {"symbol":"MSFT","side":"short","qty":"2","entry_price":"310","status":"OPEN","created_at":"2026-11-01T10:00:00.000000Z"}
DOCS
tp_store load "$T/docs" || { tp_fail "the trades are written"; tp_finish; }
out=$("$TPCLI" -f "$TP_CONF" --json -t 120 pulse --wait)
tp_eq "a pulse syncs both tenants" 2 "$(tp_jq .synced "$out")" "$out"

# --- what the daemon tells the page ------------------------------------------------------

curl -s -m 10 -D "$T/cfg.h" -o "$T/cfg.json" "$BASE/api/v1/config"
cfg=''
tp_slurp cfg "$T/cfg.json"
tp_eq "GET /api/v1/config (no token) names the web config" \
    "{\"apiKey\":\"fake-api-key\",\"authDomain\":null,\"projectId\":\"$PROJECT\",\"emulator\":\"$EMU\"}" \
    "$(tp_jq '.firebase | tojson' "$cfg")"
csp=$(tr -d '\r' <"$T/cfg.h" | sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p')
tp_eq "the CSP lets the page reach the daemon and the emulator only" \
    "connect-src 'self' $EMU" "$(printf '%s' "$csp" | tr ';' '\n' | sed 's/^ //' | grep '^connect-src')"
tp_eq "... and scripts still come from the daemon alone" "script-src 'self'" \
    "$(printf '%s' "$csp" | tr ';' '\n' | sed 's/^ //' | grep '^script-src')"
code=$(curl -s -m 10 -o "$T/vendor.js" -w '%{http_code} %{content_type}' "$BASE/assets/vendor/firebase-auth.js")
tp_eq "the SDK is served under /assets/vendor/" "200 text/javascript; charset=utf-8" "$code"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$BASE/api/v1/config")
tp_eq "POST /api/v1/config is 405" 405 "$code"

tok=$(curl -sf -m 10 -H 'Content-Type: application/json' \
    -d "$(jq -cn --arg e "$EMAIL_A" --arg p "$PASS_A" '{email: $e, password: $p, returnSecureToken: true}')" \
    "$EMU/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any" | jq -r .idToken)
ME_A=$(curl -s -m 30 -H "Authorization: Bearer $tok" "$BASE/api/v1/me")
EQ_A=$(tp_jq .snapshot.equity "$ME_A")
tp_eq "the emulator's token for A reads A's dashboard" "$UID_A" "$(tp_jq .uid "$ME_A")" "$ME_A"
tp_match "A has an equity (decimal text)" '^[0-9]+(\.[0-9]+)?$' "$EQ_A"

# --- the browser -------------------------------------------------------------------------

SHOTS=$TP_BUILDDIR/tests/integration/dashboard_sdk-shots
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
coproc PWD_DRV { exec node "$TP_SRCDIR/tests/integration/dashboard_page.mjs" "$NM" "$CHROMIUM" 2>>"$T/browser.log"; }
TP_PIDS+=("$PWD_DRV_PID")
pw() {
	R=
	{ printf '%s\n' "$1" >&"${PWD_DRV[1]}"; } 2>/dev/null || { R='{"ok":false,"error":"the driver is gone"}'; return 1; }
	IFS= read -r -t 60 R <&"${PWD_DRV[0]}" || R='{"ok":false,"error":"no reply from the driver in 60 s"}'
	[ "$(tp_jq .ok "$R")" = true ]
}
pwv() { pw "$(jq -cn --arg js "$1" '{op: "eval", js: $js}')" && tp_jq .value "$R"; }
pwwait() {
	if pw "$(jq -cn --arg js "$2" --argjson t "${3:-15000}" '{op: "wait", js: $js, timeout_ms: $t}')"; then
		tp_pass "$1"
		return 0
	fi
	tp_fail "$1" "$(tp_jq .error "$R")" "the page's alert: $(pwv 'document.getElementById("alert").textContent')"
	return 1
}
pwdo() { pw "$1" || tp_fail "browser: $1" "$(tp_jq .error "$R")"; }
fill() { pwdo "$(jq -cn --arg s "$1" --arg v "$2" '{op: "fill", sel: $s, value: $v}')"; }

# A clock the test can move (it keeps running): to age the SDK's ID token.
pwdo '{"op":"clock_install"}'
pwdo "$(jq -cn --arg u "$BASE/" '{op: "goto", url: $u}')" || tp_finish
pwwait "the page offers the email and password form (the SDK loaded)" \
    '!document.getElementById("password-form").hidden && document.documentElement.dataset.signin === "firebase-emulator"'
tp_eq "the developer's token field is folded away" false "$(pwv 'document.getElementById("dev").open')"
tp_eq "the email field has the focus" email "$(pwv 'document.activeElement.id')"
pwdo "$(jq -cn '{op: "viewport", width: 375, height: 812}')"
pwdo "$(jq -cn --arg p "$SHOTS/signin-phone.png" '{op: "shot", path: $p}')"
pwdo "$(jq -cn '{op: "viewport", width: 1280, height: 800}')"

tp_log "a wrong password"
fill '#email' "$EMAIL_A"
fill '#password' 'not the password'
pwdo '{"op":"click","sel":"#password-submit"}'
pwwait "a wrong password is refused, saying so" '/wrong email or password/i.test(document.getElementById("alert").textContent)'
tp_eq "... and the page stays on the sign-in form" true "$(pwv '!document.getElementById("signin").hidden && document.getElementById("dash").hidden')"

tp_log "A signs in with the SDK"
fill '#password' "$PASS_A"
pwdo '{"op":"click","sel":"#password-submit"}'
pwwait "A's dashboard opens" "document.getElementById(\"uid\").textContent === $(jq -cn --arg v "$UID_A" '$v')"
pwwait "... with A's equity" "document.getElementById(\"equity\").dataset.value === $(jq -cn --arg v "$EQ_A" '$v')"
pwwait "... A's open trade" '[...document.querySelectorAll("#open-rows tr")].map(r => r.dataset.id).join(" ") === "sa1"'
pwwait "... A's history (and none of B's trades)" \
    '[...document.querySelectorAll("#history-rows tr")].map(r => r.dataset.id).sort().join(" ") === "sa1 sa2"'
pwwait "... and the event stream is live with the SDK's token" 'document.getElementById("conn").dataset.state === "live"'
tp_eq "the password field was cleared" "" "$(pwv 'document.getElementById("password").value')"
tp_eq "the SDK's token is not put in sessionStorage by the page" null "$(pwv 'sessionStorage.getItem("tradepulse.idToken")')"
pwdo "$(jq -cn --arg p "$SHOTS/dashboard-desktop.png" '{op: "shot", path: $p}')"
tp_eq "the SDK gave the page one token" 1 "$(pwv 'document.documentElement.dataset.sdkTokens')"

tp_log "61 minutes later (the page's clock: the token has expired there): the next call gets a fresh token from the SDK"
pwdo '{"op":"clock_forward","ms":3660000}'
refreshes=$(pwv 'document.documentElement.dataset.refreshes')
out=$("$TPCLI" -f "$TP_CONF" --json -t 120 pulse --wait)
tp_eq "a pulse syncs both tenants again" 2 "$(tp_jq .synced "$out")" "$out"
pwwait "the page refreshes on the pulse's event" "Number(document.documentElement.dataset.refreshes) > $refreshes"
pwwait "... having had a second token from the SDK (refreshed at the emulator)" \
    'document.documentElement.dataset.sdkTokens === "2"'
pwwait "... the event stream is reopened with it (live)" 'document.getElementById("conn").dataset.state === "live"'
tp_eq "... still A's dashboard, no alert" "$UID_A|true" \
    "$(pwv 'document.getElementById("uid").textContent + "|" + document.getElementById("alert").hidden')"

tp_log "sign out"
pwdo '{"op":"click","sel":"#signout"}'
pwwait "signing out returns to the sign-in form" '!document.getElementById("signin").hidden && document.getElementById("dash").hidden'
pwdo "$(jq -cn --arg u "$BASE/" '{op: "goto", url: $u}')"
pwwait "after a reload the SDK has forgotten A (the form again)" \
    '!document.getElementById("password-form").hidden && !document.getElementById("signin").hidden'
sleep 1
tp_eq "... and stays signed out" true "$(pwv 'document.getElementById("dash").hidden')"

pw '{"op":"status"}'
st=$R
tp_eq "no CSP violation on the page" '[]' "$(tp_jq '.csp_violations | tojson' "$st")"
tp_eq "no console error but the refused password's 400" '[]' \
    "$(tp_jq '[.console_errors[] | select(test("status of 400") | not)] | tojson' "$st")"
tp_eq "the page talked to the daemon and the emulator only" \
    "$(jq -cn --arg a "$BASE" --arg b "$EMU" '[$a, $b] | sort')" "$(tp_jq '.origins | map(select(startswith("http"))) | sort | tojson' "$st")"
tp_eq "one navigation each for the two loads" 2 "$(tp_jq .navigations "$st")"
pw '{"op":"quit"}'
printf '# shot: %s\n' "$SHOTS"/*.png

tp_log "a real project's web config (no emulator): the CSP names Google's two hosts"
tp_stop
tp_worker_config "daemon.http=127.0.0.1:$PORT" "daemon.web_root=$WEB" \
    "auth.firebase_project_id=$PROJECT" auth.web_api_key=fake-api-key \
    "auth.web_auth_domain=$PROJECT.firebaseapp.com" workers.max_workers=2
tp_start || { tp_fail "tradepulsed starts again"; tp_finish; }
curl -s -m 10 -D "$T/cfg.h" -o "$T/cfg.json" "$BASE/api/v1/config"
tp_slurp cfg "$T/cfg.json"
tp_eq "GET /api/v1/config: no emulator, the auth domain" "null $PROJECT.firebaseapp.com" \
    "$(tp_jq '"\(.firebase.emulator) \(.firebase.authDomain)"' "$cfg")"
csp=$(tr -d '\r' <"$T/cfg.h" | sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p')
tp_eq "connect-src: the daemon, Identity Toolkit and Secure Token only" \
    "connect-src 'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com" \
    "$(printf '%s' "$csp" | tr ';' '\n' | sed 's/^ //' | grep '^connect-src')"

tp_log "no web config: the token field only, connect-src 'self'"
tp_stop
tp_worker_config "daemon.http=127.0.0.1:$PORT" "daemon.web_root=$WEB" \
    "auth.firebase_project_id=$PROJECT" workers.max_workers=2
tp_start || { tp_fail "tradepulsed starts a third time"; tp_finish; }
curl -s -m 10 -D "$T/cfg.h" -o "$T/cfg.json" "$BASE/api/v1/config"
tp_slurp cfg "$T/cfg.json"
tp_eq "GET /api/v1/config: firebase is null" '{"firebase":null}' "$(tp_jq 'tojson' "$cfg")"
csp=$(tr -d '\r' <"$T/cfg.h" | sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p')
tp_eq "connect-src: the daemon only" "connect-src 'self'" \
    "$(printf '%s' "$csp" | tr ';' '\n' | sed 's/^ //' | grep '^connect-src')"
tp_finish
