/* alpaca_parse.c: Alpaca's replies parsed strictly: the account, latest trades, bars. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/pnl.h"
#include "worker/alpaca.h"

static int
alpaca_oom(struct tp_err *err)
{
	return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
}

static int
alpaca_add(json_object *o, const char *key, json_object *v, struct tp_err *err)
{
	if (v == NULL || json_add(o, key, v) == -1)
		return alpaca_oom(err);
	return 0;
}

#define ALPACA_BAD_ACCOUNT	"Alpaca sent a malformed reply to GET " \
	"/v2/account: field \"%s\" "

/* A decimal string (kept as sent) or a number (as its decimal text). */
static int
alpaca_money(json_object *v, const char *field, char *out, size_t size,
    struct tp_err *err)
{
	struct tp_err e;
	struct dec d;
	const char *s;
	size_t len;

	tp_err_clear(&e);
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (dec_parse(s, len, &d, &e) == -1 || len >= size)
			return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
			    "is not a decimal: %s", field, e.msg);
		memcpy(out, s, len + 1);
		return 0;
	case json_type_int:
	case json_type_double:
		if (dec_from_json(v, &d, &e) == -1 ||
		    dec_format(&d, out, size) == -1)
			return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
			    "is not a usable number: %s", field, e.msg);
		return 0;
	default:
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT "is "
		    "a%s %s, not a decimal string or number", field,
		    json_object_get_type(v) == json_type_array ||
		    json_object_get_type(v) == json_type_object ? "n" : "",
		    json_type_to_name(json_object_get_type(v)));
	}
}

/* A string of 1..max bytes whose characters pass ok. */
static int
alpaca_text(json_object *v, const char *field, size_t max,
    bool (*ok)(char), const char *what, struct tp_err *err)
{
	const char *s;
	size_t len, i;

	if (!json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT "is "
		    "a%s %s, not a string", field,
		    json_object_is_type(v, json_type_array) ||
		    json_object_is_type(v, json_type_object) ||
		    json_object_is_type(v, json_type_int) ? "n" : "",
		    json_type_to_name(json_object_get_type(v)));
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	for (i = 0; i < len && ok(s[i]); i++)
		;
	if (len == 0 || len > max || i < len)
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT "must "
		    "be 1..%zu characters of %s", field, max, what);
	return 0;
}

