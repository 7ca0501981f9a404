/* spawn.c: worker processes: posix_spawn, the token (and session key) and stderr pipes, killing and reaping, their /proc figures. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/sealbox.h"
#include "supervisor/daemon.h"
#include "supervisor/pool_int.h"

#define SPAWN_ARGS_MAX	16
#define SPAWN_ENV_MAX	8
#define SPAWN_READS	16	/* stderr reads per wake-up */
#define SECCOMP_PREFIX	"seccomp: forbidden syscall "

/*
 * Everything the child needs is prepared before it exists. It is started
 * with posix_spawn, which shares the daemon's memory until execve instead
 * of copying it: a fork of a daemon with a large heap made every page it
 * then wrote take a copy-on-write fault, which cost a pulse a third of
 * the supervisor's CPU.
 */
struct spawn_plan {
	char		 path[PATH_MAX];
	char		*argv[SPAWN_ARGS_MAX];
	char		*envp[SPAWN_ENV_MAX];
	char		 gen[24], mem[24], cpu[24];
	char		*user;
	char		*asan;		/* malloc'd when built */
	char		*ubsan;		/* malloc'd when built */
	char		*faults;	/* malloc'd when built */
	int		 closefrom;	/* first fd the child closes */
};

static void	spawn_stderr_cb(evutil_socket_t, short, void *);
static void	spawn_kill_cb(evutil_socket_t, short, void *);

const char *
spawn_signame(int signo, char *buf, size_t size)
{
	const char *abbrev = sigabbrev_np(signo);

	if (abbrev != NULL)
		snprintf(buf, size, "SIG%s", abbrev);
	else
		snprintf(buf, size, "SIG%d", signo);
	return buf;
}

static void
spawn_plan_free(struct spawn_plan *sp)
{
	free(sp->asan);
	free(sp->ubsan);
	free(sp->faults);
	free(sp->user);
}

/*
 * The worker's environment: a minimal PATH and LANG; the fault plan of a
 * test build; in a sanitizer build the sanitizers' options: a failed
 * allocation returns NULL (RLIMIT_AS cannot bound an ASan process, so the
 * worker bounds its heap itself, and its out-of-memory path must run),
 * signals are left to the kernel so a crash reports its real signal, and
 * no leak check or symbolizer (both need syscalls the sandbox denies).
 */
