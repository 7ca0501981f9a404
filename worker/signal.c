/* signal.c: the "signal" job: a symbol's daily bars fetched with the tenant's keys, and the strategy's decision on their closes. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/decimal.h"
#include "common/strategy.h"
#include "common/wire_result.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

struct signal_run {
	struct worker		*w;
	struct job		*j;
	struct alpaca_bucket	 bucket;
	struct alpaca_stats	 stats;
	struct alpaca_call	 call;
	struct alpaca_req	*req;
};

static void
signal_log(void *arg, const char *level, const char *event, const char *msg)
{
	struct signal_run *s = arg;

	result_log(s->j, level, event, msg);
}

void
signal_free(struct signal_run *s)
{
	if (s == NULL)
		return;
	alpaca_cancel(s->req);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

/* The job's RESULT is ready: the keys and the request are no longer
 * needed. */
static void
signal_done(struct signal_run *s, json_object *result)
{
	struct job *j = s->j;

	if (result == NULL || wire_result_http(result, &s->stats.http) == -1)
		sandbox_oom();
	j->result = result;
	j->done = true;
	sodium_memzero(j->secret, sizeof(j->secret));
	s->req = NULL;
	j->srun = NULL;
	signal_free(s);
}

static void
signal_fail(struct signal_run *s, const struct tp_err *err)
{
	result_log(s->j, "error", "signal", err->msg);
	signal_done(s, result_error(s->j->id, err->code, err->msg));
}

/*
 * The closes, oldest first, from a reply whose bars come newest first
 * (sort=desc): each bar's time must be earlier than the one before it.
 * The closes become doubles for the indicators only; the last close's
 * exact text is kept for the signal's price.
 */
static int
signal_closes(struct signal_run *s, const struct alpaca_bar *bars, size_t n,
    double *closes, char *price, size_t psize, struct tp_err *err)
{
	char text[DEC_TEXT_MAX + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(bars[i].t, bars[i - 1].t) >= 0)
			return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent the "
			    "daily bars of %s out of order (bar %zu)",
			    s->j->symbol, i);
		if (dec_sign(&bars[i].c) <= 0 ||
		    dec_format(&bars[i].c, text, sizeof(text)) == -1)
			return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a "
			    "daily bar of %s whose close is not above 0",
			    s->j->symbol);
		closes[n - 1 - i] = strtod(text, NULL);
	}
	if (dec_format(&bars[0].c, price, psize) == -1)
		return tp_err_set(err, TP_UNAVAILABLE, "the last close of %s "
		    "cannot be written", s->j->symbol);
	return 0;
}

static void
signal_bars_done(void *arg, struct alpaca_req *r, json_object *reply,
    const struct tp_err *err)
{
	struct signal_run *s = arg;
	struct job *j = s->j;
	struct strategy_decision d;
	struct alpaca_bar *bars = NULL;
	char price[DEC_TEXT_MAX + 1], msg[STRATEGY_REASON_MAX + 64];
	double *closes = NULL;
	struct tp_err e;
	size_t n = 0;

	(void)r;
	s->req = NULL;
	tp_err_clear(&e);
	if (reply == NULL) {
		signal_fail(s, err);
		return;
	}
	if (alpaca_parse_bars(reply, j->symbol, &bars, &n, &e) == -1) {
		json_object_put(reply);
		signal_fail(s, &e);
		return;
	}
	json_object_put(reply);
	if (n > j->bars) {
		free(bars);
		tp_err_set(&e, TP_UNAVAILABLE, "Alpaca sent %zu daily bars of "
		    "%s, more than the %u asked for", n, j->symbol, j->bars);
		signal_fail(s, &e);
		return;
	}
	if (n < strategy_min_closes(&j->strategy)) {
		free(bars);
		tp_err_set(&e, TP_FAILED_PRECONDITION, "Alpaca has %zu daily "
		    "bars of %s, and the strategy needs at least %zu", n,
		    j->symbol, strategy_min_closes(&j->strategy));
		signal_fail(s, &e);
		return;
	}
	if ((closes = calloc(n, sizeof(*closes))) == NULL)
		sandbox_oom();
	if (signal_closes(s, bars, n, closes, price, sizeof(price), &e) ==
	    -1 || strategy_decide(&j->strategy, closes, n, &d, &e) == -1) {
		free(closes);
		free(bars);
		signal_fail(s, &e);
		return;
	}
	snprintf(msg, sizeof(msg), "%s %s (confidence %.4f): %s", j->symbol,
	    strategy_action_name(d.action), d.confidence, d.reasoning);
	result_log(j, "info", "signal", msg);
	signal_done(s, wire_result_signal_new(j->id, j->symbol, &d, price,
	    bars[0].t, (int64_t)n, (int64_t)s->stats.requests[ALPACA_BARS],
	    (int64_t)s->stats.retries));
	free(closes);
	free(bars);
}

void
signal_start(struct worker *w, struct job *j)
{
	struct signal_run *s;
	struct tp_err err;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		sandbox_oom();
	s->w = w;
	s->j = j;
	alpaca_bucket_init(&s->bucket, w->conf.requests_per_minute,
	    clock_mono_ms());
	s->call.key_id = j->key_id;
	s->call.secret = j->secret;
	s->call.uid = j->uid;
	s->call.bucket = &s->bucket;
	s->call.stats = &s->stats;
	s->call.deadline = j->finish_by;
	s->call.log = signal_log;
	s->call.log_arg = s;
	j->srun = s;
	tp_err_clear(&err);
	if ((s->req = alpaca_daily_bars(w->alpaca, &s->call, j->symbol,
	    j->bars, signal_bars_done, s, &err)) == NULL)
		signal_fail(s, &err);
}
