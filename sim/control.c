/* control.c: alpaca-sim's control API (/_sim/...): accounts, prices, behaviours, stats; loopback peers only. */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

#include "common/config.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/htab.h"
#include "sim/market.h"
#include "sim/sim.h"

static const char *const sim_ep_names[SIM_EP_COUNT] = {
	[SIM_EP_ACCOUNT] = "account",
	[SIM_EP_POSITIONS] = "positions",
	[SIM_EP_CLOCK] = "clock",
	[SIM_EP_TRADES_LATEST] = "trades_latest",
	[SIM_EP_TRADES_LATEST_MULTI] = "trades_latest_multi",
	[SIM_EP_BARS] = "bars",
};

static void
sim_control_fail(struct sim *s, struct evhttp_request *req, int status,
    enum tp_code code, const char *fmt, ...)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	char msg[TP_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(e, "code",
	    json_object_new_string(tp_code_name(code)));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	sim_send_json(s, req, status, o, 0);
}

static void
sim_control_err(struct sim *s, struct evhttp_request *req,
    const struct tp_err *err)
{
	sim_control_fail(s, req, err->code == TP_NOT_FOUND ? 404 :
	    err->code == TP_RESOURCE_EXHAUSTED ? 503 : 400, err->code, "%s",
	    err->msg);
}

static json_object *
sim_ok(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static bool
sim_loopback(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port;

	if (evcon == NULL)
		return false;
	evhttp_connection_get_peer(evcon, &addr, &port);
	return addr != NULL && (strncmp(addr, "127.", 4) == 0 ||
	    strcmp(addr, "::1") == 0 || strncmp(addr, "::ffff:127.", 11) == 0);
}

/* The request's body as JSON; an empty body is {} when empty_ok. */
static json_object *
sim_body(struct evhttp_request *req, bool empty_ok, struct tp_err *err)
{
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(b);
	const char *p;

	if (len == 0 && empty_ok)
		return json_object_new_object();
	if ((p = (const char *)evbuffer_pullup(b, -1)) == NULL && len > 0)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory"), NULL;
	return json_parse(p != NULL ? p : "", len, err);
}

static void
sim_control_accounts(struct sim *s, struct evhttp_request *req,
    json_object *body)
{
	json_object *arr, *o;
	struct tp_err err;
	size_t i, n;

	tp_err_clear(&err);
	if (json_object_object_get_ex(body, "accounts", &arr)) {
		if (!json_object_is_type(arr, json_type_array)) {
			sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
			    "accounts: an array expected");
			return;
		}
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			if (sim_account_load(s, json_object_array_get_idx(arr,
			    i), &err) == -1) {
				sim_control_fail(s, req, 400, err.code,
				    "accounts[%zu] (%zu before it loaded): %s",
				    i, i, err.msg);
				return;
			}
		}
	} else {
		n = 1;
		if (sim_account_load(s, body, &err) == -1) {
			sim_control_err(s, req, &err);
			return;
		}
	}
	if (!s->quiet)
		log_info("control: %zu account(s) loaded, %zu in all", n,
		    htab_count(s->accounts));
	o = sim_ok();
	json_object_object_add(o, "loaded", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "accounts",
	    json_object_new_int64((int64_t)htab_count(s->accounts)));
	sim_send_json(s, req, 200, o, 0);
}

static void
sim_control_prices(struct sim *s, struct evhttp_request *req,
    json_object *body)
{
	struct tp_err err;
	json_object *o;
	int64_t n = 0;

	if (!json_object_is_type(body, json_type_object)) {
		sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
		    "an object {\"SYMBOL\": \"price\" or null} expected");
		return;
	}
	tp_err_clear(&err);
	json_object_object_foreach(body, sym, v) {
		if (v != NULL && !json_object_is_type(v, json_type_string) &&
		    !json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_double)) {
			sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
			    "price of %.20s: a decimal string, a number or "
			    "null (unknown) expected", sym);
			return;
		}
		if (market_set_price(s->market, sym, v != NULL ?
		    json_object_get_string(v) : NULL, &err) == -1) {
			sim_control_err(s, req, &err);
			return;
		}
		n++;
	}
	o = sim_ok();
	json_object_object_add(o, "prices", json_object_new_int64(n));
	sim_send_json(s, req, 200, o, 0);
}

/* POST /_sim/bars {"symbol": "AAPL", "closes": ["187.25", ...]} */
static void
sim_control_bars(struct sim *s, struct evhttp_request *req, json_object *body)
{
	struct tp_err err;
	json_object *o, *closes;
	const char *symbol;

	symbol = json_get_str(body, "symbol");
	if (symbol == NULL || !json_object_object_get_ex(body, "closes",
	    &closes)) {
		sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
		    "{\"symbol\": \"SYM\", \"closes\": [price, ...]} "
		    "expected");
		return;
	}
	tp_err_clear(&err);
	if (market_set_closes(s->market, symbol, closes, &err) == -1) {
		sim_control_err(s, req, &err);
		return;
	}
	o = sim_ok();
	json_object_object_add(o, "closes", json_object_new_int64(
	    (int64_t)json_object_array_length(closes)));
	sim_send_json(s, req, 200, o, 0);
}

