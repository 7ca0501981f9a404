/* test_alpaca.c: the worker's Alpaca client without a server: URLs, the token bucket, the backoff, replies parsed (transfers in test_alpaca_server.c). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "tests/unit/alpaca_fixture.h"
#include "worker/alpaca.h"

static struct tp_err err;

static json_object *
parse(const char *s)
{
	json_object *o = json_parse(s, strlen(s), &err);

	cr_assert_not_null(o, "test JSON does not parse: %s", err.msg);
	return o;
}

static void
setup(void)
{
	alpaca_fixture_init(&err);
}

TestSuite(alpaca, .init = setup);

/* --- URLs, the bucket, the backoff --- */

Test(alpaca, url_check)
{
	char host[ALPACA_URL_MAX + 1];
	uint16_t port;

	cr_assert_eq(alpaca_url_check("https://paper-api.alpaca.markets",
	    host, &port, &err), 0);
	cr_assert_str_eq(host, "paper-api.alpaca.markets");
	cr_assert_eq(port, 443);
	cr_assert_eq(alpaca_url_check("http://127.0.0.1:18080/", host, &port,
	    &err), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 18080);
	cr_assert_eq(alpaca_url_check("http://[::1]:8080", host, &port, &err),
	    0);
	cr_assert_str_eq(host, "[::1]");
	cr_assert_eq(port, 8080);
	cr_assert_eq(alpaca_url_check("http://example.com", host, &port, &err),
	    0);
	cr_assert_eq(port, 80);
	cr_assert_eq(alpaca_url_check("ftp://x", host, &port, &err), -1);
	cr_assert_eq(alpaca_url_check("http://", host, &port, &err), -1);
	cr_assert_eq(alpaca_url_check("http://u:p@host", host, &port, &err),
	    -1);
	cr_assert_eq(alpaca_url_check("http://host/?a=1", host, &port, &err),
	    -1);
	cr_assert_eq(alpaca_url_check("http://host:0", host, &port, &err), -1);
	cr_assert_eq(alpaca_url_check("http://host:65536", host, &port, &err),
	    -1);
	cr_assert_eq(alpaca_url_check("http://ho st", host, &port, &err), -1);
	cr_assert_eq(alpaca_url_check("http://host_x", host, &port, &err), -1);
}

Test(alpaca, bucket)
{
	struct alpaca_bucket b;
	int i;

	alpaca_bucket_init(&b, 60, 1000);
	for (i = 0; i < 60; i++)
		cr_assert_eq(alpaca_bucket_take(&b, 1000), 0, "token %d", i);
	/* 1 a second: the next one in about 1000 ms */
	cr_assert_geq(alpaca_bucket_take(&b, 1000), 999);
	cr_assert_leq(alpaca_bucket_take(&b, 1000), 1001);
	cr_assert_gt(alpaca_bucket_take(&b, 1500), 0);
	cr_assert_eq(alpaca_bucket_take(&b, 2001), 0);
	cr_assert_gt(alpaca_bucket_take(&b, 2001), 0);
	/* never more than a minute's worth saved up */
	cr_assert_eq(alpaca_bucket_take(&b, 10000000), 0);
	for (i = 0; i < 59; i++)
		cr_assert_eq(alpaca_bucket_take(&b, 10000000), 0);
	cr_assert_gt(alpaca_bucket_take(&b, 10000000), 0);
}

Test(alpaca, backoff)
{
	uint64_t v;
	int i;

	for (i = 0; i < 200; i++) {
		v = alpaca_backoff_ms(0);
		cr_assert(v >= 100 && v <= 300, "retry 0 after %lu ms",
		    (unsigned long)v);
		v = alpaca_backoff_ms(2);
		cr_assert(v >= 400 && v <= 1200, "retry 2 after %lu ms",
		    (unsigned long)v);
		v = alpaca_backoff_ms(30);
		cr_assert(v >= ALPACA_BACKOFF_MAX_MS / 2 &&
		    v <= ALPACA_BACKOFF_MAX_MS * 3 / 2);
	}
}

/* --- replies --- */

