/* strategy.c: the signal strategy as pure functions: SMA fast/slow crossover filtered by RSI (docs/strategy.md). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/strategy.h"

const char *
strategy_action_name(enum strategy_action a)
{
	switch (a) {
	case STRATEGY_BUY:
		return "BUY";
	case STRATEGY_SELL:
		return "SELL";
	default:
		return "HOLD";
	}
}

int
strategy_action_parse(const char *s, enum strategy_action *a)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "BUY") == 0)
		*a = STRATEGY_BUY;
	else if (strcmp(s, "SELL") == 0)
		*a = STRATEGY_SELL;
	else if (strcmp(s, "HOLD") == 0)
		*a = STRATEGY_HOLD;
	else
		return -1;
	return 0;
}

size_t
strategy_min_closes(const struct strategy_params *p)
{
	return (size_t)(p->slow > p->rsi_period ? p->slow : p->rsi_period) + 1;
}

int
strategy_check(const struct strategy_params *p, struct tp_err *err)
{
	if (p->fast < STRATEGY_FAST_MIN || p->slow > STRATEGY_SLOW_MAX ||
	    p->fast >= p->slow)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the SMA periods "
		    "must be %d <= fast < slow <= %d", STRATEGY_FAST_MIN,
		    STRATEGY_SLOW_MAX);
	if (p->rsi_period < STRATEGY_RSI_MIN ||
	    p->rsi_period > STRATEGY_RSI_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the RSI period "
		    "must be %d..%d", STRATEGY_RSI_MIN, STRATEGY_RSI_MAX);
	return 0;
}

double
strategy_sma(const double *v, size_t end, unsigned n)
{
	double sum = 0;
	size_t i;

	for (i = end + 1 - n; i <= end; i++)
		sum += v[i];
	return sum / n;
}

double
strategy_rsi(const double *c, size_t n, unsigned period)
{
	double gain = 0, loss = 0, d;
	size_t i;

	for (i = 1; i <= period; i++) {
		d = c[i] - c[i - 1];
		if (d > 0)
			gain += d;
		else
			loss -= d;
	}
	gain /= period;
	loss /= period;
	for (i = period + 1; i < n; i++) {
		d = c[i] - c[i - 1];
		gain = (gain * (period - 1) + (d > 0 ? d : 0)) / period;
		loss = (loss * (period - 1) + (d < 0 ? -d : 0)) / period;
	}
	if (loss == 0)
		return gain == 0 ? 50.0 : 100.0;
	return 100.0 - 100.0 / (1.0 + gain / loss);
}

static double
strategy_clamp(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

static double
strategy_round(double x)
{
	/* x is in [0, 1] here: half up is half away from zero; no libm */
	return strategy_clamp((double)(long long)(strategy_clamp(x) *
	    STRATEGY_CONF_SCALE + 0.5) / STRATEGY_CONF_SCALE);
}

int
strategy_decide(const struct strategy_params *p, const double *c, size_t n,
    struct strategy_decision *out, struct tp_err *err)
{
	double gap, strength, room;
	const char *cross;
	size_t i, need;
	char head[120];

	memset(out, 0, sizeof(*out));
	if (strategy_check(p, err) == -1)
		return -1;
	need = strategy_min_closes(p);
	if (n < need)
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%zu daily "
		    "closes, and the strategy needs at least %zu", n, need);
	for (i = 0; i < n; i++)
		if (!isfinite(c[i]) || c[i] <= 0)
			return tp_err_set(err, TP_INVALID_ARGUMENT, "close %zu "
			    "is not a finite price above 0", i);
	out->sma_fast = strategy_sma(c, n - 1, p->fast);
	out->sma_slow = strategy_sma(c, n - 1, p->slow);
	out->sma_fast_prev = strategy_sma(c, n - 2, p->fast);
	out->sma_slow_prev = strategy_sma(c, n - 2, p->slow);
	out->rsi = strategy_rsi(c, n, p->rsi_period);
	gap = (out->sma_fast - out->sma_slow) / out->sma_slow;
	strength = strategy_clamp((gap < 0 ? -gap : gap) / STRATEGY_GAP_FULL);
	out->crossed = (gap > 0 && out->sma_fast_prev <= out->sma_slow_prev) ||
	    (gap < 0 && out->sma_fast_prev >= out->sma_slow_prev);
	cross = out->crossed ? " (crossed on the last close)" : "";
	snprintf(head, sizeof(head), "SMA(%u) %.2f is %s SMA(%u) %.2f%s",
	    p->fast, out->sma_fast, gap > 0 ? "above" : gap < 0 ? "below" :
	    "level with", p->slow, out->sma_slow, cross);
	if (gap > 0 && out->rsi < STRATEGY_RSI_HIGH) {
		room = strategy_clamp((STRATEGY_RSI_HIGH - out->rsi) /
		    (STRATEGY_RSI_HIGH - STRATEGY_RSI_LOW));
		out->action = STRATEGY_BUY;
		out->confidence = strategy_round(0.6 * strength + 0.4 * room);
		snprintf(out->reasoning, sizeof(out->reasoning), "%s and "
		    "RSI(%u) %.1f is below %.0f, so the uptrend gives a BUY.",
		    head, p->rsi_period, out->rsi, STRATEGY_RSI_HIGH);
	} else if (gap < 0 && out->rsi > STRATEGY_RSI_LOW) {
		room = strategy_clamp((out->rsi - STRATEGY_RSI_LOW) /
		    (STRATEGY_RSI_HIGH - STRATEGY_RSI_LOW));
		out->action = STRATEGY_SELL;
		out->confidence = strategy_round(0.6 * strength + 0.4 * room);
		snprintf(out->reasoning, sizeof(out->reasoning), "%s and "
		    "RSI(%u) %.1f is above %.0f, so the downtrend gives a "
		    "SELL.", head, p->rsi_period, out->rsi, STRATEGY_RSI_LOW);
	} else {
		out->action = STRATEGY_HOLD;
		out->confidence = strategy_round(1.0 - strength);
		if (gap == 0)
			snprintf(out->reasoning, sizeof(out->reasoning), "%s, "
			    "so there is no trend and the signal is HOLD.",
			    head);
		else
			snprintf(out->reasoning, sizeof(out->reasoning), "%s "
			    "but RSI(%u) %.1f is %s, so the signal is HOLD.",
			    head, p->rsi_period, out->rsi, gap > 0 ?
			    "overbought (70 or more)" :
			    "oversold (30 or less)");
	}
	return 0;
}
