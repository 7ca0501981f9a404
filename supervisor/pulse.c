/* pulse.c: the pulse: its schedule, the price fetch, counting the syncs, ops/last_pulse (the plan: pulse_plan.c; its figures: pulse_json.c). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/pnl.h"
#include "common/wire.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/metrics.h"
#include "supervisor/pause.h"
#include "supervisor/jobs.h"
#include "supervisor/policy.h"
#include "supervisor/pulse.h"
#include "supervisor/pulse_int.h"
#include "supervisor/pulse_plan.h"
#include "supervisor/tenant_store.h"
#include "supervisor/trades.h"

#define PULSE_LAST_PATH		"ops/last_pulse"

/* The write of ops/last_pulse. */
struct pulse_write {
	struct jobs_work	 hdr;
	struct pulser		*ps;
	json_object		*doc;
	int			 rc;
	struct tp_err		 err;
};

static void	pulse_submit_syncs(struct pulse *p);
static void	pulse_job_ended(struct job *job, void *arg);
static json_object *pulse_job_prices(const struct job *job,
		    json_object *trades, void *arg);

/* The pulse owns its jobs: it hears when they end. */
static const struct job_owner pulse_owner = {
	.ended = pulse_job_ended,
	.prices = pulse_job_prices,
};
static void	pulse_maybe_end(struct pulse *p);

static void
pulse_free_one(struct pulse *p)
{
	struct pulse_waiter *w;

	if (p == NULL)
		return;
	while ((w = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, w, entry);
		w->pulse = NULL;
	}
	pulse_plan_release(p->plan);
	json_object_put(p->prices);
	json_object_put(p->doc);
	free(p);
}

/* The price fetch */

static void
pulse_submit_prices(struct pulse *p)
{
	struct daemon *d = p->ps->d;
	struct json_object_iterator it, end;
	json_object *arr;
	struct tp_err err;
	struct job *job;

	if ((arr = json_object_new_array()) == NULL)
		goto fallback;
	it = json_object_iter_begin(p->plan->symbols);
	end = json_object_iter_end(p->plan->symbols);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		if (json_object_array_length(arr) < WIRE_SYMBOLS_MAX)
			json_object_array_add(arr, json_object_new_string(
			    json_object_iter_peek_name(&it)));
	tp_err_clear(&err);
	if ((job = jobs_submit(d->jobs, "", JOB_PRICES, &err)) == NULL) {
		json_object_put(arr);
		snprintf(p->prices_error, sizeof(p->prices_error), "%s",
		    err.msg);
		goto fallback;
	}
	job->alone = true;
	job->symbols = arr;
	job->owner = &pulse_owner;
	job->owner_arg = p;
	p->phase = PULSE_PRICES;
	log_debug("pulse %s: job %s fetches the prices of %zu symbols", p->id,
	    job->id, json_object_array_length(arr));
	return;
fallback:
	log_warnx("pulse %s: cannot fetch the prices once (%s); each "
	    "tenant's job fetches its own", p->id, p->prices_error[0] != '\0' ?
	    p->prices_error : "out of memory");
	pulse_submit_syncs(p);
}

