/* api.c: alpaca-sim's Alpaca endpoints: routing, authentication, the rate limit and the replies' JSON. */
#include <config.h>

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

#include "sim/market.h"
#include "sim/sim.h"

#define SIM_SYMBOLS_MAX	2000	/* symbols in one latest-trades request */

static json_object *
sim_trades_multi(struct sim *s, const char *list, bool wrong,
    struct tp_err *err)
{
	json_object *o, *trades;
	char sym[MARKET_SYMBOL_MAX + 1];
	const char *p = list, *e;
	int64_t u;
	size_t n = 0, len;

	trades = json_object_new_object();
	for (;;) {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == 0 || len > MARKET_SYMBOL_MAX) {
			json_object_put(trades);
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "invalid symbol \"%.*s\" in symbols", (int)(len > 20 ?
			    20 : len), p), NULL;
		}
		memcpy(sym, p, len);
		sym[len] = '\0';
		if (!market_valid_symbol(sym)) {
			json_object_put(trades);
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "invalid symbol: %s", sym), NULL;
		}
		if (++n > SIM_SYMBOLS_MAX) {
			json_object_put(trades);
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "too many symbols: at most %d", SIM_SYMBOLS_MAX),
			    NULL;
		}
		/* unknown symbols are left out of the map */
		if (market_price(s->market, sym, &u))
			json_object_object_add(trades, sym,
			    market_trade_json(s->market, sym, u, wrong));
		if (e == NULL)
			break;
		p = e + 1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "trades", wrong ?
	    json_object_new_array() : trades);
	if (wrong)
		json_object_put(trades);
	return o;
}

static int
sim_parse_limit(const char *v, int64_t *limit)
{
	char *end;
	long long n;

	if (v == NULL) {
		*limit = 0;
		return 0;
	}
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 1 || n > MARKET_BARS_MAX)
		return -1;
	*limit = n;
	return 0;
}

static json_object *
sim_bars(struct sim *s, const char *symbol, struct evkeyvalq *q, bool wrong,
    struct tp_err *err)
{
	struct market_bars_query bq;
	const char *sort;

	memset(&bq, 0, sizeof(bq));
	bq.symbol = symbol;
	if ((bq.timeframe = evhttp_find_header(q, "timeframe")) == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "timeframe is required"), NULL;
	bq.start = evhttp_find_header(q, "start");
	bq.end = evhttp_find_header(q, "end");
	bq.page_token = evhttp_find_header(q, "page_token");
	if (sim_parse_limit(evhttp_find_header(q, "limit"), &bq.limit) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid limit: 1 to %d", MARKET_BARS_MAX), NULL;
	if ((sort = evhttp_find_header(q, "sort")) != NULL) {
		if (strcmp(sort, "desc") == 0)
			bq.desc = true;
		else if (strcmp(sort, "asc") != 0)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "invalid sort: asc or desc"), NULL;
	}
	return market_bars_json(s->market, &bq, wrong, err);
}

/* Finds the endpoint of path; *symbol gets the decoded {symbol} (to free). */
static int
sim_route(const char *path, enum sim_endpoint *ep, char **symbol)
{
	const char *rest, *slash;
	char *seg;
	size_t n;

	*symbol = NULL;
	if (strcmp(path, "/v2/account") == 0)
		*ep = SIM_EP_ACCOUNT;
	else if (strcmp(path, "/v2/positions") == 0)
		*ep = SIM_EP_POSITIONS;
	else if (strcmp(path, "/v2/clock") == 0)
		*ep = SIM_EP_CLOCK;
	else if (strcmp(path, "/v2/stocks/trades/latest") == 0)
		*ep = SIM_EP_TRADES_LATEST_MULTI;
	else if (strncmp(path, "/v2/stocks/", 11) == 0) {
		rest = path + 11;
		if ((slash = strchr(rest, '/')) == NULL || slash == rest)
			return -1;
		if (strcmp(slash, "/trades/latest") == 0)
			*ep = SIM_EP_TRADES_LATEST;
		else if (strcmp(slash, "/bars") == 0)
			*ep = SIM_EP_BARS;
		else
			return -1;
		if ((seg = strndup(rest, (size_t)(slash - rest))) == NULL)
			return -1;
		*symbol = evhttp_uridecode(seg, 0, &n);
		free(seg);
		if (*symbol == NULL)
			return -1;
		if (strlen(*symbol) != n) {	/* a %00 */
			free(*symbol);
			*symbol = NULL;
			return -1;
		}
	} else
		return -1;
	return 0;
}