Test(alpaca, account_spec_example)
{
	json_object *r, *out;

	r = parse("{\"account_blocked\": false, \"account_number\": "
	    "\"PALPACA_123\", \"accrued_fees\": \"0\", \"admin_configurations\":"
	    " {}, \"buying_power\": \"245432.61\", \"cash\": \"122086.5\", "
	    "\"created_at\": \"2023-01-01T18:20:20.272275Z\", \"currency\": "
	    "\"USD\", \"daytrade_count\": 0, \"equity\": \"123346.11\", \"id\": "
	    "\"1d9eed04-be39-4e01-9b84-a48ac5bbafcf\", \"last_equity\": "
	    "\"122011.09751111286868\", \"pattern_day_trader\": true, "
	    "\"status\": \"ACTIVE\", \"trading_blocked\": false, "
	    "\"user_configurations\": null, \"sma\": \"1\"}");
	out = json_object_new_object();
	cr_assert_eq(alpaca_parse_account(r, out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(json_get_str(out, "equity"), "123346.11");
	cr_assert_str_eq(json_get_str(out, "last_equity"),
	    "122011.09751111286868");
	cr_assert_str_eq(json_get_str(out, "cash"), "122086.5");
	cr_assert_str_eq(json_get_str(out, "status"), "ACTIVE");
	cr_assert_str_eq(json_get_str(out, "currency"), "USD");
	cr_assert_str_eq(json_get_str(out, "account_number"), "PALPACA_123");
	cr_assert(json_object_get_boolean(json_object_object_get(out,
	    "pattern_day_trader")));
	cr_assert_eq(json_object_get_int(json_object_object_get(out,
	    "daytrade_count")), 0);
	/* unknown fields are not copied */
	cr_assert_null(json_object_object_get(out, "sma"));
	cr_assert_null(json_object_object_get(out, "admin_configurations"));
	json_object_put(r);
	json_object_put(out);
}

Test(alpaca, account_numbers_as_money)
{
	json_object *r, *out;

	r = parse("{\"status\": \"ACTIVE\", \"equity\": 100000.10, "
	    "\"cash\": 5, \"buying_power\": 1e3}");
	out = json_object_new_object();
	cr_assert_eq(alpaca_parse_account(r, out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(json_get_str(out, "equity"), "100000.10");
	cr_assert_str_eq(json_get_str(out, "cash"), "5");
	cr_assert_str_eq(json_get_str(out, "buying_power"), "1000");
	json_object_put(r);
	json_object_put(out);
}

static void
account_rejected(const char *body, const char *field)
{
	json_object *r, *out;

	r = parse(body);
	out = json_object_new_object();
	tp_err_clear(&err);
	cr_assert_eq(alpaca_parse_account(r, out, &err), -1, "%s accepted",
	    body);
	cr_assert_eq(err.code, TP_UNAVAILABLE);
	cr_assert_not_null(strstr(err.msg, field), "\"%s\" does not name %s",
	    err.msg, field);
	cr_assert_not_null(strstr(err.msg, "malformed reply to GET "
	    "/v2/account"), "%s", err.msg);
	json_object_put(r);
	json_object_put(out);
}

Test(alpaca, account_rejects_bad_fields)
{
	account_rejected("{\"status\": \"ACTIVE\"}", "\"equity\" is missing");
	account_rejected("{\"equity\": \"1\"}", "\"status\" is missing");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": true}",
	    "\"equity\" is a boolean");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": \"12,5\"}",
	    "\"equity\" is not a decimal");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": \"nan\"}",
	    "\"equity\"");
	account_rejected("{\"status\": 7, \"equity\": \"1\"}",
	    "\"status\" is an int");
	account_rejected("{\"status\": \"active now\", \"equity\": \"1\"}",
	    "\"status\" must be");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": \"1\", "
	    "\"cash\": {\"a\": 1}}", "\"cash\" is an object");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": \"1\", "
	    "\"trading_blocked\": \"no\"}", "\"trading_blocked\"");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": \"1\", "
	    "\"daytrade_count\": -1}", "\"daytrade_count\"");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": \"1\", "
	    "\"daytrade_count\": 1.5}", "\"daytrade_count\"");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": \"1\", "
	    "\"id\": [1]}", "\"id\" is an array");
	account_rejected("{\"status\": \"ACTIVE\", \"equity\": null}",
	    "\"equity\" is missing");
}

Test(alpaca, trades_latest)
{
	const char *syms[] = { "AAPL", "MSFT", "NOPE", "BAD1", "ZERO", "STR",
	    "BRK.B" };
	json_object *r, *prices, *errors, *e;

	r = parse("{\"trades\": {\"AAPL\": {\"p\": 172.78, \"s\": 100, "
	    "\"c\": [\"@\"], \"x\": \"Q\"}, \"MSFT\": {\"p\": 410.50}, "
	    "\"BAD1\": {\"p\": \"x\"}, \"ZERO\": {\"p\": 0}, "
	    "\"STR\": {\"p\": \"12.345\"}, \"BRK.B\": {\"p\": 1e2}, "
	    "\"EXTRA\": {\"p\": 1}}, \"currency\": \"USD\"}");
	prices = json_object_new_object();
	errors = json_object_new_object();
	cr_assert_eq(alpaca_parse_trades(r, syms, 7, prices, errors, &err), 0,
	    "%s", err.msg);
	cr_assert_str_eq(json_get_str(prices, "AAPL"), "172.78");
	cr_assert_str_eq(json_get_str(prices, "MSFT"), "410.50");
	cr_assert_str_eq(json_get_str(prices, "STR"), "12.345");
	cr_assert_str_eq(json_get_str(prices, "BRK.B"), "100");
	cr_assert_null(json_object_object_get(prices, "EXTRA"));
	cr_assert_eq(json_object_object_length(prices), 4);
	e = json_object_object_get(errors, "NOPE");
	cr_assert_str_eq(json_get_str(e, "code"), "not_found");
	cr_assert_str_eq(json_get_str(e, "message"),
	    "no latest trade for symbol NOPE");
	e = json_object_object_get(errors, "BAD1");
	cr_assert_str_eq(json_get_str(e, "code"), "unavailable");
	cr_assert_not_null(strstr(json_get_str(e, "message"), "\"p\""));
	e = json_object_object_get(errors, "ZERO");
	cr_assert_not_null(strstr(json_get_str(e, "message"), "above zero"));
	json_object_put(r);
	json_object_put(prices);
	json_object_put(errors);
}

