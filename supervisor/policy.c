/* policy.c: tenant policy: strikes, outside kills in a row, quarantine, and whether a tenant may run a job. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "supervisor/policy.h"
#include "supervisor/tenant_store.h"

/* A tenant the policy remembers; forgotten once there is nothing to say. */
struct policy_tenant {
	unsigned	 strikes;
	unsigned	 outside_kills;	/* in a row, alone */
	bool		 quarantined;
	char		 crash_id[AUTO_ID_LEN + 1];
	char		 since[32];
};

struct policy {
	struct htab	*tenants;	/* uid -> struct policy_tenant */
	uint64_t	 quarantines;
};

struct policy *
policy_new(void)
{
	struct policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->tenants = htab_new()) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	htab_free(p->tenants, free);
	free(p);
}

static struct policy_tenant *
policy_get(const struct policy *p, const char *uid)
{
	return htab_get(p->tenants, uid);
}

/* The tenant's entry, made when missing; NULL when out of memory. */
static struct policy_tenant *
policy_make(struct policy *p, const char *uid)
{
	struct policy_tenant *t;
	void *old;

	if ((t = policy_get(p, uid)) != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (htab_put(p->tenants, uid, t, &old) == -1) {
		free(t);
		return NULL;
	}
	if (old != NULL)
		panic("policy: tenant %s found twice in the table", uid);
	return t;
}

/* Forgets a tenant with nothing to remember. */
static void
policy_gc(struct policy *p, const char *uid, struct policy_tenant *t)
{
	if (t->strikes > 0 || t->outside_kills > 0 || t->quarantined)
		return;
	if (htab_del(p->tenants, uid) != t)
		panic("policy: tenant %s is not the one in the table", uid);
	free(t);
}

/* Without memory a strike is lost, never invented. */
unsigned
policy_strike(struct policy *p, const char *uid)
{
	struct policy_tenant *t;

	if ((t = policy_make(p, uid)) == NULL) {
		log_warnx("out of memory: a strike of %s is not counted", uid);
		return 0;
	}
	return ++t->strikes;
}

unsigned
policy_strikes(const struct policy *p, const char *uid)
{
	struct policy_tenant *t;

	return (t = policy_get(p, uid)) != NULL ? t->strikes : 0;
}

void
policy_strikes_clear(struct policy *p, const char *uid)
{
	struct policy_tenant *t;

	if ((t = policy_get(p, uid)) == NULL)
		return;
	t->strikes = 0;
	t->outside_kills = 0;
	policy_gc(p, uid, t);
}

unsigned
policy_outside_kill(struct policy *p, const char *uid)
{
	struct policy_tenant *t;

	if ((t = policy_make(p, uid)) == NULL) {
		log_warnx("out of memory: an outside kill of %s is not counted",
		    uid);
		return 0;
	}
	return ++t->outside_kills;
}

void
policy_outside_kills_clear(struct policy *p, const char *uid)
{
	struct policy_tenant *t;

	if ((t = policy_get(p, uid)) == NULL)
		return;
	t->outside_kills = 0;
	policy_gc(p, uid, t);
}

void
policy_quarantine(struct policy *p, const char *uid, const char *crash_id,
    const char *since)
{
	struct policy_tenant *t;

	p->quarantines++;
	if ((t = policy_make(p, uid)) == NULL) {
		log_warnx("out of memory: the quarantine of %s is kept in its "
		    "document only", uid);
		return;
	}
	t->quarantined = true;
	snprintf(t->crash_id, sizeof(t->crash_id), "%s", crash_id != NULL ?
	    crash_id : "");
	snprintf(t->since, sizeof(t->since), "%s", since != NULL ? since : "");
}

unsigned
policy_release(struct policy *p, const char *uid, bool *was)
{
	struct policy_tenant *t;
	unsigned strikes;

	*was = false;
	if ((t = policy_get(p, uid)) == NULL)
		return 0;
	strikes = t->strikes;
	*was = t->quarantined;
	t->quarantined = false;
	t->crash_id[0] = t->since[0] = '\0';
	t->strikes = 0;
	t->outside_kills = 0;
	policy_gc(p, uid, t);
	return strikes;
}

bool
policy_quarantined(const struct policy *p, const char *uid,
    struct tp_err *err)
{
	struct policy_tenant *t;

	if ((t = policy_get(p, uid)) == NULL || !t->quarantined)
		return false;
	policy_quarantine_error(err, uid, t->crash_id, t->strikes, t->since);
	return true;
}

size_t
policy_tenants(const struct policy *p)
{
	return htab_count(p->tenants);
}

uint64_t
policy_quarantines(const struct policy *p)
{
	return p->quarantines;
}

void
policy_quarantine_error(struct tp_err *err, const char *uid,
    const char *crash_id, unsigned strikes, const char *since)
{
	char what[96] = "";

	if (strikes > 0 && crash_id != NULL && crash_id[0] != '\0')
		snprintf(what, sizeof(what), " after %u strikes (last crash "
		    "report %s)", strikes, crash_id);
	else if (crash_id != NULL && crash_id[0] != '\0')
		snprintf(what, sizeof(what), " (crash report %s)", crash_id);
	else if (strikes > 0)
		snprintf(what, sizeof(what), " after %u strikes", strikes);
	tp_err_set(err, TP_FAILED_PRECONDITION, "tenant %s is quarantined%s%s"
	    "%s; release it with `tradepulse tenant release %s`", uid, what,
	    since != NULL && since[0] != '\0' ? " since " : "",
	    since != NULL ? since : "", uid);
}

/* Store side */

static const char *const policy_doc_names[POLICY_DOCS] = {
	[POLICY_DOC_QUARANTINE] = "status/quarantine",
	[POLICY_DOC_TRADING] = "status/trading",
	[POLICY_DOC_KEYS] = "secrets/alpaca",
};

void
policy_doc_path(char *buf, size_t size, const char *uid, enum policy_doc which)
{
	snprintf(buf, size, "users/%s/%s", uid, policy_doc_names[which]);
}

int
policy_tenant_decide(const char *uid, json_object *quarantine,
    json_object *trading, json_object *sealed, bool exists,
    enum policy_block *why, char **keys_doc, struct tp_err *err)
{
	const char *text, *reason;
	bool enabled = false;
	size_t len;

	*why = POLICY_RUNNABLE;
	if (keys_doc != NULL)
		*keys_doc = NULL;
	if (quarantine == NULL && trading == NULL && sealed == NULL &&
	    !exists) {
		*why = POLICY_MISSING;
		tp_err_set(err, TP_NOT_FOUND, "no tenant %s", uid);
		return 1;
	}
	if (quarantine != NULL) {
		int64_t strikes = 0;

		*why = POLICY_QUARANTINED;
		(void)json_get_int(quarantine, "strikes", &strikes);
		policy_quarantine_error(err, uid,
		    json_get_str(quarantine, "crash_id"),
		    strikes > 0 && strikes < 1000 ? (unsigned)strikes : 0,
		    json_get_str(quarantine, "since"));
		return 1;
	}
	if (sealed == NULL) {
		*why = POLICY_NO_KEYS;
		tp_err_set(err, TP_FAILED_PRECONDITION, "tenant %s has no "
		    "Alpaca keys; set them with `tradepulse keys set %s`", uid,
		    uid);
		return 1;
	}
	if (trading == NULL ||
	    !json_get_bool(trading, "enabled", &enabled) || !enabled) {
		*why = POLICY_DISABLED;
		reason = trading != NULL ? json_get_str(trading, "reason") :
		    NULL;
		tp_err_set(err, TP_FAILED_PRECONDITION, "trading is disabled "
		    "for tenant %s%s%.64s%s; enable it with `tradepulse "
		    "trading enable %s`", uid, reason != NULL ? " (" : "",
		    reason != NULL ? reason : "", reason != NULL ? ")" : "",
		    uid);
		return 1;
	}
	if (keys_doc != NULL && (text = json_compact(sealed, &len)) != NULL)
		*keys_doc = strdup(text);	/* NULL: read again */
	return 0;
}

int
policy_tenant_blocked(struct store *st, const char *uid,
    enum policy_block *why, char **keys_doc, struct tp_err *err)
{
	char paths[POLICY_DOCS][POLICY_PATH_MAX];
	const char *p[POLICY_DOCS];
	struct store_doc docs[POLICY_DOCS];
	int i, exists = 1, rc;

	*why = POLICY_RUNNABLE;
	if (keys_doc != NULL)
		*keys_doc = NULL;
	for (i = 0; i < POLICY_DOCS; i++) {
		policy_doc_path(paths[i], sizeof(paths[i]), uid,
		    (enum policy_doc)i);
		p[i] = paths[i];
	}
	/* one read for the three, so a remote store answers at once */
	if (store_get_many(st, p, POLICY_DOCS, docs, err) == -1)
		return -1;
	if (docs[POLICY_DOC_QUARANTINE].data == NULL &&
	    docs[POLICY_DOC_TRADING].data == NULL &&
	    docs[POLICY_DOC_KEYS].data == NULL &&
	    (exists = tenant_exists(st, uid, err)) == -1) {
		rc = -1;
		goto out;
	}
	rc = policy_tenant_decide(uid, docs[POLICY_DOC_QUARANTINE].data,
	    docs[POLICY_DOC_TRADING].data, docs[POLICY_DOC_KEYS].data,
	    exists == 1, why, keys_doc, err);
out:
	for (i = 0; i < POLICY_DOCS; i++)
		store_doc_clear(&docs[i]);
	return rc;
}

int
policy_release_doc(struct store *st, const char *uid, bool *existed,
    struct tp_err *err)
{
	char path[POLICY_PATH_MAX];
	int rc;

	*existed = false;
	snprintf(path, sizeof(path), "users/%s/status/quarantine", uid);
	if ((rc = tenant_doc_get(st, path, NULL, err)) == -1)
		return -1;
	if (rc == 1) {
		*existed = true;
		return store_delete(st, path, err);
	}
	if ((rc = tenant_exists(st, uid, err)) != 1)
		return rc == -1 ? -1 : tp_err_set(err, TP_NOT_FOUND,
		    "no tenant %s", uid);
	return 0;
}
