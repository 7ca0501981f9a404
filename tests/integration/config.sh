#!/usr/bin/env bash
# tests/integration/config.sh: tradepulsed -n refuses what the start refuses (tcp:// endpoints without CURVE, bad CURVE keys and allowlists, key files with a bad mode or owner, a missing worker program), the start refuses the same, and -n changes nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init config

# port_closed PORT: nothing accepts a TCP connection on 127.0.0.1:PORT.
port_closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# line_of FILE ERE: the number of the first line of FILE matching ERE.
line_of() { grep -n -E -m 1 -- "$2" "$1" | cut -d: -f1; }

# check_n NAME CONF ERE: tradepulsed -n on CONF exits 1, says ERE (after
# "CONF:"), and not "configuration OK".
check_n() {
	tp_run "$TPD" -n -f "$2"
	tp_rc "-n refuses $1 (exit 1)" 1
	tp_match "-n says why: $1" "^$2:$3" "$ERR"
	tp_lacks "-n on $1 does not say OK" "configuration OK" "$OUT$ERR"
}

# check_start NAME CONF ERE [ARGS]: tradepulsed -d (or with ARGS) on CONF
# exits 1 at once with ERE on stderr; a daemon that stays up fails this
# and is stopped.
check_start() {
	local name=$1 conf=$2 re=$3
	shift 3
	"$TPD" -f "$conf" "${@:--d}" >"$T/start.out" 2>"$T/start.err" </dev/null &
	local pid=$!
	TP_PIDS+=("$pid")
	if ! tp_wait_exit "$pid" 15; then
		tp_fail "the start refuses $name" "tradepulsed ${*:--d} is still running after 15 s"
		kill -TERM "$pid" 2>/dev/null
		tp_wait_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null
		tp_reap "$pid"
		return 1
	fi
	tp_reap "$pid"
	tp_eq "the start refuses $name (exit 1)" 1 "$REAP_RC"
	# A daemon that detached after all is found by its config file.
	local p
	for p in $(pgrep -f -- "-f $conf" 2>/dev/null); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$TPD")" ] || continue
		tp_fail "no daemon runs after the refused start ($name)" "pid $p"
		kill -KILL "$p" 2>/dev/null
	done
	tp_slurp START_ERR "$T/start.err"
	tp_match "the start says why: $name" "$re" "$START_ERR"
}

# --- a good configuration ----------------------------------------------------

tp_log "a good configuration"
tp_keygen
tp_run "$TPD" -n -f "$TP_CONF"
tp_rc "-n on a good config exits 0" 0
tp_eq "-n on a good config prints configuration OK" "configuration OK" "$OUT"
tp_true "-n creates no state_dir" test ! -e "$T/state"
tp_true "-n creates no log_dir" test ! -e "$T/log"
tp_true "-n creates no api socket folder" test ! -e "$T/run"

# --- no network endpoint without CURVE -------------------------------------------

tp_log "tcp:// endpoints"
port=$((20000 + RANDOM % 20000))
tcp=$T/tcp.conf
tp_write_config "$tcp" "daemon.api=tcp://127.0.0.1:$port"
line=$(line_of "$tcp" '^api = tcp://')
check_n "a tcp:// api without CURVE" "$tcp" "$line: api: a tcp:// endpoint needs CURVE: set both curve_server_key and curve_clients in \\[auth\\], or use ipc://"
check_start "a tcp:// api without CURVE" "$tcp" "$tcp:$line: api: a tcp:// endpoint needs CURVE"
tp_true "nothing listens on 127.0.0.1:$port after the refused start" port_closed "$port"
check_start "a tcp:// api without CURVE (detaching, no -d)" "$tcp" "a tcp:// endpoint needs CURVE" -v
tp_true "nothing listens on 127.0.0.1:$port after the refused detaching start" port_closed "$port"

tcp0=$T/tcp0.conf
tp_write_config "$tcp0" "daemon.api=tcp://0.0.0.0:$port"
check_n "a tcp://0.0.0.0 api without CURVE" "$tcp0" "$(line_of "$tcp0" '^api = '): api: a tcp:// endpoint needs CURVE"

