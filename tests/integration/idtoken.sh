#!/usr/bin/env bash
# tests/integration/idtoken.sh: requests on a user's behalf: Firebase ID tokens made here (openssl), verified by the daemon against a certificates file; what a user may and may not ask; the reason in the log, never the token.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tp_init idtoken

PROJECT=tp-idtoken-test
CERTS=$T/certs.json

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# mkcert NAME: an RSA key $T/NAME.key and a self-signed certificate $T/NAME.pem.
mkcert() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
	    -days 1 -subj "/CN=securetoken.system.gserviceaccount.com" >/dev/null 2>&1
}

# certs KID NAME: the certificates file as Google serves it, {kid: PEM}.
certs() {
	jq -n --arg kid "$1" --rawfile pem "$T/$2.pem" '{($kid): $pem}' >"$CERTS.tmp" &&
	    mv "$CERTS.tmp" "$CERTS"
}

# token KID KEYNAME SUB [EXP_OFFSET]: an RS256 ID token, printed.
token() {
	local now h p sig
	now=$(date +%s)
	h=$(jq -cn --arg kid "$1" '{alg: "RS256", kid: $kid, typ: "JWT"}' | b64url)
	p=$(jq -cn --arg sub "$3" --arg proj "$PROJECT" --argjson now "$now" --argjson d "${4:-3600}" \
	    '{iss: ("https://securetoken.google.com/" + $proj), aud: $proj,
	      auth_time: ($now - 60), user_id: $sub, sub: $sub, iat: ($now - 60), exp: ($now + $d)}' | b64url)
	sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/$2.key" | b64url)
	printf '%s.%s.%s' "$h" "$p" "$sig"
}

if ! mkcert one || ! mkcert two; then
	tp_fail "openssl makes the test's keys and certificates"
	tp_finish
fi
certs kid-one one

tp_write_config "$TP_CONF" "auth.firebase_project_id=$PROJECT" "auth.certs=$CERTS"
tp_keygen || tp_finish

# -n reads the certificates file
tp_run "$TPD" -n -f "$TP_CONF"
tp_rc "tradepulsed -n accepts the certificates file" 0
echo '{"k": "not a certificate"}' >"$T/bad.json"
tp_write_config "$T/bad.conf" "auth.firebase_project_id=$PROJECT" "auth.certs=$T/bad.json" \
    "secrets.master_key=$T/master.key"
tp_run "$TPD" -n -f "$T/bad.conf"
tp_rc "tradepulsed -n refuses a certificates file that holds no certificate" 1
tp_has "... naming the file" "bad.json: certificate k is not a PEM X.509 certificate" "$ERR"

tp_start || tp_finish

tp_cli tenant add alice
tp_rc "tenant add alice (operator)" 0
tp_cli tenant add bob
tp_rc "tenant add bob (operator)" 0
for u in alice bob; do
	tp_cli keys set "$u" --key-id "PKTEST${u^^}0001" <<<"secret-of-$u-0123456789"
	tp_rc "keys set $u (operator)" 0
done
tp_cli --token-file "$T/none.tok" keys set alice --key-id PKTESTX0001 <<<"secret-x"
tp_rc "keys set with --token-file is refused by the CLI (an operator's command)" 2

ALICE=$(token kid-one one alice)
printf '  %s\n\n' "$ALICE" >"$T/alice.tok"
chmod 600 "$T/alice.tok"

tp_jcli --token-file "$T/alice.tok" sync alice
tp_ok "alice's token: sync alice"
tp_eq "... the job is alice's" alice "$(tp_jq .result.uid "$OUT")"
JOB_A=$(tp_jq .result.job_id "$OUT")

tp_jcli sync alice --token-file "$T/alice.tok"
tp_ok "--token-file also after the command"

tp_jcli --token-file "$T/alice.tok" sync bob
tp_rc_code "alice's token: sync bob is permission_denied" 1 permission_denied

