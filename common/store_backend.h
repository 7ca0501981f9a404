/* store_backend.h: the internal interface between store.c and the storage backends. */
#ifndef TP_STORE_BACKEND_H
#define TP_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/store.h"

/*
 * store.c owns everything that does not depend on where documents live:
 * argument, path, field and data validation (so a backend only ever sees
 * valid paths and maps of at most STORE_DOC_MAX bytes), automatic ids,
 * batches, timestamps and the async thread pool. A backend implements the
 * few primitives below; every one of them is synchronous and must be safe
 * to call from several threads at once. Adding a backend (e.g. Cloud
 * Firestore over REST in store_firestore.c) means one more struct
 * store_ops and one line in store.c's backend table; callers are untouched.
 */

#define STORE_THREADS_DEFAULT 4
#define STORE_THREADS_MAX     64
#define STORE_ASYNC_MAX       4096	/* async requests in flight at once */
#define STORE_DEADLINE_MS     30000	/* a remote operation, retries included */

/* One write of a commit, validated by store.c. */
struct store_write {
	enum store_write_kind kind;
	const char *path;		/* valid document path */
	json_object *data;		/* valid map; NULL for STORE_W_DELETE */
	const char *json;		/* compact serialization of data (for
					   a MERGE: the patch); NULL for a
					   DELETE */
	size_t json_len;		/* <= STORE_DOC_MAX */
};

struct store_ops {
	const char *name;
	/* Opens the backend; threads is the async pool size (a hint for
	 * connection pools). Stores the backend's state in *be. */
	int (*open)(const struct store_params *params, int threads, void **be,
	    struct tp_err *err);
	/* Releases everything; no call is in progress. */
	void (*close)(void *be);
	/* One document; TP_NOT_FOUND when missing. out is zeroed. */
	int (*get)(void *be, const char *path, struct store_doc *out,
	    struct tp_err *err);
	/*
	 * Applies n >= 1 writes in order, atomically: all or none. A MERGE
	 * applies data to the stored document as an RFC 7396 merge patch
	 * (maps merged recursively, a null deletes its field, anything else
	 * replaces), or creates the document as the patch applied to {} (so
	 * without nulls), and must keep the result within STORE_DOC_MAX
	 * (store_check_size), failing the write otherwise. Number text is kept
	 * as written. (Firestore's own merge stores nulls: a Firestore backend
	 * turns them into field deletes.) A CREATE of an existing document
	 * fails with TP_ALREADY_EXISTS. now is the commit's canonical
	 * timestamp, for backends that keep their own update times.
	 */
	int (*commit)(void *be, const struct store_write *w, size_t n,
	    const char *now, struct tp_err *err);
	/*
	 * Optional (NULL: store.c commits the batches one by one): nb
	 * batches, each applied atomically and on its own (w[b] of n[b]
	 * writes; w[b] NULL: skip it), sharing transactions. rcs[b] and
	 * errs[b] get each batch's outcome. -1 (err) when the batches could
	 * not be committed at all: then none of them was.
	 */
	int (*commit_many)(void *be, const struct store_write *const *w,
	    const size_t *n, size_t nb, const char *now, int *rcs,
	    struct tp_err *errs, struct tp_err *err);
	/* A validated query: collection valid, fields valid, where_value of a
	 * scalar type, order never NONE, limit in 1..STORE_QUERY_MAX,
	 * start_after only with ordering by id. out is zeroed. */
	int (*query)(void *be, const struct store_query *q,
	    struct store_doclist *out, struct tp_err *err);
	/* Optional (NULL: store.c calls get n times): n paths, each valid;
	 * out[] zeroed; a missing document leaves out[i].data NULL. */
	int (*get_many)(void *be, const char *const *paths, size_t n,
	    struct store_doc *out, struct tp_err *err);
	/* A validated group query (collection_id a valid collection id,
	 * where as for query, limit in 1..STORE_QUERY_MAX). out is zeroed. */
	int (*query_group)(void *be, const struct store_group_query *q,
	    struct store_doclist *out, struct tp_err *err);
	/* Requests made since open (store_requests). */
	uint64_t (*requests)(void *be);
	/* Tenant uids after start_after (NULL: from the first), ascending;
	 * limit in 1..STORE_QUERY_MAX. */
	int (*list_tenants)(void *be, size_t limit, const char *start_after,
	    char ***uids, size_t *n, struct tp_err *err);
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_firestore_ops;

/* Helpers store.c provides to backends. */

/* TP_INVALID_ARGUMENT if a serialized document of len bytes is too big. */
int store_check_size(const char *path, size_t len, struct tp_err *err);
/* Appends a document (taking ownership of data, copying path) to list;
 * update_time may be NULL. */
int store_doclist_push(struct store_doclist *list, const char *path,
    json_object *data, const char *update_time, struct tp_err *err);

/*
 * SQLite only: writes into buf the SQL that store_sqlite runs for q (q as
 * the backend receives it), so that tests can check its query plan.
 * Parameters: ?1 collection, ?2 start_after, ?3 where value, ?4 limit.
 */
int store_sqlite_query_sql(const struct store_query *q, char *buf,
    size_t size, struct tp_err *err);

#endif
