/* store_firestore.c: the store over Cloud Firestore's REST v1 API: documents, commits, queries and tenants as few requests. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "common/fshttp.h"
#include "common/fsnum.h"
#include "common/fsvalue.h"
#include "common/gauth.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/store_backend.h"

/*
 * Every primitive is one synchronous fshttp_call (the store's threads call
 * them, so the event loop never waits); the transport keeps many of them in
 * flight at once over kept-alive connections. What makes a pulse cheap is
 * in the bulk primitives: batchGet for many documents, a collection-group
 * runQuery for many tenants' trades, and commit_many packing many tenants'
 * batches into one commit.
 */

#define FS_GET_MAX	500		/* documents in one batchGet */
#define FS_COMMIT_WRITES 500		/* writes in one commit */
#define FS_COMMIT_BYTES	(9 * 1024 * 1024)	/* under the 10 MiB request limit */
#define FS_TOKENS	64		/* listDocuments page tokens remembered */
#define FS_BASE_URL	"https://firestore.googleapis.com"

/* A listDocuments page token, by the uid of the page's last document. */
struct fs_token {
	char	*after;
	char	*token;
};

struct fs_backend {
	struct fshttp	*http;
	struct gauth	*auth;
	char		*docs;		/* projects/P/databases/D/documents */
	size_t		 docs_len;
	pthread_mutex_t	 mu;		/* tokens */
	struct fs_token	 tokens[FS_TOKENS];
	size_t		 next_token;	/* round robin */
};

/* --- names --- */

/* The REST path of a document or collection path ("" for the root). */
static char *
fs_url(const struct fs_backend *fb, const char *path, const char *suffix)
{
	char *s;

	if (asprintf(&s, "/v1/%s%s%s%s", fb->docs, *path != '\0' ? "/" : "",
	    path, suffix != NULL ? suffix : "") == -1)
		return NULL;
	return s;
}

/* The full resource name of a document path. */
static json_object *
fs_name(const struct fs_backend *fb, const char *path)
{
	char *s;
	json_object *o;

	if (asprintf(&s, "%s/%s", fb->docs, path) == -1)
		return NULL;
	o = json_object_new_string(s);
	free(s);
	return o;
}

/* The store path of a resource name, or NULL when it is not ours. */
static const char *
fs_path_of(const struct fs_backend *fb, const char *name)
{
	if (name == NULL || strncmp(name, fb->docs, fb->docs_len) != 0 ||
	    name[fb->docs_len] != '/')
		return NULL;
	return name + fb->docs_len + 1;
}

/* A Document of a reply -> the store's data and update time. */
static int
fs_doc_parse(const struct fs_backend *fb, json_object *doc,
    const char **path, json_object **data, char *ut, size_t utsize,
    struct tp_err *err)
{
	json_object *fields = NULL, *v;
	const char *name;

	*data = NULL;
	name = json_get_str(doc, "name");
	if ((*path = fs_path_of(fb, name)) == NULL ||
	    path_check_doc(*path, err) == -1)
		return tp_err_set(err, TP_INTERNAL, "Firestore answered with "
		    "a document outside the store");
	(void)json_object_object_get_ex(doc, "fields", &fields);
	if ((*data = fsvalue_data(fields, *path, err)) == NULL)
		return -1;
	if (fsnum_join(*data, err) == -1) {
		json_object_put(*data);
		*data = NULL;
		return -1;
	}
	ut[0] = '\0';
	if (json_object_object_get_ex(doc, "updateTime", &v) &&
	    json_object_is_type(v, json_type_string))
		(void)fsvalue_timestamp(json_object_get_string(v), ut, utsize);
	return 0;
}

/* --- open / close --- */

static pthread_once_t fs_once = PTHREAD_ONCE_INIT;
static CURLcode fs_curl_rc;