/* Takes the prices job's result: symbols and decimal strings, checked. */
static void
pulse_prices_ended(struct pulse *p, struct job *job)
{
	struct json_object_iterator it, end;
	json_object *res, *prices, *rq, *v;
	struct dec dv;
	struct tp_err err;
	const char *sym;
	int64_t k;

	if (job->state != JOB_DONE) {
		snprintf(p->prices_error, sizeof(p->prices_error), "%s: %s",
		    tp_code_name(job->err_code), job->err_msg);
		log_warnx("pulse %s: the price fetch (job %s) failed: %s; each "
		    "tenant's job fetches its own prices", p->id, job->id,
		    p->prices_error);
		pulse_submit_syncs(p);
		return;
	}
	res = job->result;
	if ((rq = json_get_obj(res, "requests")) != NULL &&
	    json_get_int(rq, "trades_latest", &k) && k >= 0)
		p->req_prices += (uint64_t)k;
	if ((prices = json_get_obj(res, "prices")) == NULL ||
	    (p->prices = json_object_new_object()) == NULL) {
		snprintf(p->prices_error, sizeof(p->prices_error),
		    "the price fetch's result has no prices map");
		log_warnx("pulse %s: %s; each tenant's job fetches its own "
		    "prices", p->id, p->prices_error);
		pulse_submit_syncs(p);
		return;
	}
	it = json_object_iter_begin(prices);
	end = json_object_iter_end(prices);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		sym = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		/* a worker's word: only known symbols, only decimals */
		if (!pnl_valid_symbol(sym) ||
		    !json_object_object_get_ex(p->plan->symbols, sym, NULL) ||
		    !json_object_is_type(v, json_type_string) ||
		    dec_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), &dv, &err) == -1 ||
		    dec_sign(&dv) <= 0)
			continue;
		json_object_object_add(p->prices, sym, json_object_get(v));
	}
	p->data_key = true;
	p->prices_ms = pulse_elapsed_ms(p) - p->plan_ms;
	log_info("pulse %s: prices of %zu of %zu symbols in %llu request(s)",
	    p->id, (size_t)json_object_object_length(p->prices), p->symbols,
	    (unsigned long long)p->req_prices);
	pulse_submit_syncs(p);
}

/* The syncs */

static void
pulse_submit_syncs(struct pulse *p)
{
	struct daemon *d = p->ps->d;
	struct pulse_plan *pl = p->plan;
	struct tp_err err;
	struct job *job;
	size_t i;

	p->phase = PULSE_SYNCING;
	for (i = 0; pl != NULL && i < pl->nt; i++) {
		if (p->ps->stopping || d->jobs->stopping) {
			p->interrupted = true;
			p->errors += pl->nt - i;
			p->ended += pl->nt - i;
			break;
		}
		tp_err_clear(&err);
		if ((job = jobs_submit(d->jobs, pl->t[i].uid, JOB_SYNC,
		    &err)) == NULL) {
			if (err.code == TP_FAILED_PRECONDITION) {
				/* quarantined since the plan read the store */
				p->skipped_quarantined++;
				p->to_sync--;
			} else {
				p->errors++;
				p->ended++;
				pulse_failed_add(p, pl->t[i].uid,
				    tp_code_name(err.code));
				log_warnx("pulse %s: tenant %s not synced: %s",
				    p->id, pl->t[i].uid, err.msg);
			}
			continue;
		}
		job->trades = pl->t[i].trades;
		pl->t[i].trades = NULL;
		job->keys_doc = pl->t[i].keys_doc;
		pl->t[i].keys_doc = NULL;
		job->owner = &pulse_owner;
		job->owner_arg = p;
		p->outstanding++;
	}
	if (pl != NULL) {
		p->plan = NULL;
		pulse_plan_free(&pl->hdr);
	}
	pulse_maybe_end(p);
}

/* The "prices" map of a sync JOB: the pulse's prices of the symbols of
 * its trades, or NULL when the pulse has none (the worker fetches them). */
static json_object *
pulse_job_prices(const struct job *job, json_object *trades, void *arg)
{
	struct pulse *p = arg;

	(void)job;
	if (p->prices == NULL || trades == NULL)
		return NULL;
	return trades_prices(trades, p->prices);
}

/* A job of the pulse ended: the last of its chain of re-runs. */
static void
pulse_job_ended(struct job *job, void *arg)
{
	struct pulse *p = arg;
	json_object *rq;
	struct tp_err err;
	int64_t k;

	if (job->kind == JOB_PRICES) {
		if (p->phase == PULSE_PRICES)
			pulse_prices_ended(p, job);
		return;
	}
	if (p->outstanding == 0)
		panic("pulse %s: job %s ended, but the pulse waits for none",
		    p->id, job->id);
	p->outstanding--;
	p->ended++;
	if (job->state == JOB_DONE) {
		p->synced++;
		if ((rq = json_get_obj(job->result, "requests")) != NULL) {
			if (json_get_int(rq, "account", &k) && k >= 0)
				p->req_account += (uint64_t)k;
			if (json_get_int(rq, "trades_latest", &k) && k >= 0)
				p->req_trades += (uint64_t)k;
			if (json_get_int(rq, "retries", &k) && k >= 0)
				p->req_retries += (uint64_t)k;
		}
	} else {
		p->errors++;
		if (job->interrupted)
			p->interrupted = true;
		if (job->crash_id[0] != '\0')
			p->crashed++;
		if (policy_quarantined(p->ps->d->jobs->policy, job->uid,
		    &err)) {
			p->quarantined++;
			pulse_failed_add(p, job->uid, "quarantined");
		} else
			pulse_failed_add(p, job->uid, job->interrupted ?
			    "interrupted" : tp_code_name(job->err_code));
	}
	pulse_maybe_end(p);
}

