/* test_figures.c: the dashboard's derived figures: one trade's mark and the open trades' total, exact to the cent. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <string.h>

#include "common/figures.h"
#include "common/jsonutil.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static json_object *
J(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "parse %s", s);
	return o;
}

static const char *
F(const struct dec *d)
{
	static char buf[DEC_TEXT_MAX + 1];

	cr_assert_geq(dec_format(d, buf, sizeof(buf)), 0);
	return buf;
}

static void
total_of(const char *const *texts, size_t n, const char *want,
    size_t want_open, size_t want_marked, size_t want_bad)
{
	json_object *docs[16];
	size_t i, open, marked, bad;
	struct tp_err err = { 0 };
	struct dec total;

	cr_assert_leq(n, NELEM(docs));
	for (i = 0; i < n; i++)
		docs[i] = J(texts[i]);
	cr_assert_eq(figures_total(docs, n, &open, &marked, &bad, &total,
	    &err), 0, "%s", err.msg);
	cr_expect_str_eq(F(&total), want);
	cr_expect_eq(open, want_open);
	cr_expect_eq(marked, want_marked);
	cr_expect_eq(bad, want_bad);
	for (i = 0; i < n; i++)
		json_object_put(docs[i]);
}

Test(figures, mark_long_and_short)
{
	struct figures_mark m;
	struct tp_err err = { 0 };
	json_object *d;

	d = J("{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":3,"
	    "\"entry_price\":\"100.10\",\"current_price\":101.255}");
	cr_assert_eq(figures_trade(d, &m, &err), 0, "%s", err.msg);
	cr_expect(m.open && m.marked);
	/* (101.255 - 100.10) * 3 = 3.465 -> 3.47 (half away from zero) */
	cr_expect_str_eq(F(&m.pnl.pnl), "3.47");
	json_object_put(d);
	d = J("{\"status\":\"OPEN\",\"side\":\"sell\",\"qty\":\"3\","
	    "\"entry_price\":100.10,\"current_price\":\"101.255\"}");
	cr_assert_eq(figures_trade(d, &m, &err), 0, "%s", err.msg);
	cr_expect_str_eq(F(&m.pnl.pnl), "-3.47");
	json_object_put(d);
}

Test(figures, unmarked_closed_and_malformed)
{
	struct figures_mark m;
	struct tp_err err = { 0 };
	json_object *d;

	d = J("{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":1,"
	    "\"entry_price\":5}");
	cr_assert_eq(figures_trade(d, &m, &err), 0);
	cr_expect(m.open && !m.marked);
	json_object_put(d);
	d = J("{\"status\":\"CLOSED\",\"side\":\"buy\",\"qty\":1,"
	    "\"entry_price\":5,\"current_price\":6}");
	cr_assert_eq(figures_trade(d, &m, &err), 0);
	cr_expect(!m.open && !m.marked);
	json_object_put(d);
	d = J("{\"status\":\"OPEN\",\"side\":\"up\",\"qty\":1,"
	    "\"entry_price\":5,\"current_price\":6}");
	cr_expect_eq(figures_trade(d, &m, &err), -1);
	json_object_put(d);
	d = J("{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":\"1e\","
	    "\"entry_price\":5,\"current_price\":6}");
	cr_expect_eq(figures_trade(d, &m, &err), -1);
	json_object_put(d);
	d = J("{\"status\":\"OPEN\",\"side\":\"buy\",\"entry_price\":5}");
	cr_expect_eq(figures_trade(d, &m, &err), -1);
	json_object_put(d);
}

/* The total is the sum of the figures shown: each rounded to the cent
 * first. Three trades of +0.005 each show 0.01 and total 0.03 (a sum of
 * the exact values, 0.015, would show 0.02 and disagree). */
Test(figures, total_is_the_sum_of_the_cents)
{
	static const char *const t[] = {
		"{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":1,"
		    "\"entry_price\":\"10\",\"current_price\":\"10.005\"}",
		"{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":1,"
		    "\"entry_price\":\"10\",\"current_price\":\"10.005\"}",
		"{\"status\":\"OPEN\",\"side\":\"BUY\",\"qty\":1,"
		    "\"entry_price\":\"10\",\"current_price\":\"10.005\"}",
	};

	total_of(t, NELEM(t), "0.03", 3, 3, 0);
}

Test(figures, total_mixed)
{
	static const char *const t[] = {
		/* long 10 @ 187.34 marked 190.015: +26.75 */
		"{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":10,"
		    "\"entry_price\":187.34,\"current_price\":190.015}",
		/* short 2.5 @ 412.10 marked 415.333: -8.0825 -> -8.08 */
		"{\"status\":\"OPEN\",\"side\":\"sell\",\"qty\":2.5,"
		    "\"entry_price\":\"412.10\",\"current_price\":\"415.333\"}",
		/* open, no price yet: counted, not summed */
		"{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":1,"
		    "\"entry_price\":\"1\"}",
		/* closed: neither */
		"{\"status\":\"CLOSED\",\"side\":\"buy\",\"qty\":1,"
		    "\"entry_price\":\"1\",\"current_price\":\"1000\","
		    "\"realized_pnl\":\"999\"}",
		/* malformed: skipped, counted */
		"{\"status\":\"OPEN\",\"side\":\"buy\",\"qty\":-1,"
		    "\"entry_price\":\"1\",\"current_price\":\"2\"}",
		/* huge and exact: 0.01 * 99999999999999999 */
		"{\"status\":\"OPEN\",\"side\":\"buy\","
		    "\"qty\":\"99999999999999999\",\"entry_price\":\"1.00\","
		    "\"current_price\":\"1.01\"}",
	};

	total_of(t, NELEM(t), "1000000000000018.66", 4, 3, 1);
}

Test(figures, total_none)
{
	total_of(NULL, 0, "0.00", 0, 0, 0);
}
