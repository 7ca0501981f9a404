#!/usr/bin/env bash
# tests/integration/privdrop.sh: tradepulsed started as root drops to [daemon] user (daemon): its uid, exactly the documented capabilities, no-new-privs, seccomp, no inherited descriptor; workers, keys.rotate, a reload and a stop still work.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init privdrop

[ "$(id -u)" = 0 ] || tp_skip "the drop happens only when started as root"
SVC=daemon		# an unprivileged system account Debian always has
svc_uid=$(id -u "$SVC" 2>/dev/null) || tp_skip "no user $SVC to drop to"
svc_gid=$(id -g "$SVC")
nobody_uid=$(id -u nobody 2>/dev/null) || tp_skip "no user nobody for the workers"
tp_need_workers || tp_finish
command -v setpriv >/dev/null 2>&1 || tp_skip "setpriv (util-linux) is not installed"
# the dropped daemon spawns the worker program of this build
setpriv --reuid="$SVC" --regid="$svc_gid" --clear-groups test -x "$TPW" ||
    tp_skip "user $SVC cannot reach $TPW (a build folder under a private one)"
tp_sim_start || tp_finish

# The daemon's user must reach what it reads after the drop: the temp
# folder (entered, not listed), the configuration (its group may read it,
# as make install-service sets it up), and a key folder of its own, where
# keys.rotate writes the new key file.
chmod 0711 "$T"
mkdir -m 0700 "$T/keys"
chown "$SVC:$SVC" "$T/keys"
tp_worker_config daemon.user="$SVC" "secrets.master_key=$T/keys/master.key" \
    workers.batch_size=4 workers.max_workers=2
chgrp "$SVC" "$TP_CONF"
chmod 0640 "$TP_CONF"

tp_log "keygen as root gives the key to the daemon's user; -n refuses one it does not own"
tp_cli keygen
tp_rc "keygen" 0
tp_has "keygen says whose the key is" "wrote master key version 1 to $T/keys/master.key (owner $SVC)" "$OUT"
tp_eq "the key is $SVC's, 0600" "$SVC:$(id -gn "$SVC") 600" "$(stat -c '%U:%G %a' "$T/keys/master.key")"
tp_write_config "$T/nokeydir.conf" daemon.user="$SVC" "secrets.master_key=$T/nokeys/master.key"
tp_run "$TPCLI" -f "$T/nokeydir.conf" keygen
tp_rc "keygen into a folder that does not exist exits 1" 1
tp_has "... saying who makes it" "folder $T/nokeys does not exist: make install-service" "$ERR"
tp_true "... and makes nothing" test ! -e "$T/nokeys"
chown root:root "$T/keys/master.key"
"$TPD" -n -f "$TP_CONF" >"$T/n.out" 2>&1
tp_eq "-n refuses a master key the user $SVC does not own" 1 "$?"
tp_file_has "the reason: $SVC cannot open the key" "tradepulse.conf:[0-9]+: cannot open master key file $T/keys/master.key: Permission denied \\(the daemon reads it as user $SVC: chown $SVC it\\)" "$T/n.out"
chown "$SVC:$SVC" "$T/keys/master.key"
"$TPD" -n -f "$TP_CONF" >"$T/n.out" 2>&1
tp_eq "-n passes once it does" 0 "$?"
# a file root may read and the user may not: refused as the start would
echo '{}' >"$T/certs.json"
chmod 0600 "$T/certs.json"
tp_write_config "$T/certs.conf" "workers.program=$TPW" daemon.user="$SVC" \
    "secrets.master_key=$T/keys/master.key" "auth.certs=$T/certs.json"
"$TPD" -n -f "$T/certs.conf" >"$T/n.out" 2>&1
tp_eq "-n refuses an [auth] certs file $SVC cannot read" 1 "$?"
tp_file_has "the reason names the certs line" "certs.conf:$(grep -n -m 1 '^certs = ' "$T/certs.conf" | cut -d: -f1): .*Permission denied" "$T/n.out"