/* The end: ops/last_pulse, then the waiters. */

static void
pulse_write_free(struct jobs_work *w)
{
	struct pulse_write *pw = (struct pulse_write *)w;

	json_object_put(pw->doc);
	free(pw);
}

static void
pulse_write_work(struct store *st, void *arg)
{
	struct pulse_write *pw = arg;

	pw->rc = store_set(st, PULSE_LAST_PATH, pw->doc, false, &pw->err);
}

/* The pulse is over: its waiters get the figures. */
static void
pulse_answer(struct pulser *ps, struct pulse *p)
{
	struct pulse_waiter *w;

	ps->cur = NULL;
	while ((w = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, w, entry);
		w->pulse = NULL;
		w->ended(w, p->doc != NULL ? json_copy(p->doc) : NULL);
	}
	pulse_free_one(p);
}

static void
pulse_write_done(void *arg)
{
	struct pulse_write *pw = arg;
	struct pulser *ps = pw->ps;
	struct pulse *p = ps->cur;

	jobs_work_done(ps->d->jobs, &pw->hdr);
	if (pw->rc == -1)
		log_warnx("pulse: cannot write %s: %s", PULSE_LAST_PATH,
		    pw->err.msg);
	if (p != NULL)
		pulse_answer(ps, p);
	pulse_write_free(&pw->hdr);
}

static void
pulse_maybe_end(struct pulse *p)
{
	struct pulser *ps = p->ps;
	struct pulse_write *pw;
	struct tp_err err;
	json_object *doc;
	char at[32];
	uint64_t ms;

	if (p->phase != PULSE_SYNCING || p->outstanding > 0)
		return;
	p->store_reqs = store_requests(ps->d->store) - p->store_req0;
	p->phase = PULSE_WRITING;
	ms = pulse_elapsed_ms(p);
	store_timestamp(at, sizeof(at));
	if ((doc = pulse_json(p)) != NULL) {
		json_object_object_del(doc, "elapsed_ms");
		json_object_object_del(doc, "phase");
		json_add(doc, "finished_at", json_object_new_string(at));
		json_add(doc, "duration_ms", json_object_new_int64(
		    (int64_t)ms));
	}
	p->doc = doc;
	events_ops(ps->d->events, "pulse.finished", json_copy(doc));
	json_object_put(ps->last);
	ps->last = doc != NULL ? json_copy(doc) : NULL;
	ps->runs++;
	log_info("pulse %s ended in %llu ms: %zu tenants, %zu synced, %zu "
	    "errors (%zu crashed, %zu quarantined), skipped %zu disabled, %zu "
	    "without keys, %zu quarantined%s", p->id, (unsigned long long)ms,
	    p->users_total, p->synced, p->errors, p->crashed, p->quarantined,
	    p->skipped_disabled, p->skipped_no_keys, p->skipped_quarantined,
	    p->interrupted ? "; interrupted" : "");
	metrics_pulse_ended(ps->d->metrics, &(struct metrics_pulse){
	    (double)ms / 1000.0, p->synced, p->errors, p->skipped_disabled,
	    p->skipped_no_keys, p->skipped_quarantined, p->interrupted,
	    p->error[0] != '\0' });
	tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory");
	if (doc != NULL && (pw = calloc(1, sizeof(*pw))) != NULL) {
		pw->hdr.free = pulse_write_free;
		pw->ps = ps;
		pw->doc = json_object_get(doc);
		tp_err_clear(&err);
		if (jobs_work_submit(ps->d->jobs, &pw->hdr, pulse_write_work,
		    pulse_write_done, &err) == 0)
			return;
		pulse_write_free(&pw->hdr);
	}
	log_warnx("pulse %s: cannot write %s: %s", p->id, PULSE_LAST_PATH,
	    err.msg);
	/* answered all the same: the figures are in the reply and status */
	pulse_answer(ps, p);
}

