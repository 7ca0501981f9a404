#!/usr/bin/env bash
# tests/integration/logs.sh: a tenant's log through the API tells its story in order (a crash, an Alpaca 401, a quarantine); logs filters; logs -f shows a new line within a second and loses or repeats nothing across rotations and a daemon restart; crashes, pulse --wait and tenant list name what failed.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init logs

STRIKES=2
LINE_MS=1000		# a followed line shows within this
FOLLOW_WAIT=15		# seconds for the follower to catch up at the end

grep -q '^#define TP_FAULT_INJECTION 1' "$TP_BUILDDIR/config.h" 2>/dev/null ||
    tp_skip "the crash of this test is a fault injected in the worker, and this build has no fault injection (configure --enable-fault-injection)"
tp_need_workers faults || tp_finish

# One worker, so that the three tenants of the pulse share a batch.
config() {
	tp_worker_config workers.max_workers=1 workers.batch_size=32 \
	    workers.max_strikes=$STRIKES workers.backoff_max=200ms \
	    workers.crash_rate=100000 daemon.tenant_log_keep=50 "$@"
}
config
tp_keygen

# --- phase 1: a batch crash, then a 401 -------------------------------------
# apoison crashes its worker (segv) before its batch-mates answer: story is
# re-run alone, where its key, unknown to the broker, gets a 401.
export TP_FAULTS=apoison=segv
if ! tp_start; then
	tp_fail "tradepulsed -d starts with workers configured"
	tp_finish
fi
printf '%s\n' apoison good story >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
tp_cli keys set story --key-id PKNOTATTHEBROKER0001 <<<"thisisnotthesecretofanyaccountatthebroker"
tp_rc "story gets a key the broker does not know" 0

TP_CLI_TIMEOUT=120 tp_jcli pulse --wait
tp_rc "pulse --wait fails: tenants failed" 1
pulse=$OUT
tp_true "the pulse counts 2 errors" test "$(tp_jq .errors "$pulse")" = 2
tp_eq "its figures name the failed tenants" "apoison story" \
    "$(tp_jq '[.failed[].uid] | sort | join(" ")' "$pulse")"
tp_eq "apoison failed quarantined" quarantined \
    "$(tp_jq '.failed[] | select(.uid == "apoison") | .code' "$pulse")"
story_code=$(tp_jq '.failed[] | select(.uid == "story") | .code' "$pulse")
tp_match "story failed with an authentication error ($story_code)" \
    '^(unauthenticated|permission_denied)$' "$story_code"

# again, as text: apoison is skipped now, story fails again
TP_CLI_TIMEOUT=120 tp_cli pulse --wait
tp_rc "a second pulse --wait fails too" 1
tp_match "its summary names the failed tenant and its code" \
    "(^|"$'\n'")failed: +story \\($story_code\\)($|"$'\n'")" "$OUT"
tp_match "and counts the quarantined one skipped" "skipped: +0 disabled, 0 without keys, 1 quarantined" "$OUT"

tp_cli tenant list
tp_match "tenant list shows story's last outcome, an error code and when" \
    "(^|"$'\n'")story +[a-z]+ +set +no +$story_code 20[0-9-]+T[0-9:]+Z" "$OUT"
tp_match "and good's: ok" "(^|"$'\n'")good +[a-z]+ +set +no +ok 20" "$OUT"
tp_jcli tenant list
tp_eq "tenant list --json: each one's last outcome" "apoison:quarantined good:ok story:error" \
    "$(tp_jq '[.result.tenants[] | "\(.uid):\(.last_outcome.result)"] | join(" ")' "$OUT")"
tp_eq "tenant list --json: story's code" "$story_code" \
    "$(tp_jq '.result.tenants[] | select(.uid == "story") | .last_outcome.code' "$OUT")"

# --- phase 2: story crashes alone until quarantined -------------------------
tp_stop TERM
export TP_FAULTS=story=segv
if ! tp_start; then
	tp_fail "tradepulsed restarts with story's fault"
	tp_finish
