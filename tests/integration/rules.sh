#!/usr/bin/env bash
# tests/integration/rules.sh: firestore.rules on the official Firestore emulator: every document kind of the data model x {get, list, create, update, delete} x {owner, other user, signed out, admin claim} against the table below, and the owner's writes as a client SDK sends them.
#
# TP_RULES_FILE: the rules to load (default: $TP_SRCDIR/firestore.rules), so a
# loosened copy can be shown to fail. TP_FIRESTORE_EMULATOR: the emulator's
# launcher (default: the Debian package's). Skipped (exit 77) where the
# emulator or java is absent.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tp_init rules --no-programs

EMU=${TP_FIRESTORE_EMULATOR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator}
RULES=${TP_RULES_FILE:-$TP_SRCDIR/firestore.rules}
PROJECT=tp-rules
EMU_WAIT=${TP_EMU_WAIT:-60}

[ -x "$EMU" ] || tp_skip "the Firestore emulator is not installed ($EMU is missing; Debian package google-cloud-cli-firestore-emulator)"
command -v "${JAVA:-java}" >/dev/null || tp_skip "the Firestore emulator needs java, which is not installed"
command -v curl >/dev/null || tp_skip "curl is not installed"
if [ ! -r "$RULES" ]; then
	tp_fail "the rules file $RULES is readable"
	tp_finish
fi

# --- the emulator --------------------------------------------------------------

# A port nothing listens on: bash's /dev/tcp connect fails on it.
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# start_emulator: on a free loopback port, waiting (bounded) until it answers;
# another port is tried when the first one was taken meanwhile.
EMU_PGID=
start_emulator() {
	local try i end code
	for try in 1 2 3; do
		PORT=$(free_port) || return 1
		tp_bg_group "$EMU" --host=127.0.0.1 --port="$PORT" --project_id="$PROJECT" \
		    >"$T/emulator.log" 2>&1 </dev/null
		EMU_PGID=$BG_PID
		end=$((SECONDS + EMU_WAIT))
		i=0
		while [ "$SECONDS" -le "$end" ] && [ "$i" -lt $((EMU_WAIT * 10)) ]; do
			tp_group_alive "$EMU_PGID" || break
			code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/") || code=
			if [ "$code" = 200 ]; then
				tp_log "emulator (pgid $EMU_PGID) answers on port $PORT after ${i} polls"
				return 0
			fi
			sleep 0.1
			i=$((i + 1))
		done
		tp_log "emulator on port $PORT did not answer (try $try); its log:"
		tail -n 10 "$T/emulator.log" | sed 's/^/#   /'
		tp_stop_group "$EMU_PGID"
		EMU_PGID=
	done
	return 1
}

if ! start_emulator; then
	tp_fail "the Firestore emulator starts and answers within ${EMU_WAIT}s"
	tp_finish
fi
BASE=http://127.0.0.1:$PORT
DB="projects/$PROJECT/databases/(default)/documents"
DOCS=$BASE/v1/$DB

# --- requests ------------------------------------------------------------------

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# token UID [EXTRA_CLAIMS_JSON]: an unsigned ID token ({"alg":"none"}) the
# emulator evaluates against the rules as that user.
token() {
	local now h c extra=${2:-}
	[ -n "$extra" ] || extra='{}'
	now=$(date +%s)
	h=$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url)
	c=$(jq -cn --arg uid "$1" --arg p "$PROJECT" --argjson now "$now" \
	    --argjson extra "$extra" '{sub: $uid, user_id: $uid,
	    iss: ("https://securetoken.google.com/" + $p), aud: $p, iat: $now,
	    exp: ($now + 3600), auth_time: $now,
	    firebase: {sign_in_provider: "password", identities: {}}} + $extra' | b64url)
	printf '%s.%s.' "$h" "$c"
}

declare -A AUTH=(
	[owner]="Bearer $(token alice)"
	[other]="Bearer $(token bob)"
	[anon]=""
	[admin]="Bearer $(token ops-admin '{"admin":true}')"
	[service]="Bearer owner"
)

