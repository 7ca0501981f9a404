/* signals.h: signals: the signal and signals.list operations, and the signal document composed from a signal job's RESULT. */
#ifndef TP_SUPERVISOR_SIGNALS_H
#define TP_SUPERVISOR_SIGNALS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "common/decimal.h"
#include "common/error.h"
#include "common/path.h"
#include "common/strategy.h"

struct api_req;
struct config;
struct compose_outcome;
struct job;
struct wire_result;

#define SIGNALS_LIST_MAX	100	/* signals.list's limit, at most */
#define SIGNALS_SYMBOL_MAX	16	/* pnl_valid_symbol's bound */

/*
 * A signal as it was composed and written, for whatever acts on it (the
 * shadow-trade lifecycle): everything it needs, typed, without reading
 * the document back. users/{uid}/signals/{id} holds
 *   {symbol, action: "BUY"|"SELL"|"HOLD", confidence: number 0..1 (4
 *    decimals), reasoning, price: number (the last daily close, its exact
 *    decimal text as Alpaca sent it), indicators: {sma_fast, sma_slow,
 *    rsi} (numbers, 4 decimals), strategy: "sma_crossover_rsi",
 *    parameters: {fast, slow, rsi_period, bars}, bar_at: the last bar's
 *    time (text), job_id, timestamp (store timestamp)}
 * and is never changed afterwards.
 */
struct signal_made {
	char			 id[AUTO_ID_LEN + 1];
	char			 uid[UID_MAX_LEN + 1];
	char			 symbol[SIGNALS_SYMBOL_MAX + 1];
	enum strategy_action	 action;
	double			 confidence;
	struct dec		 price;		/* exact: the last close */
	bool			 has_equity;	/* the account snapshot had one */
	struct dec		 equity;	/* as the API read it before
						   the job ran */
	bool			 trading_enabled;	/* users/{uid}/status/
						   trading at that moment */
	char			 timestamp[32];	/* the document's, canonical */
	const char		*job_id;	/* borrowed from the job */
};

/* The API's "signal" {uid, symbol, wait?} and "signals.list" {uid,
 * limit?} (common/api.h). */
int	signals_start(struct api_req *req, struct tp_err *err);
int	signals_list_start(struct api_req *req, struct tp_err *err);

/*
 * The write of an accepted signal RESULT (cfg: the strategy's parameters,
 * as the JOB was sent them): CREATE users/{uid}/signals/{new
 * id} into c->sb, and *api_form (replacing what was there) the signal as
 * the API returns it (the document with its "id"). made, when not NULL,
 * gets the typed signal. A failed job writes nothing. 0, or -1 when out
 * of memory.
 */
int	signals_compose(struct job *job, const struct wire_result *r,
	    const struct compose_outcome *c, const struct config *cfg,
    json_object **api_form);
int	signals_compose_made(struct job *job, const struct wire_result *r,
	    const struct compose_outcome *c, const struct config *cfg,
    json_object **api_form,
	    struct signal_made *made);

/*
 * What the signal does to the tenant's shadow trades, in the signal's
 * batch sb: an opposite BUY/SELL closes the OPEN trades of the symbol on
 * the other side at the signal's price (lifecycle_reverse), and a signal
 * above [signals] min_confidence opens a trade sized from equity
 * (lifecycle_open), unless trading is disabled. form (the reply) gets
 * "shadow_trades": {closed, opened: id or null, reason}. 0, or -1 (the
 * job fails; nothing is written).
 */
int	signals_trade(struct job *job, const struct signal_made *made,
	    struct store_batch *sb, const struct config *cfg,
	    json_object *form);

#endif
