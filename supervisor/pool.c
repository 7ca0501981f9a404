/* pool.c: the worker pool: its table, spawning, heartbeats, throttling, exits (the channel in pool_channel.c, status in pool_status.c). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/pool_int.h"

static void	pool_finish_cb(evutil_socket_t, short, void *);
static void	pool_throttle_cb(evutil_socket_t, short, void *);
static void	pool_reaped(struct pool *, struct worker *);

struct pool *
pool_new(struct daemon *d, void *zctx, const struct pool_events *ev,
    void *arg, struct tp_err *err)
{
	struct tp_err rerr;
	struct pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	p->d = d;
	p->ev = *ev;
	p->arg = arg;
	p->reaped = pool_reaped;
	p->devnull = -1;
	p->next_generation = 1;
	TAILQ_INIT(&p->workers);
	throttle_init(&p->thr);
	if ((p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		tp_err_errno(err, TP_INTERNAL, "/dev/null");
		goto fail;
	}
	if (pool_channel_open(p, zctx, err) == -1)
		goto fail;
	if ((p->ev_sigchld = evsignal_new(d->base, SIGCHLD, spawn_sigchld,
	    p)) == NULL || evsignal_add(p->ev_sigchld, NULL) == -1 ||
	    (p->ev_throttle = evtimer_new(d->base, pool_throttle_cb,
	    p)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "cannot set up the worker pool's "
		    "events");
		goto fail;
	}
	/* without it workers get no addresses; the pool still works */
	if ((p->resolver = resolver_new(d->base, &d->cfg, &rerr)) == NULL)
		log_warnx("worker pool: host name resolution unavailable: %s",
		    rerr.msg);
	log_debug("worker channel on %s", p->endpoint);
	return p;
fail:
	pool_free(p);
	return NULL;
}

static void
pool_worker_free(struct worker *w)
{
	spawn_worker_release(w);
	free(w);
}

void
pool_free(struct pool *p)
{
	struct worker *w;

	if (p == NULL)
		return;
	p->in_free = true;
	p->stopping = true;
	spawn_reap_all(p);
	while ((w = TAILQ_FIRST(&p->workers)) != NULL) {
		TAILQ_REMOVE(&p->workers, w, entry);
		pool_worker_free(w);
	}
	if (p->ev_sigchld != NULL)
		event_free(p->ev_sigchld);
	if (p->ev_throttle != NULL)
		event_free(p->ev_throttle);
	if (p->ev_chan != NULL)
		event_free(p->ev_chan);
	resolver_free(p->resolver);
	router_close(&p->rt);
	if (p->devnull != -1)
		close(p->devnull);
	free(p->endpoint);
	free(p);
}

void
pool_stop(struct pool *p)
{
	p->stopping = true;
	evtimer_del(p->ev_throttle);
}

size_t
pool_size(const struct pool *p)
{
	return p->nworkers;
}

uint64_t
pool_retry_ms(const struct pool *p)
{
	return throttle_retry_ms(&p->thr, &p->d->cfg, clock_mono_ms(), NULL, 0);
}

static void
pool_throttle_timer(struct pool *p, uint64_t ms)
{
	struct timeval tv = clock_tv(ms);

	evtimer_add(p->ev_throttle, &tv);
}

/* The ops topic's "throttled": for how long, and why. */
static void
pool_throttle_event(struct pool *p, uint64_t ms, const char *reason)
{
	json_object *o;

	if (p->d->events == NULL || (o = json_object_new_object()) == NULL)
		return;
	json_add(o, "retry_ms", json_object_new_int64((int64_t)ms));
	json_add(o, "reason", json_object_new_string(reason));
	events_ops(p->d->events, "throttled", o);
}

/*
 * Calls ev->spawnable now or when the throttle allows. A throttle worth an
 * operator's attention (start-up failures, the crash rate, a long
 * backoff) is logged once, and so is its end.
 */
