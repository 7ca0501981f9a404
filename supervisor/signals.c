/* signals.c: the signal and signals.list operations, and the signal document composed from a signal job's RESULT. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/pnl.h"
#include "common/store.h"
#include "common/wire_result.h"
#include "supervisor/api.h"
#include "supervisor/compose.h"
#include "supervisor/daemon.h"
#include "supervisor/jobs.h"
#include "supervisor/policy.h"
#include "supervisor/signals.h"
#include "supervisor/tenant_store.h"
#include "supervisor/trades.h"

#define SIGNALS_PATH_MAX	(UID_MAX_LEN + 64)

/* --- signal --------------------------------------------------------------- */

struct signal_ctx {
	struct job_waiter	 waiter;	/* while waiting for the job */
	char			 uid[UID_MAX_LEN + 1];
	char			 symbol[SIGNALS_SYMBOL_MAX + 1];
	bool			 wait;
	int			 blocked;	/* policy_tenant_blocked's */
	bool			 trading;	/* enabled when read */
	char			*equity;	/* decimal text, or NULL */
	json_object		*open;		/* OPEN trades of the symbol */
	struct tp_err		 err;
};

static void
signal_ctx_free(void *arg)
{
	struct signal_ctx *c = arg;

	jobs_unwait(&c->waiter);
	free(c->equity);
	json_object_put(c->open);
	free(c);
}

/* The equity of the first snapshot that has a valid one: data/snapshot
 * (the sync writes it), then alpacaAccounts/snapshot (the seed's). */
static char *
signal_equity(json_object *const *snaps, size_t n)
{
	char text[DEC_TEXT_MAX + 1];
	json_object *v;
	struct dec d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (snaps[i] == NULL ||
		    !json_object_object_get_ex(snaps[i], "equity", &v) ||
		    dec_from_json(v, &d, NULL) == -1 ||
		    dec_format(&d, text, sizeof(text)) == -1)
			continue;
		return strdup(text);	/* NULL: as if none */
	}
	return NULL;
}

/*
 * The tenant's OPEN trades of the symbol, which an opposite signal
 * closes (lifecycle_reverse): read with the snapshot, before the job, as
 * [{"path", "data"}]. At most TRADES_JOB_MAX are looked at, as a pulse
 * marks them.
 */
static int
signal_open_trades(struct store *st, struct signal_ctx *c)
{
	struct store_doclist list = { NULL, 0 };
	struct store_query q;
	json_object *open, *e, *sym;
	char coll[SIGNALS_PATH_MAX];
	size_t i;
	int rc = -1;

	snprintf(coll, sizeof(coll), "users/%s/shadowTradeHistory", c->uid);
	if ((open = json_object_new_string("OPEN")) == NULL ||
	    (c->open = json_object_new_array()) == NULL) {
		json_object_put(open);
		return tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
	}
	memset(&q, 0, sizeof(q));
	q.collection = coll;
	q.where_field = "status";
	q.where_value = open;
	q.order = STORE_ORDER_ASC;
	q.limit = TRADES_JOB_MAX;
	if (store_query(st, &q, &list, &c->err) == -1)
		goto out;
	for (i = 0; i < list.n; i++) {
		sym = json_object_object_get(list.docs[i].data, "symbol");
		if (!json_object_is_type(sym, json_type_string) ||
		    strcmp(json_object_get_string(sym), c->symbol) != 0)
			continue;
		if ((e = json_object_new_object()) == NULL ||
		    json_object_array_add(c->open, e) != 0) {
			json_object_put(e);
			tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
			goto out;
		}
		json_add(e, "path", json_object_new_string(list.docs[i].path));
		json_add(e, "data", json_object_get(list.docs[i].data));
	}
	rc = 0;
out:
	json_object_put(open);
	store_doclist_free(&list);
	return rc;
}