Test(alpaca, trades_latest_rejects)
{
	const char *syms[] = { "AAPL" };
	json_object *r, *prices, *errors;

	prices = json_object_new_object();
	errors = json_object_new_object();
	r = parse("{\"currency\": \"USD\"}");
	cr_assert_eq(alpaca_parse_trades(r, syms, 1, prices, errors, &err),
	    -1);
	cr_assert_not_null(strstr(err.msg, "\"trades\" is missing"));
	json_object_put(r);
	r = parse("{\"trades\": [1]}");
	cr_assert_eq(alpaca_parse_trades(r, syms, 1, prices, errors, &err),
	    -1);
	cr_assert_not_null(strstr(err.msg, "\"trades\" is an array"));
	json_object_put(r);
	/* null: nothing known */
	r = parse("{\"trades\": null}");
	cr_assert_eq(alpaca_parse_trades(r, syms, 1, prices, errors, &err), 0);
	cr_assert_not_null(json_object_object_get(errors, "AAPL"));
	json_object_put(r);
	json_object_put(prices);
	json_object_put(errors);
}

Test(alpaca, bars)
{
	struct alpaca_bar *bars;
	json_object *r;
	char buf[DEC_TEXT_MAX + 1];
	size_t n;

	r = parse("{\"bars\": [{\"c\": 178.21, \"h\": 178.26, \"l\": 178.21, "
	    "\"n\": 65, \"o\": 178.26, \"t\": \"2022-01-03T09:00:00Z\", "
	    "\"v\": 1118, \"vw\": 178.235733}, {\"c\": \"1.5\", \"h\": 2, "
	    "\"l\": 1, \"n\": 1, \"o\": 1, \"t\": \"2022-01-04T09:00:00Z\", "
	    "\"v\": 0, \"vw\": 1.2, \"extra\": 1}], \"next_page_token\": null, "
	    "\"symbol\": \"AAPL\"}");
	cr_assert_eq(alpaca_parse_bars(r, "AAPL", &bars, &n, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(bars[0].t, "2022-01-03T09:00:00Z");
	dec_format(&bars[0].vw, buf, sizeof(buf));
	cr_assert_str_eq(buf, "178.235733");
	dec_format(&bars[1].c, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1.5");
	cr_assert_eq(bars[0].v, 1118);
	cr_assert_eq(bars[0].n, 65);
	free(bars);
	cr_assert_eq(alpaca_parse_bars(r, "MSFT", &bars, &n, &err), -1);
	cr_assert_not_null(strstr(err.msg, "\"symbol\""));
	json_object_put(r);

	r = parse("{\"bars\": null, \"next_page_token\": null}");
	cr_assert_eq(alpaca_parse_bars(r, "AAPL", &bars, &n, &err), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(bars);
	json_object_put(r);

	r = parse("{\"bars\": [{\"c\": 1, \"h\": 1, \"l\": 1, \"n\": 1, "
	    "\"o\": 1, \"t\": \"x\", \"v\": \"many\", \"vw\": 1}]}");
	cr_assert_eq(alpaca_parse_bars(r, "AAPL", &bars, &n, &err), -1);
	cr_assert_not_null(strstr(err.msg, "\"v\""), "%s", err.msg);
	json_object_put(r);
	r = parse("{\"bars\": [{\"c\": true, \"h\": 1, \"l\": 1, \"n\": 1, "
	    "\"o\": 1, \"t\": \"x\", \"v\": 1, \"vw\": 1}]}");
	cr_assert_eq(alpaca_parse_bars(r, "AAPL", &bars, &n, &err), -1);
	cr_assert_not_null(strstr(err.msg, "\"c\""), "%s", err.msg);
	json_object_put(r);
}