static int
spawn_plan_env(struct spawn_plan *sp, struct tp_err *err)
{
	size_t n = 0;
	const char *v;

	sp->envp[n++] = "PATH=/usr/bin:/bin";
	sp->envp[n++] = "LANG=C";
#ifdef TP_FAULT_INJECTION
	if ((v = getenv("TP_FAULTS")) != NULL) {
		if (asprintf(&sp->faults, "TP_FAULTS=%s", v) == -1) {
			sp->faults = NULL;
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		}
		sp->envp[n++] = sp->faults;
	}
#endif
#ifdef __SANITIZE_ADDRESS__
	v = getenv("ASAN_OPTIONS");
	if (asprintf(&sp->asan, "ASAN_OPTIONS=%s%sallocator_may_return_null=1:"
	    "detect_leaks=0:symbolize=0:handle_segv=0:handle_sigbus=0:"
	    "handle_sigfpe=0:handle_sigill=0:handle_abort=0",
	    v != NULL ? v : "", v != NULL && *v != '\0' ? ":" : "") == -1) {
		sp->asan = NULL;
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	sp->envp[n++] = sp->asan;
	/* UBSAN_OPTIONS is passed as the daemon has it */
	if ((v = getenv("UBSAN_OPTIONS")) != NULL) {
		if (asprintf(&sp->ubsan, "UBSAN_OPTIONS=%s", v) == -1) {
			sp->ubsan = NULL;
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		}
		sp->envp[n++] = sp->ubsan;
	}
#else
	(void)v;
#endif
	sp->envp[n] = NULL;
	return 0;
}

static int
spawn_plan_make(struct pool *p, struct worker *w, struct spawn_plan *sp,
    struct tp_err *err)
{
	const struct config *cfg = &p->d->cfg;
	size_t n = 0;

	memset(sp, 0, sizeof(*sp));
	if (strlen(cfg->worker_program) >= sizeof(sp->path))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "[workers] program: path too long");
	memcpy(sp->path, cfg->worker_program, strlen(cfg->worker_program) + 1);
	if ((sp->user = strdup(cfg->worker_user)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	snprintf(sp->gen, sizeof(sp->gen), "%" PRIu64, w->generation);
	snprintf(sp->mem, sizeof(sp->mem), "%" PRIu64, cfg->memory_limit);
	/* RLIMIT_CPU counts whole seconds: round up */
	snprintf(sp->cpu, sizeof(sp->cpu), "%" PRIu64,
	    (cfg->cpu_limit + 999) / 1000);

	sp->argv[n++] = sp->path;
	sp->argv[n++] = "--channel";
	sp->argv[n++] = p->endpoint;
	sp->argv[n++] = "--generation";
	sp->argv[n++] = sp->gen;
	sp->argv[n++] = "--user";
	sp->argv[n++] = sp->user;
	sp->argv[n++] = "--memory-limit";
	sp->argv[n++] = sp->mem;
	sp->argv[n++] = "--cpu-limit";
	sp->argv[n++] = sp->cpu;
	if (cfg->core_dumps)
		sp->argv[n++] = "--core-dumps";
	sp->argv[n] = NULL;

	sp->closefrom = WIRE_TOKEN_FD + 1;
	return spawn_plan_env(sp, err);
}

/*
 * The child's file actions: /dev/null on stdin, the stderr pipe on stdout
 * and stderr, the token pipe on WIRE_TOKEN_FD, nothing else. The three
 * descriptors are first parked above all of them, so no dup2 can clobber
 * one still to be copied.
 */
static int
spawn_actions(posix_spawn_file_actions_t *fa, const struct spawn_plan *sp,
    int nullfd, int errw, int tokr)
{
	int park = WIRE_TOKEN_FD;

	if (nullfd > park)
		park = nullfd;
	if (errw > park)
		park = errw;
	if (tokr > park)
		park = tokr;
	park++;
	if ((errno = posix_spawn_file_actions_adddup2(fa, nullfd, park)) ||
	    (errno = posix_spawn_file_actions_adddup2(fa, errw, park + 1)) ||
	    (errno = posix_spawn_file_actions_adddup2(fa, tokr, park + 2)) ||
	    (errno = posix_spawn_file_actions_adddup2(fa, park,
	    STDIN_FILENO)) ||
	    (errno = posix_spawn_file_actions_adddup2(fa, park + 1,
	    STDOUT_FILENO)) ||
	    (errno = posix_spawn_file_actions_adddup2(fa, park + 1,
	    STDERR_FILENO)) ||
	    (errno = posix_spawn_file_actions_adddup2(fa, park + 2,
	    WIRE_TOKEN_FD)) ||
	    /* nothing of the daemon (store, master key, ZeroMQ, the API
	     * socket) may reach the worker */
	    (errno = posix_spawn_file_actions_addclosefrom_np(fa,
	    sp->closefrom)))
		return -1;
	return 0;
}

/* Starts the worker program; returns its pid, or -1 with errno. */
static pid_t
spawn_start(const struct spawn_plan *sp, int nullfd, int errw, int tokr)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	pid_t pid = -1;
	int e;

	if ((errno = posix_spawn_file_actions_init(&fa)) != 0)
		return -1;
	if ((errno = posix_spawnattr_init(&attr)) != 0) {
		e = errno;
		posix_spawn_file_actions_destroy(&fa);
		errno = e;
		return -1;
	}
	/* every signal at its default and none blocked: the daemon ignores
	 * SIGPIPE and blocks signals in its threads, neither of which the
	 * worker must inherit */
	sigfillset(&all);
	sigemptyset(&none);
	if ((e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK)) == 0 &&
	    (e = posix_spawnattr_setsigdefault(&attr, &all)) == 0 &&
	    (e = posix_spawnattr_setsigmask(&attr, &none)) == 0) {
		if (spawn_actions(&fa, sp, nullfd, errw, tokr) == -1)
			e = errno;
		else
			e = posix_spawn(&pid, sp->path, &fa, &attr, sp->argv,
			    sp->envp);
	}
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return pid;
}

