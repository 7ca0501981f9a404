/* wire_result.c: the RESULT message, typed: the supervisor's pure checker (encoders in wire_result_enc.c). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/pnl.h"
#include "common/wire_result.h"

#define WR_SHOWN	48	/* bytes of a worker's text quoted in a reason */

/* The account fields a snapshot keeps, as worker/alpaca.c parses them. */
static const char *const wr_money[] = {
	"cash", "equity", "last_equity", "buying_power", "portfolio_value",
	"long_market_value", "short_market_value", "initial_margin",
	"maintenance_margin",
};
static const struct {
	const char	*name;
	size_t		 max;
	bool		 upper;		/* [A-Z_] rather than printable */
} wr_texts[] = {
	{ "id", 64, false },
	{ "account_number", 64, false },
	{ "status", 32, true },
	{ "currency", 8, true },
	{ "created_at", 64, false },
};
static const char *const wr_flags[] = {
	"pattern_day_trader", "trading_blocked", "account_blocked",
};
#define WR_N(a)	(sizeof(a) / sizeof((a)[0]))

bool
wire_result_money(const char *name)
{
	size_t i;

	for (i = 0; i < WR_N(wr_money); i++)
		if (strcmp(name, wr_money[i]) == 0)
			return true;
	return false;
}

static enum wire_verdict __attribute__((format(printf, 4, 5)))
wr_why(enum wire_verdict v, char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return v;
}

/* A string of 1..max bytes (0..max when empty_ok), valid UTF-8, no NUL;
 * no control character either, but in a message (the supervisor blanks
 * them where it shows one). */
static bool
wr_str(json_object *v, size_t max, bool empty_ok, bool ctl_ok)
{
	const char *s;
	size_t len, i;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if ((len == 0 && !empty_ok) || len > max || strlen(s) != len ||
	    !json_utf8_valid(s, len))
		return false;
	for (i = 0; i < len && !ctl_ok; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool
wr_text(json_object *v, size_t max, bool empty_ok)
{
	return wr_str(v, max, empty_ok, false);
}

static const char *
wr_type(json_object *v)
{
	return v == NULL ? "null" : json_type_to_name(json_object_get_type(v));
}

/* A key's value (NULL when absent or null). */
static json_object *
wr_get(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *
wire_result_job_id(json_object *p)
{
	json_object *v;

	if (p == NULL || !json_object_is_type(p, json_type_object) ||
	    (v = wr_get(p, "job_id")) == NULL ||
	    !json_object_is_type(v, json_type_string) ||
	    !wire_valid_job_id(json_object_get_string(v)))
		return NULL;
	return json_object_get_string(v);
}

/* {code, message}: a known code, a bounded message. */
static enum wire_verdict
wr_error(json_object *e, const char *what, enum tp_code *code,
    const char **msg, char *why, size_t size)
{
	static const char *const keys[] = { "code", "message", NULL };
	json_object *c, *m;
	const char *bad;
	char shown[WR_SHOWN + 1];

	if (e == NULL || !json_object_is_type(e, json_type_object))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%s is a %s, "
		    "not a map", what, wr_type(e));
	if ((bad = json_unknown_key(e, keys)) != NULL)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%s has an "
		    "unknown field \"%s\"", what, tp_err_shown(bad, shown,
		    sizeof(shown)));
	c = wr_get(e, "code");
	m = wr_get(e, "message");
	if (!wr_text(c, WIRE_ERR_CODE_MAX, false))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%s has no "
		    "valid code", what);
	*code = tp_code_parse(json_object_get_string(c));
	if (*code == TP_OK || strcmp(tp_code_name(*code),
	    json_object_get_string(c)) != 0)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%s: unknown "
		    "code \"%s\"", what, tp_err_shown(json_object_get_string(c),
		    shown, sizeof(shown)));
	if (!wr_str(m, WIRE_ERR_MSG_MAX, true, true))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%s: the "
		    "message is not text of at most %d bytes", what,
		    WIRE_ERR_MSG_MAX);
	*msg = json_object_get_string(m);
	return WIRE_ACCEPT;
}

