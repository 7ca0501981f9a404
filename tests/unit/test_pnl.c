/* test_pnl.c: unrealized P&L of long and short trades, sides and symbols. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "common/pnl.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct dec
D(const char *s)
{
	struct tp_err err = { 0 };
	struct dec d;

	cr_assert_eq(dec_parse(s, strlen(s), &d, &err), 0,
	    "dec_parse(\"%s\"): %s", s, err.msg);
	return d;
}

/* Two buffers, so two values can be printed in one assertion message. */
static const char *
F(const struct dec *d)
{
	static char buf[2][DEC_TEXT_MAX + 1];
	static int which;

	which ^= 1;
	cr_assert_geq(dec_format(d, buf[which], sizeof(buf[which])), 0);
	return buf[which];
}

/*
 * Expected values computed independently with Python's decimal module
 * (precision 200, quantize with ROUND_HALF_UP, which for Decimal is half
 * away from zero): pnl = (price - entry) * qty for a long and
 * (entry - price) * qty for a short, rounded to 0.01; pct = that exact pnl
 * * 100 / (entry * qty), rounded to 0.0001. Python's "-0.00" is written
 * "0.00": a fixed-point zero has no sign.
 */
static const struct pnl_case {
	enum pnl_side side;
	const char *qty, *entry, *price, *pnl, *pct;
} cases[] = {
	{ PNL_LONG, "5", "100.0", "120.0", "100.00", "20.0000" }, /* spec example-1 */
	{ PNL_LONG, "2", "174.78", "174.29", "-0.98", "-0.2804" }, /* spec example-2: a loss */
	{ PNL_SHORT, "2", "174.78", "174.29", "0.98", "0.2804" }, /* the same, short: a gain */
	{ PNL_LONG, "10", "187.25", "190.50", "32.50", "1.7356" },
	{ PNL_SHORT, "10", "187.25", "190.50", "-32.50", "-1.7356" },
	{ PNL_LONG, "1", "122011.09751111286868", "122011.1", "0.00", "0.0000" }, /* long decimals */
	{ PNL_SHORT, "3", "122011.09751111286868", "121999.5", "34.79", "0.0095" },
	{ PNL_LONG, "0.5", "100", "100.01", "0.01", "0.0100" }, /* fractional share: 0.005, half away */
	{ PNL_SHORT, "0.5", "100", "100.01", "-0.01", "-0.0100" }, /* -0.005 -> -0.01 */
	{ PNL_LONG, "1", "100", "100.005", "0.01", "0.0050" }, /* exactly half a cent up */
	{ PNL_SHORT, "1", "100", "100.005", "-0.01", "-0.0050" }, /* exactly half a cent down */
	{ PNL_LONG, "1", "100", "100.00499999999999999999", "0.00", "0.0050" }, /* just under half */
	{ PNL_SHORT, "1", "100", "100.00499999999999999999", "0.00", "-0.0050" },
	{ PNL_LONG, "1", "100", "100.00005", "0.00", "0.0001" }, /* pct exactly 0.00005 */
	{ PNL_SHORT, "1", "100", "100.00005", "0.00", "-0.0001" }, /* pct exactly -0.00005 */
	{ PNL_LONG, "1", "3", "3.004", "0.00", "0.1333" }, /* pnl rounds to 0.00, pct does not */
	{ PNL_SHORT, "7", "3", "3.004", "-0.03", "-0.1333" },
	{ PNL_LONG, "1", "3", "1", "-2.00", "-66.6667" }, /* pct -66.6667 */
	{ PNL_LONG, "1", "3", "5", "2.00", "66.6667" }, /* pct 66.6667 */
	{ PNL_LONG, "100", "50", "0", "-5000.00", "-100.0000" }, /* price zero: lost everything */
	{ PNL_SHORT, "100", "50", "0", "5000.00", "100.0000" },
	{ PNL_SHORT, "1", "10", "35", "-25.00", "-250.0000" }, /* short loss beyond 100% */
	{ PNL_LONG, "1000000", "122011.09751111286868", "122011.09751111286869", "0.00", "0.0000" }, /* tiny move, big qty */
	{ PNL_LONG, "0.000000001", "0.0001", "1000000", "0.00", "999999999900.0000" }, /* tiny qty, big move */
	{ PNL_LONG, "1.234567891", "33.3333", "44.4444", "13.72", "33.3333" },
	{ PNL_SHORT, "1.234567891", "33.3333", "44.4444", "-13.72", "-33.3333" },
	{ PNL_LONG, "25", "0.0001", "0.00015", "0.00", "50.0000" }, /* penny stock */
	{ PNL_SHORT, "25", "0.0001", "0.00015", "0.00", "-50.0000" },
	{ PNL_LONG, "12", "187.25", "187.25", "0.00", "0.0000" }, /* flat */
	{ PNL_SHORT, "12", "187.25", "187.25", "0.00", "0.0000" }, /* flat short */
	{ PNL_LONG, "1e3", "1.5e2", "1.525E2", "2500.00", "1.6667" }, /* exponent forms */
	{ PNL_LONG, "999999999", "999999.99", "1999999.98", "999999989000000.01", "100.0000" }, /* large */
	{ PNL_SHORT, "999999999", "999999.99", "1999999.98", "-999999989000000.01", "-100.0000" }, /* large loss */
	{ PNL_LONG, "3", "0.1", "0.3", "0.60", "200.0000" }, /* 0.1+0.2 trap: 0.60 */
	{ PNL_LONG, "7", "19.99", "20.015", "0.18", "0.1251" }, /* 0.175 -> 0.18 */
	{ PNL_SHORT, "7", "19.99", "20.015", "-0.18", "-0.1251" }, /* -0.175 -> -0.18 */
	{ PNL_LONG, "9", "1.11", "1.115", "0.05", "0.4505" }, /* 0.045 -> 0.05 */
	{ PNL_SHORT, "9", "1.11", "1.115", "-0.05", "-0.4505" },
	{ PNL_SHORT, "3234", "418.06672986480592", "1761.86258185663063058449", "-4345835.79", "-321.4309" }, /* random */
	{ PNL_LONG, "307", "2274.05", "234.8959", "-626020.31", "-89.6706" }, /* random */
	{ PNL_LONG, "4514", "198.8419", "675.27220439801898040355", "2150606.39", "239.6026" }, /* random */
	{ PNL_LONG, "408.972432336", "768.20057317029579", "1406.8972", "261209.31", "83.1419" }, /* random */
	{ PNL_LONG, "4676", "1880.4114", "1758.12478576586820162955", "-571812.21", "-6.5032" }, /* random */
	{ PNL_LONG, "817.307", "362.45380384031778", "623.00733216285434447284", "212952.22", "71.8860" }, /* random */
	{ PNL_SHORT, "2765.003143512", "1965.3195", "1213.7690", "2078039.50", "38.2406" }, /* random */
	{ PNL_SHORT, "1472", "1407.62061203311136", "1574.67", "-245896.70", "-11.8675" }, /* random */
	{ PNL_SHORT, "3765.095", "2043.8273", "619.50", "5362727.60", "69.6892" }, /* random */
	{ PNL_SHORT, "2802", "2564.07", "132.0577", "6814498.46", "94.8497" }, /* random */
	{ PNL_LONG, "2853.154", "2630.34471614135517", "491.21", "-6103280.77", "-81.3253" }, /* random */
	{ PNL_SHORT, "532.856117490", "1785.26501414771510", "2059.52429993264385116339", "-146140.74", "-15.3624" }, /* random */
	{ PNL_SHORT, "3236.254", "130.56639931414077", "1193.2396", "-3439080.40", "-813.8949" }, /* random */
	{ PNL_LONG, "4044", "1144.53", "434.4937", "-2871386.80", "-62.0374" }, /* random */
	{ PNL_LONG, "4367.430501616", "872.73", "1348.1944", "2076557.72", "54.4801" }, /* random */
	{ PNL_SHORT, "3526", "2193.59477837043205", "791.76", "4942869.43", "63.9058" }, /* random */
};