static void
fs_global_init(void)
{
	fs_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Google's project ids: lowercase letters, digits and hyphens. */
static bool
fs_valid_project(const char *s)
{
	size_t n;

	if (s == NULL || (n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-")) == 0 || n > 63)
		return false;
	return s[n] == '\0';
}

static void
fs_close(void *be)
{
	struct fs_backend *fb = be;
	size_t i;

	if (fb == NULL)
		return;
	fshttp_free(fb->http);
	gauth_free(fb->auth);
	for (i = 0; i < FS_TOKENS; i++) {
		free(fb->tokens[i].after);
		free(fb->tokens[i].token);
	}
	pthread_mutex_destroy(&fb->mu);
	free(fb->docs);
	free(fb);
}

static int
fs_open(const struct store_params *p, int threads, void **be,
    struct tp_err *err)
{
	struct fshttp_opts ho;
	struct gauth_opts go;
	struct fs_backend *fb;
	const char *project, *db;
	char *base = NULL;

	pthread_once(&fs_once, fs_global_init);
	if (fs_curl_rc != CURLE_OK || sodium_init() < 0)
		return tp_err_set(err, TP_INTERNAL, "cannot initialize libcurl "
		    "or libsodium");
	if ((fb = calloc(1, sizeof(*fb))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	pthread_mutex_init(&fb->mu, NULL);
	memset(&ho, 0, sizeof(ho));
	if (p->emulator_host != NULL && *p->emulator_host != '\0') {
		if (asprintf(&base, "http://%s", p->emulator_host) == -1)
			goto nomem;
	} else {
		if (p->credentials == NULL || *p->credentials == '\0') {
			tp_err_set(err, TP_INVALID_ARGUMENT, "the firestore "
			    "backend needs credentials (a service-account key "
			    "file) or emulator_host");
			goto fail;
		}
		memset(&go, 0, sizeof(go));
		go.token_url = p->token_url;
		if (gauth_load(p->credentials, &go, &fb->auth, err) == -1)
			goto fail;
		if ((base = strdup(FS_BASE_URL)) == NULL)
			goto nomem;
	}
	project = p->project_id != NULL && *p->project_id != '\0' ?
	    p->project_id : fb->auth != NULL ? gauth_project(fb->auth) : NULL;
	if (!fs_valid_project(project)) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "the firestore backend "
		    "needs a project_id of 1 to 63 lowercase letters, digits "
		    "and hyphens");
		goto fail;
	}
	db = p->database != NULL && *p->database != '\0' ? p->database :
	    "(default)";
	if (asprintf(&fb->docs, "projects/%s/databases/%s/documents",
	    project, db) == -1) {
		fb->docs = NULL;
		goto nomem;
	}
	fb->docs_len = strlen(fb->docs);
	ho.base_url = base;
	ho.auth = fb->auth;
	ho.deadline_ms = p->deadline_ms > 0 ? p->deadline_ms :
	    STORE_DEADLINE_MS;
	/* a connection per store thread, and a few for the bulk reads */
	ho.max_conns = threads + 4 < FSHTTP_CONNS_MAX ? threads + 4 :
	    FSHTTP_CONNS_MAX;
	if (fshttp_open(&ho, &fb->http, err) == -1)
		goto fail;
	free(base);
	*be = fb;
	return 0;
nomem:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
fail:
	free(base);
	fs_close(fb);
	return -1;
}

/* --- calls --- */

/* POSTs body (owned, put here) to url; *reply on success. */
static int
fs_post(struct fs_backend *fb, const char *url, json_object *body,
    bool idempotent, json_object **reply, struct tp_err *err)
{
	const char *text;
	size_t len;
	int rc;

	*reply = NULL;
	if ((text = json_compact(body, &len)) == NULL) {
		json_object_put(body);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	rc = fshttp_call(fb->http, "POST", url, text, len, idempotent, reply,
	    err);
	json_object_put(body);
	return rc;
}

static int
fs_get(void *be, const char *path, struct store_doc *out, struct tp_err *err)
{
	struct fs_backend *fb = be;
	json_object *reply = NULL, *data;
	const char *p;
	char *url;
	int rc = -1;

	if ((url = fs_url(fb, path, NULL)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	if (fshttp_call(fb->http, "GET", url, NULL, 0, true, &reply,
	    err) == -1) {
		if (err->code == TP_NOT_FOUND)
			tp_err_set(err, TP_NOT_FOUND, "no document %s", path);
		goto out;
	}
	if (fs_doc_parse(fb, reply, &p, &data, out->update_time,
	    sizeof(out->update_time), err) == -1)
		goto out;
	out->data = data;
	if ((out->path = strdup(path)) == NULL ||
	    (out->id = strdup(strrchr(path, '/') + 1)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(url);
	json_object_put(reply);
	return rc;
}

static int
fs_get_many(void *be, const char *const *paths, size_t n,
    struct store_doc *out, struct tp_err *err)
{
	struct fs_backend *fb = be;
	json_object *body, *docs, *reply = NULL, *item, *found, *data;
	const char *p;
	char ut[32], *url;
	size_t from, to, i, k, len;
	int rc = -1;

	if ((url = fs_url(fb, "", ":batchGet")) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	for (from = 0; from < n; from = to) {
		to = from + FS_GET_MAX < n ? from + FS_GET_MAX : n;
		if ((body = json_object_new_object()) == NULL ||
		    (docs = json_object_new_array()) == NULL) {
			json_object_put(body);
			goto nomem;
		}
		json_object_object_add(body, "documents", docs);
		for (i = from; i < to; i++)
			if (json_object_array_add(docs, fs_name(fb,
			    paths[i])) != 0) {
				json_object_put(body);
				goto nomem;
			}
		if (fs_post(fb, url, body, true, &reply, err) == -1)
			goto out;
		if (!json_object_is_type(reply, json_type_array)) {
			tp_err_set(err, TP_INTERNAL, "Firestore's batchGet "
			    "reply is not a list");
			goto out;
		}
		len = json_object_array_length(reply);
		for (k = 0; k < len; k++) {
			item = json_object_array_get_idx(reply, k);
			if (!json_object_object_get_ex(item, "found", &found))
				continue;	/* "missing": data stays NULL */
			if (fs_doc_parse(fb, found, &p, &data, ut, sizeof(ut),
			    err) == -1)
				goto out;
			/* every index asking for it (a path may repeat) */
			for (i = from; i < to; i++) {
				if (out[i].data != NULL ||
				    strcmp(paths[i], p) != 0)
					continue;
				out[i].data = data != NULL ?
				    json_object_get(data) : NULL;
				memcpy(out[i].update_time, ut, sizeof(ut));
				if ((out[i].path = strdup(p)) == NULL ||
				    (out[i].id = strdup(strrchr(p, '/') +
				    1)) == NULL) {
					json_object_put(data);
					goto nomem;
				}
			}
			json_object_put(data);
		}
		json_object_put(reply);
		reply = NULL;
	}
	rc = 0;
	goto out;
nomem:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
out:
	free(url);
	json_object_put(reply);
	return rc;
}

/* --- writes --- */

/*
 * The numbers' companion (fsnum.h) into a write: for a set or a create,
 * its value as the field FSNUM_FIELD (none when texts is NULL, so a
 * replaced document loses its stale texts); for a merge, its patch's
 * fields under FSNUM_FIELD and its paths, prefixed, in the mask.
 */
static int
fs_write_texts(const struct store_write *w, json_object *texts,
    json_object *fields, json_object *mask, struct tp_err *err)
{
	json_object *tf = NULL, *tm = NULL, *v;
	size_t i, n;
	char *s;

	if (texts == NULL)
		return 0;
	if (w->kind != STORE_W_MERGE) {
		if ((tf = fsvalue_fields(texts, w->path, err)) == NULL)
			return -1;
	} else {
		if (fsvalue_patch(texts, w->path, &tf, &tm, err) == -1)
			return -1;
		n = json_object_array_length(tm);
		for (i = 0; i < n; i++) {
			if (asprintf(&s, FSNUM_FIELD ".%s",
			    json_object_get_string(
			    json_object_array_get_idx(tm, i))) == -1)
				goto nomem;
			v = json_object_new_string(s);
			free(s);
			if (v == NULL || json_object_array_add(mask, v) != 0) {
				json_object_put(v);
				goto nomem;
			}
		}
		json_object_put(tm);
		tm = NULL;
	}
	/* a patch of deletions alone sets nothing */
	if (json_object_object_length(tf) == 0) {
		json_object_put(tf);
		return 0;
	}
	if ((v = json_object_new_object()) == NULL ||
	    json_add(v, "fields", tf) == -1) {
		tf = NULL;	/* released by json_add */
		json_object_put(v);
		goto nomem;
	}
	if ((tf = json_object_new_object()) == NULL) {
		json_object_put(v);
		goto nomem;
	}
	if (json_add(tf, "mapValue", v) == -1)	/* v released */
		goto nomem;
	return json_add(fields, FSNUM_FIELD, tf) == -1 ?
	    tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory") : 0;
nomem:
	json_object_put(tf);
	json_object_put(tm);
	return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
}

/* One store write as a Firestore Write. */
static json_object *
fs_write(const struct fs_backend *fb, const struct store_write *w,
    struct tp_err *err)
{
	json_object *o, *doc = NULL, *fields = NULL, *mask = NULL, *m;
	json_object *plain = NULL, *texts = NULL;
	int rc;

	if ((o = json_object_new_object()) == NULL)
		goto nomem;
	if (w->kind == STORE_W_DELETE) {
		json_object_object_add(o, "delete", fs_name(fb, w->path));
		return o;
	}
	/* doubles reach fsvalue without their text, which goes beside */
	if (w->kind == STORE_W_MERGE) {
		rc = fsnum_patch(w->data, &plain, &texts, err);
		if (rc == 0)
			rc = fsvalue_patch(plain, w->path, &fields, &mask, err);
	} else {
		rc = fsnum_split(w->data, &plain, &texts, err);
		if (rc == 0 && (fields = fsvalue_fields(plain, w->path,
		    err)) == NULL)
			rc = -1;
	}
	if (rc == 0)
		rc = fs_write_texts(w, texts, fields, mask, err);
	json_object_put(plain);
	json_object_put(texts);
	if (rc == -1)
		goto fail;
	if ((doc = json_object_new_object()) == NULL)
		goto nomem;
	json_object_object_add(doc, "name", fs_name(fb, w->path));
	json_object_object_add(doc, "fields", fields);
	fields = NULL;
	json_object_object_add(o, "update", doc);
	if (mask != NULL) {
		if ((m = json_object_new_object()) == NULL)
			goto nomem;
		json_object_object_add(m, "fieldPaths", mask);
		mask = NULL;
		json_object_object_add(o, "updateMask", m);
	}
	if (w->kind == STORE_W_CREATE) {
		if ((m = json_object_new_object()) == NULL)
			goto nomem;
		json_object_object_add(m, "exists",
		    json_object_new_boolean(0));
		json_object_object_add(o, "currentDocument", m);
	}
	return o;
nomem:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
fail:
	json_object_put(fields);
	json_object_put(mask);
	json_object_put(o);
	return NULL;
}

/* Adds the writes of one batch to arr; *idem false when one is a create. */
static int
fs_writes_add(const struct fs_backend *fb, json_object *arr,
    const struct store_write *w, size_t n, bool *idem, struct tp_err *err)
{
	json_object *o;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((o = fs_write(fb, &w[i], err)) == NULL)
			return -1;
		if (json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		}
		if (w[i].kind == STORE_W_CREATE)
			*idem = false;
	}
	return 0;
}

/* Commits the writes of batches [from, to) of w/n in one request. */
static int
fs_commit_range(struct fs_backend *fb, const struct store_write *const *w,
    const size_t *n, size_t from, size_t to, struct tp_err *err)
{
	json_object *body, *arr, *reply = NULL;
	bool idem = true;
	char *url;
	size_t b;
	int rc;

	if ((body = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array()) == NULL) {
		json_object_put(body);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	json_object_object_add(body, "writes", arr);
	for (b = from; b < to; b++)
		if (w[b] != NULL &&
		    fs_writes_add(fb, arr, w[b], n[b], &idem, err) == -1) {
			json_object_put(body);
			return -1;
		}
	if ((url = fs_url(fb, "", ":commit")) == NULL) {
		json_object_put(body);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	/* a set, merge or delete may be sent twice; a create may not */
	/* a create of an existing document: ALREADY_EXISTS, as the store's */
	rc = fs_post(fb, url, body, idem, &reply, err);
	free(url);
	json_object_put(reply);
	return rc;
}

/*
 * A merge patch an updateMask cannot express: an empty map (RFC 7396 keeps
 * an existing map but makes {} of a missing field or a scalar), or a map
 * of nulls only (which makes {} of a scalar). Such a merge is read and
 * applied here instead.
 */
static bool
fs_patch_hard(json_object *patch, int depth)
{
	struct json_object_iterator it, end;
	json_object *v;
	bool all_null = true;

	if (depth > JSON_MAX_DEPTH)
		return true;
	if (json_object_object_length(patch) == 0)
		return depth > 0;
	it = json_object_iter_begin(patch);
	end = json_object_iter_end(patch);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		if (v != NULL)
			all_null = false;
		if (json_object_is_type(v, json_type_object) &&
		    fs_patch_hard(v, depth + 1))
			return true;
	}
	return depth > 0 && all_null;
}

/* The index of the first write of w[0..n) to path, or n. */
static size_t
fs_first_write(const struct store_write *w, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(w[i].path, path) == 0)
			return i;
	return n;
}

/* Does the batch need to be read and applied here (see fs_commit_tx)? */
static bool
fs_batch_hard(const struct store_write *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (w[i].kind == STORE_W_MERGE && fs_patch_hard(w[i].data, 0))
			return true;
		if (fs_first_write(w, i, w[i].path) < i)
			return true;
	}
	return false;
}

/* Ends a transaction that will not commit (Firestore would expire it). */
static void
fs_rollback(struct fs_backend *fb, const char *txid)
{
	json_object *body, *reply = NULL;
	struct tp_err ignored;
	char *url;

	if ((url = fs_url(fb, "", ":rollback")) == NULL)
		return;
	if ((body = json_object_new_object()) != NULL) {
		json_object_object_add(body, "transaction",
		    json_object_new_string(txid));
		(void)fs_post(fb, url, body, true, &reply, &ignored);
	}
	json_object_put(reply);
	free(url);
}

/* Is path one fs_commit_tx reads and applies itself? */
static bool
fs_tx_local(const struct store_write *w, size_t n, size_t i)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (k != i && strcmp(w[k].path, w[i].path) == 0)
			return true;
	return w[i].kind == STORE_W_MERGE && fs_patch_hard(w[i].data, 0);
}

/*
 * A batch Firestore cannot take as it is: several writes to one document
 * (the emulator refuses them in one commit), or a merge a mask cannot
 * express. In a transaction, the documents concerned are read, the
 * batch's writes to them applied here in order (json_merge is the store's
 * merge; a create of an existing document fails the batch), each checked
 * against STORE_DOC_MAX, and written as one set or delete each, with the
 * batch's other writes, in one commit: still all or nothing. Three
 * requests instead of one, for batches the daemon does not make.
 */
static int
fs_commit_tx(struct fs_backend *fb, const struct store_write *w, size_t n,
    struct tp_err *err)
{
	json_object *body = NULL, *reply = NULL, *docs, *arr, *item, *found;
	json_object **state = NULL, *data, *t;
	struct store_write *out = NULL, sw;
	const char *p, *txt, *tx;
	char ut[32], *url = NULL, *txid = NULL;
	size_t i, k, len, nout = 0, first;
	bool idem = true;
	int rc = -1;

	if ((state = calloc(n, sizeof(*state))) == NULL ||
	    (out = calloc(n, sizeof(*out))) == NULL)
		goto nomem;
	/* begin */
	if ((url = fs_url(fb, "", ":beginTransaction")) == NULL ||
	    (body = json_object_new_object()) == NULL)
		goto nomem;
	if (fs_post(fb, url, body, true, &reply, err) == -1)
		goto out;
	body = NULL;
	if ((tx = json_get_str(reply, "transaction")) == NULL ||
	    (txid = strdup(tx)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "Firestore began no transaction");
		goto out;
	}
	json_object_put(reply);
	reply = NULL;
	/* read the documents applied here, once each */
	free(url);
	if ((url = fs_url(fb, "", ":batchGet")) == NULL ||
	    (body = json_object_new_object()) == NULL ||
	    (docs = json_object_new_array()) == NULL)
		goto nomem;
	json_object_object_add(body, "documents", docs);
	json_object_object_add(body, "transaction",
	    json_object_new_string(txid));
	for (i = 0; i < n; i++)
		if (fs_tx_local(w, n, i) && fs_first_write(w, i, w[i].path) ==
		    i)
			json_object_array_add(docs, fs_name(fb, w[i].path));
	if (fs_post(fb, url, body, true, &reply, err) == -1) {
		body = NULL;
		goto out;
	}
	body = NULL;
	len = json_object_is_type(reply, json_type_array) ?
	    json_object_array_length(reply) : 0;
	for (k = 0; k < len; k++) {
		item = json_object_array_get_idx(reply, k);
		if (!json_object_object_get_ex(item, "found", &found))
			continue;
		if (fs_doc_parse(fb, found, &p, &data, ut, sizeof(ut),
		    err) == -1)
			goto out;
		if ((first = fs_first_write(w, n, p)) < n &&
		    state[first] == NULL)
			state[first] = data;
		else
			json_object_put(data);
	}
	/* apply, in order; state lives at each document's first write */
	for (i = 0; i < n; i++) {
		if (!fs_tx_local(w, n, i)) {
			out[nout++] = w[i];
			if (w[i].kind == STORE_W_CREATE)
				idem = false;
			continue;
		}
		first = fs_first_write(w, n, w[i].path);
		switch (w[i].kind) {
		case STORE_W_CREATE:
			if (state[first] != NULL) {
				tp_err_set(err, TP_ALREADY_EXISTS, "document "
				    "%s already exists", w[i].path);
				goto out;
			}
			/* FALLTHROUGH */
		case STORE_W_SET:
			json_object_put(state[first]);
			if ((state[first] = json_copy(w[i].data)) == NULL)
				goto nomem;
			break;
		case STORE_W_MERGE:
			if (state[first] == NULL &&
			    (state[first] = json_object_new_object()) == NULL)
				goto nomem;
			json_merge(state[first], w[i].data);
			break;
		case STORE_W_DELETE:
			json_object_put(state[first]);
			state[first] = NULL;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (!fs_tx_local(w, n, i) || fs_first_write(w, n, w[i].path) !=
		    i)
			continue;
		memset(&sw, 0, sizeof(sw));
		sw.path = w[i].path;
		sw.kind = state[i] != NULL ? STORE_W_SET : STORE_W_DELETE;
		sw.data = state[i];
		if (state[i] != NULL) {
			if ((txt = json_compact(state[i], &len)) == NULL)
				goto nomem;
			if (store_check_size(w[i].path, len, err) == -1)
				goto out;
		}
		out[nout++] = sw;
	}
	/* commit in the transaction */
	free(url);
	if ((url = fs_url(fb, "", ":commit")) == NULL ||
	    (body = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array()) == NULL)
		goto nomem;
	json_object_object_add(body, "writes", arr);
	json_object_object_add(body, "transaction",
	    json_object_new_string(txid));
	if (fs_writes_add(fb, arr, out, nout, &idem, err) == -1)
		goto out;
	json_object_put(reply);
	reply = NULL;
	t = body;
	body = NULL;
	rc = fs_post(fb, url, t, idem, &reply, err);
	goto out;
nomem:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
out:
	if (rc == -1 && txid != NULL)
		fs_rollback(fb, txid);
	if (state != NULL)
		for (i = 0; i < n; i++)
			json_object_put(state[i]);
	free(state);
	free(out);
	free(txid);
	free(url);
	json_object_put(body);
	json_object_put(reply);
	return rc;
}

static int
fs_commit(void *be, const struct store_write *w, size_t n, const char *now,
    struct tp_err *err)
{
	size_t i, creates = 0, at = 0;
	int rc;

	(void)now;	/* Firestore keeps its own update times */
	if (fs_batch_hard(w, n))
		return fs_commit_tx(be, w, n, err);
	if ((rc = fs_commit_range(be, &w, &n, 0, 1, err)) == -1 &&
	    err->code == TP_ALREADY_EXISTS) {
		/* name the document, as the SQLite backend does */
		for (i = 0; i < n; i++)
			if (w[i].kind == STORE_W_CREATE) {
				creates++;
				at = i;
			}
		if (creates == 1)
			tp_err_set(err, TP_ALREADY_EXISTS, "document %s "
			    "already exists", w[at].path);
	}
	return rc;
}

/* Errors that say nothing about the data: no use committing one by one. */
static bool
fs_err_global(enum tp_code code)
{
	return code == TP_UNAVAILABLE || code == TP_DEADLINE_EXCEEDED ||
	    code == TP_UNAUTHENTICATED || code == TP_PERMISSION_DENIED ||
	    code == TP_INTERNAL;
}

/*
 * Packs the batches into commits of at most FS_COMMIT_WRITES writes: one
 * request for many tenants. A Firestore commit is atomic, so a pack either
 * lands whole (every batch in it applied, each all-or-nothing) or not at
 * all; when a pack fails for a reason one batch may cause (a create of an
 * existing document, a value Firestore refuses), its batches are committed
 * again one by one, so one tenant's bad batch costs only its own.
 */
static int
fs_commit_many(void *be, const struct store_write *const *w,
    const size_t *n, size_t nb, const char *now, int *rcs,
    struct tp_err *errs, struct tp_err *err)
{
	struct fs_backend *fb = be;
	struct tp_err perr;
	size_t from, to, writes, b;

	(void)now;
	(void)err;
	for (from = 0; from < nb; from = to) {
		writes = 0;
		for (to = from; to < nb; to++) {
			if (w[to] == NULL)
				continue;
			if (writes > 0 && writes + n[to] > FS_COMMIT_WRITES)
				break;
			writes += n[to];
		}
		if (writes == 0)
			continue;
		tp_err_clear(&perr);
		if (fs_commit_range(fb, w, n, from, to, &perr) == 0) {
			for (b = from; b < to; b++)
				if (w[b] != NULL)
					rcs[b] = 0;
			continue;
		}
		for (b = from; b < to; b++) {
			if (w[b] == NULL)
				continue;
			if (fs_err_global(perr.code)) {
				rcs[b] = -1;
				errs[b] = perr;
				continue;
			}
			tp_err_clear(&errs[b]);
			rcs[b] = fs_commit_range(fb, w, n, b, b + 1, &errs[b]);
		}
	}
	return 0;
}

/* --- queries --- */

static json_object *
fs_field_ref(const char *dotted, struct tp_err *err)
{
	char fp[PATH_MAX_LEN * 2];
	json_object *o;

	if (fsvalue_field_path(dotted, fp, sizeof(fp), err) == -1)
		return NULL;
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "fieldPath", json_object_new_string(fp));
	return o;
}

/* field == value as a Firestore filter (null: IS_NULL). */
static json_object *
fs_filter_eq(const char *field, json_object *value, const char *path,
    struct tp_err *err)
{
	json_object *f, *ff, *ref, *v;

	if ((ref = fs_field_ref(field, err)) == NULL)
		return NULL;
	f = json_object_new_object();
	ff = json_object_new_object();
	if (f == NULL || ff == NULL)
		goto nomem;
	json_object_object_add(ff, "field", ref);
	ref = NULL;
	if (value == NULL) {
		json_object_object_add(ff, "op",
		    json_object_new_string("IS_NULL"));
		json_object_object_add(f, "unaryFilter", ff);
		return f;
	}
	if ((v = fsvalue_encode(value, path, err)) == NULL) {
		json_object_put(ff);
		json_object_put(f);
		return NULL;
	}
	json_object_object_add(ff, "op", json_object_new_string("EQUAL"));
	json_object_object_add(ff, "value", v);
	json_object_object_add(f, "fieldFilter", ff);
	return f;
nomem:
	json_object_put(ref);
	json_object_put(ff);
	json_object_put(f);
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return NULL;
}

/* __name__ OP reference(path) */
static json_object *
fs_filter_name(const struct fs_backend *fb, const char *op, const char *path)
{
	json_object *f, *ff, *ref, *v;

	f = json_object_new_object();
	ff = json_object_new_object();
	ref = json_object_new_object();
	v = json_object_new_object();
	if (f == NULL || ff == NULL || ref == NULL || v == NULL) {
		json_object_put(f);
		json_object_put(ff);
		json_object_put(ref);
		json_object_put(v);
		return NULL;
	}
	json_object_object_add(ref, "fieldPath",
	    json_object_new_string("__name__"));
	json_object_object_add(v, "referenceValue", fs_name(fb, path));
	json_object_object_add(ff, "field", ref);
	json_object_object_add(ff, "op", json_object_new_string(op));
	json_object_object_add(ff, "value", v);
	json_object_object_add(f, "fieldFilter", ff);
	return f;
}

/* {field: {fieldPath}, direction} */
static json_object *
fs_order(const char *field, bool desc, struct tp_err *err)
{
	json_object *o, *ref;

	if (field != NULL) {
		if ((ref = fs_field_ref(field, err)) == NULL)
			return NULL;
	} else if ((ref = json_object_new_object()) != NULL)
		json_object_object_add(ref, "fieldPath",
		    json_object_new_string("__name__"));
	if (ref == NULL || (o = json_object_new_object()) == NULL) {
		json_object_put(ref);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	json_object_object_add(o, "field", ref);
	json_object_object_add(o, "direction",
	    json_object_new_string(desc ? "DESCENDING" : "ASCENDING"));
	return o;
}

/* Filters joined by AND (one: itself, none: NULL). */
static json_object *
fs_where(json_object *filters)
{
	json_object *f, *c;

	switch (json_object_array_length(filters)) {
	case 0:
		return NULL;
	case 1:
		return json_object_get(json_object_array_get_idx(filters, 0));
	default:
		f = json_object_new_object();
		c = json_object_new_object();
		if (f == NULL || c == NULL) {
			json_object_put(f);
			json_object_put(c);
			return NULL;
		}
		json_object_object_add(c, "op", json_object_new_string("AND"));
		json_object_object_add(c, "filters", json_object_get(filters));
		json_object_object_add(f, "compositeFilter", c);
		return f;
	}
}

/*
 * Runs a structured query under parent (a document path, "" for the root)
 * and calls keep(path) for each document: only those it accepts are added
 * to out. *raw gets the number of documents the reply held, and *last
 * (when not NULL) a copy of the path of the last of them.
 */
static int
fs_run_query(struct fs_backend *fb, const char *parent, json_object *sq,
    bool (*keep)(const char *path, const void *arg), const void *arg,
    struct store_doclist *out, size_t *raw, char **last, struct tp_err *err)
{
	json_object *body, *reply = NULL, *item, *doc, *data, *e;
	const char *p, *msg;
	char ut[32], *url;
	size_t k, len;
	int rc = -1;

	*raw = 0;
	if ((body = json_object_new_object()) == NULL) {
		json_object_put(sq);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	json_object_object_add(body, "structuredQuery", sq);
	if ((url = fs_url(fb, parent, ":runQuery")) == NULL) {
		json_object_put(body);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (fs_post(fb, url, body, true, &reply, err) == -1)
		goto out;
	if (!json_object_is_type(reply, json_type_array)) {
		tp_err_set(err, TP_INTERNAL, "Firestore's runQuery reply is "
		    "not a list");
		goto out;
	}
	len = json_object_array_length(reply);
	for (k = 0; k < len; k++) {
		item = json_object_array_get_idx(reply, k);
		if (json_object_object_get_ex(item, "error", &e)) {
			msg = json_get_str(e, "message");
			tp_err_set(err, TP_UNAVAILABLE, "Firestore query "
			    "failed: %.160s", msg != NULL ? msg : "(no message)");
			goto out;
		}
		if (!json_object_object_get_ex(item, "document", &doc))
			continue;	/* readTime, skippedResults */
		(*raw)++;
		if (fs_doc_parse(fb, doc, &p, &data, ut, sizeof(ut),
		    err) == -1)
			goto out;
		if (last != NULL) {
			free(*last);
			if ((*last = strdup(p)) == NULL) {
				json_object_put(data);
				tp_err_set(err, TP_RESOURCE_EXHAUSTED,
				    "out of memory");
				goto out;
			}
		}
		if (keep != NULL && !keep(p, arg)) {
			json_object_put(data);
			continue;
		}
		if (store_doclist_push(out, p, data, ut, err) == -1)
			goto out;
	}
	rc = 0;
out:
	free(url);
	json_object_put(reply);
	return rc;
}

static int fs_query(void *be, const struct store_query *q,
    struct store_doclist *out, struct tp_err *err);

/*
 * Firestore refuses a descending scan of document ids with no filter
 * ("does not support descending key scans"): the collection is read
 * ascending, page by page, keeping the last q->limit documents before
 * start_after, which are returned newest id first. It costs a request per
 * 1,000 documents of the collection; nothing in the daemon asks for it.
 */
static int
fs_query_desc_ids(void *be, const struct store_query *q,
    struct store_doclist *out, struct tp_err *err)
{
	struct store_query aq;
	struct store_doclist page, keep = { NULL, 0 };
	struct store_doc tmp;
	char after[PATH_SEGMENT_MAX + 1];
	size_t i, drop;
	bool more = true;
	int rc = -1;

	aq = *q;
	aq.order = STORE_ORDER_ASC;
	aq.limit = 1000;
	aq.start_after = NULL;
	while (more) {
		memset(&page, 0, sizeof(page));
		if (fs_query(be, &aq, &page, err) == -1)
			goto out;
		more = page.n == aq.limit;
		for (i = 0; i < page.n; i++) {
			if (q->start_after != NULL && strcmp(page.docs[i].id,
			    q->start_after) >= 0) {
				more = false;
				break;
			}
			if (store_doclist_push(&keep, page.docs[i].path,
			    page.docs[i].data, page.docs[i].update_time,
			    err) == -1) {
				page.docs[i].data = NULL;
				store_doclist_free(&page);
				goto out;
			}
			page.docs[i].data = NULL;
		}
		if (page.n > 0)
			snprintf(after, sizeof(after), "%s",
			    page.docs[page.n - 1].id);
		aq.start_after = after;
		store_doclist_free(&page);
		/* keep at most q->limit of the newest */
		if (keep.n > q->limit) {
			drop = keep.n - q->limit;
			for (i = 0; i < drop; i++)
				store_doc_clear(&keep.docs[i]);
			memmove(keep.docs, keep.docs + drop, q->limit *
			    sizeof(*keep.docs));
			/* the buffer stays at least as big as n implies */
			keep.n = q->limit;
		}
	}
	for (i = 0; i < keep.n / 2; i++) {
		tmp = keep.docs[i];
		keep.docs[i] = keep.docs[keep.n - 1 - i];
		keep.docs[keep.n - 1 - i] = tmp;
	}
	*out = keep;
	keep.docs = NULL;
	keep.n = 0;
	rc = 0;
out:
	store_doclist_free(&keep);
	return rc;
}

static int
fs_query(void *be, const struct store_query *q, struct store_doclist *out,
    struct tp_err *err)
{
	struct fs_backend *fb = be;
	json_object *sq, *from, *filters = NULL, *f, *where, *orders, *o;
	json_object *cursor, *vals, *ref;
	char parent[PATH_MAX_LEN + 1], start[PATH_MAX_LEN + 1];
	const char *cid, *slash;
	bool desc = q->order == STORE_ORDER_DESC;
	size_t raw;

	if (desc && q->order_field == NULL && q->where_field == NULL)
		return fs_query_desc_ids(be, q, out, err);
	slash = strrchr(q->collection, '/');
	cid = slash != NULL ? slash + 1 : q->collection;
	snprintf(parent, sizeof(parent), "%.*s", slash != NULL ?
	    (int)(slash - q->collection) : 0, q->collection);
	if ((sq = json_object_new_object()) == NULL ||
	    (from = json_object_new_array()) == NULL ||
	    (f = json_object_new_object()) == NULL)
		goto nomem;
	json_object_object_add(f, "collectionId", json_object_new_string(cid));
	json_object_array_add(from, f);
	json_object_object_add(sq, "from", from);
	if ((filters = json_object_new_array()) == NULL)
		goto nomem;
	if (q->where_field != NULL) {
		if ((f = fs_filter_eq(q->where_field, json_object_is_type(
		    q->where_value, json_type_null) ? NULL : q->where_value,
		    q->collection, err)) == NULL)
			goto fail;
		json_object_array_add(filters, f);
	}
	if ((where = fs_where(filters)) != NULL)
		json_object_object_add(sq, "where", where);
	if ((orders = json_object_new_array()) == NULL)
		goto nomem;
	json_object_object_add(sq, "orderBy", orders);
	if (q->order_field != NULL) {
		if ((o = fs_order(q->order_field, desc, err)) == NULL)
			goto fail;
		json_object_array_add(orders, o);
	}
	/* by id last, as the SQLite backend breaks ties */
	if ((o = fs_order(NULL, desc, err)) == NULL)
		goto fail;
	json_object_array_add(orders, o);
	if (q->start_after != NULL) {
		snprintf(start, sizeof(start), "%s/%s", q->collection,
		    q->start_after);
		if ((cursor = json_object_new_object()) == NULL ||
		    (vals = json_object_new_array()) == NULL ||
		    (ref = json_object_new_object()) == NULL)
			goto nomem;
		json_object_object_add(ref, "referenceValue",
		    fs_name(fb, start));
		json_object_array_add(vals, ref);
		json_object_object_add(cursor, "values", vals);
		json_object_object_add(cursor, "before",
		    json_object_new_boolean(0));
		json_object_object_add(sq, "startAt", cursor);
	}
	json_object_object_add(sq, "limit",
	    json_object_new_int64((int64_t)q->limit));
	json_object_put(filters);
	return fs_run_query(fb, parent, sq, NULL, NULL, out, &raw, NULL,
	    err);
nomem:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
fail:
	json_object_put(filters);
	json_object_put(sq);
	return -1;
}

/* users/{uid}/{cid}/{id} exactly, with uid in the query's range. */
static bool
fs_group_keep(const char *path, const void *arg)
{
	const struct store_group_query *q = arg;
	const char *uid, *cid, *id, *end;
	size_t ulen, n;
	int c;

	if (strncmp(path, "users/", 6) != 0)
		return false;
	uid = path + 6;
	if ((cid = strchr(uid, '/')) == NULL)
		return false;
	ulen = (size_t)(cid - uid);
	cid++;
	n = strlen(q->collection_id);
	if (strncmp(cid, q->collection_id, n) != 0 || cid[n] != '/')
		return false;
	id = cid + n + 1;
	if ((end = strchr(id, '/')) != NULL)
		return false;
	if (q->from_uid != NULL) {
		c = strncmp(uid, q->from_uid, ulen);
		if (c < 0 || (c == 0 && q->from_uid[ulen] != '\0'))
			return false;
	}
	if (q->to_uid != NULL) {
		c = strncmp(uid, q->to_uid, ulen);
		if (c > 0 || (c == 0 && q->to_uid[ulen] == '\0'))
			return false;
	}
	return true;
}

/*
 * A collection-group query: runQuery at the root over every collection
 * named collection_id, the tenant range as __name__ bounds, ordered by
 * __name__ (Firestore's single-field collection-group index on the where
 * field serves it; firestore.indexes.json declares it). Documents of that
 * collection id elsewhere (a top-level one, or deeper) are dropped here,
 * and the next page fetched when that left the page short.
 */
static int
fs_query_group(void *be, const struct store_group_query *q,
    struct store_doclist *out, struct tp_err *err)
{
	struct fs_backend *fb = be;
	json_object *sq, *from, *f, *filters, *where, *orders, *o;
	json_object *cursor, *vals, *ref;
	char bound[PATH_MAX_LEN + 1], *after = NULL;
	size_t raw, want;

	for (;;) {
		want = q->limit - out->n;
		sq = from = f = filters = NULL;
		if ((sq = json_object_new_object()) == NULL ||
		    (from = json_object_new_array()) == NULL ||
		    (f = json_object_new_object()) == NULL ||
		    (filters = json_object_new_array()) == NULL)
			goto nomem;
		json_object_object_add(f, "collectionId",
		    json_object_new_string(q->collection_id));
		json_object_object_add(f, "allDescendants",
		    json_object_new_boolean(1));
		json_object_array_add(from, f);
		f = NULL;
		json_object_object_add(sq, "from", from);
		from = NULL;
		if (q->where_field != NULL) {
			if ((f = fs_filter_eq(q->where_field,
			    json_object_is_type(q->where_value,
			    json_type_null) ? NULL : q->where_value,
			    q->collection_id, err)) == NULL)
				goto fail;
			json_object_array_add(filters, f);
			f = NULL;
		}
		/* without a lower bound the legacy top-level collection of
		 * that name ("shadowTradeHistory" < "users") would be read
		 * first; "-" sorts before every uid ([A-Za-z0-9_.-]) */
		snprintf(bound, sizeof(bound), "users/%s", q->from_uid != NULL ?
		    q->from_uid : "-");
		json_object_array_add(filters, fs_filter_name(fb,
		    "GREATER_THAN_OR_EQUAL", bound));
		if (q->to_uid != NULL) {
			snprintf(bound, sizeof(bound), "users/%s", q->to_uid);
			json_object_array_add(filters, fs_filter_name(fb,
			    "LESS_THAN", bound));
		}
		if ((where = fs_where(filters)) != NULL)
			json_object_object_add(sq, "where", where);
		json_object_put(filters);
		filters = NULL;
		if ((orders = json_object_new_array()) == NULL ||
		    (o = fs_order(NULL, false, err)) == NULL) {
			json_object_put(orders);
			goto nomem;
		}
		json_object_array_add(orders, o);
		json_object_object_add(sq, "orderBy", orders);
		if (after != NULL || q->start_after != NULL) {
			if ((cursor = json_object_new_object()) == NULL ||
			    (vals = json_object_new_array()) == NULL ||
			    (ref = json_object_new_object()) == NULL)
				goto nomem;
			json_object_object_add(ref, "referenceValue",
			    fs_name(fb, after != NULL ? after :
			    q->start_after));
			json_object_array_add(vals, ref);
			json_object_object_add(cursor, "values", vals);
			json_object_object_add(cursor, "before",
			    json_object_new_boolean(0));
			json_object_object_add(sq, "startAt", cursor);
		}
		json_object_object_add(sq, "limit",
		    json_object_new_int64((int64_t)want));
		/* the last document of the raw page, for the next one */
		free(after);
		after = NULL;
		if (fs_run_query(fb, "", sq, fs_group_keep, q, out, &raw,
		    &after, err) == -1)
			goto out;
		if (raw < want || out->n >= q->limit || after == NULL)
			break;
	}
	free(after);
	return 0;
nomem:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
fail:
	json_object_put(f);
	json_object_put(from);
	json_object_put(filters);
	json_object_put(sq);
out:
	free(after);
	return -1;
}

/* --- tenants --- */

/* The page token that continues after uid, if an earlier call kept it. */
static char *
fs_token_find(struct fs_backend *fb, const char *after)
{
	char *t = NULL;
	size_t i;

	pthread_mutex_lock(&fb->mu);
	for (i = 0; i < FS_TOKENS; i++)
		if (fb->tokens[i].after != NULL &&
		    strcmp(fb->tokens[i].after, after) == 0) {
			t = strdup(fb->tokens[i].token);
			break;
		}
	pthread_mutex_unlock(&fb->mu);
	return t;
}

static void
fs_token_keep(struct fs_backend *fb, const char *after, const char *token)
{
	struct fs_token *t;
	char *a, *k;

	if ((a = strdup(after)) == NULL || (k = strdup(token)) == NULL) {
		free(a);
		return;		/* only a cache */
	}
	pthread_mutex_lock(&fb->mu);
	t = &fb->tokens[fb->next_token++ % FS_TOKENS];
	free(t->after);
	free(t->token);
	t->after = a;
	t->token = k;
	pthread_mutex_unlock(&fb->mu);
}

/*
 * listDocuments of users with showMissing: a users/{uid} never written but
 * holding documents below it is listed too. The API pages with opaque
 * tokens and has no "start after", so the token that continues after the
 * last uid returned is kept: the next call of a listing that pages on
 * (the pulse, a key rotation) starts there. Without it, a listing starts
 * from the first tenant and skips what comes before start_after.
 */
static int
fs_list_tenants(void *be, size_t limit, const char *start_after,
    char ***uids, size_t *n, struct tp_err *err)
{
	struct fs_backend *fb = be;
	json_object *reply = NULL, *docs, *d, *tok;
	const char *p, *uid, *next;
	char *token = NULL, *url = NULL, **v, *esc;
	size_t cap = 0, k, len, page;
	int rc = -1;

	if (start_after != NULL)
		token = fs_token_find(fb, start_after);
	for (;;) {
		page = limit - *n < 1000 ? limit - *n : 1000;
		free(url);
		esc = NULL;
		if (token != NULL && (esc = curl_easy_escape(NULL, token,
		    0)) == NULL)
			goto nomem;
		if (asprintf(&url, "/v1/%s/users?showMissing=true&pageSize=%zu"
		    "&mask.fieldPaths=__name__%s%s", fb->docs, page,
		    esc != NULL ? "&pageToken=" : "", esc != NULL ? esc :
		    "") == -1)
			url = NULL;
		curl_free(esc);
		if (url == NULL)
			goto nomem;
		json_object_put(reply);
		reply = NULL;
		if (fshttp_call(fb->http, "GET", url, NULL, 0, true, &reply,
		    err) == -1)
			goto out;
		len = json_object_object_get_ex(reply, "documents", &docs) &&
		    json_object_is_type(docs, json_type_array) ?
		    json_object_array_length(docs) : 0;
		for (k = 0; k < len; k++) {
			d = json_object_array_get_idx(docs, k);
			if ((p = fs_path_of(fb, json_get_str(d, "name"))) ==
			    NULL || strncmp(p, "users/", 6) != 0 ||
			    !path_valid_uid(uid = p + 6))
				continue;
			if (start_after != NULL && strcmp(uid,
			    start_after) <= 0)
				continue;
			if (*n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				if ((v = reallocarray(*uids, cap,
				    sizeof(*v))) == NULL)
					goto nomem;
				*uids = v;
			}
			if (((*uids)[*n] = strdup(uid)) == NULL)
				goto nomem;
			(*n)++;
		}
		free(token);
		token = NULL;
		next = json_object_object_get_ex(reply, "nextPageToken",
		    &tok) ? json_object_get_string(tok) : NULL;
		if (next == NULL || *next == '\0')
			break;
		if ((token = strdup(next)) == NULL)
			goto nomem;
		if (*n >= limit) {
			fs_token_keep(fb, (*uids)[*n - 1], token);
			break;
		}
	}
	rc = 0;
	goto out;
nomem:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
out:
	free(token);
	free(url);
	json_object_put(reply);
	return rc;
}

static uint64_t
fs_requests(void *be)
{
	return fshttp_requests(((struct fs_backend *)be)->http);
}

const struct store_ops store_firestore_ops = {
	.name = "firestore",
	.open = fs_open,
	.close = fs_close,
	.get = fs_get,
	.commit = fs_commit,
	.commit_many = fs_commit_many,
	.query = fs_query,
	.get_many = fs_get_many,
	.query_group = fs_query_group,
	.requests = fs_requests,
	.list_tenants = fs_list_tenants,
};