# brief: the last answer on one line (for failure messages).
brief() { printf '%s' "$BODY" | jq -c . 2>/dev/null || printf '%s' "$BODY"; }

# req ACTOR METHOD URL [BODY]: HTTP status to CODE, body to BODY.
req() {
	local a=(-s -m 10 -o "$T/resp" -w '%{http_code}' -X "$2" -H 'Content-Type: application/json')
	[ -z "${AUTH[$1]}" ] || a+=(-H "Authorization: ${AUTH[$1]}")
	[ $# -lt 4 ] || a+=(--data-binary "$4")
	CODE=$(curl "${a[@]}" "$3") || CODE=000
	tp_slurp BODY "$T/resp"
}

# The typed Firestore value of plain JSON: "@ts:RFC3339" strings become
# timestamps, whole numbers integers, other numbers doubles.
JQ_FIELDS='def fv: if type == "string" then
	    (if startswith("@ts:") then {timestampValue: .[4:]} else {stringValue: .} end)
	  elif type == "number" then
	    (if . == floor then {integerValue: tostring} else {doubleValue: .} end)
	  elif type == "boolean" then {booleanValue: .}
	  elif type == "null" then {nullValue: null}
	  elif type == "array" then {arrayValue: {values: map(fv)}}
	  else {mapValue: {fields: map_values(fv)}} end;
	def fields: map_values(fv);'

# write_json PATH DATA_JSON SERVER_TIME_FIELDS MODE: one commit Write as a
# client SDK builds it. MODE: set (setDoc: replace, no precondition),
# create (addDoc/create: must not exist), update (updateDoc: a mask of the
# fields given, must exist), delete. Every field named in
# SERVER_TIME_FIELDS (space-separated) is sent as serverTimestamp(): an
# updateTransforms setToServerValue REQUEST_TIME.
write_json() {
	jq -cn --arg name "$DB/$1" --argjson d "$2" --arg st "$3" --arg mode "$4" \
	    "$JQ_FIELDS"'
	($st | split(" ") | map(select(. != ""))) as $ts
	| if $mode == "delete" then {delete: $name}
	  else {update: {name: $name, fields: ($d | fields)}}
	    + (if ($ts | length) > 0 then
	         {updateTransforms: [$ts[] | {fieldPath: ., setToServerValue: "REQUEST_TIME"}]}
	       else {} end)
	    + (if $mode == "create" then {currentDocument: {exists: false}}
	       elif $mode == "update" then
	         {currentDocument: {exists: true}, updateMask: {fieldPaths: ($d | keys)}}
	       else {} end)
	  end'
}

# commit ACTOR WRITE_JSON...: one atomic commit of the writes.
commit() {
	local actor=$1
	shift
	req "$actor" POST "$DOCS:commit" "$(printf '%s\n' "$@" | jq -cs '{writes: .}')"
}

# --- the data ------------------------------------------------------------------

NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
declare -A SEED=()
for u in alice bob; do
	SEED[users/$u]='{"created_at":"@ts:'$NOW'","display_name":"'$u'"}'
	SEED[users/$u/secrets/alpaca]='{"v":1,"key_id":"c2VhbGVk","secret":"c2VhbGVk"}'
	SEED[users/$u/status/trading]='{"enabled":true,"updated_at":"@ts:'$NOW'","reason":""}'
	SEED[users/$u/status/last_sync_error]='{"code":"auth","message":"401 from Alpaca","at":"@ts:'$NOW'","job_id":"j1"}'
	SEED[users/$u/status/quarantine]='{"since":"@ts:'$NOW'","reason":"crash","crash_id":"c1","strikes":3}'
	SEED[users/$u/data/snapshot]='{"equity":100250.5,"cash":5000,"status":"ACTIVE","currency":"USD","synced_at":"@ts:'$NOW'"}'
	SEED[users/$u/alpacaAccounts/snapshot]='{"equity":100250.5,"cash":5000,"status":"ACTIVE","synced_at":"@ts:'$NOW'"}'
	SEED[users/$u/signals/sig1]='{"symbol":"AAPL","action":"BUY","confidence":0.8,"timestamp":"@ts:'$NOW'"}'
	SEED[users/$u/shadowTradeHistory/trade1]='{"symbol":"AAPL","side":"buy","qty":10,"entry_price":150.25,"current_price":151,"unrealized_pnl":7.5,"pnl_percent":0.4992,"status":"OPEN","created_at":"@ts:'$NOW'"}'
	SEED[users/$u/notes/n1]='{"text":"a collection without a rule"}'
done
SEED[ops/last_pulse]='{"started_at":"@ts:'$NOW'","users_total":2,"synced":2,"errors":0}'
SEED[ops/crashes/reports/crash1]='{"at":"@ts:'$NOW'","pid":4242,"signal":11,"jobs":[{"job_id":"j1","uid":"alice"}]}'
SEED[tradingSignals/sig1]='{"symbol":"MSFT","action":"SELL","timestamp":"@ts:'$NOW'"}'
SEED[shadowTradeHistory/trade1]='{"symbol":"MSFT","side":"sell","qty":5,"entry_price":410,"status":"CLOSED","created_at":"@ts:'$NOW'"}'
SEED[alpacaAccounts/snapshot]='{"equity":5000,"status":"ACTIVE"}'

# restore PATH: puts the seed document back as the service (admin path).
restore() {
	commit service "$(write_json "$1" "${SEED[$1]}" "" set)"
	[ "$CODE" = 200 ] || tp_fail "restore $1 as the service" "HTTP $CODE: $(brief)"
}

rules_json=$(jq -Rs '{rules: {files: [{name: "firestore.rules", content: .}]}}' "$RULES")
req service PUT "$BASE/emulator/v1/projects/$PROJECT:securityRules" "$rules_json"
if ! tp_eq "the rules ($RULES) load into the emulator" 200 "$CODE"; then
	tp_fail "rules load" "$BODY"
	tp_finish
fi
req service DELETE "$BASE/emulator/v1/$DB"
tp_eq "the emulator's data is cleared" 200 "$CODE"
seed_writes=()
for p in "${!SEED[@]}"; do
	seed_writes+=("$(write_json "$p" "${SEED[$p]}" "" set)")
done
commit service "${seed_writes[@]}"
tp_eq "seed: ${#SEED[@]} documents written as the service (Bearer owner)" 200 "$CODE"
req service GET "$DOCS/users/alice/status/trading"
tp_eq "seed: read back as the service" true "$(tp_jq '.fields.enabled.booleanValue' "$BODY")"

# --- the matrix ------------------------------------------------------------------
# Expected access, from docs/firestore-rules.md. Actors: owner = alice (the
# tenant of the path), other = bob (another signed-in tenant), anon = signed
# out, admin = a signed-in user with the custom claim admin: true. The five
# letters are get, list, create, update, delete: the letter where allowed,
# "-" where denied, "." where the operation does not apply. "list" is a query
# on the document's collection (runQuery, as the SDKs send it).
#
# kind (document path)           owner  other  anon   admin  payload of the writes    server time
MATRIX='
users/alice                      g--u-  -----  -----  -----  {"display_name":"A."}    -
users/alice/secrets/alpaca       -----  -----  -----  -----  {"v":2,"key_id":"eA"}    -
users/alice/status/trading       glcu-  -----  -----  -----  {"enabled":false,"reason":"matrix"}  updated_at
users/alice/status/last_sync_error  gl---  -----  -----  -----  {"enabled":false,"reason":"matrix"}  updated_at
users/alice/status/quarantine    gl---  -----  -----  -----  {"enabled":false,"reason":"matrix"}  updated_at
users/alice/data/snapshot        gl---  -----  -----  -----  {"equity":1,"cash":1}     synced_at
users/alice/alpacaAccounts/snapshot  gl---  -----  -----  -----  {"equity":1,"cash":1}  synced_at
users/alice/signals/sig1         gl---  -----  -----  -----  {"symbol":"AAPL","action":"BUY"}  timestamp
users/alice/shadowTradeHistory/trade1  glc--  -----  -----  -----  {"symbol":"AAPL","side":"buy","qty":1,"entry_price":150.25,"status":"OPEN"}  created_at
users/alice/notes/n1             -----  -----  -----  -----  {"text":"x"}             -
ops/last_pulse                   -----  -----  -----  -----  {"synced":0}             -
ops/crashes/reports/crash1       -----  -----  -----  -----  {"pid":1}                -
tradingSignals/sig1              -----  -----  -----  gl---  {"symbol":"MSFT"}        -
shadowTradeHistory/trade1        -----  -----  -----  gl---  {"symbol":"MSFT"}        -
alpacaAccounts/snapshot          -----  -----  -----  gl---  {"equity":1}             -
*shadowTradeHistory              .-...  .-...  .-...  .-...  -                        -
'
OPS=(get list create update delete)
ACTORS=(owner other anon admin)
CELLS=0

# check_cell CELL WANT(allowed|denied): the last request's answer.
check_cell() {
	local got
	CELLS=$((CELLS + 1))
	case $CODE in
	200) got=allowed ;;
	403) got=denied ;;
	*) got="HTTP $CODE" ;;
	esac
	# A runQuery answers 200 with an error entry in its stream, or an error.
	if [ "$got" = allowed ] && [ "$(tp_jq 'if type == "array" then (map(select(.error)) | length) else 0 end' "$BODY")" != 0 ]; then
		got="error in the answer"
	fi
	if [ "$got" = "$2" ]; then
		tp_pass "$1"
	else
		tp_fail "cell $1: expected $2, got $got" "$(brief)"
	fi
}

