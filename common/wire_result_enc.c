/* wire_result_enc.c: the RESULT message, typed: the worker's encoders (the checker is in wire_result.c). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/jsonutil.h"
#include "common/pnl.h"
#include "common/wire_result.h"

/* json_add, where a NULL v (out of memory) fails. */
static int
wr_add(json_object *o, const char *key, json_object *v)
{
	return v == NULL ? -1 : json_add(o, key, v);
}

static json_object *
wr_head(const char *job_id, bool ok)
{
	json_object *r;

	if ((r = json_object_new_object()) == NULL)
		return NULL;
	if (wr_add(r, "job_id", json_object_new_string(job_id)) == -1 ||
	    wr_add(r, "ok", json_object_new_boolean(ok)) == -1) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

json_object *
wire_result_sync_new(const char *job_id, json_object *account,
    const char *key_id_last4)
{
	json_object *r;

	if ((r = wr_head(job_id, true)) == NULL)
		return NULL;
	if (wr_add(r, "account", json_object_get(account)) == -1 ||
	    wr_add(r, "key_id_last4", json_object_new_string(key_id_last4)) ==
	    -1 || wr_add(r, "marks", json_object_new_array()) == -1) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static int
wr_mark_append(json_object *r, json_object *m)
{
	json_object *a;

	if (m == NULL)
		return -1;
	if (!json_object_object_get_ex(r, "marks", &a) ||
	    json_object_array_add(a, m) != 0) {
		json_object_put(m);
		return -1;
	}
	return 0;
}

int
wire_result_mark(json_object *r, const char *trade_id,
    const struct dec *price, const struct dec *pnl, const struct dec *pct)
{
	json_object *m;

	if ((m = json_object_new_object()) == NULL)
		return -1;
	if (wr_add(m, "id", json_object_new_string(trade_id)) == -1 ||
	    wr_add(m, "current_price", dec_to_json_number(price)) == -1 ||
	    wr_add(m, "unrealized_pnl", dec_to_json_number(pnl)) == -1 ||
	    wr_add(m, "pnl_percent", dec_to_json_number(pct)) == -1) {
		json_object_put(m);
		return -1;
	}
	return wr_mark_append(r, m);
}

static json_object *
wr_error_map(enum tp_code code, const char *message)
{
	json_object *e;

	if ((e = json_object_new_object()) == NULL)
		return NULL;
	if (wr_add(e, "code", json_object_new_string(tp_code_name(code))) ==
	    -1 || wr_add(e, "message", json_object_new_string(message)) ==
	    -1) {
		json_object_put(e);
		return NULL;
	}
	return e;
}

int
wire_result_mark_error(json_object *r, const char *trade_id,
    enum tp_code code, const char *message)
{
	json_object *m;

	if ((m = json_object_new_object()) == NULL)
		return -1;
	if (wr_add(m, "id", json_object_new_string(trade_id)) == -1 ||
	    wr_add(m, "pnl_error", wr_error_map(code, message)) == -1) {
		json_object_put(m);
		return -1;
	}
	return wr_mark_append(r, m);
}

json_object *
wire_result_prices_new(const char *job_id, json_object *prices)
{
	json_object *r;

	if ((r = wr_head(job_id, true)) == NULL)
		return NULL;
	if (wr_add(r, "prices", json_object_get(prices)) == -1) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

int
wire_result_requests(json_object *r, int64_t account, int64_t trades,
    int64_t retries)
{
	json_object *q;

	if ((q = json_object_new_object()) == NULL)
		return -1;
	if ((account >= 0 && wr_add(q, "account",
	    json_object_new_int64(account)) == -1) ||
	    wr_add(q, "trades_latest", json_object_new_int64(trades)) == -1 ||
	    wr_add(q, "retries", json_object_new_int64(retries)) == -1) {
		json_object_put(q);
		return -1;
	}
	return wr_add(r, "requests", q);
}

json_object *
wire_result_error_new(const char *job_id, enum tp_code code,
    const char *message)
{
	json_object *r;

	if ((r = wr_head(job_id, false)) == NULL)
		return NULL;
	if (wr_add(r, "error", wr_error_map(code, message)) == -1) {
		json_object_put(r);
		return NULL;
	}
	return r;
}
