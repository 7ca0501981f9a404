/* test_strategy.c: the signal strategy on known series, against values computed independently. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "common/strategy.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define EPS 1e-9

/*
 * The expected values below were computed with exact rational arithmetic
 * (Python's fractions.Fraction) in a one-off script written for this test
 * from the formulas in docs/strategy.md, not from strategy.c: SMA = the
 * plain mean; Wilder's RSI = plain means of the first 14 gains and losses,
 * then avg = (avg * 13 + change) / 14; confidence = 0.6 * strength + 0.4 *
 * room (BUY, SELL) or 1 - strength (HOLD). Printed to 10 decimals.
 * Parameters: fast 10, slow 30, RSI 14.
 */
static const struct strategy_params P = { 10, 30, 14 };

/* 100, then +2, -1, +2, -1, ... (40 closes): an orderly uptrend. */
static const double UP[40] = {
	100, 102, 101, 103, 102, 104, 103, 105, 104, 106, 105, 107, 106, 108,
	107, 109, 108, 110, 109, 111, 110, 112, 111, 113, 112, 114, 113, 115,
	114, 116, 115, 117, 116, 118, 117, 119, 118, 120, 119, 121,
};
/* The mirror image: 100, then -2, +1, ... */
static const double DOWN[40] = {
	100, 98, 99, 97, 98, 96, 97, 95, 96, 94, 95, 93, 94, 92, 93, 91, 92,
	90, 91, 89, 90, 88, 89, 87, 88, 86, 87, 85, 86, 84, 85, 83, 84, 82,
	83, 81, 82, 80, 81, 79,
};
/* 31 days falling 0.5 a day, then 8 days rising 2 a day: the fast SMA
 * crosses above the slow one on the last close, with RSI overbought. */
static const double CROSS[40] = {
	100, 99.5, 99, 98.5, 98, 97.5, 97, 96.5, 96, 95.5, 95, 94.5, 94,
	93.5, 93, 92.5, 92, 91.5, 91, 90.5, 90, 89.5, 89, 88.5, 88, 87.5, 87,
	86.5, 86, 85.5, 85, 84.5, 86.5, 88.5, 90.5, 92.5, 94.5, 96.5, 98.5,
	100.5,
};

static void
decide(const double *c, size_t n, struct strategy_decision *d)
{
	struct tp_err err = { 0 };

	cr_assert_eq(strategy_decide(&P, c, n, d, &err), 0, "%s", err.msg);
	cr_assert(strlen(d->reasoning) > 20 &&
	    d->reasoning[strlen(d->reasoning) - 1] == '.',
	    "reasoning: %s", d->reasoning);
	cr_assert(d->confidence >= 0 && d->confidence <= 1);
}

Test(strategy, sma)
{
	/* UP[1..10]: 102 101 103 102 104 103 105 104 106 105 -> 1035 / 10 */
	cr_assert_float_eq(strategy_sma(UP, 10, 10), 103.5, EPS);
	/* UP[8..10]: (104 + 106 + 105) / 3 */
	cr_assert_float_eq(strategy_sma(UP, 10, 3), 105.0, EPS);
	cr_assert_float_eq(strategy_sma(UP, 39, 1), 121.0, EPS);
}

Test(strategy, rsi_wilder)
{
	cr_assert_float_eq(strategy_rsi(UP, 40, 14), 68.5440736419, 1e-8);
	cr_assert_float_eq(strategy_rsi(DOWN, 40, 14), 31.4559263581, 1e-8);
	cr_assert_float_eq(strategy_rsi(CROSS, 40, 14), 76.3964350728, 1e-8);
	cr_assert_float_eq(strategy_rsi(UP, 40, 5), 71.4304340719, 1e-8);
}

Test(strategy, rsi_edges)
{
	double flat[20], rise[20];
	size_t i;

	for (i = 0; i < 20; i++) {
		flat[i] = 50;
		rise[i] = 10 + (double)i;
	}
	cr_assert_float_eq(strategy_rsi(flat, 20, 14), 50.0, EPS);
	cr_assert_float_eq(strategy_rsi(rise, 20, 14), 100.0, EPS);
}

