/* store.c: the backend-independent document store: validation, sync operations, batches, open and free. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/store.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/path.h"
#include "common/store_backend.h"
#include "common/store_int.h"

/* Backends by enum store_backend; NULL where not built. */
static const struct store_ops *const store_backends[] = {
	[STORE_SQLITE] = &store_sqlite_ops,
	[STORE_FIRESTORE] = &store_firestore_ops,
};

static const char *const store_backend_names[] = {
	[STORE_SQLITE] = "sqlite",
	[STORE_FIRESTORE] = "firestore",
};

struct store_batch_write {
	enum store_write_kind kind;
	char *path;
	json_object *data;
};

struct store_batch {
	struct store_batch_write *w;
	size_t n;		/* writes added (may exceed what is kept) */
	size_t kept;		/* writes stored in w, at most STORE_BATCH_MAX */
	size_t cap;
	bool nomem;
};

/* --- validation --- */

/* Depth (the top map is level 1), finite numbers and UTF-8 strings. */
static int
store_check_value(const char *path, json_object *v, int depth,
    struct tp_err *err)
{
	struct json_object_iterator it, end;
	const char *key;
	size_t i, n;

	if (depth > STORE_DEPTH_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "document %s: nested deeper than %d levels", path,
		    STORE_DEPTH_MAX);
	switch (json_object_get_type(v)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "document %s: number is not finite", path);
		return 0;
	case json_type_string:
		if (!json_utf8_valid(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "document %s: string is not valid UTF-8", path);
		return 0;
	case json_type_object:
		it = json_object_iter_begin(v);
		end = json_object_iter_end(v);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			key = json_object_iter_peek_name(&it);
			if (!json_utf8_valid(key, strlen(key)))
				return tp_err_set(err, TP_INVALID_ARGUMENT,
				    "document %s: key is not valid UTF-8",
				    path);
			if (store_check_value(path,
			    json_object_iter_peek_value(&it), depth + 1,
			    err) == -1)
				return -1;
		}
		return 0;
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			if (store_check_value(path,
			    json_object_array_get_idx(v, i), depth + 1,
			    err) == -1)
				return -1;
		return 0;
	default:
		return 0;
	}
}

int
store_check_size(const char *path, size_t len, struct tp_err *err)
{
	if (len > STORE_DOC_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "document %s: %zu bytes, more than the limit of %d", path,
		    len, STORE_DOC_MAX);
	return 0;
}

/* Checks that data is a storable map and serializes it (a merge's data
 * too: it is the patch the backend applies, bounded like a document). */
static int
store_check_data(const char *path, json_object *data, const char **json,
    size_t *len, struct tp_err *err)
{
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "document %s: data must be a JSON object (map)", path);
	if (store_check_value(path, data, 1, err) == -1)
		return -1;
	if ((*json = json_compact(data, len)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "document %s: out of memory serializing", path);
	return store_check_size(path, *len, err);
}

int
store_check_open(const struct store *st, struct tp_err *err)
{
	if (st == NULL)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "store is not open");
	return 0;
}

/* --- results --- */

void
store_doc_clear(struct store_doc *doc)
{
	if (doc == NULL)
		return;
	free(doc->path);
	free(doc->id);
	json_object_put(doc->data);
	memset(doc, 0, sizeof(*doc));
}

void
store_doclist_free(struct store_doclist *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->n; i++)
		store_doc_clear(&list->docs[i]);
	free(list->docs);
	list->docs = NULL;
	list->n = 0;
}

/* A list's capacity is implied by n: 8, doubled each time n reaches it. */
static bool
store_doclist_full(size_t n)
{
	return n == 0 || (n >= 8 && (n & (n - 1)) == 0);
}