static int
spawn_events(struct pool *p, struct worker *w, struct tp_err *err)
{
	if ((w->ev_stderr = event_new(p->d->base, w->errfd,
	    EV_READ | EV_PERSIST, spawn_stderr_cb, w)) == NULL ||
	    event_add(w->ev_stderr, NULL) == -1 ||
	    (w->ev_kill = evtimer_new(p->d->base, spawn_kill_cb, w)) == NULL)
		return tp_err_set(err, TP_INTERNAL,
		    "cannot watch the worker's stderr");
	return 0;
}

/* sodium_free wipes it first */
static void
spawn_session_key_free(struct worker *w)
{
	if (w->session_key != NULL)
		sodium_free(w->session_key);
	w->session_key = NULL;
}

int
spawn_worker(struct pool *p, struct worker *w, struct tp_err *err)
{
	struct spawn_plan sp;
	int errp[2] = { -1, -1 }, tokp[2] = { -1, -1 }, rc = -1;
	struct iovec iov[2];
	ssize_t n;
	pid_t pid;

	if (spawn_plan_make(p, w, &sp, err) == -1)
		goto out;
	if (pipe2(errp, O_CLOEXEC) == -1 || pipe2(tokp, O_CLOEXEC) == -1) {
		tp_err_errno(err, TP_INTERNAL, "pipe");
		goto out;
	}
	if (fcntl(errp[0], F_SETFL, O_NONBLOCK) == -1) {
		tp_err_errno(err, TP_INTERNAL, "fcntl");
		goto out;
	}
	/*
	 * The token and the session key go into the pipe now and its write
	 * end is closed before the spawn: the child reads 32 + 32 bytes, then
	 * end of file, and no process but the two of us ever holds the pipe.
	 * The key never passes through ZeroMQ, so only its sealed JOB keys
	 * do (sealbox.h).
	 */
	if ((w->session_key = sodium_malloc(SEALBOX_KEY_BYTES)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of guarded memory");
		goto out;
	}
	randombytes_buf(w->token, sizeof(w->token));
	randombytes_buf(w->session_key, SEALBOX_KEY_BYTES);
	iov[0].iov_base = w->token;
	iov[0].iov_len = sizeof(w->token);
	iov[1].iov_base = w->session_key;
	iov[1].iov_len = SEALBOX_KEY_BYTES;
	do
		n = writev(tokp[1], iov, 2);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)(sizeof(w->token) + SEALBOX_KEY_BYTES)) {
		tp_err_errno(err, TP_INTERNAL, "token pipe");
		goto out;
	}
	close(tokp[1]);
	tokp[1] = -1;

	clock_gettime(CLOCK_MONOTONIC, &w->t_spawn);
	if ((pid = spawn_start(&sp, p->devnull, errp[1], tokp[0])) == -1) {
		tp_err_set(err, TP_INTERNAL, "tradepulsed: cannot execute %s: "
		    "%s", sp.path, strerror(errno));
		goto out;
	}
	w->pid = pid;
	w->errfd = errp[0];
	errp[0] = -1;
	rc = 0;
	if (spawn_events(p, w, err) == -1) {
		/* it cannot be watched: stop it before it says anything */
		worker_kill(w, "cannot watch the worker");
		rc = 0;
	}
out:
	if (rc == -1) {
		sodium_memzero(w->token, sizeof(w->token));
		spawn_session_key_free(w);
	}
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	if (tokp[0] != -1)
		close(tokp[0]);
	if (tokp[1] != -1)
		close(tokp[1]);
	spawn_plan_free(&sp);
	return rc;
}

/* stderr */

static void
spawn_tail_add(struct worker *w, const char *buf, size_t len)
{
	size_t k;

	if (len >= sizeof(w->tail)) {
		buf += len - sizeof(w->tail);
		len = sizeof(w->tail);
	}
	while (len > 0) {
		k = sizeof(w->tail) - w->tail_pos;
		if (k > len)
			k = len;
		memcpy(w->tail + w->tail_pos, buf, k);
		w->tail_pos = (w->tail_pos + k) % sizeof(w->tail);
		w->tail_len += k;
		if (w->tail_len > sizeof(w->tail))
			w->tail_len = sizeof(w->tail);
		buf += k;
		len -= k;
	}
}