Test(strategy, buy_uptrend)
{
	struct strategy_decision d;

	decide(UP, NELEM(UP), &d);
	cr_assert_eq(d.action, STRATEGY_BUY, "%s", d.reasoning);
	cr_assert_float_eq(d.sma_fast, 118.0, EPS);
	cr_assert_float_eq(d.sma_slow, 113.0, EPS);
	cr_assert_float_eq(d.sma_fast_prev, 117.5, EPS);
	cr_assert_float_eq(d.sma_slow_prev, 112.5, EPS);
	cr_assert_float_eq(d.rsi, 68.5440736419, 1e-8);
	/* 0.6145592636, rounded to 4 places */
	cr_assert_float_eq(d.confidence, 0.6146, EPS);
	cr_assert_not(d.crossed);
	cr_assert_str_eq(strategy_action_name(d.action), "BUY");
}

Test(strategy, sell_downtrend)
{
	struct strategy_decision d;

	decide(DOWN, NELEM(DOWN), &d);
	cr_assert_eq(d.action, STRATEGY_SELL, "%s", d.reasoning);
	cr_assert_float_eq(d.sma_fast, 82.0, EPS);
	cr_assert_float_eq(d.sma_slow, 87.0, EPS);
	cr_assert_float_eq(d.rsi, 31.4559263581, 1e-8);
	cr_assert_float_eq(d.confidence, 0.6146, EPS);
}

Test(strategy, hold_overbought_cross)
{
	struct strategy_decision d;

	decide(CROSS, NELEM(CROSS), &d);
	cr_assert_eq(d.action, STRATEGY_HOLD, "%s", d.reasoning);
	cr_assert_float_eq(d.sma_fast, 91.75, EPS);
	cr_assert_float_eq(d.sma_slow, 90.75, EPS);
	cr_assert_float_eq(d.sma_fast_prev, 90.25, EPS);
	cr_assert_float_eq(d.sma_slow_prev, 90.5833333333, 1e-8);
	cr_assert(d.crossed);
	/* 0.4490358127 */
	cr_assert_float_eq(d.confidence, 0.449, EPS);
	cr_assert(strstr(d.reasoning, "overbought") != NULL, "%s",
	    d.reasoning);
}

Test(strategy, hold_flat_and_steep)
{
	struct strategy_decision d;
	double flat[40], steep[40];
	size_t i;

	for (i = 0; i < 40; i++) {
		flat[i] = 100;
		steep[i] = 100 + (double)i;
	}
	decide(flat, 40, &d);
	cr_assert_eq(d.action, STRATEGY_HOLD);
	cr_assert_float_eq(d.confidence, 1.0, EPS);
	cr_assert_float_eq(d.rsi, 50.0, EPS);
	/* SMAs 134.5 and 124.5: a gap of 8% (full strength), RSI 100 */
	decide(steep, 40, &d);
	cr_assert_eq(d.action, STRATEGY_HOLD);
	cr_assert_float_eq(d.sma_fast, 134.5, EPS);
	cr_assert_float_eq(d.sma_slow, 124.5, EPS);
	cr_assert_float_eq(d.rsi, 100.0, EPS);
	cr_assert_float_eq(d.confidence, 0.0, EPS);
}

Test(strategy, refusals)
{
	struct strategy_decision d;
	struct strategy_params bad = { 30, 10, 14 };
	struct tp_err err = { 0 };
	double c[40];

	memcpy(c, UP, sizeof(c));
	cr_assert_eq(strategy_decide(&P, UP, 30, &d, &err), -1);
	cr_assert_eq(err.code, TP_FAILED_PRECONDITION);
	cr_assert_eq(strategy_min_closes(&P), 31);
	cr_assert_eq(strategy_decide(&bad, UP, 40, &d, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	c[7] = 0;
	cr_assert_eq(strategy_decide(&P, c, 40, &d, &err), -1);
	c[7] = NAN;
	cr_assert_eq(strategy_decide(&P, c, 40, &d, &err), -1);
	c[7] = INFINITY;
	cr_assert_eq(strategy_decide(&P, c, 40, &d, &err), -1);
}

Test(strategy, action_names)
{
	enum strategy_action a;

	cr_assert_eq(strategy_action_parse("SELL", &a), 0);
	cr_assert_eq(a, STRATEGY_SELL);
	cr_assert_eq(strategy_action_parse("buy", &a), -1);
	cr_assert_eq(strategy_action_parse(NULL, &a), -1);
	cr_assert_str_eq(strategy_action_name(STRATEGY_HOLD), "HOLD");
}
