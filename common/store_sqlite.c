/* store_sqlite.c: the SQLite backend of the document store: documents, writes, batches, queries. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/jsonutil.h"
#include "common/path.h"
#include "common/store.h"
#include "common/store_backend.h"
#include "common/store_sqlite_int.h"

/* Whether the collection path c (n bytes) is a subcollection whose last
 * segment is seg: exactly the parents the GLOB of SQLITE_TRADES (resp.
 * SQLITE_SIGNALS) matches. */
static bool
sqlite_coll_is(const char *c, size_t n, const char *seg)
{
	size_t k = strlen(seg);

	return n > k && c[n - k - 1] == '/' &&
	    memcmp(c + n - k, seg, k) == 0;
}

static enum sqlite_keyed
sqlite_keyed(const char *collection, size_t n)
{
	if (sqlite_coll_is(collection, n, "shadowTradeHistory"))
		return SQLITE_KEYED_TRADES;
	if (sqlite_coll_is(collection, n, "signals"))
		return SQLITE_KEYED_SIGNALS;
	return SQLITE_KEYED_NONE;
}

/* One more primitive call, for store_requests. */
static void
sqlite_count(struct sqlite_be *be)
{
	atomic_fetch_add_explicit(&be->requests, 1, memory_order_relaxed);
}

/* The top-level fields that have a key column (SQLITE_KEYS_SET). */
static const char *const sqlite_key_fields[] = {
	"status", "created_at", "timestamp",
};

/*
 * The SQL for the value of field in a document of a collection that is
 * keyed or not: its key column where it has one, else json_extract.
 * (Both give the same value; only the column is indexed.)
 */
static int
sqlite_field_value(enum sqlite_keyed keyed, const char *field, char *buf,
    size_t size)
{
	size_t i;
	int n;

	for (i = 0; keyed != SQLITE_KEYED_NONE &&
	    i < sizeof(sqlite_key_fields) / sizeof(sqlite_key_fields[0]); i++)
		if (strcmp(field, sqlite_key_fields[i]) == 0) {
			n = snprintf(buf, size, "k_%s", field);
			return n < 0 || (size_t)n >= size ? -1 : 0;
		}
	n = snprintf(buf, size, "json_extract(data, '$.%s')", field);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Parses a stored document; anything but a map means corruption. */
static json_object *
sqlite_parse(const char *text, int len, const char *path, struct tp_err *err)
{
	struct tp_err perr;
	json_object *o;

	if (text == NULL || len < 0)
		return tp_err_set(err, TP_INTERNAL,
		    "document %s has no data in the database", path), NULL;
	if ((o = json_parse(text, (size_t)len, &perr)) == NULL)
		return tp_err_set(err, TP_INTERNAL,
		    "document %s is corrupt in the database: %s", path,
		    perr.msg), NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return tp_err_set(err, TP_INTERNAL,
		    "document %s is corrupt in the database: not a map",
		    path), NULL;
	}
	return o;
}

/* Reads the row of path in c: data parsed into *data, update_time copied.
 * Returns 1 found, 0 missing, -1 error. */
