/* test_lifecycle.c: shadow trades opened by a signal, closed at take-profit, stop-loss or by reversal, with exact realized P&L. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/path.h"
#include "supervisor/lifecycle.h"
#include "tests/unit/store_fixture.h"

#define NOW "2026-12-06T12:00:00.000000Z"

/*
 * Expected values computed independently with Python's decimal module
 * (precision 200): qty with ROUND_FLOOR to 6 places, P&L with
 * ROUND_HALF_UP (half away from zero for Decimal) to 0.01, levels exactly
 * entry * (1 +- pct / 100).
 */

static struct dec
D(const char *s)
{
	struct tp_err e = { 0 };
	struct dec d;

	cr_assert_eq(dec_parse(s, strlen(s), &d, &e), 0, "dec_parse(%s): %s",
	    s, e.msg);
	return d;
}

/* A field's JSON text ("53.404539", "\"buy\""), or "" when absent. */
static const char *
field(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static struct lifecycle_signal
sig(const char *action, const char *conf, const char *price)
{
	struct lifecycle_signal s;

	s.action = action;
	s.confidence = D(conf);
	s.price = price;
	s.symbol = "AAPL";
	s.id = "sig1";
	return s;
}

/* lifecycle_open with the default params; *skip out. */
static json_object *
open_with(const struct lifecycle_signal *s, const char *equity, bool enabled,
    enum lifecycle_skip *skip)
{
	struct lifecycle_params p;
	struct tp_err e = { 0 };
	json_object *doc = NULL;

	lifecycle_params_default(&p);
	cr_assert_eq(lifecycle_open(s, equity, enabled, &p, NOW, &doc, skip,
	    &e), 0, "lifecycle_open: %s", e.msg);
	return doc;
}

Test(lifecycle_open, buy_opens_a_long_sized_from_equity)
{
	struct lifecycle_signal s = sig("BUY", "0.75", "187.25");
	enum lifecycle_skip skip;
	json_object *d = open_with(&s, "100000", true, &skip);

	cr_assert_eq(skip, LIFECYCLE_OPENED);
	cr_assert_not_null(d);
	cr_expect_str_eq(field(d, "symbol"), "\"AAPL\"");
	cr_expect_str_eq(field(d, "side"), "\"buy\"");
	/* 100000 * 0.1 / 187.25 = 53.4045393858..., rounded down */
	cr_expect_str_eq(field(d, "qty"), "53.404539");
	cr_expect_str_eq(field(d, "entry_price"), "187.25");
	cr_expect_str_eq(field(d, "status"), "\"OPEN\"");
	cr_expect_str_eq(field(d, "created_at"), "\"" NOW "\"");
	cr_expect_str_eq(field(d, "signal_id"), "\"sig1\"");
	cr_expect_str_eq(field(d, "take_profit_price"), "205.975");
	cr_expect_str_eq(field(d, "stop_loss_price"), "177.8875");
	cr_expect_eq(json_object_object_length(d), 9);
	json_object_put(d);
}

Test(lifecycle_open, sell_opens_a_short_with_levels_the_other_way)
{
	struct lifecycle_signal s = sig("SELL", "0.9", "399.99");
	enum lifecycle_skip skip;
	json_object *d = open_with(&s, "50000.50", true, &skip);

	cr_assert_not_null(d);
	cr_expect_str_eq(field(d, "side"), "\"sell\"");
	cr_expect_str_eq(field(d, "qty"), "12.500437");
	cr_expect_str_eq(field(d, "take_profit_price"), "359.991");
	cr_expect_str_eq(field(d, "stop_loss_price"), "419.9895");
	json_object_put(d);
}

Test(lifecycle_open, qty_is_rounded_down_never_up)
{
	struct lifecycle_params p;
	struct lifecycle_signal s = sig("BUY", "1", "6");
	enum lifecycle_skip skip;
	struct tp_err e = { 0 };
	json_object *d = NULL;

	/* 10 / 6 = 1.6666666...: half away from zero would give 1.666667,
	 * which costs more than the equity */
	lifecycle_params_default(&p);
	p.position_fraction = D("1");
	cr_assert_eq(lifecycle_open(&s, "10", true, &p, NOW, &d, &skip, &e),
	    0, "%s", e.msg);
	cr_expect_str_eq(field(d, "qty"), "1.666666");
	json_object_put(d);
	/* a whole number keeps no trailing zeros: 10 * 0.5 / 2.5 = 2 */
	p.position_fraction = D("0.5");
	s.price = "2.5";
	cr_assert_eq(lifecycle_open(&s, "10", true, &p, NOW, &d, &skip, &e),
	    0, "%s", e.msg);
	cr_expect_str_eq(field(d, "qty"), "2");
	json_object_put(d);
}

Test(lifecycle_open, zero_percent_leaves_a_level_out)
{
	struct lifecycle_params p;
	struct lifecycle_signal s = sig("BUY", "1", "100");
	enum lifecycle_skip skip;
	struct tp_err e = { 0 };
	json_object *d = NULL;

	lifecycle_params_default(&p);
	p.stop_loss = D("0");
	cr_assert_eq(lifecycle_open(&s, "1000", true, &p, NOW, &d, &skip, &e),
	    0, "%s", e.msg);
	cr_expect_str_eq(field(d, "take_profit_price"), "110");
	cr_expect_str_eq(field(d, "stop_loss_price"), "");
	json_object_put(d);
}

Test(lifecycle_open, what_opens_nothing)
{
	struct lifecycle_signal s;
	enum lifecycle_skip skip;
	json_object *doc;

	s = sig("HOLD", "0.99", "100");
	cr_expect_null(open_with(&s, "1000", true, &skip));
	cr_expect_eq(skip, LIFECYCLE_HOLD);
	/* the boundary: exactly min_confidence opens nothing */
	s = sig("BUY", "0.6", "100");
	cr_expect_null(open_with(&s, "1000", true, &skip));
	cr_expect_eq(skip, LIFECYCLE_LOW_CONFIDENCE);
	s = sig("BUY", "0.60", "100");
	cr_expect_null(open_with(&s, "1000", true, &skip));
	cr_expect_eq(skip, LIFECYCLE_LOW_CONFIDENCE);
	s = sig("BUY", "0.6000001", "100");
	doc = open_with(&s, "1000", true, &skip);
	cr_expect_not_null(doc);
	cr_expect_eq(skip, LIFECYCLE_OPENED);
	json_object_put(doc);
	s = sig("SELL", "0.9", "100");
	cr_expect_null(open_with(&s, "1000", false, &skip));
	cr_expect_eq(skip, LIFECYCLE_TRADING_DISABLED);
	cr_expect_null(open_with(&s, "0", true, &skip));
	cr_expect_eq(skip, LIFECYCLE_NO_EQUITY);
	cr_expect_null(open_with(&s, "-5.5", true, &skip));
	cr_expect_eq(skip, LIFECYCLE_NO_EQUITY);
	/* 1 * 0.1 / 1000000 = 0.0000001: 0 to 6 places */
	s = sig("BUY", "0.9", "1000000");
	cr_expect_null(open_with(&s, "1", true, &skip));
	cr_expect_eq(skip, LIFECYCLE_TOO_SMALL);
	cr_expect_str_eq(lifecycle_skip_name(LIFECYCLE_LOW_CONFIDENCE),
	    "confidence at or below min_confidence");
}

Test(lifecycle_open, malformed_input_is_an_error)
{
	static const struct {
		const char *action, *conf, *price, *symbol, *id, *equity;
	} bad[] = {
		{ "buy", "0.9", "100", "AAPL", "s", "1000" },
		{ "BUY ", "0.9", "100", "AAPL", "s", "1000" },
		{ "BUY", "1.5", "100", "AAPL", "s", "1000" },
		{ "BUY", "-0.1", "100", "AAPL", "s", "1000" },
		{ "BUY", "0.9", "0", "AAPL", "s", "1000" },
		{ "BUY", "0.9", "-1", "AAPL", "s", "1000" },
		{ "BUY", "0.9", "1e", "AAPL", "s", "1000" },
		{ "BUY", "0.9", NULL, "AAPL", "s", "1000" },
		{ "BUY", "0.9", "100", "aapl", "s", "1000" },
		{ "BUY", "0.9", "100", "AAPL", "", "1000" },
		{ "BUY", "0.9", "100", "AAPL", "a/b", "1000" },
		{ "BUY", "0.9", "100", "AAPL", "s", "lots" },
		{ NULL, "0.9", "100", "AAPL", "s", "1000" },
	};
	struct lifecycle_params p;
	struct lifecycle_signal s;
	enum lifecycle_skip skip;
	struct tp_err e;
	json_object *d;
	size_t i;

	lifecycle_params_default(&p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.action = bad[i].action;
		s.confidence = D(bad[i].conf);
		s.price = bad[i].price;
		s.symbol = bad[i].symbol;
		s.id = bad[i].id;
		tp_err_clear(&e);
		d = NULL;
		cr_expect_eq(lifecycle_open(&s, bad[i].equity, true, &p, NOW,
		    &d, &skip, &e), -1, "case %zu accepted", i);
		cr_expect_eq(e.code, TP_INVALID_ARGUMENT, "case %zu", i);
		cr_expect_null(d);
	}
}

Test(lifecycle_params, ranges)
{
	struct lifecycle_params p;
	struct tp_err e = { 0 };

	lifecycle_params_default(&p);
	cr_expect_eq(lifecycle_params_check(&p, &e), 0);
	p.stop_loss = D("100");
	cr_expect_eq(lifecycle_params_check(&p, &e), -1);
	cr_expect(strstr(e.msg, "stop_loss") != NULL, "%s", e.msg);
	lifecycle_params_default(&p);
	p.take_profit = D("-1");
	cr_expect_eq(lifecycle_params_check(&p, &e), -1);
	lifecycle_params_default(&p);
	p.position_fraction = D("0");
	cr_expect_eq(lifecycle_params_check(&p, &e), -1);
	p.position_fraction = D("1.01");
	cr_expect_eq(lifecycle_params_check(&p, &e), -1);
	lifecycle_params_default(&p);
	p.min_confidence = D("1.1");
	cr_expect_eq(lifecycle_params_check(&p, &e), -1);
}

static struct lifecycle_trade
trade(const char *text)
{
	struct lifecycle_trade t;
	struct tp_err e = { 0 };
	json_object *o = J(text);

	cr_assert_eq(lifecycle_trade_parse(o, &t, &e), 0, "%s: %s", text,
	    e.msg);
	json_object_put(o);
	return t;
}

Test(lifecycle_close, long_at_and_around_its_levels)
{
	struct lifecycle_trade t = trade("{\"side\":\"buy\",\"qty\":\"10\","
	    "\"entry_price\":100,\"take_profit_price\":110,"
	    "\"stop_loss_price\":\"95\"}");
	struct dec p;

	p = D("110");		/* exactly at take-profit */
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_TAKE_PROFIT);
	p = D("110.000");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_TAKE_PROFIT);
	p = D("109.9999");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
	p = D("250");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_TAKE_PROFIT);
	p = D("95");		/* exactly at stop-loss */
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_STOP_LOSS);
	p = D("95.0001");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
	p = D("1");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_STOP_LOSS);
	p = D("100");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
	p = D("0");		/* no price: never a reason */
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
}