void
pool_throttle_arm(struct pool *p)
{
	char reason[THROTTLE_REASON_MAX];
	uint64_t ms;

	if (p->stopping || p->in_free)
		return;
	if ((ms = throttle_retry_ms(&p->thr, &p->d->cfg, clock_mono_ms(), reason,
	    sizeof(reason))) > 0) {
		if (!p->throttle_noted && (ms >= 1000 ||
		    strncmp(reason, "restart backoff", 15) != 0)) {
			log_warnx("worker spawning throttled for %" PRIu64
			    " ms: %s", ms, reason);
			p->throttle_noted = true;
			pool_throttle_event(p, ms, reason);
		}
		pool_throttle_timer(p, ms);
		return;
	}
	if (p->throttle_noted) {
		log_info("worker spawning resumes");
		p->throttle_noted = false;
		events_ops(p->d->events, "unthrottled", NULL);
	}
	if (p->nworkers < p->d->cfg.max_workers && p->ev.spawnable != NULL)
		p->ev.spawnable(p->arg);
}

static void
pool_throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_throttle_arm(arg);
}

int
pool_spawn(struct pool *p, void *ctx, struct worker **out, struct tp_err *err)
{
	const struct config *cfg = &p->d->cfg;
	char reason[THROTTLE_REASON_MAX], what[TP_ERR_MSG_MAX + 32];
	struct worker *w;
	uint64_t ms;

	*out = NULL;
	if (p->stopping || p->d->stopping)
		return tp_err_set(err, TP_UNAVAILABLE, "%s is stopping: no new "
		    "workers", DAEMON_NAME);
	if (p->nworkers >= cfg->max_workers)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "%zu workers "
		    "running (max_workers %u)", p->nworkers,
		    (unsigned)cfg->max_workers);
	if ((ms = throttle_retry_ms(&p->thr, cfg, clock_mono_ms(), reason,
	    sizeof(reason))) > 0) {
		/* only the timer: ev->spawnable must not run inside this call */
		pool_throttle_timer(p, ms);
		return tp_err_set(err, TP_UNAVAILABLE, "spawning throttled "
		    "for %" PRIu64 " ms: %s", ms, reason);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	w->pool = p;
	w->ctx = ctx;
	w->errfd = -1;
	w->state = WORKER_STARTING;
	w->generation = p->next_generation++;
	wire_routing_id(w->generation, w->rid);
	if ((w->ev_heartbeat = evtimer_new(p->d->base, pool_heartbeat_cb,
	    w)) == NULL ||
	    (w->ev_finish = evtimer_new(p->d->base, pool_finish_cb,
	    w)) == NULL) {
		pool_worker_free(w);
		return tp_err_set(err, TP_INTERNAL, "cannot create the "
		    "worker's timers");
	}
	if (spawn_worker(p, w, err) == -1) {
		pool_worker_free(w);
		/* a spawn failing over and over must not spin: back off */
		snprintf(what, sizeof(what), "cannot spawn: %s", err->msg);
		throttle_crash(&p->thr, cfg, clock_mono_ms(), true, what);
		log_warnx("worker pool: %s", what);
		if ((ms = pool_retry_ms(p)) > 0)
			pool_throttle_timer(p, ms);
		return -1;
	}
	TAILQ_INSERT_TAIL(&p->workers, w, entry);
	p->nworkers++;
	p->spawns++;
	if (p->unreplaced > 0) {
		p->unreplaced--;
		p->restarts++;
	}
	pool_heartbeat_arm(w);
	log_debug("spawned worker %ld (generation %" PRIu64 ")", (long)w->pid,
	    w->generation);
	*out = w;
	return 0;
}

/* spawn.c reaped a worker: its last messages first. */
static void
pool_reaped(struct pool *p, struct worker *w)
{
	(void)w;
	pool_channel_drain(p);
}

/* Exits */

/* What a crash was, in a few words, for the log and the throttle's reason:
 * for a start-up failure its last stderr line says it best. */
