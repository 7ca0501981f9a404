#!/usr/bin/env bash
# tests/integration/cli.sh: every tradepulse CLI command against a real tradepulsed, plus -n, key file mode and SIGHUP.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init cli

long129=$(printf 'a%.0s' $(seq 1 129))
long128=$(printf 'b%.0s' $(seq 1 128))
# Secrets shaped like Alpaca's (40 characters), different in every run.
secret_of() { head -c 60 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 36 | sed "s/^/$1/"; }
alice_secret=$(secret_of S1a9)
bob_secret=$(secret_of S2b8)
alice_kid=PKALICE7Q2M4N8R1ABCD
bob_kid=PKBOB3K5L7P9T2V4WXYZ
db=$T/state/tradepulse.db

# --- before the daemon ---------------------------------------------------------

tp_log "configuration check (tradepulsed -n)"
tp_keygen
tp_run "$TPD" -n -f "$TP_CONF"
tp_rc "-n on a good config exits 0" 0
tp_has "-n on a good config says so" "configuration OK" "$OUT$ERR"

# Bad configs, with the line the error is on.
bad=$T/bad.conf
cp "$TP_CONF" "$bad"
echo "frobnicate = 1" >>"$bad"
line=$(wc -l <"$bad")
tp_run "$TPD" -n -f "$bad"
tp_rc "-n on an unknown key exits 1" 1
tp_match "-n names the file and line of an unknown key" "$bad:$line: ." "$OUT$ERR"
tp_lacks "-n on a bad config does not say OK" "configuration OK" "$OUT$ERR"

bad2=$T/bad2.conf
tp_write_config "$bad2" pulse.interval=5parsecs
line=$(grep -n '^interval = 5parsecs' "$bad2" | cut -d: -f1)
tp_run "$TPD" -n -f "$bad2"
tp_rc "-n on a bad duration exits 1" 1
tp_match "-n names the file and line of a bad duration" "$bad2:$line: ." "$OUT$ERR"

bad3=$T/bad3.conf
tp_write_config "$bad3" daemon.api_max_request=lots
line=$(grep -n '^api_max_request = lots' "$bad3" | cut -d: -f1)
tp_run "$TPD" -n -f "$bad3"
tp_rc "-n on a bad size exits 1" 1
tp_match "-n names the file and line of a bad size" "$bad3:$line: ." "$OUT$ERR"

tp_run "$TPD" -n -f "$T/no-such.conf"
tp_rc "-n on a missing file exits 1" 1
tp_match "-n names a missing file" "$T/no-such.conf:[0-9]+: ." "$OUT$ERR"

tp_log "keygen"
tp_eq "keygen makes the master key 0600" 600 "$(stat -c %a "$T/master.key")"
sum1=$(cksum <"$T/master.key")
tp_cli keygen
tp_rc "a second keygen refuses" 1
tp_eq "a second keygen leaves the key as it was" "$sum1" "$(cksum <"$T/master.key")"
tp_cli keygen --output "$T/other.key"
tp_rc "keygen --output exits 0" 0
tp_eq "keygen --output FILE makes a 0600 file" 600 "$(stat -c %a "$T/other.key" 2>&1)"
tp_ne "keygen --output makes a different key" "$sum1" "$(cksum <"$T/other.key")"

tp_log "cannot reach the daemon: exit 3"
TP_CLI_TIMEOUT=1 tp_cli status
tp_rc "status without a daemon exits 3" 3
TP_CLI_TIMEOUT=1 tp_cli tenant list
tp_rc "tenant list without a daemon exits 3" 3

tp_log "a master key readable by others is refused"
chmod 0644 "$T/master.key"
tp_run timeout 15 "$TPD" -d -f "$TP_CONF"
tp_rc "the daemon refuses a 0644 master key" 1
tp_match "and says which file and why" "master\\.key.*(mode|permission|readable|0644|group|world)|(mode|permission|readable|0644|group|world).*master\\.key" "$OUT$ERR"
chmod 0600 "$T/master.key"

# --- with the daemon -------------------------------------------------------------

tp_log "start"
if ! tp_start; then
	tp_fail "tradepulsed -d starts and answers status"
	tp_finish
fi
tp_pass "tradepulsed -d starts and answers status"
tp_eq "the ipc folder is 0750" 750 "$(stat -c %a "$T/run" 2>&1)"