Test(pnl, table)
{
	struct tp_err err;
	struct dec qty, entry, price;
	struct pnl out;
	size_t i;

	cr_assert_geq(NELEM(cases), 30);
	for (i = 0; i < NELEM(cases); i++) {
		const struct pnl_case *c = &cases[i];

		qty = D(c->qty);
		entry = D(c->entry);
		price = D(c->price);
		memset(&out, 0xa5, sizeof(out));
		cr_assert_eq(pnl_mark(c->side, &qty, &entry, &price, &out,
		    &err), 0, "[%zu]: %s", i, err.msg);
		cr_assert_str_eq(F(&out.pnl), c->pnl, "[%zu] pnl of %s %s @ %s "
		    "-> %s", i, c->side == PNL_LONG ? "long" : "short", c->qty,
		    c->entry, c->price);
		cr_assert_str_eq(F(&out.pct), c->pct, "[%zu] pct", i);
		cr_assert_eq(out.pnl.scale, PNL_PLACES);
		cr_assert_eq(out.pct.scale, PNL_PCT_PLACES);
		/* the price is kept exactly as given, decimals and all */
		cr_assert(out.price.m == price.m &&
		    out.price.scale == price.scale, "[%zu] price", i);
	}
}

/*
 * The broker's own bookkeeping (Alpaca's Position): qty is signed
 * (negative for a short), market_value = qty * current_price,
 * cost_basis = qty * avg_entry_price, unrealized_pl = market_value -
 * cost_basis, unrealized_plpc = unrealized_pl / |cost_basis| (a factor of
 * 1). Computed that way, every case agrees with pnl_mark to the cent and
 * to the 4th decimal of the percentage.
 */
