/* lifecycle.h: a shadow trade's life: opened by a signal, closed at its take-profit or stop-loss level or by an opposite signal. */
#ifndef TP_SUPERVISOR_LIFECYCLE_H
#define TP_SUPERVISOR_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/decimal.h"
#include "common/error.h"
#include "common/pnl.h"
#include "common/store.h"

/*
 * The trading rules a signal is judged by (docs/pnl.md, "Shadow-trade
 * lifecycle"). They come from the [signals] section of the configuration
 * (min_confidence, position_fraction, stop_loss, take_profit); until that
 * section is read, lifecycle_params_default gives the values below.
 */
struct lifecycle_params {
	struct dec	min_confidence;		/* a signal opens a trade only
						   above it; 0..1 */
	struct dec	position_fraction;	/* of equity per trade; (0, 1] */
	struct dec	stop_loss;		/* per cent of entry against the
						   trade; 0: no stop-loss */
	struct dec	take_profit;		/* per cent of entry in its
						   favour; 0: no take-profit */
};

#define LIFECYCLE_QTY_PLACES	6	/* decimals of an opened qty */

/* min_confidence 0.6, position_fraction 0.1, stop_loss 5, take_profit
 * 10. */
void	lifecycle_params_default(struct lifecycle_params *p);
/* 0, or -1 with TP_INVALID_ARGUMENT naming the first value out of its
 * range. */
int	lifecycle_params_check(const struct lifecycle_params *p,
	    struct tp_err *err);

/* A signal as the strategy made it. */
struct lifecycle_signal {
	const char	*action;	/* "BUY", "SELL" or "HOLD" */
	struct dec	 confidence;	/* 0..1 */
	const char	*price;		/* exact decimal text, > 0 */
	const char	*symbol;
	const char	*id;		/* the signal's document id */
};

/* Why lifecycle_open opened nothing. */
enum lifecycle_skip {
	LIFECYCLE_OPENED,
	LIFECYCLE_HOLD,			/* action HOLD */
	LIFECYCLE_LOW_CONFIDENCE,	/* confidence <= min_confidence */
	LIFECYCLE_TRADING_DISABLED,	/* the tenant's kill-switch */
	LIFECYCLE_NO_EQUITY,		/* equity <= 0 */
	LIFECYCLE_TOO_SMALL,		/* the size rounds down to 0 */
};

/*
 * The shadow trade a signal opens, or none. 0 with *doc NULL and *skip
 * saying why when the signal opens nothing; 0 with *doc (the caller's)
 * and *skip LIFECYCLE_OPENED: the document to create under
 * users/{uid}/shadowTradeHistory/{auto id}:
 *   symbol, side ("buy" for BUY, "sell" for SELL), qty (equity *
 *   position_fraction / price, rounded DOWN to LIFECYCLE_QTY_PLACES
 *   decimals), entry_price (the signal's price, exactly), status "OPEN",
 *   created_at (now, a canonical timestamp), signal_id, and the exit
 *   levels fixed at entry: take_profit_price and stop_loss_price (each
 *   left out when its per cent is 0).
 * Numbers are JSON numbers carrying their exact decimal text. -1 with
 * TP_INVALID_ARGUMENT for a malformed signal, equity or params.
 */
int	lifecycle_open(const struct lifecycle_signal *sig, const char *equity,
	    bool trading_enabled, const struct lifecycle_params *p,
	    const char *now, json_object **doc, enum lifecycle_skip *skip,
	    struct tp_err *err);
/* "opened", "hold", "confidence at or below min_confidence", ... */
const char *lifecycle_skip_name(enum lifecycle_skip skip);
/* Adds the CREATE of doc (lifecycle_open's) at a new automatic id under
 * uid's shadowTradeHistory to sb; the id goes to id_out (AUTO_ID_LEN +
 * 1 bytes) when not NULL. */
void	lifecycle_open_add(struct store_batch *sb, const char *uid,
	    json_object *doc, char *id_out);

/* An OPEN trade as a decision needs it. */
struct lifecycle_trade {
	enum pnl_side	side;
	struct dec	qty, entry;
	bool		has_tp, has_sl;
	struct dec	tp, sl;		/* the exit levels, as prices */
};

/*
 * Reads a trade from its fields as stored (or as a JOB carries them):
 * side, qty, entry_price, and take_profit_price / stop_loss_price when
 * present (absent or null: no such level). Strings or numbers. -1 with
 * TP_INVALID_ARGUMENT when one is malformed (qty or entry <= 0, a level
 * <= 0, an unknown side).
 */
int	lifecycle_trade_parse(json_object *t, struct lifecycle_trade *out,
	    struct tp_err *err);

enum lifecycle_close {
	LIFECYCLE_KEEP,
	LIFECYCLE_TAKE_PROFIT,
	LIFECYCLE_STOP_LOSS,
	LIFECYCLE_REVERSAL,
};

/* "take_profit", "stop_loss", "reversal" (a closed trade's close_reason). */
const char *lifecycle_close_name(enum lifecycle_close why);

/*
 * Whether a mark at price closes the trade: a long reaches its
 * take-profit at price >= take_profit_price and its stop-loss at price
 * <= stop_loss_price; a short the other way round. Reaching the level
 * exactly closes. Both reached cannot happen for a well-formed trade; a
 * stop-loss is checked first.
 */
enum lifecycle_close lifecycle_close_check(const struct lifecycle_trade *t,
	    const struct dec *price);

/*
 * The fields a close merges into the trade: exit_price (price, exactly),
 * realized_pnl (pnl_mark's P&L: to the cent, half away from zero),
 * closed_at (now), status "CLOSED" and close_reason. Into doc (a map
 * the caller owns, which may already hold the last mark). 0, or -1 with
 * err.
 */
int	lifecycle_close_fields(const struct lifecycle_trade *t,
	    const struct dec *price, enum lifecycle_close why,
	    const char *now, json_object *doc, struct tp_err *err);

/*
 * An opposite signal reverses: each OPEN trade in trades (documents of
 * uid's shadowTradeHistory, as read) of sig's symbol on the other side
 * (a BUY closes shorts, a SELL longs) gets a MERGE in sb that closes it
 * at the signal's price, close_reason "reversal". HOLD closes nothing. A
 * trade whose fields do not parse is left as it is (counted in
 * *skipped). *closed gets the count of closes added. -1 with err for a
 * malformed signal or out of memory.
 */
int	lifecycle_reverse(const char *uid, const struct lifecycle_signal *sig,
	    const struct store_doc *trades, size_t ntrades, const char *now,
	    struct store_batch *sb, size_t *closed, size_t *skipped,
	    struct tp_err *err);

#endif