Test(lifecycle_close, short_at_and_around_its_levels)
{
	struct lifecycle_trade t = trade("{\"side\":\"SELL\",\"qty\":1,"
	    "\"entry_price\":\"100\",\"take_profit_price\":\"90\","
	    "\"stop_loss_price\":105}");
	struct dec p;

	p = D("90");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_TAKE_PROFIT);
	p = D("90.01");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
	p = D("105");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_STOP_LOSS);
	p = D("104.99");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
}

Test(lifecycle_close, a_trade_without_levels_stays_open)
{
	struct lifecycle_trade t = trade("{\"side\":\"long\",\"qty\":\"1\","
	    "\"entry_price\":\"100\",\"take_profit_price\":null}");
	struct dec p = D("1000");

	cr_expect(!t.has_tp && !t.has_sl);
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
	p = D("0.01");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
}

Test(lifecycle_close, malformed_trades_do_not_parse)
{
	static const char *const bad[] = {
		"{\"side\":\"sideways\",\"qty\":1,\"entry_price\":1}",
		"{\"qty\":1,\"entry_price\":1}",
		"{\"side\":\"buy\",\"qty\":0,\"entry_price\":1}",
		"{\"side\":\"buy\",\"qty\":\"-1\",\"entry_price\":1}",
		"{\"side\":\"buy\",\"qty\":1}",
		"{\"side\":\"buy\",\"qty\":1,\"entry_price\":1,"
		    "\"take_profit_price\":0}",
		"{\"side\":\"buy\",\"qty\":1,\"entry_price\":1,"
		    "\"stop_loss_price\":\"x\"}",
		"{\"side\":\"buy\",\"qty\":1,\"entry_price\":[1]}",
		"[1]",
	};
	struct lifecycle_trade t;
	struct tp_err e;
	json_object *o;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = J(bad[i]);
		tp_err_clear(&e);
		cr_expect_eq(lifecycle_trade_parse(o, &t, &e), -1, "%s",
		    bad[i]);
		cr_expect_eq(e.code, TP_INVALID_ARGUMENT);
		json_object_put(o);
	}
	cr_expect_eq(lifecycle_trade_parse(NULL, &t, &e), -1);
}

