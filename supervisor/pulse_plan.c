/* pulse_plan.c: a pulse's plan: the tenants listed, checked in chunks on the store threads, their trades and symbols. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "common/store.h"
#include "supervisor/jobs.h"
#include "supervisor/policy.h"
#include "supervisor/pulse_plan.h"
#include "supervisor/trades.h"

#define PULSE_PAGE		10000	/* tenants listed at once */
#define PULSE_CHUNKS_MAX	8	/* plan chunks at once */
#define PULSE_CHUNK_MIN		256	/* tenants in a plan chunk, at least */

void
pulse_plan_free(struct jobs_work *w)
{
	struct pulse_plan *pl = (struct pulse_plan *)w;
	size_t i;

	for (i = 0; i < pl->nt; i++) {
		free(pl->t[i].uid);
		free(pl->t[i].trades);
		free(pl->t[i].keys_doc);
	}
	store_strings_free(pl->uids, pl->nuids);
	free(pl->t);
	json_object_put(pl->symbols);
	free(pl);
}

/* Plan (store thread) */

static int
pulse_plan_add(struct pulse_plan *pl, const char *uid, char *trades,
    char *keys_doc)
{
	struct pulse_tenant *t;
	size_t cap;

	if (pl->nt == pl->cap) {
		cap = pl->cap == 0 ? 256 : pl->cap * 2;
		if ((t = reallocarray(pl->t, cap, sizeof(*t))) == NULL)
			return -1;
		pl->t = t;
		pl->cap = cap;
	}
	if ((pl->t[pl->nt].uid = strdup(uid)) == NULL)
		return -1;
	pl->t[pl->nt].keys_doc = keys_doc;
	pl->t[pl->nt++].trades = trades;
	return 0;
}

/* Lists every tenant (the first plan's work). */
static void
pulse_list_work(struct store *st, void *arg)
{
	struct pulse_plan *pl = arg;
	char **uids = NULL, **all, *after = NULL;
	size_t n = 0, cap = 0;

	pl->rc = -1;
	for (;;) {
		if (store_list_tenants(st, PULSE_PAGE, after, &uids, &n,
		    &pl->err) == -1)
			goto out;
		if (pl->nuids + n > cap) {
			cap = (pl->nuids + n) * 2;
			if ((all = reallocarray(pl->uids, cap,
			    sizeof(*all))) == NULL) {
				tp_err_set(&pl->err, TP_RESOURCE_EXHAUSTED,
				    "out of memory planning the pulse");
				goto out;
			}
			pl->uids = all;
		}
		memcpy(pl->uids + pl->nuids, uids, n * sizeof(*uids));
		pl->nuids += n;
		free(after);
		after = n == PULSE_PAGE ? strdup(uids[n - 1]) : NULL;
		free(uids);		/* the strings moved to pl->uids */
		uids = NULL;
		if (after == NULL)
			break;
	}
	pl->rc = 0;
out:
	store_strings_free(uids, n);
	free(after);
}

/* Checks a chunk of the tenants: skip or sync, keys, open trades. */
static void
pulse_chunk_work(struct store *st, void *arg)
{
	struct pulse_plan *pl = arg;
	char **uids = pl->master->uids;
	enum policy_block why;
	struct tp_err terr;
	char *trades, *keys_doc;
	size_t i, ntr;
	bool more;
	int rc;

	pl->rc = 0;
	for (i = pl->from; i < pl->to; i++) {
		tp_err_clear(&terr);
		rc = policy_tenant_blocked(st, uids[i], &why, &keys_doc, &terr);
		if (rc == 1) {
			switch (why) {
			case POLICY_MISSING:	/* gone meanwhile */
				continue;
			case POLICY_DISABLED:
				pl->skipped_disabled++;
				break;
			case POLICY_NO_KEYS:
				pl->skipped_no_keys++;
				break;
			case POLICY_QUARANTINED:
				pl->skipped_quarantined++;
				break;
			case POLICY_RUNNABLE:
				break;
			}
			pl->users_total++;
			continue;
		}
		pl->users_total++;
		trades = NULL;
		/* a store error for one tenant: its job reads again at
		 * dispatch, and fails there if it must */
		if (rc == 0 && trades_read(st, uids[i], &trades, &ntr, &more,
		    pl->symbols, &terr) == 0) {
			pl->trades += ntr;
			if (more)
				pl->capped++;
		}
		if (pulse_plan_add(pl, uids[i], trades, keys_doc) == -1) {
			free(trades);
			free(keys_doc);
			pl->rc = tp_err_set(&pl->err, TP_RESOURCE_EXHAUSTED,
			    "out of memory planning the pulse");
			return;
		}
	}
}

static void
pulse_chunk_free(struct jobs_work *w)
{
	pulse_plan_free(w);
}