static void
pool_exit_what(const struct worker *w, const struct worker_exit *ex,
    char *buf, size_t size)
{
	size_t n;

	if (ex->startup && ex->reason != NULL) {
		n = strlen(ex->reason);
		snprintf(buf, size, "%s", ex->reason);
		if (w->last_line[0] != '\0' && n + 1 < size)
			snprintf(buf + n, size - n, "; its last words: %.180s",
			    w->last_line);
		return;
	}
	if (ex->startup && w->last_line[0] != '\0') {
		snprintf(buf, size, "%.*s", (int)(size - 1), w->last_line);
		return;
	}
	if (ex->signame != NULL)
		snprintf(buf, size, "worker %ld killed by %s%s%s%s%s",
		    (long)ex->pid, ex->signame, ex->core ? " (core dumped)" : "",
		    ex->syscall != NULL ? " (syscall " : "",
		    ex->syscall != NULL ? ex->syscall : "",
		    ex->syscall != NULL ? ")" : "");
	else
		snprintf(buf, size, "worker %ld exited with status %d%s",
		    (long)ex->pid, ex->exit_code,
		    ex->startup ? " before saying hello" : "");
	if (ex->reason != NULL) {
		n = strlen(buf);
		snprintf(buf + n, size - n, " (%s)", ex->reason);
	}
}

void
pool_worker_finish(struct worker *w)
{
	struct pool *p = w->pool;
	const struct config *cfg = &p->d->cfg;
	char signame[32], what[THROTTLE_REASON_MAX];
	char tail[WORKER_STDERR_TAIL + 1];
	struct worker_exit ex;

	/* the last messages it sent before dying count */
	pool_channel_drain(p);

	memset(&ex, 0, sizeof(ex));
	ex.pid = w->pid;
	ex.generation = w->generation;
	ex.exit_code = -1;
	if (WIFEXITED(w->wstatus))
		ex.exit_code = WEXITSTATUS(w->wstatus);
	else if (WIFSIGNALED(w->wstatus)) {
		ex.signo = WTERMSIG(w->wstatus);
		ex.signame = spawn_signame(ex.signo, signame, sizeof(signame));
		ex.core = WCOREDUMP(w->wstatus) != 0;
	}
	ex.startup = !w->hello_ok;
	ex.clean = ex.exit_code == 0 && w->hello_ok && !w->killing &&
	    (w->shutdown_sent || w->jobs_sent >= cfg->max_jobs);
	ex.uptime_ms = w->uptime_ms;
	ex.reason = w->reason[0] != '\0' ? w->reason : NULL;
	ex.syscall = w->syscall[0] != '\0' ? w->syscall : NULL;
	spawn_stderr_tail(w, tail, sizeof(tail));
	ex.stderr_tail = tail;

	pool_exit_what(w, &ex, what, sizeof(what));
	if (ex.clean)
		log_debug("worker %ld (generation %" PRIu64 ") exited after "
		    "%" PRIu64 " ms, %" PRIu64 " jobs", (long)w->pid,
		    w->generation, ex.uptime_ms, w->jobs_done);
	else
		log_warnx("worker %ld (generation %" PRIu64 ") %s after %"
		    PRIu64 " ms: %s", (long)w->pid, w->generation,
		    ex.startup ? "failed to start" : "crashed", ex.uptime_ms,
		    what);

	/* killed while the daemon drains: no crash of the pool's making */
	if (!(p->stopping && w->killing)) {
		if (ex.clean)
			throttle_clean(&p->thr);
		else {
			throttle_crash(&p->thr, cfg, clock_mono_ms(), ex.startup,
			    what);
			p->crashes++;
			p->unreplaced++;
			if (ex.startup)
				p->startup_failures++;
		}
	}

	TAILQ_REMOVE(&p->workers, w, entry);
	p->nworkers--;
	if (p->ev.exited != NULL)
		p->ev.exited(p->arg, w, &ex);
	sodium_memzero(tail, sizeof(tail));
	pool_worker_free(w);
	pool_throttle_arm(p);
}

static void
pool_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_worker_finish(arg);
}

/* Accessors */

void *
worker_ctx(const struct worker *w)
{
	return w->ctx;
}

void
worker_set_ctx(struct worker *w, void *ctx)
{
	w->ctx = ctx;
}

pid_t
worker_pid(const struct worker *w)
{
	return w->pid;
}

uint64_t
worker_generation(const struct worker *w)
{
	return w->generation;
}

uint64_t
worker_uptime_ms(const struct worker *w)
{
	return w->reaped ? w->uptime_ms : (uint64_t)clock_since_ms(&w->t_spawn);
}
