/* crashes_op.c: the crashes operation: the crash reports kept in the store, newest first, for every tenant or one. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/api.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "supervisor/api.h"
#include "supervisor/logs.h"
#include "supervisor/tenant_store.h"

#define CRASHES_COLL	"ops/crashes/reports"
/* A report names its tenants in a list of maps, which no store query can
 * match: the newest CRASHES_SCAN reports are read and sifted. */
#define CRASHES_SCAN	500
#define CRASHES_TEXT_MAX 512	/* bytes of a reason or stderr tail shown */
/* the reports a reply holds, in bytes of JSON: under API_REPLY_MAX */
#define CRASHES_BUDGET	(API_REPLY_MAX - 32 * 1024)

/* The fields shown besides id, uids and jobs (a report is ours, but its
 * stderr tail is a worker's: kept short). */
static const char *const crashes_fields[] = {
	"at", "pid", "signal", "exit_code", "core", "syscall", "uptime_ms",
	"reason", "startup", "batch",
};

struct crashes_ctx {
	char		 uid[UID_MAX_LEN + 1];	/* "" for every tenant */
	size_t		 limit;
	json_object	*result;
	struct tp_err	 err;
	int		 rc;
};

static void
crashes_ctx_free(void *arg)
{
	struct crashes_ctx *c = arg;

	json_object_put(c->result);
	free(c);
}

static json_object *
crashes_scalar(json_object *v)
{
	if (v == NULL)
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		if (json_object_get_string_len(v) > CRASHES_TEXT_MAX)
			return json_object_new_string_len(
			    json_object_get_string(v), CRASHES_TEXT_MAX);
		return json_copy(v);
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		return json_copy(v);
	default:
		return NULL;
	}
}

/* Adds s to the list of strings a unless it is there. */
static void
crashes_uid_add(json_object *a, json_object *s)
{
	size_t i, n = json_object_array_length(a);

	if (s == NULL || !json_object_is_type(s, json_type_string) ||
	    !path_valid_uid(json_object_get_string(s)))
		return;
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a,
		    i)), json_object_get_string(s)) == 0)
			return;
	json_object_array_add(a, json_object_new_string(
	    json_object_get_string(s)));
}

/* {id, the fields, uids: the tenants it names (its jobs in flight and
 * its culprit), jobs: [{job_id, uid}], culprit, stderr_tail}. */
static json_object *
crashes_entry(const struct store_doc *doc)
{
	json_object *o, *v, *uids, *jobs, *j, *e, *x;
	size_t i, n;

	if ((o = json_object_new_object()) == NULL ||
	    (uids = json_object_new_array()) == NULL ||
	    (jobs = json_object_new_array()) == NULL) {
		json_object_put(o);
		return NULL;
	}
	json_add(o, "id", json_object_new_string(doc->id));
	for (i = 0; i < sizeof(crashes_fields) / sizeof(*crashes_fields); i++)
		if (json_object_object_get_ex(doc->data, crashes_fields[i],
		    &v))
			json_add(o, crashes_fields[i], crashes_scalar(v));
	if (json_object_object_get_ex(doc->data, "jobs", &v) &&
	    json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n && i < 64; i++) {
			j = json_object_array_get_idx(v, i);
			if (!json_object_is_type(j, json_type_object) ||
			    (e = json_object_new_object()) == NULL)
				continue;
			if (json_object_object_get_ex(j, "job_id", &x))
				json_add(e, "job_id", crashes_scalar(x));
			if (json_object_object_get_ex(j, "uid", &x)) {
				json_add(e, "uid", crashes_scalar(x));
				crashes_uid_add(uids, x);
			}
			json_object_array_add(jobs, e);
		}
	}
	if (json_object_object_get_ex(doc->data, "culprit", &v) &&
	    json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, "uid", &x)) {
		crashes_uid_add(uids, x);
		if ((e = json_object_new_object()) != NULL) {
			json_add(e, "uid", crashes_scalar(x));
			if (json_object_object_get_ex(v, "job_id", &x))
				json_add(e, "job_id", crashes_scalar(x));
			json_add(o, "culprit", e);
		}
	}
	json_add(o, "uids", uids);
	json_add(o, "jobs", jobs);
	if (json_object_object_get_ex(doc->data, "stderr_tail", &v))
		json_add(o, "stderr_tail", crashes_scalar(v));
	return o;
}