/* Every chunk has ended: prices, then the syncs. */
static void
pulse_plan_finish(struct pulse_plan *pl, void *arg)
{
	struct pulse *p = arg;
	struct daemon *d = p->ps->d;

	p->plan_ms = pulse_elapsed_ms(p);
	p->to_sync = pl->nt;
	p->symbols = (size_t)json_object_object_length(pl->symbols);
	if (pl->rc == -1) {
		snprintf(p->error, sizeof(p->error), "cannot plan the pulse: "
		    "%s", pl->err.msg);
		log_warnx("pulse %s: %s", p->id, p->error);
		p->to_sync = 0;	/* the ones planned are not all: run none */
		pulse_plan_free(&pl->hdr);
		p->plan = NULL;
		p->phase = PULSE_SYNCING;
		pulse_maybe_end(p);
		return;
	}
	p->users_total = pl->users_total;
	p->skipped_disabled = pl->skipped_disabled;
	p->skipped_no_keys = pl->skipped_no_keys;
	p->skipped_quarantined = pl->skipped_quarantined;
	if (pl->capped > 0)
		log_warnx("pulse %s: %zu tenants have more than %d open "
		    "trades; the first %d of each are marked", p->id,
		    pl->capped, TRADES_JOB_MAX, TRADES_JOB_MAX);
	log_debug("pulse %s: %zu tenants, %zu to sync, %zu open trades over "
	    "%zu symbols", p->id, p->users_total, p->to_sync, pl->trades,
	    p->symbols);
	if (d->cfg.data_key_id[0] != '\0' && d->cfg.data_secret_file[0] !=
	    '\0' && p->symbols > 0 && pl->nt > 0 && !p->ps->stopping)
		pulse_submit_prices(p);
	else
		pulse_submit_syncs(p);
}

/* Starting */

static struct pulse *
pulse_begin(struct pulser *ps, const char *trigger, struct tp_err *err)
{
	struct daemon *d = ps->d;
	struct pulse *p;
	uint8_t r[8];
	size_t i;

	if (ps->stopping || d->jobs->stopping) {
		tp_err_set(err, TP_UNAVAILABLE, "%s is shutting down",
		    DAEMON_NAME);
		return NULL;
	}
	if (pause_check(d, err) == -1)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	TAILQ_INIT(&p->waiters);
	p->ps = ps;
	randombytes_buf(r, sizeof(r));
	p->id[0] = 'p';
	for (i = 0; i < sizeof(r); i++)
		snprintf(p->id + 1 + 2 * i, 3, "%02x", r[i]);
	snprintf(p->trigger, sizeof(p->trigger), "%s", trigger);
	store_timestamp(p->started_at, sizeof(p->started_at));
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->store_req0 = store_requests(d->store);
	p->phase = PULSE_PLANNING;
	if ((p->plan = pulse_plan_start(d->jobs, d->cfg.store_threads,
	    pulse_plan_finish, p, err)) == NULL) {
		free(p);
		return NULL;
	}
	ps->cur = p;
	log_info("pulse %s started (%s)", p->id, trigger);
	metrics_pulse_started(d->metrics);
	events_ops(d->events, "pulse.started", pulse_json(p));
	return p;
}

static void
pulse_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pulser *ps = arg;
	struct tp_err err;

	(void)fd;
	(void)what;
	if (ps->cur != NULL) {
		ps->overlaps++;
		log_warnx("pulse: %s is still running after %llu ms; this "
		    "turn is skipped", ps->cur->id,
		    (unsigned long long)pulse_elapsed_ms(ps->cur));
		return;
	}
	if (pause_active(ps->d, NULL)) {
		log_debug("pulse: paused; this turn is skipped");
		return;
	}
	tp_err_clear(&err);
	if (pulse_begin(ps, "schedule", &err) == NULL &&
	    err.code != TP_UNAVAILABLE)
		log_warnx("pulse: cannot start: %s", err.msg);
}

