/* migrate.c: migrate.legacy: copies the seed's single-user collections (alpacaAccounts/snapshot, tradingSignals, shadowTradeHistory) into one tenant's paths, never overwriting. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/store.h"
#include "common/tenantlog.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/migrate.h"
#include "supervisor/tenant_store.h"

/*
 * Legacy documents handled per round trip: one list, one bulk read of the
 * targets, one commit. A document is at most 1 MiB, so a page holds at
 * most 2 × 64 MiB (legacy and target) in the worst case, and a few
 * hundred KiB for real signals and trades; the run pages through any
 * number of documents with that bound.
 */
#define MIGRATE_PAGE		64
#define MIGRATE_ERRORS_MAX	5	/* failures named in the reply */
#define MIGRATE_PATH_MAX	(PATH_MAX_LEN + 1)

/* What is copied where (the seed's migration guide, and the brief's
 * alternative snapshot path, which the pulse also writes). */
struct migrate_kind {
	const char	*name;		/* in the reply */
	const char	*legacy;	/* a document, or a collection */
	bool		 single;	/* legacy is a document */
	const char	*target;	/* under users/{uid}/: the document, or
					   the collection the ids keep */
};

static const struct migrate_kind migrate_kinds[] = {
	{ "account_snapshot", "alpacaAccounts/snapshot", true,
	    "alpacaAccounts/snapshot" },
	{ "data_snapshot", "alpacaAccounts/snapshot", true, "data/snapshot" },
	{ "signals", "tradingSignals", false, "signals" },
	{ "shadow_trades", "shadowTradeHistory", false, "shadowTradeHistory" },
};
#define MIGRATE_NKINDS	(sizeof(migrate_kinds) / sizeof(migrate_kinds[0]))

struct migrate_count {
	uint64_t	legacy;		/* legacy documents seen */
	uint64_t	copied;		/* created (dry run: would be) */
	uint64_t	existing;	/* target already there: left alone */
	uint64_t	differing;	/* of those, with other data */
	uint64_t	failed;		/* refused by the store */
};

/*
 * One run. The work function (a store thread) fills it; the loop reads
 * it again only in the done callback.
 */
struct migrate_ctx {
	char			 uid[UID_MAX_LEN + 1];
	bool			 dry_run;
	struct migrate_count	 count[MIGRATE_NKINDS];
	char			*errors[MIGRATE_ERRORS_MAX];
	size_t			 nerrors;
	struct tp_err		 err;
	int			 rc;
};

/*
 * One run at a time: a run holds a store thread for as long as it takes,
 * and two runs for the same tenant would only race to the same creates.
 * Touched on the loop thread only.
 */
static bool migrate_busy;

static void
migrate_ctx_free(void *arg)
{
	struct migrate_ctx *c = arg;
	size_t i;

	for (i = 0; i < c->nerrors; i++)
		free(c->errors[i]);
	free(c);
}

static void
migrate_note(struct migrate_ctx *c, const char *path, const char *msg)
{
	if (c->nerrors < MIGRATE_ERRORS_MAX &&
	    asprintf(&c->errors[c->nerrors], "%s: %s", path, msg) != -1)
		c->nerrors++;
}

/*
 * Copies a page of legacy documents: reads their targets in one request,
 * leaves alone those that exist, and creates the others, each in a batch
 * of its own (CREATE: a target made meanwhile, by a sync or another run,
 * fails alone with already_exists and is counted as existing; nothing is
 * ever overwritten). The batches share one commit where the backend can.
 * -1 only for a failure of the store as a whole (c->err).
 */
static int
migrate_page(struct store *st, struct migrate_ctx *c,
    const struct migrate_kind *k, struct migrate_count *cnt,
    struct store_doc *docs, size_t n)
{
	struct store_batch **b = NULL;
	struct store_doc *tgt = NULL;
	struct tp_err perr, *errs = NULL;
	const char **paths = NULL;
	char **own = NULL;
	size_t *which = NULL, *at = NULL, i, np = 0, nb = 0;
	int *rcs = NULL, rc = -1;

