/* test_result.c: the typed RESULT's checker (common/wire_result.c) against hostile RESULTs, each rejected with its reason. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/jsonutil.h"
#include "common/wire_result.h"

#define GOOD_SYNC \
	"{\"job_id\":\"j1\",\"ok\":true,\"account\":{\"equity\":\"100.5\"," \
	"\"status\":\"ACTIVE\",\"currency\":\"USD\",\"trading_blocked\":false," \
	"\"daytrade_count\":0},\"key_id_last4\":\"0001\",\"marks\":[" \
	"{\"id\":\"t1\",\"current_price\":187.25,\"unrealized_pnl\":72.50," \
	"\"pnl_percent\":4.0278},{\"id\":\"t2\",\"pnl_error\":{\"code\":" \
	"\"not_found\",\"message\":\"no latest trade\"}}],\"requests\":" \
	"{\"account\":1,\"trades_latest\":1,\"retries\":0},\"log\":[{\"level\":" \
	"\"info\",\"event\":\"pnl\",\"message\":\"marked\"}]}"

static json_object *
parse(const char *text)
{
	struct tp_err err;
	json_object *o = json_parse(text, strlen(text), &err);

	cr_assert_not_null(o, "test JSON: %s", text);
	return o;
}

/* Checks text against job j1 (sync, trades t1 and t2, in flight). */
static enum wire_verdict
check_sync(const char *text, enum wire_job_state st, char *why, size_t size)
{
	struct wire_result_job job = { .id = "j1", .kind = WIRE_JOB_SYNC,
	    .state = st };
	struct wire_result r;
	enum wire_verdict v;
	json_object *p = parse(text);

	job.trades = parse("[{\"id\":\"t1\",\"symbol\":\"AAPL\"},"
	    "{\"id\":\"t2\",\"symbol\":\"ZZZZ\"}]");
	v = wire_result_check(&job, p, &r, why, size);
	wire_result_clear(&r);
	json_object_put(job.trades);
	json_object_put(p);
	return v;
}

/* The good RESULT with `from` replaced by `to`. */
static enum wire_verdict
check_edit(const char *from, const char *to, char *why, size_t size)
{
	char text[4096];
	const char *at = strstr(GOOD_SYNC, from);

	cr_assert_not_null(at, "\"%s\" is in the good RESULT", from);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - GOOD_SYNC),
	    GOOD_SYNC, to, at + strlen(from));
	return check_sync(text, WIRE_JOB_IN_FLIGHT, why, size);
}

#define REJECTS(verdict, from, to, reason) do {				\
	char why_[256] = "";						\
	cr_assert_eq(check_edit(from, to, why_, sizeof(why_)), verdict,	\
	    "verdict (why: %s)", why_);					\
	cr_assert(strstr(why_, reason) != NULL, "reason \"%s\" names "	\
	    "\"%s\"", why_, reason);					\
} while (0)

Test(result, good_sync_accepted)
{
	struct wire_result_job job = { .id = "j1", .kind = WIRE_JOB_SYNC,
	    .state = WIRE_JOB_IN_FLIGHT };
	struct wire_result r;
	char why[256] = "", sum[80];
	json_object *p = parse(GOOD_SYNC);

	job.trades = parse("[{\"id\":\"t1\"},{\"id\":\"t2\"}]");
	cr_assert_eq(wire_result_check(&job, p, &r, why, sizeof(why)),
	    WIRE_ACCEPT, "%s", why);
	cr_assert_eq(r.nmarks, 2);
	cr_assert(r.marks[0].ok);
	cr_assert(!r.marks[1].ok);
	cr_assert_eq(r.marks[1].code, TP_NOT_FOUND);
	cr_assert_str_eq(r.key_id_last4, "0001");
	cr_assert_eq(r.req_account, 1);
	wire_result_pnl_sum(&r, sum, sizeof(sum));
	cr_assert_str_eq(sum, "72.50");
	wire_result_clear(&r);
	json_object_put(job.trades);
	json_object_put(p);
}

Test(result, encoder_output_accepted)
{
	struct wire_result_job job = { .id = "j9", .kind = WIRE_JOB_SYNC,
	    .state = WIRE_JOB_IN_FLIGHT };
	struct dec price = { 18725, 2 }, pnl = { 7250, 2 }, pct = { 40278, 4 };
	struct wire_result r;
	json_object *acc, *p;
	char why[256] = "";

	acc = parse("{\"equity\":\"1\",\"status\":\"ACTIVE\"}");
	p = wire_result_sync_new("j9", acc, "abcd");
	cr_assert_eq(wire_result_mark(p, "t1", &price, &pnl, &pct), 0);
	cr_assert_eq(wire_result_mark_error(p, "t2", TP_INVALID_ARGUMENT,
	    "qty must be above zero"), 0);
	cr_assert_eq(wire_result_requests(p, 1, 0, 0), 0);
	job.trades = parse("[{\"id\":\"t1\"},{\"id\":\"t2\"}]");
	cr_assert_eq(wire_result_check(&job, p, &r, why, sizeof(why)),
	    WIRE_ACCEPT, "%s", why);
	wire_result_clear(&r);
	json_object_put(job.trades);
	json_object_put(p);
	json_object_put(acc);
}

