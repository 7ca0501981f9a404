/* main.c: tradepulsed: arguments, configuration, daemonizing, signals, the event loop. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <curl/curl.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/idtoken.h"
#include "common/log.h"
#include "common/secrets.h"
#include "common/store.h"
#include "common/tenantlog.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/engine.h"
#include "supervisor/events.h"
#include "supervisor/http.h"
#include "supervisor/jobs.h"
#include "supervisor/keyring.h"
#include "supervisor/keys.h"
#include "supervisor/metrics.h"
#include "supervisor/pause.h"
#include "supervisor/pool.h"
#include "supervisor/privdrop.h"
#include "supervisor/pulse.h"

/* The longest a stop waits: the jobs' drain, the workers' kill grace,
 * and a moment for their reports. */
#define DAEMON_STOP_MS	(DAEMON_DRAIN_MS + DAEMON_KILL_GRACE_MS + 1000)
#define DAEMON_ZMQ_IO_THREADS 2	/* one each for the job API and the worker channel */

uint64_t
daemon_uptime_ms(const struct daemon *d)
{
	double ms = clock_since_ms(&d->started_mono);

	return ms > 0 ? (uint64_t)ms : 0;
}

/* Nothing in progress: no request, no job, no worker. */
static bool
daemon_can_exit(struct daemon *d)
{
	struct api_stats s;

	api_get_stats(d->api, &s);
	return s.in_flight == 0 && jobs_idle(d->jobs);
}

static void
daemon_idle(void *arg)
{
	struct daemon *d = arg;

	if (d->stopping && daemon_can_exit(d))
		event_base_loopbreak(d->base);
}

/*
 * Detaches in two forks (so the daemon is no session leader and can never
 * get a controlling terminal again). The first process waits on a pipe
 * until the daemon reports that it started ("0") or why it did not ("1"
 * and the reason), so an operator sees start-up errors and the exit status
 * tells the truth. Returns 1 in that first process (with *status), 0 in
 * the daemon (with *readyfd), -1 when it could not fork at all.
 */
static int
daemon_detach(int *readyfd, int *status, struct tp_err *err)
{
	char buf[TP_ERR_MSG_MAX + 2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int p[2], fd, ws;

	fflush(stdout);
	fflush(stderr);
	if (pipe2(p, O_CLOEXEC) == -1)
		return tp_err_errno(err, TP_INTERNAL, "pipe");
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return tp_err_errno(err, TP_INTERNAL, "fork");
	}
	if (pid > 0) {
		close(p[1]);
		while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
			;
		while (len < sizeof(buf) - 1) {
			n = read(p[0], buf + len, sizeof(buf) - 1 - len);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		close(p[0]);
		buf[len] = '\0';
		if (len > 0 && buf[0] == '0') {
			*status = 0;
			return 1;
		}
		fprintf(stderr, "%s: %s\n", DAEMON_NAME, len > 1 ? buf + 1 :
		    "the daemon exited during start-up; see the system log");
		*status = 1;
		return 1;
	}
	close(p[0]);
	if (setsid() == -1 || (pid = fork()) == -1) {
		dprintf(p[1], "1cannot detach: %s", strerror(errno));
		_exit(1);
	}
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1) {
		dprintf(p[1], "1chdir /: %s", strerror(errno));
		_exit(1);
	}
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	*readyfd = p[1];
	return 0;
}

/* Tells the waiting first process how start-up went. */
static void
daemon_ready(int fd, const char *failure)
{
	if (fd == -1)
		return;
	if (failure == NULL)
		(void)!write(fd, "0", 1);
	else
		dprintf(fd, "1%s", failure);
	close(fd);
}

static int
daemon_mkdir_parent(const char *path, mode_t mode, struct tp_err *err)
{
	char dir[PATH_MAX];
	const char *slash;

	if ((slash = strrchr(path, '/')) == NULL || slash == path)
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "path too long: "
		    "%.64s", path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return files_mkdir(dir, mode, err);
}

