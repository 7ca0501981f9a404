#!/usr/bin/env bash
# tests/integration/dashboard_fs.sh: what tradepulsed writes to Firestore, read back as the seed's dashboard reads it: as the signed-in owner through the emulator's REST API under firestore.rules, and refused to another user.
#
# The daemon runs on the Firestore emulator (TP_STORE_BACKEND=firestore),
# syncs two tenants in one pulse, and then user A (an unsigned ID token the
# emulator evaluates against the project's rules) reads what the seed's
# frontend reads: users/A/data/snapshot, users/A/shadowTradeHistory ordered
# by created_at descending with limit 100, and users/A/signals ordered by
# timestamp descending. The figures the dashboard computes with (equity,
# unrealized_pnl) must be Firestore numbers. User B gets none of it.

export TP_STORE_BACKEND=firestore
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init dashboard_fs
tp_need_workers || tp_finish
command -v jq >/dev/null || tp_skip "jq is not installed"
RULES=$TP_SRCDIR/firestore.rules
[ -r "$RULES" ] || { tp_fail "firestore.rules is readable ($RULES)"; tp_finish; }

BASE=http://$TP_FS_EMULATOR_HOST
DB="projects/$TP_FS_PROJECT/databases/(default)/documents"

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# token UID: an unsigned ID token ({"alg":"none"}), as the emulator accepts.
token() {
	local now h c
	now=$(date +%s)
	h=$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url)
	c=$(jq -cn --arg uid "$1" --arg p "$TP_FS_PROJECT" --argjson now "$now" \
	    '{sub: $uid, user_id: $uid, iss: ("https://securetoken.google.com/" + $p),
	    aud: $p, iat: $now, exp: ($now + 3600), auth_time: $now,
	    firebase: {sign_in_provider: "password", identities: {}}}' | b64url)
	printf '%s.%s.' "$h" "$c"
}

# req AUTH METHOD URL [BODY]: status to CODE, body to BODY.
req() {
	local a=(-s -m 20 -o "$T/resp" -w '%{http_code}' -X "$2" -H 'Content-Type: application/json')
	[ -z "$1" ] || a+=(-H "Authorization: $1")
	[ $# -lt 4 ] || a+=(--data-binary "$4")
	CODE=$(curl "${a[@]}" "$3") || CODE=000
	BODY=$(cat "$T/resp" 2>/dev/null)
}

# The project's rules, as a deployment has them.
req "Bearer owner" PUT "$BASE/emulator/v1/projects/$TP_FS_PROJECT:securityRules" \
    "$(jq -Rsc '{rules: {files: [{content: .}]}}' "$RULES")"
tp_eq "firestore.rules load into the emulator" 200 "$CODE" || tp_finish

tp_sim_start --latency 5ms --seed 11 || tp_finish
tp_worker_config
tp_keygen
tp_start || tp_finish
printf 'dash-a\ndash-b\n' >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish

# A's open trades (what signals would open) and a signal, written as the
# daemon's store writes them: numbers and canonical timestamps.
{
	for i in 1 2 3; do
		printf 'set users/dash-a/shadowTradeHistory/t%d {"symbol":"AAPL","side":"long","qty":"%d","entry_price":"150.25","status":"OPEN","created_at":"2026-11-0%dT10:00:00.000000Z"}\n' "$i" "$i" "$i"
	done
	printf 'set users/dash-a/shadowTradeHistory/c1 {"symbol":"MSFT","side":"long","qty":"1","entry_price":"300","status":"CLOSED","created_at":"2026-10-01T10:00:00.000000Z","realized_pnl":12.5}\n'
	printf 'set users/dash-b/shadowTradeHistory/t1 {"symbol":"AAPL","side":"short","qty":"2","entry_price":"151","status":"OPEN","created_at":"2026-11-01T10:00:00.000000Z"}\n'
	printf 'set users/dash-a/signals/s1 {"symbol":"AAPL","action":"BUY","confidence":0.7,"timestamp":"2026-11-01T09:00:00.000000Z"}\n'
	printf 'set users/dash-a/signals/s2 {"symbol":"MSFT","action":"HOLD","confidence":0.4,"timestamp":"2026-11-02T09:00:00.000000Z"}\n'
} >"$T/docs"
tp_store load "$T/docs" || { tp_fail "the trades and signals are written"; tp_finish; }

out=$("$TPCLI" -f "$TP_CONF" --json -t 120 pulse --wait)
tp_eq "the pulse syncs both tenants on Firestore" 2 "$(tp_jq .synced "$out")" "$out"
tp_eq "no tenant failed" 0 "$(tp_jq .errors "$out")" "$out"

A="Bearer $(token dash-a)"
B="Bearer $(token dash-b)"

# --- the owner reads what the dashboard reads -------------------------------------

req "$A" GET "$BASE/v1/$DB/users/dash-a/data/snapshot"
tp_eq "A reads users/dash-a/data/snapshot" 200 "$CODE" "$BODY"
tp_eq "equity is a Firestore number (the seed shows it)" number \
    "$(tp_jq '.fields.equity | if has("doubleValue") or has("integerValue") then "number" else (keys[0] // "missing") end' "$BODY")" "$BODY"
tp_eq "synced_at is a timestamp" true \
    "$(tp_jq '.fields.synced_at | has("timestampValue")' "$BODY")"

query() { # AUTH COLLECTION ORDER_FIELD: the seed's query, newest first, 100 at most
	req "$1" POST "$BASE/v1/$DB/users/dash-a:runQuery" "$(jq -cn --arg c "$2" --arg f "$3" \
	    '{structuredQuery: {from: [{collectionId: $c}],
	      orderBy: [{field: {fieldPath: $f}, direction: "DESCENDING"}], limit: 100}}')"
}

