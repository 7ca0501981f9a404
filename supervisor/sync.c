/* sync.c: the job API's sync and job operations. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/store.h"
#include "common/wire.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/jobs.h"
#include "supervisor/policy.h"
#include "supervisor/sync.h"

struct sync_ctx {
	struct job_waiter	 waiter;	/* while waiting for the job */
	char			 uid[UID_MAX_LEN + 1];
	bool			 wait;
	enum policy_block	 why;
	int			 blocked;	/* policy_tenant_blocked's answer */
	struct tp_err		 err;
};

static void
sync_ctx_free(void *arg)
{
	struct sync_ctx *c = arg;

	jobs_unwait(&c->waiter);
	free(c);
}

static struct sync_ctx *
sync_ctx_new(struct api_req *req, struct tp_err *err)
{
	struct sync_ctx *c;
	bool wait = false;

	if (api_arg_bool(req, "wait", false, &wait, err) == -1)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	c->wait = wait;
	req->ctx = c;
	req->ctx_free = sync_ctx_free;
	return c;
}

/* The reply a waiting request gets: the job, or unavailable when the
 * daemon's stop ended it (as for any request the stop cuts short). */
static void
sync_job_ended(struct job *job, struct job_waiter *w)
{
	struct api_req *req = w->arg;
	struct tp_err err;

	if (job->interrupted) {
		tp_err_set(&err, TP_UNAVAILABLE, "job %s: %s", job->id,
		    job->err_msg);
		api_reply_error(req, &err);
	} else
		api_reply(req, jobs_job_json(job));
}

/* Replies with the job now, or when it ends. */
static void
sync_answer(struct api_req *req, struct sync_ctx *c, struct job *job)
{
	if (c->wait) {
		c->waiter.ended = sync_job_ended;
		c->waiter.arg = req;
		jobs_wait(job, &c->waiter);
	} else
		api_reply(req, jobs_job_json(job));
}

/* sync */

static void
sync_work(struct store *st, void *arg)
{
	struct sync_ctx *c = ((struct api_req *)arg)->ctx;

	c->blocked = policy_tenant_blocked(st, c->uid, &c->why, NULL,
	    &c->err);
}

static void
sync_done(void *arg)
{
	struct api_req *req = arg;
	struct sync_ctx *c = req->ctx;
	struct daemon *d = req->d;
	struct tp_err err;
	struct job *job;

	if (c->blocked != 0) {
		api_reply_error(req, &c->err);
		return;
	}
	tp_err_clear(&err);
	if ((job = jobs_submit(d->jobs, c->uid, JOB_SYNC, &err)) == NULL) {
		api_reply_error(req, &err);
		return;
	}
	log_debug("job %s: sync of %s queued", job->id, c->uid);
	sync_answer(req, c, job);
}

int
sync_start(struct api_req *req, struct tp_err *err)
{
	struct sync_ctx *c;
	const char *uid;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    (c = sync_ctx_new(req, err)) == NULL)
		return -1;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	/* fail fast, before reading the store, when it cannot be queued */
	if (req->d->jobs->stopping)
		return tp_err_set(err, TP_UNAVAILABLE, "%s is shutting down",
		    DAEMON_NAME);
	if (policy_quarantined(req->d->jobs->policy, uid, err))
		return -1;
	return api_submit(req, sync_work, sync_done, err);
}

/* job */

int
job_start(struct api_req *req, struct tp_err *err)
{
	struct sync_ctx *c;
	struct job *job;
	const char *id;

	if (api_arg_token(req, "id", true, 1, WIRE_JOB_ID_MAX, &id,
	    err) == -1)
		return -1;
	if (!wire_valid_job_id(id))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "argument \"id\" "
		    "is not a job id");
	if ((job = jobs_find(req->d->jobs, id)) == NULL)
		return tp_err_set(err, TP_NOT_FOUND, "no job %s (unknown, or "
		    "finished more than an hour ago)", id);
	if (api_auth_owns(req, job->uid, err) == -1)
		return -1;
	if ((c = sync_ctx_new(req, err)) == NULL)
		return -1;
	sync_answer(req, c, job);
	return 0;
}