tp_log "a start with descriptor 7 left open by its parent"
# what a daemon run as root left in state_dir; and what must stay root's
mkdir -m 0700 "$T/state" "$T/state/old"
echo left >"$T/state/old/file"
echo system >"$T/system-file"
ln -s "$T/system-file" "$T/state/link"
echo system >"$T/system-linked"
ln "$T/system-linked" "$T/state/hardlink"
: >"$T/inherited"
exec 7<"$T/inherited"
tp_start
started=$?
exec 7<&-
if [ "$started" != 0 ]; then
	tp_fail "tradepulsed starts as root with [daemon] user = $SVC"
	tp_finish
fi
tp_pass "tradepulsed starts as root with [daemon] user = $SVC"
# the figures, for the log
tp_log "daemon: $(grep -E '^(Uid|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$TPD_PID/status" | tr -s '\t' ' ' | paste -sd ';' -)"
read -r -a uids <<<"$(tp_proc_field "$TPD_PID" Uid)"
read -r -a gids <<<"$(tp_proc_field "$TPD_PID" Gid)"
tp_eq "real, effective, saved and fs uid are $SVC's" "$svc_uid $svc_uid $svc_uid $svc_uid" "${uids[*]}"
tp_eq "real, effective, saved and fs gid are $SVC's" "$svc_gid $svc_gid $svc_gid $svc_gid" "${gids[*]}"
tp_nomatch "no supplementary group root" '(^| )0( |$)' "$(tp_proc_field "$TPD_PID" Groups)"
# CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7: 0xe0; ambient: the two a worker needs
want=$(( (1 << 5) | (1 << 6) | (1 << 7) ))
for f in CapEff CapPrm CapBnd; do
	tp_eq "$f is exactly CAP_KILL, CAP_SETGID, CAP_SETUID" "$want" "$((16#$(tp_proc_field "$TPD_PID" "$f")))"