# query ACTOR PARENT COLLECTION [ALL_DESCENDANTS]: runQuery of a collection.
query() {
	local url=$DOCS
	[ -z "$2" ] || url=$DOCS/$2
	req "$1" POST "$url:runQuery" "$(jq -cn --arg c "$3" --argjson all "${4:-false}" \
	    '{structuredQuery: {from: [{collectionId: $c, allDescendants: $all}]}}')"
}

while read -r path exp_owner exp_other exp_anon exp_admin payload stf; do
	[ -n "$path" ] || continue
	[ "$stf" != - ] || stf=
	exps=("$exp_owner" "$exp_other" "$exp_anon" "$exp_admin")
	group=
	case $path in '*'*) group=${path#\*} ;; esac
	coll=${path%/*}
	parent=${coll%/*}
	[ "$parent" != "$coll" ] || parent=
	coll=${coll##*/}
	for ai in 0 1 2 3; do
		actor=${ACTORS[$ai]}
		for oi in 0 1 2 3 4; do
			op=${OPS[$oi]}
			e=${exps[$ai]:$oi:1}
			[ "$e" != . ] || continue
			want=denied
			[ "$e" = - ] || want=allowed
			if [ -n "$group" ]; then
				query "$actor" "" "$group" true
				check_cell "collection group $group $op as $actor" "$want"
				continue
			fi
			case $op in
			get) req "$actor" GET "$DOCS/$path" ;;
			list) query "$actor" "$parent" "$coll" ;;
			create)
				req service DELETE "$DOCS/$path"
				commit "$actor" "$(write_json "$path" "$payload" "$stf" create)"
				;;
			update) commit "$actor" "$(write_json "$path" "$payload" "$stf" update)" ;;
			delete) commit "$actor" "$(write_json "$path" null "" delete)" ;;
			esac
			check_cell "$path $op as $actor" "$want"
			[ "$op" = get ] || [ "$op" = list ] || restore "$path"
		done
	done