# CURVE key files for the checks below (made by keygen --curve)
"$TPCLI" keygen --curve --out "$T/srv" >/dev/null 2>&1
"$TPCLI" keygen --curve --out "$T/cl" >/dev/null 2>&1
printf 'ops admin %s\n' "$(cat "$T/cl.pub")" >"$T/clients"
tcp1=$T/tcp1.conf
tp_write_config "$tcp1" "daemon.api=tcp://127.0.0.1:$port" "auth.curve_server_key=$T/srv.key"
check_n "a tcp:// api with curve_server_key only" "$tcp1" "$(line_of "$tcp1" '^api = '): api: a tcp:// endpoint needs CURVE"
tcp2=$T/tcp2.conf
tp_write_config "$tcp2" "daemon.api=tcp://127.0.0.1:$port" "auth.curve_clients=$T/clients"
check_n "a tcp:// api with curve_clients only" "$tcp2" "$(line_of "$tcp2" '^api = '): api: a tcp:// endpoint needs CURVE"
tcp3=$T/tcp3.conf
tp_write_config "$tcp3" "daemon.api=tcp://127.0.0.1" "auth.curve_server_key=$T/srv.key" "auth.curve_clients=$T/clients"
check_n "a tcp:// api without a port" "$tcp3" "$(line_of "$tcp3" '^api = '): api: \"tcp://127.0.0.1\" is not tcp://HOST:PORT"

ev=$T/events.conf
tp_write_config "$ev" "daemon.events=tcp://127.0.0.1:$((port + 1))"
check_n "a tcp:// events endpoint" "$ev" "$(line_of "$ev" '^events = '): events: tcp:// endpoints are refused; use ipc:// \\(CURVE covers the api endpoint only\\)"

tp_log "CURVE keys"
curve=$T/curve.conf
tp_write_config "$curve" "auth.curve_server_key=$T/srv.key"
check_n "a curve_server_key with an ipc:// api" "$curve" "$(line_of "$curve" '^curve_server_key = '): curve_server_key: CURVE is used only with api = tcp://HOST:PORT"
curve2=$T/curve2.conf
tp_write_config "$curve2" "auth.curve_clients=$T/clients"
check_n "a curve_clients with an ipc:// api" "$curve2" "$(line_of "$curve2" '^curve_clients = '): curve_clients: CURVE is used only with api = tcp://"

good=$T/curve-good.conf
tp_write_config "$good" "daemon.api=tcp://127.0.0.1:$port" "auth.curve_server_key=$T/srv.key" "auth.curve_clients=$T/clients"
tp_run "$TPD" -n -f "$good"
tp_rc "-n accepts a tcp:// api with CURVE" 0
tp_eq "-n on a tcp:// api with CURVE prints configuration OK" "configuration OK" "$OUT"

chmod 640 "$T/srv.key"
check_n "a curve_server_key of mode 0640" "$good" "$(line_of "$good" '^curve_server_key = '): curve_server_key $T/srv.key must be a regular file that only its owner may read"
check_start "a curve_server_key of mode 0640" "$good" "curve_server_key $T/srv.key must be a regular file that only its owner may read"
tp_true "nothing listens on 127.0.0.1:$port after the refused start" port_closed "$port"
chmod 600 "$T/srv.key"
cp "$T/srv.key" "$T/srv.bad"
printf 'not a key\n' >"$T/srv.bad"
chmod 600 "$T/srv.bad"
bad=$T/curve-bad.conf
tp_write_config "$bad" "daemon.api=tcp://127.0.0.1:$port" "auth.curve_server_key=$T/srv.bad" "auth.curve_clients=$T/clients"
check_n "a curve_server_key that is not a key" "$bad" "$(line_of "$bad" '^curve_server_key = '): curve_server_key $T/srv.bad must hold one line of 40 Z85 characters"
missing=$T/curve-missing.conf
tp_write_config "$missing" "daemon.api=tcp://127.0.0.1:$port" "auth.curve_server_key=$T/no-such.key" "auth.curve_clients=$T/clients"
check_n "a missing curve_server_key" "$missing" "$(line_of "$missing" '^curve_server_key = '): curve_server_key $T/no-such.key: No such file"

