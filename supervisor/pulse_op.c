/* pulse_op.c: the job API's pulse and pulse.status operations. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdlib.h>

#include "common/jsonutil.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/pulse.h"

static void
pulse_op_waiter_free(void *arg)
{
	struct pulse_waiter *w = arg;

	pulse_unwait(w);
	free(w);
}

static void
pulse_op_ended(struct pulse_waiter *w, json_object *doc)
{
	api_reply(w->arg, doc);
}

int
pulse_op_start(struct api_req *req, struct tp_err *err)
{
	struct pulser *ps = req->d->pulser;
	struct pulse_waiter *w;
	struct pulse *p;
	json_object *r;
	bool wait = false, started = false;

	if (api_arg_bool(req, "wait", false, &wait, err) == -1)
		return -1;
	if ((p = pulse_start(ps, &started, err)) == NULL)
		return -1;
	if (wait) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		w->ended = pulse_op_ended;
		w->arg = req;
		req->ctx = w;
		req->ctx_free = pulse_op_waiter_free;
		pulse_wait(p, w);
		return 0;
	}
	if ((r = pulse_json(p)) != NULL)
		json_add(r, "started", json_object_new_boolean(started));
	api_reply(req, r);
	return 0;
}

int
pulse_op_status(struct api_req *req, struct tp_err *err)
{
	(void)err;
	api_reply(req, pulse_status_json(req->d->pulser));
	return 0;
}
