#!/usr/bin/env bash
# tests/integration/install.sh: make install into a temporary root (DESTDIR staging, a matching prefix), then the README's flow: install-service, keygen as root, the installed init script starts the daemon (dropping to the service user), keys rotate, reloads (a broken config refused, the daemon running on), logrotate rotates its log, and the init script stops it, leaving nothing running.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init install --no-programs

# The init script makes its run folder owned by root and runs
# start-stop-daemon and Debian's init-functions; logrotate rotates.
[ "$(id -u)" -eq 0 ] || tp_skip "the init script needs root (it makes its run folder root-owned)"
command -v start-stop-daemon >/dev/null || tp_skip "start-stop-daemon is missing (Debian package dpkg)"
[ -r /lib/lsb/init-functions ] || tp_skip "/lib/lsb/init-functions is missing (Debian package sysvinit-utils)"
command -v logrotate >/dev/null || tp_skip "logrotate is not installed (Debian package logrotate)"
# The service user: the README's is tradepulse, which this machine must not
# get; daemon, an unprivileged account Debian always has, stands in for it.
SVC=daemon
svc_uid=$(id -u "$SVC" 2>/dev/null) || tp_skip "no user $SVC to stand in for the service user"

# The root the package is unpacked in, and the staging folder make
# install writes to (DESTDIR), as a package build does. Short: the api and
# events sockets' paths must fit in sun_path.
R=$T/r
STAGE=$T/stage
B=$T/build
INIT=$R/etc/init.d/tradepulsed
CONF=$R/etc/tradepulse/tradepulse.conf
LOG=$R/var/log/tradepulse/tradepulsed.log
PIDFILE=$R/run/tradepulse/tradepulsed.pid
DPID=

# wait_has PATTERN FILE SECONDS: until FILE has a line matching PATTERN.
wait_has() {
	local end=$((SECONDS + $3)) i=0
	until [ -f "$2" ] && grep -aqE -- "$1" "$2"; do
		[ "$SECONDS" -le "$end" ] && [ "$i" -lt $(($3 * 10 + 10)) ] || return 1
		i=$((i + 1))
		sleep 0.1
	done
}

tp_log "configure and build with prefix $R/usr (a build of its own: the paths are compiled and substituted in)"
mkdir -p "$B"
if ! (cd "$B" && "$TP_SRCDIR/configure" -q --prefix="$R/usr" --sysconfdir="$R/etc" \
    --localstatedir="$R/var" --runstatedir="$R/run" \
    --with-systemdsystemunitdir="$R/lib/systemd/system") >"$T/configure.log" 2>&1; then
	tp_fail "configure with a temporary prefix" "$(tail -n 20 "$T/configure.log")"
	tp_finish
fi
if ! nice make -C "$B" -j2 -s >"$T/make.log" 2>&1; then
	tp_fail "make" "$(tail -n 20 "$T/make.log")"
	tp_finish
fi

tp_run make -C "$B" -s install DESTDIR="$STAGE"
tp_rc "make install DESTDIR=$STAGE" 0
tp_true "... writes only under DESTDIR" test ! -e "$R"
mkdir -p "$R"
cp -a "$STAGE$R/." "$R/"

# Every file in its place.
for f in usr/sbin/tradepulsed usr/bin/tradepulse usr/libexec/tradepulse-worker \
    etc/init.d/tradepulsed; do
	tp_true "installed: $f, executable" test -x "$R/$f"
done
for f in etc/tradepulse/tradepulse.conf.example etc/logrotate.d/tradepulse \
    lib/systemd/system/tradepulsed.service usr/share/man/man8/tradepulsed.8 \
    usr/share/man/man1/tradepulse.1 usr/share/man/man5/tradepulse.conf.5 \
    usr/share/doc/tradepulse/README.md usr/share/doc/tradepulse/security.md; do
	tp_true "installed: $f" test -f "$R/$f"
