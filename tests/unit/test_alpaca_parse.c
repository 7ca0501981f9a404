/* test_alpaca_parse.c: Alpaca's replies parsed on their own, linked without libcurl or a server. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "tests/unit/jsontext.h"
#include "worker/alpaca.h"

static struct tp_err err;

/* The string member key of o, or "" when o has none. */
static const char *
str_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

Test(parse_account, money_as_sent_or_as_decimal_text_and_nulls_absent)
{
	json_object *r = J("{\"status\":\"ACTIVE\",\"equity\":\"1000.50\","
	    "\"cash\":12.25,\"buying_power\":null,\"trading_blocked\":true,"
	    "\"daytrade_count\":3}");
	json_object *out = json_object_new_object(), *v;

	tp_err_clear(&err);
	cr_assert_eq(alpaca_parse_account(r, out, &err), 0, "%s", err.msg);
	cr_expect_str_eq(str_of(out, "equity"), "1000.50");
	cr_expect_str_eq(str_of(out, "cash"), "12.25");
	cr_expect_str_eq(str_of(out, "status"), "ACTIVE");
	cr_expect_not(json_object_object_get_ex(out, "buying_power", NULL),
	    "a null field is taken as absent");
	cr_assert(json_object_object_get_ex(out, "trading_blocked", &v));
	cr_expect(json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(out, "daytrade_count", &v));
	cr_expect_eq(json_object_get_int64(v), 3);
	json_object_put(out);
	json_object_put(r);
}

/* reply is refused as unavailable with a message naming field. */
static void
account_refused(const char *reply, const char *field)
{
	json_object *r = J(reply), *out = json_object_new_object();

	tp_err_clear(&err);
	cr_expect_eq(alpaca_parse_account(r, out, &err), -1, "%s accepted",
	    reply);
	cr_expect_eq(err.code, TP_UNAVAILABLE, "%s: %s", reply, err.msg);
	cr_expect_not_null(strstr(err.msg, field), "%s: \"%s\" does not name "
	    "%s", reply, err.msg, field);
	json_object_put(out);
	json_object_put(r);
}

Test(parse_account, wrong_fields_are_named)
{
	account_refused("{\"status\":\"ACTIVE\"}", "equity");
	account_refused("{\"equity\":\"1\"}", "status");
	account_refused("{\"status\":\"active\",\"equity\":\"1\"}", "status");
	account_refused("{\"status\":\"ACTIVE\",\"equity\":\"1\","
	    "\"daytrade_count\":-1}", "daytrade_count");
	account_refused("{\"status\":\"ACTIVE\",\"equity\":\"1\","
	    "\"account_blocked\":1}", "account_blocked");
	account_refused("{\"status\":\"ACTIVE\",\"equity\":[1]}", "equity");
}

Test(parse_trades, each_symbol_a_price_or_an_error)
{
	static const char *const syms[] = { "AAPL", "ZERO", "GONE", "ODD" };
	json_object *r = J("{\"trades\":{\"AAPL\":{\"p\":187.25},"
	    "\"ZERO\":{\"p\":0},\"ODD\":[1]}}");
	json_object *prices = json_object_new_object();
	json_object *errors = json_object_new_object(), *e;

	tp_err_clear(&err);
	cr_assert_eq(alpaca_parse_trades(r, syms, 4, prices, errors, &err), 0,
	    "%s", err.msg);
	cr_expect_eq(json_object_object_length(prices), 1);
	cr_expect_str_eq(str_of(prices, "AAPL"), "187.25");
	cr_expect_eq(json_object_object_length(errors), 3);
	cr_assert(json_object_object_get_ex(errors, "GONE", &e));
	cr_expect_str_eq(str_of(e, "code"), tp_code_name(TP_NOT_FOUND));
	cr_expect_str_eq(str_of(e, "message"), "no latest trade for symbol GONE");
	cr_assert(json_object_object_get_ex(errors, "ZERO", &e));
	cr_expect_str_eq(str_of(e, "code"), tp_code_name(TP_UNAVAILABLE));
	cr_expect_not_null(strstr(str_of(e, "message"), "above zero"), "%s",
	    str_of(e, "message"));
	cr_assert(json_object_object_get_ex(errors, "ODD", &e));
	cr_expect_not_null(strstr(str_of(e, "message"), "not a map"), "%s",
	    str_of(e, "message"));
	json_object_put(prices);
	json_object_put(errors);
	json_object_put(r);
}

Test(parse_trades, a_reply_without_trades_is_an_error)
{
	static const char *const syms[] = { "AAPL" };
	json_object *prices = json_object_new_object();
	json_object *errors = json_object_new_object();
	json_object *r = J("{\"trade\":{}}");

	tp_err_clear(&err);
	cr_expect_eq(alpaca_parse_trades(r, syms, 1, prices, errors, &err), -1);
	cr_expect_eq(err.code, TP_UNAVAILABLE);
	cr_expect_not_null(strstr(err.msg, "\"trades\" is missing"), "%s",
	    err.msg);
	json_object_put(r);
	r = J("{\"trades\":[]}");
	cr_expect_eq(alpaca_parse_trades(r, syms, 1, prices, errors, &err), -1);
	cr_expect_not_null(strstr(err.msg, "not a map"), "%s", err.msg);
	cr_expect_eq(json_object_object_length(prices), 0);
	json_object_put(prices);
	json_object_put(errors);
	json_object_put(r);
}

Test(parse_bars, bars_read_and_their_symbol_checked)
{
	struct alpaca_bar *bars;
	size_t n;
	json_object *r = J("{\"symbol\":\"AAPL\",\"bars\":[{\"t\":"
	    "\"2024-01-02T05:00:00Z\",\"o\":1.5,\"h\":\"2\",\"l\":1,\"c\":1.75,"
	    "\"vw\":1.6,\"v\":100,\"n\":7}]}");
	char buf[DEC_TEXT_MAX + 1];

	tp_err_clear(&err);
	cr_assert_eq(alpaca_parse_bars(r, "AAPL", &bars, &n, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(bars[0].t, "2024-01-02T05:00:00Z");
	cr_assert_geq(dec_format(&bars[0].c, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "1.75");
	cr_expect_eq(bars[0].v, 100);
	cr_expect_eq(bars[0].n, 7);
	free(bars);
	/* another symbol's reply */
	cr_expect_eq(alpaca_parse_bars(r, "MSFT", &bars, &n, &err), -1);
	cr_expect_null(bars);
	cr_expect_not_null(strstr(err.msg, "\"symbol\""), "%s", err.msg);
	json_object_put(r);
	/* null bars: none; a bar without its volume: an error naming it */
	r = J("{\"bars\":null}");
	cr_expect_eq(alpaca_parse_bars(r, "AAPL", &bars, &n, &err), 0);
	cr_expect_eq(n, 0);
	json_object_put(r);
	r = J("{\"bars\":[{\"t\":\"x\",\"o\":1,\"h\":1,\"l\":1,\"c\":1,"
	    "\"vw\":1,\"n\":1}]}");
	cr_expect_eq(alpaca_parse_bars(r, "AAPL", &bars, &n, &err), -1);
	cr_expect_not_null(strstr(err.msg, "\"v\""), "%s", err.msg);
	json_object_put(r);
}
