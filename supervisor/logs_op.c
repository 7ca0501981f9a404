/* logs_op.c: the logs operation: a tenant's log lines, the last N or those after a follower's cursor, filtered and bounded. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/api.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/tenantlog_read.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/logs.h"
#include "supervisor/tenant_store.h"

/* A request reads at most this much of the files, on a store thread, and
 * returns lines worth at most LOGS_BUDGET of JSON (under API_REPLY_MAX). */
#define LOGS_SCAN_MAX	(4 * 1024 * 1024)
#define LOGS_BUDGET	(API_REPLY_MAX - 32 * 1024)
#define LOGS_DIR_MAX	4096

struct logs_ctx {
	char			 uid[UID_MAX_LEN + 1];
	char			 dir[LOGS_DIR_MAX];
	unsigned		 keep;
	size_t			 n;
	bool			 follow;
	struct tlog_cursor	 after;
	struct tlog_filter	 filter;
	char			 since[TLOG_TIME_LEN + 1];
	char			 job[65];
	json_object		*result;
	struct tp_err		 err;
	int			 rc;
};

static void
logs_ctx_free(void *arg)
{
	struct logs_ctx *c = arg;

	json_object_put(c->result);
	free(c);
}

static json_object *
logs_line(const struct tlog_entry *e)
{
	json_object *o;
	char lvl[8];
	size_t i;

	/* the level as the request names it: lower case */
	snprintf(lvl, sizeof(lvl), "%s", tenantlog_level_name(e->level));
	for (i = 0; lvl[i] != '\0'; i++)
		lvl[i] = (char)(lvl[i] - 'A' + 'a');
	if ((o = json_object_new_object()) == NULL ||
	    json_add(o, "time", json_object_new_string(e->time)) == -1 ||
	    json_add(o, "level", json_object_new_string(lvl)) == -1 ||
	    json_add(o, "job", e->job[0] != '\0' ?
	    json_object_new_string(e->job) : NULL) == -1 ||
	    json_add(o, "event", json_object_new_string(e->event)) == -1 ||
	    json_add(o, "message", json_object_new_string(e->msg)) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void
logs_work(struct store *st, void *arg)
{
	struct logs_ctx *c = ((struct api_req *)arg)->ctx;
	struct tlog_read r;
	json_object *arr = NULL, *o;
	char cur[TLOG_CURSOR_MAX];
	size_t i;
	int rc;

	/* a typo names no tenant: not_found, not an empty log. A follower
	 * (after) was answered once already: its polls cost no store read. */
	if (!c->follow && (rc = tenant_exists(st, c->uid, &c->err)) != 1) {
		c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
		    "no tenant %s", c->uid);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.dir = c->dir;
	r.uid = c->uid;
	r.keep = c->keep;
	r.filter = c->filter;
	r.scan_max = LOGS_SCAN_MAX;
	r.budget = LOGS_BUDGET;
	if ((c->follow ? tenantlog_read_after(&r, &c->after, &c->err) :
	    tenantlog_read_tail(&r, c->n, &c->err)) == -1) {
		c->rc = -1;
		return;
	}
	tenantlog_cursor_format(&r.cursor, cur, sizeof(cur));
	if ((arr = json_object_new_array_ext((int)r.n)) == NULL ||
	    (c->result = json_object_new_object()) == NULL)
		goto oom;
	for (i = 0; i < r.n; i++)
		if ((o = logs_line(&r.lines[i])) == NULL ||
		    json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			goto oom;
		}
	if (json_add(c->result, "uid", json_object_new_string(c->uid)) == -1 ||
	    json_add(c->result, "lines", arr) == -1)
		goto oom;
	arr = NULL;
	if (json_add(c->result, "cursor", json_object_new_string(cur)) == -1 ||
	    json_add(c->result, "truncated",
	    json_object_new_boolean(r.truncated)) == -1 ||
	    json_add(c->result, "malformed",
	    json_object_new_int64((int64_t)r.malformed)) == -1)
		goto oom;
	tenantlog_read_free(&r);
	return;
oom:
	json_object_put(arr);
	tenantlog_read_free(&r);
	c->rc = tp_err_set(&c->err, TP_RESOURCE_EXHAUSTED, "out of memory");
}

static void
logs_done(void *arg)
{
	struct api_req *req = arg;
	struct logs_ctx *c = req->ctx;

	api_reply_outcome(req, c->rc, &c->result, &c->err);
}

int
logs_start(struct api_req *req, struct tp_err *err)
{
	const struct config *cfg = &req->d->cfg;
	struct logs_ctx *c;
	const char *uid, *since = NULL, *level = NULL, *job = NULL;
	const char *after = NULL;
	int64_t n = LOGS_N_DEFAULT;
	int lvl = TLOG_DEBUG, rc;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_int(req, "n", false, 1, LOGS_N_MAX, &n, err) == -1 ||
	    api_arg_token(req, "since", false, 1, 40, &since, err) == -1 ||
	    api_arg_token(req, "level", false, 1, 8, &level, err) == -1 ||
	    api_arg_token(req, "job", false, 1, 64, &job, err) == -1 ||
	    api_arg_token(req, "after", false, 1, TLOG_CURSOR_MAX - 1, &after,
	    err) == -1)
		return -1;
	if (level != NULL && (lvl = tenantlog_level_parse(level)) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "level: one of "
		    "debug, info, warn, error");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	req->ctx = c;
	req->ctx_free = logs_ctx_free;
	if (after != NULL) {
		if (tenantlog_cursor_parse(after, &c->after) == -1)
			return tp_err_set(err, TP_INVALID_ARGUMENT, "after: "
			    "not a cursor of this daemon's logs op");
		c->follow = true;
	}
	if (since != NULL && tenantlog_since(since, (int64_t)time(NULL),
	    c->since, err) == -1)
		return -1;
	rc = snprintf(c->dir, sizeof(c->dir), "%s/tenants", cfg->log_dir);
	if (rc < 0 || (size_t)rc >= sizeof(c->dir))
		return tp_err_set(err, TP_INTERNAL, "log_dir too long");
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->keep = cfg->tenant_log_keep;
	c->n = (size_t)n;
	c->filter.min_level = (enum tlog_level)lvl;
	if (since != NULL)
		c->filter.since = c->since;
	if (job != NULL) {
		snprintf(c->job, sizeof(c->job), "%s", job);
		c->filter.job = c->job;
	}
	return api_submit(req, logs_work, logs_done, err);
}