Test(result, foreign_trade_id)
{
	REJECTS(WIRE_REJECT_FOREIGN, "\"id\":\"t2\"", "\"id\":\"bobs-trade\"",
	    "was not in the job");
}

Test(result, duplicate_trade_id)
{
	REJECTS(WIRE_REJECT_MALFORMED, "\"id\":\"t2\"", "\"id\":\"t1\"",
	    "marked twice");
}

Test(result, missing_mark)
{
	REJECTS(WIRE_REJECT_MALFORMED, ",{\"id\":\"t2\",\"pnl_error\":{\"code\":"
	    "\"not_found\",\"message\":\"no latest trade\"}}", "", "has no mark");
}

Test(result, missing_field)
{
	REJECTS(WIRE_REJECT_MALFORMED, "\"unrealized_pnl\":72.50,", "",
	    "has no unrealized_pnl");
	REJECTS(WIRE_REJECT_MALFORMED, "\"equity\":\"100.5\",", "",
	    "lacks equity");
	REJECTS(WIRE_REJECT_MALFORMED, "\"key_id_last4\":\"0001\",", "",
	    "key_id_last4");
	REJECTS(WIRE_REJECT_MALFORMED, "\"ok\":true,", "", "\"ok\"");
}

Test(result, number_where_string_belongs)
{
	REJECTS(WIRE_REJECT_MALFORMED, "\"equity\":\"100.5\"",
	    "\"equity\":100.5", "not a decimal string");
	REJECTS(WIRE_REJECT_MALFORMED, "\"status\":\"ACTIVE\"", "\"status\":1",
	    "not text");
}

Test(result, string_where_number_belongs)
{
	REJECTS(WIRE_REJECT_MALFORMED, "\"current_price\":187.25",
	    "\"current_price\":\"187.25\"", "not a number");
}

Test(result, values_past_bounds)
{
	REJECTS(WIRE_REJECT_MALFORMED, "\"unrealized_pnl\":72.50",
	    "\"unrealized_pnl\":72.501", "out of bounds");
	REJECTS(WIRE_REJECT_MALFORMED, "\"current_price\":187.25",
	    "\"current_price\":-1", "out of bounds");
	REJECTS(WIRE_REJECT_MALFORMED, "\"pnl_percent\":4.0278",
	    "\"pnl_percent\":1e30", "out of bounds");
	REJECTS(WIRE_REJECT_MALFORMED, "\"daytrade_count\":0",
	    "\"daytrade_count\":-1", "daytrade_count");
	REJECTS(WIRE_REJECT_MALFORMED, "\"retries\":0", "\"retries\":1e9",
	    "requests.retries");
	REJECTS(WIRE_REJECT_MALFORMED, "\"code\":\"not_found\"",
	    "\"code\":\"made_up\"", "unknown code");
}

Test(result, unknown_fields)
{
	/* the old generic writes, or another tenant's field */
	REJECTS(WIRE_REJECT_MALFORMED, "\"log\":", "\"writes\":[],\"log\":",
	    "unknown field \"writes\"");
	REJECTS(WIRE_REJECT_MALFORMED, "\"currency\":\"USD\"",
	    "\"uid\":\"bob\"", "unknown field \"uid\"");
	REJECTS(WIRE_REJECT_MALFORMED, "\"id\":\"t1\",", "\"id\":\"t1\","
	    "\"path\":\"users/bob/data/loot\",", "unknown field \"path\"");
}

Test(result, free_text_bounded)
{
	char big[2048], text[8192];
	char why[256] = "";

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"job_id\":\"j1\",\"ok\":false,"
	    "\"error\":{\"code\":\"internal\",\"message\":\"%s\"}}", big);
	cr_assert_eq(check_sync(text, WIRE_JOB_IN_FLIGHT, why, sizeof(why)),
	    WIRE_REJECT_MALFORMED);
	cr_assert(strstr(why, "message") != NULL, "%s", why);
	snprintf(text, sizeof(text), "{\"job_id\":\"j1\",\"ok\":false,"
	    "\"error\":{\"code\":\"internal\",\"message\":\"m\"},\"log\":"
	    "[{\"level\":\"info\",\"event\":\"x\",\"message\":\"%s\"}]}", big);
	cr_assert_eq(check_sync(text, WIRE_JOB_IN_FLIGHT, why, sizeof(why)),
	    WIRE_REJECT_MALFORMED);
	cr_assert(strstr(why, "log line 0") != NULL, "%s", why);
}