	if ((own = calloc(n, sizeof(*own))) == NULL ||
	    (paths = calloc(n, sizeof(*paths))) == NULL ||
	    (at = calloc(n, sizeof(*at))) == NULL ||
	    (tgt = calloc(n, sizeof(*tgt))) == NULL ||
	    (b = calloc(n, sizeof(*b))) == NULL ||
	    (which = calloc(n, sizeof(*which))) == NULL ||
	    (rcs = calloc(n, sizeof(*rcs))) == NULL ||
	    (errs = calloc(n, sizeof(*errs))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		cnt->legacy++;
		if (k->single)
			rc = asprintf(&own[i], "users/%s/%s", c->uid,
			    k->target);
		else
			rc = asprintf(&own[i], "users/%s/%s/%s", c->uid,
			    k->target, docs[i].id);
		if (rc == -1) {
			own[i] = NULL;
			goto nomem;
		}
		/* an id our paths refuse (a legacy id from elsewhere) fails
		 * alone, before the bulk read that would refuse them all */
		if (path_check_doc(own[i], &perr) == -1) {
			cnt->failed++;
			migrate_note(c, docs[i].path, perr.msg);
			continue;
		}
		at[np] = i;
		paths[np++] = own[i];
	}
	rc = -1;
	if (np > 0 && store_get_many(st, paths, np, tgt, &c->err) == -1)
		goto out;
	for (i = 0; i < np; i++) {
		if (tgt[i].data != NULL) {
			cnt->existing++;
			if (!json_object_equal(tgt[i].data,
			    docs[at[i]].data))
				cnt->differing++;
			continue;
		}
		if (c->dry_run) {
			cnt->copied++;
			continue;
		}
		if ((b[nb] = store_batch_new()) == NULL)
			goto nomem;
		store_batch_add_ref(b[nb], STORE_W_CREATE, paths[i],
		    docs[at[i]].data);
		which[nb++] = at[i];
	}
	if (nb > 0 && store_batch_commit_many(st, b, nb, rcs, errs) == -1) {
		c->err = errs[0];
		goto out;
	}
	for (i = 0; i < nb; i++) {
		if (rcs[i] == 0)
			cnt->copied++;
		else if (errs[i].code == TP_ALREADY_EXISTS)
			cnt->existing++;
		else {
			cnt->failed++;
			migrate_note(c, docs[which[i]].path, errs[i].msg);
		}
	}
	rc = 0;
	goto out;
nomem:
	tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED, "out of memory");
	rc = -1;
out:
	for (i = 0; b != NULL && i < nb; i++)
		store_batch_free(b[i]);
	for (i = 0; tgt != NULL && i < np; i++)
		store_doc_clear(&tgt[i]);
	for (i = 0; own != NULL && i < n; i++)
		free(own[i]);
	free(own);
	free(paths);
	free(at);
	free(tgt);
	free(b);
	free(which);
	free(rcs);
	free(errs);
	return rc;
}

/* The legacy snapshot: one document, possibly missing. */
static int
migrate_single(struct store *st, struct migrate_ctx *c,
    const struct migrate_kind *k, struct migrate_count *cnt)
{
	struct store_doc doc;
	int rc;

	memset(&doc, 0, sizeof(doc));
	if (store_get(st, k->legacy, &doc, &c->err) == -1) {
		if (c->err.code != TP_NOT_FOUND)
			return -1;
		tp_err_clear(&c->err);
		return 0;
	}
	rc = migrate_page(st, c, k, cnt, &doc, 1);
	store_doc_clear(&doc);
	return rc;
}

/* A legacy collection, page by page in id order. */
static int
migrate_collection(struct store *st, struct migrate_ctx *c,
    const struct migrate_kind *k, struct migrate_count *cnt)
{
	struct store_doclist page;
	char *after = NULL;
	bool more = true;
	int rc = 0;

	while (more && rc == 0) {
		memset(&page, 0, sizeof(page));
		if (store_list(st, k->legacy, MIGRATE_PAGE, after, &page,
		    &c->err) == -1) {
			rc = -1;
			break;
		}
		more = page.n == MIGRATE_PAGE;
		free(after);
		after = NULL;
		if (more && (after = strdup(page.docs[page.n - 1].id)) ==
		    NULL)
			rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		if (rc == 0 && page.n > 0)
			rc = migrate_page(st, c, k, cnt, page.docs, page.n);
		store_doclist_free(&page);
	}
	free(after);
	return rc;
}

static void
migrate_work(struct store *st, void *arg)
{
	struct migrate_ctx *c = ((struct api_req *)arg)->ctx;
	const struct migrate_kind *k;
	size_t i;
	int e;

	if ((e = tenant_exists(st, c->uid, &c->err)) != 1) {
		if (e == 0)
			tp_err_set(&c->err, TP_NOT_FOUND, "no tenant %s: add "
			    "it first (tradepulse tenant add %s), then migrate "
			    "into it", c->uid, c->uid);
		c->rc = -1;
		return;
	}
	for (i = 0; i < MIGRATE_NKINDS; i++) {
		k = &migrate_kinds[i];
		if ((k->single ? migrate_single(st, c, k, &c->count[i]) :
		    migrate_collection(st, c, k, &c->count[i])) == -1) {
			c->rc = -1;
			return;
		}
	}
}