static enum wire_verdict
wr_account(json_object *a, char *why, size_t size)
{
	struct json_object_iterator it, end;
	const char *name, *s;
	json_object *v;
	struct dec d;
	struct tp_err e;
	char shown[WR_SHOWN + 1];
	int64_t n;
	size_t i, k;

	if (a == NULL || !json_object_is_type(a, json_type_object))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "\"account\" "
		    "is a %s, not a map", wr_type(a));
	if (wr_get(a, "equity") == NULL || wr_get(a, "status") == NULL)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "\"account\" "
		    "lacks equity or status");
	it = json_object_iter_begin(a);
	end = json_object_iter_end(a);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		for (i = 0; i < WR_N(wr_money); i++)
			if (strcmp(name, wr_money[i]) == 0)
				break;
		if (i < WR_N(wr_money)) {
			/* money travels as a decimal string */
			if (v == NULL || !json_object_is_type(v,
			    json_type_string))
				return wr_why(WIRE_REJECT_MALFORMED, why, size,
				    "account field %s is a %s, not a decimal "
				    "string", name, wr_type(v));
			s = json_object_get_string(v);
			tp_err_clear(&e);
			if (dec_parse(s, (size_t)json_object_get_string_len(v),
			    &d, &e) == -1)
				return wr_why(WIRE_REJECT_MALFORMED, why, size,
				    "account field %s: %s", name, e.msg);
			continue;
		}
		for (i = 0; i < WR_N(wr_texts); i++)
			if (strcmp(name, wr_texts[i].name) == 0)
				break;
		if (i < WR_N(wr_texts)) {
			if (!wr_text(v, wr_texts[i].max, false))
				return wr_why(WIRE_REJECT_MALFORMED, why, size,
				    "account field %s is not text of 1..%zu "
				    "bytes", name, wr_texts[i].max);
			s = json_object_get_string(v);
			for (k = 0; s[k] != '\0'; k++)
				if ((unsigned char)s[k] >= 0x7f ||
				    (wr_texts[i].upper && !((s[k] >= 'A' &&
				    s[k] <= 'Z') || s[k] == '_')))
					return wr_why(WIRE_REJECT_MALFORMED,
					    why, size, "account field %s: a "
					    "character out of its set", name);
			continue;
		}
		for (i = 0; i < WR_N(wr_flags); i++)
			if (strcmp(name, wr_flags[i]) == 0)
				break;
		if (i < WR_N(wr_flags)) {
			if (v == NULL || !json_object_is_type(v,
			    json_type_boolean))
				return wr_why(WIRE_REJECT_MALFORMED, why, size,
				    "account field %s is a %s, not a boolean",
				    name, wr_type(v));
			continue;
		}
		if (strcmp(name, "daytrade_count") == 0) {
			if (v == NULL || !json_object_is_type(v,
			    json_type_int) || (n = json_object_get_int64(v)) <
			    0 || n > INT32_MAX)
				return wr_why(WIRE_REJECT_MALFORMED, why, size,
				    "account field daytrade_count is not an "
				    "integer of 0..%d", INT32_MAX);
			continue;
		}
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "account has "
		    "an unknown field \"%s\"", tp_err_shown(name, shown,
		    sizeof(shown)));
	}
	return WIRE_ACCEPT;
}

/* A mark's number: a JSON number (never a string), at most `places`
 * decimals and WIRE_MARK_DIGITS integer digits; above zero if positive. */
static enum wire_verdict
wr_mark_num(json_object *m, const char *key, int places, bool positive,
    struct dec *d, const char *id, char *why, size_t size)
{
	static const struct dec zero = { 0, 0 };
	struct dec bound, neg;
	struct tp_err e;
	json_object *v = wr_get(m, key);
	char shown[WR_SHOWN + 1];