static bool
alpaca_printable(char c)
{
	return (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f;
}

static bool
alpaca_upper(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

int
alpaca_parse_account(json_object *reply, json_object *out, struct tp_err *err)
{
	static const char *const money[] = {
		"cash", "equity", "last_equity", "buying_power",
		"portfolio_value", "long_market_value", "short_market_value",
		"initial_margin", "maintenance_margin",
	};
	static const char *const flags[] = {
		"pattern_day_trader", "trading_blocked", "account_blocked",
	};
	static const struct {
		const char *name;
		size_t max;
		bool (*ok)(char);
		const char *what;
	} texts[] = {
		{ "id", 64, alpaca_printable, "printable ASCII" },
		{ "account_number", 64, alpaca_printable, "printable ASCII" },
		{ "status", 32, alpaca_upper, "[A-Z_]" },
		{ "currency", 8, alpaca_upper, "[A-Z]" },
		{ "created_at", 64, alpaca_printable, "printable ASCII" },
	};
	char buf[DEC_TEXT_MAX + 1];
	json_object *v;
	int64_t n;
	size_t i;

	if (!json_object_object_get_ex(reply, "equity", &v) || v == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
		    "is missing", "equity");
	if (!json_object_object_get_ex(reply, "status", &v) || v == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
		    "is missing", "status");
	/* a field sent as null is taken as absent */
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!json_object_object_get_ex(reply, texts[i].name, &v) ||
		    v == NULL)
			continue;
		if (alpaca_text(v, texts[i].name, texts[i].max, texts[i].ok,
		    texts[i].what, err) == -1 ||
		    alpaca_add(out, texts[i].name, json_object_new_string_len(
		    json_object_get_string(v), json_object_get_string_len(v)),
		    err) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(money) / sizeof(money[0]); i++) {
		if (!json_object_object_get_ex(reply, money[i], &v) ||
		    v == NULL)
			continue;
		if (alpaca_money(v, money[i], buf, sizeof(buf), err) == -1 ||
		    alpaca_add(out, money[i], json_object_new_string(buf),
		    err) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!json_object_object_get_ex(reply, flags[i], &v) ||
		    v == NULL)
			continue;
		if (!json_object_is_type(v, json_type_boolean))
			return tp_err_set(err, TP_UNAVAILABLE,
			    ALPACA_BAD_ACCOUNT "is a%s %s, not a boolean",
			    flags[i], json_object_is_type(v, json_type_int) ||
			    json_object_is_type(v, json_type_array) ||
			    json_object_is_type(v, json_type_object) ? "n" : "",
			    json_type_to_name(json_object_get_type(v)));
		if (alpaca_add(out, flags[i], json_object_new_boolean(
		    json_object_get_boolean(v)), err) == -1)
			return -1;
	}
	if (json_object_object_get_ex(reply, "daytrade_count", &v) &&
	    v != NULL) {
		errno = 0;
		if (!json_object_is_type(v, json_type_int) ||
		    (n = json_object_get_int64(v)) < 0 || n > INT32_MAX ||
		    errno != 0)
			return tp_err_set(err, TP_UNAVAILABLE,
			    ALPACA_BAD_ACCOUNT "is not an integer of 0..%d",
			    "daytrade_count", INT32_MAX);
		if (alpaca_add(out, "daytrade_count", json_object_new_int64(n),
		    err) == -1)
			return -1;
	}
	return 0;
}

/* A price: a number or decimal string above zero. */
static int
alpaca_price(json_object *v, struct dec *d, struct tp_err *err)
{
	static const struct dec zero = { 0, 0 };

	if (v == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, "is missing");
	if (dec_from_json(v, d, err) == -1)
		return -1;
	if (dec_cmp(d, &zero) <= 0)
		return tp_err_set(err, TP_UNAVAILABLE, "is not above zero");
	return 0;
}

int
alpaca_parse_trades(json_object *reply, const char *const *symbols,
    size_t n, json_object *prices, json_object *errors, struct tp_err *err)
{
	char msg[TP_ERR_MSG_MAX + 64], buf[DEC_TEXT_MAX + 1];
	json_object *trades, *t, *p, *eo;
	enum tp_code code;
	struct tp_err e;
	struct dec d;
	size_t i;

	if (!json_object_object_get_ex(reply, "trades", &trades))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/trades/latest: field \"trades\" "
		    "is missing");
	/* null: nothing known */
	if (trades != NULL && !json_object_is_type(trades, json_type_object))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/trades/latest: field \"trades\" "
		    "is a%s %s, not a map",
		    json_object_is_type(trades, json_type_array) ||
		    json_object_is_type(trades, json_type_int) ? "n" : "",
		    json_type_to_name(json_object_get_type(trades)));
	for (i = 0; i < n; i++) {
		tp_err_clear(&e);
		p = NULL;
		code = TP_UNAVAILABLE;
		if (trades == NULL ||
		    !json_object_object_get_ex(trades, symbols[i], &t)) {
			code = TP_NOT_FOUND;
			snprintf(msg, sizeof(msg), "no latest trade for symbol "
			    "%s", symbols[i]);
		} else if (!json_object_is_type(t, json_type_object)) {
			snprintf(msg, sizeof(msg), "Alpaca sent a malformed "
			    "latest trade for %s: not a map", symbols[i]);
		} else if (!json_object_object_get_ex(t, "p", &p) ||
		    alpaca_price(p, &d, &e) == -1) {
			snprintf(msg, sizeof(msg), "Alpaca sent a malformed "
			    "latest trade for %s: field \"p\" %s", symbols[i],
			    p == NULL || e.msg[0] == '\0' ? "is missing" :
			    e.msg);
		} else if (dec_format(&d, buf, sizeof(buf)) == -1) {
			snprintf(msg, sizeof(msg), "Alpaca sent a malformed "
			    "latest trade for %s: price out of range",
			    symbols[i]);
		} else {
			if (alpaca_add(prices, symbols[i],
			    json_object_new_string(buf), err) == -1)
				return -1;
			continue;
		}
		if ((eo = json_object_new_object()) == NULL)
			return alpaca_oom(err);
		if (alpaca_add(eo, "code", json_object_new_string(
		    tp_code_name(code)), err) == -1 ||
		    alpaca_add(eo, "message", json_object_new_string(msg),
		    err) == -1) {
			json_object_put(eo);
			return -1;
		}
		if (alpaca_add(errors, symbols[i], eo, err) == -1)
			return -1;
	}
	return 0;
}