int
store_doclist_push(struct store_doclist *list, const char *path,
    json_object *data, const char *update_time, struct tp_err *err)
{
	struct store_doc *docs, *d;
	const char *slash;

	if (store_doclist_full(list->n)) {
		docs = reallocarray(list->docs, list->n == 0 ? 8 : list->n * 2,
		    sizeof(*docs));
		if (docs == NULL) {
			json_object_put(data);
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory listing documents");
		}
		list->docs = docs;
	}
	d = &list->docs[list->n];
	memset(d, 0, sizeof(*d));
	slash = strrchr(path, '/');
	d->path = strdup(path);
	d->id = strdup(slash != NULL ? slash + 1 : path);
	d->data = data;
	if (update_time != NULL)
		snprintf(d->update_time, sizeof(d->update_time), "%s",
		    update_time);
	list->n++;
	if (d->path == NULL || d->id == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory listing documents");
	return 0;
}

void
store_strings_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* --- synchronous operations --- */

int
store_get(struct store *st, const char *path, struct store_doc *out,
    struct tp_err *err)
{
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (store_check_open(st, err) == -1)
		return -1;
	if (out == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no output");
	if (path_check_doc(path, err) == -1)
		return -1;
	if (st->ops->get(st->be, path, out, err) == -1) {
		store_doc_clear(out);
		return -1;
	}
	return 0;
}

static int
store_commit_one(struct store *st, enum store_write_kind kind,
    const char *path, json_object *data, struct tp_err *err)
{
	struct store_write w;
	char now[32];

	memset(&w, 0, sizeof(w));
	w.kind = kind;
	w.path = path;
	if (kind != STORE_W_DELETE) {
		w.data = data;
		if (store_check_data(path, data, &w.json, &w.json_len,
		    err) == -1)
			return -1;
	}
	store_timestamp(now, sizeof(now));
	return st->ops->commit(st->be, &w, 1, now, err);
}

int
store_set(struct store *st, const char *path, json_object *data, bool merge,
    struct tp_err *err)
{
	if (store_check_open(st, err) == -1 || path_check_doc(path, err) == -1)
		return -1;
	return store_commit_one(st, merge ? STORE_W_MERGE : STORE_W_SET, path,
	    data, err);
}

int
store_create(struct store *st, const char *collection, json_object *data,
    char *id_out, struct tp_err *err)
{
	char path[PATH_MAX_LEN + 1], id[AUTO_ID_LEN + 1];
	int attempt, n;

	if (store_check_open(st, err) == -1 ||
	    path_check_collection(collection, err) == -1)
		return -1;
	/* 62^20 ids: a collision is all but impossible, but never fatal */
	for (attempt = 0; attempt < 5; attempt++) {
		path_auto_id(id);
		n = snprintf(path, sizeof(path), "%s/%s", collection, id);
		if (n < 0 || (size_t)n >= sizeof(path))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "collection %s: path too long for a new document",
			    collection);
		if (path_check_doc(path, err) == -1)
			return -1;
		if (store_commit_one(st, STORE_W_CREATE, path, data,
		    err) == 0) {
			if (id_out != NULL)
				memcpy(id_out, id, sizeof(id));
			return 0;
		}
		if (err == NULL || err->code != TP_ALREADY_EXISTS)
			return -1;
	}
	return -1;
}

int
store_delete(struct store *st, const char *path, struct tp_err *err)
{
	if (store_check_open(st, err) == -1 || path_check_doc(path, err) == -1)
		return -1;
	return store_commit_one(st, STORE_W_DELETE, path, NULL, err);
}

int
store_list(struct store *st, const char *collection, size_t limit,
    const char *start_after, struct store_doclist *out, struct tp_err *err)
{
	struct store_query q;

	memset(&q, 0, sizeof(q));
	q.collection = collection;
	q.order = STORE_ORDER_ASC;
	q.limit = limit;
	q.start_after = start_after;
	return store_query(st, &q, out, err);
}

static int
store_check_where_value(json_object *v, struct tp_err *err)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
	case json_type_boolean:
	case json_type_int:
	case json_type_string:
		return 0;
	case json_type_double:
		if (isfinite(json_object_get_double(v)))
			return 0;
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "query value is not a finite number");
	default:
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "query value must be a string, number, bool or null");
	}
}

int
store_query(struct store *st, const struct store_query *q,
    struct store_doclist *out, struct tp_err *err)
{
	struct store_query vq;
	char probe[PATH_MAX_LEN + 1];
	int n;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (store_check_open(st, err) == -1)
		return -1;
	if (q == NULL || out == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "missing query or output");
	if (path_check_collection(q->collection, err) == -1)
		return -1;
	vq = *q;
	if (vq.where_field != NULL &&
	    (path_check_field(vq.where_field, err) == -1 ||
	    store_check_where_value(vq.where_value, err) == -1))
		return -1;
	if (vq.order_field != NULL &&
	    path_check_field(vq.order_field, err) == -1)
		return -1;
	switch (vq.order) {
	case STORE_ORDER_NONE:
		vq.order = STORE_ORDER_ASC;
		break;
	case STORE_ORDER_ASC:
	case STORE_ORDER_DESC:
		break;
	default:
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "unknown query order %d", (int)vq.order);
	}
	if (vq.start_after != NULL) {
		if (vq.order_field != NULL)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "start_after needs ordering by document id");
		/* the id must be one that could name a document here */
		n = snprintf(probe, sizeof(probe), "%s/%s", vq.collection,
		    vq.start_after);
		if (n < 0 || (size_t)n >= sizeof(probe) ||
		    path_check_doc(probe, err) == -1)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "start_after is not a valid document id");
	}
	if (vq.limit == 0 || vq.limit > STORE_QUERY_MAX)
		vq.limit = STORE_QUERY_MAX;
	if (st->ops->query(st->be, &vq, out, err) == -1) {
		store_doclist_free(out);
		return -1;
	}
	return 0;
}