	if (v == NULL)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "the mark of "
		    "trade %s has no %s", tp_err_shown(id, shown, sizeof(shown)),
		    key);
	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "the %s of "
		    "trade %s is a %s, not a number", key, tp_err_shown(id, shown,
		    sizeof(shown)), wr_type(v));
	tp_err_clear(&e);
	if (dec_from_json(v, d, &e) == -1)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "the %s of "
		    "trade %s: %s", key, tp_err_shown(id, shown, sizeof(shown)),
		    e.msg);
	/* 10^WIRE_MARK_DIGITS, the first value out of bounds */
	bound.m = 1;
	bound.scale = 0;
	for (int i = 0; i < WIRE_MARK_DIGITS; i++)
		bound.m *= 10;
	dec_neg(&bound, &neg);
	if (d->scale > places || dec_cmp(d, &bound) >= 0 ||
	    dec_cmp(d, &neg) <= 0 || (positive && dec_cmp(d, &zero) <= 0))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "the %s of "
		    "trade %s is out of bounds (%s%d decimals, under 10^%d)",
		    key, tp_err_shown(id, shown, sizeof(shown)), positive ?
		    "above zero, " : "", places, WIRE_MARK_DIGITS);
	return WIRE_ACCEPT;
}

/* The index of the trade `id` in the job's trades, or -1. */
static long
wr_trade_index(json_object *trades, const char *id)
{
	size_t i, n;
	const char *tid;

	n = trades != NULL ? json_object_array_length(trades) : 0;
	for (i = 0; i < n; i++) {
		tid = json_get_str(json_object_array_get_idx(trades, i), "id");
		if (tid != NULL && strcmp(tid, id) == 0)
			return (long)i;
	}
	return -1;
}

static enum wire_verdict
wr_marks(const struct wire_result_job *job, json_object *a,
    struct wire_result *r, char *why, size_t size)
{
	static const char *const keys[] = { "id", "current_price",
	    "unrealized_pnl", "pnl_percent", "pnl_error", NULL };
	enum wire_verdict v;
	struct wire_mark *mk;
	json_object *m, *idv;
	const char *bad;
	char shown[WR_SHOWN + 1], what[WR_SHOWN + 32];
	bool seen[WIRE_TRADES_MAX];
	size_t i, n, ntrades;
	long k;

	if (a == NULL || !json_object_is_type(a, json_type_array))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "\"marks\" is "
		    "a %s, not a list", wr_type(a));
	n = json_object_array_length(a);
	ntrades = job->trades != NULL ?
	    json_object_array_length(job->trades) : 0;
	if (n > WIRE_TRADES_MAX || ntrades > WIRE_TRADES_MAX)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%zu marks, "
		    "more than %d", n, WIRE_TRADES_MAX);
	memset(seen, 0, sizeof(seen));
	if (n > 0 && (r->marks = calloc(n, sizeof(*r->marks))) == NULL)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "out of "
		    "memory");
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(a, i);
		mk = &r->marks[i];
		if (m == NULL || !json_object_is_type(m, json_type_object))
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "mark "
			    "%zu is not a map", i);
		if ((bad = json_unknown_key(m, keys)) != NULL)
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "mark "
			    "%zu has an unknown field \"%s\"", i,
			    tp_err_shown(bad, shown, sizeof(shown)));
		idv = wr_get(m, "id");
		if (!wr_text(idv, WIRE_TRADE_ID_MAX, false))
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "mark "
			    "%zu has no valid trade id", i);
		mk->id = json_object_get_string(idv);
		if ((k = wr_trade_index(job->trades, mk->id)) < 0)
			return wr_why(WIRE_REJECT_FOREIGN, why, size, "trade "
			    "%s was not in the job", tp_err_shown(mk->id, shown,
			    sizeof(shown)));
		if (seen[k])
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "trade "
			    "%s is marked twice", tp_err_shown(mk->id, shown,
			    sizeof(shown)));
		seen[k] = true;
		if (wr_get(m, "pnl_error") != NULL) {
			if (wr_get(m, "current_price") != NULL ||
			    wr_get(m, "unrealized_pnl") != NULL ||
			    wr_get(m, "pnl_percent") != NULL)
				return wr_why(WIRE_REJECT_MALFORMED, why, size,
				    "trade %s has both a mark and an error",
				    tp_err_shown(mk->id, shown, sizeof(shown)));
			snprintf(what, sizeof(what), "the pnl_error of trade "
			    "%s", tp_err_shown(mk->id, shown, sizeof(shown)));
			if ((v = wr_error(wr_get(m, "pnl_error"), what,
			    &mk->code, &mk->message, why, size)) !=
			    WIRE_ACCEPT)
				return v;
			continue;
		}
		mk->ok = true;
		if ((v = wr_mark_num(m, "current_price", DEC_SCALE_MAX, true,
		    &mk->price, mk->id, why, size)) != WIRE_ACCEPT ||
		    (v = wr_mark_num(m, "unrealized_pnl", PNL_PLACES, false,
		    &mk->pnl, mk->id, why, size)) != WIRE_ACCEPT ||
		    (v = wr_mark_num(m, "pnl_percent", PNL_PCT_PLACES, false,
		    &mk->pct, mk->id, why, size)) != WIRE_ACCEPT)
			return v;
	}
	r->nmarks = n;
	for (i = 0; i < ntrades; i++)
		if (!seen[i])
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "trade "
			    "%s of the job has no mark", tp_err_shown(json_get_str(
			    json_object_array_get_idx(job->trades, i), "id") ?
			    json_get_str(json_object_array_get_idx(job->trades,
			    i), "id") : "?", shown, sizeof(shown)));
	return WIRE_ACCEPT;
}

