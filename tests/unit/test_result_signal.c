/* test_result_signal.c: a signal job's RESULT: the encoder's output accepted, and hostile ones rejected with their reason by the checker (common/wire_result_sig.c). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/jsonutil.h"
#include "common/wire_result.h"

#define GOOD_SIGNAL \
	"{\"job_id\":\"j1\",\"ok\":true,\"signal\":{\"symbol\":\"AAPL\"," \
	"\"action\":\"BUY\",\"confidence\":0.6146,\"reasoning\":\"SMA(10) is " \
	"above SMA(30), so BUY.\",\"price\":\"121.00\",\"bar_at\":" \
	"\"2024-01-03T00:00:00Z\",\"bars\":40,\"indicators\":{\"sma_fast\":" \
	"118.0,\"sma_slow\":113.0,\"rsi\":68.544074}},\"requests\":{\"bars\":1," \
	"\"retries\":0},\"log\":[]}"

static json_object *
parse(const char *text)
{
	struct tp_err err;
	json_object *o = json_parse(text, strlen(text), &err);

	cr_assert_not_null(o, "test JSON: %s (%s)", text, err.msg);
	return o;
}

static enum wire_verdict
check(json_object *p, struct wire_result *r, char *why, size_t size)
{
	struct wire_result_job job = { .id = "j1", .kind = WIRE_JOB_SIGNAL,
	    .state = WIRE_JOB_IN_FLIGHT, .symbol = "AAPL" };

	return wire_result_check(&job, p, r, why, size);
}

/* The good RESULT with `from` replaced by `to`: the verdict and reason. */
static void
rejects(enum wire_verdict want, const char *from, const char *to,
    const char *reason)
{
	char text[4096], why[256] = "";
	const char *at = strstr(GOOD_SIGNAL, from);
	struct wire_result r;
	json_object *p;

	cr_assert_not_null(at, "\"%s\" is in the good RESULT", from);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - GOOD_SIGNAL),
	    GOOD_SIGNAL, to, at + strlen(from));
	p = parse(text);
	cr_assert_eq(check(p, &r, why, sizeof(why)), want, "%s -> %s: %s",
	    from, to, why);
	cr_assert(strstr(why, reason) != NULL, "reason \"%s\" names \"%s\"",
	    why, reason);
	wire_result_clear(&r);
	json_object_put(p);
}

Test(result_signal, good_accepted)
{
	struct wire_result r;
	char why[256] = "", text[80];
	json_object *p = parse(GOOD_SIGNAL);

	cr_assert_eq(check(p, &r, why, sizeof(why)), WIRE_ACCEPT, "%s", why);
	cr_assert_str_eq(r.signal.symbol, "AAPL");
	cr_assert_eq(r.signal.action, STRATEGY_BUY);
	cr_assert_float_eq(r.signal.confidence, 0.6146, 1e-12);
	cr_assert_str_eq(r.signal.price_text, "121.00");
	dec_format(&r.signal.price, text, sizeof(text));
	cr_assert_str_eq(text, "121.00");
	cr_assert_eq(r.signal.bars, 40);
	cr_assert_float_eq(r.signal.rsi, 68.544074, 1e-12);
	cr_assert_eq(r.req_bars, 1);
	wire_result_clear(&r);
	json_object_put(p);
}

Test(result_signal, encoder_output_accepted)
{
	struct strategy_decision d;
	struct wire_result r;
	char why[256] = "";
	json_object *p;

	memset(&d, 0, sizeof(d));
	d.action = STRATEGY_SELL;
	d.confidence = 0.25;
	d.sma_fast = 82;
	d.sma_slow = 87;
	d.rsi = 31.4559263581;
	snprintf(d.reasoning, sizeof(d.reasoning), "a sentence.");
	p = wire_result_signal_new("j1", "AAPL", &d, "79.005",
	    "2024-01-03T00:00:00Z", 40, 1, 2);
	cr_assert_not_null(p);
	cr_assert_eq(check(p, &r, why, sizeof(why)), WIRE_ACCEPT, "%s", why);
	cr_assert_eq(r.signal.action, STRATEGY_SELL);
	cr_assert_str_eq(r.signal.price_text, "79.005");
	cr_assert_eq(r.retries, 2);
	wire_result_clear(&r);
	json_object_put(p);
}

Test(result_signal, foreign_symbol)
{
	rejects(WIRE_REJECT_FOREIGN, "\"symbol\":\"AAPL\"",
	    "\"symbol\":\"MSFT\"", "a symbol the job did not ask");
}

