/* trades.h: a tenant's OPEN shadow trades, read for its sync JOB, and the prices they need. */
#ifndef TP_SUPERVISOR_TRADES_H
#define TP_SUPERVISOR_TRADES_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/store.h"

/*
 * Reads the OPEN trades of uid (store thread) into *text, a compact JSON
 * array of {id, symbol, side, qty, entry_price, and take_profit_price,
 * stop_loss_price when the trade has them} (at most WIRE_TRADES_MAX;
 * values as stored when they are short scalars, null otherwise: the
 * worker checks them). *n gets their count, *more whether some were left
 * out. When symbols is not NULL, each valid symbol is added to it as a
 * key (a set). 0, or -1 on a store error.
 */
int	trades_read(struct store *st, const char *uid, char **text, size_t *n,
	    bool *more, json_object *symbols, struct tp_err *err);
/* The same text from the trade documents read, in their order: what
 * trades_read makes of the first WIRE_TRADES_MAX + 1 of them. */
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
