/* wire_result_sig.c: a signal job's RESULT: the worker's encoder and the supervisor's checker of its typed facts. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/wire_result.h"

#define WRS_SHOWN	48

/* A number with the text we choose (json-c would print 17 digits). */
static json_object *
wrs_num(double v, int places)
{
	char buf[64];

	/* the value is the text's, so the two never disagree (Firestore
	 * keeps the double) */
	snprintf(buf, sizeof(buf), "%.*f", places, v);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static int
wrs_add(json_object *o, const char *key, json_object *v)
{
	return v == NULL ? -1 : json_add(o, key, v);
}

json_object *
wire_result_signal_new(const char *job_id, const char *symbol,
    const struct strategy_decision *d, const char *price_text,
    const char *bar_at, int64_t bars, int64_t requests, int64_t retries)
{
	json_object *r, *s, *ind, *q;

	r = json_object_new_object();
	s = json_object_new_object();
	ind = json_object_new_object();
	q = json_object_new_object();
	if (r == NULL || s == NULL || ind == NULL || q == NULL)
		goto fail;
	if (wrs_add(ind, "sma_fast", wrs_num(d->sma_fast, 6)) == -1 ||
	    wrs_add(ind, "sma_slow", wrs_num(d->sma_slow, 6)) == -1 ||
	    wrs_add(ind, "rsi", wrs_num(d->rsi, 6)) == -1)
		goto fail;
	if (wrs_add(s, "symbol", json_object_new_string(symbol)) == -1 ||
	    wrs_add(s, "action", json_object_new_string(
	    strategy_action_name(d->action))) == -1 ||
	    wrs_add(s, "confidence", wrs_num(d->confidence,
	    STRATEGY_CONF_PLACES)) == -1 ||
	    wrs_add(s, "reasoning", json_object_new_string(d->reasoning)) ==
	    -1 || wrs_add(s, "price", json_object_new_string(price_text)) ==
	    -1 || wrs_add(s, "bar_at", json_object_new_string(bar_at)) == -1 ||
	    wrs_add(s, "bars", json_object_new_int64(bars)) == -1 ||
	    json_add(s, "indicators", ind) == -1)
		goto fail;
	ind = NULL;
	if (wrs_add(q, "bars", json_object_new_int64(requests)) == -1 ||
	    wrs_add(q, "retries", json_object_new_int64(retries)) == -1)
		goto fail;
	if (wrs_add(r, "job_id", json_object_new_string(job_id)) == -1 ||
	    wrs_add(r, "ok", json_object_new_boolean(1)) == -1 ||
	    json_add(r, "signal", s) == -1)
		goto fail;
	s = NULL;
	if (json_add(r, "requests", q) == -1)
		goto fail;
	return r;
fail:
	json_object_put(ind);
	json_object_put(s);
	json_object_put(q);
	json_object_put(r);
	return NULL;
}

static enum wire_verdict __attribute__((format(printf, 4, 5)))
wrs_why(enum wire_verdict v, char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return v;
}

static json_object *
wrs_get(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Text of 1..max bytes, valid UTF-8, no NUL or control character. */
static bool
wrs_text(json_object *v, size_t max)
{
	const char *s;
	size_t len, i;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > max || strlen(s) != len ||
	    !json_utf8_valid(s, len))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A finite JSON number (integer or not) within [lo, hi]. */
static bool
wrs_num_in(json_object *v, double lo, double hi, double *out)
{
	double d;

	if (v == NULL || (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int)))
		return false;
	d = json_object_get_double(v);
	if (!isfinite(d) || d < lo || d > hi)
		return false;
	*out = d;
	return true;
}

enum wire_verdict
wire_result_signal_check(const struct wire_result_job *job, json_object *p,
    struct wire_result *r, char *why, size_t size)
{
	static const char *const keys[] = { "symbol", "action", "confidence",
	    "reasoning", "price", "bar_at", "bars", "indicators", NULL };
	static const char *const ikeys[] = { "sma_fast", "sma_slow", "rsi",
	    NULL };
	static const char *const qkeys[] = { "bars", "retries", NULL };
	static const struct dec zero = { 0, 0 };
	struct wire_signal *sg = &r->signal;
	json_object *s, *v, *ind, *q;
	const char *bad;
	char shown[WRS_SHOWN + 1];
	int64_t n;

	s = wrs_get(p, "signal");
	if (s == NULL || !json_object_is_type(s, json_type_object))
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "\"signal\" "
		    "is not a map");
	if ((bad = json_unknown_key(s, keys)) != NULL)
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "\"signal\" "
		    "has an unknown field \"%s\"", tp_err_shown(bad, shown,
		    sizeof(shown)));
	v = wrs_get(s, "symbol");
	if (!wrs_text(v, 64))
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "symbol is not text");
	if (job->symbol == NULL ||
	    strcmp(json_object_get_string(v), job->symbol) != 0)
		return wrs_why(WIRE_REJECT_FOREIGN, why, size, "a signal for "
		    "\"%s\", a symbol the job did not ask",
		    tp_err_shown(json_object_get_string(v), shown,
		    sizeof(shown)));
	sg->symbol = json_object_get_string(v);
	v = wrs_get(s, "action");
	if (v == NULL || !json_object_is_type(v, json_type_string) ||
	    strategy_action_parse(json_object_get_string(v), &sg->action) ==
	    -1)
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "action is not BUY, SELL or HOLD");
	if (!wrs_num_in(wrs_get(s, "confidence"), 0, 1, &sg->confidence))
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "confidence is not a number from 0 to 1");
	v = wrs_get(s, "reasoning");
	if (!wrs_text(v, STRATEGY_REASON_MAX))
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "reasoning is not text of 1..%d bytes",
		    STRATEGY_REASON_MAX);
	sg->reasoning = json_object_get_string(v);
	v = wrs_get(s, "price");
	if (v == NULL || !json_object_is_type(v, json_type_string) ||
	    dec_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), &sg->price, NULL) == -1 ||
	    dec_cmp(&sg->price, &zero) <= 0)
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "price is not a decimal string above zero");
	sg->price_text = json_object_get_string(v);
	v = wrs_get(s, "bar_at");
	if (!wrs_text(v, WIRE_BAR_AT_MAX))
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "bar_at is not text of 1..%d bytes", WIRE_BAR_AT_MAX);
	sg->bar_at = json_object_get_string(v);
	v = wrs_get(s, "bars");
	if (v == NULL || !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < 1 || n > STRATEGY_BARS_MAX)
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "bars is not a count of 1..%d", STRATEGY_BARS_MAX);
	sg->bars = n;
	ind = wrs_get(s, "indicators");
	if (ind == NULL || !json_object_is_type(ind, json_type_object) ||
	    json_unknown_key(ind, ikeys) != NULL ||
	    !wrs_num_in(wrs_get(ind, "sma_fast"), 1e-12, 1e15, &sg->sma_fast) ||
	    !wrs_num_in(wrs_get(ind, "sma_slow"), 1e-12, 1e15, &sg->sma_slow) ||
	    !wrs_num_in(wrs_get(ind, "rsi"), 0, 100, &sg->rsi))
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "the signal's "
		    "indicators are not sma_fast and sma_slow (finite, above "
		    "0) and rsi (0..100)");
	q = wrs_get(p, "requests");
	if (q == NULL || !json_object_is_type(q, json_type_object) ||
	    json_unknown_key(q, qkeys) != NULL)
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "\"requests\" "
		    "is not a map of bars and retries");
	v = wrs_get(q, "bars");
	if (v == NULL || !json_object_is_type(v, json_type_int) ||
	    (r->req_bars = json_object_get_int64(v)) < 0 ||
	    r->req_bars > WIRE_COUNT_MAX)
		return wrs_why(WIRE_REJECT_MALFORMED, why, size, "requests.bars "
		    "is not a count of 0..%d", WIRE_COUNT_MAX);
	v = wrs_get(q, "retries");
	if (v == NULL || !json_object_is_type(v, json_type_int) ||
	    (r->retries = json_object_get_int64(v)) < 0 ||
	    r->retries > WIRE_COUNT_MAX)
		return wrs_why(WIRE_REJECT_MALFORMED, why, size,
		    "requests.retries is not a count of 0..%d",
		    WIRE_COUNT_MAX);
	return WIRE_ACCEPT;
}
