/* dispatch.c: queued jobs into batches, batches into workers: keys, JOB messages, deadlines, shutdown. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/sealbox.h"
#include "common/secrets.h"
#include "common/store.h"
#include "common/wire.h"
#include "supervisor/daemon.h"
#include "supervisor/datakey.h"
#include "supervisor/engine_int.h"
#include "supervisor/keyring.h"
#include "supervisor/policy.h"
#include "supervisor/pool.h"
#include "supervisor/tenant_store.h"
#include "supervisor/trades.h"

#define DISPATCH_SCAN_MAX	4096	/* queued jobs looked at past a full batch */
#define DISPATCH_RETRY_MS	1000	/* after a spawn failed for another reason */
#define DISPATCH_PATH_MAX	(UID_MAX_LEN + 32)
#define DISPATCH_UIDS_SHOWN	8
#define DISPATCH_BATCH_MAX	4096	/* jobs a worker holds at once ([workers] batch_size at most) */

/* The keys of one batch, read and opened on a store thread. */
struct dispatch_key {
	char		 uid[UID_MAX_LEN + 1];
	enum job_kind	 kind;
	bool		 read_trades;	/* the job came without its trades */
	char		*trades;	/* read here: JSON text */
	char		*keys_doc;	/* the job's, as the pulse read it */
	int		 rc;
	struct tp_err	 err;
};

struct dispatch_keys {
	struct jobs_work	 hdr;		/* first: the work's argument */
	struct jobs		*j;
	struct batch		*b;
	struct keyring		*ring;		/* a reference */
	char			*data_key_id;	/* [alpaca] data key, for a */
	char			*data_secret_file; /* prices job */
	size_t			 n;
	struct dispatch_key	*key;
	struct alpaca_creds	*creds;		/* guarded memory, n of them */
};

void
dispatch_kick(struct jobs *j)
{
	if (!j->stopping)
		event_active(j->ev_dispatch, 0, 0);
}

static void
dispatch_retry_in(struct jobs *j, uint64_t ms)
{
	struct timeval tv;

	if (evtimer_pending(j->ev_retry, NULL))
		return;
	tv = clock_tv(ms);
	evtimer_add(j->ev_retry, &tv);
}

void
dispatch_batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	TAILQ_REMOVE(&b->jobs->batches, b, entry);
	if (b->ev_shutdown != NULL)
		event_free(b->ev_shutdown);
	free(b->job);
	free(b);
}

/*
 * Picks the next batch from the queue without taking the jobs out of it:
 * the oldest job decides; a job to run alone (re-run after a crash, or of
 * a tenant with strikes) makes a batch of one, otherwise up to
 * min(batch_size, max_jobs) other jobs join it. Jobs of a tenant
 * quarantined meanwhile fail here.
 */
static struct batch *
dispatch_pick(struct jobs *j)
{
	const struct config *cfg = &j->d->cfg;
	struct batch *b;
	struct job *job, *next;
	struct tp_err err;
	size_t cap, n = 0, scanned = 0;
	bool alone;

	/* a worker exits after max_jobs: never hand it more */
	cap = cfg->batch_size < cfg->max_jobs ? cfg->batch_size :
	    cfg->max_jobs;
	if (cap > DISPATCH_BATCH_MAX)
		cap = DISPATCH_BATCH_MAX;
	if (cap == 0)
		cap = 1;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->job = calloc(cap, sizeof(*b->job))) == NULL) {
		free(b);
		return NULL;
	}
	b->jobs = j;
	for (job = TAILQ_FIRST(&j->queue); job != NULL && n < cap &&
	    scanned < cap + DISPATCH_SCAN_MAX; job = next) {
		next = TAILQ_NEXT(job, entry);
		scanned++;
		if (policy_quarantined(j->policy, job->uid, &err)) {
			jobs_finish(j, job, &err);
			continue;
		}
		alone = job->alone || policy_strikes(j->policy, job->uid) > 0;
		if (alone) {
			if (n > 0)
				continue;
			b->job[n++] = job;
			b->alone = true;
			break;
		}
		b->job[n++] = job;
	}
	if (n == 0) {
		free(b->job);
		free(b);
		return NULL;
	}
	b->n = n;
	return b;
}