static void
signal_work(struct store *st, void *arg)
{
	struct signal_ctx *c = ((struct api_req *)arg)->ctx;
	char p0[SIGNALS_PATH_MAX], p1[SIGNALS_PATH_MAX];
	const char *paths[2] = { p0, p1 };
	struct store_doc docs[2];
	json_object *snaps[2];
	enum policy_block why;

	c->blocked = policy_tenant_blocked(st, c->uid, &why, NULL, &c->err);
	/* a signal is advice: a tenant whose trading is disabled gets one
	 * too (the lifecycle opens no trade for it) */
	c->trading = c->blocked == 0;
	if (c->blocked == 1 && why == POLICY_DISABLED) {
		c->blocked = 0;
		tp_err_clear(&c->err);
	}
	if (c->blocked != 0)
		return;
	snprintf(p0, sizeof(p0), "users/%s/data/snapshot", c->uid);
	snprintf(p1, sizeof(p1), "users/%s/alpacaAccounts/snapshot", c->uid);
	if (store_get_many(st, paths, 2, docs, &c->err) == -1) {
		c->blocked = -1;
		return;
	}
	snaps[0] = docs[0].data;
	snaps[1] = docs[1].data;
	c->equity = signal_equity(snaps, 2);
	store_doc_clear(&docs[0]);
	store_doc_clear(&docs[1]);
	if (signal_open_trades(st, c) == -1)
		c->blocked = -1;
}

/* The reply: the signal as the API returns it (with "id" and
 * "job_id"), or the job's error. */
static void
signal_job_ended(struct job *job, struct job_waiter *w)
{
	struct api_req *req = w->arg;
	json_object *o, *r = NULL;
	struct tp_err err;

	if (job->interrupted) {
		tp_err_set(&err, TP_UNAVAILABLE, "job %s: %s", job->id,
		    job->err_msg);
		api_reply_error(req, &err);
		return;
	}
	if (job->state != JOB_DONE) {
		tp_err_set(&err, job->err_code != TP_OK ? job->err_code :
		    TP_INTERNAL, "signal job %s failed: %s", job->id,
		    job->err_msg);
		api_reply_error(req, &err);
		return;
	}
	if ((o = jobs_job_json(job)) != NULL &&
	    json_object_object_get_ex(o, "result", &r) && r != NULL &&
	    json_object_is_type(r, json_type_object)) {
		json_object_get(r);
		json_add(r, "job_id", json_object_new_string(job->id));
	} else
		r = NULL;
	json_object_put(o);
	if (r == NULL) {
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory");
		api_reply_error(req, &err);
		return;
	}
	api_reply(req, r);
}

static void
signal_done(void *arg)
{
	struct api_req *req = arg;
	struct signal_ctx *c = req->ctx;
	struct tp_err err;
	struct job *job;

	if (c->blocked != 0) {
		api_reply_error(req, &c->err);
		return;
	}
	tp_err_clear(&err);
	if ((job = jobs_submit(req->d->jobs, c->uid, JOB_SIGNAL, &err)) ==
	    NULL) {
		api_reply_error(req, &err);
		return;
	}
	/* dispatch is deferred to the loop: the job is complete before it
	 * can be sent */
	memcpy(job->symbol, c->symbol, sizeof(job->symbol));
	job->signal_trading = c->trading;
	job->signal_equity = c->equity;
	c->equity = NULL;
	job->signal_open = c->open;
	c->open = NULL;
	log_debug("job %s: signal of %s on %s queued", job->id, c->uid,
	    c->symbol);
	if (c->wait) {
		c->waiter.ended = signal_job_ended;
		c->waiter.arg = req;
		jobs_wait(job, &c->waiter);
	} else
		api_reply(req, jobs_job_json(job));
}

