/* pulse.h: the pulse: schedule, plan, one price fetch, the tenants' syncs, ops/last_pulse. */
#ifndef TP_SUPERVISOR_PULSE_H
#define TP_SUPERVISOR_PULSE_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/store.h"

/*
 * A pulse syncs every tenant that may run once, and never overlaps the
 * previous one:
 *
 *   planning  (a store thread) list the tenants; count and skip the
 *             disabled, key-less and quarantined ones; read the OPEN
 *             shadow trades of the others and gather their symbols
 *   prices    with [alpaca] data_key_id set: one "prices" job fetches the
 *             latest price of every symbol once, in groups (a worker does
 *             it: the supervisor never parses a broker's reply)
 *   syncing   one sync job per tenant, carrying its trades and the prices
 *             of its symbols; without a data key (or when the price fetch
 *             failed) each tenant's job fetches its own prices
 *   writing   ops/last_pulse
 *
 * The pulse owns the jobs it submits (jobs.h's job_owner): the job table
 * tells it of each ending, the final one of a chain of re-runs only, and
 * asks it for the prices a JOB carries.
 */

struct api_req;
struct daemon;
struct job;
struct pulse;

#define PULSE_ID_LEN	17	/* "p" + 16 hex digits */
#define PULSE_FAILED_MAX 20	/* failed tenants a pulse names */

/* Someone waiting for a pulse to end (the pulse op with wait): ended
 * gets a copy of its figures (or NULL), once. */
struct pulse_waiter {
	TAILQ_ENTRY(pulse_waiter) entry;
	struct pulse		*pulse;		/* NULL once told or detached */
	void			(*ended)(struct pulse_waiter *w,
				    json_object *doc);
	void			*arg;
};

struct pulser;

/* main.c's life cycle: after the job layer; pulse_free before jobs_free
 * and after engine_abort (which ends every job a pulse waits for). */
struct pulser	*pulse_new(struct daemon *d, struct tp_err *err);
void		 pulse_free(struct pulser *ps);
/* The interval or [pulse] enabled changed (SIGHUP). */
void		 pulse_reload(struct pulser *ps);
/* A copy of the last pulse's figures (ops/last_pulse), or NULL. */
json_object	*pulse_last_json(struct pulser *ps);
/* No new pulse from now on. */
void		 pulse_stop(struct pulser *ps);
/* The running and the last pulse, for status replies. */
json_object	*pulse_status_json(struct pulser *ps);

/* The running pulse, or a new one (*started); NULL (err) when none can
 * start. */
struct pulse	*pulse_start(struct pulser *ps, bool *started,
		    struct tp_err *err);
/* A pulse's figures now. */
json_object	*pulse_json(const struct pulse *p);
/* w->ended (set by the caller) runs when the pulse has ended. */
void		 pulse_wait(struct pulse *p, struct pulse_waiter *w);
void		 pulse_unwait(struct pulse_waiter *w);

/* API operations (pulse_op.c): pulse {wait}, pulse.status. */
int	pulse_op_start(struct api_req *req, struct tp_err *err);
int	pulse_op_status(struct api_req *req, struct tp_err *err);

#endif
