/* pnl.h: unrealized profit and loss of an open shadow trade, in exact decimal. */
#ifndef TP_PNL_H
#define TP_PNL_H

#include <stdbool.h>

#include "common/decimal.h"
#include "common/error.h"

#define PNL_SYMBOL_MAX 16	/* longest symbol pnl_valid_symbol accepts */
#define PNL_PLACES     2	/* decimals of pnl (the cent) */
#define PNL_PCT_PLACES 4	/* decimals of pct */

enum pnl_side { PNL_LONG, PNL_SHORT };

/* "long", "buy" -> PNL_LONG; "short", "sell" -> PNL_SHORT; ASCII
 * case-insensitive; anything else (or NULL) -> -1. */
int pnl_side_parse(const char *s, enum pnl_side *side);
/* 1..PNL_SYMBOL_MAX characters of [A-Z0-9./-], the first one A-Z or 0-9. */
bool pnl_valid_symbol(const char *s);

struct pnl {
	struct dec price;	/* the price marked at, exactly as given */
	struct dec pnl;		/* rounded to PNL_PLACES */
	struct dec pct;		/* rounded to PNL_PCT_PLACES */
};

/*
 * long:  pnl = (price - entry) * qty
 * short: pnl = (entry - price) * qty
 * pct = pnl * 100 / (entry * qty), from the exact (unrounded) pnl, which
 *       is the same number as (price - entry) * 100 / entry for a long.
 * Both rounded half away from zero (decimal.h). qty > 0, entry > 0 and
 * price >= 0 are required; a violation or a result out of range is
 * TP_INVALID_ARGUMENT with a message naming the field.
 */
int pnl_mark(enum pnl_side side, const struct dec *qty,
    const struct dec *entry, const struct dec *price, struct pnl *out,
    struct tp_err *err);

#endif