tp_log "status"
tp_jcli status
tp_ok "status --json"
tp_eq "status reports the daemon's pid" "$TPD_PID" "$(tp_jq .result.pid "$OUT")"
tp_eq "status reports the sqlite backend" sqlite "$(tp_jq .result.store.backend "$OUT")"
tp_eq "status reports key version 1" 1 "$(tp_jq .result.key_version "$OUT")"
tp_eq "--json prints one line" 1 "$(printf '%s\n' "$OUT" | wc -l)"
tp_cli status
tp_rc "status (human) exits 0" 0
tp_has "status (human) shows the pid" "$TPD_PID" "$OUT"
tp_nomatch "status (human) is not JSON" '^[[:space:]]*\{' "$OUT"

tp_log "tenant add"
tp_cli tenant add alice
tp_rc "tenant add exits 0" 0
tp_eq "tenant add says so" "added tenant alice" "$OUT"
tp_jcli tenant add bob
tp_ok "tenant add --json"
tp_eq "tenant add --json returns the uid" bob "$(tp_jq .result.uid "$OUT")"
tp_match "tenant add --json returns created_at" '"created_at"[[:space:]]*:[[:space:]]*"[0-9]{4}-' "$OUT"
tp_jcli tenant add alice
tp_rc_code "a duplicate tenant add is already_exists" 1 already_exists
tp_cli tenant add alice
tp_rc "a duplicate tenant add (human) exits 1" 1
tp_match "and says why on stderr" "alice|exists" "$ERR"
tp_cli tenant add "$long128"
tp_rc "a 128-character uid is accepted" 0
tp_cli tenant add carol_C-3
tp_rc "a uid with _ - digits and capitals is accepted" 0
tp_eq "the db file is 0600" 600 "$(stat -c %a "$db" 2>&1)"

tp_log "tenant list"
tp_jcli tenant list
tp_ok "tenant list --json"
for u in alice bob carol_C-3 "$long128"; do
	tp_match "tenant list --json has $u" "\"uid\"[[:space:]]*:[[:space:]]*\"$u\"" "$OUT"
done
tp_eq "a new tenant has trading enabled" true "$(tp_jq '.result.tenants[] | select(.uid == "alice") | .trading_enabled' "$OUT")"
tp_eq "a new tenant has no keys" false "$(tp_jq '.result.tenants[] | select(.uid == "alice") | .keys_set' "$OUT")"
tp_eq "a new tenant is not quarantined" false "$(tp_jq '.result.tenants[] | select(.uid == "alice") | .quarantined' "$OUT")"
tp_eq "tenant list counts 4 tenants" 4 "$(printf '%s' "$OUT" | grep -o '"uid"' | wc -l)"
tp_cli tenant list
tp_rc "tenant list (human) exits 0" 0
for u in alice bob carol_C-3; do
	tp_match "tenant list (human) has a row for $u" "(^|[[:space:]])$u([[:space:]]|$)" "$OUT"
done
tp_nomatch "tenant list (human) is not JSON" '"uid"' "$OUT"
tp_true "tenant list (human) has a header line" test "$(printf '%s\n' "$OUT" | wc -l)" -ge 5

tp_log "tenant show"
tp_jcli tenant show alice
tp_ok "tenant show --json"
tp_eq "tenant show: keys not set" false "$(tp_jq .result.keys.set "$OUT")"
tp_eq "tenant show: trading enabled" true "$(tp_jq .result.trading.enabled "$OUT")"
tp_jcli tenant show nobody-here
tp_rc_code "tenant show of an unknown tenant is not_found" 1 not_found
tp_cli tenant show bob
tp_rc "tenant show (human) exits 0" 0
tp_match "tenant show (human) says the keys are not set" "not set" "$OUT"
tp_has "tenant show (human) names the tenant" bob "$OUT"

tp_log "keys set"
tp_cli keys set alice --key-id "$alice_kid" <<<"$alice_secret"
tp_rc "keys set exits 0" 0
tp_match "keys set says so" "^keys set for alice \\(key id .*ABCD, key version 1\\)$" "$OUT"
tp_lacks "keys set does not echo the secret" "$alice_secret" "$OUT$ERR"
tp_lacks "keys set does not echo the full key id" "$alice_kid" "$OUT$ERR"
tp_jcli keys set bob --key-id "$bob_kid" <<<"$bob_secret"
tp_ok "keys set --json"
tp_eq "keys set --json gives key_id_last4" WXYZ "$(tp_jq .result.key_id_last4 "$OUT")"
tp_eq "keys set --json gives key_version 1" 1 "$(tp_jq .result.key_version "$OUT")"
tp_jcli keys set nobody-here --key-id PKNOBODY000000000001 <<<"$alice_secret"
tp_rc_code "keys set for an unknown tenant is not_found" 1 not_found
tp_cli keys set carol_C-3 --key-id PKCAROL0000000000001 </dev/null
tp_true "keys set with an empty secret fails" test "$RC" = 1 -o "$RC" = 2
tp_cli keys set carol_C-3 <<<"$alice_secret"
tp_rc "keys set without --key-id is a usage error" 2
tp_jcli tenant show carol_C-3
tp_eq "carol still has no keys after the refused calls" false "$(tp_jq .result.keys.set "$OUT")"