void
dispatch_run(struct jobs *j)
{
	struct daemon *d = j->d;
	struct batch *b;
	struct worker *w;
	struct tp_err err;
	uint64_t ms;
	size_t i, before;

	while (!j->stopping && j->nqueued > 0 && d->pool != NULL &&
	    !jobs_held(j, NULL)) {
		if (pool_size(d->pool) >= d->cfg.max_workers)
			return;		/* ev->spawnable comes when one ends */
		/* the store is behind: results waiting to commit hold memory;
		 * the commits kick dispatch again as they drain */
		if (j->ncommits >= JOBS_COMMITS_MAX)
			return;
		if ((ms = pool_retry_ms(d->pool)) > 0) {
			dispatch_retry_in(j, ms);
			return;
		}
		before = j->nqueued;
		if ((b = dispatch_pick(j)) == NULL) {
			if (j->nqueued < before)	/* quarantined ones failed */
				continue;
			if (j->nqueued > 0)		/* out of memory */
				dispatch_retry_in(j, DISPATCH_RETRY_MS);
			return;
		}
		tp_err_clear(&err);
		if (pool_spawn(d->pool, b, &w, &err) == -1) {
			free(b->job);
			free(b);
			switch (err.code) {
			case TP_RESOURCE_EXHAUSTED:
				return;
			case TP_UNAVAILABLE:
				if ((ms = pool_retry_ms(d->pool)) > 0)
					dispatch_retry_in(j, ms);
				return;
			default:
				log_warnx("cannot start a worker: %s; retrying "
				    "in %d ms", err.msg, DISPATCH_RETRY_MS);
				dispatch_retry_in(j, DISPATCH_RETRY_MS);
				return;
			}
		}
		b->id = ++j->next_batch;
		b->w = w;
		b->pid = worker_pid(w);
		b->generation = worker_generation(w);
		TAILQ_INSERT_TAIL(&j->batches, b, entry);
		for (i = 0; i < b->n; i++) {
			b->job[i]->slot = i;
			jobs_set_running(j, b->job[i], b);
		}
		log_debug("batch %llu: worker pid %ld (generation %llu), %zu "
		    "jobs%s", (unsigned long long)b->id, (long)b->pid,
		    (unsigned long long)b->generation, b->n,
		    b->alone ? ", alone" : "");
	}
}

static void
dispatch_shutdown_late(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;
	char reason[96];

	if (b->w == NULL)
		return;
	timefmt_duration(reason, sizeof(reason),
	    b->jobs->d->cfg.heartbeat_timeout);
	snprintf(b->kill_reason, sizeof(b->kill_reason), "did not exit "
	    "within %s of SHUTDOWN", reason);
	b->killing = true;
	worker_kill(b->w, b->kill_reason);
}

/* The batch has nothing more to do: tell the worker to exit. */
static void
dispatch_maybe_shutdown(struct batch *b)
{
	struct timeval tv;
	struct tp_err err;
	json_object *p;
	uint64_t ms;

	if (b->w == NULL || !b->ready || b->keys_pending || b->sending ||
	    b->shutdown_sent || b->killing || b->unanswered > 0)
		return;
	b->shutdown_sent = true;
	if ((p = json_object_new_object()) != NULL)
		json_add(p, "reason", json_object_new_string(
		    "batch done"));
	if (p == NULL || worker_send(b->w, WIRE_SHUTDOWN, p, &err) == -1) {
		json_object_put(p);
		dispatch_kill(b, "cannot send SHUTDOWN", true);
		return;
	}
	json_object_put(p);
	/* one that keeps heartbeating without exiting holds a slot */
	ms = b->jobs->d->cfg.heartbeat_timeout;
	if ((b->ev_shutdown = evtimer_new(b->jobs->d->base,
	    dispatch_shutdown_late, b)) != NULL) {
		tv = clock_tv(ms);
		evtimer_add(b->ev_shutdown, &tv);
	}
}

void
dispatch_job_left(struct batch *b, struct job *job)
{
	if (job->slot < b->n && b->job[job->slot] == job)
		b->job[job->slot] = NULL;
	if (job->sent) {
		if (b->unanswered == 0)
			panic("job %s left batch %llu, which counts no job "
			    "unanswered", job->id, (unsigned long long)b->id);
		b->unanswered--;
	}
	job->batch = NULL;
	if (job->deadline != NULL) {
		event_free(job->deadline);
		job->deadline = NULL;
	}
	dispatch_maybe_shutdown(b);
}

void
dispatch_kill(struct batch *b, const char *reason, bool culprit_known)
{
	size_t i;

	if (b->killing)
		return;
	b->killing = true;
	b->culprit_known = culprit_known;
	snprintf(b->kill_reason, sizeof(b->kill_reason), "%s", reason);
	for (i = 0; i < b->n; i++)
		if (b->job[i] != NULL && b->job[i]->deadline != NULL) {
			event_free(b->job[i]->deadline);
			b->job[i]->deadline = NULL;
		}
	if (b->w != NULL)
		worker_kill(b->w, b->kill_reason);
}