int
store_list_tenants(struct store *st, size_t limit, const char *start_after,
    char ***uids, size_t *n, struct tp_err *err)
{
	if (uids != NULL)
		*uids = NULL;
	if (n != NULL)
		*n = 0;
	if (store_check_open(st, err) == -1)
		return -1;
	if (uids == NULL || n == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no output");
	if (start_after != NULL && !path_valid_uid(start_after))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "start_after is not a valid uid");
	if (limit == 0 || limit > STORE_QUERY_MAX)
		limit = STORE_QUERY_MAX;
	if (st->ops->list_tenants(st->be, limit, start_after, uids, n,
	    err) == -1) {
		store_strings_free(*uids, *n);
		*uids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
store_get_many(struct store *st, const char *const *paths, size_t n,
    struct store_doc *out, struct tp_err *err)
{
	size_t i;

	if (out != NULL && n > 0 && n <= STORE_GET_MANY_MAX)
		memset(out, 0, n * sizeof(*out));
	if (store_check_open(st, err) == -1)
		return -1;
	if (paths == NULL || out == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "missing paths or output");
	if (n == 0 || n > STORE_GET_MANY_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%zu documents at once: must be 1..%d", n,
		    STORE_GET_MANY_MAX);
	for (i = 0; i < n; i++)
		if (path_check_doc(paths[i], err) == -1)
			return -1;
	if (st->ops->get_many != NULL) {
		if (st->ops->get_many(st->be, paths, n, out, err) == 0)
			return 0;
		goto fail;
	}
	/* a backend without a bulk read: one get each */
	for (i = 0; i < n; i++) {
		if (st->ops->get(st->be, paths[i], &out[i], err) == 0)
			continue;
		store_doc_clear(&out[i]);
		if (err == NULL || err->code != TP_NOT_FOUND)
			goto fail;
		tp_err_clear(err);
	}
	return 0;
fail:
	for (i = 0; i < n; i++)
		store_doc_clear(&out[i]);
	return -1;
}

/* Whether start_after names a document users/{uid}/{cid}/{id}. */
static bool
store_group_doc(const char *path, const char *cid)
{
	const char *p, *s;
	size_t k;

	if (strncmp(path, "users/", 6) != 0)
		return false;
	if ((s = strchr(path + 6, '/')) == NULL)
		return false;
	p = s + 1;
	k = strlen(cid);
	if (strncmp(p, cid, k) != 0 || p[k] != '/')
		return false;
	/* then exactly one segment: the document id */
	return p[k + 1] != '\0' && strchr(p + k + 1, '/') == NULL;
}

int
store_query_group(struct store *st, const struct store_group_query *q,
    struct store_doclist *out, struct tp_err *err)
{
	struct store_group_query vq;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (store_check_open(st, err) == -1)
		return -1;
	if (q == NULL || out == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "missing query or output");
	if (st->ops->query_group == NULL)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "store backend %s has no collection-group query",
		    st->ops->name);
	vq = *q;
	if (vq.collection_id == NULL ||
	    strchr(vq.collection_id, '/') != NULL ||
	    path_check_collection(vq.collection_id, err) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "collection_id must be one collection id");
	if (vq.where_field != NULL &&
	    (path_check_field(vq.where_field, err) == -1 ||
	    store_check_where_value(vq.where_value, err) == -1))
		return -1;
	if (vq.from_uid != NULL && !path_valid_uid(vq.from_uid))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "from_uid is not a valid uid");
	if (vq.to_uid != NULL && !path_valid_uid(vq.to_uid))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "to_uid is not a valid uid");
	if (vq.start_after != NULL &&
	    (path_check_doc(vq.start_after, err) == -1 ||
	    !store_group_doc(vq.start_after, vq.collection_id)))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "start_after is not a document of users/{uid}/%s",
		    vq.collection_id);
	if (vq.limit == 0 || vq.limit > STORE_QUERY_MAX)
		vq.limit = STORE_QUERY_MAX;
	if (st->ops->query_group(st->be, &vq, out, err) == -1) {
		store_doclist_free(out);
		return -1;
	}
	return 0;
}

