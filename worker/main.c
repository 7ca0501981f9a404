/* main.c: tradepulse-worker: arguments, token, channel, HELLO, CONFIG and the job loop. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/prctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/sealbox.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#define WORKER_MONITOR		"inproc://worker-monitor"
#define WORKER_MEM_MAX		(1ULL << 50)	/* bytes */
#define WORKER_CPU_MAX		(1ULL << 31)	/* seconds */
#define WORKER_MAX_JOBS_MAX	1000000000ULL
#define WORKER_HEARTBEAT_MIN	30		/* ms */
#define WORKER_TIMEOUT_MAX	(24ULL * 3600 * 1000)	/* ms */

/* How reading the channel went. */
enum worker_rx {
	WORKER_RX_NONE,		/* nothing waiting */
	WORKER_RX_SKIP,		/* a message was dropped; read on */
	WORKER_RX_MSG,		/* a checked message of our generation */
	WORKER_RX_FAIL,		/* the channel is broken */
};

static uint8_t worker_token[WIRE_TOKEN_BYTES];
/* The session key the JOBs' keys are sealed under (sealbox.h): read after
 * the token, in sodium_malloc'd memory (guarded, mlocked), wiped at exit. */
static uint8_t *worker_session_key;

#ifdef TP_SANITIZERS
/*
 * Sanitizer reports must not need what the sandbox forbids: no leak check
 * at exit (it forks a tracer and ptraces), no symbolizer process, and
 * fatal signals left to the kernel so that a crash report names the real
 * signal. ASAN_OPTIONS and UBSAN_OPTIONS set by the daemon still override
 * these.
 */
#define WORKER_SAN_OPTIONS "symbolize=0:handle_segv=0:handle_sigbus=0:" \
	"handle_sigfpe=0:handle_sigill=0:handle_abort=0:abort_on_error=1"

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return WORKER_SAN_OPTIONS ":detect_leaks=0:allocator_may_return_null=1";
}

const char *
__ubsan_default_options(void)
{
	return WORKER_SAN_OPTIONS;
}
#endif

static void
worker_usage(FILE *fp)
{
	fprintf(fp, "usage: %s --channel ENDPOINT --generation N --user NAME\n"
	    "           --memory-limit BYTES --cpu-limit SECONDS [--core-dumps]\n"
	    "       %s -h | --help\n", WORKER_NAME, WORKER_NAME);
}

static void
worker_help(void)
{
	printf(
"NAME\n"
"     tradepulse-worker - one sandboxed process running a batch of tenant jobs\n"
"\n"
"SYNOPSIS\n"
"     tradepulse-worker --channel ENDPOINT --generation N --user NAME\n"
"                       --memory-limit BYTES --cpu-limit SECONDS [--core-dumps]\n"
"     tradepulse-worker -h | --help\n"
"\n"
"DESCRIPTION\n"
"     tradepulse-worker is started by tradepulsed, never by hand: the daemon\n"
"     forks and executes it for each batch of tenants, with a per-spawn\n"
"     secret on file descriptor %d that proves to the daemon which worker\n"
"     it is. Started any other way it finds no secret and exits 1.\n"
"\n"
"     The worker connects to the daemon's worker channel, then confines\n"
"     itself before it says hello: it loads the CA certificates into\n"
"     memory, drops to the given user (when started as root), sets its\n"
"     resource limits, forbids new privileges and core dumps, and installs\n"
"     a seccomp filter under which opening files, executing programs,\n"
"     forking and tracing are fatal. It then runs the jobs the daemon\n"
"     sends, all at once, each under its deadline: a sync reads a\n"
"     tenant's Alpaca account and marks its open shadow trades to market;\n"
"     a prices job fetches the latest prices of a list of symbols. It\n"
"     heartbeats while alive, and exits when told to or after the\n"
"     configured number of jobs.\n"
"\n"
"OPTIONS\n"
"     --channel ENDPOINT\n"
"             The daemon's worker channel (ipc://PATH or tcp://HOST:PORT).\n"
"     --generation N\n"
"             The spawn number the daemon gave this worker.\n"
"     --user NAME\n"
"             The user to run as ([workers] user).\n"
"     --memory-limit BYTES\n"
"             Address space limit ([workers] memory_limit).\n"
"     --cpu-limit SECONDS\n"
"             CPU time limit ([workers] cpu_limit).\n"
"     --core-dumps\n"
"             Allow core dumps ([workers] core_dumps).\n"
"     -h, --help\n"
"             Print this help and exit.\n"
"\n"
"EXIT STATUS\n"
"     0       Told to shut down, or the configured number of jobs is done.\n"
"     1       No secret on fd %d, the channel or the sandbox failed, or the\n"
"             daemon went away (the reason is on standard error).\n"
"     2       Bad command line.\n"
"     A forbidden syscall kills the worker by SIGSYS after one line on\n"
"     standard error: seccomp: forbidden syscall NAME (NR).\n",
	    WIRE_TOKEN_FD, WIRE_TOKEN_FD);
}

/* --- the command line --- */

/* A plain decimal number of min..max: no sign, no spaces, no suffix. */
static int
worker_number(const char *opt, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9' || strlen(s) > 20)
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "%s: --%s must be a number of %" PRIu64 "..%" PRIu64
	    "\n", WORKER_NAME, opt, min, max);
	return -1;
}

/* 1..max printable ASCII characters; spaces only where allowed (a
 * state_dir, hence an ipc:// path, may contain one). */
static int
worker_text(const char *opt, const char *s, size_t max, bool spaces,
    char *out)
{
	size_t len = strlen(s), i;
	unsigned char lo = spaces ? 0x20 : 0x21;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] >= 0x7f)
			break;
	if (len == 0 || len > max || i < len) {
		fprintf(stderr, "%s: --%s must be 1..%zu printable characters%s"
		    "\n", WORKER_NAME, opt, max, spaces ? "" :
		    " without spaces");
		return -1;
	}
	memcpy(out, s, len + 1);
	return 0;
}