static void
daemon_stop(struct daemon *d, const char *why)
{
	struct api_stats s;
	struct timeval tv;

	if (d->stopping) {
		log_info("%s again: exiting without waiting", why);
		event_base_loopbreak(d->base);
		return;
	}
	log_info("%s: stopping", why);
	d->stopping = true;
	api_stop(d->api, daemon_idle, d);
	http_stop(d->http);
	keys_gate_stop(d);
	pulse_stop(d->pulser);
	engine_stop(d->jobs, daemon_idle, d);
	if (daemon_can_exit(d)) {
		event_base_loopbreak(d->base);
		return;
	}
	api_get_stats(d->api, &s);
	log_info("waiting up to %d ms for %zu requests and the jobs in "
	    "progress", DAEMON_STOP_MS, s.in_flight);
	tv = clock_tv(DAEMON_STOP_MS);
	evtimer_add(d->ev_drain, &tv);
}

static void
daemon_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct api_stats s;

	api_get_stats(d->api, &s);
	log_warnx("%zu requests still in progress after %d ms; they are "
	    "answered unavailable%s", s.in_flight, DAEMON_STOP_MS,
	    jobs_idle(d->jobs) ? "" : ", and the jobs still running fail");
	event_base_loopbreak(d->base);
}

static bool
daemon_str_changed(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

/* A setting read only at start-up: keep the running value, say so. */
#define RELOAD_KEEP_STR(nc, oc, field, name) do {			\
	char *tmp_;							\
	if (daemon_str_changed((nc)->field, (oc)->field)) {		\
		log_warnx("reload: %s changed; restart %s to apply it",	\
		    name, DAEMON_NAME);					\
		tmp_ = (nc)->field;					\
		(nc)->field = (oc)->field;				\
		(oc)->field = tmp_;					\
	}								\
} while (0)
#define RELOAD_KEEP_NUM(nc, oc, field, name) do {			\
	if ((nc)->field != (oc)->field) {				\
		log_warnx("reload: %s changed; restart %s to apply it",	\
		    name, DAEMON_NAME);					\
		(nc)->field = (oc)->field;				\
	}								\
} while (0)

