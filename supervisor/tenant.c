/* tenant.c: tenant.add, tenant.list, tenant.show, tenant.release and trading.set. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/secrets.h"
#include "common/store.h"
#include "common/tenantlog.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/jobs.h"
#include "supervisor/keyring.h"
#include "supervisor/policy.h"
#include "supervisor/tenant.h"
#include "supervisor/tenant_store.h"

#define TENANT_PATH_MAX	(UID_MAX_LEN + 64)
#define TENANT_TRADES_MAX	10000	/* open trades summed by tenant.show */

/*
 * State of one tenant operation. The work function (a store thread) reads
 * the inputs and fills result/err; the loop touches it again only in the
 * done callback, so nothing here is shared while both could run.
 */
struct tenant_ctx {
	char		 uid[UID_MAX_LEN + 1];
	json_object	*in;		/* tenant.add: a private copy of profile */
	bool		 enabled;	/* trading.set */
	bool		 existed;	/* tenant.release: a quarantine document */
	char		 reason[API_REASON_MAX + 1];
	char		 by[UID_MAX_LEN + 8];	/* trading.set: "operator" or
						   "user:" and the uid */
	size_t		 limit;		/* tenant.list */
	char		 after[UID_MAX_LEN + 1];
	char		 stamp[32];	/* created_at / updated_at */
	struct keyring	*ring;		/* tenant.show: opens the keys */
	json_object	*result;
	struct tp_err	 err;
	int		 rc;
};

static void
tenant_ctx_free(void *arg)
{
	struct tenant_ctx *c = arg;

	json_object_put(c->in);
	json_object_put(c->result);
	keyring_unref(c->ring);
	free(c);
}

static struct tenant_ctx *
tenant_ctx_new(struct api_req *req, struct tp_err *err)
{
	struct tenant_ctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	req->ctx = c;
	req->ctx_free = tenant_ctx_free;
	return c;
}

/* Answers from the ctx: the error, or the result (handed over). */
static void
tenant_answer(struct api_req *req, struct tenant_ctx *c)
{
	json_object *result;

	if (c->rc == -1) {
		api_reply_error(req, &c->err);
		return;
	}
	result = c->result;
	c->result = NULL;
	api_reply(req, result);
}

/* tenant.add */

static void
tenant_add_work(struct store *st, void *arg)
{
	struct tenant_ctx *c = ((struct api_req *)arg)->ctx;
	struct store_batch *b;
	json_object *root, *trading;
	char path[TENANT_PATH_MAX];

	store_timestamp(c->stamp, sizeof(c->stamp));
	root = c->in != NULL ? json_object_get(c->in) :
	    json_object_new_object();
	trading = json_object_new_object();
	if ((b = store_batch_new()) == NULL || root == NULL ||
	    trading == NULL) {
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
		goto out;
	}
	json_add(root, "created_at", json_object_new_string(c->stamp));
	json_add(trading, "enabled", json_object_new_boolean(1));
	json_add(trading, "updated_at", json_object_new_string(c->stamp));
	json_add(trading, "reason", json_object_new_string("tenant added"));
	snprintf(path, sizeof(path), "users/%s", c->uid);
	store_batch_add(b, STORE_W_CREATE, path, root);
	snprintf(path, sizeof(path), "users/%s/status/trading", c->uid);
	store_batch_add(b, STORE_W_SET, path, trading);
	if (store_batch_commit(st, b, &c->err) == -1) {
		c->rc = -1;
		if (c->err.code == TP_ALREADY_EXISTS)
			tp_err_set(&c->err, TP_ALREADY_EXISTS,
			    "tenant %s already exists", c->uid);
		goto out;
	}
	if ((c->result = json_object_new_object()) == NULL) {
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
		goto out;
	}
	json_add(c->result, "uid", json_object_new_string(c->uid));
	json_add(c->result, "created_at", json_object_new_string(c->stamp));
out:
	store_batch_free(b);
	json_object_put(root);
	json_object_put(trading);
}

static void
tenant_add_done(void *arg)
{
	struct api_req *req = arg;
	struct tenant_ctx *c = req->ctx;

	if (c->rc == 0)
		tenant_log(req->d, c->uid, TLOG_INFO, "tenant", "tenant added");
	tenant_answer(req, c);
}

/* Profile fields sit beside created_at in users/{uid}: plain names only. */
static int
tenant_check_profile(json_object *profile, struct tp_err *err)
{
	struct json_object_iterator it, end;
	const char *key;

	it = json_object_iter_begin(profile);
	end = json_object_iter_end(profile);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		if (strcmp(key, "created_at") == 0)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "profile field \"created_at\" is set by the daemon");
		if (strchr(key, '.') != NULL ||
		    path_check_field(key, NULL) == -1)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "profile field names are 1 to 128 characters of "
			    "A-Z a-z 0-9 _");
	}
	return 0;
}

