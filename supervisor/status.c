/* status.c: the status operation: what the daemon is doing, from live counters. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/store.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/engine.h"
#include "supervisor/events.h"
#include "supervisor/pause.h"
#include "supervisor/jobs.h"
#include "supervisor/pulse.h"
#include "supervisor/keyring.h"
#include "supervisor/pool.h"
#include "supervisor/status.h"
#include "supervisor/tenant.h"

/* The store's figures: only what is known without asking it. */
static json_object *
status_store(struct daemon *d)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "backend", json_object_new_string(
	    store_backend_name(d->store)));
	json_add(o, "pending", json_object_new_int64(
	    (int64_t)store_pending(d->store)));
	json_add(o, "requests", json_object_new_int64(
	    (int64_t)store_requests(d->store)));
	return o;
}

static json_object *
status_api(struct daemon *d)
{
	struct api_stats s;
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	api_get_stats(d->api, &s);
	json_add(o, "endpoint", json_object_new_string(
	    api_endpoint(d->api)));
	json_add(o, "in_flight", json_object_new_int64(
	    (int64_t)s.in_flight));
	json_add(o, "queue_max", json_object_new_int64(d->cfg.api_queue));
	json_add(o, "requests", json_object_new_int64(
	    (int64_t)s.requests));
	json_add(o, "errors", json_object_new_int64((int64_t)s.errors));
	json_add(o, "memory", json_object_new_int64((int64_t)s.bytes));
	json_add(o, "memory_budget", json_object_new_int64(
	    (int64_t)s.budget));
	json_add(o, "replies_queued_max", json_object_new_int64(
	    s.sndhwm));
	json_add(o, "replies_dropped", json_object_new_int64(
	    (int64_t)s.replies_dropped));
	json_add(o, "clients", json_object_new_int64((int64_t)s.clients));
	json_add(o, "clients_peak", json_object_new_int64(
	    (int64_t)s.clients_peak));
	json_add(o, "max_clients", json_object_new_int64(
	    (int64_t)s.max_clients));
	json_add(o, "clients_evicted", json_object_new_int64(
	    (int64_t)s.clients_evicted));
	return o;
}

/*
 * The pool's figures (workers, throttling, crash counts), each worker
 * with the batch it runs, then the job layer's (queue, running, recent
 * crashes).
 */
static void
status_workers(struct daemon *d, json_object *r)
{
	struct json_object_iterator it, end;
	json_object *ps, *workers, *w;
	int64_t gen;
	size_t i, n;

	if (d->pool != NULL && (ps = pool_status(d->pool)) != NULL) {
		if (json_object_object_get_ex(ps, "workers", &workers) &&
		    json_object_is_type(workers, json_type_array)) {
			n = json_object_array_length(workers);
			for (i = 0; i < n; i++) {
				w = json_object_array_get_idx(workers, i);
				if (d->jobs != NULL &&
				    json_get_int(w, "generation", &gen) &&
				    gen >= 0)
					(void)engine_batch_fill(d->jobs,
					    (uint64_t)gen, w);
			}
		}
		it = json_object_iter_begin(ps);
		end = json_object_iter_end(ps);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			json_add(r, json_object_iter_peek_name(&it),
			    json_object_get(json_object_iter_peek_value(&it)));
		json_object_put(ps);
	} else {
		json_add(r, "workers", json_object_new_array());
		json_add(r, "throttled", json_object_new_boolean(0));
	}
	if (d->jobs != NULL) {
		jobs_status(d->jobs, r);
		engine_status(d->jobs, r);
	}
}

/* Answered at once from memory: status must work exactly when the
 * store is slow or the API is busy. */
int
status_start(struct api_req *req, struct tp_err *err)
{
	struct daemon *d = req->d;
	json_object *r;

	(void)err;
	if ((r = json_object_new_object()) != NULL) {
		json_add(r, "version",
		    json_object_new_string(PACKAGE_VERSION));
		json_add(r, "api_version",
		    json_object_new_int(API_VERSION));
		json_add(r, "pid", json_object_new_int64(d->pid));
		json_add(r, "started_at",
		    json_object_new_string(d->started_at));
		json_add(r, "uptime_ms", json_object_new_int64(
		    (int64_t)daemon_uptime_ms(d)));
		json_add(r, "store", status_store(d));
		json_add(r, "api", status_api(d));
		json_add(r, "key_version", json_object_new_int64(
		    keyring_version(d->keys)));
		status_workers(d, r);
		json_add(r, "last_pulse", pulse_last_json(d->pulser));
		json_add(r, "pulse", pulse_status_json(d->pulser));
		json_add(r, "paused", pause_status_json(d));
		json_add(r, "events", events_status(d->events));
	}
	api_reply(req, r);
	return 0;
}