# the allowlist: errors name its own file and line
clients_case() {
	printf '%b' "$2" >"$T/clients"
	tp_run "$TPD" -n -f "$good"
	tp_rc "-n refuses curve_clients with $1 (exit 1)" 1
	tp_match "-n says where and why: $1" "^$T/clients:$3" "$ERR"
}
key=$(cat "$T/cl.pub")
key2=$(cat "$T/srv.pub")
clients_case "an unknown role" "# c\n\nops root $key\n" "3: unknown role \"root\" \\(admin or service\\)"
clients_case "two words" "ops admin\n" "1: expected \"NAME ROLE PUBLIC_KEY\" \\(three words\\)"
clients_case "four words" "ops admin $key extra\n" "1: expected \"NAME ROLE PUBLIC_KEY\" \\(three words\\), found more"
clients_case "a short key" "ops admin abc\n" "1: the public key is not 40 Z85 characters"
clients_case "a bad name" "o/ps admin $key\n" "1: bad name \"o/ps\""
clients_case "a name twice" "ops admin $key\nops service $key2\n" "2: client \"ops\" is listed twice"
clients_case "a key twice" "ops admin $key\nbot service $key\n" "2: this public key is listed twice"
clients_case "no client" "# nobody\n" "0: curve_clients lists no client"
printf 'ops admin %s\n' "$key" >"$T/clients"
chmod 666 "$T/clients"
tp_run "$TPD" -n -f "$good"
tp_rc "-n refuses a curve_clients others may write (exit 1)" 1
tp_match "-n says why: curve_clients others may write" "^$T/clients:0: curve_clients must be a regular file that only its owner may write" "$ERR"
chmod 644 "$T/clients"
tp_run "$TPD" -n -f "$good"
tp_rc "-n accepts the allowlist again" 0

# --- the Firestore backend ----------------------------------------------------

tp_log "[store] backend = firestore"
fs1=$T/fs1.conf
tp_write_config "$fs1" store.backend=firestore
check_n "firestore without project_id" "$fs1" "$(line_of "$fs1" '^backend = '): backend: firestore needs project_id in \\[store\\]"
fs2=$T/fs2.conf
tp_write_config "$fs2" store.backend=firestore store.project_id=tp-test
check_n "firestore without credentials or emulator_host" "$fs2" "$(line_of "$fs2" '^backend = '): backend: firestore needs credentials \\(a service-account key file\\) or emulator_host"
# a key file as Google issues it, but readable by others: refused as the
# start would refuse it, naming the file and never a value
openssl genrsa -out "$T/sa.pem" 2048 2>/dev/null
jq -n --rawfile k "$T/sa.pem" '{type: "service_account", project_id: "tp-test",
    private_key_id: "0123456789abcdef", private_key: $k,
    client_email: "tp@tp-test.iam.gserviceaccount.com",
    token_uri: "https://oauth2.googleapis.com/token"}' >"$T/sa.json"
rm -f "$T/sa.pem"
chmod 0644 "$T/sa.json"
fs3=$T/fs3.conf
tp_write_config "$fs3" store.backend=firestore store.project_id=tp-test "store.credentials=$T/sa.json"
check_n "a 0644 credentials file" "$fs3" "$(line_of "$fs3" '^credentials = '): credentials file $T/sa.json has mode 0644"
tp_lacks "-n does not quote the private key" "PRIVATE KEY" "$OUT$ERR"
chmod 0600 "$T/sa.json"
tp_run "$TPD" -n -f "$fs3"
tp_rc "-n accepts a 0600 service-account key file (exit 0)" 0
fs4=$T/fs4.conf
tp_write_config "$fs4" store.backend=firestore store.project_id=tp-test store.emulator_host=127.0.0.1:1
tp_run "$TPD" -n -f "$fs4"
tp_rc "-n accepts the emulator without a key file (exit 0)" 0

# --- the master key file -------------------------------------------------------

tp_log "the master key file"
kline=$(line_of "$TP_CONF" '^master_key = ')
chmod 0644 "$T/master.key"
check_n "a 0644 master key" "$TP_CONF" "$kline: master key file $T/master.key has mode 0644"
check_start "a 0644 master key" "$TP_CONF" "master key file $T/master.key has mode 0644"
chmod 0600 "$T/master.key"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$T/master.key"
	check_n "a 0600 master key owned by nobody" "$TP_CONF" "$kline: master key file $T/master.key is owned by uid $(id -u nobody), not by uid 0"
	check_start "a 0600 master key owned by nobody" "$TP_CONF" "master key file $T/master.key is owned by uid $(id -u nobody)"
	check_start "a 0600 master key owned by nobody (detaching, no -d)" "$TP_CONF" "is owned by uid $(id -u nobody)" -v
	chown 0 "$T/master.key"