static void
sim_control_behaviour(struct sim *s, struct evhttp_request *req,
    json_object *body)
{
	struct sim_account *a;
	enum sim_behaviour b;
	const char *kid, *name, *lat;
	json_object *v;
	int64_t status = 0;
	uint64_t latency = 0;

	if ((kid = json_get_str(body, "key_id")) == NULL ||
	    (name = json_get_str(body, "behaviour")) == NULL) {
		sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
		    "key_id and behaviour are required");
		return;
	}
	if (sim_behaviour_parse(name, &b) == -1) {
		sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
		    "unknown behaviour \"%.32s\": normal, status, latency, "
		    "malformed, truncated, huge, deep, wrong_types, bad_utf8, "
		    "drip or silent", name);
		return;
	}
	if ((a = sim_account_find(s, kid)) == NULL) {
		sim_control_fail(s, req, 404, TP_NOT_FOUND,
		    "no account with key id %.64s", kid);
		return;
	}
	if (b == SIM_B_STATUS && (!json_get_int(body, "status", &status) ||
	    status < 100 || status > 599)) {
		sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
		    "behaviour status needs \"status\": 100 to 599");
		return;
	}
	if (b == SIM_B_LATENCY) {
		/* a duration string, or a number of milliseconds */
		if (!json_object_object_get_ex(body, "latency", &v) ||
		    (json_object_is_type(v, json_type_int) ?
		    (latency = (uint64_t)json_object_get_int64(v),
		    json_object_get_int64(v) < 0) :
		    (!json_object_is_type(v, json_type_string) ||
		    (lat = json_object_get_string(v)) == NULL ||
		    config_parse_duration(lat, &latency) == -1)) ||
		    latency > 3600 * 1000) {
			sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
			    "behaviour latency needs \"latency\": a duration "
			    "like \"250ms\" or \"5s\", at most 1h");
			return;
		}
	}
	a->behaviour = b;
	a->b_status = (int)status;
	a->b_latency_ms = latency;
	if (!s->quiet)
		log_info("control: key %s behaves %s", kid, name);
	sim_send_json(s, req, 200, sim_ok(), 0);
}

static void
sim_control_stats(struct sim *s, struct evhttp_request *req)
{
	json_object *o = sim_ok(), *r = json_object_new_object();
	int i;

	for (i = 0; i < SIM_EP_COUNT; i++)
		json_object_object_add(r, sim_ep_names[i],
		    json_object_new_int64((int64_t)s->stats.ep[i]));
	json_object_object_add(r, "unauthorized",
	    json_object_new_int64((int64_t)s->stats.unauthorized));
	json_object_object_add(r, "rate_limited",
	    json_object_new_int64((int64_t)s->stats.rate_limited));
	json_object_object_add(r, "not_found",
	    json_object_new_int64((int64_t)s->stats.not_found));
	json_object_object_add(r, "total",
	    json_object_new_int64((int64_t)s->stats.total));
	json_object_object_add(o, "requests", r);
	json_object_object_add(o, "accounts",
	    json_object_new_int64((int64_t)htab_count(s->accounts)));
	json_object_object_add(o, "pending",
	    json_object_new_int64((int64_t)s->npending));
	sim_send_json(s, req, 200, o, 0);
}

static void
sim_control_reset(struct sim *s, struct evhttp_request *req, json_object *body)
{
	bool all = false, behaviours = false;

	json_get_bool(body, "all", &all);
	json_get_bool(body, "behaviours", &behaviours);
	memset(&s->stats, 0, sizeof(s->stats));
	if (all) {
		sim_accounts_clear(s);
		market_reset(s->market);
	} else if (behaviours)
		sim_accounts_reset_behaviours(s);
	if (!s->quiet)
		log_info("control: reset%s", all ? " (all)" :
		    behaviours ? " (behaviours)" : "");
	sim_send_json(s, req, 200, sim_ok(), 0);
}

void
sim_control_request(struct sim *s, struct evhttp_request *req)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	json_object *body = NULL;
	struct tp_err err;
	bool post;

	if (!sim_loopback(req)) {
		sim_control_fail(s, req, 403, TP_PERMISSION_DENIED,
		    "the control API answers loopback clients only");
		return;
	}
	if (strcmp(path, "/_sim/stats") == 0 && cmd == EVHTTP_REQ_GET) {
		sim_control_stats(s, req);
		return;
	}
	post = cmd == EVHTTP_REQ_POST;
	if (!post || (strcmp(path, "/_sim/accounts") != 0 &&
	    strcmp(path, "/_sim/prices") != 0 &&
	    strcmp(path, "/_sim/behaviour") != 0 &&
	    strcmp(path, "/_sim/bars") != 0 &&
	    strcmp(path, "/_sim/reset") != 0)) {
		sim_control_fail(s, req, 404, TP_NOT_FOUND,
		    "no such control call: GET /_sim/stats, POST "
		    "/_sim/accounts, /_sim/prices, /_sim/bars, /_sim/behaviour, "
		    "/_sim/reset");
		return;
	}
	tp_err_clear(&err);
	if ((body = sim_body(req, strcmp(path, "/_sim/reset") == 0,
	    &err)) == NULL) {
		sim_control_err(s, req, &err);
		return;
	}
	if (!json_object_is_type(body, json_type_object))
		sim_control_fail(s, req, 400, TP_INVALID_ARGUMENT,
		    "a JSON object expected");
	else if (strcmp(path, "/_sim/accounts") == 0)
		sim_control_accounts(s, req, body);
	else if (strcmp(path, "/_sim/prices") == 0)
		sim_control_prices(s, req, body);
	else if (strcmp(path, "/_sim/behaviour") == 0)
		sim_control_behaviour(s, req, body);
	else if (strcmp(path, "/_sim/bars") == 0)
		sim_control_bars(s, req, body);
	else
		sim_control_reset(s, req, body);
	json_object_put(body);
}
