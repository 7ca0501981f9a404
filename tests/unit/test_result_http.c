/* test_result_http.c: a RESULT's "http" counts: the worker's classes and latency buckets, the encoder, and the supervisor's checker refusing what it cannot count. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/jsonutil.h"
#include "common/wire_result.h"

static json_object *
parse(const char *text)
{
	struct tp_err err;
	json_object *o = json_parse(text, strlen(text), &err);

	cr_assert_not_null(o, "test JSON: %s", text);
	return o;
}

/* A failed sync RESULT of job j1 with `http` as its "http" value (NULL:
 * none), checked; r is filled when accepted. */
static enum wire_verdict
check(const char *http, struct wire_result *r, char *why, size_t size)
{
	struct wire_result_job job = { .id = "j1", .kind = WIRE_JOB_SYNC,
	    .state = WIRE_JOB_IN_FLIGHT };
	char text[2048];
	enum wire_verdict v;
	json_object *p;

	snprintf(text, sizeof(text), "{\"job_id\":\"j1\",\"ok\":false,"
	    "\"error\":{\"code\":\"unauthenticated\",\"message\":\"Alpaca "
	    "refused the keys\"}%s%s}", http != NULL ? ",\"http\":" : "",
	    http != NULL ? http : "");
	p = parse(text);
	job.trades = parse("[]");
	v = wire_result_check(&job, p, r, why, size);
	json_object_put(job.trades);
	json_object_put(p);
	return v;
}

#define GOOD "{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0," \
	"\"latency_ms\":[1,1,0,0,0,0,0,0,0],\"latency_ms_sum\":130}"

Test(result_http, classes_and_buckets)
{
	struct wire_http h;

	memset(&h, 0, sizeof(h));
	wire_http_count(&h, 200, 10);
	wire_http_count(&h, 204, 50);		/* the bound is inclusive */
	wire_http_count(&h, 302, 51);
	wire_http_count(&h, 401, 100);
	wire_http_count(&h, 599, 10000);
	wire_http_count(&h, 0, 10001);		/* no answer; unbounded */
	wire_http_count(&h, 99, 0);
	wire_http_count(&h, 600, 0);
	cr_assert_eq(h.classes[0], 2);
	cr_assert_eq(h.classes[1], 1);
	cr_assert_eq(h.classes[2], 1);
	cr_assert_eq(h.classes[3], 1);
	cr_assert_eq(h.classes[4], 3);
	cr_assert_eq(h.latency[0], 4);
	cr_assert_eq(h.latency[1], 2);
	cr_assert_eq(h.latency[WIRE_HTTP_BUCKETS - 1], 1);
	cr_assert_eq(h.latency[WIRE_HTTP_BUCKETS], 1);
	cr_assert_eq(h.latency_ms_sum, 10 + 50 + 51 + 100 + 10000 + 10001);
}

Test(result_http, encoder_output_accepted_on_any_result)
{
	struct wire_result_job job = { .id = "j9", .kind = WIRE_JOB_SYNC,
	    .state = WIRE_JOB_IN_FLIGHT };
	struct wire_result r;
	struct wire_http h;
	json_object *p, *acc;
	char why[256] = "";

	memset(&h, 0, sizeof(h));
	wire_http_count(&h, 200, 20);
	wire_http_count(&h, 401, 300);
	acc = parse("{\"equity\":\"1\",\"status\":\"ACTIVE\"}");
	p = wire_result_sync_new("j9", acc, "abcd");
	cr_assert_eq(wire_result_requests(p, 1, 0, 0), 0);
	cr_assert_eq(wire_result_http(p, &h), 0);
	job.trades = parse("[]");
	cr_assert_eq(wire_result_check(&job, p, &r, why, sizeof(why)),
	    WIRE_ACCEPT, "%s", why);
	cr_assert(r.http.present);
	cr_assert_eq(r.http.classes[0], 1);
	cr_assert_eq(r.http.classes[2], 1);
	cr_assert_eq(r.http.latency[0], 1);
	cr_assert_eq(r.http.latency[3], 1);
	cr_assert_eq(r.http.latency_ms_sum, 320);
	wire_result_clear(&r);
	json_object_put(p);

	p = wire_result_error_new("j9", TP_UNAUTHENTICATED, "refused");
	cr_assert_eq(wire_result_http(p, &h), 0);
	cr_assert_eq(wire_result_check(&job, p, &r, why, sizeof(why)),
	    WIRE_ACCEPT, "%s", why);
	cr_assert(r.http.present);
	cr_assert_eq(r.http.classes[2], 1);
	wire_result_clear(&r);
	json_object_put(p);
	json_object_put(job.trades);
	json_object_put(acc);
}

Test(result_http, absent_is_nothing_counted)
{
	struct wire_result r;
	char why[256] = "";

	cr_assert_eq(check(NULL, &r, why, sizeof(why)), WIRE_ACCEPT, "%s", why);
	cr_assert(!r.http.present);
	wire_result_clear(&r);
	cr_assert_eq(check(GOOD, &r, why, sizeof(why)), WIRE_ACCEPT, "%s", why);
	cr_assert(r.http.present);
	cr_assert_eq(r.http.classes[2], 1);
	wire_result_clear(&r);
}

#define REJECTS(http, reason) do {					\
	struct wire_result r_;						\
	char why_[256] = "";						\
	cr_assert_eq(check(http, &r_, why_, sizeof(why_)),		\
	    WIRE_REJECT_MALFORMED, "%s: accepted", http);		\
	cr_assert(strstr(why_, reason) != NULL, "reason \"%s\" names "	\
	    "\"%s\"", why_, reason);					\
	wire_result_clear(&r_);						\
} while (0)

Test(result_http, what_cannot_be_counted_is_refused)
{
	REJECTS("[]", "\"http\" is not a map");
	REJECTS("{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,1,0,0,0,0,0,0,0],\"latency_ms_sum\":130,"
	    "\"tenant\":\"bob\"}", "\"http\" is not a map");
	REJECTS("{\"2xx\":-1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[0,0,0,0,0,0,0,0,0],\"latency_ms_sum\":0}",
	    "http.2xx is not a count");
	REJECTS("{\"2xx\":1.5,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,1,0,0,0,0,0,0,0],\"latency_ms_sum\":0}",
	    "http.2xx is not a count");
	REJECTS("{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":2000000,"
	    "\"latency_ms\":[1,1,0,0,0,0,0,0,0],\"latency_ms_sum\":0}",
	    "http.error is not a count");
	REJECTS("{\"2xx\":1,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,1,0,0,0,0,0,0,0],\"latency_ms_sum\":0}",
	    "http.3xx is not a count");
	REJECTS("{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,1,0,0,0,0,0,0],\"latency_ms_sum\":0}",
	    "not an array of 9 counts");
	REJECTS("{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,\"1\",0,0,0,0,0,0,0],\"latency_ms_sum\":0}",
	    "http.latency_ms[1] is not a count");
	REJECTS("{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,2,0,0,0,0,0,0,0],\"latency_ms_sum\":0}",
	    "counts 3 attempts, the classes 2");
	REJECTS("{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,1,0,0,0,0,0,0,0],\"latency_ms_sum\":7200001}",
	    "http.latency_ms_sum is not 0..7200000 ms for 2 attempts");
	REJECTS("{\"2xx\":1,\"3xx\":0,\"4xx\":1,\"5xx\":0,\"error\":0,"
	    "\"latency_ms\":[1,1,0,0,0,0,0,0,0]}", "http.latency_ms_sum");
}
