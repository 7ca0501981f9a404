/* strategy.h: the signal strategy as pure functions: SMA fast/slow crossover filtered by RSI (docs/strategy.md). */
#ifndef TP_STRATEGY_H
#define TP_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The [signals] bounds (config.c checks them; strategy_check again). */
#define STRATEGY_FAST_MIN	2
#define STRATEGY_SLOW_MAX	400
#define STRATEGY_RSI_MIN	2
#define STRATEGY_RSI_MAX	100
#define STRATEGY_BARS_MAX	1000
#define STRATEGY_REASON_MAX	240	/* bytes of the reasoning sentence */
#define STRATEGY_NAME		"sma_crossover_rsi"
#define STRATEGY_RSI_HIGH	70.0	/* overbought: no BUY at or above */
#define STRATEGY_RSI_LOW	30.0	/* oversold: no SELL at or below */
#define STRATEGY_GAP_FULL	0.02	/* an SMA gap of 2% of the slow SMA is
					   full trend strength */
#define STRATEGY_CONF_PLACES	4	/* confidence is rounded to this */
#define STRATEGY_CONF_SCALE	10000.0	/* 10^STRATEGY_CONF_PLACES */

enum strategy_action {
	STRATEGY_HOLD,
	STRATEGY_BUY,
	STRATEGY_SELL,
};

struct strategy_params {
	unsigned	 fast;		/* SMA periods, fast < slow */
	unsigned	 slow;
	unsigned	 rsi_period;	/* Wilder's RSI */
};

/* Indicators are doubles (docs/strategy.md says why that is enough): they
 * decide, they never become money. */
struct strategy_decision {
	enum strategy_action action;
	double		 confidence;	/* [0, 1], STRATEGY_CONF_PLACES */
	double		 sma_fast, sma_slow, rsi;	/* at the last close */
	double		 sma_fast_prev, sma_slow_prev;	/* one close earlier */
	bool		 crossed;	/* the SMAs crossed on the last close */
	char		 reasoning[STRATEGY_REASON_MAX + 1];
};

/* "BUY", "SELL", "HOLD"; strategy_action_parse: -1 for anything else. */
const char *strategy_action_name(enum strategy_action a);
int strategy_action_parse(const char *s, enum strategy_action *a);

/* Closes needed: max(slow + 1, rsi_period + 1). */
size_t strategy_min_closes(const struct strategy_params *p);
/* The parameters within bounds and fast < slow; -1 with err otherwise. */
int strategy_check(const struct strategy_params *p, struct tp_err *err);

/* Simple moving average of the n values ending at v[end] (end >= n-1). */
double strategy_sma(const double *v, size_t end, unsigned n);
/*
 * Wilder's RSI(period) at the last of the n closes: the first average
 * gain and loss are the plain means of the first `period` changes, each
 * later one avg = (avg * (period - 1) + change) / period. RSI = 100 -
 * 100 / (1 + avg_gain / avg_loss); 100 when avg_loss is 0 (50 when both
 * are). n >= period + 1.
 */
double strategy_rsi(const double *closes, size_t n, unsigned period);

/*
 * The decision on n closes, oldest first (all finite and > 0, n >=
 * strategy_min_closes). -1 with err (TP_INVALID_ARGUMENT, or
 * TP_FAILED_PRECONDITION for too few closes) when it cannot decide.
 */
int strategy_decide(const struct strategy_params *p, const double *closes,
    size_t n, struct strategy_decision *out, struct tp_err *err);

#endif
