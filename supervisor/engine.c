/* engine.c: the batch engine's life: its timers, the stop and its drain, the abort at exit, freeing, status. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdlib.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "supervisor/daemon.h"
#include "supervisor/engine_int.h"

static void
engine_drain_timer(evutil_socket_t fd, short what, void *arg)
{
	struct jobs *j = arg;

	(void)fd;
	(void)what;
	log_info("stop: the jobs still running are interrupted");
	dispatch_kill_all(j, "daemon stopping");
}

static void
engine_dispatch_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dispatch_run(arg);
}

/* The job table's hook: a job was queued. */
static void
engine_queued(void *arg)
{
	dispatch_kick(arg);
}

int
engine_start(struct jobs *j, struct tp_err *err)
{
	struct event_base *base = j->d->base;

	if ((j->ev_dispatch = event_new(base, -1, 0, engine_dispatch_event,
	    j)) == NULL ||
	    (j->ev_retry = evtimer_new(base, engine_dispatch_event,
	    j)) == NULL ||
	    (j->ev_drain = evtimer_new(base, engine_drain_timer, j)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "cannot create the job "
		    "engine's timers");
	j->queued = engine_queued;
	j->queued_arg = j;
	return 0;
}

void
engine_stop(struct jobs *j, void (*idle)(void *), void *arg)
{
	struct job *job;
	struct batch *b;
	struct timeval tv;
	uint64_t ms;
	size_t n = 0;

	if (j->stopping)
		return;
	jobs_set_stopping(j, idle, arg);
	if (j->d->pool != NULL)
		pool_stop(j->d->pool);
	if (j->ev_retry != NULL)
		event_del(j->ev_retry);
	while ((job = TAILQ_FIRST(&j->queue)) != NULL)
		jobs_interrupt(j, job);
	/* batches whose jobs were not sent yet have nothing to finish */
	TAILQ_FOREACH(b, &j->batches, entry) {
		if (b->w == NULL)
			continue;
		if (!b->ready || b->keys_pending) {
			b->drain_killed = true;
			dispatch_kill(b, "daemon stopping", false);
		} else
			n++;
	}
	if (n > 0) {
		ms = j->d->cfg.job_timeout < DAEMON_DRAIN_MS ?
		    j->d->cfg.job_timeout : DAEMON_DRAIN_MS;
		log_info("waiting up to %llu ms for %zu jobs in %zu workers",
		    (unsigned long long)ms, j->nrunning + j->ncommitting, n);
		tv = clock_tv(ms);
		evtimer_add(j->ev_drain, &tv);
	}
}

void
engine_abort(struct jobs *j)
{
	struct batch *b, *next;
	struct job *job;
	size_t i;

	if (j == NULL)
		return;
	j->stopping = true;
	if (j->ev_retry != NULL)
		event_del(j->ev_retry);
	if (j->ev_drain != NULL)
		event_del(j->ev_drain);
	if (j->ev_dispatch != NULL)
		event_del(j->ev_dispatch);
	while ((job = TAILQ_FIRST(&j->queue)) != NULL)
		jobs_interrupt(j, job);
	for (b = TAILQ_FIRST(&j->batches); b != NULL; b = next) {
		next = TAILQ_NEXT(b, entry);
		for (i = 0; i < b->n; i++) {
			if ((job = b->job[i]) == NULL)
				continue;
			b->job[i] = NULL;
			if (job->sent)
				jobs_tlog(j, job->uid, TLOG_WARN, job->id,
				    "sync", "job %s interrupted: %s stopping",
				    job->id, DAEMON_NAME);
			jobs_interrupt(j, job);
		}
		b->unanswered = 0;
		if (b->w != NULL) {
			worker_set_ctx(b->w, NULL);
			b->w = NULL;
		}
		if (!b->keys_pending)
			dispatch_batch_free(b);
	}
}

void
engine_free(struct jobs *j)
{
	struct batch *b;

	if (j == NULL)
		return;
	results_free_pending(j);
	while ((b = TAILQ_FIRST(&j->batches)) != NULL) {
		b->keys_pending = false;
		b->w = NULL;
		dispatch_batch_free(b);
	}
	crash_summaries_free(j);
	j->queued = NULL;
	if (j->ev_dispatch != NULL)
		event_free(j->ev_dispatch);
	if (j->ev_retry != NULL)
		event_free(j->ev_retry);
	if (j->ev_drain != NULL)
		event_free(j->ev_drain);
	j->ev_dispatch = j->ev_retry = j->ev_drain = NULL;
}

void
engine_status(struct jobs *j, json_object *r)
{
	json_add(r, "recent_crashes", crash_recent_json(j));
}