int
signals_start(struct api_req *req, struct tp_err *err)
{
	struct signal_ctx *c;
	const char *uid, *symbol;
	bool wait = true;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_str(req, "symbol", true, 1, 64, &symbol, err) == -1 ||
	    api_arg_bool(req, "wait", false, &wait, err) == -1)
		return -1;
	if (!pnl_valid_symbol(symbol))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "argument "
		    "\"symbol\" is not a symbol (1 to %d of A-Z 0-9 . / -, "
		    "starting with a letter or digit)", PNL_SYMBOL_MAX);
	if (req->d->jobs->stopping)
		return tp_err_set(err, TP_UNAVAILABLE, "%s is shutting down",
		    DAEMON_NAME);
	if (policy_quarantined(req->d->jobs->policy, uid, err))
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	snprintf(c->symbol, sizeof(c->symbol), "%s", symbol);
	c->wait = wait;
	req->ctx = c;
	req->ctx_free = signal_ctx_free;
	return api_submit(req, signal_work, signal_done, err);
}

/* --- signals.list ----------------------------------------------------------- */

struct signals_list_ctx {
	char			 uid[UID_MAX_LEN + 1];
	size_t			 limit;
	int			 rc;
	json_object		*result;
	struct tp_err		 err;
};

static void
signals_list_ctx_free(void *arg)
{
	struct signals_list_ctx *c = arg;

	json_object_put(c->result);
	free(c);
}

static void
signals_list_work(struct store *st, void *arg)
{
	struct signals_list_ctx *c = ((struct api_req *)arg)->ctx;
	struct store_doclist list = { NULL, 0 };
	json_object *a, *d;
	size_t i;
	int rc;

	if ((rc = tenant_exists(st, c->uid, &c->err)) != 1) {
		if (rc == 0)
			tp_err_set(&c->err, TP_NOT_FOUND, "no tenant %s",
			    c->uid);
		c->rc = -1;
		return;
	}
	if (tenant_signals_newest(st, c->uid, c->limit, &list, &c->err) == -1) {
		c->rc = -1;
		return;
	}
	c->result = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; c->result != NULL && a != NULL && i < list.n; i++) {
		if ((d = json_copy(list.docs[i].data)) == NULL)
			break;
		json_add(d, "id", json_object_new_string(list.docs[i].id));
		json_object_array_add(a, d);
	}
	if (c->result == NULL || a == NULL || i < list.n) {
		json_object_put(a);
		tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED, "out of memory");
		c->rc = -1;
	} else {
		json_add(c->result, "uid", json_object_new_string(c->uid));
		json_add(c->result, "signals", a);
	}
	store_doclist_free(&list);
}

static void
signals_list_done(void *arg)
{
	struct api_req *req = arg;
	struct signals_list_ctx *c = req->ctx;

	api_reply_outcome(req, c->rc, &c->result, &c->err);
}

int
signals_list_start(struct api_req *req, struct tp_err *err)
{
	struct signals_list_ctx *c;
	int64_t limit = SIGNALS_LIST_MAX;
	const char *uid;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_int(req, "limit", false, 1, SIGNALS_LIST_MAX, &limit,
	    err) == -1)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->limit = (size_t)limit;
	req->ctx = c;
	req->ctx_free = signals_list_ctx_free;
	return api_submit(req, signals_list_work, signals_list_done, err);
}

/* --- the document ----------------------------------------------------------- */

static int
signals_add(json_object *o, const char *key, json_object *v)
{
	return v == NULL ? -1 : json_add(o, key, v);
}

/* A number with the decimals we choose (json-c would print 17 digits);
 * the store keeps a number's text. */