done <<<"$MATRIX"
tp_log "matrix: $CELLS cells checked"

# --- the owner's writes, as a client SDK sends them ---------------------------------

# sdk NAME WANT ACTOR PATH DATA SERVER_TIME MODE: one write, then the seed back.
sdk() {
	commit "$3" "$(write_json "$4" "$5" "$6" "$7")"
	CELLS=$((CELLS + 1))
	local got=denied
	[ "$CODE" = 200 ] && got=allowed
	[ "$CODE" = 200 ] || [ "$CODE" = 403 ] || got="HTTP $CODE"
	if [ "$got" = "$2" ]; then
		tp_pass "$1"
	else
		tp_fail "sdk write: $1: expected $2, got $got" "$(brief)"
	fi
	restore "$4"
}

TR=users/alice/status/trading
# setDoc(doc(db, "users", uid, "status", "trading"), {enabled: false, updated_at: serverTimestamp(), reason})
sdk "owner pulls the kill-switch: set {enabled: false, updated_at: serverTimestamp(), reason}" \
    allowed owner "$TR" '{"enabled":false,"reason":"vacation"}' updated_at set
commit owner "$(write_json "$TR" '{"enabled":false,"reason":"vacation"}' updated_at set)"
req service GET "$DOCS/$TR"
tp_eq "the kill-switch reads back disabled" false "$(tp_jq '.fields.enabled.booleanValue' "$BODY")"
tp_match "its updated_at is the server's time (a timestampValue)" '^20[0-9-]+T' "$(tp_jq '.fields.updated_at.timestampValue' "$BODY")"
tp_eq "its reason is kept" vacation "$(tp_jq '.fields.reason.stringValue' "$BODY")"
restore "$TR"
sdk "owner sets the kill-switch without a reason" allowed owner "$TR" '{"enabled":false}' updated_at set
sdk "owner updateDoc's the kill-switch {enabled: false, updated_at: serverTimestamp()}" \
    allowed owner "$TR" '{"enabled":false}' updated_at update
