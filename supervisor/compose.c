/* compose.c: the store writes of an accepted sync RESULT and the summary the API shows, composed from the job as sent. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <string.h>

#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/store.h"
#include "common/wire.h"
#include "common/wire_result.h"
#include "supervisor/compose.h"
#include "supervisor/jobs.h"
#include "supervisor/lifecycle.h"

/* The worker's error, made safe to store and show (the checker bounded
 * it). */
void
compose_safe_msg(const char *msg, char *out, size_t size)
{
	size_t i;

	snprintf(out, size, "%s", msg != NULL && *msg != '\0' ? msg :
	    "the worker gave no reason");
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
	/* a worker holds its tenant's keys: never store one of them */
	if (tenantlog_looks_secret(out))
		snprintf(out, size, "(the worker's message is withheld: it "
		    "looked like a secret)");
}

/* json_add, where a NULL v (out of memory) is a failure too. */
static int
compose_add(json_object *o, const char *key, json_object *v)
{
	return v == NULL ? -1 : json_add(o, key, v);
}

/* {code, message, at} of a failure, as last_sync_error and pnl_error
 * hold it. */
static json_object *
compose_error_doc(enum tp_code code, const char *msg, const char *at,
    const char *job_id)
{
	json_object *e;
	char safe[WIRE_ERR_MSG_MAX + 1];

	if ((e = json_object_new_object()) == NULL)
		return NULL;
	compose_safe_msg(msg, safe, sizeof(safe));
	if (compose_add(e, "code", json_object_new_string(
	    tp_code_name(code))) == -1 ||
	    compose_add(e, "message", json_object_new_string(safe)) == -1 ||
	    compose_add(e, "at", json_object_new_string(at)) == -1 ||
	    (job_id != NULL && compose_add(e, "job_id",
	    json_object_new_string(job_id)) == -1)) {
		json_object_put(e);
		return NULL;
	}
	return e;
}

/* Adds one merge to sb; data is given up. */
static int
compose_merge(struct store_batch *sb, const char *path, json_object *data)
{
	if (data == NULL)
		return -1;
	/* the batch takes a reference of its own; ours is given up */
	store_batch_add_ref(sb, STORE_W_MERGE, path, data);
	json_object_put(data);
	return 0;
}

/*
 * The snapshot's money fields as numbers with their exact text: the
 * dashboard computes with them (a Firestore string would break the
 * seed's code), and the store keeps the text (docs/firestore.md).
 */
static int
compose_money(json_object *snap)
{
	struct json_object_iterator it, end;
	struct tp_err err;
	struct dec d;
	json_object *v, *n;
	const char *s;

	it = json_object_iter_begin(snap);
	end = json_object_iter_end(snap);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		if (!wire_result_money(json_object_iter_peek_name(&it)) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		s = json_object_get_string(v);
		/* checked by wire_result_check: a decimal that parses */
		if (dec_parse(s, strlen(s), &d, &err) == -1 ||
		    (n = dec_to_json_number(&d)) == NULL)
			return -1;
		/* replacing the value keeps the iterator's entry */
		json_object_object_add(snap, json_object_iter_peek_name(&it),
		    n);
	}
	return 0;
}

/* The JOB's trade of that id (the checker matched every mark to one). */
static json_object *
compose_trade(json_object *trades, const char *id)
{
	json_object *t;
	const char *tid;
	size_t i, n;

	n = trades != NULL && json_object_is_type(trades, json_type_array) ?
	    json_object_array_length(trades) : 0;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(trades, i);
		if ((tid = json_get_str(t, "id")) != NULL && strcmp(tid, id) ==
		    0)
			return t;
	}
	return NULL;
}

/* Does any trade of the JOB have an exit level? Most have none, and then
 * no mark needs its trade looked up. */
static bool
compose_levels(json_object *trades)
{
	json_object *t;
	size_t i, n;

	n = trades != NULL && json_object_is_type(trades, json_type_array) ?
	    json_object_array_length(trades) : 0;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(trades, i);
		if (json_object_object_get(t, "take_profit_price") != NULL ||
		    json_object_object_get(t, "stop_loss_price") != NULL)
			return true;
	}
	return false;
}

/*
 * Closes the trade in d (its mark's merge) when the mark's price reached
 * one of its exit levels. Decided from the typed price and the trade as
 * the JOB sent it; a trade that does not parse stays open (the worker
 * could mark it only if it did). 1 closed, 0 kept, -1 out of memory.
 */
static int
compose_close(json_object *trades, const struct wire_mark *m, const char *at,
    json_object *d)
{
	struct lifecycle_trade t;
	enum lifecycle_close why;
	struct tp_err err;
	json_object *jt, *tp = NULL, *sl = NULL;

	/* most trades have no exit level: no decimal to parse for them */
	if ((jt = compose_trade(trades, m->id)) == NULL ||
	    (!json_object_object_get_ex(jt, "take_profit_price", &tp) &&
	    !json_object_object_get_ex(jt, "stop_loss_price", &sl)) ||
	    (tp == NULL && sl == NULL))
		return 0;
	if (lifecycle_trade_parse(jt, &t, &err) == -1 ||
	    (why = lifecycle_close_check(&t, &m->price)) == LIFECYCLE_KEEP)
		return 0;
	if (lifecycle_close_fields(&t, &m->price, why, at, d, &err) == -1)
		return err.code == TP_RESOURCE_EXHAUSTED ? -1 : 0;
	return 1;
}

