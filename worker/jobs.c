/* jobs.c: the worker's jobs: checking a JOB, running it, building its RESULT. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/pnl.h"
#include "common/sealbox.h"
#include "common/strategy.h"
#include "common/wire_result.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#define JOB_DEADLINE_MAX_MS	(24ULL * 3600 * 1000)

/* Takes key's value out of p (so the payload's wipe leaves it alone);
 * NULL when absent. */
static json_object *
job_detach(json_object *p, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(p, key, &v) || v == NULL)
		return NULL;
	json_object_get(v);
	json_object_object_del(p, key);
	return v;
}

/* The open trades of a sync: a list of maps, each with a document id
 * under the tenant's shadowTradeHistory. Their other fields are checked
 * trade by trade when the job runs: a bad one fails that trade only. */
static int
job_trades(struct job *j, struct tp_err *err)
{
	char path[PATH_MAX_LEN + 1];
	json_object *t;
	const char *id;
	size_t i, n;
	int len;

	if (!json_object_is_type(j->trades, json_type_array) ||
	    (n = json_object_array_length(j->trades)) > WIRE_TRADES_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"trades\" must be "
		    "a list of at most %d trades", WIRE_TRADES_MAX);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(j->trades, i);
		if (!json_object_is_type(t, json_type_object) ||
		    (id = json_get_str(t, "id")) == NULL ||
		    strchr(id, '/') != NULL ||
		    (len = snprintf(path, sizeof(path),
		    "users/%s/shadowTradeHistory/%s", j->uid, id)) < 0 ||
		    (size_t)len >= sizeof(path) ||
		    path_check_doc(path, NULL) == -1)
			return tp_err_set(err, TP_INVALID_ARGUMENT, "trade %zu "
			    "is not a map with a document \"id\"", i);
	}
	return 0;
}

/* Prices handed over by the pulse: symbol -> decimal string above 0. */
static int
job_prices(struct job *j, struct tp_err *err)
{
	static const struct dec zero = { 0, 0 };
	struct json_object_iterator it, end;
	json_object *v;
	struct dec d;
	size_t n = 0;

	if (!json_object_is_type(j->prices, json_type_object) ||
	    json_object_object_length(j->prices) > WIRE_PRICES_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"prices\" must be "
		    "a map of at most %d symbols", WIRE_PRICES_MAX);
	it = json_object_iter_begin(j->prices);
	end = json_object_iter_end(j->prices);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it),
	    n++) {
		v = json_object_iter_peek_value(&it);
		if (!pnl_valid_symbol(json_object_iter_peek_name(&it)))
			return tp_err_set(err, TP_INVALID_ARGUMENT, "\"prices\" "
			    "entry %zu is not a symbol", n);
		if (!json_object_is_type(v, json_type_string) ||
		    dec_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), &d, NULL) == -1 ||
		    dec_cmp(&d, &zero) <= 0)
			return tp_err_set(err, TP_INVALID_ARGUMENT, "\"prices\" "
			    "of %s is not a decimal string above 0",
			    json_object_iter_peek_name(&it));
	}
	return 0;
}

/* The symbols of a prices job, each once, in their first order. */
static int
job_symbols(struct job *j, struct tp_err *err)
{
	json_object *seen, *uniq, *v;
	const char *s;
	size_t i, n;

	if (!json_object_is_type(j->symbols, json_type_array) ||
	    (n = json_object_array_length(j->symbols)) > WIRE_SYMBOLS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"symbols\" must "
		    "be a list of at most %d symbols", WIRE_SYMBOLS_MAX);
	seen = result_obj();
	if ((uniq = json_object_new_array_ext((int)n)) == NULL)
		sandbox_oom();
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(j->symbols, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !pnl_valid_symbol(s = json_object_get_string(v))) {
			json_object_put(seen);
			json_object_put(uniq);
			return tp_err_set(err, TP_INVALID_ARGUMENT, "\"symbols\" "
			    "entry %zu is not a symbol (1..%d of A-Z 0-9 . / -)",
			    i, PNL_SYMBOL_MAX);
		}
		if (json_object_object_get_ex(seen, s, NULL))
			continue;
		result_add(seen, s, json_object_new_boolean(1));
		result_append(uniq, json_object_get(v));
	}
	json_object_put(seen);
	json_object_put(j->symbols);
	j->symbols = uniq;
	return 0;
}

/* A signal's symbol, bars and the strategy's parameters. */
static int
job_signal(json_object *p, struct job *j, struct tp_err *err)
{
	int64_t bars, fast, slow, rsi;
	const char *s;

	if ((s = json_get_str(p, "symbol")) == NULL || !pnl_valid_symbol(s))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"symbol\" must be "
		    "1..%d of A-Z 0-9 . / -", PNL_SYMBOL_MAX);
	memcpy(j->symbol, s, strlen(s) + 1);
	if (!json_get_int(p, "fast", &fast) || !json_get_int(p, "slow",
	    &slow) || !json_get_int(p, "rsi_period", &rsi) || fast < 1 ||
	    slow < 1 || rsi < 1 || fast > STRATEGY_SLOW_MAX ||
	    slow > STRATEGY_SLOW_MAX || rsi > STRATEGY_RSI_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"fast\", "
		    "\"slow\" and \"rsi_period\" must be periods");
	j->strategy.fast = (unsigned)fast;
	j->strategy.slow = (unsigned)slow;
	j->strategy.rsi_period = (unsigned)rsi;
	if (strategy_check(&j->strategy, err) == -1)
		return -1;
	if (!json_get_int(p, "bars", &bars) ||
	    (size_t)bars < strategy_min_closes(&j->strategy) ||
	    bars > STRATEGY_BARS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"bars\" must be "
		    "%zu..%d", strategy_min_closes(&j->strategy),
		    STRATEGY_BARS_MAX);
	j->bars = (unsigned)bars;
	return 0;
}