void
dispatch_kill_all(struct jobs *j, const char *reason)
{
	struct batch *b;

	TAILQ_FOREACH(b, &j->batches, entry) {
		if (b->w == NULL)
			continue;
		b->drain_killed = true;
		if (b->killing)		/* already on its way out */
			continue;
		dispatch_kill(b, reason, false);
	}
}

static void
dispatch_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct batch *b = job->batch;
	char reason[160], dur[32];

	if (b == NULL || job->state != JOB_RUNNING)
		return;
	timefmt_duration(dur, sizeof(dur), b->jobs->d->cfg.job_timeout);
	snprintf(reason, sizeof(reason), "job %s passed its deadline of %s",
	    job->id, dur);
	log_warnx("worker pid %ld: %s (tenant %s); killing it", (long)b->pid,
	    reason, job->uid);
	/* its own deadline implicates this tenant alone (crash.c) */
	snprintf(b->deadline_uid, sizeof(b->deadline_uid), "%s", job->uid);
	dispatch_kill(b, reason, false);
}

/*
 * Sends one JOB; the clear keys are wiped whatever happens. They go out
 * sealed under the worker's session key ("keys_sealed"): the clear ones
 * never reach a json-c string or ZeroMQ, whose I/O thread keeps copies of
 * small messages in buffers nobody wipes.
 */
static int
dispatch_send_job(struct jobs *j, struct batch *b, struct job *job,
    struct alpaca_creds *creds)
{
	const struct config *cfg = &j->d->cfg;
	json_object *p = NULL, *trades = NULL, *prices;
	char sealed[SEALBOX_TEXT_MAX];
	struct timeval tv;
	struct tp_err err;
	int want, rc = -1;

	if (worker_seal_keys(b->w, creds->key_id, creds->secret, sealed,
	    sizeof(sealed), &err) == 0 &&
	    (p = json_object_new_object()) == NULL)
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory");
	secrets_alpaca_wipe(creds);
	if (p != NULL) {
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory");
		json_add(p, "job_id", json_object_new_string(job->id));
		if (job->kind != JOB_PRICES)
			json_add(p, "uid", json_object_new_string(
			    job->uid));
		json_add(p, "kind", json_object_new_string(
		    jobs_kind_name(job->kind)));
		json_add(p, "deadline_ms", json_object_new_int64(
		    (int64_t)cfg->job_timeout));
		json_add(p, "keys_sealed", json_object_new_string(sealed));
		want = 5;
		if (job->kind == JOB_SYNC) {
			/* the pulse's prices of this tenant's symbols */
			trades = trades_json(job->trades);
			prices = jobs_job_prices(job, trades);
			json_add(p, "trades", trades);
			if (prices != NULL) {
				json_add(p, "prices", prices);
				want++;
			}
			want++;
		} else if (job->kind == JOB_SIGNAL) {
			/* the strategy's parameters: the worker reads no
			 * configuration */
			json_add(p, "symbol", json_object_new_string(
			    job->symbol));
			json_add(p, "bars", json_object_new_int64(
			    cfg->signal_bars));
			json_add(p, "fast", json_object_new_int64(
			    cfg->signal_fast));
			json_add(p, "slow", json_object_new_int64(
			    cfg->signal_slow));
			json_add(p, "rsi_period", json_object_new_int64(
			    cfg->signal_rsi_period));
			want += 5;
		} else {
			json_add(p, "symbols", json_copy(job->symbols));
		}
		if (json_object_object_length(p) == want)
			rc = worker_send(b->w, WIRE_JOB, p, &err);
	}
	json_object_put(p);
	if (rc == -1) {
		log_warnx("worker pid %ld: cannot send job %s: %s",
		    (long)b->pid, job->id, err.msg);
		return -1;
	}
	job->sent = true;
	job->attempts++;
	b->unanswered++;
	if ((job->deadline = evtimer_new(j->d->base, dispatch_deadline,
	    job)) != NULL) {
		tv = clock_tv(cfg->job_timeout);
		evtimer_add(job->deadline, &tv);
	}
	return 0;
}

static void
dispatch_keys_free(struct jobs_work *w)
{
	struct dispatch_keys *c = (struct dispatch_keys *)w;
	size_t i;

	if (c->creds != NULL) {
		for (i = 0; i < c->n; i++)
			secrets_alpaca_wipe(&c->creds[i]);
		sodium_free(c->creds);
	}

	keyring_unref(c->ring);
	for (i = 0; c->key != NULL && i < c->n; i++) {
		free(c->key[i].trades);
		free(c->key[i].keys_doc);
	}
	free(c->data_key_id);
	free(c->data_secret_file);
	free(c->key);
	free(c);
}

