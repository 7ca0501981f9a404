/* pulse_plan.c: a pulse's plan: the tenants listed, checked in chunks on the store threads, their trades and symbols. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/store.h"
#include "common/wire.h"
#include "supervisor/jobs.h"
#include "supervisor/policy.h"
#include "supervisor/pulse_plan.h"
#include "supervisor/tenant_store.h"
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
		if (n > 0)
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

/*
 * A chunk is read in bulk, so that a remote store answers it in a few
 * requests: the three documents of policy_tenant_decide for a slice of
 * tenants at once, then the OPEN trades of all the chunk's tenants with
 * one paged collection-group query. The decisions and each tenant's
 * trades are exactly those of policy_tenant_blocked and trades_read,
 * which still answer for a tenant the bulk reads cannot: after a failed
 * read, and for a tenant with more trades than a JOB carries.
 */
#define PULSE_SLICE	(STORE_GET_MANY_MAX / POLICY_DOCS)	/* tenants */
#define PULSE_TRADES_PAGE 1000	/* trades of one group query page */

/* What the chunk knows of one of its tenants. */
struct pulse_check {
	int		 rc;		/* policy_tenant_blocked's answer */
	enum policy_block why;
	char		*keys_doc;
	enum {
		PULSE_TR_NONE,		/* none seen (yet) */
		PULSE_TR_READ,		/* trades, ntr, more are its own */
		PULSE_TR_ALONE,		/* trades_read answers for it */
	} tr;
	char		*trades;
	size_t		 ntr;
	bool		 more;
};

/* The decisions for uids[from..to) into ck[0..), a slice at a time. */
static void
pulse_chunk_decide(struct store *st, char **uids, size_t from, size_t to,
    struct pulse_check *ck)
{
	char (*paths)[POLICY_PATH_MAX] = NULL;
	const char **p = NULL;
	struct store_doc *docs = NULL;
	struct tp_err terr;
	size_t i, k, n;
	int exists;

	if ((paths = calloc(PULSE_SLICE * POLICY_DOCS, sizeof(*paths))) ==
	    NULL || (p = calloc(PULSE_SLICE * POLICY_DOCS, sizeof(*p))) ==
	    NULL || (docs = calloc(PULSE_SLICE * POLICY_DOCS,
	    sizeof(*docs))) == NULL)
		n = 0;		/* no memory for bulk: one by one below */
	else
		n = PULSE_SLICE;
	for (i = from; i < to; i += n > 0 ? n : to - from) {
		size_t m = n == 0 ? 0 : (to - i < n ? to - i : n);

		for (k = 0; k < m * POLICY_DOCS; k++) {
			policy_doc_path(paths[k], sizeof(paths[k]),
			    uids[i + k / POLICY_DOCS],
			    (enum policy_doc)(k % POLICY_DOCS));
			p[k] = paths[k];
		}
		tp_err_clear(&terr);
		if (m == 0 || store_get_many(st, p, m * POLICY_DOCS, docs,
		    &terr) == -1) {
			/* each tenant on its own, as before the bulk read */
			for (k = i; k < (m == 0 ? to : i + m); k++) {
				tp_err_clear(&terr);
				ck[k - from].rc = policy_tenant_blocked(st,
				    uids[k], &ck[k - from].why,
				    &ck[k - from].keys_doc, &terr);
			}
			continue;
		}
		for (k = 0; k < m; k++) {
			struct store_doc *d = &docs[k * POLICY_DOCS];
			struct pulse_check *c = &ck[i + k - from];

			tp_err_clear(&terr);
			exists = 1;
			if (d[POLICY_DOC_QUARANTINE].data == NULL &&
			    d[POLICY_DOC_TRADING].data == NULL &&
			    d[POLICY_DOC_KEYS].data == NULL)
				exists = tenant_exists(st, uids[i + k], &terr);
			if (exists == -1)
				c->rc = -1;
			else
				c->rc = policy_tenant_decide(uids[i + k],
				    d[POLICY_DOC_QUARANTINE].data,
				    d[POLICY_DOC_TRADING].data,
				    d[POLICY_DOC_KEYS].data, exists == 1,
				    &c->why, &c->keys_doc, &terr);
		}
		for (k = 0; k < m * POLICY_DOCS; k++)
			store_doc_clear(&docs[k]);
	}
	free(docs);
	free(p);
	free(paths);
}

/* Whether v is a timestamp in the store's canonical form, whose byte
 * order is its time order on every backend. */