Test(pnl, matches_broker_formula)
{
	struct tp_err err;
	struct dec sq, qty, entry, price, mv, cb, pl, plpc, r;
	struct pnl out;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		const struct pnl_case *c = &cases[i];

		qty = D(c->qty);
		entry = D(c->entry);
		price = D(c->price);
		cr_assert_eq(pnl_mark(c->side, &qty, &entry, &price, &out,
		    &err), 0);
		sq = qty;
		if (c->side == PNL_SHORT)
			dec_neg(&qty, &sq);
		cr_assert_eq(dec_mul(&sq, &price, &mv, &err), 0, "%s", err.msg);
		cr_assert_eq(dec_mul(&sq, &entry, &cb, &err), 0, "%s", err.msg);
		cr_assert_eq(dec_sub(&mv, &cb, &pl, &err), 0, "%s", err.msg);
		dec_round(&pl, 2, &r);
		cr_assert_eq(dec_cmp(&r, &out.pnl), 0, "[%zu] %s vs %s", i,
		    F(&r), F(&out.pnl));
		if (dec_sign(&cb) < 0)
			dec_neg(&cb, &cb);
		/* the factor to 6 decimals is the percentage to 4 */
		cr_assert_eq(dec_div(&pl, &cb, 6, &plpc, &err), 0, "%s",
		    err.msg);
		plpc.scale -= 2;
		cr_assert_eq(dec_cmp(&plpc, &out.pct), 0, "[%zu] %s vs %s", i,
		    F(&plpc), F(&out.pct));
	}
}

/* The two examples of the Position schema in Alpaca's trading API spec,
 * with the broker's own figures. */