int
job_parse(json_object *p, uint64_t max_deadline_ms,
    const uint8_t *session_key, struct job *j, struct tp_err *err)
{
	json_object *sealed;
	const char *s;
	int64_t dl;

	memset(j, 0, sizeof(*j));
	s = json_get_str(p, "job_id");
	if (!wire_valid_job_id(s))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"job_id\" must be "
		    "1..%d characters of [A-Za-z0-9_-]", WIRE_JOB_ID_MAX);
	memcpy(j->id, s, strlen(s) + 1);
	if ((s = json_get_str(p, "kind")) != NULL && strcmp(s, "sync") == 0)
		j->kind = JOB_SYNC;
	else if (s != NULL && strcmp(s, "prices") == 0)
		j->kind = JOB_PRICES;
	else if (s != NULL && strcmp(s, "signal") == 0)
		j->kind = JOB_SIGNAL;
	else
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"kind\" must be \"sync\", \"prices\" or \"signal\"");
	if (j->kind != JOB_PRICES) {
		if ((s = json_get_str(p, "uid")) == NULL || !path_valid_uid(s))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "\"uid\" is missing or not a valid uid");
		memcpy(j->uid, s, strlen(s) + 1);
	}
	if (!json_get_int(p, "deadline_ms", &dl) || dl < 1 ||
	    (uint64_t)dl > JOB_DEADLINE_MAX_MS)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"deadline_ms\" must be an integer of 1..%llu",
		    (unsigned long long)JOB_DEADLINE_MAX_MS);
	/* never longer than the configured job timeout */
	j->deadline_ms = (uint64_t)dl < max_deadline_ms ? (uint64_t)dl :
	    max_deadline_ms;
	/* opened straight into the job, which job_free wipes */
	if (!json_object_object_get_ex(p, "keys_sealed", &sealed) ||
	    !json_object_is_type(sealed, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"keys_sealed\" is missing or not a string");
	if (sealbox_keys_open(session_key, json_object_get_string(sealed),
	    (size_t)json_object_get_string_len(sealed), j->key_id,
	    sizeof(j->key_id), j->secret, sizeof(j->secret), err) == -1)
		return -1;
	if (strlen(j->key_id) < JOB_KEY_ID_MIN) {
		sodium_memzero(j->key_id, sizeof(j->key_id));
		sodium_memzero(j->secret, sizeof(j->secret));
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the sealed key id "
		    "must be %d..%d bytes", JOB_KEY_ID_MIN, API_KEY_ID_MAX);
	}
	if (j->kind == JOB_SIGNAL)
		return job_signal(p, j, err);
	if (j->kind == JOB_PRICES) {
		if ((j->symbols = job_detach(p, "symbols")) == NULL)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "\"symbols\" is missing");
		return job_symbols(j, err);
	}
	/* no "trades": an account-only sync */
	if ((j->trades = job_detach(p, "trades")) != NULL &&
	    job_trades(j, err) == -1)
		return -1;
	if ((j->prices = job_detach(p, "prices")) != NULL &&
	    job_prices(j, err) == -1)
		return -1;
	return 0;
}

void
job_start(struct worker *w, struct job *j)
{
	uint64_t margin;

	/* the RESULT must reach the supervisor before the deadline */
	margin = j->deadline_ms / 20;
	if (margin < WORKER_MARGIN_MS)
		margin = WORKER_MARGIN_MS;
	if (margin > j->deadline_ms / 2)
		margin = j->deadline_ms / 2;
	j->finish_by = j->deadline - margin;
#ifdef TP_FAULT_INJECTION
	if (j->uid[0] != '\0' &&
	    (j->fault = faults_lookup(j->uid)) != FAULT_NONE) {
		fprintf(stderr, "worker: injecting fault %s (job %s)\n",
		    faults_name(j->fault), j->id);
		faults_trigger(j);
	}
#endif
	if (w->conf.url_error[0] != '\0') {
		j->result = result_error(j->id, TP_FAILED_PRECONDITION,
		    w->conf.url_error);
		j->done = true;
		return;
	}
	if (j->kind == JOB_PRICES)
		sync_prices_start(w, j);
	else if (j->kind == JOB_SIGNAL)
		signal_start(w, j);
	else
		sync_start(w, j);
}

void
job_expire(struct job *j)
{
	sync_free(j->run);
	j->run = NULL;
	signal_free(j->srun);
	j->srun = NULL;
	json_object_put(j->result);
	j->result = result_error(j->id, TP_UNAVAILABLE,
	    "Alpaca did not answer within the job's deadline");
	j->done = true;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	sync_free(j->run);
	signal_free(j->srun);
	json_object_put(j->log);
	json_object_put(j->result);
	json_object_put(j->trades);
	json_object_put(j->prices);
	json_object_put(j->symbols);
	sodium_memzero(j, sizeof(*j));
	free(j);
}