/* A chunk has ended: its tenants, counts and symbols join the plan. */
static void
pulse_chunk_done(void *arg)
{
	struct pulse_plan *c = arg, *pl = c->master;
	struct json_object_iterator it, end;
	struct pulse_tenant *t;
	size_t i;

	jobs_work_done(c->j, &c->hdr);
	if (c->rc == -1 && pl->rc != -1) {
		pl->rc = -1;
		pl->err = c->err;
	}
	if (pl->nt + c->nt > pl->cap) {
		if ((t = reallocarray(pl->t, pl->nt + c->nt,
		    sizeof(*t))) == NULL) {
			if (pl->rc != -1)
				pl->rc = tp_err_set(&pl->err,
				    TP_RESOURCE_EXHAUSTED, "out of memory "
				    "planning the pulse");
		} else {
			pl->t = t;
			pl->cap = pl->nt + c->nt;
		}
	}
	if (pl->nt + c->nt <= pl->cap) {
		memcpy(pl->t + pl->nt, c->t, c->nt * sizeof(*c->t));
		pl->nt += c->nt;
		c->nt = 0;	/* the strings moved */
	}
	pl->users_total += c->users_total;
	pl->skipped_disabled += c->skipped_disabled;
	pl->skipped_no_keys += c->skipped_no_keys;
	pl->skipped_quarantined += c->skipped_quarantined;
	pl->trades += c->trades;
	pl->capped += c->capped;
	it = json_object_iter_begin(c->symbols);
	end = json_object_iter_end(c->symbols);
	for (i = 0; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it), i++)
		if (!json_object_object_get_ex(pl->symbols,
		    json_object_iter_peek_name(&it), NULL))
			json_object_object_add(pl->symbols,
			    json_object_iter_peek_name(&it), NULL);
	pulse_chunk_free(&c->hdr);
	if (--pl->pending == 0 && pl->arg != NULL)
		pl->done(pl, pl->arg);
}

/* The list is in: the chunks go to the store threads. */
static void
pulse_list_done(void *arg)
{
	struct pulse_plan *pl = arg, *c;
	struct tp_err err;
	size_t k, n, per;

	jobs_work_done(pl->j, &pl->hdr);
	if (pl->arg == NULL) {		/* the pulse is gone */
		pulse_plan_free(&pl->hdr);
		return;
	}
	pl->listed = true;
	if (pl->rc == -1 || pl->nuids == 0) {
		pl->done(pl, pl->arg);
		return;
	}
	n = pl->threads > 0 ? pl->threads : 1;
	if (n > PULSE_CHUNKS_MAX)
		n = PULSE_CHUNKS_MAX;
	if (n > (pl->nuids + PULSE_CHUNK_MIN - 1) / PULSE_CHUNK_MIN)
		n = (pl->nuids + PULSE_CHUNK_MIN - 1) / PULSE_CHUNK_MIN;
	per = (pl->nuids + n - 1) / n;
	for (k = 0; k * per < pl->nuids; k++) {
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory");
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->symbols = json_object_new_object()) == NULL) {
			free(c);
			goto fail;
		}
		c->hdr.free = pulse_chunk_free;
		c->j = pl->j;
		c->arg = pl->arg;
		c->master = pl;
		c->from = k * per;
		c->to = c->from + per < pl->nuids ? c->from + per : pl->nuids;
		if (jobs_work_submit(pl->j, &c->hdr, pulse_chunk_work,
		    pulse_chunk_done, &err) == -1) {
			pulse_plan_free(&c->hdr);
			goto fail;
		}
		pl->pending++;
	}
	return;
fail:
	/* the chunks already out still merge; then the plan fails */
	pl->rc = tp_err_set(&pl->err, err.code, "%s", err.msg);
	if (pl->pending == 0)
		pl->done(pl, pl->arg);
}

struct pulse_plan *
pulse_plan_start(struct jobs *j, unsigned threads,
    void (*done)(struct pulse_plan *, void *), void *arg, struct tp_err *err)
{
	struct pulse_plan *pl;

	if ((pl = calloc(1, sizeof(*pl))) == NULL ||
	    (pl->symbols = json_object_new_object()) == NULL) {
		free(pl);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	pl->hdr.free = pulse_plan_free;
	pl->j = j;
	pl->threads = threads;
	pl->done = done;
	pl->arg = arg;
	if (jobs_work_submit(j, &pl->hdr, pulse_list_work, pulse_list_done,
	    err) == -1) {
		pulse_plan_free(&pl->hdr);
		return NULL;
	}
	return pl;
}

void
pulse_plan_release(struct pulse_plan *pl)
{
	if (pl == NULL)
		return;
	if (pl->listed)
		pulse_plan_free(&pl->hdr);
	else
		pl->arg = NULL;	/* still on a store thread: its free comes
				   with the job layer's work */
}