Test(pnl, alpaca_spec_examples)
{
	static const struct {
		const char *qty, *entry, *price, *upl, *uplpc;
	} ex[] = {
		{ "5", "100.0", "120.0", "100.0", "0.20" },
		{ "2", "174.78", "174.29", "-0.98", "-0.0028035244307129" },
	};
	struct tp_err err;
	struct dec qty, entry, price, upl, uplpc, hundred, r;
	struct pnl out;
	size_t i;

	dec_from_int(100, &hundred);
	for (i = 0; i < NELEM(ex); i++) {
		qty = D(ex[i].qty);
		entry = D(ex[i].entry);
		price = D(ex[i].price);
		upl = D(ex[i].upl);
		uplpc = D(ex[i].uplpc);
		cr_assert_eq(pnl_mark(PNL_LONG, &qty, &entry, &price, &out,
		    &err), 0);
		cr_assert_eq(dec_cmp(&out.pnl, &upl), 0, "%s vs %s",
		    F(&out.pnl), ex[i].upl);
		cr_assert_eq(dec_mul(&uplpc, &hundred, &r, &err), 0);
		dec_round(&r, 4, &r);
		cr_assert_eq(dec_cmp(&out.pct, &r), 0, "%s vs %s", F(&out.pct),
		    F(&r));
	}
}

/* pct comes from the exact pnl, not from the rounded one. */
Test(pnl, pct_from_unrounded_pnl)
{
	struct tp_err err;
	struct dec qty = D("1"), entry = D("3"), price = D("3.004");
	struct pnl out;

	cr_assert_eq(pnl_mark(PNL_LONG, &qty, &entry, &price, &out, &err), 0);
	cr_assert_str_eq(F(&out.pnl), "0.00");
	cr_assert_str_eq(F(&out.pct), "0.1333");
}

Test(pnl, long_and_short_mirror)
{
	uint64_t x = 0x2545f4914f6cdd1dULL;
	struct tp_err err;
	struct dec qty, entry, price, sum;
	struct pnl lo, sh;
	int i;

	for (i = 0; i < 5000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		qty.m = (__int128)(x % 1000000) + 1;
		qty.scale = (int)(x % 7);
		entry.m = (__int128)((x >> 20) % 100000000) + 1;
		entry.scale = (int)((x >> 8) % 9);
		price.m = (__int128)((x >> 30) % 100000000000ULL);
		price.scale = (int)((x >> 12) % 15);
		cr_assert_eq(pnl_mark(PNL_LONG, &qty, &entry, &price, &lo,
		    &err), 0, "%s", err.msg);
		cr_assert_eq(pnl_mark(PNL_SHORT, &qty, &entry, &price, &sh,
		    &err), 0, "%s", err.msg);
		/* half away from zero is symmetric: short = -long exactly */
		cr_assert_eq(dec_add(&lo.pnl, &sh.pnl, &sum, &err), 0);
		cr_assert_eq(dec_sign(&sum), 0, "%s vs %s", F(&lo.pnl),
		    F(&sh.pnl));
		cr_assert_eq(dec_add(&lo.pct, &sh.pct, &sum, &err), 0);
		cr_assert_eq(dec_sign(&sum), 0);
		/* a long gains exactly when the price is above the entry */
		if (dec_cmp(&price, &entry) < 0)
			cr_assert_leq(dec_sign(&lo.pnl), 0);
		else
			cr_assert_geq(dec_sign(&lo.pnl), 0);
	}
}

Test(pnl, invalid_inputs)
{
	static const struct {
		const char *qty, *entry, *price, *msg;
	} bad[] = {
		{ "0", "10", "11", "qty must be greater than zero" },
		{ "0.000", "10", "11", "qty must be greater than zero" },
		{ "-1", "10", "11", "qty must be greater than zero" },
		{ "1", "0", "11", "entry_price must be greater than zero" },
		{ "1", "-10", "11", "entry_price must be greater than zero" },
		{ "1", "10", "-0.01", "price must not be negative" },
		/* results out of range */
		{ "1e20", "1", "10000000000000001", "P&L out of range" },
		{ "1e30", "1", "100000000", "P&L out of range" },
		{ "1", "0.000000000000000000000000000001", "100000000",
		    "P&L percentage out of range" },
		{ "1", "99999999999999999999999999999999999999",
		    "0.000000000000000000000000000001", "P&L out of range" },
	};
	struct tp_err err;
	struct dec qty, entry, price;
	struct pnl out;
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		qty = D(bad[i].qty);
		entry = D(bad[i].entry);
		price = D(bad[i].price);
		tp_err_clear(&err);
		cr_assert_eq(pnl_mark(PNL_LONG, &qty, &entry, &price, &out,
		    &err), -1, "[%zu] accepted", i);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		cr_assert_str_eq(err.msg, bad[i].msg, "[%zu]", i);
		cr_assert_eq(pnl_mark(PNL_SHORT, &qty, &entry, &price, &out,
		    &err), -1, "[%zu] accepted short", i);
	}
}