else
	tp_log "not root: the key owner checks are skipped"
fi

mv "$T/master.key" "$T/master.key.away"
check_n "a missing master key" "$TP_CONF" "$kline: cannot open master key file $T/master.key"
mv "$T/master.key.away" "$T/master.key"

# --- what else the start needs ------------------------------------------------

tp_log "data_secret_file, worker program, folders"
printf 'DATASECRET%s\n' "$RANDOM" >"$T/data.secret"
chmod 0644 "$T/data.secret"
ds=$T/data.conf
tp_write_config "$ds" alpaca.data_key_id=PKDATA "alpaca.data_secret_file=$T/data.secret"
dline=$(line_of "$ds" '^data_secret_file = ')
check_n "a 0644 data_secret_file" "$ds" "$dline: \\[alpaca\\] data_secret_file $T/data.secret must be a regular file that only its owner may read"
chmod 0600 "$T/data.secret"
tp_run "$TPD" -n -f "$ds"
tp_rc "-n accepts a 0600 data_secret_file" 0
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$T/data.secret"
	check_n "a data_secret_file owned by nobody" "$ds" "$dline: \\[alpaca\\] data_secret_file $T/data.secret is owned by uid $(id -u nobody)"
	chown 0 "$T/data.secret"
fi

prog=$T/prog.conf
tp_write_config "$prog" "workers.program=$T/no-such-worker"
check_n "a missing worker program" "$prog" "$(line_of "$prog" '^program = '): worker program $T/no-such-worker"
: >"$T/not-exec"
chmod 0644 "$T/not-exec"
tp_write_config "$prog" "workers.program=$T/not-exec"
if [ "$(id -u)" = 0 ]; then
	# root may execute a file only when some x bit is set
	check_n "a worker program that is not executable" "$prog" "$(line_of "$prog" '^program = '): worker program $T/not-exec is not executable"
fi

if [ "$(id -u)" = 0 ]; then
	user=$T/user.conf
	tp_write_config "$user" workers.user=tp-no-such-user
	check_n "a worker user that does not exist" "$user" "$(line_of "$user" '^user = tp-no-such-user'): worker user tp-no-such-user does not exist"
	duser=$T/duser.conf
	tp_write_config "$duser" daemon.user=tp-no-such-user
	check_n "a [daemon] user that does not exist" "$duser" "$(line_of "$duser" '^user = tp-no-such-user'): user tp-no-such-user does not exist"
	same=$T/same.conf
	tp_write_config "$same" daemon.user=daemon workers.user=daemon
	check_n "workers that would run as the daemon's user" "$same" "$(grep -n -E '^user = daemon' "$same" | sed -n 2p | cut -d: -f1): worker user daemon is \\[daemon\\] user too"
fi

: >"$T/afile"
sd=$T/sd.conf
tp_write_config "$sd" "daemon.state_dir=$T/afile/state" "store.path=$T/x.db"
check_n "a state_dir under a file" "$sd" "$(line_of "$sd" '^state_dir = '): state_dir: $T/afile exists and is not a folder"

mkdir -m 0755 "$T/open"
op=$T/open.conf
tp_write_config "$op" "daemon.api=ipc://$T/open/api.sock"
check_n "an api socket folder others can enter" "$op" "$(line_of "$op" '^api = '): api socket folder $T/open can be entered by other users"

# --- the good configuration starts, and -n next to it still passes -------------

tp_log "start, and -n next to the running daemon"
if tp_start; then
	tp_pass "tradepulsed starts on the configuration -n accepted"
	tp_run "$TPD" -n -f "$TP_CONF"
	tp_rc "-n next to the running daemon exits 0" 0
	tp_eq "-n next to the running daemon prints configuration OK" "configuration OK" "$OUT"
	tp_stop
	tp_eq "tradepulsed stops with 0" 0 "$TPD_RC"
else
	tp_fail "tradepulsed starts on the configuration -n accepted"
fi

tp_finish