static bool
crashes_names(json_object *entry, const char *uid)
{
	json_object *uids;
	size_t i, n;

	if (!json_object_object_get_ex(entry, "uids", &uids))
		return false;
	n = json_object_array_length(uids);
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(
		    uids, i)), uid) == 0)
			return true;
	return false;
}

static void
crashes_work(struct store *st, void *arg)
{
	struct crashes_ctx *c = ((struct api_req *)arg)->ctx;
	struct store_doclist list = { NULL, 0 };
	struct store_query q;
	json_object *arr, *e;
	size_t i, len, size, used = 0;
	bool truncated = false;
	int rc;

	if (c->uid[0] != '\0' &&
	    (rc = tenant_exists(st, c->uid, &c->err)) != 1) {
		c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
		    "no tenant %s", c->uid);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.collection = CRASHES_COLL;
	q.order_field = "at";
	q.order = STORE_ORDER_DESC;
	q.limit = c->uid[0] != '\0' ? CRASHES_SCAN : c->limit;
	if (store_query(st, &q, &list, &c->err) == -1) {
		c->rc = -1;
		return;
	}
	if ((arr = json_object_new_array()) == NULL ||
	    (c->result = json_object_new_object()) == NULL) {
		json_object_put(arr);
		goto oom;
	}
	for (i = 0; i < list.n && json_object_array_length(arr) < c->limit;
	    i++) {
		if ((e = crashes_entry(&list.docs[i])) == NULL) {
			json_object_put(arr);
			goto oom;
		}
		if (c->uid[0] != '\0' && !crashes_names(e, c->uid)) {
			json_object_put(e);
			continue;
		}
		/* a report of a batch of many tenants is large: the reply
		 * stops short of its bound, and says so */
		size = json_object_to_json_string_length(e,
		    JSON_C_TO_STRING_PLAIN, &len) != NULL ? len : 0;
		if (used + size > CRASHES_BUDGET) {
			json_object_put(e);
			truncated = true;
			break;
		}
		used += size;
		if (json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			json_object_put(arr);
			goto oom;
		}
	}
	json_add(c->result, "uid", c->uid[0] != '\0' ?
	    json_object_new_string(c->uid) : NULL);
	json_add(c->result, "crashes", arr);
	/* with a uid, only the newest CRASHES_SCAN reports were looked at */
	json_add(c->result, "scanned", json_object_new_int64((int64_t)list.n));
	json_add(c->result, "truncated", json_object_new_boolean(truncated));
	store_doclist_free(&list);
	return;
oom:
	store_doclist_free(&list);
	c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED, "out of memory");
}

static void
crashes_done(void *arg)
{
	struct api_req *req = arg;
	struct crashes_ctx *c = req->ctx;

	api_reply_outcome(req, c->rc, &c->result, &c->err);
}

int
crashes_start(struct api_req *req, struct tp_err *err)
{
	struct crashes_ctx *c;
	const char *uid = NULL;
	int64_t limit = CRASHES_DEFAULT;

	if (api_arg_uid(req, "uid", false, &uid, err) == -1 ||
	    api_arg_int(req, "limit", false, 1, CRASHES_MAX, &limit, err) ==
	    -1)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	req->ctx = c;
	req->ctx_free = crashes_ctx_free;
	if (uid != NULL)
		snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->limit = (size_t)limit;
	return api_submit(req, crashes_work, crashes_done, err);
}