void
sim_api_request(struct sim *s, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri), *query, *text;
	struct evkeyvalq q;
	struct sim_account *a;
	struct tp_err err;
	enum sim_endpoint ep;
	struct evbuffer *body;
	json_object *o = NULL;
	char *symbol = NULL;
	int64_t u;
	size_t len;
	bool wrong;

	s->stats.total++;
	TAILQ_INIT(&q);
	if (path == NULL || sim_route(path, &ep, &symbol) == -1) {
		s->stats.not_found++;
		sim_send_error(s, req, 404, s->latency_ms, "endpoint not found");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		s->stats.not_found++;
		sim_send_error(s, req, 405, s->latency_ms,
		    "method not allowed");
		goto out;
	}
	s->stats.ep[ep]++;
	if ((a = sim_auth(s, req)) == NULL) {
		s->stats.unauthorized++;
		sim_send_error(s, req, 401, s->latency_ms,
		    "request is not authorized");
		goto out;
	}
	if (!sim_rate_take(s, a, req)) {
		s->stats.rate_limited++;
		sim_send_error(s, req, 429, s->latency_ms, "too many requests");
		goto out;
	}
	query = evhttp_uri_get_query(uri);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		sim_send_error(s, req, 400, s->latency_ms,
		    "malformed query string");
		goto out;
	}
	wrong = a->behaviour == SIM_B_WRONG_TYPES;
	tp_err_clear(&err);
	switch (ep) {
	case SIM_EP_ACCOUNT:
		o = sim_account_json(s, a, wrong);
		break;
	case SIM_EP_POSITIONS:
		o = sim_positions_json(s, a, wrong);
		break;
	case SIM_EP_CLOCK:
		o = market_clock_json(s->market, wrong);
		break;
	case SIM_EP_TRADES_LATEST:
		if (!market_valid_symbol(symbol)) {
			tp_err_set(&err, TP_INVALID_ARGUMENT,
			    "invalid symbol: %.40s", symbol);
			break;
		}
		if (!market_price(s->market, symbol, &u)) {
			tp_err_set(&err, TP_NOT_FOUND,
			    "no trade found for %s", symbol);
			break;
		}
		o = json_object_new_object();
		json_object_object_add(o, "symbol",
		    json_object_new_string(symbol));
		json_object_object_add(o, "trade",
		    market_trade_json(s->market, symbol, u, wrong));
		break;
	case SIM_EP_TRADES_LATEST_MULTI:
		if ((text = evhttp_find_header(&q, "symbols")) == NULL)
			tp_err_set(&err, TP_INVALID_ARGUMENT,
			    "symbols is required");
		else
			o = sim_trades_multi(s, text, wrong, &err);
		break;
	case SIM_EP_BARS:
		if (!market_valid_symbol(symbol))
			tp_err_set(&err, TP_INVALID_ARGUMENT,
			    "invalid symbol: %.40s", symbol);
		else
			o = sim_bars(s, symbol, &q, wrong, &err);
		break;
	default:
		break;
	}
	if (o == NULL) {
		sim_send_error(s, req, err.code == TP_NOT_FOUND ? 404 :
		    err.code == TP_INVALID_ARGUMENT ? 400 : 500,
		    s->latency_ms, "%s", err.msg[0] != '\0' ? err.msg :
		    "internal error");
		goto out;
	}
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN,
	    &len);
	if ((body = evbuffer_new()) == NULL || text == NULL ||
	    evbuffer_add(body, text, len) == -1) {
		if (body != NULL)
			evbuffer_free(body);
		sim_send_error(s, req, 503, 0, "out of memory");
	} else
		sim_fault_reply(s, req, a, body);
	json_object_put(o);
out:
	evhttp_clear_headers(&q);
	free(symbol);
}