static int
sqlite_read(struct sqlite_conn *c, const char *path, json_object **data,
    char *update_time, size_t utsize, struct tp_err *err)
{
	sqlite3_stmt *s;
	const char *text, *ut;
	int rc, found = 0;

	if ((s = sqlite_stmt(c, STMT_GET, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		text = (const char *)sqlite3_column_text(s, 0);
		ut = (const char *)sqlite3_column_text(s, 1);
		if ((*data = sqlite_parse(text, sqlite3_column_bytes(s, 0),
		    path, err)) == NULL) {
			found = -1;
		} else {
			if (update_time != NULL)
				snprintf(update_time, utsize, "%s",
				    ut != NULL ? ut : "");
			found = 1;
		}
	} else if (rc != SQLITE_DONE)
		found = sqlite_fail(c->db, rc, path, err);
	sqlite_done(s);
	return found;
}

static int
sqlite_get(void *arg, const char *path, struct store_doc *out,
    struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	const char *slash;
	int found;

	sqlite_count(be);
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	found = sqlite_read(c, path, &out->data, out->update_time,
	    sizeof(out->update_time), err);
	sqlite_release(be, c);
	if (found == -1)
		return -1;
	if (found == 0)
		return tp_err_set(err, TP_NOT_FOUND, "no document %s", path);
	slash = strrchr(path, '/');
	out->path = strdup(path);
	out->id = strdup(slash != NULL ? slash + 1 : path);
	if (out->path == NULL || out->id == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

/* Binds a document's parent, id and tenant (NULL outside users/) from
 * index first on; uid must outlive the statement's step. */
static void
sqlite_bind_place(sqlite3_stmt *s, int first, const char *path,
    char *uid, size_t uidsize)
{
	const char *slash = strrchr(path, '/');

	/* store.c validated path: it has a slash */
	sqlite3_bind_text(s, first, path, (int)(slash - path), SQLITE_STATIC);
	sqlite3_bind_text(s, first + 1, slash + 1, -1, SQLITE_STATIC);
	if (path_tenant(path, uid, uidsize))
		sqlite3_bind_text(s, first + 2, uid, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, first + 2);
}

/* Stores json as the content of path (insert, or replace when upsert). */
static int
sqlite_put(struct sqlite_conn *c, const char *path, const char *json,
    size_t len, bool upsert, const char *now, struct tp_err *err)
{
	sqlite3_stmt *s;
	char uid[UID_MAX_LEN + 1];
	int rc;

	if ((s = sqlite_stmt(c, upsert ? STMT_UPSERT : STMT_INSERT,
	    err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite_bind_place(s, 2, path, uid, sizeof(uid));
	sqlite3_bind_text(s, 5, json, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite_done(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return tp_err_set(err, TP_ALREADY_EXISTS,
		    "document %s already exists", path);
	if (rc != SQLITE_DONE)
		return sqlite_fail(c->db, rc, path, err);
	return 0;
}

/*
 * Runs STMT_MERGE or STMT_MERGE_NEW for w. Returns 1 when a row was
 * written, 0 when none was (the update of a missing document), -1 on
 * error.
 */
static int
sqlite_merge_step(struct sqlite_conn *c, enum sqlite_stmt_id id,
    const struct store_write *w, const char *now, struct tp_err *err)
{
	sqlite3_stmt *s;
	char uid[UID_MAX_LEN + 1];
	int rc;

	if ((s = sqlite_stmt(c, id, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, w->json, (int)w->json_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, w->path, -1, SQLITE_STATIC);
	if (id == STMT_MERGE_NEW)
		sqlite_bind_place(s, 4, w->path, uid, sizeof(uid));
	c->toobig = 0;
	rc = sqlite3_step(s);
	sqlite_done(s);
	switch (rc) {
	case SQLITE_DONE:
		/* the statement changes at most one row: the one at path */
		return sqlite3_changes(c->db) > 0 ? 1 : 0;
	case SQLITE_TOOBIG:
		if (c->toobig > STORE_DOC_MAX)
			return store_check_size(w->path, (size_t)c->toobig,
			    err);
		break;
	case SQLITE_CONSTRAINT_NOTNULL:
		return tp_err_set(err, TP_INTERNAL,
		    "document %s is corrupt in the database: not a map",
		    w->path);
	}
	return sqlite_fail(c->db, rc, w->path, err);
}

/*
 * A merge in SQL (STMT_MERGE), or the document's creation when it is
 * missing. A result past STORE_DOC_MAX fails the write before anything
 * is written (tp_doc_bound); the caller rolls back the rest.
 */
static int
sqlite_merge(struct sqlite_conn *c, const struct store_write *w,
    const char *now, struct tp_err *err)
{
	int found;

	if ((found = sqlite_merge_step(c, STMT_MERGE, w, now, err)) == 0)
		found = sqlite_merge_step(c, STMT_MERGE_NEW, w, now, err);
	if (found == -1)
		return -1;
	if (found == 0)
		return tp_err_set(err, TP_INTERNAL,
		    "document %s: the merge wrote nothing", w->path);
	return 0;
}

/* Runs a statement whose one parameter is a document path. */
static int
sqlite_run_path(struct sqlite_conn *c, enum sqlite_stmt_id id,
    const char *path, struct tp_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = sqlite_stmt(c, id, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite_done(s);
	if (rc != SQLITE_DONE)
		return sqlite_fail(c->db, rc, path, err);
	return 0;
}

static int
sqlite_delete(struct sqlite_conn *c, const char *path, struct tp_err *err)
{
	return sqlite_run_path(c, STMT_DELETE, path, err);
}

/* Sets the key columns of the document at path from its data. */
static int
sqlite_rekey(struct sqlite_conn *c, const char *path, struct tp_err *err)
{
	return sqlite_run_path(c, STMT_REKEY, path, err);
}

/*
 * Whether write w may change the key columns of its document: any set or
 * create in a keyed collection, a merge there only when its data names a
 * key field (a pulse's marks do not, so they leave the indexes alone).
 */
static bool
sqlite_rekeys(const struct store_write *w)
{
	const char *slash = strrchr(w->path, '/');
	size_t i;

	if (w->kind == STORE_W_DELETE ||
	    sqlite_keyed(w->path, (size_t)(slash - w->path)) ==
	    SQLITE_KEYED_NONE)
		return false;
	if (w->kind != STORE_W_MERGE)
		return true;
	for (i = 0; i < sizeof(sqlite_key_fields) /
	    sizeof(sqlite_key_fields[0]); i++)
		if (json_object_object_get_ex(w->data, sqlite_key_fields[i],
		    NULL))
			return true;
	return false;
}

static int
sqlite_apply(struct sqlite_conn *c, const struct store_write *w,
    const char *now, struct tp_err *err)
{
	int rc;

	switch (w->kind) {
	case STORE_W_SET:
		rc = sqlite_put(c, w->path, w->json, w->json_len, true, now,
		    err);
		break;
	case STORE_W_CREATE:
		rc = sqlite_put(c, w->path, w->json, w->json_len, false, now,
		    err);
		break;
	case STORE_W_MERGE:
		rc = sqlite_merge(c, w, now, err);
		break;
	case STORE_W_DELETE:
		return sqlite_delete(c, w->path, err);
	default:
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "unknown write kind");
	}
	if (rc == 0 && sqlite_rekeys(w))
		rc = sqlite_rekey(c, w->path, err);
	return rc;
}

/* Applies one batch's writes in order; err names the write that failed. */
static int
sqlite_apply_all(struct sqlite_conn *c, const struct store_write *w, size_t n,
    const char *now, struct tp_err *err)
{
	struct tp_err e;
	size_t i;

	for (i = 0; i < n; i++) {
		if (sqlite_apply(c, &w[i], now, &e) == -1) {
			if (n > 1)
				return tp_err_set(err, e.code, "batch write "
				    "%zu: %s", i, e.msg);
			return tp_err_set(err, e.code, "%s", e.msg);
		}
	}
	return 0;
}

static int
sqlite_commit(void *arg, const struct store_write *w, size_t n,
    const char *now, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	int rc = -1;

	sqlite_count(be);
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	pthread_mutex_lock(&be->wlock);
	/* IMMEDIATE takes the write lock now (waiting up to the busy
	 * timeout for other processes), so no statement inside fails busy */
	if (sqlite_run(c, STMT_BEGIN_WRITE, err) == -1)
		goto out;
	if (sqlite_apply_all(c, w, n, now, err) == -1) {
		sqlite_rollback(c);
		goto out;
	}
	if (sqlite_run(c, STMT_COMMIT, err) == -1) {
		sqlite_rollback(c);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&be->wlock);
	sqlite_release(be, c);
	return rc;
}

/*
 * Several batches in one transaction, each inside its own savepoint: a
 * batch that fails is rolled back alone, and the one commit (its WAL
 * frames, its checkpoint) is shared by all.
 */
static int
sqlite_commit_many(void *arg, const struct store_write *const *w,
    const size_t *n, size_t nb, const char *now, int *rcs,
    struct tp_err *errs, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	size_t b;
	int rc = -1;

	sqlite_count(be);
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	pthread_mutex_lock(&be->wlock);
	if (sqlite_run(c, STMT_BEGIN_WRITE, err) == -1)
		goto out;
	for (b = 0; b < nb; b++) {
		if (w[b] == NULL)	/* refused by store.c already */
			continue;
		if (sqlite_run(c, STMT_SAVEPOINT, err) == -1) {
			sqlite_rollback(c);
			goto out;
		}
		rcs[b] = sqlite_apply_all(c, w[b], n[b], now, &errs[b]);
		if ((rcs[b] == -1 && sqlite_run(c, STMT_ROLLBACK_TO,
		    err) == -1) || sqlite_run(c, STMT_RELEASE, err) == -1) {
			sqlite_rollback(c);
			goto out;
		}
	}
	if (sqlite_run(c, STMT_COMMIT, err) == -1) {
		sqlite_rollback(c);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&be->wlock);
	sqlite_release(be, c);
	return rc;
}

/*
 * Appends to buf the terms of where field == value (?3), field being
 * fieldsql in SQL (sqlite_field_value), and adds their length to *off.
 * The type test matches as Firestore does: true is not 1.
 */
static int
sqlite_where_sql(const char *field, const char *fieldsql, json_object *value,
    char *buf, size_t size, size_t *off, struct tp_err *err)
{
	int n;

	/* field names were checked by path_check_field: [A-Za-z0-9_.] */
	switch (json_object_get_type(value)) {
	case json_type_null:
		n = snprintf(buf, size, " AND json_type(data, '$.%s') = 'null'",
		    field);
		break;
	case json_type_boolean:
		n = snprintf(buf, size, " AND %s = ?3"
		    " AND json_type(data, '$.%s') IN ('true', 'false')",
		    fieldsql, field);
		break;
	case json_type_int:
	case json_type_double:
		n = snprintf(buf, size, " AND %s = ?3"
		    " AND json_type(data, '$.%s') IN ('integer', 'real')",
		    fieldsql, field);
		break;
	case json_type_string:
		n = snprintf(buf, size, " AND %s = ?3"
		    " AND json_type(data, '$.%s') = 'text'", fieldsql, field);
		break;
	default:
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "query value must be a scalar");
	}
	if (n < 0 || (size_t)n >= size)
		return tp_err_set(err, TP_INTERNAL, "query too long");
	*off += (size_t)n;
	return 0;
}

int
store_sqlite_query_sql(const struct store_query *q, char *buf, size_t size,
    struct tp_err *err)
{
	const char *dir = q->order == STORE_ORDER_DESC ? "DESC" : "ASC";
	const char *wf = q->where_field, *of = q->order_field;
	char wv[PATH_MAX_LEN + 32], ov[PATH_MAX_LEN + 32];
	enum sqlite_keyed keyed;
	size_t off = 0;
	int n;

/* appends to buf, failing when it is full */
#define SQL_ADD(...) do {						\
	n = snprintf(buf + off, size - off, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= size - off)				\
		return tp_err_set(err, TP_INTERNAL, "query too long");	\
	off += (size_t)n;						\
} while (0)

	if (size == 0)
		return tp_err_set(err, TP_INTERNAL, "no query buffer");
	buf[0] = '\0';
	keyed = sqlite_keyed(q->collection, strlen(q->collection));
	if ((wf != NULL && sqlite_field_value(keyed, wf, wv, sizeof(wv)) ==
	    -1) || (of != NULL && sqlite_field_value(keyed, of, ov,
	    sizeof(ov)) == -1))
		return tp_err_set(err, TP_INTERNAL, "query too long");
	SQL_ADD("SELECT path, data, update_time FROM docs WHERE parent = ?1");
	/* redundant for the rows, but the planner needs the very term of a
	 * partial index's WHERE to use the index */
	if (keyed == SQLITE_KEYED_TRADES)
		SQL_ADD(" AND " SQLITE_TRADES);
	else if (keyed == SQLITE_KEYED_SIGNALS)
		SQL_ADD(" AND " SQLITE_SIGNALS);
	if (q->start_after != NULL)
		SQL_ADD(" AND id %s ?2",
		    q->order == STORE_ORDER_DESC ? "<" : ">");
	if (wf != NULL && sqlite_where_sql(wf, wv, q->where_value, buf + off,
	    size - off, &off, err) == -1)
		return -1;
	if (of != NULL)
		/* as in Firestore, ordering by a field skips documents
		 * that lack it */
		SQL_ADD(" AND json_type(data, '$.%s') IS NOT NULL"
		    " ORDER BY %s %s, id %s", of, ov, dir, dir);
	else
		SQL_ADD(" ORDER BY id %s", dir);
	SQL_ADD(" LIMIT ?4");
#undef SQL_ADD
	return 0;
}

int
store_sqlite_group_sql(const struct store_group_query *q, char *buf,
    size_t size, struct tp_err *err)
{
	const char *wf = q->where_field;
	char wv[PATH_MAX_LEN + 32];
	enum sqlite_keyed keyed = SQLITE_KEYED_NONE;
	size_t off = 0;
	int n;

#define SQL_ADD(...) do {						\
	n = snprintf(buf + off, size - off, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= size - off)				\
		return tp_err_set(err, TP_INTERNAL, "query too long");	\
	off += (size_t)n;						\
} while (0)

	if (size == 0)
		return tp_err_set(err, TP_INTERNAL, "no query buffer");
	buf[0] = '\0';
	if (strcmp(q->collection_id, "shadowTradeHistory") == 0)
		keyed = SQLITE_KEYED_TRADES;
	else if (strcmp(q->collection_id, "signals") == 0)
		keyed = SQLITE_KEYED_SIGNALS;
	if (wf != NULL && sqlite_field_value(keyed, wf, wv, sizeof(wv)) == -1)
		return tp_err_set(err, TP_INTERNAL, "query too long");
	/*
	 * tenant is the uid of every path under users/{uid}, so the parent
	 * term keeps exactly the collections users/{uid}/{collection_id}.
	 * Ordering by (tenant, id) is the order of the paths segment by
	 * segment: their first two segments are equal, the fourth is the id.
	 */
	SQL_ADD("SELECT path, data, update_time FROM docs WHERE tenant >= ?1");
	if (q->to_uid != NULL)
		SQL_ADD(" AND tenant < ?2");
	SQL_ADD(" AND parent = 'users/' || tenant || '/' || ?5");
	/* the very term of the partial indexes' WHERE (see the query's) */
	if (keyed == SQLITE_KEYED_TRADES)
		SQL_ADD(" AND " SQLITE_TRADES);
	else if (keyed == SQLITE_KEYED_SIGNALS)
		SQL_ADD(" AND " SQLITE_SIGNALS);
	if (q->start_after != NULL)
		SQL_ADD(" AND (tenant, id) > (?6, ?7)");
	if (wf != NULL && sqlite_where_sql(wf, wv, q->where_value, buf + off,
	    size - off, &off, err) == -1)
		return -1;
	SQL_ADD(" ORDER BY tenant, id LIMIT ?4");
#undef SQL_ADD
	return 0;
}

static void
sqlite_bind_value(sqlite3_stmt *s, int idx, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		sqlite3_bind_int(s, idx, json_object_get_boolean(v) ? 1 : 0);
		break;
	case json_type_int:
		sqlite3_bind_int64(s, idx, json_object_get_int64(v));
		break;
	case json_type_double:
		sqlite3_bind_double(s, idx, json_object_get_double(v));
		break;
	case json_type_string:
		sqlite3_bind_text(s, idx, json_object_get_string(v),
		    json_object_get_string_len(v), SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(s, idx);
		break;
	}
}

/* Rows of a query statement s into out. */
static int
sqlite_rows(struct sqlite_conn *c, sqlite3_stmt *s, struct store_doclist *out,
    struct tp_err *err)
{
	json_object *data;
	const char *path, *text, *ut;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		path = (const char *)sqlite3_column_text(s, 0);
		text = (const char *)sqlite3_column_text(s, 1);
		ut = (const char *)sqlite3_column_text(s, 2);
		if (path == NULL)
			return tp_err_set(err, TP_INTERNAL,
			    "row without a path");
		if ((data = sqlite_parse(text, sqlite3_column_bytes(s, 1),
		    path, err)) == NULL)
			return -1;
		if (store_doclist_push(out, path, data, ut, err) == -1)
			return -1;
	}
	if (rc != SQLITE_DONE)
		return sqlite_fail(c->db, rc, "query", err);
	return 0;
}

static int
sqlite_query(void *arg, const struct store_query *q,
    struct store_doclist *out, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	sqlite3_stmt *s = NULL;
	char sql[1024];
	int ret = -1;

	sqlite_count(be);
	if (store_sqlite_query_sql(q, sql, sizeof(sql), err) == -1)
		return -1;
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	if ((s = sqlite_query_stmt(c, sql, err)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, q->collection, -1, SQLITE_STATIC);
	if (q->start_after != NULL)
		sqlite3_bind_text(s, 2, q->start_after, -1, SQLITE_STATIC);
	if (q->where_field != NULL)
		sqlite_bind_value(s, 3, q->where_value);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)q->limit);
	ret = sqlite_rows(c, s, out, err);
out:
	if (s != NULL)		/* cached: reset for the next query */
		sqlite_done(s);
	sqlite_release(be, c);
	return ret;
}

static int
sqlite_query_group(void *arg, const struct store_group_query *q,
    struct store_doclist *out, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	sqlite3_stmt *s = NULL;
	const char *uid, *id;
	char sql[1024];
	int ret = -1;

	sqlite_count(be);
	if (store_sqlite_group_sql(q, sql, sizeof(sql), err) == -1)
		return -1;
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	if ((s = sqlite_query_stmt(c, sql, err)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, q->from_uid != NULL ? q->from_uid : "", -1,
	    SQLITE_STATIC);
	if (q->to_uid != NULL)
		sqlite3_bind_text(s, 2, q->to_uid, -1, SQLITE_STATIC);
	if (q->where_field != NULL)
		sqlite_bind_value(s, 3, q->where_value);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)q->limit);
	sqlite3_bind_text(s, 5, q->collection_id, -1, SQLITE_STATIC);
	if (q->start_after != NULL) {
		/* store.c checked it: users/{uid}/{collection_id}/{id} */
		uid = q->start_after + strlen("users/");
		id = strrchr(q->start_after, '/') + 1;
		sqlite3_bind_text(s, 6, uid, (int)(strchr(uid, '/') - uid),
		    SQLITE_STATIC);
		sqlite3_bind_text(s, 7, id, -1, SQLITE_STATIC);
	}
	ret = sqlite_rows(c, s, out, err);
out:
	if (s != NULL)
		sqlite_done(s);
	sqlite_release(be, c);
	return ret;
}

/* Every document read in one read transaction: one snapshot. */
static int
sqlite_get_many(void *arg, const char *const *paths, size_t n,
    struct store_doc *out, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	const char *slash;
	size_t i;
	int found, ret = -1;

	sqlite_count(be);
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	if (sqlite_run(c, STMT_BEGIN_READ, err) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		found = sqlite_read(c, paths[i], &out[i].data,
		    out[i].update_time, sizeof(out[i].update_time), err);
		if (found == -1)
			goto out;
		if (found == 0)
			continue;
		slash = strrchr(paths[i], '/');
		out[i].path = strdup(paths[i]);
		out[i].id = strdup(slash + 1);
		if (out[i].path == NULL || out[i].id == NULL) {
			tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
			goto out;
		}
	}
	ret = 0;
out:
	sqlite_release(be, c);	/* ends the read transaction */
	return ret;
}

static uint64_t
sqlite_requests(void *arg)
{
	struct sqlite_be *be = arg;

	return atomic_load_explicit(&be->requests, memory_order_relaxed);
}

static int
sqlite_list_tenants(void *arg, size_t limit, const char *start_after,
    char ***uids, size_t *n, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	sqlite3_stmt *s;
	const char *uid, *cur = start_after != NULL ? start_after : "";
	char **v, *copy;
	size_t cap = 0;
	int rc, ret = -1;

	sqlite_count(be);
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	/* one read transaction: every probe sees the same snapshot */
	if (sqlite_run(c, STMT_BEGIN_READ, err) == -1 ||
	    (s = sqlite_stmt(c, STMT_TENANT_NEXT, err)) == NULL)
		goto out;
	while (*n < limit) {
		sqlite3_bind_text(s, 1, cur, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			sqlite_done(s);
			break;
		}
		if (rc != SQLITE_ROW) {
			sqlite_fail(c->db, rc, "list tenants", err);
			sqlite_done(s);
			goto out;
		}
		uid = (const char *)sqlite3_column_text(s, 0);
		copy = uid != NULL ? strdup(uid) : NULL;
		sqlite_done(s);
		if (copy == NULL) {
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((v = reallocarray(*uids, cap, sizeof(*v))) ==
			    NULL) {
				free(copy);
				tp_err_set(err, TP_RESOURCE_EXHAUSTED,
				    "out of memory");
				goto out;
			}
			*uids = v;
		}
		(*uids)[(*n)++] = copy;
		cur = copy;
	}
	ret = 0;
out:
	sqlite_rollback(c);
	sqlite_release(be, c);
	return ret;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.get = sqlite_get,
	.commit = sqlite_commit,
	.commit_many = sqlite_commit_many,
	.query = sqlite_query,
	.list_tenants = sqlite_list_tenants,
	.get_many = sqlite_get_many,
	.query_group = sqlite_query_group,
	.requests = sqlite_requests,
};