/*
 * The writes of an accepted sync, composed from the job as sent: the
 * same documents and fields a sync always wrote. At most 3 + trades + 1
 * documents, each of bounded fields (common/wire.h).
 */
int
compose_sync(struct job *job, const struct wire_result *r,
    const struct compose_outcome *c)
{
	json_object *snap, *d, *e;
	const struct wire_mark *m;
	char path[PATH_MAX_LEN + 1], at[32];
	size_t i;
	int rc;
	bool levels = compose_levels(c->trades);

	if (c->closed != NULL)
		*c->closed = 0;
	store_timestamp(at, sizeof(at));
	if (!c->ok) {
		snprintf(path, sizeof(path), "users/%s/status/last_sync_error",
		    job->uid);
		if ((e = compose_error_doc(c->wcode, c->wmsg, at, job->id)) ==
		    NULL)
			return -1;
		store_batch_add(c->sb, STORE_W_SET, path, e);
		json_object_put(e);
		return 0;
	}
	if ((snap = json_copy(r->account)) == NULL || compose_money(snap) ==
	    -1 || compose_add(snap, "synced_at", json_object_new_string(at)) ==
	    -1) {
		json_object_put(snap);
		return -1;
	}
	snprintf(path, sizeof(path), "users/%s/data/snapshot", job->uid);
	if (compose_merge(c->sb, path, json_object_get(snap)) == -1) {
		json_object_put(snap);
		return -1;
	}
	snprintf(path, sizeof(path), "users/%s/alpacaAccounts/snapshot",
	    job->uid);
	if (compose_merge(c->sb, path, snap) == -1)
		return -1;
	snprintf(path, sizeof(path), "users/%s/status/last_sync", job->uid);
	if ((d = json_object_new_object()) == NULL ||
	    compose_add(d, "at", json_object_new_string(at)) == -1 ||
	    compose_add(d, "job_id", json_object_new_string(job->id)) == -1 ||
	    compose_add(d, "key_id_last4", json_object_new_string(
	    r->key_id_last4)) == -1 || compose_merge(c->sb, path, d) == -1) {
		json_object_put(d);
		return -1;
	}
	for (i = 0; i < r->nmarks; i++) {
		m = &r->marks[i];
		snprintf(path, sizeof(path), "users/%s/shadowTradeHistory/%s",
		    job->uid, m->id);
		if ((d = json_object_new_object()) == NULL)
			return -1;
		if (m->ok ? compose_add(d, "current_price",
		    dec_to_json_number(&m->price)) == -1 ||
		    compose_add(d, "unrealized_pnl",
		    dec_to_json_number(&m->pnl)) == -1 ||
		    compose_add(d, "pnl_percent",
		    dec_to_json_number(&m->pct)) == -1 ||
		    compose_add(d, "marked_at", json_object_new_string(at)) ==
		    -1 || json_object_object_add(d, "pnl_error", NULL) != 0 :
		    compose_add(d, "pnl_error", compose_error_doc(m->code,
		    m->message, at, NULL)) == -1 || compose_add(d, "marked_at",
		    json_object_new_string(at)) == -1) {
			json_object_put(d);
			return -1;
		}
		if (m->ok && levels &&
		    (rc = compose_close(c->trades, m, at, d)) != 0) {
			if (rc == -1) {
				json_object_put(d);
				return -1;
			}
			if (c->closed != NULL)
				(*c->closed)++;
		}
		if (compose_merge(c->sb, path, d) == -1)
			return -1;
	}
	snprintf(path, sizeof(path), "users/%s/status/last_sync_error",
	    job->uid);
	store_batch_add(c->sb, STORE_W_DELETE, path, NULL);
	return 0;
}

/* The job's summary, as the API shows it: composed from what the worker
 * reported. */
json_object *
compose_summary(struct job *job, const struct wire_result *r)
{
	json_object *o, *q;
	char sum[DEC_TEXT_MAX + 1];
	size_t i, marked = 0;
	int rc = 0;

	if ((o = json_object_new_object()) == NULL ||
	    (q = json_object_new_object()) == NULL) {
		json_object_put(o);
		return NULL;
	}
	if (r->req_account >= 0)
		rc |= compose_add(q, "account", json_object_new_int64(
		    r->req_account));
	rc |= compose_add(q, "trades_latest", json_object_new_int64(
	    r->req_trades));
	rc |= compose_add(q, "retries", json_object_new_int64(r->retries));
	if (job->kind == JOB_PRICES) {
		rc |= compose_add(o, "prices", json_object_get(r->prices));
		rc |= compose_add(o, "requests", q);
	} else {
		for (i = 0; i < r->nmarks; i++)
			marked += r->marks[i].ok;
		wire_result_pnl_sum(r, sum, sizeof(sum));
		rc |= compose_add(o, "key_id_last4", json_object_new_string(
		    r->key_id_last4));
		rc |= compose_add(o, "equity", json_object_new_string(
		    json_get_str(r->account, "equity")));
		rc |= compose_add(o, "status", json_object_new_string(
		    json_get_str(r->account, "status")));
		rc |= compose_add(o, "trades_marked", json_object_new_int64(
		    (int64_t)marked));
		rc |= compose_add(o, "trades_failed", json_object_new_int64(
		    (int64_t)(r->nmarks - marked)));
		rc |= compose_add(o, "unrealized_pnl",
		    json_object_new_string(sum));
		rc |= compose_add(o, "requests", q);
	}
	if (rc != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
