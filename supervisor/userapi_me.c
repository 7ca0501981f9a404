/* userapi_me.c: the user API's reads (/me, /me/trades, /me/signals), on the store's threads, with money as exact decimal text. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "common/decimal.h"
#include "common/figures.h"
#include "common/jsonutil.h"
#include "common/store.h"
#include "common/wire_result.h"
#include "supervisor/daemon.h"
#include "supervisor/tenant_store.h"
#include "supervisor/userapi_int.h"

#define ME_PATH_MAX	(UID_MAX_LEN + 64)

/* A money value as its exact decimal text (a JSON string); null when
 * absent or not a decimal. */
json_object *
userapi_money(json_object *doc, const char *key)
{
	char buf[DEC_TEXT_MAX + 1];
	json_object *v;
	struct dec d;

	if (!json_object_object_get_ex(doc, key, &v) || v == NULL ||
	    dec_from_json(v, &d, NULL) == -1 ||
	    dec_format(&d, buf, sizeof(buf)) < 0)
		return NULL;
	return json_object_new_string(buf);
}

static json_object *
me_dec(const struct dec *d)
{
	char buf[DEC_TEXT_MAX + 1];

	return dec_format(d, buf, sizeof(buf)) < 0 ? NULL :
	    json_object_new_string(buf);
}

static json_object *
me_str(json_object *doc, const char *key)
{
	const char *s = json_get_str(doc, key);

	return s != NULL ? json_object_new_string(s) : NULL;
}

/* TRADE (docs/dashboard.md): the stored trade, its P&L recomputed
 * (figures.c) for an open one. */
static json_object *
me_trade(const struct store_doc *doc)
{
	static const char *const money[] = { "qty", "entry_price",
	    "current_price", "exit_price", "realized_pnl", "take_profit_price",
	    "stop_loss_price" };
	json_object *t, *d = doc->data;
	struct figures_mark m;
	const char *side;
	char up[8];
	size_t i;

	if ((t = json_object_new_object()) == NULL)
		return NULL;
	if (figures_trade(d, &m, NULL) == -1)
		memset(&m, 0, sizeof(m));
	side = json_get_str(d, "side");
	for (i = 0; side != NULL && side[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)side[i]);
	up[side != NULL ? i : 0] = '\0';
	json_add(t, "id", json_object_new_string(doc->id));
	json_add(t, "symbol", me_str(d, "symbol"));
	json_add(t, "side", up[0] != '\0' ? json_object_new_string(up) : NULL);
	for (i = 0; i < sizeof(money) / sizeof(money[0]); i++)
		json_add(t, money[i], userapi_money(d, money[i]));
	json_add(t, "unrealized_pnl", m.marked ? me_dec(&m.pnl.pnl) : NULL);
	json_add(t, "pnl_percent", m.marked ? me_dec(&m.pnl.pct) : NULL);
	json_add(t, "status", me_str(d, "status"));
	json_add(t, "created_at", me_str(d, "created_at"));
	json_add(t, "closed_at", me_str(d, "closed_at"));
	json_add(t, "close_reason", me_str(d, "close_reason"));
	return t;
}

/* Newest first: created_at descending, then the id descending. */
static int
me_newest_first(const void *a, const void *b)
{
	const struct store_doc *x = a, *y = b;
	const char *cx = json_get_str(x->data, "created_at");
	const char *cy = json_get_str(y->data, "created_at");
	int c = strcmp(cy != NULL ? cy : "", cx != NULL ? cx : "");

	return c != 0 ? c : strcmp(y->id, x->id);
}

/* The newest USERAPI_SCAN_MAX trades (of status, "" : all), sorted. */
static int
me_trades_read(struct store *st, const char *uid, const char *status,
    struct store_doclist *list, struct tp_err *err)
{
	char coll[ME_PATH_MAX];
	struct store_query q;
	json_object *v = NULL;
	int rc;

	snprintf(coll, sizeof(coll), "users/%s/shadowTradeHistory", uid);
	memset(&q, 0, sizeof(q));
	q.collection = coll;
	if (*status != '\0') {
		if ((v = json_object_new_string(status)) == NULL)
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		q.where_field = "status";
		q.where_value = v;
	}
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	q.limit = USERAPI_SCAN_MAX;
	rc = store_query(st, &q, list, err);
	json_object_put(v);
	if (rc == 0 && list->n > 1)
		qsort(list->docs, list->n, sizeof(list->docs[0]),
		    me_newest_first);
	return rc;
}

