/* jobs.c: the job table: ids, states, retention of finished jobs, waiters, stop. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/htab.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/store.h"
#include "common/tenantlog.h"
#include "supervisor/daemon.h"
#include "supervisor/metrics.h"
#include "supervisor/jobs.h"
#include "supervisor/policy.h"
#include "supervisor/tenant_store.h"

static void	jobs_prune(struct jobs *);
static void	jobs_check_idle(struct jobs *);

/* The table */

static void
jobs_prune_timer(evutil_socket_t fd, short what, void *arg)
{
	jobs_prune(arg);
}

struct jobs *
jobs_new(struct daemon *d, struct tp_err *err)
{
	struct jobs *j;
	struct timeval tv = { JOBS_PRUNE_MS / 1000, 0 };

	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto nomem;
	j->d = d;
	TAILQ_INIT(&j->queue);
	TAILQ_INIT(&j->finished);
	TAILQ_INIT(&j->batches);
	TAILQ_INIT(&j->work);
	TAILQ_INIT(&j->commits);
	if ((j->byid = htab_new()) == NULL ||
	    (j->policy = policy_new()) == NULL)
		goto nomem;
	if ((j->ev_prune = event_new(d->base, -1, EV_PERSIST,
	    jobs_prune_timer, j)) == NULL ||
	    event_add(j->ev_prune, &tv) == -1) {
		jobs_free(j);
		tp_err_set(err, TP_INTERNAL, "cannot create the job timers");
		return NULL;
	}
	return j;
nomem:
	jobs_free(j);
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return NULL;
}

static void
jobs_job_free(void *arg)
{
	struct job *job = arg;

	if (job->deadline != NULL)
		event_free(job->deadline);
	json_object_put(job->result);
	free(job->result_text);
	json_object_put(job->symbols);
	free(job->trades);
	free(job->keys_doc);
	free(job->signal_equity);
	json_object_put(job->signal_open);
	free(job);
}

void
jobs_free(struct jobs *j)
{
	struct jobs_work *w;

	if (j == NULL)
		return;
	while ((w = TAILQ_FIRST(&j->work)) != NULL) {
		TAILQ_REMOVE(&j->work, w, entry);
		w->free(w);
	}
	if (j->byid != NULL)
		htab_free(j->byid, jobs_job_free);
	policy_free(j->policy);
	if (j->ev_prune != NULL)
		event_free(j->ev_prune);
	free(j);
}

const char *
jobs_state_name(enum job_state s)
{
	switch (s) {
	case JOB_QUEUED:
		return "queued";
	case JOB_RUNNING:
		return "running";
	case JOB_COMMITTING:
		return "committing";
	case JOB_DONE:
		return "done";
	case JOB_FAILED:
		return "failed";
	}
	return "unknown";
}

const char *
jobs_kind_name(enum job_kind k)
{
	switch (k) {
	case JOB_SYNC:
		return "sync";
	case JOB_PRICES:
		return "prices";
	case JOB_SIGNAL:
		return "signal";
	}
	return "unknown";
}

/* Lower-case hex only: a job id must never look like a secret to the
 * tenant log's filter (tenantlog_looks_secret). */
static void
jobs_new_id(struct jobs *j, char *id)
{
	uint8_t r[8];
	size_t i;

	do {
		randombytes_buf(r, sizeof(r));
		id[0] = 'j';
		for (i = 0; i < sizeof(r); i++)
			snprintf(id + 1 + 2 * i, 3, "%02x", r[i]);
	} while (htab_get(j->byid, id) != NULL);
}

static struct job *
jobs_job_new(struct jobs *j, const char *uid, enum job_kind kind,
    struct tp_err *err)
{
	struct job *job;
	void *old;