static bool
pulse_canonical_time(json_object *v)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	const char *s;
	size_t i;

	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != sizeof(form) - 1)
		return false;
	s = json_object_get_string(v);
	for (i = 0; i < sizeof(form) - 1; i++)
		if (form[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != form[i])
			return false;
	return true;
}

/* trades_read's order: created_at ascending, then id. */
static int
pulse_trade_cmp(const void *a, const void *b)
{
	const struct store_doc *x = a, *y = b;
	json_object *tx, *ty;
	int c;

	json_object_object_get_ex(x->data, "created_at", &tx);
	json_object_object_get_ex(y->data, "created_at", &ty);
	if ((c = strcmp(json_object_get_string(tx),
	    json_object_get_string(ty))) != 0)
		return c;
	return strcmp(x->id, y->id);
}

/* The trades gathered for one tenant. */
struct pulse_acc {
	struct store_doc	*docs;
	size_t			 n, cap;
};

static void
pulse_acc_clear(struct pulse_acc *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		store_doc_clear(&a->docs[i]);
	a->n = 0;
}

/* Tenant c has all its trades in a: ordered and made its JOB's text. */
static void
pulse_acc_end(struct pulse_plan *pl, struct pulse_acc *a,
    struct pulse_check *c)
{
	struct tp_err terr;

	if (c->tr == PULSE_TR_NONE || c->tr == PULSE_TR_READ) {
		if (a->n > 1)
			qsort(a->docs, a->n, sizeof(*a->docs),
			    pulse_trade_cmp);
		if (trades_text(a->docs, a->n, &c->trades, &c->ntr, &c->more,
		    pl->symbols, &terr) == 0)
			c->tr = PULSE_TR_READ;
		else
			c->tr = PULSE_TR_ALONE;
	}
	pulse_acc_clear(a);
}

/*
 * Takes one OPEN trade of tenant c (doc, moved into a when kept). A trade
 * past the cap, or whose created_at bytes might not be its order, leaves
 * the tenant to trades_read (c->tr PULSE_TR_ALONE).
 */
static void
pulse_acc_add(struct pulse_acc *a, struct pulse_check *c,
    struct store_doc *doc)
{
	struct store_doc *d;
	json_object *at;
	size_t cap;

	c->tr = PULSE_TR_READ;
	/* as trades_read: ordering by created_at leaves out trades without */
	if (!json_object_object_get_ex(doc->data, "created_at", &at))
		return;
	if (!pulse_canonical_time(at) || a->n == TRADES_JOB_MAX)
		goto alone;
	if (a->n == a->cap) {
		cap = a->cap == 0 ? 16 : a->cap * 2;
		if ((d = reallocarray(a->docs, cap, sizeof(*d))) == NULL)
			goto alone;
		a->docs = d;
		a->cap = cap;
	}
	a->docs[a->n++] = *doc;
	memset(doc, 0, sizeof(*doc));
	return;
alone:
	c->tr = PULSE_TR_ALONE;
	pulse_acc_clear(a);
}

/*
 * The OPEN trades of the chunk's runnable tenants, by one group query
 * over its uids, paged. A tenant past the cap is left to trades_read,
 * and the query goes on from the next tenant. -1 when the query failed:
 * then the tenants not done are left to trades_read.
 */
static int
pulse_chunk_trades(struct store *st, struct pulse_plan *pl, char **uids,
    struct pulse_check *ck)
{
	struct store_group_query q;
	struct store_doclist list = { NULL, 0 };
	struct pulse_acc acc = { NULL, 0, 0 };
	struct tp_err terr;
	json_object *open;
	char uid[UID_MAX_LEN + 1], after[PATH_MAX_LEN + 1];
	size_t i, k = 0, m = pl->to - pl->from, cur = SIZE_MAX;
	int rc = -1;
	bool skip;