req service DELETE "$DOCS/$TR"
sdk "owner creates a missing kill-switch disabled" allowed owner "$TR" '{"enabled":false,"reason":"new"}' updated_at create
sdk "kill-switch: enabled: true is refused" denied owner "$TR" '{"enabled":true,"reason":"back"}' updated_at set
sdk "kill-switch: an extra field is refused" denied owner "$TR" '{"enabled":false,"reason":"x","by":"alice"}' updated_at set
sdk "kill-switch: a client timestamp is refused" denied owner "$TR" '{"enabled":false,"updated_at":"@ts:'"$NOW"'"}' "" set
sdk "kill-switch: no updated_at is refused" denied owner "$TR" '{"enabled":false,"reason":"x"}' "" set
sdk "kill-switch: enabled as a string is refused" denied owner "$TR" '{"enabled":"false"}' updated_at set
sdk "kill-switch: a reason that is not a string is refused" denied owner "$TR" '{"enabled":false,"reason":7}' updated_at set
long=$(printf 'r%.0s' $(seq 1 257))
sdk "kill-switch: a reason of 257 characters is refused" denied owner "$TR" '{"enabled":false,"reason":"'"$long"'"}' updated_at set
sdk "kill-switch: a reason of 256 characters is accepted" allowed owner "$TR" '{"enabled":false,"reason":"'"${long:1}"'"}' updated_at set
sdk "kill-switch: another user's is refused" denied other "$TR" '{"enabled":false}' updated_at set
sdk "status/quarantine cannot be written as a stop" denied owner users/alice/status/quarantine '{"enabled":false}' updated_at set