fi
TP_CLI_TIMEOUT=120 tp_jcli sync story --wait
tp_true "sync story --wait fails" test "$RC" != 0
tp_jcli tenant show story
tp_true "story is quarantined" test "$(tp_jq '.result.quarantine != null' "$OUT")" = true
unset TP_FAULTS

# --- the story, read back ---------------------------------------------------
tp_jcli logs story -n 1000
tp_rc "logs story --json exits 0" 0
[ -z "${TP_VERBOSE:-}" ] || sed 's/^/#   /' "$T/log/tenants/story.log"
all=$OUT
printf '%s\n' "$all" >"$T/story.jsonl"
tp_eq "one JSON object per line, each with time, level, job, event, message" true \
    "$(jq -s 'length > 5 and all(.[]; has("time") and has("level") and has("job") and has("event") and has("message"))' "$T/story.jsonl")"
tp_eq "the lines are in time order" true "$(jq -s '[.[].time] | . == sort' "$T/story.jsonl")"
# the indices of the chapters
first_crash=$(jq -s '[to_entries[] | select(.value.event == "crash")] | .[0].key // -1' "$T/story.jsonl")
first_401=$(jq -s '[to_entries[] | select(.value.level == "error" and .value.event == "alpaca" and (.value.message | test("HTTP 401")))] | .[0].key // -1' "$T/story.jsonl")
strike_crash=$(jq -s '[to_entries[] | select(.value.event == "crash" and .value.level == "error")] | .[0].key // -1' "$T/story.jsonl")
quarantine=$(jq -s '[to_entries[] | select(.value.event == "quarantine")] | .[0].key // -1' "$T/story.jsonl")
tp_log "story: crash at line $first_crash, 401 at $first_401, strike at $strike_crash, quarantine at $quarantine"
tp_true "the story has a crash, a 401 and a quarantine" \
    test "$first_crash" -ge 0 -a "$first_401" -ge 0 -a "$quarantine" -ge 0
tp_true "in that order: the crash, then the 401, then the crashes that struck, then the quarantine" \
    test "$first_crash" -lt "$first_401" -a "$first_401" -lt "$strike_crash" -a "$strike_crash" -lt "$quarantine"
tp_match "the quarantine line says how to release it" 'tradepulse tenant release story' \
    "$(jq -rs ".[$quarantine].message" "$T/story.jsonl")"

tp_cli logs story -n 1000
tp_rc "logs story (text) exits 0" 0
tp_eq "the text form is the log file itself" "$(cat "$T/log/tenants/story.log")" "$OUT"

tp_jcli logs story -n 2
tp_eq "-n 2: two lines" 2 "$(printf '%s\n' "$OUT" | grep -c .)"
tp_eq "-n 2: the last two" "$(jq -c -s '.[-2:] | map(.time)' "$T/story.jsonl")" \
    "$(printf '%s\n' "$OUT" | jq -c -s 'map(.time)')"

tp_jcli logs story -n 1000 --level warn
tp_eq "--level warn: the warn and error lines, no other" \
    "$(jq -c -s 'map(select(.level == "warn" or .level == "error") | .time)' "$T/story.jsonl")" \
    "$(printf '%s\n' "$OUT" | jq -c -s 'map(.time)')"

job=$(jq -rs ".[$first_401].job" "$T/story.jsonl")
tp_jcli logs story -n 1000 --job "$job"
tp_true "--job $job: only that job's lines, at least one" \
    test "$(printf '%s\n' "$OUT" | jq -s --arg j "$job" 'length > 0 and all(.[]; .job == $j)')" = true
tp_eq "--job: all of them" "$(jq -c -s --arg j "$job" 'map(select(.job == $j) | .time)' "$T/story.jsonl")" \
    "$(printf '%s\n' "$OUT" | jq -c -s 'map(.time)')"

since=$(jq -rs ".[$first_401].time" "$T/story.jsonl")
tp_jcli logs story -n 1000 --since "$since"
tp_eq "--since TIME: the lines from then on" \
    "$(jq -c -s --arg s "$since" 'map(select(.time >= $s) | .time)' "$T/story.jsonl")" \
    "$(printf '%s\n' "$OUT" | jq -c -s 'map(.time)')"