/* SIGHUP: a bad file is refused whole; the live settings are applied. */
static void
daemon_reload(struct daemon *d)
{
	struct config nc, *oc = &d->cfg;
	struct tenantlog *tl;
	struct tp_err err;

	if (config_load(oc->file, &nc, &err) == -1) {
		log_warnx("reload refused: %s; the running configuration is "
		    "kept", err.msg);
		return;
	}
	RELOAD_KEEP_STR(&nc, oc, state_dir, "[daemon] state_dir");
	RELOAD_KEEP_STR(&nc, oc, log_dir, "[daemon] log_dir");
	RELOAD_KEEP_STR(&nc, oc, daemon_log, "[daemon] log");
	RELOAD_KEEP_STR(&nc, oc, pidfile, "[daemon] pidfile");
	RELOAD_KEEP_STR(&nc, oc, api, "[daemon] api");
	RELOAD_KEEP_STR(&nc, oc, events, "[daemon] events");
	RELOAD_KEEP_STR(&nc, oc, http, "[daemon] http");
	/* the API's queues and the process's core policy are set at start */
	RELOAD_KEEP_NUM(&nc, oc, max_clients, "[daemon] max_clients");
	RELOAD_KEEP_NUM(&nc, oc, api_memory, "[daemon] api_memory");
	RELOAD_KEEP_NUM(&nc, oc, daemon_core_dumps, "[daemon] core_dumps");
	RELOAD_KEEP_STR(&nc, oc, daemon_user, "[daemon] user");
	RELOAD_KEEP_STR(&nc, oc, store_backend, "[store] backend");
	RELOAD_KEEP_STR(&nc, oc, store_path, "[store] path");
	RELOAD_KEEP_NUM(&nc, oc, store_sync_full, "[store] synchronous");
	RELOAD_KEEP_NUM(&nc, oc, store_threads, "[store] threads");
	RELOAD_KEEP_STR(&nc, oc, project_id, "[store] project_id");
	RELOAD_KEEP_STR(&nc, oc, emulator_host, "[store] emulator_host");
	RELOAD_KEEP_STR(&nc, oc, credentials, "[store] credentials");
	RELOAD_KEEP_STR(&nc, oc, token_url, "[store] token_url");
	RELOAD_KEEP_STR(&nc, oc, master_key, "[secrets] master_key");
	/* the allowlist is read at start: its file's edits need a restart too */
	RELOAD_KEEP_STR(&nc, oc, curve_server_key, "[auth] curve_server_key");
	RELOAD_KEEP_STR(&nc, oc, curve_clients, "[auth] curve_clients");
	/* the certificates' source is opened at start; the file is re-read
	 * (and a URL refetched) now, and whenever the file changes */
	RELOAD_KEEP_STR(&nc, oc, certs, "[auth] certs");
	/* the page's CSP is built at start from the web config */
	RELOAD_KEEP_STR(&nc, oc, web_api_key, "[auth] web_api_key");
	RELOAD_KEEP_STR(&nc, oc, web_auth_domain, "[auth] web_auth_domain");
	RELOAD_KEEP_STR(&nc, oc, web_auth_emulator, "[auth] web_auth_emulator");
	if (d->certs != NULL && idtoken_certs_reload(d->certs, &err) == -1)
		log_warnx("reload: [auth] certs: %s; keeping the certificates "
		    "held", err.msg);

	if (nc.tenant_log_size != oc->tenant_log_size ||
	    nc.tenant_log_keep != oc->tenant_log_keep) {
		/* tenant logs are written on this thread only: swap now */
		if ((tl = tenantlog_open(nc.log_dir, nc.tenant_log_size,
		    nc.tenant_log_keep, &err)) == NULL) {
			log_warnx("reload: tenant logs: %s; keeping the old "
			    "size and count", err.msg);
			nc.tenant_log_size = oc->tenant_log_size;
			nc.tenant_log_keep = oc->tenant_log_keep;
		} else {
			tenantlog_free(d->tlog);
			d->tlog = tl;
			log_info("reload: tenant logs rotate past %llu bytes, "
			    "keeping %u", (unsigned long long)nc.tenant_log_size,
			    (unsigned)nc.tenant_log_keep);
		}
	}
	if (nc.api_queue != oc->api_queue)
		log_info("reload: api_queue %u -> %u", (unsigned)oc->api_queue,
		    (unsigned)nc.api_queue);
	if (nc.api_max_request != oc->api_max_request)
		log_info("reload: api_max_request %llu -> %llu bytes",
		    (unsigned long long)oc->api_max_request,
		    (unsigned long long)nc.api_max_request);
	config_free(oc);
	*oc = nc;
	log_info("configuration reloaded from %s", oc->file);
	pulse_reload(d->pulser);
}

static void
daemon_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGTERM:
		daemon_stop(d, "SIGTERM");
		break;
	case SIGINT:
		daemon_stop(d, "SIGINT");
		break;
	case SIGHUP:
		if (!d->stopping)
			daemon_reload(d);
		break;
	case SIGUSR1:
		daemonlog_reopen(d);
		break;
	}
}