/* The fields a close writes, as one JSON text. */
static void
expect_close(const char *trade_text, const char *price,
    enum lifecycle_close why, const char *want)
{
	struct lifecycle_trade t = trade(trade_text);
	struct dec p = D(price);
	struct tp_err e = { 0 };
	json_object *d = json_object_new_object();

	cr_assert_eq(lifecycle_close_fields(&t, &p, why, NOW, d, &e), 0,
	    "%s", e.msg);
	cr_expect_str_eq(json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN), want);
	json_object_put(d);
}

Test(lifecycle_close, realized_pnl_exact_long_and_short)
{
	/* long at take-profit: 18.725 * 53.404539 = 999.9999...: 1000.00 */
	expect_close("{\"side\":\"buy\",\"qty\":53.404539,"
	    "\"entry_price\":187.25}", "205.975", LIFECYCLE_TAKE_PROFIT,
	    "{\"exit_price\":205.975,\"realized_pnl\":1000.00,"
	    "\"closed_at\":\"" NOW "\",\"status\":\"CLOSED\","
	    "\"close_reason\":\"take_profit\"}");
	/* long at stop-loss: -7.5125 * 10 = -75.125: half away, -75.13 */
	expect_close("{\"side\":\"long\",\"qty\":\"10\","
	    "\"entry_price\":\"150.25\"}", "142.7375", LIFECYCLE_STOP_LOSS,
	    "{\"exit_price\":142.7375,\"realized_pnl\":-75.13,"
	    "\"closed_at\":\"" NOW "\",\"status\":\"CLOSED\","
	    "\"close_reason\":\"stop_loss\"}");
	/* short at take-profit (10 %): 41.0123456789 * 3.5 = 143.543...*/
	expect_close("{\"side\":\"sell\",\"qty\":3.5,"
	    "\"entry_price\":\"410.123456789\"}", "369.1111111101",
	    LIFECYCLE_TAKE_PROFIT,
	    "{\"exit_price\":369.1111111101,\"realized_pnl\":143.54,"
	    "\"closed_at\":\"" NOW "\",\"status\":\"CLOSED\","
	    "\"close_reason\":\"take_profit\"}");
	/* short at stop-loss (5 %): -20.50617283945 * 3.5 = -71.77 */
	expect_close("{\"side\":\"short\",\"qty\":3.5,"
	    "\"entry_price\":\"410.123456789\"}", "430.62962962845",
	    LIFECYCLE_STOP_LOSS,
	    "{\"exit_price\":430.62962962845,\"realized_pnl\":-71.77,"
	    "\"closed_at\":\"" NOW "\",\"status\":\"CLOSED\","
	    "\"close_reason\":\"stop_loss\"}");
	/* exactly half a cent, each way */
	expect_close("{\"side\":\"buy\",\"qty\":1,\"entry_price\":100}",
	    "100.005", LIFECYCLE_REVERSAL,
	    "{\"exit_price\":100.005,\"realized_pnl\":0.01,"
	    "\"closed_at\":\"" NOW "\",\"status\":\"CLOSED\","
	    "\"close_reason\":\"reversal\"}");
	expect_close("{\"side\":\"sell\",\"qty\":1,\"entry_price\":100}",
	    "100.005", LIFECYCLE_REVERSAL,
	    "{\"exit_price\":100.005,\"realized_pnl\":-0.01,"
	    "\"closed_at\":\"" NOW "\",\"status\":\"CLOSED\","
	    "\"close_reason\":\"reversal\"}");
}