static int
worker_check_opts(const struct worker_opts *o)
{
	size_t i;

	if (strncmp(o->channel, "ipc://", 6) != 0 &&
	    strncmp(o->channel, "tcp://", 6) != 0) {
		fprintf(stderr, "%s: --channel must be an ipc:// or tcp:// "
		    "endpoint\n", WORKER_NAME);
		return -1;
	}
	for (i = 0; o->user[i] != '\0'; i++)
		if (!((o->user[i] >= 'a' && o->user[i] <= 'z') ||
		    (o->user[i] >= 'A' && o->user[i] <= 'Z') ||
		    (o->user[i] >= '0' && o->user[i] <= '9') ||
		    o->user[i] == '_' || o->user[i] == '.' ||
		    (o->user[i] == '-' && i > 0))) {
			fprintf(stderr, "%s: --user must be a user name "
			    "([A-Za-z0-9_.-], not starting with -)\n",
			    WORKER_NAME);
			return -1;
		}
	return 0;
}

/* Returns 0, or the exit status: 2 for a usage error, 0 after --help. */
static int
worker_args(int argc, char **argv, struct worker_opts *o, bool *done)
{
	enum { O_CHANNEL = 256, O_GENERATION, O_USER, O_MEMORY, O_CPU,
	    O_CORE, O_NOPTS };
	static const struct option longopts[] = {
		{ "channel", required_argument, NULL, O_CHANNEL },
		{ "generation", required_argument, NULL, O_GENERATION },
		{ "user", required_argument, NULL, O_USER },
		{ "memory-limit", required_argument, NULL, O_MEMORY },
		{ "cpu-limit", required_argument, NULL, O_CPU },
		{ "core-dumps", no_argument, NULL, O_CORE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool seen[O_NOPTS - O_CHANNEL] = { false };
	int ch, rc = 0;

	*done = false;
	memset(o, 0, sizeof(*o));
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			worker_help();
			*done = true;
			return 0;
		}
		if (ch < O_CHANNEL || ch >= O_NOPTS) {
			worker_usage(stderr);
			return 2;
		}
		if (seen[ch - O_CHANNEL]) {
			fprintf(stderr, "%s: --%s given twice\n", WORKER_NAME,
			    longopts[ch - O_CHANNEL].name);
			return 2;
		}
		seen[ch - O_CHANNEL] = true;
		switch (ch) {
		case O_CHANNEL:
			rc = worker_text("channel", optarg, WORKER_CHANNEL_MAX,
			    true, o->channel);
			break;
		case O_GENERATION:
			rc = worker_number("generation", optarg, 0, UINT64_MAX,
			    &o->generation);
			break;
		case O_USER:
			rc = worker_text("user", optarg, WORKER_USER_MAX,
			    false, o->user);
			break;
		case O_MEMORY:
			rc = worker_number("memory-limit", optarg, 1,
			    WORKER_MEM_MAX, &o->memory_limit);
			break;
		case O_CPU:
			rc = worker_number("cpu-limit", optarg, 1,
			    WORKER_CPU_MAX, &o->cpu_limit);
			break;
		case O_CORE:
			o->core_dumps = true;
			break;
		}
		if (rc == -1)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", WORKER_NAME,
		    argv[optind]);
		worker_usage(stderr);
		return 2;
	}
	for (ch = O_CHANNEL; ch < O_CORE; ch++)
		if (!seen[ch - O_CHANNEL]) {
			fprintf(stderr, "%s: --%s is required\n", WORKER_NAME,
			    longopts[ch - O_CHANNEL].name);
			worker_usage(stderr);
			return 2;
		}
	if (worker_check_opts(o) == -1)
		return 2;
	return 0;
}

/* --- the token on fd 3 --- */

/* Reads exactly len bytes of the fd 3 pipe; 0 or -1 (err says why). */
static int
worker_read_pipe(uint8_t *buf, size_t len, const char *what,
    struct tp_err *err)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(WIRE_TOKEN_FD, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return tp_err_errno(err, TP_UNAUTHENTICATED,
			    "cannot read the %s on fd %d", what,
			    WIRE_TOKEN_FD);
		if (n == 0)
			return tp_err_set(err, TP_UNAUTHENTICATED, "short %s "
			    "on fd %d: %zu of %zu bytes", what, WIRE_TOKEN_FD,
			    off, len);
		off += (size_t)n;
	}
	return 0;
}

/* Wipes the token and the session key: at every exit. */
static void
worker_wipe_secrets(void)
{
	sodium_memzero(worker_token, sizeof(worker_token));
	if (worker_session_key != NULL)
		sodium_memzero(worker_session_key, SEALBOX_KEY_BYTES);
}

/* The token, then the session key, both before the sandbox. */
static int
worker_read_token(struct tp_err *err)
{
	int rc;

	if (fcntl(WIRE_TOKEN_FD, F_GETFD) == -1)
		return tp_err_set(err, TP_UNAUTHENTICATED, "no token on fd %d: "
		    "%s is started by tradepulsed, not by hand", WIRE_TOKEN_FD,
		    WORKER_NAME);
	/* sodium_malloc needs it (the sandbox calls it again: a no-op) */
	if (sodium_init() < 0)
		rc = tp_err_set(err, TP_INTERNAL, "sodium_init failed");
	else if ((worker_session_key = sodium_malloc(SEALBOX_KEY_BYTES)) ==
	    NULL)
		rc = tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	else if ((rc = worker_read_pipe(worker_token, sizeof(worker_token),
	    "token", err)) == 0)
		rc = worker_read_pipe(worker_session_key, SEALBOX_KEY_BYTES,
		    "session key", err);
	close(WIRE_TOKEN_FD);
	if (rc == -1)
		worker_wipe_secrets();
	return rc;
}

