/* pnl.c: marks an open shadow trade to a price: unrealized P&L and its percentage. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/pnl.h"

#include <string.h>
#include <strings.h>

int
pnl_side_parse(const char *s, enum pnl_side *side)
{
	if (s == NULL)
		return -1;
	if (strcasecmp(s, "long") == 0 || strcasecmp(s, "buy") == 0) {
		*side = PNL_LONG;
		return 0;
	}
	if (strcasecmp(s, "short") == 0 || strcasecmp(s, "sell") == 0) {
		*side = PNL_SHORT;
		return 0;
	}
	return -1;
}

static bool
pnl_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool
pnl_valid_symbol(const char *s)
{
	size_t i;

	if (s == NULL || !pnl_alnum(s[0]))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == PNL_SYMBOL_MAX)
			return false;
		if (!pnl_alnum(s[i]) && s[i] != '.' && s[i] != '-' &&
		    s[i] != '/')
			return false;
	}
	return true;
}

int
pnl_mark(enum pnl_side side, const struct dec *qty, const struct dec *entry,
    const struct dec *price, struct pnl *out, struct tp_err *err)
{
	struct dec diff, exact, pnl, pct;

	if (dec_sign(qty) <= 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "qty must be greater than zero");
	if (dec_sign(entry) <= 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "entry_price must be greater than zero");
	if (dec_sign(price) < 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "price must not be negative");
	/* the per-share gain: what a long earns when the price rises, and
	 * what a short earns when it falls */
	if ((side == PNL_LONG ? dec_sub(price, entry, &diff, err) :
	    dec_sub(entry, price, &diff, err)) == -1 ||
	    dec_mul(&diff, qty, &exact, err) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "P&L out of range");
	dec_round(&exact, PNL_PLACES, &pnl);
	if (pnl.scale != PNL_PLACES)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "P&L out of range");
	/*
	 * pct = exact * 100 / (entry * qty). qty cancels, so this is
	 * diff * 100 / entry exactly, computed without forming either
	 * product (neither can overflow). Rounding x * 100 to 4 places is
	 * rounding x to 6 places and moving the point: same grid, same
	 * half-way cases.
	 */
	if (dec_div(&diff, entry, PNL_PCT_PLACES + 2, &pct, err) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "P&L percentage out of range");
	pct.scale -= 2;
	out->price = *price;
	out->pnl = pnl;
	out->pct = pct;
	return 0;
}