tp_jcli tenant show alice
tp_eq "tenant show: keys set" true "$(tp_jq .result.keys.set "$OUT")"
tp_eq "tenant show: key_id_last4" ABCD "$(tp_jq .result.keys.key_id_last4 "$OUT")"
tp_eq "tenant show: key_version 1" 1 "$(tp_jq .result.keys.key_version "$OUT")"
tp_lacks "tenant show --json has no secret" "$alice_secret" "$OUT"
tp_lacks "tenant show --json has no full key id" "$alice_kid" "$OUT"
tp_nomatch "tenant show --json has no ciphertext" 'ciphertext|nonce|sealed' "$OUT"
tp_cli tenant show alice
tp_rc "tenant show (human) exits 0" 0
tp_has "tenant show (human) shows the last 4 of the key id" ABCD "$OUT"
tp_lacks "tenant show (human) has no full key id" "$alice_kid" "$OUT"
tp_lacks "tenant show (human) has no secret" "$alice_secret" "$OUT"
tp_jcli tenant list
tp_eq "tenant list shows alice's keys set" true "$(tp_jq '.result.tenants[] | select(.uid == "alice") | .keys_set' "$OUT")"

tp_log "the secret is nowhere in clear"
tlog=$T/log/tenants/alice.log
tp_true "alice has a tenant log" test -s "$tlog"
tp_eq "the tenant log is 0640" 640 "$(stat -c %a "$tlog" 2>&1)"
tp_true "the tenant log records the keys change" grep -q -i 'key' "$tlog"
# The sealed secret is in the files grepped below, so the grep looks where the write went.
tp_true "the sealed secret is in the store files" \
    grep -aqs -e ciphertext -e key_id_last4 "$db" "$db-wal"
db_files=("$db")
for f in "$db-wal" "$db-shm"; do
	[ -f "$f" ] && db_files+=("$f")
done
tp_file_lacks "alice's secret is not in the store files" "$alice_secret" "${db_files[@]}"
tp_file_lacks "bob's secret is not in the store files" "$bob_secret" "${db_files[@]}"
tp_file_lacks "the secret is not in the daemon log" "$alice_secret" "$T/daemon.log"
tp_file_lacks "the secret is not in the tenant log" "$alice_secret" "$tlog"
tp_file_lacks "the full key id is not in the tenant log" "$alice_kid" "$tlog"
tp_file_lacks "bob's full key id is not in his tenant log" "$bob_kid" "$T/log/tenants/bob.log"
found=$(grep -rlaF -e "$alice_secret" -e "$bob_secret" "$T" 2>/dev/null)
tp_eq "no file under the test folder holds a secret" "" "$found"

tp_log "a keys document moved to another tenant (issue 9)"
# bob's document replaced by alice's whole one (sealed map and key_id_last4):
# the sealed map is bound to alice's path, and key_id_last4 is not trusted
STORETOOL=$TP_BUILDDIR/tests/storetool
bob_doc=$("$STORETOOL" "$db" get users/bob/secrets/alpaca)
alice_doc=$("$STORETOOL" "$db" get users/alice/secrets/alpaca)
tp_true "alice's keys document read with storetool" test -n "$alice_doc" -a -n "$bob_doc"
"$STORETOOL" "$db" set users/bob/secrets/alpaca "$alice_doc" || tp_fail "alice's document copied to bob"
tp_jcli tenant show bob
tp_rc "tenant show of the swapped tenant exits 0" 0
tp_ne "tenant show: not alice's key id end for bob" ABCD "$(tp_jq .result.keys.key_id_last4 "$OUT")"
tp_eq "tenant show: no key id end for bob" false "$(tp_jq '.result.keys | has("key_id_last4")' "$OUT")"
tp_match "tenant show: the keys do not open, said so" 'cannot decrypt' "$(tp_jq .result.keys.error "$OUT")"
tp_cli tenant show bob
tp_lacks "tenant show (human): not alice's key id end" ABCD "$OUT"
tp_match "tenant show (human): the keys are unreadable" 'set, unreadable: cannot decrypt' "$OUT"
"$STORETOOL" "$db" set users/bob/secrets/alpaca "$bob_doc" || tp_fail "bob's document put back"
tp_jcli tenant show bob
tp_eq "bob's own document: his key id end again" WXYZ "$(tp_jq .result.keys.key_id_last4 "$OUT")"

