/* trades_op.c: the trades.list operation: a tenant's shadow trades, newest first. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/api.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "supervisor/api.h"
#include "supervisor/tenant_store.h"
#include "supervisor/trades.h"

#define TRADES_OP_LIST_MAX	100	/* the seed's limit(100) */
#define TRADES_OP_TEXT_MAX	128	/* bytes of a string field shown */

/* The fields a listing shows, whatever else a document holds: a reply
 * stays bounded (API_REPLY_MAX) whoever wrote the documents. */
static const char *const trades_op_fields[] = {
	"symbol", "side", "qty", "entry_price", "status", "created_at",
	"signal_id", "current_price", "unrealized_pnl", "pnl_percent",
	"marked_at", "take_profit_price", "stop_loss_price", "exit_price",
	"realized_pnl", "closed_at", "close_reason",
};

struct trades_op_ctx {
	char		 uid[UID_MAX_LEN + 1];
	bool		 open;
	size_t		 limit;
	json_object	*result;
	struct tp_err	 err;
	int		 rc;
};

static void
trades_op_ctx_free(void *arg)
{
	struct trades_op_ctx *c = arg;

	json_object_put(c->result);
	free(c);
}

/* A scalar as stored (a long string, a map or a list as null). */
static json_object *
trades_op_value(json_object *v)
{
	if (v == NULL)
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return json_object_get_string_len(v) > TRADES_OP_TEXT_MAX ?
		    NULL : json_copy(v);
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		return json_copy(v);
	default:
		return NULL;
	}
}

/* {id, the fields above that it has, pnl_error: its message}. */
static json_object *
trades_op_entry(const struct store_doc *doc)
{
	json_object *o, *v, *e;
	size_t i;

	if ((o = json_object_new_object()) == NULL ||
	    json_add(o, "id", json_object_new_string(doc->id)) == -1) {
		json_object_put(o);
		return NULL;
	}
	for (i = 0; i < sizeof(trades_op_fields) / sizeof(*trades_op_fields);
	    i++)
		if (json_object_object_get_ex(doc->data, trades_op_fields[i],
		    &v) && json_add(o, trades_op_fields[i],
		    trades_op_value(v)) == -1) {
			json_object_put(o);
			return NULL;
		}
	if (json_object_object_get_ex(doc->data, "pnl_error", &e) &&
	    e != NULL && json_object_object_get_ex(e, "message", &v) &&
	    json_add(o, "pnl_error", trades_op_value(v)) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void
trades_list_work(struct store *st, void *arg)
{
	struct trades_op_ctx *c = ((struct api_req *)arg)->ctx;
	struct store_doclist list = { NULL, 0 };
	struct store_query q;
	json_object *arr, *e, *open = NULL;
	char coll[PATH_MAX_LEN + 1];
	size_t i;
	int rc;

	/* a typo names no tenant: not_found, not an empty list */
	if ((rc = tenant_exists(st, c->uid, &c->err)) != 1) {
		c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
		    "no tenant %s", c->uid);
		return;
	}
	snprintf(coll, sizeof(coll), "users/%s/shadowTradeHistory", c->uid);
	memset(&q, 0, sizeof(q));
	q.collection = coll;
	if (c->open) {
		if ((open = json_object_new_string("OPEN")) == NULL) {
			c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
			return;
		}
		q.where_field = "status";
		q.where_value = open;
	}
	/* the dashboard's order; a trade without created_at is left out,
	 * as ordering by a field does on Firestore */
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	q.limit = c->limit;
	rc = store_query(st, &q, &list, &c->err);
	json_object_put(open);
	if (rc == -1) {
		c->rc = -1;
		return;
	}
	if ((arr = json_object_new_array()) == NULL ||
	    (c->result = json_object_new_object()) == NULL) {
		json_object_put(arr);
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
		goto out;
	}
	for (i = 0; i < list.n; i++)
		if ((e = trades_op_entry(&list.docs[i])) == NULL ||
		    json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			json_object_put(arr);
			c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
			goto out;
		}
	if (json_add(c->result, "uid", json_object_new_string(c->uid)) ==
	    -1 || json_add(c->result, "trades", arr) == -1)
		c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory");
out:
	store_doclist_free(&list);
}

static void
trades_list_done(void *arg)
{
	struct api_req *req = arg;
	struct trades_op_ctx *c = req->ctx;

	api_reply_outcome(req, c->rc, &c->result, &c->err);
}

int
trades_list_start(struct api_req *req, struct tp_err *err)
{
	struct trades_op_ctx *c;
	int64_t limit = TRADES_OP_LIST_MAX;
	const char *uid;
	bool open = false;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_bool(req, "open", false, &open, err) == -1 ||
	    api_arg_int(req, "limit", false, 1, TRADES_OP_LIST_MAX, &limit,
	    err) == -1)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	req->ctx = c;
	req->ctx_free = trades_op_ctx_free;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->open = open;
	c->limit = (size_t)limit;
	return api_submit(req, trades_list_work, trades_list_done, err);
}