static json_object *
migrate_count_json(const struct migrate_kind *k,
    const struct migrate_count *cnt, const char *uid)
{
	json_object *o;
	char from[MIGRATE_PATH_MAX], to[MIGRATE_PATH_MAX];

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	snprintf(from, sizeof(from), "%s%s", k->legacy, k->single ? "" : "/*");
	snprintf(to, sizeof(to), "users/%s/%s%s", uid, k->target,
	    k->single ? "" : "/*");
	json_add(o, "from", json_object_new_string(from));
	json_add(o, "to", json_object_new_string(to));
	json_add(o, "legacy", json_object_new_int64((int64_t)cnt->legacy));
	json_add(o, "copied", json_object_new_int64((int64_t)cnt->copied));
	json_add(o, "skipped_existing",
	    json_object_new_int64((int64_t)cnt->existing));
	json_add(o, "differing",
	    json_object_new_int64((int64_t)cnt->differing));
	json_add(o, "failed", json_object_new_int64((int64_t)cnt->failed));
	return o;
}

static json_object *
migrate_result(const struct migrate_ctx *c)
{
	struct migrate_count tot;
	json_object *r, *kinds, *errs;
	size_t i;

	memset(&tot, 0, sizeof(tot));
	if ((r = json_object_new_object()) == NULL ||
	    (kinds = json_object_new_object()) == NULL) {
		json_object_put(r);
		return NULL;
	}
	json_add(r, "uid", json_object_new_string(c->uid));
	json_add(r, "dry_run", json_object_new_boolean(c->dry_run));
	json_add(r, "kinds", kinds);
	for (i = 0; i < MIGRATE_NKINDS; i++) {
		json_add(kinds, migrate_kinds[i].name,
		    migrate_count_json(&migrate_kinds[i], &c->count[i],
		    c->uid));
		tot.legacy += c->count[i].legacy;
		tot.copied += c->count[i].copied;
		tot.existing += c->count[i].existing;
		tot.differing += c->count[i].differing;
		tot.failed += c->count[i].failed;
	}
	json_add(r, "copied", json_object_new_int64((int64_t)tot.copied));
	json_add(r, "skipped_existing",
	    json_object_new_int64((int64_t)tot.existing));
	json_add(r, "differing",
	    json_object_new_int64((int64_t)tot.differing));
	json_add(r, "failed", json_object_new_int64((int64_t)tot.failed));
	errs = json_object_new_array();
	for (i = 0; errs != NULL && i < c->nerrors; i++)
		json_object_array_add(errs,
		    json_object_new_string(c->errors[i]));
	json_add(r, "errors", errs);
	return r;
}

static void
migrate_done(void *arg)
{
	struct api_req *req = arg;
	struct migrate_ctx *c = req->ctx;
	json_object *r;
	uint64_t copied = 0, existing = 0, failed = 0;
	size_t i;

	migrate_busy = false;
	if (c->rc == -1) {
		log_warnx("migrate-legacy %s%s: %s", c->uid,
		    c->dry_run ? " (dry run)" : "", c->err.msg);
		/* what was copied stays: a new run continues from there */
		if (!c->dry_run && c->err.code != TP_NOT_FOUND)
			tenant_log(req->d, c->uid, TLOG_ERROR, "migrate",
			    "legacy migration stopped: %s", c->err.msg);
		api_reply_error(req, &c->err);
		return;
	}
	for (i = 0; i < MIGRATE_NKINDS; i++) {
		copied += c->count[i].copied;
		existing += c->count[i].existing;
		failed += c->count[i].failed;
	}
	log_info("migrate-legacy %s%s: %" PRIu64 " %s, %" PRIu64
	    " already there, %" PRIu64 " failed", c->uid,
	    c->dry_run ? " (dry run)" : "", copied,
	    c->dry_run ? "to copy" : "copied", existing, failed);
	if (!c->dry_run)
		tenant_log(req->d, c->uid, failed > 0 ? TLOG_WARN : TLOG_INFO,
		    "migrate", "legacy data migrated: %" PRIu64 " copied, %"
		    PRIu64 " already there, %" PRIu64 " failed", copied,
		    existing, failed);
	if ((r = migrate_result(c)) == NULL) {
		tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED, "out of memory");
		api_reply_error(req, &c->err);
		return;
	}
	api_reply(req, r);
}

int
migrate_legacy_start(struct api_req *req, struct tp_err *err)
{
	struct migrate_ctx *c;
	const char *uid;
	bool dry = false;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_bool(req, "dry_run", false, &dry, err) == -1)
		return -1;
	if (migrate_busy)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "a legacy "
		    "migration is already running; try again when it has "
		    "ended");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	req->ctx = c;
	req->ctx_free = migrate_ctx_free;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->dry_run = dry;
	if (api_submit(req, migrate_work, migrate_done, err) == -1)
		return -1;
	migrate_busy = true;
	return 0;
}