Test(result, oversized_lists)
{
	char *text;
	size_t i, off, size = 64 * 1024;
	char why[256] = "";

	text = malloc(size);
	cr_assert_not_null(text);
	off = (size_t)snprintf(text, size, "{\"job_id\":\"j1\",\"ok\":false,"
	    "\"error\":{\"code\":\"internal\",\"message\":\"m\"},\"log\":[");
	for (i = 0; i <= WIRE_LOG_LINES_MAX; i++)
		off += (size_t)snprintf(text + off, size - off, "%s{\"level\":"
		    "\"info\",\"event\":\"e\",\"message\":\"m\"}", i ? "," : "");
	snprintf(text + off, size - off, "]}");
	cr_assert_eq(check_sync(text, WIRE_JOB_IN_FLIGHT, why, sizeof(why)),
	    WIRE_REJECT_MALFORMED);
	cr_assert(strstr(why, "log lines, more than") != NULL, "%s", why);
	off = (size_t)snprintf(text, size, "{\"job_id\":\"j1\",\"ok\":true,"
	    "\"account\":{\"equity\":\"1\",\"status\":\"A\"},\"key_id_last4\":"
	    "\"\",\"marks\":[");
	for (i = 0; i <= WIRE_TRADES_MAX; i++)
		off += (size_t)snprintf(text + off, size - off, "%s{\"id\":"
		    "\"t%zu\"}", i ? "," : "", i);
	snprintf(text + off, size - off, "],\"requests\":{}}");
	cr_assert_eq(check_sync(text, WIRE_JOB_IN_FLIGHT, why, sizeof(why)),
	    WIRE_REJECT_MALFORMED);
	cr_assert(strstr(why, "marks, more than") != NULL, "%s", why);
	free(text);
}

Test(result, job_not_in_flight)
{
	char why[256] = "";

	cr_assert_eq(check_sync(GOOD_SYNC, WIRE_JOB_UNKNOWN, why, sizeof(why)),
	    WIRE_REJECT_STRAY);
	cr_assert(strstr(why, "does not exist") != NULL, "%s", why);
}

Test(result, job_of_another_worker)
{
	char why[256] = "";

	cr_assert_eq(check_sync(GOOD_SYNC, WIRE_JOB_ELSEWHERE, why,
	    sizeof(why)), WIRE_REJECT_FOREIGN);
	cr_assert(strstr(why, "not in flight on this worker") != NULL, "%s",
	    why);
}

Test(result, second_result)
{
	char why[256] = "";

	cr_assert_eq(check_sync(GOOD_SYNC, WIRE_JOB_ANSWERED, why,
	    sizeof(why)), WIRE_REJECT_STRAY);
	cr_assert(strstr(why, "a second RESULT") != NULL, "%s", why);
}

Test(result, no_job_id)
{
	char why[256] = "";

	cr_assert_eq(check_sync("{\"job_id\":\"../x\",\"ok\":true}",
	    WIRE_JOB_IN_FLIGHT, why, sizeof(why)), WIRE_REJECT_STRAY);
	cr_assert(strstr(why, "without a valid job id") != NULL, "%s", why);
}

static enum wire_verdict
check_prices(const char *text, char *why, size_t size)
{
	struct wire_result_job job = { .id = "p1", .kind = WIRE_JOB_PRICES,
	    .state = WIRE_JOB_IN_FLIGHT };
	struct wire_result r;
	enum wire_verdict v;
	json_object *p = parse(text);

	job.symbols = parse("[\"AAPL\",\"MSFT\"]");
	v = wire_result_check(&job, p, &r, why, size);
	wire_result_clear(&r);
	json_object_put(job.symbols);
	json_object_put(p);
	return v;
}

Test(result, prices)
{
	char why[256] = "";

	cr_assert_eq(check_prices("{\"job_id\":\"p1\",\"ok\":true,\"prices\":"
	    "{\"AAPL\":\"187.25\"},\"requests\":{\"trades_latest\":1,"
	    "\"retries\":0}}", why, sizeof(why)), WIRE_ACCEPT, "%s", why);
	cr_assert_eq(check_prices("{\"job_id\":\"p1\",\"ok\":true,\"prices\":"
	    "{\"TSLA\":\"1\"},\"requests\":{\"trades_latest\":1,"
	    "\"retries\":0}}", why, sizeof(why)), WIRE_REJECT_FOREIGN);
	cr_assert(strstr(why, "did not ask") != NULL, "%s", why);
	cr_assert_eq(check_prices("{\"job_id\":\"p1\",\"ok\":true,\"prices\":"
	    "{\"AAPL\":187.25},\"requests\":{\"trades_latest\":1,"
	    "\"retries\":0}}", why, sizeof(why)), WIRE_REJECT_MALFORMED);
	cr_assert(strstr(why, "decimal string") != NULL, "%s", why);
	cr_assert_eq(check_prices("{\"job_id\":\"p1\",\"ok\":true,\"prices\":"
	    "{},\"writes\":[]}", why, sizeof(why)), WIRE_REJECT_MALFORMED);
	cr_assert(strstr(why, "unknown field \"writes\"") != NULL, "%s", why);
}