static void
dispatch_keys_work(struct store *st, void *arg)
{
	struct dispatch_keys *c = arg;
	json_object *doc;
	char path[DISPATCH_PATH_MAX];
	size_t i, ntr;
	bool more;
	int rc;

	for (i = 0; i < c->n; i++) {
		if (c->key[i].kind == JOB_PRICES) {
			c->key[i].rc = datakey_read(c->data_key_id,
			    c->data_secret_file, &c->creds[i], &c->key[i].err);
			continue;
		}
		if (c->key[i].uid[0] == '\0')
			continue;
		if (c->key[i].read_trades &&
		    trades_read(st, c->key[i].uid, &c->key[i].trades, &ntr,
		    &more, NULL, &c->key[i].err) == -1) {
			c->key[i].rc = -1;
			continue;
		}
		doc = NULL;
		snprintf(path, sizeof(path), "users/%s/secrets/alpaca",
		    c->key[i].uid);
		/* the pulse read it a moment ago: no second read */
		if (c->key[i].keys_doc != NULL &&
		    (doc = json_parse(c->key[i].keys_doc,
		    strlen(c->key[i].keys_doc), NULL)) != NULL)
			rc = 1;
		else
			rc = tenant_doc_get(st, path, &doc, &c->key[i].err);
		if (rc == 0)
			rc = tp_err_set(&c->key[i].err, TP_FAILED_PRECONDITION,
			    "tenant %s has no Alpaca keys; set them with "
			    "`tradepulse keys set %s`", c->key[i].uid,
			    c->key[i].uid);
		else if (rc == 1)
			rc = secrets_alpaca_open(keyring_secrets(c->ring),
			    c->key[i].uid, doc, &c->creds[i], &c->key[i].err);
		c->key[i].rc = rc == -1 ? -1 : 0;
		json_object_put(doc);
	}
}

static void
dispatch_keys_done(void *arg)
{
	struct dispatch_keys *c = arg;
	struct jobs *j = c->j;
	struct batch *b = c->b;
	struct job *job;
	size_t i;

	jobs_work_done(j, &c->hdr);
	b->keys_pending = false;
	if (b->w == NULL) {		/* the worker died meanwhile */
		dispatch_keys_free(&c->hdr);
		dispatch_batch_free(b);
		jobs_idle_check(j);
		return;
	}
	if (b->killing) {		/* its exit re-queues the jobs */
		dispatch_keys_free(&c->hdr);
		return;
	}
	b->sending = true;
	for (i = 0; i < c->n && i < b->n; i++) {
		if ((job = b->job[i]) == NULL)
			continue;
		if (c->key[i].rc == -1) {
			dispatch_job_left(b, job);
			jobs_tlog(j, job->uid, TLOG_ERROR, job->id,
			    jobs_kind_name(job->kind), "job %s not run: %s",
			    job->id, c->key[i].err.msg);
			jobs_finish(j, job, &c->key[i].err);
			continue;
		}
		if (c->key[i].read_trades && job->trades == NULL) {
			job->trades = c->key[i].trades;
			c->key[i].trades = NULL;
		}
		/* a failed send leaves the job unsent: the worker's exit
		 * re-queues it */
		(void)dispatch_send_job(j, b, job, &c->creds[i]);
	}
	b->sending = false;
	dispatch_keys_free(&c->hdr);
	dispatch_maybe_shutdown(b);
}

