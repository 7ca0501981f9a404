/* store.h: the document store: path-addressed JSON documents, sync and async. */
#ifndef TP_STORE_H
#define TP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "common/error.h"
#include "common/timefmt.h"	/* store_timestamp */

/*
 * Documents are json-c objects (maps) addressed by Firestore-style paths
 * (see path.h). Values are JSON values; a timestamp is a string in the
 * canonical form "YYYY-MM-DDTHH:MM:SS.ffffffZ" (store_timestamp) and a
 * remote backend stores such strings as Firestore timestampValue, so that
 * ordering by a timestamp field works on every backend.
 *
 * Every operation exists in two forms:
 *  - synchronous (store_get, store_set, ...): blocks the calling thread.
 *    Safe to call from several threads at once. Used by the CLI, tests and
 *    by work functions that run on the store's threads.
 *  - asynchronous (store_async): the work runs on one of the store's
 *    threads and its completion callback runs on the event base given to
 *    store_open, so the daemon's event loop never waits on the store and
 *    many requests run at once.
 *
 * Ownership: json objects passed in are borrowed (not consumed); json
 * objects returned through out-parameters belong to the caller
 * (json_object_put them). Strings returned belong to the caller (free).
 */

#define STORE_DOC_MAX   (1024 * 1024)	/* serialized document, Firestore's limit */
#define STORE_BATCH_MAX 500		/* writes in one batch, Firestore's limit */
#define STORE_QUERY_MAX 10000		/* documents one list/query returns */
#define STORE_DEPTH_MAX 20		/* nesting of maps and arrays (the top
					   map is level 1), Firestore's limit */

struct store;

enum store_backend {
	STORE_SQLITE,
	STORE_FIRESTORE,
};

struct store_params {
	enum store_backend backend;
	const char *path;		/* sqlite: database file */
	bool sync_full;			/* sqlite: synchronous=FULL (power-loss safe) */
	int threads;			/* async worker threads (0: default 4) */
	/* firestore */
	const char *project_id;		/* NULL: the credentials' project */
	const char *database;		/* NULL: "(default)" */
	const char *emulator_host;	/* host:port: no TLS, "Bearer owner" */
	const char *credentials;	/* service-account JSON file */
	const char *token_url;		/* NULL: the file's token_uri */
	int64_t deadline_ms;		/* one operation, retries included
					   (0: STORE_DEADLINE_MS) */
};

/* base may be NULL when only the synchronous calls are used. */
struct store *store_open(const struct store_params *params,
    struct event_base *base, struct tp_err *err);
/* Waits for the running async work, delivers no more callbacks, closes. */
void store_free(struct store *st);

/* A fetched document. */
struct store_doc {
	char *path;
	char *id;			/* last segment of path */
	json_object *data;		/* a map */
	char update_time[32];		/* canonical timestamp of the last write */
};

struct store_doclist {
	struct store_doc *docs;
	size_t n;
};

void store_doc_clear(struct store_doc *doc);
void store_doclist_free(struct store_doclist *list);

enum store_order {
	STORE_ORDER_NONE,
	STORE_ORDER_ASC,
	STORE_ORDER_DESC,
};

struct store_query {
	const char *collection;		/* collection path */
	const char *where_field;	/* NULL: no filter */
	json_object *where_value;	/* field == value (string, int, double, bool, null) */
	const char *order_field;	/* NULL: by document id */
	enum store_order order;
	size_t limit;			/* 0: STORE_QUERY_MAX */
	const char *start_after;	/* document id to continue after (order by id only) */
};

/* Gets one document. Missing document: -1 with TP_NOT_FOUND. */
int store_get(struct store *st, const char *path, struct store_doc *out,
    struct tp_err *err);
/*
 * Replaces (merge=false) or merges (merge=true) a document. A merge is a
 * JSON merge patch (RFC 7396): nested maps are merged recursively, a null
 * DELETES the field it names (at any depth: {"a":{"b":null}} removes a.b
 * and keeps the rest of a), and every other value (arrays included)
 * replaces the old one whole. Merging into a missing document creates it
 * as the merge of data into an empty map, so it never holds those nulls.
 * Numbers keep the text they were written with. data itself is bounded
 * like a document (STORE_DOC_MAX serialized), and so is the result: a
 * merge that would make the document bigger fails (TP_INVALID_ARGUMENT)
 * and leaves it unchanged. To store a null, set the whole document.
 */
int store_set(struct store *st, const char *path, json_object *data,
    bool merge, struct tp_err *err);
/* Creates a document with a new automatic 20-character id in collection;
 * the new id is written to id_out (size >= AUTO_ID_LEN + 1) if not NULL. */
int store_create(struct store *st, const char *collection, json_object *data,
    char *id_out, struct tp_err *err);
/* Deletes a document; deleting a missing document is not an error. */
int store_delete(struct store *st, const char *path, struct tp_err *err);
/* Lists the documents of a collection, ordered by id (limit 0: all up to
 * STORE_QUERY_MAX), starting after start_after when it is not NULL. */