/* Printable ASCII, tabs and newlines; anything else becomes '?', so the
 * tail is safe in a log line and in a JSON document. */
static char
spawn_clean_byte(unsigned char c)
{
	if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
		return (char)c;
	return '?';
}

void
spawn_stderr_tail(const struct worker *w, char *buf, size_t size)
{
	size_t start, i, n = 0, skip = 0;

	if (size == 0)
		return;
	start = (w->tail_pos + sizeof(w->tail) - w->tail_len) % sizeof(w->tail);
	/* where the ring wrapped, drop the partial first line */
	if (w->tail_len == sizeof(w->tail)) {
		for (i = 0; i < w->tail_len; i++)
			if (w->tail[(start + i) % sizeof(w->tail)] == '\n') {
				skip = i + 1;
				break;
			}
		if (skip == w->tail_len)
			skip = 0;
	}
	for (i = skip; i < w->tail_len && n + 1 < size; i++)
		buf[n++] = spawn_clean_byte(
		    (unsigned char)w->tail[(start + i) % sizeof(w->tail)]);
	buf[n] = '\0';
}

/* `seccomp: forbidden syscall NAME (NR)`, written by the worker's SIGSYS
 * handler: remember the first NAME. */
static void
spawn_seccomp_line(struct worker *w, const char *line)
{
	const char *s;
	size_t n = 0;

	if (w->syscall[0] != '\0' ||
	    strncmp(line, SECCOMP_PREFIX, strlen(SECCOMP_PREFIX)) != 0)
		return;
	s = line + strlen(SECCOMP_PREFIX);
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
	    s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z'))
		if (++n >= sizeof(w->syscall))
			return;
	if (n == 0 || strncmp(s + n, " (", 2) != 0)
		return;
	memcpy(w->syscall, s, n);
	w->syscall[n] = '\0';
}

static void
spawn_line(struct worker *w)
{
	if (w->line_len == 0)
		return;
	w->line[w->line_len] = '\0';
	log_debug("worker %ld: %s", (long)w->pid, w->line);
	spawn_seccomp_line(w, w->line);
	memcpy(w->last_line, w->line, w->line_len + 1);
	w->line_len = 0;
}

static void
spawn_lines_add(struct worker *w, const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			spawn_line(w);
			continue;
		}
		if (w->line_len + 1 >= sizeof(w->line))
			spawn_line(w);	/* an overlong line is cut in pieces */
		w->line[w->line_len++] = spawn_clean_byte((unsigned char)buf[i]);
	}
}

static void
spawn_stderr_close(struct worker *w)
{
	if (w->ev_stderr != NULL) {
		event_free(w->ev_stderr);
		w->ev_stderr = NULL;
	}
	if (w->errfd != -1) {
		close(w->errfd);
		w->errfd = -1;
	}
	spawn_line(w);		/* a last line without its newline */
}

/*
 * Reads what the worker wrote. While it runs, a bounded amount per
 * wake-up (a chatty worker must not starve the loop); when drain is set
 * (it has been reaped), everything that is left.
 */
void
spawn_read_stderr(struct worker *w, bool drain)
{
	char buf[4096];
	ssize_t n;
	int i;

	for (i = 0; w->errfd != -1 && (drain || i < SPAWN_READS); i++) {
		n = read(w->errfd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (n == -1)
				log_warn("worker %ld: stderr", (long)w->pid);
			spawn_stderr_close(w);
			return;
		}
		spawn_tail_add(w, buf, (size_t)n);
		spawn_lines_add(w, buf, (size_t)n);
	}
}

static void
spawn_stderr_cb(evutil_socket_t fd, short what, void *arg)
{
	spawn_read_stderr(arg, false);
}

/* Killing */

static void
spawn_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (w->reaped)
		return;
	log_info("worker %ld (generation %" PRIu64 ") still alive %d ms after "
	    "SIGTERM: SIGKILL", (long)w->pid, w->generation,
	    DAEMON_KILL_GRACE_MS);
	if (kill(w->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)w->pid);
}