Test(result_signal, bounds)
{
	rejects(WIRE_REJECT_MALFORMED, "\"BUY\"", "\"buy\"", "action");
	rejects(WIRE_REJECT_MALFORMED, "\"BUY\"", "\"SHORT\"", "action");
	rejects(WIRE_REJECT_MALFORMED, "\"BUY\"", "1", "action");
	rejects(WIRE_REJECT_MALFORMED, "0.6146", "1.0001", "confidence");
	rejects(WIRE_REJECT_MALFORMED, "0.6146", "-0.1", "confidence");
	rejects(WIRE_REJECT_MALFORMED, "0.6146", "\"0.6\"", "confidence");
	rejects(WIRE_REJECT_MALFORMED, "\"SMA(10) is above SMA(30), so BUY.\"",
	    "\"\"", "reasoning");
	rejects(WIRE_REJECT_MALFORMED, "\"SMA(10) is above SMA(30), so BUY.\"",
	    "\"line\\nbreak\"", "reasoning");
	rejects(WIRE_REJECT_MALFORMED, "\"121.00\"", "\"0\"", "price");
	rejects(WIRE_REJECT_MALFORMED, "\"121.00\"", "121.00", "price");
	rejects(WIRE_REJECT_MALFORMED, "\"121.00\"", "\"1e999999\"", "price");
	rejects(WIRE_REJECT_MALFORMED, "68.544074", "100.5", "indicators");
	rejects(WIRE_REJECT_MALFORMED, "118.0", "0", "indicators");
	rejects(WIRE_REJECT_MALFORMED, "118.0", "\"118\"", "indicators");
	rejects(WIRE_REJECT_MALFORMED, "\"bars\":40", "\"bars\":0", "bars");
	rejects(WIRE_REJECT_MALFORMED, "\"bars\":40", "\"bars\":1001", "bars");
	rejects(WIRE_REJECT_MALFORMED, "\"bars\":1,", "\"bars\":-1,",
	    "requests.bars");
	rejects(WIRE_REJECT_MALFORMED, "\"rsi\":68.544074",
	    "\"rsi\":68.544074,\"macd\":1", "indicators");
	rejects(WIRE_REJECT_MALFORMED, "\"bars\":40,", "\"bars\":40,"
	    "\"path\":\"users/x/signals/y\",", "unknown field \"path\"");
	rejects(WIRE_REJECT_MALFORMED, "\"log\":[]", "\"account\":{}",
	    "unknown field \"account\"");
}

Test(result_signal, reasoning_length)
{
	char text[4096], reason[STRATEGY_REASON_MAX + 2];
	struct wire_result r;
	char why[256] = "";
	json_object *p;

	memset(reason, 'a', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';	/* one byte too long */
	snprintf(text, sizeof(text), "{\"job_id\":\"j1\",\"ok\":true,"
	    "\"signal\":{\"symbol\":\"AAPL\",\"action\":\"HOLD\",\"confidence\":"
	    "1,\"reasoning\":\"%s\",\"price\":\"1\",\"bar_at\":\"t\",\"bars\":"
	    "40,\"indicators\":{\"sma_fast\":1,\"sma_slow\":1,\"rsi\":50}},"
	    "\"requests\":{\"bars\":1,\"retries\":0}}", reason);
	p = parse(text);
	cr_assert_eq(check(p, &r, why, sizeof(why)), WIRE_REJECT_MALFORMED);
	cr_assert(strstr(why, "reasoning") != NULL, "%s", why);
	json_object_put(p);
	/* at the bound it passes */
	reason[STRATEGY_REASON_MAX] = '\0';
	snprintf(text, sizeof(text), "{\"job_id\":\"j1\",\"ok\":true,"
	    "\"signal\":{\"symbol\":\"AAPL\",\"action\":\"HOLD\",\"confidence\":"
	    "1,\"reasoning\":\"%s\",\"price\":\"1\",\"bar_at\":\"t\",\"bars\":"
	    "40,\"indicators\":{\"sma_fast\":1,\"sma_slow\":1,\"rsi\":50}},"
	    "\"requests\":{\"bars\":1,\"retries\":0}}", reason);
	p = parse(text);
	cr_assert_eq(check(p, &r, why, sizeof(why)), WIRE_ACCEPT, "%s", why);
	wire_result_clear(&r);
	json_object_put(p);
}

/* json-c's tokener takes NaN and Infinity; a worker could send them. */
Test(result_signal, not_finite)
{
	static const char *const keys[] = { "sma_fast", "sma_slow", "rsi" };
	json_object *p, *s, *ind;
	struct wire_result r;
	char why[256];
	size_t i;

	for (i = 0; i < 3; i++) {
		p = parse(GOOD_SIGNAL);
		json_object_object_get_ex(p, "signal", &s);
		json_object_object_get_ex(s, "indicators", &ind);
		json_object_object_add(ind, keys[i], json_object_new_double(
		    i == 1 ? INFINITY : NAN));
		cr_assert_eq(check(p, &r, why, sizeof(why)),
		    WIRE_REJECT_MALFORMED, "%s", keys[i]);
		json_object_put(p);
	}
	p = parse(GOOD_SIGNAL);
	json_object_object_get_ex(p, "signal", &s);
	json_object_object_add(s, "confidence", json_object_new_double(NAN));
	cr_assert_eq(check(p, &r, why, sizeof(why)), WIRE_REJECT_MALFORMED);
	json_object_put(p);
}

Test(result_signal, failed_job)
{
	struct wire_result r;
	char why[256] = "";
	json_object *p = parse("{\"job_id\":\"j1\",\"ok\":false,\"error\":"
	    "{\"code\":\"failed_precondition\",\"message\":\"10 bars\"}}");

	cr_assert_eq(check(p, &r, why, sizeof(why)), WIRE_ACCEPT, "%s", why);
	cr_assert_not(r.ok);
	cr_assert_eq(r.code, TP_FAILED_PRECONDITION);
	wire_result_clear(&r);
	json_object_put(p);
}