static int
alpaca_bar(json_object *b, size_t i, struct alpaca_bar *out,
    struct tp_err *err)
{
	static const char *const decs[] = { "o", "h", "l", "c", "vw" };
	struct dec *dst[] = { &out->o, &out->h, &out->l, &out->c, &out->vw };
	static const char *const ints[] = { "v", "n" };
	int64_t *idst[] = { &out->v, &out->n };
	json_object *v;
	struct tp_err e;
	const char *s;
	size_t k, len;

	if (!json_object_is_type(b, json_type_object))
		return tp_err_set(err, TP_UNAVAILABLE, "bar %zu is not a map", i);
	if (!json_object_object_get_ex(b, "t", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (len = (size_t)json_object_get_string_len(v)) == 0 ||
	    len >= sizeof(out->t))
		return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field \"t\" "
		    "must be a timestamp string", i);
	s = json_object_get_string(v);
	for (k = 0; k < len; k++)
		if (!alpaca_printable(s[k]))
			return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field "
			    "\"t\" must be a timestamp string", i);
	memcpy(out->t, s, len + 1);
	for (k = 0; k < sizeof(decs) / sizeof(decs[0]); k++) {
		tp_err_clear(&e);
		if (!json_object_object_get_ex(b, decs[k], &v) || v == NULL ||
		    dec_from_json(v, dst[k], &e) == -1)
			return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field "
			    "\"%s\" %s", i, decs[k], e.msg[0] != '\0' ? e.msg :
			    "is missing");
	}
	for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
		if (!json_object_object_get_ex(b, ints[k], &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    (*idst[k] = json_object_get_int64(v)) < 0 ||
		    *idst[k] == INT64_MAX)
			return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field "
			    "\"%s\" must be a non-negative integer", i,
			    ints[k]);
	}
	return 0;
}

int
alpaca_parse_bars(json_object *reply, const char *symbol,
    struct alpaca_bar **bars, size_t *n, struct tp_err *err)
{
	struct alpaca_bar *out;
	json_object *arr, *v;
	struct tp_err e;
	size_t len, i;

	*bars = NULL;
	*n = 0;
	if (json_object_object_get_ex(reply, "symbol", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), symbol) != 0))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/%s/bars: field \"symbol\" is not "
		    "\"%s\"", symbol, symbol);
	if (!json_object_object_get_ex(reply, "bars", &arr))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/%s/bars: field \"bars\" is "
		    "missing", symbol);
	if (arr == NULL)
		return 0;	/* null: no bars */
	if (!json_object_is_type(arr, json_type_array))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/%s/bars: field \"bars\" is not a "
		    "list", symbol);
	if ((len = json_object_array_length(arr)) == 0)
		return 0;
	if (len > ALPACA_BARS_MAX)
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent %zu bars for "
		    "%s, more than the %d asked for at most", len, symbol,
		    ALPACA_BARS_MAX);
	if ((out = calloc(len, sizeof(*out))) == NULL)
		return alpaca_oom(err);
	for (i = 0; i < len; i++) {
		tp_err_clear(&e);
		if (alpaca_bar(json_object_array_get_idx(arr, i), i, &out[i],
		    &e) == -1) {
			free(out);
			return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a "
			    "malformed reply to GET /v2/stocks/%s/bars: %s",
			    symbol, e.msg);
		}
	}
	*bars = out;
	*n = len;
	return 0;
}
