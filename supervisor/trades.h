/* trades.h: a tenant's OPEN shadow trades, read for its sync JOB, and the prices they need. */
#ifndef TP_SUPERVISOR_TRADES_H
#define TP_SUPERVISOR_TRADES_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/store.h"
#include "common/wire.h"

/*
 * The OPEN trades one sync JOB carries: its result writes a mark into
 * each and 4 more documents (compose_sync: the two snapshots, last_sync,
 * last_sync_error), all in one batch of at most STORE_BATCH_MAX writes.
 * A tenant with more has its oldest TRADES_JOB_MAX marked (and is counted
 * as capped); the protocol's own bound, WIRE_TRADES_MAX, is larger.
 */
#define TRADES_JOB_MAX	(STORE_BATCH_MAX - 4)
_Static_assert(TRADES_JOB_MAX <= WIRE_TRADES_MAX,
    "a JOB's trades within the protocol's bound");

/*
 * Reads the OPEN trades of uid (store thread) into *text, a compact JSON
 * array of {id, symbol, side, qty, entry_price, and take_profit_price,
 * stop_loss_price when the trade has them} (at most TRADES_JOB_MAX;
 * values as stored when they are short scalars, null otherwise: the
 * worker checks them). *n gets their count, *more whether some were left
 * out. When symbols is not NULL, each valid symbol is added to it as a
 * key (a set). 0, or -1 on a store error.
 */
int	trades_read(struct store *st, const char *uid, char **text, size_t *n,
	    bool *more, json_object *symbols, struct tp_err *err);
/* The same text from the trade documents read, in their order: what
 * trades_read makes of the first TRADES_JOB_MAX + 1 of them. */
int	trades_text(const struct store_doc *docs, size_t ndocs, char **text,
	    size_t *n, bool *more, json_object *symbols, struct tp_err *err);
/* The "trades" array of a JOB from that text (NULL: out of memory or
 * bad text), and the "prices" map restricted to its symbols. */
json_object *trades_json(const char *text);
json_object *trades_prices(json_object *trades, json_object *prices);

struct api_req;
/* The trades.list operation (trades_op.c; common/api.h). */
int	trades_list_start(struct api_req *req, struct tp_err *err);

#endif