static int
daemon_signals(struct daemon *d, struct tp_err *err)
{
	if ((d->ev_sigterm = evsignal_new(d->base, SIGTERM, daemon_signal,
	    d)) == NULL || evsignal_add(d->ev_sigterm, NULL) == -1 ||
	    (d->ev_sigint = evsignal_new(d->base, SIGINT, daemon_signal,
	    d)) == NULL || evsignal_add(d->ev_sigint, NULL) == -1 ||
	    (d->ev_sighup = evsignal_new(d->base, SIGHUP, daemon_signal,
	    d)) == NULL || evsignal_add(d->ev_sighup, NULL) == -1 ||
	    (d->ev_sigusr1 = evsignal_new(d->base, SIGUSR1, daemon_signal,
	    d)) == NULL || evsignal_add(d->ev_sigusr1, NULL) == -1 ||
	    (d->ev_drain = evtimer_new(d->base, daemon_drain_timeout,
	    d)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "cannot set up signals");
	return 0;
}

/*
 * The soft descriptor limit goes up to the hard one: the API's cap on
 * connections ([daemon] max_clients) is kept below it with a reserve for
 * the store, the logs and the workers, since libzmq aborts the process
 * when its listener meets EMFILE.
 */
static int
daemon_raise_nofile(struct daemon *d, struct tp_err *err)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return tp_err_errno(err, TP_INTERNAL, "getrlimit NOFILE");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "setrlimit NOFILE %llu",
			    (unsigned long long)rl.rlim_max);
	}
	d->nofile = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SIZE_MAX ?
	    SIZE_MAX : (size_t)rl.rlim_cur;
	return 0;
}

/*
 * Unless [daemon] core_dumps = yes: no core file and not dumpable (no
 * ptrace by the same user, /proc/PID/mem closed to it), before the master
 * key and any tenant secret are in memory: a crash must not write them to
 * disk.
 */
static int
daemon_harden(const struct daemon *d, struct tp_err *err)
{
	struct rlimit rl;

	if (d->cfg.daemon_core_dumps) {
		log_info("[daemon] core_dumps = yes: a core of tradepulsed "
		    "holds the master key and tenant secrets");
		return 0;
	}
	/* the soft limit only: a worker with [workers] core_dumps = yes
	 * may still raise its own */
	if (getrlimit(RLIMIT_CORE, &rl) == -1)
		return tp_err_errno(err, TP_INTERNAL, "getrlimit RLIMIT_CORE");
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return tp_err_errno(err, TP_INTERNAL, "setrlimit RLIMIT_CORE");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return tp_err_errno(err, TP_INTERNAL, "prctl PR_SET_DUMPABLE");
	return 0;
}

/* [auth] certs: a file is read now (a bad one stops the start); a URL is
 * fetched on the certificates' own thread, never on the loop. */