done
tp_true "alpaca-sim (a test tool) is not installed" test ! -e "$R/usr/bin/alpaca-sim"
tp_eq "no @token@ is left in the installed text files" "" \
    "$(grep -rlE '@(sbindir|bindir|libexecdir|sysconfdir|localstatedir|runstatedir|docdir|PACKAGE_VERSION)@' \
        "$R/etc" "$R/lib" "$R/usr/share" 2>/dev/null)"
tp_file_has "the init script runs the installed daemon" "^DAEMON=$R/usr/sbin/tradepulsed\$" "$INIT"
tp_file_has "the unit runs the installed daemon" "^ExecStart=$R/usr/sbin/tradepulsed " "$R/lib/systemd/system/tradepulsed.service"
if command -v systemd-analyze >/dev/null; then
	tp_run systemd-analyze verify --man=no "$R/lib/systemd/system/tradepulsed.service"
	tp_rc "systemd-analyze verify accepts the installed unit" 0
	tp_eq "... without a warning" "" "$OUT$ERR"
else
	tp_log "the unit: not verified, systemd-analyze is missing (Debian package systemd)"
fi
tp_file_has "the example config names the installed worker" "^program = $R/usr/libexec/tradepulse-worker\$" "$R/etc/tradepulse/tradepulse.conf.example"
tp_file_has "the logrotate file rotates the daemon's log" "^$LOG \{" "$R/etc/logrotate.d/tradepulse"
tp_run "$R/usr/sbin/tradepulsed" --version
tp_match "the installed tradepulsed --version" '^tradepulsed [0-9]+\.[0-9]+' "$OUT"

# install-service: DESTDIR=/ stands for the real root here, so that no
# user is created on this machine; the folders and their modes are made.
tp_run make -C "$B" -s install-service DESTDIR=/
tp_rc "make install-service" 0
for d in var/lib/tradepulse var/log/tradepulse run/tradepulse etc/tradepulse; do
	tp_eq "install-service: $d is 0750" 750 "$(stat -c %a "$R/$d" 2>/dev/null)"
done
tp_eq "install-service: etc/tradepulse/private (the master key's) is 0700" 700 "$(stat -c %a "$R/etc/tradepulse/private" 2>/dev/null)"

# The same on the real root (DESTDIR empty) creates the service user and
# group and gives them the folders: run in a mount namespace of its own
# over a copy of /etc, so that this machine gets no new user.
if unshare -m true 2>/dev/null; then
	cp -a /etc "$T/etc"
	tp_run unshare -m sh -c 'mount --bind "$1/etc" /etc && make -C "$2" -s install-service && make -C "$2" -s install-service && id -un tradepulse && id -gn tradepulse && stat -c "%U:%G %a %n" "$3/var/lib/tradepulse" "$3/var/log/tradepulse" "$3/run/tradepulse" "$3/etc/tradepulse" "$3/etc/tradepulse/private"' \
	    sh "$T" "$B" "$R"
	tp_rc "make install-service on the real root (twice), in a namespace" 0
	tp_has "... creates the user tradepulse" $'tradepulse\ntradepulse\n' "$OUT"
	tp_has "... the state folder: tradepulse:tradepulse 0750" "tradepulse:tradepulse 750 $R/var/lib/tradepulse" "$OUT"
	tp_has "... the log folder: tradepulse:tradepulse 0750" "tradepulse:tradepulse 750 $R/var/log/tradepulse" "$OUT"
	tp_has "... the run folder: tradepulse:tradepulse 0750" "tradepulse:tradepulse 750 $R/run/tradepulse" "$OUT"
	tp_has "... the configuration folder: root:tradepulse 0750" "root:tradepulse 750 $R/etc/tradepulse" "$OUT"
	tp_has "... the master key's folder: tradepulse:tradepulse 0700" "tradepulse:tradepulse 700 $R/etc/tradepulse/private" "$OUT"
	tp_true "... and this machine has no user tradepulse from it" sh -c '! grep -q "^tradepulse:.*$1" /etc/passwd' sh "$R"
else
	tp_log "install-service creating the user: not checked, unshare -m is not permitted here"
fi