Test(pnl, largest_values_in_range)
{
	struct tp_err err;
	struct dec qty = D("1e15"), entry = D("1"), price;
	struct pnl out;

	/* 36 integer digits and the 2 decimals: still fits */
	price = D("100000000000000000001");
	cr_assert_eq(pnl_mark(PNL_LONG, &qty, &entry, &price, &out, &err), 0,
	    "%s", err.msg);
	cr_assert_str_eq(F(&out.pnl), "100000000000000000000000000000000000.00");
	cr_assert_str_eq(F(&out.pct), "10000000000000000000000.0000");
	cr_assert_eq(pnl_mark(PNL_SHORT, &qty, &entry, &price, &out, &err), 0);
	cr_assert_str_eq(F(&out.pnl),
	    "-100000000000000000000000000000000000.00");
}

Test(side, parse)
{
	static const struct {
		const char *s;
		int side;
	} ok[] = {
		{ "long", PNL_LONG }, { "LONG", PNL_LONG }, { "Long", PNL_LONG },
		{ "buy", PNL_LONG }, { "BUY", PNL_LONG }, { "bUy", PNL_LONG },
		{ "short", PNL_SHORT }, { "SHORT", PNL_SHORT },
		{ "sell", PNL_SHORT }, { "Sell", PNL_SHORT },
	};
	static const char *const bad[] = { "", "lon", "longs", "b", "buy ",
		" sell", "shorts", "sel", "long\n", "bought", "sold", "1",
		"short\0x" };
	enum pnl_side side;
	size_t i;

	for (i = 0; i < NELEM(ok); i++) {
		side = ok[i].side == PNL_LONG ? PNL_SHORT : PNL_LONG;
		cr_assert_eq(pnl_side_parse(ok[i].s, &side), 0, "%s", ok[i].s);
		cr_assert_eq((int)side, ok[i].side, "%s", ok[i].s);
	}
	for (i = 0; i < NELEM(bad) - 1; i++)
		cr_assert_eq(pnl_side_parse(bad[i], &side), -1, "\"%s\"",
		    bad[i]);
	/* "short\0x" is the C string "short" */
	cr_assert_eq(pnl_side_parse(bad[NELEM(bad) - 1], &side), 0);
	cr_assert_eq(pnl_side_parse(NULL, &side), -1);
}

Test(symbol, valid)
{
	static const char *const ok[] = { "AAPL", "A", "BRK.B", "BRK-B",
		"BTC/USD", "1ABC", "9", "ABCDEFGHIJKLMNOP", "A.B-C/D" };
	static const char *const bad[] = { "", "aapl", "Aapl", ".A", "-A",
		"/A", "ABCDEFGHIJKLMNOPQ", "AA PL", "AAPL\n", "\xc3\x84PPL",
		"A_B", "A$", "A\tB", "A:B", "A\\B", "AAPL ", " AAPL" };
	size_t i;

	for (i = 0; i < NELEM(ok); i++)
		cr_assert(pnl_valid_symbol(ok[i]), "\"%s\"", ok[i]);
	for (i = 0; i < NELEM(bad); i++)
		cr_assert_not(pnl_valid_symbol(bad[i]), "\"%s\"", bad[i]);
	cr_assert_not(pnl_valid_symbol(NULL));
}