void
worker_kill(struct worker *w, const char *reason)
{
	struct timeval tv = clock_tv(DAEMON_KILL_GRACE_MS);

	if (w->killing || w->reaped)
		return;
	w->killing = true;
	w->state = WORKER_KILLING;
	if (reason != NULL)
		snprintf(w->reason, sizeof(w->reason), "%s", reason);
	if (w->ev_heartbeat != NULL)
		evtimer_del(w->ev_heartbeat);
	log_info("killing worker %ld (generation %" PRIu64 "): %s",
	    (long)w->pid, w->generation, reason != NULL ? reason : "no reason");
	/* the pid is ours until we reap it, so it cannot name a stranger */
	if (kill(w->pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)w->pid);
	if (w->ev_kill != NULL)
		evtimer_add(w->ev_kill, &tv);
	else if (kill(w->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)w->pid);
}

/* Reaping */

static void
spawn_reaped(struct pool *p, struct worker *w, int wstatus)
{
	struct timeval tv;
	bool grace;

	w->reaped = true;
	w->wstatus = wstatus;
	w->uptime_ms = (uint64_t)clock_since_ms(&w->t_spawn);
	w->state = WORKER_EXITED;
	if (w->ev_heartbeat != NULL)
		evtimer_del(w->ev_heartbeat);
	if (w->ev_kill != NULL)
		evtimer_del(w->ev_kill);
	sodium_memzero(w->token, sizeof(w->token));
	spawn_session_key_free(w);
	/* all it wrote is in the pipe now */
	spawn_read_stderr(w, true);
	spawn_stderr_close(w);
	/*
	 * Its last channel messages (a RESULT just before exiting after
	 * max_jobs) may still be on their way through ZeroMQ's I/O thread:
	 * read what has arrived, and give the rest a moment unless nothing
	 * more is expected from it.
	 */
	p->reaped(p, w);
	grace = w->hello_ok && !w->shutdown_sent && !w->killing;
	tv = clock_tv(grace ? POOL_REAP_GRACE_MS : 0);
	evtimer_add(w->ev_finish, &tv);
}

void
spawn_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct pool *p = arg;
	struct worker *w;
	pid_t r;
	int st;

	/* only our own children: other parts of the daemon may wait for
	 * theirs */
	TAILQ_FOREACH(w, &p->workers, entry) {
		if (w->reaped)
			continue;
		do
			r = waitpid(w->pid, &st, WNOHANG);
		while (r == -1 && errno == EINTR);
		if (r == w->pid)
			spawn_reaped(p, w, st);
		else if (r == -1) {
			/* cannot happen unless someone else reaped it */
			log_warn("waitpid %ld", (long)w->pid);
			spawn_reaped(p, w, W_EXITCODE(255, 0));
		}
	}
}

/* pool_free: nothing is reported any more; the workers just go. */
void
spawn_reap_all(struct pool *p)
{
	struct worker *w;
	int st;

	TAILQ_FOREACH(w, &p->workers, entry)
		if (!w->reaped && kill(w->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)w->pid);
	TAILQ_FOREACH(w, &p->workers, entry) {
		if (w->reaped)
			continue;
		while (waitpid(w->pid, &st, 0) == -1 && errno == EINTR)
			;
		w->reaped = true;
	}
}

void
spawn_worker_release(struct worker *w)
{
	if (w->ev_stderr != NULL)
		event_free(w->ev_stderr);
	if (w->ev_heartbeat != NULL)
		event_free(w->ev_heartbeat);
	if (w->ev_kill != NULL)
		event_free(w->ev_kill);
	if (w->ev_finish != NULL)
		event_free(w->ev_finish);
	w->ev_stderr = w->ev_heartbeat = w->ev_kill = w->ev_finish = NULL;
	if (w->errfd != -1)
		close(w->errfd);
	w->errfd = -1;
	sodium_memzero(w->token, sizeof(w->token));
	spawn_session_key_free(w);
}

/* A "Vm...:" figure (kB) of /proc/PID/status, or -1. */
int64_t
spawn_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, flen) == 0) {
			if (sscanf(line + flen, "%lld", &kb) != 1)
				kb = -1;
			break;
		}
	fclose(fp);
	return (int64_t)kb;
}