# The same for the stand-in service user, on the real root: it exists, so
# nothing is created; the folders are given to it.
tp_run make -C "$B" -s install-service TP_SERVICE_USER="$SVC"
tp_rc "make install-service TP_SERVICE_USER=$SVC" 0
for d in var/lib/tradepulse var/log/tradepulse run/tradepulse; do
	tp_eq "... $d: $SVC:$SVC 0750" "$SVC:$SVC 750" "$(stat -c '%U:%G %a' "$R/$d" 2>/dev/null)"
done
tp_eq "... etc/tradepulse: root:$SVC 0750" "root:$SVC 750" "$(stat -c '%U:%G %a' "$R/etc/tradepulse" 2>/dev/null)"
tp_eq "... etc/tradepulse/private: $SVC:$SVC 0700" "$SVC:$SVC 700" "$(stat -c '%U:%G %a' "$R/etc/tradepulse/private" 2>/dev/null)"
# The dropped daemon must reach the temporary root (entered, not listed).
chmod 0711 "$T"

# The configuration: the installed example with its paths, the store and
# every folder already in the temporary root, installed as the README
# says (0640, group of the service user); [daemon] user: the stand-in.
tp_run install -m 0640 -g "$SVC" "$R/etc/tradepulse/tradepulse.conf.example" "$CONF"
tp_rc "install the example as the configuration" 0
sed -i "s/^user = tradepulse\$/user = $SVC/" "$CONF"
tp_eq "[daemon] user = $SVC" "user = $SVC" "$(awk '/^\[/ { s = $0 } s == "[daemon]" && /^user =/' "$CONF")"
# No port shared with other tests; the log file explicitly when syslog
# listens here (by default it is used only where there is no /dev/log).
sed -i -e 's|^http = .*|http =|' "$CONF"
[ -S /dev/log ] && sed -i "s|^log =.*|log = $LOG|" "$CONF"
cp "$CONF" "$T/good.conf"
KEY=$R/etc/tradepulse/private/master.key
tp_run "$R/usr/bin/tradepulse" -f "$CONF" keygen
tp_rc "tradepulse keygen (as root) makes the master key" 0
tp_has "... where the example says, given to [daemon] user" "wrote master key version 1 to $KEY (owner $SVC)" "$OUT"
tp_eq "... $SVC's, 0600" "$SVC:$SVC 600" "$(stat -c '%U:%G %a' "$KEY" 2>/dev/null)"

sed "s|^log =.*|log = $R/etc|" "$T/good.conf" >"$T/badlog.conf"
tp_run "$R/usr/sbin/tradepulsed" -n -f "$T/badlog.conf"
tp_rc "tradepulsed -n refuses a log file that is a folder" 1
tp_has "... naming the key" "[daemon] log: $R/etc is not a regular file" "$ERR"
tp_run "$R/usr/sbin/tradepulsed" -n -f "$CONF"
tp_rc "tradepulsed -n accepts the configuration" 0

tp_run "$INIT" start
tp_rc "init script start" 0
if tp_true "... writes the pidfile" test -s "$PIDFILE"; then
	DPID=$(cat "$PIDFILE")
	TP_PIDS+=("$DPID")
fi
tp_true "... the daemon runs" tp_alive "$DPID"
tp_eq "... it is the installed program" "$R/usr/sbin/tradepulsed" "$(readlink "/proc/$DPID/exe" 2>/dev/null)"
tp_run "$INIT" status
tp_rc "init script status: running (exit 0)" 0
tp_eq "... it dropped to $SVC" "$svc_uid" "$(tp_proc_field "$DPID" Uid | cut -d' ' -f2)"
tp_run "$R/usr/bin/tradepulse" -f "$CONF" -t 10 status
tp_rc "the installed CLI talks to it" 0
tp_run "$R/usr/bin/tradepulse" -f "$CONF" -t 60 keygen --rotate
tp_rc "keygen --rotate: the dropped daemon rotates its key" 0
tp_has "... to version 2" "master key version 2;" "$OUT"
tp_eq "... the new key file is $SVC's, 0600" "$SVC:$SVC 600" "$(stat -c '%U:%G %a' "$KEY" 2>/dev/null)"
tp_eq "... and nothing else is left in its folder" "master.key" "$(ls -A "$(dirname "$KEY")")"
tp_true "the daemon logs to $LOG" wait_has 'started: pid' "$LOG" 10
tp_eq "the log file is 0640" 640 "$(stat -c %a "$LOG" 2>/dev/null)"
tp_eq "... owned like its folder" "$(stat -c %u:%g "$(dirname "$LOG")")" "$(stat -c %u:%g "$LOG" 2>/dev/null)"