uint64_t
store_requests(const struct store *st)
{
	if (st == NULL || st->be == NULL || st->ops->requests == NULL)
		return 0;
	return st->ops->requests(st->be);
}

/* --- batches --- */

struct store_batch *
store_batch_new(void)
{
	return calloc(1, sizeof(struct store_batch));
}

void
store_batch_add(struct store_batch *b, enum store_write_kind kind,
    const char *path, json_object *data)
{
	struct store_batch_write *w;
	size_t cap;

	if (b == NULL)
		return;
	/* past the limit only count: commit refuses the batch anyway */
	if (b->n++ >= STORE_BATCH_MAX)
		return;
	if (b->kept == b->cap) {
		cap = b->cap == 0 ? 16 : b->cap * 2;
		if ((w = reallocarray(b->w, cap, sizeof(*w))) == NULL) {
			b->nomem = true;
			return;
		}
		b->w = w;
		b->cap = cap;
	}
	w = &b->w[b->kept];
	w->kind = kind;
	w->path = path != NULL ? strdup(path) : NULL;
	w->data = data != NULL ? json_copy(data) : NULL;
	if ((path != NULL && w->path == NULL) ||
	    (data != NULL && w->data == NULL)) {
		free(w->path);
		json_object_put(w->data);
		b->nomem = true;
		return;
	}
	b->kept++;
}

void
store_batch_add_ref(struct store_batch *b, enum store_write_kind kind,
    const char *path, json_object *data)
{
	struct store_batch_write *w;

	store_batch_add(b, kind, path, NULL);
	if (b == NULL || data == NULL || b->nomem || b->n > STORE_BATCH_MAX)
		return;
	w = &b->w[b->kept - 1];
	w->data = json_object_get(data);
}

size_t
store_batch_len(const struct store_batch *b)
{
	return b != NULL ? b->n : 0;
}

void
store_batch_free(struct store_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->kept; i++) {
		free(b->w[i].path);
		json_object_put(b->w[i].data);
	}
	free(b->w);
	free(b);
}

/* Validates write i of a batch into w. */
static int
store_batch_check(const struct store_batch_write *bw, size_t i,
    struct store_write *w, struct tp_err *err)
{
	struct tp_err e;

	memset(w, 0, sizeof(*w));
	tp_err_clear(&e);
	switch (bw->kind) {
	case STORE_W_SET:
	case STORE_W_MERGE:
	case STORE_W_CREATE:
	case STORE_W_DELETE:
		break;
	default:
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "batch write %zu: unknown kind %d", i, (int)bw->kind);
	}
	if (path_check_doc(bw->path, &e) == -1 ||
	    (bw->kind != STORE_W_DELETE &&
	    store_check_data(bw->path, bw->data, &w->json, &w->json_len,
	    &e) == -1))
		return tp_err_set(err, e.code, "batch write %zu: %s", i,
		    e.msg);
	w->kind = bw->kind;
	w->path = bw->path;
	w->data = bw->kind != STORE_W_DELETE ? bw->data : NULL;
	return 0;
}

int
store_batch_commit(struct store *st, struct store_batch *b,
    struct tp_err *err)
{
	struct store_write *w;
	char now[32];
	size_t i;
	int rc;