/* --- the channel --- */

static void
worker_msg_free(void *data, void *hint)
{
	wire_free_wiped(data, (size_t)(uintptr_t)hint);
}

int
worker_send(struct worker *w, enum wire_type type, json_object *payload,
    struct tp_err *err)
{
	zmq_msg_t msg;
	uint8_t *buf;
	size_t len;

	if (wire_encode(type, w->opts.generation, payload, &buf, &len,
	    err) == -1)
		return -1;
	if (zmq_msg_init_data(&msg, buf, len, worker_msg_free,
	    (void *)(uintptr_t)len) == -1) {
		wire_free_wiped(buf, len);
		w->lost = true;
		return tp_err_set(err, TP_UNAVAILABLE, "zmq_msg_init_data: %s",
		    zmq_strerror(errno));
	}
	while (zmq_msg_send(&msg, w->sock, 0) == -1) {
		if (errno == EINTR)
			continue;
		zmq_msg_close(&msg);
		w->lost = true;
		return tp_err_set(err, TP_UNAVAILABLE, "cannot send %s: %s",
		    wire_type_name(type), zmq_strerror(errno));
	}
	return 0;
}

/*
 * Bounds every send and receive on the channel: with reconnect off, a
 * DEALER whose supervisor died has no peer, and a send (the HELLO, a
 * heartbeat) would block for ever; it fails with EAGAIN instead and the
 * worker, its channel lost, exits.
 */
static int
worker_chan_timeouts(struct worker *w, int ms)
{
	if (zmq_setsockopt(w->sock, ZMQ_SNDTIMEO, &ms, sizeof(ms)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_RCVTIMEO, &ms, sizeof(ms)) == -1 ||
	    zmq_setsockopt(w->mon, ZMQ_RCVTIMEO, &ms, sizeof(ms)) == -1)
		return -1;
	return 0;
}

static int
worker_chan_open(struct worker *w, struct tp_err *err)
{
	uint8_t id[8];
	int linger = WORKER_LINGER_MS, reconnect = -1, tmo = WORKER_CHAN_MS;
	int64_t maxmsg = WIRE_HEADER_LEN + WIRE_MAX_JOB;

	if ((w->zctx = zmq_ctx_new()) == NULL)
		return tp_err_set(err, TP_INTERNAL, "zmq_ctx_new: %s",
		    zmq_strerror(errno));
	if ((w->sock = zmq_socket(w->zctx, ZMQ_DEALER)) == NULL ||
	    (w->mon = zmq_socket(w->zctx, ZMQ_PAIR)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "zmq_socket: %s",
		    zmq_strerror(errno));
	wire_routing_id(w->opts.generation, id);
	/* no reconnect: after the privilege drop the socket's folder is out
	 * of reach, and a lost supervisor ends the worker anyway */
	if (zmq_setsockopt(w->sock, ZMQ_ROUTING_ID, id, sizeof(id)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof(linger)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_RECONNECT_IVL, &reconnect,
	    sizeof(reconnect)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_MAXMSGSIZE, &maxmsg,
	    sizeof(maxmsg)) == -1 ||
	    worker_chan_timeouts(w, tmo) == -1 ||
	    zmq_setsockopt(w->mon, ZMQ_LINGER, &linger, sizeof(linger)) == -1)
		return tp_err_set(err, TP_INTERNAL, "zmq_setsockopt: %s",
		    zmq_strerror(errno));
	/* the monitor's peer is connected first so no event is lost */
	if (zmq_socket_monitor(w->sock, WORKER_MONITOR, ZMQ_EVENT_CONNECTED |
	    ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED) == -1 ||
	    zmq_connect(w->mon, WORKER_MONITOR) == -1)
		return tp_err_set(err, TP_INTERNAL, "zmq_socket_monitor: %s",
		    zmq_strerror(errno));
	if (zmq_connect(w->sock, w->opts.channel) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "cannot connect to "
		    "%s: %s", w->opts.channel, zmq_strerror(errno));
	return 0;
}

/* Reads one monitor event (two frames); returns its id, 0 for none. */
static unsigned int
worker_monitor_event(struct worker *w)
{
	zmq_msg_t msg;
	uint16_t ev = 0;
	int more;

	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, w->mon, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&msg);
		return 0;
	}
	if (zmq_msg_size(&msg) >= sizeof(ev))
		memcpy(&ev, zmq_msg_data(&msg), sizeof(ev));
	more = zmq_msg_more(&msg);
	zmq_msg_close(&msg);
	while (more) {
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, w->mon, 0) == -1) {
			zmq_msg_close(&msg);
			break;
		}
		more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);
	}
	return ev;
}

/* Drains the monitor; -1 when the channel is gone. */
static int
worker_monitor(struct worker *w, bool *connected)
{
	unsigned int ev;

	while ((ev = worker_monitor_event(w)) != 0) {
		if (ev == ZMQ_EVENT_CONNECTED && connected != NULL)
			*connected = true;
		if (ev == ZMQ_EVENT_DISCONNECTED || ev == ZMQ_EVENT_CLOSED) {
			w->lost = true;
			return -1;
		}
	}
	return 0;
}

/* The connection must exist before the privilege drop: afterwards the
 * channel's folder (0700, the daemon's) is out of reach. */