tp_jcli logs story -n 1000 --since 1h
tp_eq "--since 1h: every line (all of this hour)" "$(jq -s length "$T/story.jsonl")" \
    "$(printf '%s\n' "$OUT" | grep -c .)"
tp_jcli logs story --since 2999-01-01T00:00:00Z
tp_eq "--since the future: nothing" "" "$OUT"
tp_cli logs story --since yesterday
tp_rc "--since yesterday: a usage error" 2
tp_cli logs story --level loud
tp_rc "--level loud: a usage error" 2

tp_jcli logs nosuchtenant
tp_rc_code "logs of an unknown tenant: not_found" 1 not_found
tp_jcli logs "../story"
tp_rc "a uid that is a path: a usage error" 2

tp_jcli crashes story
tp_ok "crashes story"
tp_true "crashes story lists the crashes that struck story ($(tp_jq '.result.crashes | length' "$OUT"))" \
    test "$(tp_jq '.result.crashes | length' "$OUT")" -ge "$STRIKES"
tp_true "each names story" test "$(tp_jq '.result.crashes | all(.uids | index("story"))' "$OUT")" = true
tp_true "newest first" test "$(tp_jq '[.result.crashes[].at] | . == (sort | reverse)' "$OUT")" = true
crash_id=$(tp_jq '.result.crashes[0].id' "$OUT")
tp_has "the newest is the one the quarantine names" "$crash_id" "$(jq -rs ".[$quarantine].message" "$T/story.jsonl")"
tp_jcli crashes
tp_true "crashes (every tenant) lists apoison's too" \
    test "$(tp_jq '[.result.crashes[].uids[]] | index("apoison") != null' "$OUT")" = true
tp_cli crashes story -n 1
tp_match "crashes story -n 1 (text): one report, its signal" "SIGSEGV" "$OUT"
tp_match "and the count" "(^|"$'\n'")1 crash$" "$OUT"
tp_jcli crashes nosuchtenant
tp_rc_code "crashes of an unknown tenant: not_found" 1 not_found

# --- following ---------------------------------------------------------------
# A small log size: the lines below rotate good's log many times.
tp_stop TERM
config daemon.tenant_log_size=4K
if ! tp_start; then
	tp_fail "tradepulsed restarts with a 4K tenant log size"
	tp_finish
fi
log=$T/log/tenants/good.log
"$TPCLI" -f "$TP_CONF" logs good -n 1000 -f >"$T/follow.out" 2>"$T/follow.err" &
follower=$!
TP_PIDS+=("$follower")
# the follower's first lines: the log so far
i=0
while [ ! -s "$T/follow.out" ] && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
tp_true "the follower printed the log so far" test -s "$T/follow.out"