query "$A" shadowTradeHistory created_at
tp_eq "A queries shadowTradeHistory by created_at desc, limit 100" 200 "$CODE" "$BODY"
tp_eq "newest first: t3 t2 t1 c1" "t3 t2 t1 c1" \
    "$(tp_jq '[.[] | .document.name // empty | split("/") | last] | join(" ")' "$BODY")" "$BODY"
tp_eq "the pulse marked every open trade with a Firestore number (unrealized_pnl)" 3 \
    "$(tp_jq '[.[] | .document.fields // empty | select(.status.stringValue == "OPEN")
      | .unrealized_pnl | select(has("doubleValue") or has("integerValue"))] | length' "$BODY")" "$BODY"
# The seed's total: the sum of the OPEN trades' unrealized_pnl, toFixed(2),
# in the dashboard's floating point, must be the daemon's exact sum (the
# exact texts, read through the store, summed in cents).
cents=$(tp_jq '[.[] | .document.fields // empty | select(.status.stringValue == "OPEN")
    | .unrealized_pnl | (.doubleValue // (.integerValue | tonumber))] | add * 100 | round' "$BODY")
exact=0
for i in 1 2 3; do
	v=$(tp_field unrealized_pnl "users/dash-a/shadowTradeHistory/t$i")
	[[ $v =~ ^-?[0-9]+(\.[0-9]{1,2})?$ ]] || { tp_fail "trade t$i's unrealized_pnl is a decimal to the cent" "got '$v'"; continue; }
	exact=$(awk -v a="$exact" -v v="$v" 'BEGIN { s = v < 0 ? -1 : 1; if (v < 0) v = -v
		n = split(v, p, "."); c = p[1] * 100 + (n > 1 ? substr(p[2] "0", 1, 2) : 0)
		printf "%d", a + s * c }')
done
tp_eq "the dashboard's total of unrealized P&L, to the cent, is the daemon's exact sum" \
    "$exact" "$cents"

query "$A" signals timestamp
tp_eq "A queries signals by timestamp desc" 200 "$CODE" "$BODY"
tp_eq "newest signal first" "s2 s1" \
    "$(tp_jq '[.[] | .document.name // empty | split("/") | last] | join(" ")' "$BODY")" "$BODY"

# --- another user gets none of it --------------------------------------------------

req "$B" GET "$BASE/v1/$DB/users/dash-a/data/snapshot"
tp_eq "B may not read A's snapshot" 403 "$CODE" "$BODY"
query "$B" shadowTradeHistory created_at
tp_eq "B may not query A's shadow trades" 403 "$CODE" "$BODY"
query "$B" signals timestamp
tp_eq "B may not query A's signals" 403 "$CODE" "$BODY"
req "" GET "$BASE/v1/$DB/users/dash-a/data/snapshot"
tp_eq "nobody signed out may read A's snapshot" 403 "$CODE" "$BODY"

# B still reads its own
req "$B" GET "$BASE/v1/$DB/users/dash-b/data/snapshot"
tp_eq "B reads its own snapshot" 200 "$CODE" "$BODY"

tp_finish