	if ((open = json_object_new_string("OPEN")) == NULL)
		return -1;
	memset(&q, 0, sizeof(q));
	q.collection_id = "shadowTradeHistory";
	q.where_field = "status";
	q.where_value = open;
	q.from_uid = uids[pl->from];
	q.to_uid = pl->to < pl->master->nuids ? uids[pl->to] : NULL;
	q.limit = PULSE_TRADES_PAGE;
	for (;;) {
		if (store_query_group(st, &q, &list, &terr) == -1)
			goto out;
		skip = false;
		for (i = 0; i < list.n && !skip; i++) {
			if (!path_tenant(list.docs[i].path, uid, sizeof(uid)))
				continue;
			/* both in uid order: move on to its tenant */
			while (k < m && strcmp(uids[pl->from + k], uid) < 0)
				k++;
			if (k == m)
				break;
			if (strcmp(uids[pl->from + k], uid) != 0 ||
			    ck[k].rc != 0)
				continue;	/* new meanwhile, or blocked */
			if (cur != k) {
				if (cur != SIZE_MAX)
					pulse_acc_end(pl, &acc, &ck[cur]);
				cur = k;
			}
			pulse_acc_add(&acc, &ck[k], &list.docs[i]);
			skip = ck[k].tr == PULSE_TR_ALONE;
		}
		if (skip) {
			/* bounded memory: the rest of its trades unread */
			pulse_acc_clear(&acc);
			cur = SIZE_MAX;
			store_doclist_free(&list);
			if (++k >= m)
				break;
			q.from_uid = uids[pl->from + k];
			q.start_after = NULL;
			continue;
		}
		if (list.n < q.limit || k == m)
			break;
		snprintf(after, sizeof(after), "%s",
		    list.docs[list.n - 1].path);
		q.start_after = after;
		store_doclist_free(&list);
	}
	if (cur != SIZE_MAX)
		pulse_acc_end(pl, &acc, &ck[cur]);
	/* the runnable tenants without trades */
	for (k = 0; k < m; k++)
		if (ck[k].rc == 0 && ck[k].tr == PULSE_TR_NONE) {
			if (trades_text(NULL, 0, &ck[k].trades, &ck[k].ntr,
			    &ck[k].more, NULL, &terr) == 0)
				ck[k].tr = PULSE_TR_READ;
			else
				ck[k].tr = PULSE_TR_ALONE;
		}
	rc = 0;
out:
	/* a tenant cut off mid-way: trades_read answers for it */
	if (rc == -1 && cur != SIZE_MAX)
		ck[cur].tr = PULSE_TR_ALONE;
	if (rc == -1)
		log_debug("pulse plan: the group query of open trades failed "
		    "(%s); each tenant's trades are read alone", terr.msg);
	store_doclist_free(&list);
	pulse_acc_clear(&acc);
	free(acc.docs);
	json_object_put(open);
	return rc;
}

/* Checks a chunk of the tenants: skip or sync, keys, open trades. */
static void
pulse_chunk_work(struct store *st, void *arg)
{
	struct pulse_plan *pl = arg;
	char **uids = pl->master->uids;
	struct pulse_check *ck, *c;
	struct tp_err terr;
	size_t i, m = pl->to - pl->from;
	bool runnable = false;

	pl->rc = 0;
	if ((ck = calloc(m, sizeof(*ck))) == NULL) {
		pl->rc = tp_err_set(&pl->err, TP_RESOURCE_EXHAUSTED,
		    "out of memory planning the pulse");
		return;
	}
	pulse_chunk_decide(st, uids, pl->from, pl->to, ck);
	for (i = 0; i < m; i++)
		runnable = runnable || ck[i].rc == 0;
	if (runnable)
		(void)pulse_chunk_trades(st, pl, uids, ck);
	for (i = 0; i < m; i++) {
		c = &ck[i];
		if (c->rc == 1) {
			switch (c->why) {
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
		/* a store error for one tenant: its job reads again at
		 * dispatch, and fails there if it must */
		if (c->rc == 0 && c->tr != PULSE_TR_READ) {
			tp_err_clear(&terr);
			free(c->trades);
			c->trades = NULL;
			if (trades_read(st, uids[pl->from + i], &c->trades,
			    &c->ntr, &c->more, pl->symbols, &terr) == 0)
				c->tr = PULSE_TR_READ;
		}
		if (c->rc == 0 && c->tr == PULSE_TR_READ) {
			pl->trades += c->ntr;
			if (c->more)
				pl->capped++;
		}
		if (pulse_plan_add(pl, uids[pl->from + i], c->trades,
		    c->keys_doc) == -1) {
			pl->rc = tp_err_set(&pl->err, TP_RESOURCE_EXHAUSTED,
			    "out of memory planning the pulse");
			break;
		}
		c->trades = c->keys_doc = NULL;	/* the plan's now */
	}
	for (i = 0; i < m; i++) {
		free(ck[i].trades);
		free(ck[i].keys_doc);
	}
	free(ck);
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
	/* a chunk of no tenant has no array to copy (pl->t may be NULL) */
	if (c->nt > 0 && pl->nt + c->nt <= pl->cap) {
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
