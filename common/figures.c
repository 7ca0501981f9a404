/* figures.c: the dashboard's derived figures: an open trade's unrealized P&L and the open trades' total, exact to the cent. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <string.h>

#include "common/figures.h"
#include "common/jsonutil.h"

/* A decimal field: 1 present and valid, 0 absent or null, -1 malformed. */
static int
figures_field(json_object *doc, const char *key, struct dec *d,
    struct tp_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(doc, key, &v) || v == NULL)
		return 0;
	if (dec_from_json(v, d, err) == -1) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "%s: %s", key, err->msg);
		return -1;
	}
	return 1;
}

int
figures_trade(json_object *doc, struct figures_mark *m, struct tp_err *err)
{
	struct dec qty, entry, price;
	enum pnl_side side;
	const char *status;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!json_object_is_type(doc, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "a trade is not an object");
	status = json_get_str(doc, "status");
	m->open = status != NULL && strcmp(status, "OPEN") == 0;
	if (!m->open)
		return 0;
	if (pnl_side_parse(json_get_str(doc, "side"), &side) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "side: not buy "
		    "or sell");
	if (figures_field(doc, "qty", &qty, err) != 1 ||
	    figures_field(doc, "entry_price", &entry, err) != 1) {
		if (err != NULL && err->code == TP_OK)
			tp_err_set(err, TP_INVALID_ARGUMENT,
			    "qty and entry_price are required");
		return -1;
	}
	if ((rc = figures_field(doc, "current_price", &price, err)) == -1)
		return -1;
	if (rc == 0)
		return 0;
	if (pnl_mark(side, &qty, &entry, &price, &m->pnl, err) == -1)
		return -1;
	m->marked = true;
	return 0;
}

int
figures_total(json_object *const *docs, size_t n, size_t *open,
    size_t *marked, size_t *bad, struct dec *total, struct tp_err *err)
{
	struct figures_mark m;
	struct tp_err why;
	size_t i;

	*open = *marked = *bad = 0;
	dec_from_int(0, total);
	dec_round(total, PNL_PLACES, total);
	for (i = 0; i < n; i++) {
		tp_err_clear(&why);
		if (figures_trade(docs[i], &m, &why) == -1) {
			/* open or not, it cannot be shown with a figure */
			(*bad)++;
			continue;
		}
		if (!m.open)
			continue;
		(*open)++;
		if (!m.marked)
			continue;
		if (dec_add(total, &m.pnl.pnl, total, err) == -1)
			return -1;
		(*marked)++;
	}
	dec_round(total, PNL_PLACES, total);
	return 0;
}