int
tenant_add_start(struct api_req *req, struct tp_err *err)
{
	struct tenant_ctx *c;
	json_object *profile = NULL;
	const char *uid;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_map(req, "profile", false, API_PROFILE_MAX, &profile,
	    err) == -1)
		return -1;
	if (profile != NULL && tenant_check_profile(profile, err) == -1)
		return -1;
	if ((c = tenant_ctx_new(req, err)) == NULL)
		return -1;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	/* a copy: json-c reference counts are not atomic */
	if (profile != NULL && (c->in = json_copy(profile)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return api_submit(req, tenant_add_work, tenant_add_done, err);
}

/* tenant.list */

/* The documents tenant.list reads per tenant, in one bulk read a page. */
static const char *const tenant_list_docs[] = {
	"status/trading", "secrets/alpaca", "status/quarantine",
	"status/last_sync", "status/last_sync_error",
};
#define TENANT_LIST_NDOCS \
	(sizeof(tenant_list_docs) / sizeof(tenant_list_docs[0]))
#define TENANT_LIST_CHUNK (STORE_GET_MANY_MAX / TENANT_LIST_NDOCS)

/* A string field as a new JSON string, or NULL. */
static json_object *
tenant_list_str(json_object *doc, const char *key)
{
	const char *v = doc != NULL ? json_get_str(doc, key) : NULL;

	return v != NULL ? json_object_new_string(v) : NULL;
}

/*
 * The last outcome of the tenant's syncs, from what they write:
 * quarantined (status/quarantine, since), error (status/last_sync_error:
 * code, at) or ok (status/last_sync, at); NULL when it never synced.
 */
static json_object *
tenant_list_outcome(json_object *quar, json_object *ok, json_object *bad)
{
	json_object *o;

	if (quar == NULL && ok == NULL && bad == NULL)
		return NULL;
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (quar != NULL) {
		json_add(o, "result", json_object_new_string("quarantined"));
		json_add(o, "at", tenant_list_str(quar, "since"));
	} else if (bad != NULL) {
		json_add(o, "result", json_object_new_string("error"));
		json_add(o, "code", tenant_list_str(bad, "code"));
		json_add(o, "at", tenant_list_str(bad, "at"));
	} else {
		json_add(o, "result", json_object_new_string("ok"));
		json_add(o, "at", tenant_list_str(ok, "at"));
	}
	return o;
}

/* The entries of uids[0..n) (at most TENANT_LIST_CHUNK) into arr. */
static int
tenant_list_entries(struct store *st, char **uids, size_t n, json_object *arr,
    struct tp_err *err)
{
	const char *paths[TENANT_LIST_CHUNK * TENANT_LIST_NDOCS];
	struct store_doc *docs;
	char *buf;
	json_object *e, *d[TENANT_LIST_NDOCS];
	size_t i, k, m = n * TENANT_LIST_NDOCS;
	bool enabled;
	int rc = -1;

	if ((buf = calloc(m, TENANT_PATH_MAX)) == NULL ||
	    (docs = calloc(m, sizeof(*docs))) == NULL) {
		free(buf);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < TENANT_LIST_NDOCS; k++) {
			char *p = buf + (i * TENANT_LIST_NDOCS + k) *
			    TENANT_PATH_MAX;

			snprintf(p, TENANT_PATH_MAX, "users/%s/%s", uids[i],
			    tenant_list_docs[k]);
			paths[i * TENANT_LIST_NDOCS + k] = p;
		}
	if (store_get_many(st, paths, m, docs, err) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		for (k = 0; k < TENANT_LIST_NDOCS; k++)
			d[k] = docs[i * TENANT_LIST_NDOCS + k].data;
		/* no kill-switch document: trading was never enabled */
		enabled = false;
		if (d[0] != NULL && !json_get_bool(d[0], "enabled", &enabled))
			enabled = false;
		if ((e = json_object_new_object()) == NULL) {
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		json_add(e, "uid", json_object_new_string(uids[i]));
		json_add(e, "trading_enabled", json_object_new_boolean(
		    enabled));
		json_add(e, "keys_set", json_object_new_boolean(d[1] != NULL));
		json_add(e, "quarantined", json_object_new_boolean(
		    d[2] != NULL));
		json_add(e, "last_outcome", tenant_list_outcome(d[2], d[3],
		    d[4]));
		if (json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < m; i++)
		store_doc_clear(&docs[i]);
	free(docs);
	free(buf);
	return rc;
}

static void
tenant_list_work(struct store *st, void *arg)
{
	struct tenant_ctx *c = ((struct api_req *)arg)->ctx;
	json_object *arr = NULL;
	char **uids = NULL;
	size_t n = 0, i, k;

	/* one more than asked, to know whether there is a next page */
	if (store_list_tenants(st, c->limit + 1,
	    c->after[0] != '\0' ? c->after : NULL, &uids, &n,
	    &c->err) == -1) {
		c->rc = -1;
		return;
	}
	if ((arr = json_object_new_array()) == NULL ||
	    (c->result = json_object_new_object()) == NULL) {
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
		goto out;
	}
	for (i = 0; i < n && i < c->limit; i += k) {
		k = n - i < c->limit - i ? n - i : c->limit - i;
		if (k > TENANT_LIST_CHUNK)
			k = TENANT_LIST_CHUNK;
		if (tenant_list_entries(st, uids + i, k, arr, &c->err) == -1) {
			c->rc = -1;
			goto out;
		}
	}
	json_add(c->result, "tenants", arr);
	arr = NULL;
	json_add(c->result, "next", n > c->limit ?
	    json_object_new_string(uids[c->limit - 1]) : NULL);
out:
	json_object_put(arr);
	store_strings_free(uids, n);
}

static void
tenant_list_done(void *arg)
{
	struct api_req *req = arg;

	tenant_answer(req, req->ctx);
}

int
tenant_list_start(struct api_req *req, struct tp_err *err)
{
	struct tenant_ctx *c;
	int64_t limit = API_LIST_DEFAULT;
	const char *after = NULL;

	if (api_arg_int(req, "limit", false, 1, INT32_MAX, &limit,
	    err) == -1 ||
	    api_arg_uid(req, "after", false, &after, err) == -1)
		return -1;
	if ((c = tenant_ctx_new(req, err)) == NULL)
		return -1;
	/* a large listing comes in pages: "next" goes on */
	c->limit = (size_t)(limit > API_LIST_MAX ? API_LIST_MAX : limit);
	if (after != NULL)
		snprintf(c->after, sizeof(c->after), "%s", after);
	return api_submit(req, tenant_list_work, tenant_list_done, err);
}

/* tenant.show */

/* {enabled, reason, updated_at} only, whatever else the doc holds. */
static json_object *
tenant_show_trading(json_object *doc)
{
	json_object *o, *v;
	static const char *const fields[] = { "enabled", "reason",
	    "updated_at", "by" };
	size_t i;

	if (doc == NULL || (o = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_add(o, fields[i],
		    json_object_object_get_ex(doc, fields[i], &v) ?
		    json_copy(v) : NULL);
	return o;
}

/*
 * Never a ciphertext: whether keys are set, and what identifies them. The
 * key id's end comes from the sealed key id, opened and wiped here: the
 * document's own "key_id_last4" is not authenticated, and a document
 * moved from another tenant would show that tenant's. A document that
 * does not open says so in "error" instead.
 */
static json_object *
tenant_show_keys(const struct tenant_ctx *c, json_object *doc)
{
	struct tp_err err;
	json_object *o;
	char last4[8];
	const char *s;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "set", json_object_new_boolean(doc != NULL));
	if (doc == NULL)
		return o;
	tp_err_clear(&err);
	if (secrets_alpaca_last4(keyring_secrets(c->ring), c->uid, doc, last4,
	    sizeof(last4), &err) == 0)
		json_add(o, "key_id_last4", json_object_new_string(last4));
	else
		json_add(o, "error", json_object_new_string(err.msg));
	json_add(o, "key_version", json_object_new_int64(
	    secrets_sealed_version(json_get_obj(doc, "sealed"))));
	if ((s = json_get_str(doc, "updated_at")) != NULL)
		json_add(o, "updated_at", json_object_new_string(s));
	return o;
}

/*
 * The tenant's OPEN shadow trades in short: how many, how many the last
 * sync could not mark (pnl_error), and the sum of their unrealized P&L
 * (exact decimal; null when none is marked).
 */
static json_object *
tenant_show_trades(struct store *st, const char *uid, struct tp_err *err)
{
	struct store_doclist list = { NULL, 0 };
	struct store_query q;
	struct dec sum, v;
	json_object *o = NULL, *open, *pnl, *e;
	char coll[TENANT_PATH_MAX], buf[64];
	size_t i, marked = 0, failed = 0;
	bool more;

	snprintf(coll, sizeof(coll), "users/%s/shadowTradeHistory", uid);
	if ((open = json_object_new_string("OPEN")) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	memset(&q, 0, sizeof(q));
	q.collection = coll;
	q.where_field = "status";
	q.where_value = open;
	q.limit = TENANT_TRADES_MAX + 1;
	if (store_query(st, &q, &list, err) == -1) {
		json_object_put(open);
		return NULL;
	}
	json_object_put(open);
	more = list.n > TENANT_TRADES_MAX;
	dec_from_int(0, &sum);
	for (i = 0; i < list.n && i < TENANT_TRADES_MAX; i++) {
		if (json_object_object_get_ex(list.docs[i].data, "pnl_error",
		    &e) && e != NULL) {
			failed++;
			continue;
		}
		if (!json_object_object_get_ex(list.docs[i].data,
		    "unrealized_pnl", &pnl) || pnl == NULL ||
		    dec_from_json(pnl, &v, err) == -1 ||
		    dec_add(&sum, &v, &sum, err) == -1)
			continue;
		marked++;
	}
	tp_err_clear(err);
	if ((o = json_object_new_object()) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	dec_round(&sum, 2, &sum);
	json_add(o, "open", json_object_new_int64((int64_t)(i)));
	json_add(o, "more", json_object_new_boolean(more));
	json_add(o, "marked", json_object_new_int64((int64_t)marked));
	json_add(o, "errors", json_object_new_int64((int64_t)failed));
	json_add(o, "unrealized_pnl", marked > 0 &&
	    dec_format(&sum, buf, sizeof(buf)) >= 0 ?
	    json_object_new_string(buf) : NULL);
out:
	store_doclist_free(&list);
	return o;
}

static void
tenant_show_work(struct store *st, void *arg)
{
	struct tenant_ctx *c = ((struct api_req *)arg)->ctx;
	static const char *const subs[] = { "", "/status/trading",
	    "/secrets/alpaca", "/status/last_sync_error",
	    "/status/quarantine", "/data/snapshot" };
	enum { ROOT, TRADING, KEYS, LSE, QUARANTINE, SNAPSHOT, NDOCS };
	json_object *docs[NDOCS] = { NULL }, *profile = NULL, *r, *trades;
	const char *created;
	size_t i;
	int rc;

	if ((rc = tenant_docs_get(st, c->uid, subs, NDOCS, docs, &c->err)) ==
	    -1) {
		c->rc = -1;
		goto out;
	}
	if (rc == 0 && (rc = tenant_exists(st, c->uid, &c->err)) != 1) {
		c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
		    "no tenant %s", c->uid);
		goto out;
	}
	if ((r = c->result = json_object_new_object()) == NULL) {
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
		goto out;
	}
	created = json_get_str(docs[ROOT], "created_at");
	if (docs[ROOT] != NULL && (profile = json_copy(docs[ROOT])) != NULL)
		json_object_object_del(profile, "created_at");
	json_add(r, "uid", json_object_new_string(c->uid));
	json_add(r, "created_at", api_json_str_or_null(created));
	json_add(r, "profile", profile);
	json_add(r, "trading", tenant_show_trading(docs[TRADING]));
	json_add(r, "keys", tenant_show_keys(c, docs[KEYS]));
	json_add(r, "last_sync_error", docs[LSE]);
	json_add(r, "quarantine", docs[QUARANTINE]);
	json_add(r, "snapshot", docs[SNAPSHOT]);
	docs[LSE] = docs[QUARANTINE] = docs[SNAPSHOT] = NULL;
	if ((trades = tenant_show_trades(st, c->uid, &c->err)) == NULL) {
		c->rc = -1;
		goto out;
	}
	json_add(r, "trades", trades);
out:
	for (i = 0; i < NDOCS; i++)
		json_object_put(docs[i]);
}

static void
tenant_show_done(void *arg)
{
	struct api_req *req = arg;

	tenant_answer(req, req->ctx);
}

int
tenant_show_start(struct api_req *req, struct tp_err *err)
{
	struct tenant_ctx *c;
	const char *uid;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1)
		return -1;
	if ((c = tenant_ctx_new(req, err)) == NULL)
		return -1;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->ring = keyring_ref(req->d->keys);
	return api_submit(req, tenant_show_work, tenant_show_done, err);
}

/* trading.set */

static void
trading_set_work(struct store *st, void *arg)
{
	struct tenant_ctx *c = ((struct api_req *)arg)->ctx;
	json_object *doc;
	char path[TENANT_PATH_MAX];
	int rc;

	/* a typo must not create a phantom tenant */
	if ((rc = tenant_exists(st, c->uid, &c->err)) != 1) {
		c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
		    "no tenant %s", c->uid);
		return;
	}
	store_timestamp(c->stamp, sizeof(c->stamp));
	if ((doc = json_object_new_object()) == NULL) {
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
		return;
	}
	json_add(doc, "enabled", json_object_new_boolean(c->enabled));
	json_add(doc, "reason", json_object_new_string(c->reason));
	json_add(doc, "updated_at", json_object_new_string(c->stamp));
	json_add(doc, "by", json_object_new_string(c->by));
	snprintf(path, sizeof(path), "users/%s/status/trading", c->uid);
	if (store_set(st, path, doc, false, &c->err) == -1) {
		c->rc = -1;
		json_object_put(doc);
		return;
	}
	json_object_object_add(doc, "uid", json_object_new_string(c->uid));
	c->result = doc;
}

static void
trading_set_done(void *arg)
{
	struct api_req *req = arg;
	struct tenant_ctx *c = req->ctx;
	const char *what = c->enabled ? "enabled" : "disabled";
	json_object *ev;

	if (c->rc == 0 && tenant_log(req->d, c->uid, TLOG_INFO, "trading",
	    "trading %s by %s: %s", what, c->by, c->reason) == -1)
		tenant_log(req->d, c->uid, TLOG_INFO, "trading",
		    "trading %s by %s (reason not logged)", what, c->by);
	if (c->rc == 0 && (ev = json_object_new_object()) != NULL) {
		json_add(ev, "enabled", json_object_new_boolean(c->enabled));
		json_add(ev, "reason", json_object_new_string(c->reason));
		json_add(ev, "by", json_object_new_string(c->by));
		events_tenant(req->d->events, c->uid, "trading", ev);
	}
	tenant_answer(req, c);
}

int
trading_set_start(struct api_req *req, struct tp_err *err)
{
	struct tenant_ctx *c;
	const char *uid, *reason = NULL;
	bool enabled;
	size_t i;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_bool(req, "enabled", true, &enabled, err) == -1 ||
	    api_arg_str(req, "reason", false, 0, API_REASON_MAX, &reason,
	    err) == -1)
		return -1;
	/* shown in tables and log lines: no control characters */
	for (i = 0; reason != NULL && reason[i] != '\0'; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "argument \"reason\" must not contain control "
			    "characters");
	if ((c = tenant_ctx_new(req, err)) == NULL)
		return -1;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->enabled = enabled;
	/* only the HTTP user API acts for a user here (api_auth refuses
	 * trading.set to a token): the user's own stop */
	if (req->as_user)
		snprintf(c->by, sizeof(c->by), "user:%s", req->user_uid);
	else
		snprintf(c->by, sizeof(c->by), "operator");
	snprintf(c->reason, sizeof(c->reason), "%s", reason != NULL ?
	    reason : enabled ? "enabled by operator" : req->as_user ?
	    "disabled by the user" : "disabled by operator");
	return api_submit(req, trading_set_work, trading_set_done, err);
}

/* tenant.release */

static void
tenant_release_work(struct store *st, void *arg)
{
	struct tenant_ctx *c = ((struct api_req *)arg)->ctx;

	c->rc = policy_release_doc(st, c->uid, &c->existed, &c->err);
}

static void
tenant_release_done(void *arg)
{
	struct api_req *req = arg;
	struct tenant_ctx *c = req->ctx;
	struct jobs *j = req->d->jobs;
	json_object *r;
	unsigned strikes;
	bool was, released;

	if (c->rc == -1) {
		api_reply_error(req, &c->err);
		return;
	}
	strikes = policy_release(j->policy, c->uid, &was);
	released = c->existed || was;
	if (released) {
		log_info("tenant %s released from quarantine (%u strikes "
		    "cleared)", c->uid, strikes);
		jobs_tlog(j, c->uid, TLOG_INFO, NULL, "quarantine",
		    "released from quarantine by the operator; strikes "
		    "cleared");
	}
	if ((r = json_object_new_object()) != NULL) {
		json_add(r, "uid", json_object_new_string(c->uid));
		json_add(r, "released", json_object_new_boolean(released));
		json_add(r, "strikes_cleared",
		    json_object_new_int64(strikes));
	}
	api_reply(req, r);
}

int
tenant_release_start(struct api_req *req, struct tp_err *err)
{
	struct tenant_ctx *c;
	const char *uid;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    (c = tenant_ctx_new(req, err)) == NULL)
		return -1;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	return api_submit(req, tenant_release_work, tenant_release_done, err);
}