static int
worker_wait_connected(struct worker *w, struct tp_err *err)
{
	zmq_pollitem_t it = { w->mon, 0, ZMQ_POLLIN, 0 };
	uint64_t end = clock_mono_ms() + WORKER_CONNECT_MS, now;
	bool connected = false;

	for (;;) {
		if (worker_monitor(w, &connected) == -1)
			return tp_err_set(err, TP_UNAVAILABLE, "cannot connect "
			    "to %s: refused or closed", w->opts.channel);
		if (connected)
			return 0;
		if ((now = clock_mono_ms()) >= end)
			break;
		if (zmq_poll(&it, 1, (long)(end - now)) == -1 && errno != EINTR)
			return tp_err_set(err, TP_INTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
	}
	return tp_err_set(err, TP_UNAVAILABLE, "cannot connect to %s within "
	    "%d ms", w->opts.channel, WORKER_CONNECT_MS);
}

/* Reads one message without waiting. */
static enum worker_rx
worker_recv(struct worker *w, struct wire_msg *m)
{
	struct tp_err err;
	zmq_msg_t msg;
	int rc, more;

	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, w->sock, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&msg);
		if (errno == EAGAIN || errno == EINTR)
			return WORKER_RX_NONE;
		w->lost = true;
		return WORKER_RX_FAIL;
	}
	if ((more = zmq_msg_more(&msg))) {
		/* one message is one frame: drop every part */
		while (more) {
			sodium_memzero(zmq_msg_data(&msg), zmq_msg_size(&msg));
			zmq_msg_close(&msg);
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, w->sock, 0) == -1)
				break;
			more = zmq_msg_more(&msg);
		}
		sodium_memzero(zmq_msg_data(&msg), zmq_msg_size(&msg));
		zmq_msg_close(&msg);
		fprintf(stderr, "worker: multi-part message ignored\n");
		return WORKER_RX_SKIP;
	}
	tp_err_clear(&err);
	rc = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), m, &err);
	/* a JOB's frame holds keys */
	sodium_memzero(zmq_msg_data(&msg), zmq_msg_size(&msg));
	zmq_msg_close(&msg);
	if (rc == -1) {
		fprintf(stderr, "worker: bad message ignored: %s\n", err.msg);
		return WORKER_RX_SKIP;
	}
	if (m->generation != w->opts.generation) {
		fprintf(stderr, "worker: %s of generation %" PRIu64 " ignored\n",
		    wire_type_name(m->type), m->generation);
		wire_msg_clear(m);
		return WORKER_RX_SKIP;
	}
	w->last_heard = clock_mono_ms();
	return WORKER_RX_MSG;
}

static int
worker_hello(struct worker *w, struct tp_err *err)
{
	char hex[WIRE_TOKEN_BYTES * 2 + 1];
	json_object *p, *tok;
	int rc;

	sodium_bin2hex(hex, sizeof(hex), worker_token, sizeof(worker_token));
	sodium_memzero(worker_token, sizeof(worker_token));
	p = job_json_obj();
	job_json_add(p, "pid", json_object_new_int64((int64_t)getpid()));
	tok = job_json_str(hex);
	sodium_memzero(hex, sizeof(hex));
	job_json_add(p, "token", tok);
	rc = worker_send(w, WIRE_HELLO, p, err);
	json_wipe_string(p);
	json_object_put(p);
	return rc;
}

void
worker_log(struct worker *w, const char *job_id, const char *level,
    const char *event, const char *message)
{
	struct tp_err err;
	json_object *p;

	p = job_json_obj();
	if (job_id != NULL)
		job_json_add(p, "job_id", job_json_str(job_id));
	else if (json_add(p, "job_id", NULL) == -1)	/* null */
		sandbox_oom();
	job_json_add(p, "level", job_json_str(level));
	job_json_add(p, "event", job_json_str(event));
	job_json_add(p, "message", job_json_str(message));
	if (worker_send(w, WIRE_LOG, p, &err) == -1)
		fprintf(stderr, "worker: %s\n", err.msg);
	json_object_put(p);
}

/* --- CONFIG --- */

static int
worker_conf_int(json_object *p, const char *key, uint64_t min, uint64_t max,
    uint64_t *out, struct tp_err *err)
{
	int64_t v;

	if (!json_get_int(p, key, &v) || v < 0 || (uint64_t)v < min ||
	    (uint64_t)v > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "CONFIG \"%s\" must "
		    "be an integer of %" PRIu64 "..%" PRIu64, key, min, max);
	*out = (uint64_t)v;
	return 0;
}

/* The port of a CURLOPT_RESOLVE entry "[+]host:port:address[,...]". */
static int
worker_resolve_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t digits = 0;

	if (*s == '+')
		s++;
	if (*s == ':' || (s = strchr(s, ':')) == NULL)
		return -1;
	for (s++; *s >= '0' && *s <= '9' && digits < 5; s++, digits++)
		v = v * 10 + (unsigned long)(*s - '0');
	if (digits == 0 || v == 0 || v > 65535 || *s != ':' || s[1] == '\0')
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static void
worker_add_port(struct worker_conf *c, uint16_t port)
{
	size_t i;

	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return;
	if (c->nports < sizeof(c->ports) / sizeof(c->ports[0]))
		c->ports[c->nports++] = port;
}

/* Does a resolve entry give host:port an address? */
static bool
worker_resolved(json_object *r, const char *host, uint16_t port)
{
	char prefix[ALPACA_URL_MAX + 16];
	const char *s;
	size_t i, n, plen;
	int len;

	if (r == NULL)
		return false;
	len = snprintf(prefix, sizeof(prefix), "%s:%u:", host,
	    (unsigned)port);
	if (len < 0 || (size_t)len >= sizeof(prefix))
		return false;
	plen = (size_t)len;
	n = json_object_array_length(r);
	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(r, i));
		if (*s == '+')
			s++;
		if (strncasecmp(s, prefix, plen) == 0)
			return true;
	}
	return false;
}