	if ((job = calloc(1, sizeof(*job))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	jobs_new_id(j, job->id);
	snprintf(job->uid, sizeof(job->uid), "%s", uid);
	job->kind = kind;
	job->state = JOB_QUEUED;
	store_timestamp(job->created_at, sizeof(job->created_at));
	clock_gettime(CLOCK_MONOTONIC, &job->created_mono);
	TAILQ_INIT(&job->waiters);
	if (htab_put(j->byid, job->id, job, &old) == -1) {
		free(job);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	if (old != NULL)
		panic("job id %s is in the job table twice", job->id);
	j->submitted++;
	return job;
}

static void
jobs_enqueue(struct jobs *j, struct job *job)
{
	job->state = JOB_QUEUED;
	job->in_queue = true;
	TAILQ_INSERT_TAIL(&j->queue, job, entry);
	j->nqueued++;
	if (j->queued != NULL)
		j->queued(j->queued_arg);
}

struct job *
jobs_submit(struct jobs *j, const char *uid, enum job_kind kind,
    struct tp_err *err)
{
	struct job *job;

	if (j->stopping) {
		tp_err_set(err, TP_UNAVAILABLE, "%s is shutting down",
		    DAEMON_NAME);
		return NULL;
	}
	if (policy_quarantined(j->policy, uid, err))
		return NULL;
	if (jobs_held(j, err))
		return NULL;
	if (j->nqueued >= j->d->cfg.max_queue) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "the job queue is full "
		    "(%zu jobs waiting, max_queue %u); retry later", j->nqueued,
		    (unsigned)j->d->cfg.max_queue);
		return NULL;
	}
	if ((job = jobs_job_new(j, uid, kind, err)) == NULL)
		return NULL;
	jobs_enqueue(j, job);
	return job;
}

struct job *
jobs_find(struct jobs *j, const char *id)
{
	return htab_get(j->byid, id);
}

/* Leaves the state it was in, keeping the counters right. */
static void
jobs_leave_state(struct jobs *j, struct job *job)
{
	if (job->in_queue) {
		TAILQ_REMOVE(&j->queue, job, entry);
		job->in_queue = false;
		j->nqueued--;
	}
	if (job->state == JOB_RUNNING) {
		if (j->nrunning == 0)
			panic("job %s is running but no job is counted as "
			    "running", job->id);
		j->nrunning--;
	} else if (job->state == JOB_COMMITTING) {
		if (j->ncommitting == 0)
			panic("job %s is committing but no job is counted as "
			    "committing", job->id);
		j->ncommitting--;
	}
}

/* queued -> running (taken into a batch by dispatch). */
void
jobs_set_running(struct jobs *j, struct job *job, struct batch *b)
{
	jobs_leave_state(j, job);
	job->state = JOB_RUNNING;
	job->batch = b;
	job->sent = job->begun = false;
	job->log_lines = 0;
	j->nrunning++;
}

/* running -> committing (its RESULT passed validation). */
void
jobs_set_committing(struct jobs *j, struct job *job)
{
	jobs_leave_state(j, job);
	job->state = JOB_COMMITTING;
	j->ncommitting++;
}

static unsigned
jobs_max_attempts(const struct jobs *j)
{
	return j->d->cfg.max_strikes + 3;
}

void
jobs_requeue(struct jobs *j, struct job *job, bool alone)
{
	struct tp_err err;

	job->batch = NULL;
	job->sent = job->begun = false;
	if (job->deadline != NULL) {
		event_free(job->deadline);
		job->deadline = NULL;
	}
	if (j->stopping) {
		jobs_interrupt(j, job);
		return;
	}
	if (job->attempts >= jobs_max_attempts(j)) {
		tp_err_set(&err, TP_INTERNAL, "gave up after %u attempts%s%s",
		    job->attempts, job->crash_id[0] != '\0' ?
		    "; last crash report " : "", job->crash_id);
		jobs_finish(j, job, &err);
		return;
	}
	jobs_leave_state(j, job);
	job->alone = job->alone || alone;
	jobs_enqueue(j, job);
}

void
jobs_finish(struct jobs *j, struct job *job, const struct tp_err *err)
{
	const struct job_owner *owner;
	struct job_waiter *w;

	if (job->state == JOB_DONE || job->state == JOB_FAILED)
		panic("job %s of %s finished twice (it is %s already)",
		    job->id, job->uid[0] != '\0' ? job->uid : "no tenant",
		    jobs_state_name(job->state));
	jobs_leave_state(j, job);
	job->batch = NULL;
	if (job->deadline != NULL) {
		event_free(job->deadline);
		job->deadline = NULL;
	}
	if (err == NULL) {
		job->state = JOB_DONE;
		job->err_code = TP_OK;
		job->err_msg[0] = '\0';
		j->done++;
	} else {
		job->state = JOB_FAILED;
		job->err_code = err->code == TP_OK ? TP_INTERNAL : err->code;
		snprintf(job->err_msg, sizeof(job->err_msg), "%s",
		    err->msg[0] != '\0' ? err->msg : "unknown error");
		json_object_put(job->result);
		job->result = NULL;
		j->failed++;
	}
	store_timestamp(job->ended_at, sizeof(job->ended_at));
	clock_gettime(CLOCK_MONOTONIC, &job->ended_mono);
	metrics_job(j->d->metrics, jobs_kind_name(job->kind), err == NULL,
	    clock_since_ms(&job->created_mono) / 1000.0);
	TAILQ_INSERT_TAIL(&j->finished, job, entry);
	job->in_finished = true;
	j->nfinished++;
	while ((w = TAILQ_FIRST(&job->waiters)) != NULL) {
		TAILQ_REMOVE(&job->waiters, w, entry);
		w->job = NULL;
		w->ended(job, w);
	}
	/* the JOB's trades and keys are no longer needed */
	free(job->trades);
	job->trades = NULL;
	free(job->keys_doc);
	job->keys_doc = NULL;
	if ((owner = job->owner) != NULL) {
		job->owner = NULL;
		owner->ended(job, job->owner_arg);
	}
	if (job->result != NULL) {
		size_t len;
		const char *text = json_compact(job->result, &len);

		job->result_text = text != NULL ? strdup(text) : NULL;
		json_object_put(job->result);
		job->result = NULL;
	}
	if (j->nfinished > JOBS_KEEP_FINISHED)
		jobs_prune(j);
	jobs_check_idle(j);
}

void
jobs_set_gate(struct jobs *j, int (*gate)(void *arg, struct tp_err *err),
    void *arg)
{
	j->gate = gate;
	j->gate_arg = arg;
}

bool
jobs_held(struct jobs *j, struct tp_err *err)
{
	struct tp_err scratch;

	return j->gate != NULL &&
	    j->gate(j->gate_arg, err != NULL ? err : &scratch) == -1;
}

void
jobs_interrupt(struct jobs *j, struct job *job)
{
	struct tp_err err;

	tp_err_set(&err, TP_UNAVAILABLE, "interrupted: %s %s", DAEMON_NAME,
	    j->stopping || !jobs_held(j, NULL) ? "stopping" : "paused");
	job->interrupted = true;
	jobs_finish(j, job, &err);
}

struct job *
jobs_retry(struct jobs *j, struct job *job)
{
	struct job *rj;
	struct tp_err err;

	if (j->stopping)
		return NULL;
	if (j->nqueued >= j->d->cfg.max_queue) {
		log_warnx("job %s of %s is not re-run: the job queue is full",
		    job->id, job->uid);
		return NULL;
	}
	if ((rj = jobs_job_new(j, job->uid, job->kind, &err)) == NULL) {
		log_warnx("job %s of %s is not re-run: %s", job->id, job->uid,
		    err.msg);
		return NULL;
	}
	rj->alone = true;
	memcpy(rj->symbol, job->symbol, sizeof(rj->symbol));
	rj->signal_trading = job->signal_trading;
	if (job->signal_equity != NULL)
		rj->signal_equity = strdup(job->signal_equity);	/* NULL: none */
	rj->signal_open = json_object_get(job->signal_open);
	/* the owner hears of the last job of the chain only */
	rj->owner = job->owner;
	rj->owner_arg = job->owner_arg;
	job->owner = NULL;
	snprintf(rj->retry_of, sizeof(rj->retry_of), "%s", job->id);
	snprintf(job->retried_by, sizeof(job->retried_by), "%s", rj->id);
	jobs_enqueue(j, rj);
	return rj;
}

/* Finished jobs past the count, or older than the retention time. */
static void
jobs_prune(struct jobs *j)
{
	struct timespec now;
	struct job *job;
	int64_t age;

	clock_gettime(CLOCK_MONOTONIC, &now);
	while ((job = TAILQ_FIRST(&j->finished)) != NULL) {
		age = (int64_t)(now.tv_sec - job->ended_mono.tv_sec) * 1000 +
		    (now.tv_nsec - job->ended_mono.tv_nsec) / 1000000;
		if (j->nfinished <= JOBS_KEEP_FINISHED && age < JOBS_KEEP_MS)
			break;
		TAILQ_REMOVE(&j->finished, job, entry);
		j->nfinished--;
		if (htab_del(j->byid, job->id) != job)
			panic("finished job %s is not in the job table",
			    job->id);
		jobs_job_free(job);
	}
}

json_object *
jobs_job_json(const struct job *job)
{
	json_object *o, *e;
	enum job_state st = job->state;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	/* the API knows four states: a commit in progress is running */
	if (st == JOB_COMMITTING)
		st = JOB_RUNNING;
	json_add(o, "job_id", json_object_new_string(job->id));
	json_add(o, "uid", job->uid[0] != '\0' ?
	    json_object_new_string(job->uid) : NULL);
	json_add(o, "kind", json_object_new_string(
	    jobs_kind_name(job->kind)));
	json_add(o, "state", json_object_new_string(jobs_state_name(st)));
	json_add(o, "attempts", json_object_new_int64(job->attempts));
	json_add(o, "alone", json_object_new_boolean(job->alone));
	json_add(o, "created_at", json_object_new_string(job->created_at));
	json_add(o, "ended_at", job->ended_at[0] != '\0' ?
	    json_object_new_string(job->ended_at) : NULL);
	json_add(o, "result", job->result_text != NULL ?
	    json_parse(job->result_text, strlen(job->result_text), NULL) :
	    job->result != NULL ?
	    json_copy(job->result) : NULL);
	e = NULL;
	if (job->err_code != TP_OK && (e = json_object_new_object()) != NULL) {
		json_add(e, "code", json_object_new_string(
		    tp_code_name(job->err_code)));
		json_add(e, "message", json_object_new_string(
		    job->err_msg));
	}
	json_add(o, "error", e);
	json_add(o, "crash_id", job->crash_id[0] != '\0' ?
	    json_object_new_string(job->crash_id) : NULL);
	if (job->retry_of[0] != '\0')
		json_add(o, "retry_of",
		    json_object_new_string(job->retry_of));
	if (job->retried_by[0] != '\0')
		json_add(o, "retried_by",
		    json_object_new_string(job->retried_by));
	return o;
}

json_object *
jobs_job_prices(const struct job *job, json_object *trades)
{
	if (job->owner == NULL || job->owner->prices == NULL)
		return NULL;
	return job->owner->prices(job, trades, job->owner_arg);
}

void
jobs_wait(struct job *job, struct job_waiter *w)
{
	if (job->state == JOB_DONE || job->state == JOB_FAILED) {
		w->job = NULL;
		w->ended(job, w);
		return;
	}
	w->job = job;
	TAILQ_INSERT_TAIL(&job->waiters, w, entry);
}

/* From the op's ctx_free: the request goes away before its job ended. */
void
jobs_unwait(struct job_waiter *w)
{
	if (w->job != NULL) {
		TAILQ_REMOVE(&w->job->waiters, w, entry);
		w->job = NULL;
	}
}

/* Store work */

int
jobs_work_submit(struct jobs *j, struct jobs_work *w, store_work_fn work,
    store_done_fn done, struct tp_err *err)
{
	if (store_async(j->d->store, work, done, w, err) == -1)
		return -1;
	TAILQ_INSERT_TAIL(&j->work, w, entry);
	j->nwork++;
	return 0;
}

static void
jobs_check_idle(struct jobs *j)
{
	if (j->stopping && jobs_idle(j) && j->idle != NULL)
		j->idle(j->idle_arg);
}

void
jobs_work_done(struct jobs *j, struct jobs_work *w)
{
	TAILQ_REMOVE(&j->work, w, entry);
	j->nwork--;
	jobs_check_idle(j);
}

/* Tenant log lines with the job id; a refused line is said in the daemon
 * log, without its text. */
void
jobs_tlog(struct jobs *j, const char *uid, enum tlog_level lvl,
    const char *job_id, const char *event, const char *fmt, ...)
{
	va_list ap;

	if (uid[0] == '\0')		/* a job of no tenant (prices) */
		return;
	va_start(ap, fmt);
	tenant_vlog(j->d, uid, lvl, job_id, event, fmt, ap);
	va_end(ap);
}

/* Stop */

void
jobs_set_stopping(struct jobs *j, void (*idle)(void *), void *arg)
{
	j->stopping = true;
	j->idle = idle;
	j->idle_arg = arg;
}

bool
jobs_idle(const struct jobs *j)
{
	return j == NULL || (TAILQ_EMPTY(&j->batches) &&
	    j->ncommitting == 0 && j->nwork == 0);
}

void
jobs_idle_check(struct jobs *j)
{
	jobs_check_idle(j);
}

void
jobs_status(struct jobs *j, json_object *r)
{
	json_object *o;

	json_add(r, "queue", json_object_new_int64((int64_t)j->nqueued));
	json_add(r, "running", json_object_new_int64(
	    (int64_t)(j->nrunning + j->ncommitting)));
	if ((o = json_object_new_object()) != NULL) {
		json_add(o, "queued", json_object_new_int64(
		    (int64_t)j->nqueued));
		json_add(o, "running", json_object_new_int64(
		    (int64_t)j->nrunning));
		json_add(o, "committing", json_object_new_int64(
		    (int64_t)j->ncommitting));
		json_add(o, "kept", json_object_new_int64(
		    (int64_t)j->nfinished));
		json_add(o, "submitted", json_object_new_int64(
		    (int64_t)j->submitted));
		json_add(o, "done", json_object_new_int64(
		    (int64_t)j->done));
		json_add(o, "failed", json_object_new_int64(
		    (int64_t)j->failed));
		json_add(o, "tenants_with_strikes", json_object_new_int64(
		    (int64_t)policy_tenants(j->policy)));
		json_add(o, "quarantines", json_object_new_int64(
		    (int64_t)policy_quarantines(j->policy)));
		json_add(o, "security_events", json_object_new_int64(
		    (int64_t)j->security_events));
	}
	json_add(r, "jobs", o);
}
