/* tenant_store.c: a tenant's documents and log as the operations, the pulse and the job layer reach them. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/path.h"
#include "supervisor/daemon.h"
#include "supervisor/tenant_store.h"

#define TENANT_PATH_MAX	(UID_MAX_LEN + 64)

/* The collections a tenant's documents live in (brief section 3). */
static const char *const tenant_collections[] = {
	"status", "secrets", "data", "alpacaAccounts", "signals",
	"shadowTradeHistory",
};

int
tenant_doc_get(struct store *st, const char *path, json_object **data,
    struct tp_err *err)
{
	struct store_doc doc;

	memset(&doc, 0, sizeof(doc));
	if (store_get(st, path, &doc, err) == -1) {
		if (err->code != TP_NOT_FOUND)
			return -1;
		tp_err_clear(err);
		return 0;
	}
	if (data != NULL) {
		*data = doc.data;
		doc.data = NULL;
	}
	store_doc_clear(&doc);
	return 1;
}

int
tenant_docs_get(struct store *st, const char *uid, const char *const *subs,
    size_t n, json_object **docs, struct tp_err *err)
{
	char path[TENANT_PATH_MAX];
	size_t i;
	int rc, found = 0;

	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "users/%s%s", uid,
		    subs[i]) >= sizeof(path))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "a path under users/%s is too long", uid);
		docs[i] = NULL;
		if ((rc = tenant_doc_get(st, path, &docs[i], err)) == -1)
			return -1;
		found += rc;
	}
	return found;
}

int
tenant_signals_newest(struct store *st, const char *uid, size_t limit,
    struct store_doclist *list, struct tp_err *err)
{
	char coll[TENANT_PATH_MAX];
	struct store_query q;

	snprintf(coll, sizeof(coll), "users/%s/signals", uid);
	memset(&q, 0, sizeof(q));
	q.collection = coll;
	q.order_field = "timestamp";
	q.order = STORE_ORDER_DESC;
	q.limit = limit;
	return store_query(st, &q, list, err);
}

int
tenant_exists(struct store *st, const char *uid, struct tp_err *err)
{
	struct store_doclist list;
	char path[TENANT_PATH_MAX];
	size_t i, n;
	int rc;

	snprintf(path, sizeof(path), "users/%s", uid);
	if ((rc = tenant_doc_get(st, path, NULL, err)) != 0)
		return rc;
	for (i = 0; i < sizeof(tenant_collections) /
	    sizeof(tenant_collections[0]); i++) {
		snprintf(path, sizeof(path), "users/%s/%s", uid,
		    tenant_collections[i]);
		memset(&list, 0, sizeof(list));
		if (store_list(st, path, 1, NULL, &list, err) == -1)
			return -1;
		n = list.n;
		store_doclist_free(&list);
		if (n > 0)
			return 1;
	}
	return 0;
}

int
tenant_vlog(struct daemon *d, const char *uid, enum tlog_level lvl,
    const char *job_id, const char *event, const char *fmt, va_list ap)
{
	char msg[TLOG_LINE_MAX];
	struct tp_err err;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (tenantlog_write(d->tlog, uid, lvl, job_id != NULL ? job_id : "",
	    event, msg, &err) == -1) {
		log_warnx("tenant log of %s: %s", uid, err.msg);
		return -1;
	}
	return 0;
}

int
tenant_log(struct daemon *d, const char *uid, enum tlog_level lvl,
    const char *event, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tenant_vlog(d, uid, lvl, NULL, event, fmt, ap);
	va_end(ap);
	return rc;
}