/* An address, not a name: libcurl then resolves nothing. */
static bool
worker_literal(const char *host)
{
	char v6[ALPACA_URL_MAX + 1];
	unsigned char addr[16];
	size_t len = strlen(host);

	if (inet_pton(AF_INET, host, addr) == 1)
		return true;
	if (len < 3 || host[0] != '[' || host[len - 1] != ']')
		return false;
	memcpy(v6, host + 1, len - 2);
	v6[len - 2] = '\0';
	return inet_pton(AF_INET6, v6, addr) == 1;
}

/*
 * trading_url or data_url: checked, copied, its port allowed. A host
 * name without an address in "resolve" cannot be reached (resolving it
 * would open /etc/hosts, which the sandbox forbids): every job then fails
 * with that reason rather than the worker dying on its first transfer.
 */
static int
worker_conf_url(struct worker *w, json_object *p, const char *key, char *out,
    struct tp_err *err)
{
	char host[ALPACA_URL_MAX + 1];
	struct tp_err e;
	json_object *v;
	uint16_t port;

	if (!json_object_object_get_ex(p, key, &v))
		return 0;
	tp_err_clear(&e);
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) !=
	    strlen(json_object_get_string(v)) ||
	    alpaca_url_check(json_object_get_string(v), host, &port, &e) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "CONFIG \"%s\" "
		    "must be an http:// or https:// URL%s%s", key,
		    e.msg[0] != '\0' ? ": " : "", e.msg);
	memcpy(out, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v) + 1);
	worker_add_port(&w->conf, port);
	if (!worker_literal(host) && !worker_resolved(w->conf.resolve, host,
	    port) && w->conf.url_error[0] == '\0')
		snprintf(w->conf.url_error, sizeof(w->conf.url_error),
		    "the %s host %s:%u has no address in the worker's CONFIG "
		    "\"resolve\" (workers resolve no names)", key, host,
		    (unsigned)port);
	return 0;
}

static int
worker_conf_resolve(struct worker *w, json_object *r, struct tp_err *err)
{
	json_object *e;
	const char *s;
	size_t i, n, len, k;
	uint16_t port;

	if (!json_object_is_type(r, json_type_array) ||
	    (n = json_object_array_length(r)) > WORKER_RESOLVE_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "CONFIG \"resolve\" "
		    "must be an array of at most %d strings",
		    WORKER_RESOLVE_MAX);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(r, i);
		if (!json_object_is_type(e, json_type_string))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "CONFIG \"resolve\" entry %zu is not a string", i);
		s = json_object_get_string(e);
		len = (size_t)json_object_get_string_len(e);
		for (k = 0; k < len; k++)
			if ((unsigned char)s[k] <= 0x20 ||
			    (unsigned char)s[k] >= 0x7f)
				break;
		if (len == 0 || len > WORKER_RESOLVE_LEN || k < len ||
		    worker_resolve_port(s, &port) == -1)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "CONFIG \"resolve\" entry %zu is not "
			    "host:port:address", i);
		worker_add_port(&w->conf, port);
	}
	w->conf.resolve = json_object_get(r);
	return 0;
}

static int
worker_conf(struct worker *w, json_object *p, struct tp_err *err)
{
	json_object *r;
	uint64_t rpm = ALPACA_RPM_DEFAULT;

	if (worker_conf_int(p, "max_jobs", 1, WORKER_MAX_JOBS_MAX,
	    &w->conf.max_jobs, err) == -1 ||
	    worker_conf_int(p, "heartbeat_ms", WORKER_HEARTBEAT_MIN,
	    WORKER_TIMEOUT_MAX, &w->conf.heartbeat_ms, err) == -1 ||
	    worker_conf_int(p, "job_timeout_ms", 1, WORKER_TIMEOUT_MAX,
	    &w->conf.job_timeout_ms, err) == -1)
		return -1;
	if (json_object_object_get_ex(p, "requests_per_minute", NULL) &&
	    worker_conf_int(p, "requests_per_minute", 1, ALPACA_RPM_MAX, &rpm,
	    err) == -1)
		return -1;
	w->conf.requests_per_minute = (uint32_t)rpm;
	if (json_object_object_get_ex(p, "resolve", &r) &&
	    worker_conf_resolve(w, r, err) == -1)
		return -1;
	if (worker_conf_url(w, p, "trading_url", w->conf.trading_url,
	    err) == -1 ||
	    worker_conf_url(w, p, "data_url", w->conf.data_url, err) == -1)
		return -1;
	/* until the supervisor sends them, jobs say what is missing */
	if (w->conf.url_error[0] == '\0' && (w->conf.trading_url[0] == '\0' ||
	    w->conf.data_url[0] == '\0'))
		snprintf(w->conf.url_error, sizeof(w->conf.url_error),
		    "the worker's CONFIG has no %s", w->conf.trading_url[0] ==
		    '\0' ? "trading_url" : "data_url");
	return 0;
}

/* Waits (bounded) for the CONFIG that answers a good HELLO. Returns the
 * exit status to end with, or -1 to go on. */