/* {"account": n, "trades_latest": n, "retries": n}; account only for a
 * sync. */
static enum wire_verdict
wr_requests(json_object *q, bool sync, struct wire_result *r, char *why,
    size_t size)
{
	static const char *const skeys[] = { "account", "trades_latest",
	    "retries", NULL };
	static const char *const pkeys[] = { "trades_latest", "retries",
	    NULL };
	const char *const *keys = sync ? skeys : pkeys;
	int64_t *out[] = { &r->req_account, &r->req_trades, &r->retries };
	json_object *v;
	size_t i;

	if (q == NULL || !json_object_is_type(q, json_type_object) ||
	    json_unknown_key(q, keys) != NULL)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "\"requests\" "
		    "is not a map of %s", sync ? "account, trades_latest and "
		    "retries" : "trades_latest and retries");
	r->req_account = -1;
	for (i = 0; keys[i] != NULL; i++) {
		v = wr_get(q, keys[i]);
		if (v == NULL || !json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 0 ||
		    json_object_get_int64(v) > WIRE_COUNT_MAX)
			return wr_why(WIRE_REJECT_MALFORMED, why, size,
			    "requests.%s is not a count of 0..%d", keys[i],
			    WIRE_COUNT_MAX);
		*out[sync ? i : i + 1] = json_object_get_int64(v);
	}
	return WIRE_ACCEPT;
}

/* Whether `sym` is one of the job's symbols. */
static bool
wr_symbol_asked(json_object *symbols, const char *sym)
{
	size_t i, n;
	const char *s;

	n = symbols != NULL && json_object_is_type(symbols, json_type_array) ?
	    json_object_array_length(symbols) : 0;
	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(symbols,
		    i));
		if (s != NULL && strcmp(s, sym) == 0)
			return true;
	}
	return false;
}

