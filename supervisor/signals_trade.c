/* signals_trade.c: what a signal does to the tenant's shadow trades: an opposite signal closes them, a confident one opens one. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strategy.h"
#include "supervisor/jobs.h"
#include "supervisor/lifecycle.h"
#include "supervisor/signals.h"

/* [signals] as the lifecycle takes it; the configuration checked them. */
static int
signals_params(const struct config *cfg, struct lifecycle_params *p,
    struct tp_err *err)
{
	const char *const text[] = { cfg->signal_min_confidence,
	    cfg->signal_position_fraction, cfg->signal_stop_loss,
	    cfg->signal_take_profit };
	struct dec *const out[] = { &p->min_confidence,
	    &p->position_fraction, &p->stop_loss, &p->take_profit };
	size_t i;

	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		if (dec_parse(text[i], strlen(text[i]), out[i], err) == -1)
			return -1;
	return lifecycle_params_check(p, err);
}

/* The trades as lifecycle_reverse reads them: borrowed from open. */
static struct store_doc *
signals_docs(json_object *open, size_t *n)
{
	struct store_doc *docs;
	json_object *e;
	const char *path, *slash;
	size_t i, k = 0, len;

	*n = 0;
	len = json_object_is_type(open, json_type_array) ?
	    json_object_array_length(open) : 0;
	if ((docs = calloc(len + 1, sizeof(*docs))) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		e = json_object_array_get_idx(open, i);
		if ((path = json_get_str(e, "path")) == NULL ||
		    (slash = strrchr(path, '/')) == NULL)
			continue;
		docs[k].path = (char *)path;
		docs[k].id = (char *)slash + 1;
		docs[k].data = json_object_object_get(e, "data");
		k++;
	}
	*n = k;
	return docs;
}

int
signals_trade(struct job *job, const struct signal_made *made,
    struct store_batch *sb, const struct config *cfg, json_object *form)
{
	struct lifecycle_params lp;
	struct lifecycle_signal ls;
	enum lifecycle_skip skip = LIFECYCLE_NO_EQUITY;
	struct store_doc *docs;
	struct tp_err err;
	json_object *doc = NULL, *t;
	char price[DEC_TEXT_MAX + 1], equity[DEC_TEXT_MAX + 1], conf[32];
	char tid[AUTO_ID_LEN + 1];
	size_t n, closed = 0, skipped = 0;

	tp_err_clear(&err);
	snprintf(conf, sizeof(conf), "%.4f", made->confidence);
	if (signals_params(cfg, &lp, &err) == -1 ||
	    dec_format(&made->price, price, sizeof(price)) == -1 ||
	    dec_parse(conf, strlen(conf), &ls.confidence, &err) == -1) {
		log_warnx("signal %s of %s: no trade: %s", made->id, made->uid,
		    err.msg);
		return -1;
	}
	ls.action = strategy_action_name(made->action);
	ls.price = price;
	ls.symbol = made->symbol;
	ls.id = made->id;
	/* an opposite signal first closes what it reverses */
	if ((docs = signals_docs(job->signal_open, &n)) == NULL)
		return -1;
	if (lifecycle_reverse(made->uid, &ls, docs, n, made->timestamp, sb,
	    &closed, &skipped, &err) == -1) {
		free(docs);
		log_warnx("signal %s of %s: %s", made->id, made->uid, err.msg);
		return -1;
	}
	free(docs);
	if (skipped > 0)
		log_warnx("signal %s of %s: %zu open trade(s) of %s could not "
		    "be read, and are not reversed", made->id, made->uid,
		    skipped, made->symbol);
	if (made->has_equity &&
	    (dec_format(&made->equity, equity, sizeof(equity)) == -1 ||
	    lifecycle_open(&ls, equity, made->trading_enabled, &lp,
	    made->timestamp, &doc, &skip, &err) == -1)) {
		log_warnx("signal %s of %s: no trade: %s", made->id, made->uid,
		    err.msg);
		return -1;
	}
	if ((t = json_object_new_object()) == NULL) {
		json_object_put(doc);
		return -1;
	}
	json_add(t, "closed", json_object_new_int64((int64_t)closed));
	if (doc != NULL) {
		lifecycle_open_add(sb, made->uid, doc, tid);
		json_object_put(doc);
		json_add(t, "opened", json_object_new_string(tid));
	} else {
		json_add(t, "opened", NULL);
		json_add(t, "reason", json_object_new_string(
		    lifecycle_skip_name(skip)));
	}
	/* the reply says what the signal did; the signal document does not */
	json_add(form, "shadow_trades", t);
	return 0;
}