int store_list(struct store *st, const char *collection, size_t limit,
    const char *start_after, struct store_doclist *out, struct tp_err *err);
int store_query(struct store *st, const struct store_query *q,
    struct store_doclist *out, struct tp_err *err);
/*
 * Lists tenant uids in ascending order: every users/{uid} that has any
 * document under it, even when users/{uid} itself was never written.
 * Returns up to limit (0: STORE_QUERY_MAX) uids after start_after (NULL:
 * from the first). *uids is a malloc'd array of malloc'd strings.
 */
int store_list_tenants(struct store *st, size_t limit, const char *start_after,
    char ***uids, size_t *n, struct tp_err *err);
void store_strings_free(char **v, size_t n);

/*
 * Bulk reads, so that a remote backend answers many tenants with one
 * request (a pulse must not cost a request per document).
 *
 * store_get_many: n (1..STORE_GET_MANY_MAX) documents at once. out[i]
 * (zeroed first) gets the document at paths[i]; a missing document leaves
 * out[i].data NULL (not an error). -1 when the read failed as a whole.
 */
#define STORE_GET_MANY_MAX 1000
int store_get_many(struct store *st, const char *const *paths, size_t n,
    struct store_doc *out, struct tp_err *err);

/*
 * A collection-group query over tenants: the documents of every
 * collection named collection_id directly under users/{uid}
 * (users/{uid}/{collection_id}/{id}) for from_uid <= uid < to_uid (NULL:
 * unbounded), where where_field == where_value, ordered by (uid, id): the
 * order of their paths segment by segment, as Firestore orders __name__.
 * start_after (a document path from an earlier page, NULL) continues after
 * that document. limit as for store_query.
 */
struct store_group_query {
	const char *collection_id;	/* e.g. "shadowTradeHistory" */
	const char *where_field;	/* NULL: no filter */
	json_object *where_value;	/* scalar, as in store_query */
	const char *from_uid;		/* NULL: from the first tenant */
	const char *to_uid;		/* exclusive; NULL: to the last */
	const char *start_after;	/* document path; NULL: from the start */
	size_t limit;			/* 0: STORE_QUERY_MAX */
};
int store_query_group(struct store *st, const struct store_group_query *q,
    struct store_doclist *out, struct tp_err *err);

/*
 * Requests the backend has made since the store was opened: HTTP requests
 * for Firestore (retries included), primitive calls for SQLite. Monotonic;
 * a caller measures an operation by the difference.
 */
uint64_t store_requests(const struct store *st);

/* An atomic batch of writes: all are applied, or none. */
enum store_write_kind {
	STORE_W_SET,
	STORE_W_MERGE,
	STORE_W_CREATE,		/* fails with TP_ALREADY_EXISTS if the doc exists */
	STORE_W_DELETE,
};

struct store_batch;

struct store_batch *store_batch_new(void);
/* Adds a write; data is copied (reference taken). Path errors are
 * reported when the batch is committed. */
void store_batch_add(struct store_batch *b, enum store_write_kind kind,
    const char *path, json_object *data);
/* The same without the copy: takes a reference to data, which the
 * caller must not change afterwards (nor share with another thread that
 * does). */
void store_batch_add_ref(struct store_batch *b, enum store_write_kind kind,
    const char *path, json_object *data);
size_t store_batch_len(const struct store_batch *b);
int store_batch_commit(struct store *st, struct store_batch *b,
    struct tp_err *err);
/*
 * Commits nb batches, each atomically and on its own: rcs[i] (0 or -1)
 * and errs[i] say how batch i went; one failing leaves the others
 * committed. The backend shares transactions between them where it can
 * (one SQLite commit for all), which is what makes many small batches
 * cheap. Returns -1 when none was tried (every errs[i] says why).
 */
int store_batch_commit_many(struct store *st, struct store_batch **b,
    size_t nb, int *rcs, struct tp_err *errs);
void store_batch_free(struct store_batch *b);

/*
 * Asynchronous work: work(st, arg) runs on a store thread and may call any
 * synchronous store function; then done(arg) runs on the event base.
 * Returns -1 with TP_RESOURCE_EXHAUSTED when the queue is full, and
 * TP_FAILED_PRECONDITION when the store has no event base.
 */
typedef void (*store_work_fn)(struct store *st, void *arg);
typedef void (*store_done_fn)(void *arg);
int store_async(struct store *st, store_work_fn work, store_done_fn done,
    void *arg, struct tp_err *err);
/* Work queued or running, for status reports. */
size_t store_pending(struct store *st);

/* Backend name, e.g. "sqlite", for status reports. */
const char *store_backend_name(const struct store *st);
/* 0 when this build has the backend, else -1 saying so (store_open
 * refuses it the same way). */
int store_backend_available(enum store_backend backend, struct tp_err *err);

#endif