static enum wire_verdict
wr_prices(const struct wire_result_job *job, json_object *p, char *why,
    size_t size)
{
	static const struct dec zero = { 0, 0 };
	struct json_object_iterator it, end;
	const char *sym;
	json_object *v;
	struct dec d;
	struct tp_err e;
	char shown[WR_SHOWN + 1];
	json_object *asked = NULL;
	size_t i, n;

	if (p == NULL || !json_object_is_type(p, json_type_object))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "\"prices\" is "
		    "a %s, not a map", wr_type(p));
	if (json_object_object_length(p) > WIRE_SYMBOLS_MAX)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%d prices, "
		    "more than %d", json_object_object_length(p),
		    WIRE_SYMBOLS_MAX);
	/* a set of the symbols asked, for 10,000 lookups */
	n = job->symbols != NULL && json_object_is_type(job->symbols,
	    json_type_array) ? json_object_array_length(job->symbols) : 0;
	if (n > 16 && (asked = json_object_new_object()) != NULL)
		for (i = 0; i < n; i++)
			if (json_add(asked, json_object_get_string(
			    json_object_array_get_idx(job->symbols, i)),
			    NULL) == -1) {
				json_object_put(asked);
				asked = NULL;
				break;
			}
	it = json_object_iter_begin(p);
	end = json_object_iter_end(p);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		sym = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if (!pnl_valid_symbol(sym) || !(asked != NULL ?
		    json_object_object_get_ex(asked, sym, NULL) :
		    wr_symbol_asked(job->symbols, sym))) {
			json_object_put(asked);
			return wr_why(WIRE_REJECT_FOREIGN, why, size, "a price "
			    "of \"%s\", a symbol the job did not ask",
			    tp_err_shown(sym, shown, sizeof(shown)));
		}
		tp_err_clear(&e);
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    dec_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), &d, &e) == -1 ||
		    dec_cmp(&d, &zero) <= 0) {
			json_object_put(asked);
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "the "
			    "price of %s is not a decimal string above zero",
			    tp_err_shown(sym, shown, sizeof(shown)));
		}
	}
	json_object_put(asked);
	return WIRE_ACCEPT;
}

static enum wire_verdict
wr_log(json_object *a, char *why, size_t size)
{
	static const char *const keys[] = { "level", "event", "message",
	    NULL };
	static const char *const levels[] = { "debug", "info", "warn",
	    "error" };
	json_object *l, *lv, *ev;
	const char *s;
	size_t i, k, n;

	if (a == NULL)
		return WIRE_ACCEPT;
	if (!json_object_is_type(a, json_type_array))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "\"log\" is a "
		    "%s, not a list", wr_type(a));
	n = json_object_array_length(a);
	if (n > WIRE_LOG_LINES_MAX)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "%zu log "
		    "lines, more than %d", n, WIRE_LOG_LINES_MAX);
	for (i = 0; i < n; i++) {
		l = json_object_array_get_idx(a, i);
		if (l == NULL || !json_object_is_type(l, json_type_object) ||
		    json_unknown_key(l, keys) != NULL)
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "log "
			    "line %zu is not a map of level, event and "
			    "message", i);
		lv = wr_get(l, "level");
		ev = wr_get(l, "event");
		if (!wr_text(lv, 8, false) || !wr_text(ev, WIRE_LOG_EVENT_MAX,
		    false) || !wr_str(wr_get(l, "message"), WIRE_LOG_MSG_MAX,
		    false, true))
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "log "
			    "line %zu: level, event or message is not text of "
			    "its bounds", i);
		for (k = 0; k < WR_N(levels); k++)
			if (strcmp(json_object_get_string(lv), levels[k]) == 0)
				break;
		if (k == WR_N(levels))
			return wr_why(WIRE_REJECT_MALFORMED, why, size, "log "
			    "line %zu: unknown level", i);
		for (s = json_object_get_string(ev); *s != '\0'; s++)
			if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' &&
			    *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
				return wr_why(WIRE_REJECT_MALFORMED, why, size,
				    "log line %zu: the event is not [a-z0-9_.-]",
				    i);
	}
	return WIRE_ACCEPT;
}

enum wire_verdict
wire_result_check(const struct wire_result_job *job, json_object *p,
    struct wire_result *r, char *why, size_t size)
{
	static const char *const sync_ok[] = { "job_id", "ok", "account",
	    "key_id_last4", "marks", "requests", "log", "http", NULL };
	static const char *const prices_ok[] = { "job_id", "ok", "prices",
	    "requests", "log", "http", NULL };
	static const char *const signal_ok[] = { "job_id", "ok", "signal",
	    "requests", "log", "http", NULL };
	static const char *const failed[] = { "job_id", "ok", "error", "log",
	    "http", NULL };
	enum wire_verdict v;
	json_object *okv, *l4;
	const char *id, *bad;
	char shown[WR_SHOWN + 1];