# latency: from the moment the file grows to the line in the follower's output
latency() {
	local size0 t0 t1 n0 i=0
	size0=$(stat -c %s "$log")
	n0=$(wc -l <"$T/follow.out")
	"$TPCLI" -f "$TP_CONF" -t 5 trading disable good --reason "latency probe $1" >/dev/null 2>&1 &
	while [ "$(stat -c %s "$log")" = "$size0" ] && [ "$i" -lt 400 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	t0=$(date +%s%N)
	while [ "$(wc -l <"$T/follow.out")" = "$n0" ] && [ $(($(date +%s%N) - t0)) -lt 5000000000 ]; do
		sleep 0.01
	done
	t1=$(date +%s%N)
	wait $! 2>/dev/null
	echo $(((t1 - t0) / 1000000))
}
worst=0
for probe in 1 2 3; do
	ms=$(latency "$probe")
	tp_log "a new line showed in the follower's output after $ms ms"
	[ "$ms" -le "$worst" ] || worst=$ms
done
tp_true "logs -f shows a new line within ${LINE_MS} ms of its writing (worst of 3: $worst ms)" \
    test "$worst" -le "$LINE_MS"

# many lines, many rotations; a daemon restart in the middle
reason=$(printf 'rotation test line with some words to make it long %.0s' 1 2 3 4)
lines() {
	local k
	for ((k = $1; k < $2; k++)); do
		printf '{"op":"trading.set","uid":"good","enabled":%s,"reason":"%s %d"}\n' \
		    "$([ $((k % 2)) = 0 ] && echo true || echo false)" "$reason" "$k"
	done >"$T/trading.req"
	tp_api "$T/trading.req" "$T/trading.rep"
	tp_eq "trading.set calls $1..$2 answered ok" $(($2 - $1)) "$(grep -c '^{"ok":true' "$T/trading.rep")"
}
lines 0 60
tp_stop TERM
tp_eq "the daemon stopped for a restart under the follower" 0 "$TPD_RC"
sleep 1
if ! tp_start; then
	tp_fail "tradepulsed restarts under the follower"
	tp_finish
fi
lines 60 120
rotated=$(find "$T/log/tenants" -name 'good.log.*' | wc -l)
tp_true "good's log was rotated several times ($rotated files)" test "$rotated" -ge 4
# the whole log, oldest file first
expected() {
	local f
	for f in $(find "$T/log/tenants" -name 'good.log.*' | sed 's/.*\.//' | sort -rn); do
		cat "$log.$f"
	done
	cat "$log"
}
end=$((SECONDS + FOLLOW_WAIT))
while [ "$SECONDS" -lt "$end" ] && [ "$(wc -l <"$T/follow.out")" -lt "$(expected | wc -l)" ]; do
	sleep 0.2
done
sleep 0.6	# a line too many would show by now
tp_true "the follower is still running after the restart" tp_alive "$follower"
kill -TERM "$follower" 2>/dev/null
wait "$follower" 2>/dev/null
tp_forget_pid "$follower"
if [ "$(expected)" = "$(cat "$T/follow.out")" ]; then
	tp_pass "the follower printed every line of every file once, in order ($(wc -l <"$T/follow.out") lines, across $rotated rotations and a restart)"
else
	tp_fail "the follower printed every line once, in order" \
	    "$(diff <(expected) "$T/follow.out" | head -20)"
fi
tp_eq "the follower said nothing on stderr (the restart was waited for quietly)" "" "$(cat "$T/follow.err")"

# a tail across the rotated files
tp_jcli logs good -n 100
tp_eq "-n 100 reads back into the rotated files" 100 "$(printf '%s\n' "$OUT" | grep -c .)"
tp_eq "the last 100 lines, as the files hold them" "$(expected | tail -n 100 | cut -c1-27)" \
    "$(printf '%s\n' "$OUT" | jq -r .time)"

# --- remotely: tcp:// with an admin CURVE key ---------------------------------
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
for who in server ops svc; do
	"$TPCLI" keygen --curve --out "$T/$who" >/dev/null 2>>"$T/keygen.err"
done
printf 'ops admin %s\nsvc-bot service %s\n' "$(cat "$T/ops.pub")" "$(cat "$T/svc.pub")" >"$T/clients"
chmod 644 "$T/clients"
ep=tcp://127.0.0.1:$((20000 + RANDOM % 20000))
config daemon.tenant_log_size=4K "daemon.api=$ep" "auth.curve_server_key=$T/server.key" "auth.curve_clients=$T/clients"
"$TPD" -d -f "$TP_CONF" >>"$T/daemon.log" 2>&1 </dev/null &
TPD_PID=$!
TP_PIDS+=("$TPD_PID")
remote() {
	local who=$1
	shift
	tp_run "$TPCLI" -e "$ep" --curve-key "$T/$who.key" --server-key "$T/server.pub" -t 5 "$@"
}
for _ in $(seq 1 100); do
	remote ops status
	[ "$RC" = 0 ] && break
	tp_alive "$TPD_PID" || break
	sleep 0.1
done
remote ops --json logs good -n 3
tp_rc "logs over tcp:// with an admin CURVE key" 0
tp_eq "the same last 3 lines" "$(expected | tail -n 3 | cut -c1-27)" "$(printf '%s\n' "$OUT" | jq -r .time)"
remote ops crashes story -n 1
tp_rc "crashes over tcp:// with an admin CURVE key" 0
remote svc --json logs good -n 3
tp_rc_code "a service client may not read a tenant's log: permission_denied" 1 permission_denied

tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_finish