bool
userapi_cursor_valid(const char *s)
{
	const char *sep = strchr(s != NULL ? s : "", '_');
	size_t i, n;

	if (sep == NULL || strlen(s) > USERAPI_CURSOR_MAX)
		return false;
	n = (size_t)(sep - s);
	if (n < 20 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (strchr("0123456789-:.TZ", s[i]) == NULL)
			return false;
	if (sep[1] == '\0')
		return false;
	for (i = 1; sep[i] != '\0'; i++)
		if (!isalnum((unsigned char)sep[i]) && sep[i] != '-')
			return false;
	return true;
}

/* The cursor of a trade: where the next page starts after it. */
static json_object *
me_cursor(const struct store_doc *doc)
{
	char buf[USERAPI_CURSOR_MAX + 1];
	const char *c = json_get_str(doc->data, "created_at");
	int n;

	n = snprintf(buf, sizeof(buf), "%s_%s", c != NULL ? c : "", doc->id);
	return n > 0 && (size_t)n < sizeof(buf) && userapi_cursor_valid(buf) ?
	    json_object_new_string(buf) : NULL;
}

/* Whether doc comes after the cursor in newest-first order. */
static bool
me_after(const struct store_doc *doc, const char *cursor)
{
	const char *sep = strchr(cursor, '_');
	const char *c = json_get_str(doc->data, "created_at");
	size_t n = (size_t)(sep - cursor);
	int cmp;

	if (c == NULL)
		c = "";
	cmp = strncmp(c, cursor, n);
	if (cmp == 0 && strlen(c) != n)
		cmp = strlen(c) > n ? 1 : -1;
	return cmp < 0 || (cmp == 0 && strcmp(doc->id, sep + 1) < 0);
}

/* An empty answer for a uid that is no tenant is 404, as for /me. */
static int
me_tenant(struct store *st, struct userapi_call *c)
{
	int rc;

	if ((rc = tenant_exists(st, c->uid, &c->err)) == 1)
		return 0;
	c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
	    "you are not a tenant of this service");
	return -1;
}

static void
me_trades(struct store *st, struct userapi_call *c)
{
	struct store_doclist list = { NULL, 0 };
	json_object *a, *t;
	size_t i, n = 0, last = 0;
	bool more = false, oom = false;

	if (me_trades_read(st, c->uid, c->status, &list, &c->err) == -1) {
		c->rc = -1;
		return;
	}
	if (list.n == 0 && me_tenant(st, c) == -1)
		return;
	c->result = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; c->result != NULL && a != NULL && i < list.n; i++) {
		if (c->cursor[0] != '\0' && !me_after(&list.docs[i], c->cursor))
			continue;
		if (n == c->limit) {
			more = true;
			break;
		}
		if ((t = me_trade(&list.docs[i])) == NULL ||
		    json_object_array_add(a, t) != 0) {
			json_object_put(t);
			oom = true;
			break;
		}
		last = i;
		n++;
	}
	if (c->result == NULL || a == NULL || oom) {
		json_object_put(a);
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
	} else {
		json_add(c->result, "trades", a);
		json_add(c->result, "next_cursor", more ?
		    me_cursor(&list.docs[last]) : NULL);
	}
	store_doclist_free(&list);
}

static void
me_signals(struct store *st, struct userapi_call *c)
{
	struct store_doclist list = { NULL, 0 };
	json_object *a, *d;
	size_t i;

	if (tenant_signals_newest(st, c->uid, c->limit, &list, &c->err) == -1) {
		c->rc = -1;
		return;
	}
	if (list.n == 0 && me_tenant(st, c) == -1)
		return;
	c->result = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; c->result != NULL && a != NULL && i < list.n; i++) {
		if ((d = json_copy(list.docs[i].data)) == NULL)
			break;
		json_add(d, "id", json_object_new_string(list.docs[i].id));
		/* money as text, as everywhere in this API */
		json_add(d, "price", userapi_money(list.docs[i].data, "price"));
		json_object_array_add(a, d);
	}
	if (c->result == NULL || a == NULL || i < list.n) {
		json_object_put(a);
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
	} else
		json_add(c->result, "signals", a);
	store_doclist_free(&list);
}

/* The snapshot as stored, its money fields as decimal text. */
static json_object *
me_snapshot(json_object *snap)
{
	json_object *o, *v;

	if (snap == NULL || (o = json_copy(snap)) == NULL)
		return NULL;
	json_object_object_foreach(snap, k, val) {
		if (!wire_result_money(k) || val == NULL ||
		    json_object_is_type(val, json_type_string))
			continue;
		if ((v = userapi_money(snap, k)) != NULL)
			json_object_object_add(o, k, v);
	}
	return o;
}

