/* figures.h: the dashboard's derived figures (an open trade's unrealized P&L, the open trades' total), in exact decimal, in one place. */
#ifndef TP_FIGURES_H
#define TP_FIGURES_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/decimal.h"
#include "common/error.h"
#include "common/pnl.h"

/*
 * A trade document as the lifecycle stores it (side buy|sell, qty,
 * entry_price, status, current_price once a sync marked it). Its P&L is
 * recomputed here from qty, entry_price and current_price with pnl_mark,
 * never taken from the stored unrealized_pnl, so the figure shown and the
 * total always agree with each other and with docs/pnl.md.
 */
struct figures_mark {
	bool		 open;		/* status "OPEN" */
	bool		 marked;	/* open with a valid current_price */
	struct pnl	 pnl;		/* when marked */
};

/* 0 with *m filled (an unmarked or closed trade is not an error); -1 when
 * the document's own fields (side, qty, entry_price) are malformed. */
int	figures_trade(json_object *doc, struct figures_mark *m,
	    struct tp_err *err);

/*
 * The seed's openShadowTrades / totalUnrealizedPnL: over docs, the open
 * ones (counted in *open), and the sum of the marked ones' P&L, each
 * rounded to the cent first (so the total is the sum of the figures
 * shown), exactly, as text with PNL_PLACES decimals ("0.00" for none).
 * A malformed document is skipped and counted in *bad. -1 only when the
 * sum leaves the decimal range.
 */
int	figures_total(json_object *const *docs, size_t n, size_t *open,
	    size_t *marked, size_t *bad, struct dec *total,
	    struct tp_err *err);

#endif