tp_log "reload with a broken configuration"
printf '[daemon]\nno_such_key = 1\n' >>"$CONF"
tp_run "$INIT" reload
tp_rc "init script reload refuses a broken configuration" 1
tp_has "... saying FILE:LINE: reason" "$CONF:" "$ERR$OUT"
# SIGHUP as an operator (or systemctl kill) would send it, past the check.
kill -HUP "$DPID"
tp_true "the daemon's log says it refused the reload" wait_has 'reload refused: .*no_such_key' "$LOG" 10
tp_run "$INIT" status
tp_rc "... and the daemon still runs (status exit 0)" 0

tp_log "reload with a good configuration"
sed 's/^tenant_log_keep = .*/tenant_log_keep = 3/' "$T/good.conf" >"$CONF"
tp_run "$INIT" reload
tp_rc "init script reload with a good configuration" 0
tp_true "... applied (the daemon's log)" wait_has 'tenant logs rotate past .* keeping 3' "$LOG" 10

tp_log "logrotate -f on the installed logrotate file"
tp_file_has "it rotates as the service user" "^[[:space:]]+su tradepulse tradepulse\$" "$R/etc/logrotate.d/tradepulse"
# The stand-in for tradepulse, which does not exist here.
sed "s/^\([[:space:]]*su\) tradepulse tradepulse\$/\1 $SVC $SVC/" "$R/etc/logrotate.d/tradepulse" >"$T/logrotate.conf"
tp_file_has "... (with $SVC standing in for it)" "^[[:space:]]+su $SVC $SVC\$" "$T/logrotate.conf"
tp_run logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf"
tp_rc "logrotate -f" 0
tp_eq "... without a complaint" "" "$OUT$ERR"
tp_true "... renamed the log to tradepulsed.log.1" test -f "$LOG.1"
tp_true "... and SIGUSR1 made the daemon reopen a new file" wait_has 'SIGUSR1: log files reopened' "$LOG" 10
tp_eq "... the new file is owned like its folder too" "$(stat -c %u:%g "$(dirname "$LOG")")" "$(stat -c %u:%g "$LOG" 2>/dev/null)"
tp_eq "... that is, by $SVC, 0640" "$SVC 640" "$(stat -c '%U %a' "$LOG" 2>/dev/null)"
tp_run "$INIT" reload
tp_true "the daemon writes to the new file after the rotation" wait_has 'configuration reloaded' "$LOG" 10
tp_eq "... and no longer to the old one" 0 "$(grep -c 'SIGUSR1: log files reopened' "$LOG.1" 2>/dev/null)"

tp_log "stop"
tp_run "$INIT" stop
tp_rc "init script stop" 0
tp_true "... the daemon is gone" tp_wait_exit "$DPID" 10
tp_true "... and its pidfile" test ! -e "$PIDFILE"
tp_run "$INIT" status
tp_rc "init script status: not running (exit 3)" 3
tp_eq "nothing of the installed programs runs" "" \
    "$(for p in /proc/[0-9]*; do readlink "$p/exe" 2>/dev/null; done | grep -F "$R/" | head -3)"

tp_run make -C "$B" -s uninstall DESTDIR="$STAGE"
tp_rc "make uninstall DESTDIR=$STAGE" 0
tp_eq "... removes every file it installed" "" "$(find "$STAGE" -type f | head -5)"

tp_finish