tp_jcli --token-file "$T/alice.tok" tenant list
tp_rc_code "alice's token: tenant list is permission_denied" 1 permission_denied
tp_jcli --token-file "$T/alice.tok" tenant show alice
tp_rc_code "alice's token: tenant show (an operator's op) is permission_denied" 1 permission_denied
tp_jcli --token-file "$T/alice.tok" status
tp_rc_code "alice's token: status is permission_denied" 1 permission_denied
tp_jcli --token-file "$T/alice.tok" trading disable alice
tp_rc_code "alice's token: trading is permission_denied" 1 permission_denied

tp_jcli --token-file "$T/alice.tok" job "$JOB_A"
tp_ok "alice's token: job of alice's sync"
tp_jcli sync bob
tp_ok "no token (operator): sync bob"
JOB_B=$(tp_jq .result.job_id "$OUT")
tp_jcli --token-file "$T/alice.tok" job "$JOB_B"
tp_rc_code "alice's token: job of bob's sync is permission_denied" 1 permission_denied

# Refused tokens: the client hears unauthenticated, the log has why.
# one character in the middle of the signature changed
c=${ALICE: -20:1}
case $c in A) c=B ;; *) c=A ;; esac
BAD=${ALICE:0:${#ALICE}-20}$c${ALICE: -19}
printf '%s\n' "$BAD" >"$T/bad.tok"
tp_jcli --token-file "$T/bad.tok" sync alice
tp_rc_code "a token with a bad signature is unauthenticated" 1 unauthenticated
tp_eq "... with the message invalid ID token" "invalid ID token" "$(tp_jq .error.message "$OUT")"

token kid-one one alice -3600 >"$T/expired.tok"
tp_jcli --token-file "$T/expired.tok" sync alice
tp_rc_code "an expired token is unauthenticated" 1 unauthenticated

token kid-two two alice >"$T/two.tok"
tp_jcli --token-file "$T/two.tok" sync alice
tp_rc_code "a token of an unknown kid is unauthenticated" 1 unauthenticated

# unsigned emulator tokens: off by default
printf '%s.%s.' "$(printf '{"alg":"none","typ":"JWT"}' | b64url)" \
    "$(jq -cn --arg proj "$PROJECT" --argjson now "$(date +%s)" \
    '{iss: ("https://securetoken.google.com/" + $proj), aud: $proj, auth_time: $now, sub: "alice", iat: $now, exp: ($now + 3600)}' | b64url)" >"$T/none.tok"
tp_jcli --token-file "$T/none.tok" sync alice
tp_rc_code "an unsigned (emulator) token is unauthenticated when emulator tokens are off" 1 unauthenticated

printf 'not a token at all\n' >"$T/junk.tok"
tp_jcli --token-file "$T/junk.tok" sync alice
tp_rc "a token file that holds no token is a usage error" 2

# Rotation: the file now holds kid-two only; it is re-read without a restart.
certs kid-two two
sleep 1.2
tp_jcli --token-file "$T/two.tok" sync alice
tp_ok "after the certificates file changed, a kid-two token works (no restart)"
tp_jcli --token-file "$T/alice.tok" sync alice
tp_rc_code "... and the kid-one token is refused" 1 unauthenticated

tp_slurp LOG "$T/daemon.log"
tp_has "the log has the reason: bad signature" "ID token refused: bad signature" "$LOG"
tp_has "the log has the reason: expired" "ID token refused: expired" "$LOG"
tp_has "the log has the reason: unknown kid" "ID token refused: unknown kid" "$LOG"
tp_has "the log has the reason: alg none" "ID token refused: alg none" "$LOG"
tp_lacks "the log never has the valid token" "${ALICE##*.}" "$LOG"
tp_lacks "the log never has the bad token's signature" "${BAD##*.}" "$LOG"
tp_lacks "the log never has a token's header" "${ALICE%%.*}" "$LOG"

tp_stop
tp_eq "the daemon exits 0" 0 "$TPD_RC"
tp_finish
