/* lifecycle.c: a shadow trade's life: opened by a signal, closed at its take-profit or stop-loss level or by an opposite signal. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/path.h"
#include "supervisor/lifecycle.h"

#define LIFECYCLE_PATH_MAX	(PATH_MAX_LEN + 1)

static const struct dec lifecycle_one = { 1, 0 };
static const struct dec lifecycle_hundred = { 100, 0 };

void
lifecycle_params_default(struct lifecycle_params *p)
{
	p->min_confidence = (struct dec){ 6, 1 };
	p->position_fraction = (struct dec){ 1, 1 };
	p->stop_loss = (struct dec){ 5, 0 };
	p->take_profit = (struct dec){ 10, 0 };
}

int
lifecycle_params_check(const struct lifecycle_params *p, struct tp_err *err)
{
	if (dec_sign(&p->min_confidence) < 0 ||
	    dec_cmp(&p->min_confidence, &lifecycle_one) > 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "min_confidence must be from 0 to 1");
	if (dec_sign(&p->position_fraction) <= 0 ||
	    dec_cmp(&p->position_fraction, &lifecycle_one) > 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "position_fraction must be above 0 and at most 1");
	/* at 100 % a stop-loss (long) or take-profit (short) would sit at
	 * a price of 0, which no trade reaches */
	if (dec_sign(&p->stop_loss) < 0 ||
	    dec_cmp(&p->stop_loss, &lifecycle_hundred) >= 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "stop_loss must be from 0 to below 100 (per cent)");
	if (dec_sign(&p->take_profit) < 0 ||
	    dec_cmp(&p->take_profit, &lifecycle_hundred) >= 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "take_profit must be from 0 to below 100 (per cent)");
	return 0;
}

const char *
lifecycle_skip_name(enum lifecycle_skip skip)
{
	switch (skip) {
	case LIFECYCLE_OPENED:
		return "opened";
	case LIFECYCLE_HOLD:
		return "the signal is HOLD";
	case LIFECYCLE_LOW_CONFIDENCE:
		return "confidence at or below min_confidence";
	case LIFECYCLE_TRADING_DISABLED:
		return "trading is disabled";
	case LIFECYCLE_NO_EQUITY:
		return "no equity";
	case LIFECYCLE_TOO_SMALL:
		return "the position rounds down to 0 shares";
	}
	return "?";
}

const char *
lifecycle_close_name(enum lifecycle_close why)
{
	switch (why) {
	case LIFECYCLE_TAKE_PROFIT:
		return "take_profit";
	case LIFECYCLE_STOP_LOSS:
		return "stop_loss";
	case LIFECYCLE_REVERSAL:
		return "reversal";
	case LIFECYCLE_KEEP:
		break;
	}
	return "keep";
}

/* Drops trailing zeros of the decimals: the same value, shorter text. */
static void
lifecycle_trim(struct dec *d)
{
	while (d->scale > 0 && d->m % 10 == 0) {
		d->m /= 10;
		d->scale--;
	}
}

/* x * pct / 100, exact whenever it fits 30 decimals. */
static int
lifecycle_percent_of(const struct dec *x, const struct dec *pct,
    struct dec *out, struct tp_err *err)
{
	struct dec prod;
	int places;

	if (dec_mul(x, pct, &prod, err) == -1)
		return -1;
	places = prod.scale + 2 > DEC_SCALE_MAX ? DEC_SCALE_MAX :
	    prod.scale + 2;
	if (dec_div(&prod, &lifecycle_hundred, places, out, err) == -1)
		return -1;
	lifecycle_trim(out);
	return 0;
}

/* The exit levels of a trade opened at entry: a move of take_profit per
 * cent in its favour, of stop_loss per cent against it. */
static int
lifecycle_levels(enum pnl_side side, const struct dec *entry,
    const struct lifecycle_params *p, struct dec *tp, struct dec *sl,
    struct tp_err *err)
{
	struct dec up, down;

	if (lifecycle_percent_of(entry, &p->take_profit, &up, err) == -1 ||
	    lifecycle_percent_of(entry, &p->stop_loss, &down, err) == -1)
		return -1;
	if (side == PNL_LONG)
		return dec_add(entry, &up, tp, err) == -1 ||
		    dec_sub(entry, &down, sl, err) == -1 ? -1 : 0;
	return dec_sub(entry, &up, tp, err) == -1 ||
	    dec_add(entry, &down, sl, err) == -1 ? -1 : 0;
}

/* Adds a decimal as a JSON number with its exact text. */
static int
lifecycle_add_dec(json_object *o, const char *key, const struct dec *d)
{
	json_object *v;

	if ((v = dec_to_json_number(d)) == NULL)
		return -1;
	return json_add(o, key, v);
}

static int
lifecycle_add_str(json_object *o, const char *key, const char *s)
{
	json_object *v;

	if ((v = json_object_new_string(s)) == NULL)
		return -1;
	return json_add(o, key, v);
}