Test(lifecycle_close, open_then_close_at_its_own_levels)
{
	struct lifecycle_signal s = sig("BUY", "0.75", "187.25");
	enum lifecycle_skip skip;
	struct lifecycle_trade t;
	struct tp_err e = { 0 };
	json_object *d = open_with(&s, "100000", true, &skip);
	struct dec p;

	cr_assert_eq(lifecycle_trade_parse(d, &t, &e), 0, "%s", e.msg);
	p = D("205.975");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_TAKE_PROFIT);
	p = D("205.974");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
	p = D("177.8875");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_STOP_LOSS);
	p = D("177.8876");
	cr_expect_eq(lifecycle_close_check(&t, &p), LIFECYCLE_KEEP);
	json_object_put(d);
}

/* The reversal's writes, committed to a real store and read back. */
TestSuite(lifecycle_reverse, .init = setup, .fini = teardown);

static void
seed_trades(void)
{
	put("users/u1/shadowTradeHistory/l1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"buy\",\"qty\":2,\"entry_price\":150,"
	    "\"status\":\"OPEN\"}");
	put("users/u1/shadowTradeHistory/s1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"short\",\"qty\":\"1.5\",\"entry_price\":\"180\","
	    "\"status\":\"OPEN\"}");
	put("users/u1/shadowTradeHistory/m1", "{\"symbol\":\"MSFT\","
	    "\"side\":\"buy\",\"qty\":1,\"entry_price\":100,"
	    "\"status\":\"OPEN\"}");
	put("users/u1/shadowTradeHistory/c1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"buy\",\"qty\":1,\"entry_price\":100,"
	    "\"status\":\"CLOSED\"}");
	put("users/u1/shadowTradeHistory/x1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"sideways\",\"qty\":1,\"entry_price\":100,"
	    "\"status\":\"OPEN\"}");
}