	memset(r, 0, sizeof(*r));
	r->req_account = -1;
	if ((id = wire_result_job_id(p)) == NULL)
		return wr_why(WIRE_REJECT_STRAY, why, size, "a RESULT without "
		    "a valid job id");
	r->job_id = id;
	if (job == NULL || job->state == WIRE_JOB_UNKNOWN)
		return wr_why(WIRE_REJECT_STRAY, why, size, "a RESULT for job "
		    "%s, which does not exist", id);
	if (strcmp(job->id, id) != 0)
		return wr_why(WIRE_REJECT_STRAY, why, size, "a RESULT for job "
		    "%s checked against job %s", id, job->id);
	if (job->state == WIRE_JOB_ANSWERED)
		return wr_why(WIRE_REJECT_STRAY, why, size, "a second RESULT "
		    "for job %s", id);
	if (job->state == WIRE_JOB_ELSEWHERE)
		return wr_why(WIRE_REJECT_FOREIGN, why, size, "a RESULT for job "
		    "%s, which is not in flight on this worker", id);
	if ((okv = wr_get(p, "ok")) == NULL ||
	    !json_object_is_type(okv, json_type_boolean))
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "\"ok\" is not "
		    "true or false");
	r->ok = json_object_get_boolean(okv);
	if ((bad = json_unknown_key(p, !r->ok ? failed :
	    job->kind == WIRE_JOB_SYNC ? sync_ok :
	    job->kind == WIRE_JOB_SIGNAL ? signal_ok : prices_ok)) != NULL)
		return wr_why(WIRE_REJECT_MALFORMED, why, size, "unknown field "
		    "\"%s\" in a%s %s RESULT", tp_err_shown(bad, shown,
		    sizeof(shown)), r->ok ? "" : " failed",
		    job->kind == WIRE_JOB_SYNC ? "sync" :
		    job->kind == WIRE_JOB_SIGNAL ? "signal" : "prices");
	if ((v = wr_log(wr_get(p, "log"), why, size)) != WIRE_ACCEPT)
		return v;
	r->log = wr_get(p, "log");
	if ((v = wire_result_http_check(wr_get(p, "http"), &r->http, why,
	    size)) != WIRE_ACCEPT)
		return v;
	if (!r->ok)
		return wr_error(wr_get(p, "error"), "\"error\"", &r->code,
		    &r->message, why, size);
	if (job->kind == WIRE_JOB_SIGNAL)
		return wire_result_signal_check(job, p, r, why, size);
	if (job->kind == WIRE_JOB_PRICES) {
		if ((v = wr_prices(job, wr_get(p, "prices"), why, size)) !=
		    WIRE_ACCEPT)
			return v;
		r->prices = wr_get(p, "prices");
		return wr_requests(wr_get(p, "requests"), false, r, why, size);
	}
	if ((v = wr_account(wr_get(p, "account"), why, size)) != WIRE_ACCEPT)
		return v;
	r->account = wr_get(p, "account");
	l4 = wr_get(p, "key_id_last4");
	if (l4 == NULL || !wr_text(l4, 4, true))
		return wr_why(WIRE_REJECT_MALFORMED, why, size,
		    "\"key_id_last4\" is not text of at most 4 bytes");
	r->key_id_last4 = json_object_get_string(l4);
	if ((v = wr_marks(job, wr_get(p, "marks"), r, why, size)) !=
	    WIRE_ACCEPT)
		return v;
	return wr_requests(wr_get(p, "requests"), true, r, why, size);
}

void
wire_result_clear(struct wire_result *r)
{
	free(r->marks);
	memset(r, 0, sizeof(*r));
}

void
wire_result_pnl_sum(const struct wire_result *r, char *buf, size_t size)
{
	struct dec sum = { 0, 0 };
	struct tp_err e;
	size_t i;

	/* 500 marks under 10^24 each cannot leave the range */
	for (i = 0; i < r->nmarks; i++)
		if (r->marks[i].ok)
			(void)dec_add(&sum, &r->marks[i].pnl, &sum, &e);
	dec_round(&sum, PNL_PLACES, &sum);
	if (dec_format(&sum, buf, size) == -1)
		snprintf(buf, size, "0.00");
}