static int
worker_wait_config(struct worker *w)
{
	zmq_pollitem_t it[2] = {
		{ w->sock, 0, ZMQ_POLLIN, 0 },
		{ w->mon, 0, ZMQ_POLLIN, 0 },
	};
	uint64_t end = clock_mono_ms() + WORKER_CONFIG_MS, now;
	struct wire_msg m;
	struct tp_err err;
	enum worker_rx rx;
	int rc;

	for (;;) {
		if (worker_monitor(w, NULL) == -1) {
			fprintf(stderr, "worker: channel lost before CONFIG\n");
			return 1;
		}
		while ((rx = worker_recv(w, &m)) == WORKER_RX_SKIP)
			;
		if (rx == WORKER_RX_FAIL) {
			fprintf(stderr, "worker: channel failed: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
		if (rx == WORKER_RX_MSG) {
			if (m.type == WIRE_SHUTDOWN) {
				wire_msg_clear(&m);
				return 0;
			}
			if (m.type != WIRE_CONFIG) {
				fprintf(stderr, "worker: expected CONFIG, got "
				    "%s\n", wire_type_name(m.type));
				wire_msg_clear(&m);
				return 1;
			}
			tp_err_clear(&err);
			rc = worker_conf(w, m.payload, &err);
			wire_msg_clear(&m);
			/* heartbeat_ms fits an int: WORKER_TIMEOUT_MAX */
			if (rc == 0 && worker_chan_timeouts(w,
			    (int)w->conf.heartbeat_ms) == -1) {
				rc = -1;
				tp_err_set(&err, TP_INTERNAL, "zmq_setsockopt: "
				    "%s", zmq_strerror(errno));
			}
			if (rc == -1 || sandbox_restrict_tcp(w->conf.ports,
			    w->conf.nports, &err) == -1) {
				fprintf(stderr, "worker: %s\n", err.msg);
				return 1;
			}
			return -1;
		}
		if ((now = clock_mono_ms()) >= end)
			break;
		if (zmq_poll(it, 2, (long)(end - now)) == -1 && errno != EINTR) {
			fprintf(stderr, "worker: zmq_poll: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "worker: no CONFIG within %d ms of HELLO\n",
	    WORKER_CONFIG_MS);
	return 1;
}

/* The Alpaca client of every job, from CONFIG. */
static int
worker_alpaca(struct worker *w, struct tp_err *err)
{
	struct alpaca_conf ac;

	memset(&ac, 0, sizeof(ac));
	ac.trading_url = w->conf.trading_url[0] != '\0' ?
	    w->conf.trading_url : NULL;
	ac.data_url = w->conf.data_url[0] != '\0' ? w->conf.data_url : NULL;
	ac.resolve = w->conf.resolve;
	ac.ca = sandbox_ca(&ac.ca_len);
	if ((w->alpaca = alpaca_new(&ac, err)) == NULL)
		return -1;
	return 0;
}

/* --- jobs --- */

/* Sends j's RESULT (or a deadline error) and forgets the job. */
static void
worker_finish(struct worker *w, struct job *j, json_object *result)
{
	struct tp_err err;
	json_object *fallback;

	tp_err_clear(&err);
	if (j->log != NULL)
		job_json_add(result, "log", json_object_get(j->log));
	if (worker_send(w, WIRE_RESULT, result, &err) == -1 && !w->lost) {
		/* too large for the channel: answer with the reason */
		fprintf(stderr, "worker: job %s: %s\n", j->id, err.msg);
		fallback = job_result_error(j->id, TP_INTERNAL, err.msg);
		if (worker_send(w, WIRE_RESULT, fallback, &err) == -1)
			fprintf(stderr, "worker: job %s: %s\n", j->id, err.msg);
		json_object_put(fallback);
	}
	TAILQ_REMOVE(&w->jobs, j, entry);
	w->njobs--;
	job_free(j);
}

static void
worker_deadline(struct worker *w, struct job *j)
{
	json_object *r;
	char msg[128];

	snprintf(msg, sizeof(msg), "job exceeded its deadline of %" PRIu64
	    " ms in the worker", j->deadline_ms);
	r = job_result_error(j->id, TP_DEADLINE_EXCEEDED, msg);
	worker_finish(w, j, r);
	json_object_put(r);
}

/* Answers j if it is finished or out of time (then it is gone). */
static void
worker_settle(struct worker *w, struct job *j, uint64_t now)
{
	if (!j->done && now >= j->deadline)
		worker_deadline(w, j);
	else {
		/* still waiting for Alpaca when the RESULT is due */
		if (!j->done && now >= j->finish_by)
			job_expire(j);
		if (j->done)
			worker_finish(w, j, j->result);
	}
}

static void
worker_jobs_sweep(struct worker *w, uint64_t now)
{
	struct job *j, *next;

	for (j = TAILQ_FIRST(&w->jobs); j != NULL && !w->lost; j = next) {
		next = TAILQ_NEXT(j, entry);
		worker_settle(w, j, now);
	}
}

/* A job refused before it started: answered at once, never run. */
static void
worker_refuse(struct worker *w, const char *job_id, enum tp_code code,
    const char *message)
{
	struct tp_err err;
	json_object *r;

	fprintf(stderr, "worker: job %s refused: %s\n", job_id, message);
	r = job_result_error(job_id, code, message);
	if (worker_send(w, WIRE_RESULT, r, &err) == -1)
		fprintf(stderr, "worker: %s\n", err.msg);
	json_object_put(r);
}

static bool
worker_has_job(struct worker *w, const char *id)
{
	struct job *j;

	TAILQ_FOREACH(j, &w->jobs, entry)
		if (strcmp(j->id, id) == 0)
			return true;
	return false;
}

static void
worker_job(struct worker *w, json_object *payload)
{
	struct tp_err err;
	struct job *j;
	char msg[128];
	bool full;

	/* every JOB answered counts toward max_jobs, a bad one too */
	full = w->taken >= w->conf.max_jobs || w->njobs >= WORKER_INFLIGHT_MAX;
	if (!full)
		w->taken++;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		sandbox_oom();
	tp_err_clear(&err);
	if (job_parse(payload, w->conf.job_timeout_ms, worker_session_key, j,
	    &err) == -1) {
		if (j->id[0] != '\0')
			worker_refuse(w, j->id, TP_INVALID_ARGUMENT, err.msg);
		else {
			fprintf(stderr, "worker: bad job: %s\n", err.msg);
			worker_log(w, NULL, "error", "bad_job", err.msg);
		}
		job_free(j);
		return;
	}
	if (full) {
		snprintf(msg, sizeof(msg), "worker is full (max_jobs %" PRIu64
		    ", %d at once)", w->conf.max_jobs, WORKER_INFLIGHT_MAX);
		worker_refuse(w, j->id, TP_RESOURCE_EXHAUSTED, msg);
		job_free(j);
		return;
	}
	if (worker_has_job(w, j->id)) {
		worker_refuse(w, j->id, TP_INVALID_ARGUMENT,
		    "job is already running");
		job_free(j);
		return;
	}
	j->deadline = clock_mono_ms() + j->deadline_ms;
	TAILQ_INSERT_TAIL(&w->jobs, j, entry);
	w->njobs++;
	/* no JOB_BEGIN: every job starts as it arrives */
	job_start(w, j);
	/* answer at once: a later job of the batch may end the process */
	worker_settle(w, j, clock_mono_ms());
}

static void
worker_heartbeat(struct worker *w)
{
	struct tp_err err;
	json_object *p;

	p = job_json_obj();
	job_json_add(p, "jobs", json_object_new_int64((int64_t)w->njobs));
	if (worker_send(w, WIRE_HEARTBEAT, p, &err) == -1)
		fprintf(stderr, "worker: %s\n", err.msg);
	json_object_put(p);
}

/* Milliseconds until the next heartbeat, job deadline or libcurl's or
 * a request's timer. */
static long
worker_timeout(struct worker *w, uint64_t now)
{
	uint64_t next = w->next_heartbeat;
	struct job *j;
	int64_t t;

	TAILQ_FOREACH(j, &w->jobs, entry) {
		if (j->deadline < next)
			next = j->deadline;
		if (!j->done && j->finish_by < next)
			next = j->finish_by;
	}
	if ((t = alpaca_timeout(w->alpaca, now)) >= 0 &&
	    now + (uint64_t)t < next)
		next = now + (uint64_t)t;
	return next > now ? (long)(next - now) : 0;
}

/*
 * The poll set: the channel, its monitor, then every socket libcurl
 * waits on (raw descriptors, which zmq_poll takes next to ZeroMQ's).
 * Returns how many items there are.
 */
static size_t
worker_poll_set(struct worker *w)
{
	size_t n, i, cap;

	for (;;) {
		cap = w->nitems > 2 ? w->nitems - 2 : 0;
		n = alpaca_pollfds(w->alpaca, w->pfds, cap);
		if (n <= cap && w->items != NULL)
			break;
		cap = n + 16;
		if ((w->pfds = reallocarray(w->pfds, cap, sizeof(*w->pfds))) ==
		    NULL || (w->items = reallocarray(w->items, cap + 2,
		    sizeof(*w->items))) == NULL)
			sandbox_oom();
		w->nitems = cap + 2;
	}
	w->items[0] = (zmq_pollitem_t){ w->sock, 0, ZMQ_POLLIN, 0 };
	w->items[1] = (zmq_pollitem_t){ w->mon, 0, ZMQ_POLLIN, 0 };
	for (i = 0; i < n; i++) {
		w->items[i + 2] = (zmq_pollitem_t){ NULL, w->pfds[i].fd, 0, 0 };
		if (w->pfds[i].events & POLLIN)
			w->items[i + 2].events |= ZMQ_POLLIN;
		if (w->pfds[i].events & POLLOUT)
			w->items[i + 2].events |= ZMQ_POLLOUT;
	}
	return n + 2;
}

/* Hands what zmq_poll saw on libcurl's sockets to libcurl, then lets the
 * client run its timers and call back finished requests. */
static void
worker_transfers(struct worker *w, size_t nitems)
{
	short rev;
	size_t i;

	for (i = 2; i < nitems; i++) {
		if (w->items[i].revents == 0)
			continue;
		rev = 0;
		if (w->items[i].revents & ZMQ_POLLIN)
			rev |= POLLIN;
		if (w->items[i].revents & ZMQ_POLLOUT)
			rev |= POLLOUT;
		if (w->items[i].revents & ZMQ_POLLERR)
			rev |= POLLERR;
		alpaca_ready(w->alpaca, w->items[i].fd, rev);
	}
	alpaca_run(w->alpaca);
}

static void	worker_wipe_jobs(struct worker *);

/* Handles one message; returns an exit status, or -1 to go on. */
static int
worker_dispatch(struct worker *w, struct wire_msg *m)
{
	const char *reason;

	switch (m->type) {
	case WIRE_JOB:
		worker_job(w, m->payload);
		return -1;
	case WIRE_SHUTDOWN:
		reason = json_get_str(m->payload, "reason");
		fprintf(stderr, "worker: shutdown (%.*s)\n", 128,
		    reason != NULL ? reason : "no reason");
		/*
		 * Nothing is left to send (the supervisor says SHUTDOWN once
		 * it has every RESULT, or when it wants none): end here, keys
		 * wiped, without tearing down ZeroMQ's and the runtime's
		 * threads inside the sandbox, where a sanitizer runtime's
		 * teardown has made a forbidden call under load.
		 */
		worker_wipe_jobs(w);
		worker_wipe_secrets();
		_exit(0);
	default:
		fprintf(stderr, "worker: unexpected %s ignored\n",
		    wire_type_name(m->type));
		return -1;
	}
}

/*
 * The job loop: one zmq_poll over the channel and every socket of the
 * jobs' transfers, with a timeout of the next heartbeat, deadline or
 * transfer timer, so heartbeats go out while transfers are in flight and
 * all jobs of the batch run at once.
 */
static int
worker_run(struct worker *w)
{
	uint64_t interval, now, silence;
	struct wire_msg m;
	enum worker_rx rx;
	size_t nitems;
	int i, rc;

	interval = w->conf.heartbeat_ms / 3;
	/* a live supervisor sends the jobs, then SHUTDOWN once it has every
	 * RESULT: an idle worker it leaves silent this long is orphaned or
	 * its supervisor wedged; the parent-death signal covers the common
	 * case, this what it cannot see */
	silence = w->conf.heartbeat_ms * WORKER_SILENCE_FACTOR;
	if (silence < WORKER_SILENCE_MIN_MS)
		silence = WORKER_SILENCE_MIN_MS;
	w->next_heartbeat = clock_mono_ms();
	for (;;) {
		now = clock_mono_ms();
		if (now >= w->next_heartbeat) {
			worker_heartbeat(w);
			w->next_heartbeat = now + interval;
		}
		worker_jobs_sweep(w, now);
		if (w->lost)
			break;
		if (w->njobs == 0 && now - w->last_heard >= silence) {
			fprintf(stderr, "worker: no word from the supervisor "
			    "for %" PRIu64 " ms while idle: exiting\n",
			    now - w->last_heard);
			return 1;
		}
		if (w->taken >= w->conf.max_jobs && w->njobs == 0) {
			fprintf(stderr, "worker: max_jobs reached (%" PRIu64 " jobs)\n",
			    w->taken);
			return 0;
		}
		nitems = worker_poll_set(w);
		if (zmq_poll(w->items, (int)nitems, worker_timeout(w, now)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "worker: zmq_poll: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
		worker_transfers(w, nitems);
		if (worker_monitor(w, NULL) == -1)
			break;
		for (i = 0; i < WORKER_MSGS_PER_TURN; i++) {
			if ((rx = worker_recv(w, &m)) == WORKER_RX_NONE ||
			    rx == WORKER_RX_FAIL)
				break;
			if (rx == WORKER_RX_SKIP)
				continue;
			rc = worker_dispatch(w, &m);
			wire_msg_clear(&m);
			if (rc != -1)
				return rc;
			if (w->lost)
				break;
		}
	}
	fprintf(stderr, "worker: channel lost: the supervisor is gone\n");
	return 1;
}

/* Frees every job, wiping its keys. */
static void
worker_wipe_jobs(struct worker *w)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&w->jobs)) != NULL) {
		TAILQ_REMOVE(&w->jobs, j, entry);
		job_free(j);
	}
	w->njobs = 0;
}

static void
worker_close(struct worker *w)
{
	worker_wipe_jobs(w);
	/* after the jobs, whose requests it holds */
	alpaca_free(w->alpaca);
	w->alpaca = NULL;
	free(w->items);
	free(w->pfds);
	w->items = NULL;
	w->pfds = NULL;
	json_object_put(w->conf.resolve);
	w->conf.resolve = NULL;
	if (w->sock != NULL)
		zmq_socket_monitor(w->sock, NULL, 0);
	if (w->mon != NULL)
		zmq_close(w->mon);
	if (w->sock != NULL)
		zmq_close(w->sock);
	if (w->zctx != NULL)
		zmq_ctx_term(w->zctx);
}

int
main(int argc, char **argv)
{
	struct sandbox_params sp;
	struct worker w;
	pid_t parent;
	struct tp_err err;
	bool done;
	int rc;

	/*
	 * One malloc arena: glibc's per-thread arenas, when they shrink,
	 * read /proc/sys/vm/overcommit_memory, which the sandbox forbids.
	 */
	mallopt(M_ARENA_MAX, 1);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Dies with the supervisor, whatever it is blocked in: set now for
	 * the start-up (the connection wait), and again after the privilege
	 * drop, which clears it (sandbox_prctl), where getppid() catches a
	 * death in between. One gone before this line left no listener: the
	 * bounded connection wait ends the worker.
	 */
	parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		perror(WORKER_NAME ": PR_SET_PDEATHSIG");
		return 1;
	}
	memset(&w, 0, sizeof(w));
	TAILQ_INIT(&w.jobs);
	if ((rc = worker_args(argc, argv, &w.opts, &done)) != 0 || done)
		return rc;
	tp_err_clear(&err);
	if (worker_read_token(&err) == -1) {
		fprintf(stderr, "%s: %s\n", WORKER_NAME, err.msg);
		return 1;
	}
#ifdef TP_FAULT_INJECTION
	faults_init(getenv("TP_FAULTS"));
#endif
	if (worker_chan_open(&w, &err) == -1 ||
	    worker_wait_connected(&w, &err) == -1)
		goto fail;
	memset(&sp, 0, sizeof(sp));
	sp.user = w.opts.user;
	sp.memory_limit = w.opts.memory_limit;
	sp.cpu_limit = w.opts.cpu_limit;
	sp.core_dumps = w.opts.core_dumps;
	sp.parent = parent;
#ifdef TP_FAULT_INJECTION
	/* tests reach a local TLS server signed by their own CA */
	sp.ca_file = getenv("TP_TEST_CA_FILE");
#endif
	if (sandbox_enter(&sp, &err) == -1) {
		fprintf(stderr, "worker: sandbox: %s\n", err.msg);
		worker_wipe_secrets();
		worker_close(&w);
		return 1;
	}
	if (worker_hello(&w, &err) == -1)
		goto fail;
	if ((rc = worker_wait_config(&w)) == -1) {
		if (worker_alpaca(&w, &err) == -1) {
			fprintf(stderr, "worker: %s\n", err.msg);
			rc = 1;
		} else
			rc = worker_run(&w);
	}
	worker_close(&w);
	worker_wipe_secrets();
	return rc;
fail:
	fprintf(stderr, "worker: %s\n", err.msg);
	worker_wipe_secrets();
	worker_close(&w);
	return 1;
}