tp_log "trading"
tp_cli trading disable alice --reason "vacation time"
tp_rc "trading disable exits 0" 0
tp_eq "trading disable says so" "trading disabled for alice (reason: vacation time)" "$OUT"
tp_jcli tenant show alice
tp_eq "tenant show: trading disabled" false "$(tp_jq .result.trading.enabled "$OUT")"
tp_eq "tenant show: the reason" "vacation time" "$(tp_jq .result.trading.reason "$OUT")"
tp_jcli tenant list
tp_eq "tenant list: alice's trading disabled" false "$(tp_jq '.result.tenants[] | select(.uid == "alice") | .trading_enabled' "$OUT")"
tp_eq "tenant list: bob's trading still enabled" true "$(tp_jq '.result.tenants[] | select(.uid == "bob") | .trading_enabled' "$OUT")"
tp_cli trading enable alice
tp_rc "trading enable exits 0" 0
tp_eq "trading enable says so" "trading enabled for alice" "$OUT"
tp_jcli tenant show alice
tp_eq "tenant show: trading enabled again" true "$(tp_jq .result.trading.enabled "$OUT")"
tp_jcli trading disable bob
tp_ok "trading disable without a reason"
tp_eq "trading.set returns enabled false" false "$(tp_jq .result.enabled "$OUT")"
tp_jcli trading disable nobody-here --reason x
tp_rc_code "trading disable of an unknown tenant is not_found" 1 not_found

tp_log "keygen --rotate"
tp_jcli keygen --rotate
tp_ok "keygen --rotate"
tp_eq "keygen --rotate gives key version 2" 2 "$(tp_jq .result.key_version "$OUT")"
tp_eq "the key file is still 0600" 600 "$(stat -c %a "$T/master.key")"
tp_jcli status
tp_eq "status reports key version 2" 2 "$(tp_jq .result.key_version "$OUT")"
for u in alice bob; do
	tp_jcli tenant show "$u"
	tp_eq "$u's secret is resealed under version 2" 2 "$(tp_jq .result.keys.key_version "$OUT")"
done
tp_jcli tenant show alice
tp_eq "alice's key id survives the rotation" ABCD "$(tp_jq .result.keys.key_id_last4 "$OUT")"
carol_secret=$(secret_of S3c7)
tp_cli keys set carol_C-3 --key-id PKCAROL5X8Y2Z4Q6EFGH <<<"$carol_secret"
tp_match "keys set after the rotation uses version 2" "key id .*EFGH, key version 2\\)$" "$OUT"
tp_file_lacks "carol's secret is not in the store files" "$carol_secret" "${db_files[@]}"

tp_log "bad uids are refused"
# The tenants before and after, by uid: the CLI must answer both times.
tp_jcli tenant list
tp_ok "tenant list before the bad uids"
before=$(tp_jq '[.result.tenants[].uid] | sort | join(" ")' "$OUT")
tp_match "tenant list before the bad uids names alice and bob" '(^| )alice( .*)? bob( |$)' "$before"
for u in '../x' 'a/b' '' "$long129" 'é' 'a b' '..'; do
	show=${u:0:20}
	tp_jcli tenant add "$u"
	tp_true "tenant add '$show' is refused" test "$RC" = 1 -o "$RC" = 2
	if [ "$RC" = 1 ]; then
		tp_eq "tenant add '$show' is invalid_argument" invalid_argument "$(tp_jerr "$OUT")"
	fi
	tp_cli tenant show "$u"
	tp_true "tenant show '$show' is refused" test "$RC" = 1 -o "$RC" = 2
	tp_cli keys set "$u" --key-id PKBADUID000000000001 <<<"$alice_secret"
	tp_true "keys set '$show' is refused" test "$RC" = 1 -o "$RC" = 2
	tp_cli trading disable "$u"
	tp_true "trading disable '$show' is refused" test "$RC" = 1 -o "$RC" = 2
done
tp_jcli tenant list
tp_ok "tenant list after the bad uids"
after=$(tp_jq '[.result.tenants[].uid] | sort | join(" ")' "$OUT")
tp_eq "no tenant was added by a bad uid" "$before" "$after"
tp_eq "no file was made outside the tenant log folder" "" \
    "$(find "$T" -name 'x.log*' -o -name 'b.log*' 2>/dev/null)"

tp_log "usage errors exit 2"
while IFS= read -r args; do
	eval "set -- $args"
	tp_cli "$@" </dev/null
	tp_rc "usage: tradepulse $args" 2