/* equity * fraction / price rounded down to LIFECYCLE_QTY_PLACES. */
static int
lifecycle_qty(const struct dec *equity, const struct dec *fraction,
    const struct dec *price, struct dec *qty, struct tp_err *err)
{
	struct dec budget, cost, ulp = { 1, LIFECYCLE_QTY_PLACES };

	if (dec_mul(equity, fraction, &budget, err) == -1 ||
	    dec_div(&budget, price, LIFECYCLE_QTY_PLACES, qty, err) == -1 ||
	    dec_mul(qty, price, &cost, err) == -1)
		return -1;
	/* dec_div rounds half away from zero: at most half a unit up,
	 * so one unit down is the floor; a position never costs more
	 * than its share of equity */
	if (dec_cmp(&cost, &budget) > 0 && dec_sub(qty, &ulp, qty, err) == -1)
		return -1;
	return 0;
}

int
lifecycle_open(const struct lifecycle_signal *sig, const char *equity_s,
    bool trading_enabled, const struct lifecycle_params *p, const char *now,
    json_object **doc, enum lifecycle_skip *skip, struct tp_err *err)
{
	struct dec price, equity, qty, tp, sl;
	enum pnl_side side;
	json_object *d;

	*doc = NULL;
	*skip = LIFECYCLE_OPENED;
	if (lifecycle_params_check(p, err) == -1)
		return -1;
	if (sig->action == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the signal has no action");
	if (strcmp(sig->action, "HOLD") == 0) {
		*skip = LIFECYCLE_HOLD;
		return 0;
	}
	if (strcmp(sig->action, "BUY") == 0)
		side = PNL_LONG;
	else if (strcmp(sig->action, "SELL") == 0)
		side = PNL_SHORT;
	else
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "action must be BUY, SELL or HOLD");
	if (dec_sign(&sig->confidence) < 0 ||
	    dec_cmp(&sig->confidence, &lifecycle_one) > 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "confidence must be from 0 to 1");
	if (!pnl_valid_symbol(sig->symbol))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the signal's symbol is not a symbol");
	if (sig->id == NULL || *sig->id == '\0' || strchr(sig->id, '/') !=
	    NULL || strlen(sig->id) > 128)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the signal's id must be 1 to 128 characters, no '/'");
	if (sig->price == NULL || dec_parse(sig->price, strlen(sig->price),
	    &price, err) == -1 || dec_sign(&price) <= 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the signal's price must be a decimal above 0");
	if (equity_s == NULL || dec_parse(equity_s, strlen(equity_s), &equity,
	    err) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "equity must be a decimal number");
	if (dec_cmp(&sig->confidence, &p->min_confidence) <= 0) {
		*skip = LIFECYCLE_LOW_CONFIDENCE;
		return 0;
	}
	if (!trading_enabled) {
		*skip = LIFECYCLE_TRADING_DISABLED;
		return 0;
	}
	if (dec_sign(&equity) <= 0) {
		*skip = LIFECYCLE_NO_EQUITY;
		return 0;
	}
	if (lifecycle_qty(&equity, &p->position_fraction, &price, &qty,
	    err) == -1 || lifecycle_levels(side, &price, p, &tp, &sl, err) == -1)
		return -1;
	if (dec_sign(&qty) <= 0) {
		*skip = LIFECYCLE_TOO_SMALL;
		return 0;
	}
	lifecycle_trim(&qty);
	if ((d = json_object_new_object()) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	if (lifecycle_add_str(d, "symbol", sig->symbol) == -1 ||
	    lifecycle_add_str(d, "side", side == PNL_LONG ? "buy" : "sell") ==
	    -1 || lifecycle_add_dec(d, "qty", &qty) == -1 ||
	    lifecycle_add_dec(d, "entry_price", &price) == -1 ||
	    lifecycle_add_str(d, "status", "OPEN") == -1 ||
	    lifecycle_add_str(d, "created_at", now) == -1 ||
	    lifecycle_add_str(d, "signal_id", sig->id) == -1 ||
	    (dec_sign(&p->take_profit) > 0 && lifecycle_add_dec(d,
	    "take_profit_price", &tp) == -1) ||
	    (dec_sign(&p->stop_loss) > 0 && lifecycle_add_dec(d,
	    "stop_loss_price", &sl) == -1)) {
		json_object_put(d);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	*doc = d;
	return 0;
}

void
lifecycle_open_add(struct store_batch *sb, const char *uid, json_object *doc,
    char *id_out)
{
	char id[AUTO_ID_LEN + 1], path[LIFECYCLE_PATH_MAX];

	path_auto_id(id);
	snprintf(path, sizeof(path), "users/%s/shadowTradeHistory/%s", uid,
	    id);
	store_batch_add(sb, STORE_W_CREATE, path, doc);
	if (id_out != NULL)
		memcpy(id_out, id, sizeof(id));
}

/* A positive decimal field; absent or null: *present false. */
static int
lifecycle_field(json_object *t, const char *key, bool required,
    struct dec *out, bool *present, struct tp_err *err)
{
	json_object *v;

	*present = json_object_object_get_ex(t, key, &v) && v != NULL;
	if (!*present)
		return required ? tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s is missing", key) : 0;
	if (dec_from_json(v, out, err) == -1 || dec_sign(out) <= 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s must be a decimal above 0", key);
	return 0;
}

int
lifecycle_trade_parse(json_object *t, struct lifecycle_trade *out,
    struct tp_err *err)
{
	bool present;

	memset(out, 0, sizeof(*out));
	if (t == NULL || !json_object_is_type(t, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "a trade must be a map");
	if (pnl_side_parse(json_get_str(t, "side"), &out->side) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "side is not long, short, buy or sell");
	if (lifecycle_field(t, "qty", true, &out->qty, &present, err) == -1 ||
	    lifecycle_field(t, "entry_price", true, &out->entry, &present,
	    err) == -1 ||
	    lifecycle_field(t, "take_profit_price", false, &out->tp,
	    &out->has_tp, err) == -1 ||
	    lifecycle_field(t, "stop_loss_price", false, &out->sl,
	    &out->has_sl, err) == -1)
		return -1;
	return 0;
}

enum lifecycle_close
lifecycle_close_check(const struct lifecycle_trade *t, const struct dec *price)
{
	/* the sign a move in the trade's favour has: up for a long */
	int favour = t->side == PNL_LONG ? 1 : -1;

	if (dec_sign(price) <= 0)
		return LIFECYCLE_KEEP;	/* no price is no reason to close */
	if (t->has_sl && dec_cmp(price, &t->sl) * favour <= 0)
		return LIFECYCLE_STOP_LOSS;
	if (t->has_tp && dec_cmp(price, &t->tp) * favour >= 0)
		return LIFECYCLE_TAKE_PROFIT;
	return LIFECYCLE_KEEP;
}

int
lifecycle_close_fields(const struct lifecycle_trade *t, const struct dec *price,
    enum lifecycle_close why, const char *now, json_object *doc,
    struct tp_err *err)
{
	struct pnl pl;

	if (why == LIFECYCLE_KEEP)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "no reason to close the trade");
	if (pnl_mark(t->side, &t->qty, &t->entry, price, &pl, err) == -1)
		return -1;
	if (lifecycle_add_dec(doc, "exit_price", price) == -1 ||
	    lifecycle_add_dec(doc, "realized_pnl", &pl.pnl) == -1 ||
	    lifecycle_add_str(doc, "closed_at", now) == -1 ||
	    lifecycle_add_str(doc, "status", "CLOSED") == -1 ||
	    lifecycle_add_str(doc, "close_reason",
	    lifecycle_close_name(why)) == -1)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

int
lifecycle_reverse(const char *uid, const struct lifecycle_signal *sig,
    const struct store_doc *trades, size_t ntrades, const char *now,
    struct store_batch *sb, size_t *closed, size_t *skipped,
    struct tp_err *err)
{
	struct lifecycle_trade t;
	struct tp_err terr;
	enum pnl_side closes;
	struct dec price;
	json_object *d;
	const char *s;
	char path[LIFECYCLE_PATH_MAX];
	size_t i;

	*closed = 0;
	*skipped = 0;
	if (sig->action == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the signal has no action");
	if (strcmp(sig->action, "HOLD") == 0)
		return 0;
	if (strcmp(sig->action, "BUY") == 0)
		closes = PNL_SHORT;
	else if (strcmp(sig->action, "SELL") == 0)
		closes = PNL_LONG;
	else
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "action must be BUY, SELL or HOLD");
	if (!pnl_valid_symbol(sig->symbol))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the signal's symbol is not a symbol");
	if (sig->price == NULL || dec_parse(sig->price, strlen(sig->price),
	    &price, err) == -1 || dec_sign(&price) <= 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the signal's price must be a decimal above 0");
	for (i = 0; i < ntrades; i++) {
		if ((s = json_get_str(trades[i].data, "status")) == NULL ||
		    strcmp(s, "OPEN") != 0 ||
		    (s = json_get_str(trades[i].data, "symbol")) == NULL ||
		    strcmp(s, sig->symbol) != 0)
			continue;
		tp_err_clear(&terr);
		if (lifecycle_trade_parse(trades[i].data, &t, &terr) == -1) {
			/* a side we cannot read may be either; a bad qty
			 * has no P&L: left for a person to look at */
			(*skipped)++;
			continue;
		}
		if (t.side != closes)
			continue;
		if ((d = json_object_new_object()) == NULL)
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		if (lifecycle_close_fields(&t, &price, LIFECYCLE_REVERSAL, now,
		    d, &terr) == -1) {
			json_object_put(d);
			if (terr.code == TP_RESOURCE_EXHAUSTED) {
				*err = terr;
				return -1;
			}
			(*skipped)++;
			continue;
		}
		snprintf(path, sizeof(path), "users/%s/shadowTradeHistory/%s",
		    uid, trades[i].id);
		store_batch_add_ref(sb, STORE_W_MERGE, path, d);
		json_object_put(d);
		(*closed)++;
	}
	return 0;
}