/* {"ok", "at", "error": {code, message} | null}: the newer of the last
 * sync and its last error. */
static json_object *
me_last_sync(json_object *ok, json_object *fail)
{
	const char *ok_at = json_get_str(ok, "at");
	const char *fail_at = json_get_str(fail, "at");
	json_object *o, *e;
	bool failed;

	if (ok_at == NULL && fail_at == NULL)
		return NULL;
	failed = fail_at != NULL && (ok_at == NULL ||
	    strcmp(fail_at, ok_at) > 0);
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "ok", json_object_new_boolean(!failed));
	json_add(o, "at", json_object_new_string(failed ? fail_at : ok_at));
	e = NULL;
	if (failed && (e = json_object_new_object()) != NULL) {
		json_add(e, "code", me_str(fail, "code"));
		json_add(e, "message", me_str(fail, "message"));
	}
	json_add(o, "error", e);
	return o;
}

static json_object *
me_trading(json_object *doc)
{
	json_object *o;
	bool enabled = false;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	/* no kill-switch document: trading was never enabled */
	(void)json_get_bool(doc, "enabled", &enabled);
	json_add(o, "enabled", json_object_new_boolean(enabled));
	json_add(o, "reason", me_str(doc, "reason"));
	json_add(o, "by", me_str(doc, "by"));
	json_add(o, "updated_at", me_str(doc, "updated_at"));
	return o;
}

static void
me_me(struct store *st, struct userapi_call *c)
{
	static const char *const subs[] = { "/data/snapshot",
	    "/status/trading", "/status/last_sync", "/status/last_sync_error" };
	enum { SNAP, TRADING, LS, LSE, NDOCS };
	json_object *docs[NDOCS] = { NULL }, *a, *t, *r;
	json_object *open[USERAPI_SCAN_MAX];
	struct store_doclist list = { NULL, 0 };
	size_t i, nopen, marked, bad;
	struct dec total;
	int rc;

	if ((rc = tenant_docs_get(st, c->uid, subs, NDOCS, docs, &c->err)) ==
	    -1) {
		c->rc = -1;
		goto out;
	}
	if (rc == 0 && (rc = tenant_exists(st, c->uid, &c->err)) != 1) {
		c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
		    "you are not a tenant of this service");
		goto out;
	}
	if (me_trades_read(st, c->uid, "OPEN", &list, &c->err) == -1) {
		c->rc = -1;
		goto out;
	}
	for (i = 0; i < list.n; i++)
		open[i] = list.docs[i].data;
	if (figures_total(open, list.n, &nopen, &marked, &bad, &total,
	    &c->err) == -1) {
		c->rc = -1;
		goto out;
	}
	if ((r = c->result = json_object_new_object()) == NULL ||
	    (a = json_object_new_array()) == NULL) {
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
		goto out;
	}
	for (i = 0; i < list.n && i < USERAPI_OPEN_SHOWN; i++)
		if ((t = me_trade(&list.docs[i])) != NULL &&
		    json_object_array_add(a, t) != 0)
			json_object_put(t);
	json_add(r, "uid", json_object_new_string(c->uid));
	json_add(r, "snapshot", me_snapshot(docs[SNAP]));
	json_add(r, "trading", me_trading(docs[TRADING]));
	json_add(r, "last_sync", me_last_sync(docs[LS], docs[LSE]));
	json_add(r, "open_trades", a);
	json_add(r, "total_unrealized_pnl", me_dec(&total));
	json_add(r, "open_count", json_object_new_int64((int64_t)nopen));
	json_add(r, "marked_count", json_object_new_int64((int64_t)marked));
out:
	store_doclist_free(&list);
	for (i = 0; i < NDOCS; i++)
		json_object_put(docs[i]);
}

static void
me_work(struct store *st, void *arg)
{
	struct userapi_call *c = arg;

	switch (c->what) {
	case USERAPI_ME:
		me_me(st, c);
		break;
	case USERAPI_TRADES:
		me_trades(st, c);
		break;
	default:
		me_signals(st, c);
		break;
	}
}

static void
me_done(void *arg)
{
	struct userapi_call *c = arg;

	if (c->rc == -1)
		userapi_reply_error(c->req, &c->err);
	else
		userapi_reply_json(c->req, HTTP_OK, c->result);
	userapi_call_free(c);
}

int
userapi_me_submit(struct userapi_call *c, struct tp_err *err)
{
	if (c->u->d->store == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, "no store");
	return store_async(c->u->d->store, me_work, me_done, c, err);
}
