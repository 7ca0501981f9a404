/* main.c: tradepulse-worker's start-up: the command line, the sandbox, then the channel, CONFIG and the job loop in order. */
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

#include "common/jsonutil.h"
#include "worker/main_int.h"
#include "worker/sandbox.h"

#define WORKER_MEM_MAX		(1ULL << 50)	/* bytes */
#define WORKER_CPU_MAX		(1ULL << 31)	/* seconds */

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

static void
worker_close(struct worker *w)
{
	loop_wipe_jobs(w);
	/* after the jobs, whose requests it holds */
	alpaca_free(w->alpaca);
	w->alpaca = NULL;
	free(w->items);
	free(w->pfds);
	w->items = NULL;
	w->pfds = NULL;
	json_object_put(w->conf.resolve);
	w->conf.resolve = NULL;
	chan_close(w);
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
	if (token_read(&err) == -1) {
		fprintf(stderr, "%s: %s\n", WORKER_NAME, err.msg);
		return 1;
	}
#ifdef TP_FAULT_INJECTION
	faults_init(getenv("TP_FAULTS"));
#endif
	if (chan_open(&w, &err) == -1 ||
	    chan_wait_connected(&w, &err) == -1)
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
		token_wipe();
		worker_close(&w);
		return 1;
	}
	if (chan_hello(&w, &err) == -1)
		goto fail;
	if ((rc = conf_wait(&w)) == -1) {
		if (conf_alpaca(&w, &err) == -1) {
			fprintf(stderr, "worker: %s\n", err.msg);
			rc = 1;
		} else
			rc = loop_run(&w);
	}
	worker_close(&w);
	token_wipe();
	return rc;
fail:
	fprintf(stderr, "worker: %s\n", err.msg);
	token_wipe();
	worker_close(&w);
	return 1;
}