void
pulse_reload(struct pulser *ps)
{
	const struct config *cfg = &ps->d->cfg;
	struct timeval tv;
	uint64_t ms = cfg->pulse_enabled && !ps->stopping ?
	    cfg->pulse_interval : 0;

	if (ms == ps->armed_ms)
		return;
	evtimer_del(ps->timer);
	ps->armed_ms = ms;
	if (ms == 0) {
		log_info("pulse: the schedule is off ([pulse] enabled = no)");
		return;
	}
	tv = clock_tv(ms);
	event_del(ps->timer);
	event_assign(ps->timer, ps->d->base, -1, EV_PERSIST, pulse_timer, ps);
	evtimer_add(ps->timer, &tv);
	log_info("pulse: every %llu ms", (unsigned long long)ms);
}

/* The last pulse of an earlier run, read once, so that status answers
 * from memory and never waits behind other store work. */
static void
pulse_load_work(struct store *st, void *arg)
{
	struct pulser *ps = arg;
	struct tp_err err;

	if (tenant_doc_get(st, PULSE_LAST_PATH, &ps->stored, &err) == -1)
		log_warnx("pulse: cannot read %s: %s", PULSE_LAST_PATH,
		    err.msg);
}

static void
pulse_load_done(void *arg)
{
	struct pulser *ps = arg;

	if (ps->last == NULL) {
		ps->last = ps->stored;
		ps->stored = NULL;
	}
}

json_object *
pulse_last_json(struct pulser *ps)
{
	return ps->last != NULL ? json_copy(ps->last) : NULL;
}

struct pulser *
pulse_new(struct daemon *d, struct tp_err *err)
{
	struct pulser *ps;

	if ((ps = calloc(1, sizeof(*ps))) == NULL ||
	    (ps->timer = event_new(d->base, -1, EV_PERSIST, pulse_timer,
	    ps)) == NULL) {
		free(ps);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	ps->d = d;
	if (store_async(d->store, pulse_load_work, pulse_load_done, ps,
	    err) == -1) {
		event_free(ps->timer);
		free(ps);
		return NULL;
	}
	pulse_reload(ps);
	return ps;
}

void
pulse_stop(struct pulser *ps)
{
	if (ps == NULL)
		return;
	ps->stopping = true;
	evtimer_del(ps->timer);
	ps->armed_ms = 0;
}

void
pulse_free(struct pulser *ps)
{
	if (ps == NULL)
		return;
	pulse_free_one(ps->cur);
	json_object_put(ps->last);
	json_object_put(ps->stored);
	event_free(ps->timer);
	free(ps);
}

json_object *
pulse_status_json(struct pulser *ps)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "running", ps->cur != NULL ? pulse_json(ps->cur) :
	    NULL);
	json_add(o, "last", ps->last != NULL ? json_copy(ps->last) : NULL);
	json_add(o, "schedule_ms", json_object_new_int64(
	    (int64_t)ps->armed_ms));
	json_add(o, "runs", json_object_new_int64((int64_t)ps->runs));
	json_add(o, "overlaps", json_object_new_int64(
	    (int64_t)ps->overlaps));
	return o;
}

/* For the pulse op: the running pulse, or a new one. */
struct pulse *
pulse_start(struct pulser *ps, bool *started, struct tp_err *err)
{
	*started = false;
	/* paused: refused even while the pulse begun before drains */
	if (pause_check(ps->d, err) == -1)
		return NULL;
	if (ps->cur != NULL)
		return ps->cur;
	*started = true;
	return pulse_begin(ps, "api", err);
}

void
pulse_wait(struct pulse *p, struct pulse_waiter *w)
{
	w->pulse = p;
	TAILQ_INSERT_TAIL(&p->waiters, w, entry);
}

void
pulse_unwait(struct pulse_waiter *w)
{
	if (w->pulse != NULL) {
		TAILQ_REMOVE(&w->pulse->waiters, w, entry);
		w->pulse = NULL;
	}
}