/* Reads and opens the batch's keys on a store thread. */
static void
dispatch_keys_start(struct jobs *j, struct batch *b)
{
	struct dispatch_keys *c;
	struct tp_err err;
	struct job *job;
	size_t i;

	tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->hdr.free = dispatch_keys_free;
	c->j = j;
	c->b = b;
	c->n = b->n;
	c->ring = keyring_ref(j->d->keys);
	if ((c->key = calloc(b->n, sizeof(*c->key))) == NULL ||
	    (c->creds = sodium_allocarray(b->n, sizeof(*c->creds))) == NULL)
		goto fail;
	sodium_memzero(c->creds, b->n * sizeof(*c->creds));
	for (i = 0; i < b->n; i++) {
		if ((job = b->job[i]) == NULL)
			continue;
		snprintf(c->key[i].uid, sizeof(c->key[i].uid), "%s", job->uid);
		c->key[i].kind = job->kind;
		c->key[i].read_trades = job->kind == JOB_SYNC &&
		    job->trades == NULL;
		c->key[i].keys_doc = job->keys_doc;	/* used once */
		job->keys_doc = NULL;
		if (job->kind == JOB_PRICES && c->data_key_id == NULL &&
		    ((c->data_key_id = strdup(j->d->cfg.data_key_id)) == NULL ||
		    (c->data_secret_file = strdup(
		    j->d->cfg.data_secret_file)) == NULL))
			goto fail;
	}
	if (jobs_work_submit(j, &c->hdr, dispatch_keys_work,
	    dispatch_keys_done, &err) == -1)
		goto fail;
	b->keys_pending = true;
	return;
fail:
	if (c != NULL)
		dispatch_keys_free(&c->hdr);
	/* not the tenants' fault: the jobs fail, the worker goes */
	log_warnx("batch %llu: cannot read the tenants' keys: %s",
	    (unsigned long long)b->id, err.msg);
	for (i = 0; i < b->n; i++) {
		if ((job = b->job[i]) == NULL)
			continue;
		b->job[i] = NULL;
		job->batch = NULL;
		jobs_finish(j, job, &err);
	}
	dispatch_maybe_shutdown(b);
}

static void
dispatch_ready(void *arg, struct worker *w)
{
	struct jobs *j = arg;
	struct batch *b = worker_ctx(w);

	if (b == NULL) {		/* detached at exit */
		worker_kill(w, "no batch");
		return;
	}
	b->ready = true;
	if (j->stopping) {
		b->drain_killed = true;
		dispatch_kill(b, "daemon stopping", false);
		return;
	}
	dispatch_keys_start(j, b);
}

static void
dispatch_message(void *arg, struct worker *w, const struct wire_msg *m)
{
	struct batch *b = worker_ctx(w);

	(void)arg;
	if (b == NULL || b->killing || m->generation != b->generation) {
		log_debug("worker pid %ld: %s ignored (worker being stopped)",
		    (long)worker_pid(w), wire_type_name(m->type));
		return;
	}
	switch (m->type) {
	case WIRE_JOB_BEGIN:
		results_job_begin(b, m->payload);
		break;
	case WIRE_RESULT:
		results_result(b, m->payload);
		break;
	case WIRE_LOG:
		results_log(b, m->payload);
		break;
	default:
		log_warnx("worker pid %ld sent an unexpected %s message; "
		    "ignored", (long)b->pid, wire_type_name(m->type));
		break;
	}
}

static void
dispatch_exited(void *arg, struct worker *w, const struct worker_exit *ex)
{
	struct jobs *j = arg;
	struct batch *b = worker_ctx(w);

	if (b == NULL)
		return;
	worker_set_ctx(w, NULL);
	b->w = NULL;
	if (b->ev_shutdown != NULL)
		event_del(b->ev_shutdown);
	crash_exited(j, b, ex);
	if (!b->keys_pending)
		dispatch_batch_free(b);
	dispatch_kick(j);
	jobs_idle_check(j);
}

static void
dispatch_spawnable(void *arg)
{
	dispatch_kick(arg);
}

const struct pool_events engine_pool_events = {
	.ready = dispatch_ready,
	.message = dispatch_message,
	.exited = dispatch_exited,
	.spawnable = dispatch_spawnable,
};

/* For status: what a worker runs: "batch" (its size), "batch_id",
 * "alone", "unanswered" and the first uids. */
static void
dispatch_batch_json(const struct batch *b, json_object *o)
{
	json_object *uids;
	size_t i, shown = 0;

	uids = json_object_new_array();
	for (i = 0; i < b->n && uids != NULL; i++) {
		if (b->job[i] == NULL)
			continue;
		if (shown < DISPATCH_UIDS_SHOWN &&
		    json_object_array_add(uids, json_object_new_string(
		    b->job[i]->uid)) == 0)
			shown++;
	}
	json_add(o, "batch", json_object_new_int64((int64_t)b->n));
	json_add(o, "batch_id", json_object_new_int64((int64_t)b->id));
	json_add(o, "alone", json_object_new_boolean(b->alone));
	json_add(o, "unanswered", json_object_new_int64(
	    (int64_t)b->unanswered));
	json_add(o, "uids", uids);
}

bool
engine_batch_fill(struct jobs *j, uint64_t generation, json_object *o)
{
	struct batch *b;

	TAILQ_FOREACH(b, &j->batches, entry)
		if (b->w != NULL && b->generation == generation) {
			dispatch_batch_json(b, o);
			return true;
		}
	return false;
}