ST=users/alice/shadowTradeHistory/new1
TRADE='{"symbol":"AAPL","side":"buy","qty":10,"entry_price":150.25,"status":"OPEN"'
# addDoc(collection(db, "users", uid, "shadowTradeHistory"), {..., status: "OPEN", created_at: serverTimestamp()})
for v in \
    "allowed|owner opens a paper trade (created_at: serverTimestamp())|$TRADE}|created_at" \
    "allowed|owner opens a paper trade with a signal_id|$TRADE,\"signal_id\":\"sig1\"}|created_at" \
    "allowed|owner opens a sell with a fractional qty and class-share symbol|{\"symbol\":\"BRK.B\",\"side\":\"sell\",\"qty\":0.5,\"entry_price\":410,\"status\":\"OPEN\"}|created_at" \
    "denied|a CLOSED trade is refused|{\"symbol\":\"AAPL\",\"side\":\"buy\",\"qty\":10,\"entry_price\":150.25,\"status\":\"CLOSED\"}|created_at" \
    "denied|a trade with unrealized_pnl is refused|$TRADE,\"unrealized_pnl\":99}|created_at" \
    "denied|a trade with a client created_at is refused|$TRADE,\"created_at\":\"@ts:$NOW\"}|" \
    "denied|a trade without created_at is refused|$TRADE}|" \
    "denied|qty 0 is refused|{\"symbol\":\"AAPL\",\"side\":\"buy\",\"qty\":0,\"entry_price\":150.25,\"status\":\"OPEN\"}|created_at" \
    "denied|a lower-case symbol is refused|{\"symbol\":\"aapl\",\"side\":\"buy\",\"qty\":1,\"entry_price\":150.25,\"status\":\"OPEN\"}|created_at" \
    "denied|side hold is refused|{\"symbol\":\"AAPL\",\"side\":\"hold\",\"qty\":1,\"entry_price\":150.25,\"status\":\"OPEN\"}|created_at" \
    "denied|entry_price as a string is refused|{\"symbol\":\"AAPL\",\"side\":\"buy\",\"qty\":1,\"entry_price\":\"150.25\",\"status\":\"OPEN\"}|created_at" \
    "denied|a missing side is refused|{\"symbol\":\"AAPL\",\"qty\":1,\"entry_price\":150.25,\"status\":\"OPEN\"}|created_at"; do
	IFS='|' read -r want name data stf <<<"$v"
	req service DELETE "$DOCS/$ST"
	commit owner "$(write_json "$ST" "$data" "$stf" create)"
	CELLS=$((CELLS + 1))
	got=denied
	[ "$CODE" = 200 ] && got=allowed
	[ "$CODE" = 200 ] || [ "$CODE" = 403 ] || got="HTTP $CODE"
	if [ "$got" = "$want" ]; then
		tp_pass "$name"
	else
		tp_fail "sdk write: shadowTradeHistory addDoc: $name: expected $want, got $got" "$(brief)"
	fi
done
req service DELETE "$DOCS/$ST"
sdk "owner cannot close a trade (updateDoc status: CLOSED)" denied owner users/alice/shadowTradeHistory/trade1 '{"status":"CLOSED"}' "" update
sdk "owner cannot set P&L on a trade" denied owner users/alice/shadowTradeHistory/trade1 '{"unrealized_pnl":1e6}' "" update

U=users/alice
sdk "owner updateDoc's a profile field" allowed owner "$U" '{"display_name":"Alice"}' "" update
sdk "owner cannot change created_at" denied owner "$U" '{"created_at":"@ts:2020-01-01T00:00:00Z"}' "" update
sdk "owner cannot setDoc the tenant root without created_at" denied owner "$U" '{"display_name":"Alice"}' "" set
sdk "owner cannot set a signal" denied owner users/alice/signals/sig1 '{"symbol":"AAPL","action":"SELL"}' timestamp set
sdk "owner cannot set the account snapshot" denied owner users/alice/data/snapshot '{"equity":1e9}' synced_at set

# A commit is atomic: an allowed write with a refused one writes nothing.
commit owner "$(write_json "$TR" '{"enabled":false}' updated_at set)" \
    "$(write_json users/alice/data/snapshot '{"equity":1e9}' "" set)"
tp_eq "a commit with one refused write is refused" 403 "$CODE"
req service GET "$DOCS/$TR"
tp_eq "... and its allowed write did not happen" true "$(tp_jq '.fields.enabled.booleanValue' "$BODY")"

tp_log "$CELLS cells and client writes checked against $RULES"
tp_stop_group "$EMU_PGID"
emu_gone() { ! tp_group_alive "$EMU_PGID"; }
tp_true "the emulator and its java are gone" emu_gone
tp_finish
