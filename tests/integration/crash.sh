#!/usr/bin/env bash
# tests/integration/crash.sh: SIGKILL the daemon in a burst of keys.set and tenant.add calls; every acknowledged write must survive.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init crash

TENANTS=20		# tenants t00..t19, split among the key clients
CLIENTS=4		# parallel keys.set clients, each with its own tenants
CALLS=75		# keys.set calls per client per round (300 a round)
KILL_AFTER=60		# acknowledged calls before the SIGKILL
ROUNDS=2
CALL_TIMEOUT=2		# -t of each call: bounds the wait of a call in flight at the kill
db=$T/state/tradepulse.db

tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts"
	tp_finish
fi

tp_log "add $TENANTS tenants"
for i in $(seq 0 $((TENANTS - 1))); do
	uid=$(printf 't%02d' "$i")
	tp_cli tenant add "$uid"
	[ "$RC" = 0 ] || tp_fail "tenant add $uid" "$(tp_last)"
done

now() { date +%s.%N; }

# keys_client ROUND C: sequential keys.set calls on the tenants of client C
# (t where t % CLIENTS == C); each call's key id ends in a number unique in
# the run. Logs "uid kid" to sent.R.C before a call and to ack.R.C after an
# exit 0; stops at the first failure (logged to fail.R.C) or on $T/stop.
keys_client() {
	local r=$1 c=$2 i uid kid rc mine=() t secret
	for ((t = c; t < TENANTS; t += CLIENTS)); do
		printf -v uid 't%02d' "$t"
		mine+=("$uid")
	done
	secret=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
	for ((i = 0; i < CALLS; i++)); do
		[ -e "$T/stop" ] && break
		uid=${mine[i % ${#mine[@]}]}
		printf -v kid 'PKBURST%dC%dX%04d' "$r" "$c" $((r * 1000 + c * CALLS + i))
		echo "$uid $kid" >>"$T/sent.$r.$c"
		"$TPCLI" -f "$TP_CONF" -t "$CALL_TIMEOUT" keys set "$uid" --key-id "$kid" \
		    <<<"$secret" >/dev/null 2>>"$T/client.err"
		rc=$?
		if [ "$rc" = 0 ]; then
			echo "$uid $kid" >>"$T/ack.$r.$c"
		else
			echo "$uid $kid $rc $(now)" >>"$T/fail.$r.$c"
			break
		fi
	done
}

# add_client ROUND: sequential tenant.add of new tenants, same logging.
add_client() {
	local r=$1 i uid rc
	for ((i = 0; i < 300; i++)); do
		[ -e "$T/stop" ] && break
		printf -v uid 'late%d-%03d' "$r" "$i"
		echo "$uid" >>"$T/sent.$r.add"
		"$TPCLI" -f "$TP_CONF" -t "$CALL_TIMEOUT" tenant add "$uid" \
		    >/dev/null 2>>"$T/client.err"
		rc=$?
		if [ "$rc" = 0 ]; then
			echo "$uid" >>"$T/ack.$r.add"
		else
			echo "$uid - $rc $(now)" >>"$T/fail.$r.add"
			break
		fi
	done
}

acks() { cat "$T"/ack."$1".* 2>/dev/null | wc -l; }
key_acks() { cat "$T"/ack."$1".[0-9]* 2>/dev/null | wc -l; }
declare -A seen=()	# uid -> key_id_last4 seen by the last check

for r in $(seq 1 $ROUNDS); do
	tp_log "round $r: burst of $((CLIENTS * CALLS)) keys.set calls by $CLIENTS clients, tenant.add by one more"
	rm -f "$T/stop"
	pids=()
	for c in $(seq 0 $((CLIENTS - 1))); do
		tp_bg keys_client "$r" "$c"
		pids+=("$BG_PID")
	done
	tp_bg add_client "$r"
	pids+=("$BG_PID")

	# SIGKILL once enough calls were acknowledged (bounded: 30 s, 3000 polls).
	end=$((SECONDS + 30))
	i=0
	while [ "$(acks "$r")" -lt "$KILL_AFTER" ] && [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 3000 ]; do
		tp_alive "$TPD_PID" || break
		sleep 0.01
		i=$((i + 1))
	done
	acked_at_kill=$(acks "$r")
	kill_time=$(now)
	tp_stop KILL
	touch "$T/stop"
	tp_log "round $r: SIGKILL after $acked_at_kill acknowledged calls"
	tp_true "round $r: the daemon served $KILL_AFTER calls before the kill" test "$acked_at_kill" -ge "$KILL_AFTER"
	tp_eq "round $r: the daemon died of SIGKILL" 137 "$TPD_RC"

	# A client's call in flight waits at most CALL_TIMEOUT, then it stops.
	for p in "${pids[@]}"; do
		if ! tp_wait_exit "$p" $((CALL_TIMEOUT + 10)); then
			tp_fail "round $r: client $p stops after the kill"
			kill -KILL "$p" 2>/dev/null
		fi
		tp_reap "$p"
	done
	sent=$(cat "$T"/sent."$r".* | wc -l)
	acked=$(acks "$r")
	kacked=$(key_acks "$r")
	tp_log "round $r: $sent calls sent, $acked acknowledged"
	tp_true "round $r: the kill came in the middle of the burst ($kacked of $((CLIENTS * CALLS)) keys.set)" \
	    test "$kacked" -lt $((CLIENTS * CALLS))
	inflight=$(cat "$T"/fail."$r".* 2>/dev/null | wc -l)
	tp_true "round $r: calls were in flight at the kill ($inflight)" test "$inflight" -ge 1
	# Every failed call failed because the daemon was gone, not before.
	early=$(cat "$T"/fail."$r".* 2>/dev/null | awk -v k="$kill_time" -v t="$CALL_TIMEOUT" \
	    '$3 != 3 || $4 + 0 < k + 0 { print }')
	tp_eq "round $r: no call failed before the kill, every failure is 'cannot reach' (3)" "" "$early"

	if ! tp_start; then
		tp_fail "round $r: the daemon restarts on the crashed state"
		break
	fi
	tp_pass "round $r: the daemon restarts on the crashed state"

	tp_run sqlite3 "$db" 'PRAGMA integrity_check'
	tp_eq "round $r: PRAGMA integrity_check" ok "$OUT"

	# For each tenant: the last acknowledged key id, or one sent after it
	# that never got an answer (it may have committed just before the kill).
	bad=
	withack=0
	for i in $(seq 0 $((TENANTS - 1))); do
		uid=$(printf 't%02d' "$i")
		c=$((i % CLIENTS))
		last=$(awk -v u="$uid" '$1 == u { k = $2 } END { print k }' "$T/ack.$r.$c" 2>/dev/null)
		pending=$(awk -v u="$uid" '$1 == u { print $2 }' "$T/fail.$r.$c" 2>/dev/null)
		out=$("$TPCLI" -f "$TP_CONF" --json -t 5 tenant show "$uid" 2>&1)
		got=$(tp_jq '.result.keys.key_id_last4 // empty' "$out")
		# Without an ack this round, what the previous check saw still holds.
		prev=${seen[$uid]:-}
		[ -n "$got" ] || got=none
		seen[$uid]=$got
		if [ -n "$last" ]; then
			allowed=" ${last: -4} "
		elif [ -n "$prev" ]; then
			allowed=" $prev "
		else
			allowed=" none "
		fi
		[ -z "$pending" ] || allowed="$allowed${pending: -4} "
		[ -z "$last" ] || withack=$((withack + 1))
		case $allowed in
		*" $got "*) ;;
		*) bad="$bad $uid:$got(allowed:$allowed)" ;;
		esac
	done
	tp_true "round $r: $withack tenants had an acknowledged keys.set" test "$withack" -ge $((TENANTS / 2))
	tp_eq "round $r: every tenant holds its last acknowledged key id (or the one in flight)" "" "$bad"

	# Every acknowledged tenant.add is there, and no tenant that was not sent.
	out=$("$TPCLI" -f "$TP_CONF" --json -t 10 tenant list 2>&1)
	listed=$(printf '%s' "$out" | grep -oE "\"late$r-[0-9]+\"" | tr -d '"' | sort)
	n=$(grep -c . "$T/ack.$r.add" 2>/dev/null)
	tp_true "round $r: some tenant.add calls were acknowledged (${n:-0})" test "${n:-0}" -ge 1
	missing=$(comm -13 <(printf '%s\n' "$listed") <(sort "$T/ack.$r.add" 2>/dev/null) | tr '\n' ' ')
	tp_eq "round $r: every acknowledged tenant.add is there" "" "$missing"
	unsent=$(comm -23 <(printf '%s\n' "$listed") <(sort "$T/sent.$r.add"))
	tp_eq "round $r: no tenant that was not sent" "" "$unsent"
done

tp_log "after the crashes"
tp_jcli keys set t00 --key-id PKAFTERCRASH0000Z9Y8 <<<"aftercrashsecret0123456789abcdefghijklmn"
tp_ok "keys set works after the crashes"
tp_jcli tenant show t00
tp_eq "and is stored" Z9Y8 "$(tp_jq .result.keys.key_id_last4 "$OUT")"
tp_jcli tenant add after-crash
tp_ok "tenant add works after the crashes"
tp_run sqlite3 "$db" 'PRAGMA journal_mode'
tp_eq "the store is in WAL mode" wal "$OUT"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_run sqlite3 "$db" 'PRAGMA integrity_check'
tp_eq "PRAGMA integrity_check after a clean stop" ok "$OUT"
tp_nomatch "the daemon log has no sanitizer report" 'AddressSanitizer|runtime error:|LeakSanitizer' "$(cat "$T/daemon.log")"

tp_finish