static int
daemon_certs(struct daemon *d, struct tp_err *err)
{
	const char *src = d->cfg.certs;

	if (*src == '\0') {
		if (*d->cfg.firebase_project_id != '\0' &&
		    !d->cfg.accept_emulator_tokens)
			log_warnx("[auth] certs is empty: every request with an "
			    "ID token is refused");
		return 0;
	}
	if (strncmp(src, "https://", 8) == 0 &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tp_err_set(err, TP_INTERNAL, "cannot initialize libcurl");
	if (idtoken_certs_open(src, NULL, &d->certs, err) == -1)
		return -1;
	log_info("ID tokens: certificates from %s, project %s%s", src,
	    *d->cfg.firebase_project_id != '\0' ?
	    d->cfg.firebase_project_id : "(none: every token is refused)",
	    d->cfg.accept_emulator_tokens ? ", emulator tokens accepted" : "");
	return 0;
}

/* Everything after the configuration, in dependency order. */
static int
daemon_start(struct daemon *d, struct tp_err *err)
{
	struct store_params sp;
	struct privdrop_user pu;

	signal(SIGPIPE, SIG_IGN);
	if (daemon_harden(d, err) == -1 ||
	    daemon_raise_nofile(d, err) == -1)
		return -1;
	d->pid = getpid();
	store_timestamp(d->started_at, sizeof(d->started_at));
	clock_gettime(CLOCK_MONOTONIC, &d->started_mono);

	if (privdrop_lookup(&d->cfg, &pu, true, err) == -1 ||
	    privdrop_own_dirs(&d->cfg, &pu, d->foreground, err) == -1)
		return -1;
	if (files_mkdir(d->cfg.state_dir, 0700, err) == -1 ||
	    files_mkdir(d->cfg.log_dir, 0750, err) == -1)
		return -1;
	if (!d->foreground &&
	    (daemon_mkdir_parent(d->cfg.pidfile, 0750, err) == -1 ||
	    (d->pidfile = pidfile_acquire(d->cfg.pidfile, err)) == NULL))
		return -1;
	/* root is needed no further (docs/security.md) */
	if (privdrop_drop(&pu, d->cfg.daemon_core_dumps, err) == -1)
		return -1;
	privdrop_check_reload(&d->cfg);
	if (secrets_init(err) == -1 ||
	    (d->keys = keyring_load(d->cfg.master_key, err)) == NULL)
		return -1;

	/* store threads complete work through this base */
	if (evthread_use_pthreads() == -1 ||
	    (d->base = event_base_new()) == NULL)
		return tp_err_set(err, TP_INTERNAL,
		    "cannot create the event loop");
	if ((d->metrics = metrics_new(err)) == NULL)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.backend = strcmp(d->cfg.store_backend, "firestore") == 0 ?
	    STORE_FIRESTORE : STORE_SQLITE;
	sp.path = d->cfg.store_path;
	sp.sync_full = d->cfg.store_sync_full;
	sp.threads = (int)d->cfg.store_threads;
	sp.project_id = d->cfg.project_id;
	sp.emulator_host = d->cfg.emulator_host;
	sp.credentials = d->cfg.credentials;
	sp.token_url = *d->cfg.token_url != '\0' ? d->cfg.token_url : NULL;
	if ((d->store = store_open(&sp, d->base, err)) == NULL)
		return -1;
	if ((d->tlog = tenantlog_open(d->cfg.log_dir, d->cfg.tenant_log_size,
	    d->cfg.tenant_log_keep, err)) == NULL)
		return -1;
	if ((d->gate = keys_gate_new(err)) == NULL)
		return -1;
	if ((d->zctx = zmq_ctx_new()) == NULL ||
	    zmq_ctx_set(d->zctx, ZMQ_IO_THREADS, DAEMON_ZMQ_IO_THREADS) ==
	    -1)
		return tp_err_set(err, TP_INTERNAL, "zmq: %s",
		    zmq_strerror(errno));
	if (pause_load(d, err) == -1 ||
	    events_open(d->zctx, d->cfg.events, &d->events, err) == -1)
		return -1;
	/* the pool needs the store (its events commit through it) and goes
	 * before it at exit */
	if ((d->jobs = jobs_new(d, err)) == NULL)
		return -1;
	jobs_set_gate(d->jobs, pause_gate, d);
	if (engine_start(d->jobs, err) == -1 ||
	    (d->pool = pool_new(d, d->zctx, &engine_pool_events, d->jobs,
	    err)) == NULL)
		return -1;
	if ((d->pulser = pulse_new(d, err)) == NULL)
		return -1;
	if (daemon_certs(d, err) == -1)
		return -1;
	if ((d->api = api_open(d, d->zctx, err)) == NULL)
		return -1;
	if (http_open(d, &d->http, err) == -1)
		return -1;
	if (daemon_signals(d, err) == -1)
		return -1;
	return privdrop_seccomp(err);
}

/*
 * Jobs still unfinished fail as interrupted and the workers are killed
 * (the pool before the store). Requests still unanswered get
 * `unavailable` while the socket is open; the store then waits for the
 * work running on its threads and delivers no more callbacks, so the
 * requests, the job layer's work (and the key ring references both hold)
 * can be freed after it; the job table last, since waiting requests
 * point into it. The ZeroMQ context ends once the pool's and the API's
 * sockets are closed.
 */
static void
daemon_teardown(struct daemon *d)
{
	keys_gate_cancel(d);
	engine_abort(d->jobs);
	if (d->pool != NULL)
		pool_free(d->pool);
	d->pool = NULL;
	if (d->api != NULL)
		api_abort(d->api);
	if (d->store != NULL)
		store_free(d->store);
	http_free(d->http);	/* after the store: its probe may run till then */
	d->http = NULL;
	api_free(d->api);
	d->api = NULL;
	events_close(d->events);
	d->events = NULL;
	/* after every socket of it is closed: the pool's and the API's
	 * (whose connection monitor stopped first); a socket still open
	 * would make this wait forever */
	if (d->zctx != NULL && zmq_ctx_term(d->zctx) == -1)
		log_warnx("zmq_ctx_term: %s", zmq_strerror(errno));
	d->zctx = NULL;
	engine_free(d->jobs);
	jobs_free(d->jobs);
	pulse_free(d->pulser);
	pause_free(d);
	idtoken_certs_free(d->certs);
	d->certs = NULL;
	keys_gate_free(d->gate);
	keyring_unref(d->keys);
	if (d->tlog != NULL)
		tenantlog_free(d->tlog);
	if (d->ev_sigterm != NULL)
		event_free(d->ev_sigterm);
	if (d->ev_sigint != NULL)
		event_free(d->ev_sigint);
	if (d->ev_sighup != NULL)
		event_free(d->ev_sighup);
	if (d->ev_sigusr1 != NULL)
		event_free(d->ev_sigusr1);
	if (d->ev_drain != NULL)
		event_free(d->ev_drain);
	if (d->base != NULL)
		event_base_free(d->base);
	pidfile_release(d->pidfile);
	metrics_free(d->metrics);
	d->metrics = NULL;
	config_free(&d->cfg);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	struct tp_err err;
	char path[PATH_MAX];
	const char *file = NULL;
	int ch, check = 0, verbose = 0, status = 1, readyfd = -1;

	privdrop_close_fds();
	memset(&d, 0, sizeof(d));
	log_init(1, DAEMON_NAME);
	while ((ch = getopt_long(argc, argv, "df:hnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			d.foreground = true;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			daemon_help();
			return 0;
		case 'V':
			printf("%s %s\n", DAEMON_NAME, PACKAGE_VERSION);
			return 0;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			daemon_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		daemon_usage(stderr);
		return 2;
	}
	if (file == NULL)
		file = config_default_path();
	/* The daemon works from "/": a reload needs the absolute name. */
	if (!check && realpath(file, path) != NULL)
		file = path;
	if (config_load(file, &d.cfg, &err) == -1) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	/* The same checks for -n and the start, before detaching, so that
	 * -n passing means the start will not refuse the configuration. */
	if (daemon_preflight(&d.cfg, d.foreground, &err) == -1 ||
	    daemonlog_check(&d.cfg, d.foreground, &err) == -1) {
		fprintf(stderr, "%s\n", err.msg);
		config_free(&d.cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		config_free(&d.cfg);
		return 0;
	}
	log_setverbose(verbose);
	umask(027);
	if (!d.foreground) {
		switch (daemon_detach(&readyfd, &status, &err)) {
		case -1:
			fprintf(stderr, "%s: %s\n", DAEMON_NAME, err.msg);
			config_free(&d.cfg);
			return 1;
		case 1:
			config_free(&d.cfg);
			return status;
		}
	}
	if (daemonlog_open(&d.cfg, d.foreground, &err) == -1) {
		log_warnx("cannot start: %s", err.msg);
		daemon_ready(readyfd, err.msg);
		config_free(&d.cfg);
		return 1;
	}
	if (daemon_start(&d, &err) == -1) {
		log_warnx("cannot start: %s", err.msg);
		daemon_ready(readyfd, err.msg);
		daemon_teardown(&d);
		libevent_global_shutdown();
		return 1;
	}
	daemon_ready(readyfd, NULL);
	log_info("started: pid %ld, api %s, %s store, master key version %u, "
	    "up to %u workers of %u tenants", (long)d.pid, d.cfg.api,
	    store_backend_name(d.store), keyring_version(d.keys),
	    (unsigned)d.cfg.max_workers, (unsigned)d.cfg.batch_size);
	event_base_dispatch(d.base);
	daemon_teardown(&d);
	log_info("stopped");
	libevent_global_shutdown();
	return 0;
}