static void
reverse(const char *action, size_t want_closed, size_t want_skipped)
{
	struct store_doclist list = { NULL, 0 };
	struct lifecycle_signal s = sig(action, "0.9", "200");
	struct store_batch *sb = store_batch_new();
	size_t closed, skipped;

	cr_assert_eq(store_list(st, "users/u1/shadowTradeHistory", 0, NULL,
	    &list, &err), 0, "%s", err.msg);
	cr_assert_eq(lifecycle_reverse("u1", &s, list.docs, list.n, NOW, sb,
	    &closed, &skipped, &err), 0, "%s", err.msg);
	cr_expect_eq(closed, want_closed, "%s closed %zu", action, closed);
	cr_expect_eq(skipped, want_skipped);
	cr_assert_eq(store_batch_commit(st, sb, &err), 0, "%s", err.msg);
	store_batch_free(sb);
	store_doclist_free(&list);
}

Test(lifecycle_reverse, sell_closes_the_longs_of_its_symbol)
{
	seed_trades();
	reverse("SELL", 1, 1);
	/* (200 - 150) * 2 = 100.00 */
	expect_doc("users/u1/shadowTradeHistory/l1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"buy\",\"qty\":2,\"entry_price\":150,"
	    "\"status\":\"CLOSED\",\"exit_price\":200,"
	    "\"realized_pnl\":100.00,\"closed_at\":\"" NOW "\","
	    "\"close_reason\":\"reversal\"}");
	expect_doc("users/u1/shadowTradeHistory/s1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"short\",\"qty\":\"1.5\",\"entry_price\":\"180\","
	    "\"status\":\"OPEN\"}");
	expect_doc("users/u1/shadowTradeHistory/m1", "{\"symbol\":\"MSFT\","
	    "\"side\":\"buy\",\"qty\":1,\"entry_price\":100,"
	    "\"status\":\"OPEN\"}");
	expect_doc("users/u1/shadowTradeHistory/c1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"buy\",\"qty\":1,\"entry_price\":100,"
	    "\"status\":\"CLOSED\"}");
}