done <<'EOF'

frobnicate
--bogus status
tenant
tenant frob
tenant add
tenant add a b
tenant show
keys
keys set
keys set alice
keys set alice --key-id
trading
trading maybe alice
trading enable
status extra
keygen --frob
EOF
tp_run "$TPCLI" -f "$TP_CONF" -t abc status
tp_rc "usage: -t abc" 2
tp_run "$TPCLI" -f "$TP_CONF" -t -1 status
tp_rc "usage: -t -1" 2

tp_log "SIGHUP with a broken config keeps the daemon serving"
cp "$TP_CONF" "$T/good.conf"
echo "not_a_key = 1" >>"$TP_CONF"
badline=$(wc -l <"$TP_CONF")
lines_before=$(wc -l <"$T/daemon.log")
kill -HUP "$TPD_PID"
i=0
while [ "$i" -lt 50 ] && ! tail -n +"$((lines_before + 1))" "$T/daemon.log" | grep -qF "$TP_CONF:$badline"; do
	sleep 0.1
	i=$((i + 1))
done
tp_has "the daemon log says why the reload was refused" "$TP_CONF:$badline:" \
    "$(tail -n +"$((lines_before + 1))" "$T/daemon.log")"
tp_true "the daemon is alive after a bad SIGHUP" tp_alive "$TPD_PID"
cp "$T/good.conf" "$TP_CONF"
tp_jcli status
tp_ok "status answers after a bad SIGHUP"
tp_eq "same daemon after a bad SIGHUP" "$TPD_PID" "$(tp_jq .result.pid "$OUT")"
kill -HUP "$TPD_PID"
sleep 0.5
tp_jcli tenant show alice
tp_ok "the daemon serves after a good SIGHUP"
tp_eq "same daemon after a good SIGHUP" "$TPD_PID" "$(tp_status_pid)"

tp_log "SIGTERM, restart on the same state"
tp_stop TERM
tp_eq "SIGTERM: the daemon exits 0" 0 "$TPD_RC"
tp_eq "SIGTERM: no SIGKILL was needed" 0 "$TPD_KILLED"
TP_CLI_TIMEOUT=1 tp_cli status
tp_rc "status after the daemon stopped exits 3" 3
if tp_start; then
	tp_pass "the daemon restarts on the same state"
	tp_jcli tenant show alice
	tp_eq "after restart: alice's keys are set" true "$(tp_jq .result.keys.set "$OUT")"
	tp_eq "after restart: key version 2" 2 "$(tp_jq .result.keys.key_version "$OUT")"
	tp_jcli tenant show bob
	tp_eq "after restart: bob's trading is disabled" false "$(tp_jq .result.trading.enabled "$OUT")"
	tp_jcli keys set alice --key-id PKALICE7Q2M4N8R1IJKL <<<"$alice_secret"
	tp_ok "after restart: keys set works"
	tp_eq "after restart: the new key id" IJKL "$(tp_jq .result.key_id_last4 "$OUT")"
	tp_stop TERM
	tp_eq "second SIGTERM: exit 0" 0 "$TPD_RC"
	found=$(grep -rlaF -e "$alice_secret" -e "$bob_secret" -e "$carol_secret" "$T" 2>/dev/null)
	tp_eq "after rotation, restart and stop, no file under the test folder holds a secret" "" "$found"
else
	tp_fail "the daemon restarts on the same state"
fi

tp_log "without -d: daemonizes and writes its pidfile"
pidfile=$T/run/tradepulsed.pid
tp_run timeout 15 "$TPD" -f "$TP_CONF"
tp_rc "tradepulsed (no -d) returns 0 to its caller" 0
i=0
while [ "$i" -lt 100 ] && [ ! -s "$pidfile" ]; do
	sleep 0.1
	i=$((i + 1))
done
dpid=$(cat "$pidfile" 2>/dev/null)
if [ -n "$dpid" ] && tp_alive "$dpid"; then
	TP_PIDS+=("$dpid")
	tp_pass "the pidfile names a live process"
	TPD_PID=$dpid
	tp_wait_ready
	tp_eq "status reports the pidfile's pid" "$dpid" "$(tp_status_pid)"
	kill -TERM "$dpid"
	tp_true "the daemon exits on SIGTERM" tp_wait_exit "$dpid" "$TP_STOP_WAIT"
	tp_forget_pid "$dpid"
	TPD_PID=
	tp_true "the pidfile is removed on exit" test ! -e "$pidfile"
else
	tp_fail "the pidfile names a live process" "pidfile: '$dpid'"
fi

tp_finish
