#!/usr/bin/env bash
# tests/integration/api.sh: malformed, oversized, unknown and bad-uid job API requests get the right error, and the daemon keeps serving.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init api

# 128K, so that 100,000 '[' fit under the limit and reach the JSON parser.
MAX=131072
tp_write_config "$TP_CONF" daemon.api_max_request=128K
EP=ipc://$T/run/api.sock
R=$T/req
mkdir -p "$R"

tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts"
	tp_finish
fi
pid0=$TPD_PID
SENT_ERRORS=0

# api FILE [apiclient options]: one request, the reply in OUT.
api() {
	local f=$1
	shift
	tp_run "$APICLIENT" -t "${API_TIMEOUT:-5}" "$@" "$EP" "$f"
}

# expect NAME CODE FILE [apiclient options]: an error reply with CODE.
expect() {
	local name=$1 code=$2 f=$3
	shift 3
	api "$f" "$@"
	SENT_ERRORS=$((SENT_ERRORS + 1))
	local re='^[[:space:]]*\{[[:space:]]*"ok"[[:space:]]*:[[:space:]]*false[[:space:]]*,[[:space:]]*"error"[[:space:]]*:[[:space:]]*\{[^{}]*"code"[[:space:]]*:[[:space:]]*"([a-z_]*)"'
	if [[ $OUT =~ $re ]] && [ "${BASH_REMATCH[1]}" = "$code" ] && [ "$RC" != 3 ]; then
		tp_pass "$name"
		[[ $OUT =~ \"message\"[[:space:]]*:[[:space:]]*\"[^\"] ]] ||
		    tp_fail "$name: the error has a message" "$OUT"
	else
		tp_fail "$name: expected error $code" "$(tp_last)"
	fi
}

# req NAME TEXT: a request file made from TEXT (printf %b escapes allowed);
# its path is in REQ. ereq NAME CODE TEXT: expect on such a file.
req() {
	REQ=$R/$1
	printf '%b' "$2" >"$REQ"
}
ereq() {
	req "${1//[^A-Za-z0-9]/_}" "$3"
	expect "$1" "$2" "$REQ"
}

# succeed NAME FILE [apiclient options]: an ok reply.
succeed() {
	local name=$1 f=$2
	shift 2
	api "$f" "$@"
	if [ "$RC" = 0 ] && [ "$(tp_jq .ok "$OUT")" = true ]; then
		tp_pass "$name"
	else
		tp_fail "$name: expected ok" "$(tp_last)"
	fi
}

repeat() { head -c "$2" /dev/zero | tr '\0' "$1"; }

tp_log "well-formed requests work"
req status '{"op":"status"}'
succeed "status over DEALER" "$REQ"
tp_eq "status names the daemon's pid" "$pid0" "$(tp_jq .result.pid "$OUT")"
succeed "status over REQ" "$R/status" --req
tp_eq "REQ status names the daemon's pid" "$pid0" "$(tp_jq .result.pid "$OUT")"
req add-alice '{"op":"tenant.add","uid":"alice"}'
succeed "tenant.add" "$REQ"
req add-nested '{"op":"tenant.add","uid":"nested","profile":{"a":{"b":{"c":[1,2,{"d":"e"}]}},"name":"N"}}'
succeed "tenant.add with a nested profile" "$REQ"
req show-alice '{"op":"tenant.show","uid":"alice"}'
succeed "tenant.show over REQ" "$REQ" --req
req spaced ' {\n  "op" : "tenant.list" ,\n  "limit" : 10\n}\n'
succeed "a request with spaces and newlines" "$REQ"

tp_log "malformed JSON"
ereq "an unterminated object" invalid_argument '{"op": "status"'
ereq "an unterminated string" invalid_argument '{"op": "stat'
ereq "a bare word" invalid_argument 'status'
ereq "single quotes" invalid_argument "{'op': 'status'}"
ereq "a trailing comma" invalid_argument '{"op":"status",}'
ereq "a lone brace" invalid_argument '}'
ereq "invalid UTF-8 in a string" invalid_argument '{"op":"tenant.add","uid":"\xff\xfe"}'
ereq "a bad escape" invalid_argument '{"op":"tenant.add","uid":"\\q"}'

tp_log "not an object"
ereq "an array" invalid_argument '[{"op":"status"}]'
ereq "a string" invalid_argument '"status"'
ereq "a number" invalid_argument '42'
ereq "null" invalid_argument 'null'
ereq "true" invalid_argument 'true'

tp_log "trailing garbage"
ereq "an object then a word" invalid_argument '{"op":"status"} xyz'
ereq "two objects" invalid_argument '{"op":"status"}{"op":"status"}'
ereq "an object then a NUL" invalid_argument '{"op":"status"}\x00'
ereq "an object then a brace" invalid_argument '{"op":"status"}}'

tp_log "duplicate keys"
# dupe NAME TEXT: the reply, parsed with jq, is invalid_argument naming
# the key, never the result of either value.
dupe() {
	req "${1//[^A-Za-z0-9]/_}" "$2"
	api "$REQ"
	SENT_ERRORS=$((SENT_ERRORS + 1))
	tp_eq "$1: ok is false" false "$(printf '%s' "$OUT" | jq -r '.ok' 2>&1)"
	tp_eq "$1: invalid_argument" invalid_argument "$(printf '%s' "$OUT" | jq -r '.error.code' 2>&1)"
	tp_has "$1: the message names the key" "duplicate key \"$3\"" "$(printf '%s' "$OUT" | jq -r '.error.message' 2>&1)"
	tp_eq "$1: no result" null "$(printf '%s' "$OUT" | jq -c '.result' 2>&1)"
}
dupe "op given twice" '{"op":"status","op":"tenant.list"}' op
dupe "op given twice, escaped" '{"op":"status","o\\u0070":"tenant.list"}' op
dupe "uid given twice" '{"op":"tenant.add","uid":"dupa","uid":"dupb"}' uid
dupe "a duplicate in a nested profile" '{"op":"tenant.add","uid":"dupc","profile":{"n":1,"n":2}}' n
tp_jcli tenant show dupa
tp_rc_code "no tenant was added from a duplicate uid (dupa)" 1 not_found
tp_jcli tenant show dupb
tp_rc_code "no tenant was added from a duplicate uid (dupb)" 1 not_found
tp_jcli tenant show dupc
tp_rc_code "no tenant was added from a duplicate in its profile" 1 not_found

tp_log "size"
# Exactly at the limit: not refused for its size (the unknown field may be).
{ printf '{"op":"status","pad":"'; repeat A $((MAX - 24)); printf '"}'; } >"$R/at-limit"
tp_eq "the at-limit request is $MAX bytes" "$MAX" "$(stat -c %s "$R/at-limit")"
api "$R/at-limit"
tp_ne "a request of exactly api_max_request is not refused for its size" \
    resource_exhausted "$(tp_jerr "$OUT")"
tp_true "and it gets a reply" test -n "$OUT"
{ printf '{"op":"status","pad":"'; repeat A $((MAX - 23)); printf '"}'; } >"$R/over-limit"
expect "one byte over api_max_request" resource_exhausted "$R/over-limit"
{ printf '{"op":"tenant.add","uid":"big","pad":"'; repeat B $((200 * 1024)); printf '"}'; } >"$R/200k"
expect "a 200 KiB request" resource_exhausted "$R/200k"
repeat ' ' $((1024 * 1024)) >"$R/1m"
expect "1 MiB of spaces" resource_exhausted "$R/1m"
{ printf '{"op":"status","pad":"'; repeat C $((4 * 1024 * 1024)); printf '"}'; } >"$R/4m"
expect "a 4 MiB request" resource_exhausted "$R/4m"
# Past API_HARD_MAX_FRAME ZeroMQ drops the frame and the peer: no reply.
repeat D $((17 * 1024 * 1024)) >"$R/17m"
API_TIMEOUT=2 api "$R/17m"
tp_rc "a 17 MiB frame gets no reply (client times out)" 3
tp_true "the daemon survives a 17 MiB frame" tp_alive "$pid0"
rm -f "$R/17m" "$R/4m" "$R/1m"

tp_log "deep nesting"
repeat '[' 100000 >"$R/deep1"
expect "100,000 '['" invalid_argument "$R/deep1"
{ printf '{"op":"status","x":'; repeat '[' 60000; repeat ']' 60000; printf '}'; } >"$R/deep2"
expect "60,000 nested arrays, well formed, under the size limit" invalid_argument "$R/deep2"
{ printf '{"op":"tenant.add","uid":"deep","profile":'; for i in $(seq 1 20000); do printf '{"a":'; done; printf '1'; repeat '}' 20000; printf '}'; } >"$R/deep3"
expect "20,000 nested objects in a profile" invalid_argument "$R/deep3"
{ printf '{"op":"tenant.add","uid":"deep2","profile":'; repeat '[' 70; repeat ']' 70; printf '}'; } >"$R/deep4"
expect "70 levels (past the 64 allowed)" invalid_argument "$R/deep4"

tp_log "op"
ereq "an unknown op" invalid_argument '{"op":"frobnicate"}'
ereq "an op in capitals" invalid_argument '{"op":"STATUS"}'
ereq "an empty op" invalid_argument '{"op":""}'
ereq "an op with a NUL" invalid_argument '{"op":"status\\u0000x"}'
ereq "no op" invalid_argument '{}'
ereq "no op, other args" invalid_argument '{"uid":"alice"}'
ereq "op a number" invalid_argument '{"op":5}'
ereq "op null" invalid_argument '{"op":null}'
ereq "op an array" invalid_argument '{"op":["status"]}'

tp_log "wrong-typed and out-of-bounds arguments"
ereq "tenant.add uid a number" invalid_argument '{"op":"tenant.add","uid":5}'
ereq "tenant.add uid null" invalid_argument '{"op":"tenant.add","uid":null}'
ereq "tenant.add without uid" invalid_argument '{"op":"tenant.add"}'
ereq "tenant.add profile a string" invalid_argument '{"op":"tenant.add","uid":"p1","profile":"x"}'
ereq "tenant.add profile an array" invalid_argument '{"op":"tenant.add","uid":"p2","profile":[1]}'
ereq "tenant.show uid true" invalid_argument '{"op":"tenant.show","uid":true}'
ereq "tenant.show uid a map" invalid_argument '{"op":"tenant.show","uid":{"a":1}}'
ereq "keys.set key_id a number" invalid_argument '{"op":"keys.set","uid":"alice","key_id":5,"secret":"abcdefgh"}'
ereq "keys.set secret a number" invalid_argument '{"op":"keys.set","uid":"alice","key_id":"PKAAAABBBBCCCCDDDD01","secret":123}'
ereq "keys.set without secret" invalid_argument '{"op":"keys.set","uid":"alice","key_id":"PKAAAABBBBCCCCDDDD01"}'
ereq "keys.set without key_id" invalid_argument '{"op":"keys.set","uid":"alice","secret":"abcdefgh"}'
ereq "keys.set empty secret" invalid_argument '{"op":"keys.set","uid":"alice","key_id":"PKAAAABBBBCCCCDDDD01","secret":""}'
ereq "keys.set 129-character key_id" invalid_argument "{\"op\":\"keys.set\",\"uid\":\"alice\",\"key_id\":\"$(repeat K 129)\",\"secret\":\"abcdefgh\"}"
ereq "keys.set 129-character secret" invalid_argument "{\"op\":\"keys.set\",\"uid\":\"alice\",\"key_id\":\"PKAAAABBBBCCCCDDDD01\",\"secret\":\"$(repeat s 129)\"}"
ereq "trading.set enabled a string" invalid_argument '{"op":"trading.set","uid":"alice","enabled":"yes"}'
ereq "trading.set enabled 1" invalid_argument '{"op":"trading.set","uid":"alice","enabled":1}'
ereq "trading.set without enabled" invalid_argument '{"op":"trading.set","uid":"alice"}'
ereq "trading.set reason a number" invalid_argument '{"op":"trading.set","uid":"alice","enabled":false,"reason":5}'
ereq "trading.set 257-character reason" invalid_argument "{\"op\":\"trading.set\",\"uid\":\"alice\",\"enabled\":false,\"reason\":\"$(repeat r 257)\"}"
ereq "tenant.list limit a string" invalid_argument '{"op":"tenant.list","limit":"10"}'
ereq "tenant.list limit 0" invalid_argument '{"op":"tenant.list","limit":0}'
ereq "tenant.list limit 2^31" invalid_argument '{"op":"tenant.list","limit":2147483648}'
req tenant_list_limit_1001 '{"op":"tenant.list","limit":1001}'
succeed "tenant.list limit 1001 is capped, not refused" "$REQ"
ereq "tenant.list limit -1" invalid_argument '{"op":"tenant.list","limit":-1}'
ereq "tenant.list limit 1.5" invalid_argument '{"op":"tenant.list","limit":1.5}'
ereq "tenant.list limit 2^64" invalid_argument '{"op":"tenant.list","limit":18446744073709551616}'
ereq "tenant.list after a number" invalid_argument '{"op":"tenant.list","after":5}'
ereq "tenant.list after a bad uid" invalid_argument '{"op":"tenant.list","after":"../x"}'
ereq "wait a string" invalid_argument '{"op":"status","wait":"yes"}'
{ printf '{"op":"tenant.add","uid":"bigprofile","profile":{"p":"'; repeat P $((17 * 1024)); printf '"}}'; } >"$R/a29"
api "$R/a29"
SENT_ERRORS=$((SENT_ERRORS + 1))
tp_match "a profile over 16 KiB is refused" '"code"[[:space:]]*:[[:space:]]*"(invalid_argument|resource_exhausted)"' "$OUT"
req a30 "{\"op\":\"trading.set\",\"uid\":\"alice\",\"enabled\":false,\"reason\":\"$(repeat r 256)\"}"
succeed "trading.set with a 256-character reason" "$REQ"

tp_log "frames"
ereq "an empty frame" invalid_argument ''
printf '\x00\x01\x02\xff\xfe\xfd\x80\x81{[\x00"op"\x7f\x1b[31m' >"$R/g1"
head -c 4000 /dev/urandom >>"$R/g1"
expect "binary garbage" invalid_argument "$R/g1"
printf '\x00' >"$R/g2"
expect "a single NUL byte" invalid_argument "$R/g2"
expect "a 3-frame message" invalid_argument "$R/status" --frames 3
expect "a 2-frame message" invalid_argument "$R/status" --frames 2
expect "REQ: malformed JSON" invalid_argument "$R/an_unterminated_object" --req
expect "REQ: an unknown op" invalid_argument "$R/an_unknown_op" --req

tp_log "bad uids"
uids=('../x' 'a/b' '' "$(repeat u 129)" 'é' '\u00e9' '.' '..' 'a b' 'a\u0000b' 'users/x' 'a\nb' 'x%2F..' '~root' 'tab\there')
for u in "${uids[@]}"; do
	show=${u:0:24}
	ereq "tenant.add uid '$show'" invalid_argument "{\"op\":\"tenant.add\",\"uid\":\"${u//\\/\\\\}\"}"
	ereq "tenant.show uid '$show'" invalid_argument "{\"op\":\"tenant.show\",\"uid\":\"${u//\\/\\\\}\"}"
	ereq "keys.set uid '$show'" invalid_argument "{\"op\":\"keys.set\",\"uid\":\"${u//\\/\\\\}\",\"key_id\":\"PKAAAABBBBCCCCDDDD01\",\"secret\":\"abcdefgh\"}"
	ereq "trading.set uid '$show'" invalid_argument "{\"op\":\"trading.set\",\"uid\":\"${u//\\/\\\\}\",\"enabled\":false}"
done
# The 128-character uid is the longest accepted.
req u128 "{\"op\":\"tenant.add\",\"uid\":\"$(repeat u 128)\"}"
succeed "tenant.add of a 128-character uid" "$REQ"

tp_log "many bad requests at once"
for i in $(seq 1 30); do
	"$APICLIENT" -t 10 "$EP" "$R/an_unterminated_object" >"$R/par.$i" 2>&1 &
	TP_PIDS+=($!)
done
for p in "${TP_PIDS[@]}"; do
	[ "$p" = "$pid0" ] && continue
	tp_wait_exit "$p" 15 || kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	tp_forget_pid "$p"
done
SENT_ERRORS=$((SENT_ERRORS + 30))
n=$(grep -l '"invalid_argument"' "$R"/par.* 2>/dev/null | wc -l)
tp_eq "30 parallel bad requests all get invalid_argument" 30 "$n"

tp_log "the daemon keeps serving"
tp_true "the daemon is alive" tp_alive "$pid0"
tp_jcli status
tp_ok "tradepulse status answers after all of it"
tp_eq "same daemon pid" "$pid0" "$(tp_jq .result.pid "$OUT")"
errs=$(tp_jq .result.api.errors "$OUT")
tp_true "status counts the error replies (api.errors $errs >= $SENT_ERRORS)" test "${errs:-0}" -ge "$SENT_ERRORS"
tp_jcli tenant list
tp_ok "tenant list answers after all of it"
uids_now=$(printf '%s' "$OUT" | grep -oE '"uid"[[:space:]]*:[[:space:]]*"[^"]*"' | sed -E 's/.*"([^"]*)"$/\1/' | sort | tr '\n' ' ')
tp_eq "only the well-formed tenant.add calls made tenants" "$(printf '%s\n' alice nested "$(repeat u 128)" | sort | tr '\n' ' ')" "$uids_now"
req page1 '{"op":"tenant.list","limit":2}'
succeed "tenant.list limit 2" "$REQ"
tp_eq "tenant.list limit 2 gives two tenants" 2 "$(printf '%s' "$OUT" | grep -o '"uid"' | wc -l)"
next=$(tp_jq .result.next "$OUT")
tp_match "and a next uid" '^[A-Za-z0-9_-]+$' "$next"
req page2 "{\"op\":\"tenant.list\",\"limit\":2,\"after\":\"$next\"}"
succeed "tenant.list after next" "$REQ"
tp_eq "the second page has the third tenant" 1 "$(printf '%s' "$OUT" | grep -o '"uid"' | wc -l)"
tp_eq "and no next" null "$(tp_jq .result.next "$OUT")"
tp_jcli tenant show alice
tp_eq "alice has no keys (every keys.set was refused)" false "$(tp_jq .result.keys.set "$OUT")"
tp_nomatch "the daemon log has no sanitizer report" 'AddressSanitizer|runtime error:|LeakSanitizer' "$(cat "$T/daemon.log")"
tp_stop TERM
tp_eq "SIGTERM: exit 0 after all of it" 0 "$TPD_RC"

tp_finish