done
tp_eq "CapAmb is CAP_SETGID, CAP_SETUID (for the workers)" "$(( (1 << 6) | (1 << 7) ))" "$((16#$(tp_proc_field "$TPD_PID" CapAmb)))"
tp_eq "NoNewPrivs: 1" 1 "$(tp_proc_field "$TPD_PID" NoNewPrivs)"
tp_eq "Seccomp: 2 (a filter)" 2 "$(tp_proc_field "$TPD_PID" Seccomp)"
tp_eq "one filter, its own" 1 "$(tp_proc_field "$TPD_PID" Seccomp_filters)"
fds=$(for f in /proc/"$TPD_PID"/fd/*; do readlink "$f"; done 2>/dev/null)
tp_ne "the daemon's descriptors can be listed" "" "$fds"
tp_lacks "the descriptor its parent left open was closed" "$T/inherited" "$fds"
for d in state log run; do
	tp_eq "$d belongs to $SVC" "$SVC" "$(stat -c %U "$T/$d")"
done
tp_eq "root's folder and file in state_dir were given to $SVC" "$SVC $SVC" "$(stat -c %U "$T/state/old" "$T/state/old/file" | tr '\n' ' ' | sed 's/ $//')"
tp_eq "a symlink's target stays root's" root "$(stat -c %U "$T/system-file")"
tp_eq "a hard-linked file stays root's" root "$(stat -c %U "$T/system-linked")"

tp_log "a pulse: workers spawn from the dropped daemon and drop to nobody"
printf '%s\n' alice bob >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "pulse --wait exits 0" 0
tp_match "both tenants synced" "synced:[[:space:]]+2" "$OUT"
# alice's broker answers slowly: her worker lives long enough to be seen
tp_sim POST /_sim/behaviour "{\"key_id\":\"$(tp_key_id 1)\",\"behaviour\":\"latency\",\"latency\":\"3s\"}" >/dev/null ||
    tp_fail "sim latency for alice"
tp_cli sync alice
tp_rc "sync alice queued" 0
# a worker is sandboxed once it installed its own seccomp filter, the
# second (the daemon's is inherited)
wpid=
for _ in $(seq 1 100); do
	for p in $(tp_worker_pids); do
		[ "$(tp_proc_field "$p" Seccomp_filters)" = 2 ] && wpid=$p && break
	done
	[ -n "$wpid" ] && break
	sleep 0.05
done
if [ -z "$wpid" ]; then
	tp_fail "a sandboxed worker was seen"
else
	read -r -a wuids <<<"$(tp_proc_field "$wpid" Uid)"
	tp_eq "the worker's uids are nobody's" "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" "${wuids[*]}"
	for f in CapEff CapPrm CapAmb CapInh; do
		tp_eq "worker $f is 0" 0000000000000000 "$(tp_proc_field "$wpid" "$f")"
	done
	tp_eq "worker NoNewPrivs: 1" 1 "$(tp_proc_field "$wpid" NoNewPrivs)"
fi

tp_log "keys.rotate writes the key file as $SVC"
tp_jcli keygen --rotate
tp_ok "keygen --rotate through the dropped daemon"
tp_eq "key version 2" 2 "$(tp_jq .result.key_version "$OUT")"
tp_eq "the key file still belongs to $SVC" "$SVC 600" "$(stat -c '%U %a' "$T/keys/master.key")"

tp_log "SIGHUP reloads as $SVC; [daemon] user cannot change"
tp_write_config "$TP_CONF" "workers.program=$TPW" workers.user=nobody \
    "alpaca.trading_url=$TP_SIM_URL" "alpaca.data_url=$TP_SIM_URL" daemon.user=root \
    "secrets.master_key=$T/keys/master.key" workers.batch_size=4 workers.max_workers=3
chgrp "$SVC" "$TP_CONF"
chmod 0640 "$TP_CONF"
lines=$(wc -l <"$T/daemon.log")
kill -HUP "$TPD_PID"
for _ in $(seq 1 50); do
	tail -n +"$((lines + 1))" "$T/daemon.log" | grep -q 'configuration reloaded' && break
	sleep 0.1
done
tail -n +"$((lines + 1))" "$T/daemon.log" >"$T/reload.log"
tp_file_has "the reload was made" "configuration reloaded" "$T/reload.log"
tp_file_has "a change of [daemon] user needs a restart" "reload: \\[daemon\\] user changed; restart" "$T/reload.log"
read -r -a uids <<<"$(tp_proc_field "$TPD_PID" Uid)"
tp_eq "still $SVC after the reload" "$svc_uid" "${uids[0]}"
TP_CLI_TIMEOUT=60 tp_cli pulse --wait
tp_rc "a pulse after the reload exits 0" 0

tp_log "an operator: not root, in the api socket's group"
tp_eq "the socket's folder is 0750, group $SVC's" "750 $(id -gn "$SVC")" "$(stat -c '%a %G' "$T/run")"
tp_eq "the socket is 0660" 660 "$(stat -c '%a' "$T/run/api.sock")"
setpriv --reuid=nobody --regid="$svc_gid" --clear-groups "$TPCLI" -f "$TP_CONF" -t 5 status >"$T/op.out" 2>&1
tp_eq "nobody with group $SVC: tradepulse status exits 0" 0 "$?"
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$TPCLI" -f "$TP_CONF" -t 2 status >"$T/op.out" 2>&1
tp_ne "nobody without the group cannot use it" 0 "$?"

tp_log "a daemon setting the daemon refuses does not break the CLI"
sed 's/^max_workers = .*/max_workers = lots/' "$TP_CONF" >"$T/bad.conf"
tp_file_has "the copy has the bad value" "^max_workers = lots" "$T/bad.conf"
"$TPD" -n -f "$T/bad.conf" >"$T/n.out" 2>&1
tp_eq "tradepulsed -n refuses it" 1 "$?"
tp_file_has "with its line" "bad.conf:[0-9]+: max_workers" "$T/n.out"
tp_run "$TPCLI" -f "$T/bad.conf" -t 5 --json status
tp_rc "tradepulse status with it exits 0" 0
tp_eq "and reaches the daemon" "$TPD_PID" "$(tp_jq .result.pid "$OUT")"
# the keys the CLI does read are the file's: watch's [daemon] events
sed 's/^events = .*/events =/' "$T/bad.conf" >"$T/noevents.conf"
tp_run timeout 10 "$TPCLI" -f "$T/noevents.conf" watch -n 1
tp_rc "tradepulse watch with an empty [daemon] events exits 1" 1
tp_has "... saying the file has none" "noevents.conf: [daemon] events is empty" "$ERR"

tp_file_lacks "no warning that the configuration is unreadable" "a reload (SIGHUP) will be refused" "$T/daemon.log"

tp_log "SIGTERM stops it cleanly"
tp_stop
tp_eq "exit status 0" 0 "$TPD_RC"
tp_eq "not killed" 0 "$TPD_KILLED"

tp_log "a restart on the same folders, with a configuration $SVC cannot read"
tp_worker_config daemon.user="$SVC" "secrets.master_key=$T/keys/master.key"
chmod 0600 "$TP_CONF"
if tp_start; then
	tp_pass "it starts again on what the first run left"
	tp_file_has "it warns that a reload would be refused" "tradepulse.conf cannot be read by uid $svc_uid .*a reload \\(SIGHUP\\) will be refused" "$T/daemon.log"
	tp_stop
	tp_eq "exit status 0" 0 "$TPD_RC"
else
	tp_fail "it starts again on what the first run left"
fi

tp_log "as the unit starts it: User=$SVC with AmbientCapabilities=CAP_SETUID CAP_SETGID CAP_KILL"
if ! setpriv --help 2>&1 | grep -q -- --ambient-caps; then
	tp_log "this setpriv has no --ambient-caps: part not run"
else
	tp_worker_config daemon.user=tradepulse "secrets.master_key=$T/keys/master.key"
	chgrp "$SVC" "$TP_CONF"
	chmod 0640 "$TP_CONF"
	printf '#!/bin/sh\nexec setpriv --reuid=%s --regid=%s --init-groups --inh-caps=+setuid,+setgid,+kill --ambient-caps=+setuid,+setgid,+kill --bounding-set=-all,+setuid,+setgid,+kill "%s" "$@"\n' \
	    "$SVC" "$SVC" "$TPD" >"$T/as-unit"
	chmod 0755 "$T/as-unit"
	real_tpd=$TPD
	TPD=$T/as-unit
	if tp_start; then
		tp_pass "it starts as $SVC with ambient capabilities (no [daemon] user of its own)"
		tp_eq "its uid is $SVC's" "$svc_uid" "$(tp_proc_field "$TPD_PID" Uid | cut -f1 -d' ')"
		tp_eq "CapEff: the three" "$want" "$((16#$(tp_proc_field "$TPD_PID" CapEff)))"
		tp_eq "CapAmb: only the two a worker needs (CAP_KILL lowered)" "$(( (1 << 6) | (1 << 7) ))" "$((16#$(tp_proc_field "$TPD_PID" CapAmb)))"
		tp_eq "Seccomp: 2" 2 "$(tp_proc_field "$TPD_PID" Seccomp)"
		TP_CLI_TIMEOUT=60 tp_cli pulse --wait
		tp_rc "a pulse syncs both tenants" 0
		tp_cli sync alice
		wpid=
		for _ in $(seq 1 100); do
			for p in $(tp_worker_pids); do
				[ "$(tp_proc_field "$p" Seccomp_filters)" = 2 ] && wpid=$p && break
			done
			[ -n "$wpid" ] && break
			sleep 0.05
		done
		if [ -z "$wpid" ]; then
			tp_fail "a sandboxed worker was seen"
		else
			tp_eq "its worker runs as nobody" "$nobody_uid" "$(tp_proc_field "$wpid" Uid | cut -f1 -d' ')"
			tp_eq "with no capability (CapEff)" 0000000000000000 "$(tp_proc_field "$wpid" CapEff)"
			tp_eq "with no capability (CapAmb)" 0000000000000000 "$(tp_proc_field "$wpid" CapAmb)"
		fi
		tp_stop
		tp_eq "exit status 0" 0 "$TPD_RC"
	else
		tp_fail "it starts as $SVC with ambient capabilities (no [daemon] user of its own)"
	fi
	TPD=$real_tpd
fi
tp_finish