static json_object *
signals_num(double v, int places)
{
	char buf[64];

	/* the value is the text's, so the two never disagree (Firestore
	 * keeps the double) */
	snprintf(buf, sizeof(buf), "%.*f", places, v);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static json_object *
signals_doc(const struct job *job, const struct wire_result *r,
    const struct config *cfg, const char *ts)
{
	const struct wire_signal *s = &r->signal;
	json_object *d, *ind, *par;
	int rc = 0;

	d = json_object_new_object();
	ind = json_object_new_object();
	par = json_object_new_object();
	if (d == NULL || ind == NULL || par == NULL) {
		json_object_put(d);
		json_object_put(ind);
		json_object_put(par);
		return NULL;
	}
	rc |= signals_add(ind, "sma_fast", signals_num(s->sma_fast, 4));
	rc |= signals_add(ind, "sma_slow", signals_num(s->sma_slow, 4));
	rc |= signals_add(ind, "rsi", signals_num(s->rsi, 4));
	rc |= signals_add(par, "fast", json_object_new_int64(
	    cfg->signal_fast));
	rc |= signals_add(par, "slow", json_object_new_int64(
	    cfg->signal_slow));
	rc |= signals_add(par, "rsi_period", json_object_new_int64(
	    cfg->signal_rsi_period));
	rc |= signals_add(par, "bars", json_object_new_int64(s->bars));
	rc |= signals_add(d, "symbol", json_object_new_string(job->symbol));
	rc |= signals_add(d, "action", json_object_new_string(
	    strategy_action_name(s->action)));
	rc |= signals_add(d, "confidence", signals_num(s->confidence,
	    STRATEGY_CONF_PLACES));
	rc |= signals_add(d, "reasoning", json_object_new_string(
	    s->reasoning));
	rc |= signals_add(d, "price", dec_to_json_number(&s->price));
	rc |= json_add(d, "indicators", ind);
	rc |= signals_add(d, "strategy", json_object_new_string(
	    STRATEGY_NAME));
	rc |= json_add(d, "parameters", par);
	rc |= signals_add(d, "bar_at", json_object_new_string(s->bar_at));
	rc |= signals_add(d, "job_id", json_object_new_string(job->id));
	rc |= signals_add(d, "timestamp", json_object_new_string(ts));
	if (rc != 0) {
		json_object_put(d);
		return NULL;
	}
	return d;
}

int
signals_compose_made(struct job *job, const struct wire_result *r,
    const struct compose_outcome *c, const struct config *cfg,
    json_object **api_form,
    struct signal_made *made)
{
	char path[PATH_MAX_LEN + 1], id[AUTO_ID_LEN + 1], ts[32];
	json_object *doc, *form;

	if (!c->ok)
		return 0;	/* the job's error is its answer; nothing kept */
	path_auto_id(id);
	store_timestamp(ts, sizeof(ts));
	if ((doc = signals_doc(job, r, cfg, ts)) == NULL)
		return -1;
	if ((form = json_copy(doc)) == NULL ||
	    signals_add(form, "id", json_object_new_string(id)) == -1) {
		json_object_put(form);
		json_object_put(doc);
		return -1;
	}
	snprintf(path, sizeof(path), "users/%s/signals/%s", job->uid, id);
	/* CREATE: a signal is never changed, and an id taken fails */
	store_batch_add_ref(c->sb, STORE_W_CREATE, path, doc);
	json_object_put(doc);
	json_object_put(*api_form);
	*api_form = form;
	if (made != NULL) {
		memset(made, 0, sizeof(*made));
		memcpy(made->id, id, sizeof(made->id));
		snprintf(made->uid, sizeof(made->uid), "%s", job->uid);
		snprintf(made->symbol, sizeof(made->symbol), "%s",
		    job->symbol);
		made->action = r->signal.action;
		made->confidence = r->signal.confidence;
		made->price = r->signal.price;
		made->has_equity = job->signal_equity != NULL &&
		    dec_parse(job->signal_equity, strlen(job->signal_equity),
		    &made->equity, NULL) == 0;
		made->trading_enabled = job->signal_trading;
		memcpy(made->timestamp, ts, sizeof(made->timestamp));
		made->job_id = job->id;
	}
	return 0;
}

int
signals_compose(struct job *job, const struct wire_result *r,
    const struct compose_outcome *c, const struct config *cfg,
    json_object **api_form)
{
	struct signal_made made;

	if (signals_compose_made(job, r, c, cfg, api_form, &made) == -1)
		return -1;
	if (!c->ok)
		return 0;
	/* the trades it closes and opens commit with the signal (c->sb) */
	return signals_trade(job, &made, c->sb, cfg, *api_form);
}
