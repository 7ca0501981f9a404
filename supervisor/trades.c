/* trades.c: a tenant's OPEN shadow trades, read for its sync JOB, and the prices they need. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/path.h"
#include "common/pnl.h"
#include "common/wire.h"
#include "supervisor/trades.h"

#define TRADES_PATH_MAX		(UID_MAX_LEN + 32)
#define TRADES_VALUE_MAX	64	/* bytes of a field passed on as is */

/*
 * A stored field as the JOB carries it: short strings and numbers as they
 * are, everything else null. The worker judges them; the bound only keeps
 * one tenant's odd document from making its JOB too big to send.
 */
static json_object *
trades_value(json_object *doc, const char *key)
{
	json_object *v;
	size_t len;

	if (!json_object_object_get_ex(doc, key, &v) || v == NULL)
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		len = (size_t)json_object_get_string_len(v);
		if (len > TRADES_VALUE_MAX)
			return NULL;
		return json_object_new_string_len(json_object_get_string(v),
		    (int)len);
	case json_type_int:
	case json_type_double:
		if (strlen(json_object_to_json_string(v)) > TRADES_VALUE_MAX)
			return NULL;
		return json_copy(v);
	default:
		return NULL;
	}
}

/* Adds a field only when the document has it: most trades have no
 * exit levels, and the JOB stays as it was for them. */
static void
trades_level(json_object *t, json_object *doc, const char *key)
{
	json_object *v;

	if ((v = trades_value(doc, key)) != NULL)
		json_object_object_add(t, key, v);
}

int
trades_text(const struct store_doc *docs, size_t ndocs, char **text,
    size_t *n, bool *more, json_object *symbols, struct tp_err *err)
{
	json_object *arr, *t, *sym;
	const char *s, *out;
	size_t i, len;
	int rc = -1;

	*text = NULL;
	*n = 0;
	*more = false;
	if ((arr = json_object_new_array()) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	for (i = 0; i < ndocs && i < TRADES_JOB_MAX; i++) {
		if ((t = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, t) != 0) {
			json_object_put(t);
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		json_object_object_add(t, "id",
		    json_object_new_string(docs[i].id));
		sym = trades_value(docs[i].data, "symbol");
		json_object_object_add(t, "symbol", sym);
		json_object_object_add(t, "side",
		    trades_value(docs[i].data, "side"));
		json_object_object_add(t, "qty",
		    trades_value(docs[i].data, "qty"));
		json_object_object_add(t, "entry_price",
		    trades_value(docs[i].data, "entry_price"));
		/* the exit levels a signal fixed (lifecycle.h): the
		 * supervisor closes the trade by them; absent, none */
		trades_level(t, docs[i].data, "take_profit_price");
		trades_level(t, docs[i].data, "stop_loss_price");
		if (symbols != NULL && sym != NULL &&
		    json_object_is_type(sym, json_type_string) &&
		    pnl_valid_symbol(s = json_object_get_string(sym)) &&
		    !json_object_object_get_ex(symbols, s, NULL))
			json_object_object_add(symbols, s, NULL);
	}
	*n = i;
	*more = ndocs > TRADES_JOB_MAX;
	if ((out = json_compact(arr, &len)) == NULL ||
	    (*text = strdup(out)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_object_put(arr);
	return rc;
}

int
trades_read(struct store *st, const char *uid, char **text, size_t *n,
    bool *more, json_object *symbols, struct tp_err *err)
{
	struct store_doclist list = { NULL, 0 };
	struct store_query q;
	json_object *open;
	char coll[TRADES_PATH_MAX];
	int rc;

	*text = NULL;
	*n = 0;
	*more = false;
	snprintf(coll, sizeof(coll), "users/%s/shadowTradeHistory", uid);
	if ((open = json_object_new_string("OPEN")) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	memset(&q, 0, sizeof(q));
	q.collection = coll;
	q.where_field = "status";
	q.where_value = open;
	q.order_field = "created_at";
	q.order = STORE_ORDER_ASC;
	q.limit = TRADES_JOB_MAX + 1;
	if (store_query(st, &q, &list, err) == -1) {
		json_object_put(open);
		return -1;
	}
	json_object_put(open);
	rc = trades_text(list.docs, list.n, text, n, more, symbols, err);
	store_doclist_free(&list);
	return rc;
}

json_object *
trades_json(const char *text)
{
	json_object *a;

	if (text == NULL)
		return json_object_new_array();
	if ((a = json_parse(text, strlen(text), NULL)) != NULL &&
	    !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		a = NULL;
	}
	return a;
}

json_object *
trades_prices(json_object *trades, json_object *prices)
{
	json_object *out, *t, *sym, *p;
	const char *s;
	size_t i, n;

	if ((out = json_object_new_object()) == NULL)
		return NULL;
	n = trades != NULL ? json_object_array_length(trades) : 0;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(trades, i);
		if (!json_object_object_get_ex(t, "symbol", &sym) ||
		    !json_object_is_type(sym, json_type_string))
			continue;
		s = json_object_get_string(sym);
		if (json_object_object_get_ex(out, s, NULL) ||
		    !json_object_object_get_ex(prices, s, &p) || p == NULL)
			continue;
		/* a copy: the JOB is wiped in place once sent */
		json_object_object_add(out, s, json_object_new_string_len(
		    json_object_get_string(p), json_object_get_string_len(p)));
	}
	return out;
}