Test(lifecycle_reverse, buy_closes_the_shorts_and_hold_nothing)
{
	seed_trades();
	reverse("HOLD", 0, 0);
	reverse("BUY", 1, 1);
	/* (180 - 200) * 1.5 = -30.00 */
	expect_doc("users/u1/shadowTradeHistory/s1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"short\",\"qty\":\"1.5\",\"entry_price\":\"180\","
	    "\"status\":\"CLOSED\",\"exit_price\":200,"
	    "\"realized_pnl\":-30.00,\"closed_at\":\"" NOW "\","
	    "\"close_reason\":\"reversal\"}");
	expect_doc("users/u1/shadowTradeHistory/l1", "{\"symbol\":\"AAPL\","
	    "\"side\":\"buy\",\"qty\":2,\"entry_price\":150,"
	    "\"status\":\"OPEN\"}");
	/* a second BUY finds no OPEN short left */
	reverse("BUY", 0, 1);
}

Test(lifecycle_reverse, open_then_create_in_a_batch)
{
	struct lifecycle_signal s = sig("BUY", "0.7", "187.25");
	struct store_batch *sb = store_batch_new();
	enum lifecycle_skip skip;
	json_object *d = open_with(&s, "100000", true, &skip);
	char id[AUTO_ID_LEN + 1], path[128];

	lifecycle_open_add(sb, "u1", d, id);
	json_object_put(d);
	cr_assert_eq(store_batch_commit(st, sb, &err), 0, "%s", err.msg);
	store_batch_free(sb);
	cr_expect_eq(strlen(id), AUTO_ID_LEN);
	snprintf(path, sizeof(path), "users/u1/shadowTradeHistory/%s", id);
	expect_doc(path, "{\"symbol\":\"AAPL\",\"side\":\"buy\","
	    "\"qty\":53.404539,\"entry_price\":187.25,\"status\":\"OPEN\","
	    "\"created_at\":\"" NOW "\",\"signal_id\":\"sig1\","
	    "\"take_profit_price\":205.975,\"stop_loss_price\":177.8875}");
}

Test(lifecycle_reverse, malformed_signal_is_an_error)
{
	struct lifecycle_signal s = sig("buy", "0.9", "200");
	struct store_batch *sb = store_batch_new();
	size_t closed, skipped;

	cr_expect_eq(lifecycle_reverse("u1", &s, NULL, 0, NOW, sb, &closed,
	    &skipped, &err), -1);
	s = sig("SELL", "0.9", "0");
	cr_expect_eq(lifecycle_reverse("u1", &s, NULL, 0, NOW, sb, &closed,
	    &skipped, &err), -1);
	store_batch_free(sb);
}