	if (store_check_open(st, err) == -1)
		return -1;
	if (b == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no batch");
	if (b->n > STORE_BATCH_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "batch of %zu writes, more than the limit of %d", b->n,
		    STORE_BATCH_MAX);
	if (b->nomem)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory building the batch");
	if (b->kept == 0)
		return 0;
	if ((w = calloc(b->kept, sizeof(*w))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory committing the batch");
	for (i = 0; i < b->kept; i++)
		if (store_batch_check(&b->w[i], i, &w[i], err) == -1) {
			free(w);
			return -1;
		}
	store_timestamp(now, sizeof(now));
	rc = st->ops->commit(st->be, w, b->kept, now, err);
	free(w);
	return rc;
}

int
store_batch_commit_many(struct store *st, struct store_batch **b, size_t nb,
    int *rcs, struct tp_err *errs)
{
	const struct store_write **w = NULL;
	struct store_write *all = NULL;
	struct tp_err err;
	size_t *n = NULL, i, k, total = 0, off = 0;
	char now[32];

	for (i = 0; i < nb; i++) {
		rcs[i] = -1;
		tp_err_clear(&errs[i]);
		if (b[i] != NULL && b[i]->n <= STORE_BATCH_MAX)
			total += b[i]->kept;
	}
	if (store_check_open(st, &err) == -1)
		goto fail;
	if (st->ops->commit_many == NULL) {
		for (i = 0; i < nb; i++)
			rcs[i] = store_batch_commit(st, b[i], &errs[i]);
		return 0;
	}
	if ((w = calloc(nb, sizeof(*w))) == NULL ||
	    (n = calloc(nb, sizeof(*n))) == NULL ||
	    (all = calloc(total + 1, sizeof(*all))) == NULL) {
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED,
		    "out of memory committing the batches");
		goto fail;
	}
	for (i = 0; i < nb; i++) {
		if (b[i] == NULL) {
			tp_err_set(&errs[i], TP_INVALID_ARGUMENT, "no batch");
			continue;
		}
		if (b[i]->n > STORE_BATCH_MAX) {
			tp_err_set(&errs[i], TP_INVALID_ARGUMENT, "batch of %zu "
			    "writes, more than the limit of %d", b[i]->n,
			    STORE_BATCH_MAX);
			continue;
		}
		if (b[i]->nomem) {
			tp_err_set(&errs[i], TP_RESOURCE_EXHAUSTED,
			    "out of memory building the batch");
			continue;
		}
		for (k = 0; k < b[i]->kept; k++)
			if (store_batch_check(&b[i]->w[k], k, &all[off + k],
			    &errs[i]) == -1)
				break;
		if (k < b[i]->kept)
			continue;
		if (b[i]->kept == 0) {
			rcs[i] = 0;
			continue;
		}
		w[i] = &all[off];
		n[i] = b[i]->kept;
		off += b[i]->kept;
	}
	store_timestamp(now, sizeof(now));
	if (st->ops->commit_many(st->be, w, n, nb, now, rcs, errs,
	    &err) == -1) {
		for (i = 0; i < nb; i++)
			if (w[i] != NULL) {
				rcs[i] = -1;
				errs[i] = err;
			}
	}
	free(all);
	free(n);
	free(w);
	return 0;
fail:
	for (i = 0; i < nb; i++)
		errs[i] = err;
	free(all);
	free(n);
	free(w);
	return -1;
}

/* --- open / free --- */

int
store_backend_available(enum store_backend backend, struct tp_err *err)
{
	if ((size_t)backend >= sizeof(store_backends) /
	    sizeof(store_backends[0]))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "unknown store backend %d", (int)backend);
	if (store_backends[backend] == NULL)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "store backend %s is not available in this build",
		    store_backend_names[backend]);
	return 0;
}

struct store *
store_open(const struct store_params *params, struct event_base *base,
    struct tp_err *err)
{
	struct store *st;
	const struct store_ops *ops;
	int threads;

	if (params == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "no store parameters"), NULL;
	if (store_backend_available(params->backend, err) == -1)
		return NULL;
	ops = store_backends[params->backend];
	threads = params->threads == 0 ? STORE_THREADS_DEFAULT :
	    params->threads;
	if (threads < 1 || threads > STORE_THREADS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "store threads must be 1..%d", STORE_THREADS_MAX), NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory"), NULL;
	st->ops = ops;
	st->base = base;
	st->notify[0] = st->notify[1] = -1;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	if (ops->open(params, threads, &st->be, err) == -1) {
		st->be = NULL;
		store_free(st);
		return NULL;
	}
	if (base != NULL) {
		st->nthreads = threads;
		if (store_threads_start(st, err) == -1) {
			store_free(st);
			return NULL;
		}
	}
	return st;
}

/*
 * Waits for the work running on the store's threads, drops work not yet
 * started, and delivers no more callbacks: the caller still owns the
 * arguments of every request that did not complete, and frees them after
 * this returns (a daemon would first answer them, or run its loop until
 * store_pending() is 0). Call it on the event base's thread, outside any
 * done callback, before the base is freed.
 */
void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	store_async_stop(st);
	if (st->be != NULL)
		st->ops->close(st->be);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* --- misc --- */

const char *
store_backend_name(const struct store *st)
{
	return st != NULL ? st->ops->name : "none";
}
