/* events_job.c: the job layer's facts as events: snapshot, signal, trade, error, crash, quarantine. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <string.h>

#include "common/jsonutil.h"
#include "supervisor/events.h"
#include "supervisor/jobs.h"

/* A copy of the summary's field key into o, when present. */
static void
events_take(json_object *o, json_object *from, const char *key)
{
	json_object *v;

	if (from != NULL && json_object_object_get_ex(from, key, &v))
		json_add(o, key, json_copy(v));
}

static json_object *
events_new(const struct job *job)
{
	json_object *o;

	if ((o = json_object_new_object()) != NULL)
		json_add(o, "job_id", json_object_new_string(job->id));
	return o;
}

/* A sync's snapshot: the summary the job API shows (key_id_last4 is the
 * most of a key id ever shown), and the trades its marks closed. */
static void
events_sync(struct events *ev, const struct job *job)
{
	static const char *const keys[] = { "key_id_last4", "equity",
	    "status", "trades_marked", "trades_failed", "unrealized_pnl",
	    "trades_closed", NULL };
	json_object *o;
	int64_t closed = 0;
	size_t i;

	if ((o = events_new(job)) == NULL)
		return;
	for (i = 0; keys[i] != NULL; i++)
		events_take(o, job->result, keys[i]);
	events_tenant(ev, job->uid, "snapshot", o);
	if (json_get_int(job->result, "trades_closed", &closed) &&
	    closed > 0 && (o = events_new(job)) != NULL) {
		json_add(o, "event", json_object_new_string("closed"));
		json_add(o, "count", json_object_new_int64(closed));
		json_add(o, "by", json_object_new_string("exit_level"));
		events_tenant(ev, job->uid, "trade", o);
	}
}

/* A signal, then what it did to the shadow trades. */
static void
events_signal(struct events *ev, const struct job *job)
{
	static const char *const keys[] = { "id", "symbol", "action",
	    "confidence", "price", "bar_at", "strategy", NULL };
	json_object *o, *t;
	const char *opened, *sid = json_get_str(job->result, "id");
	int64_t closed = 0;
	size_t i;

	if ((o = events_new(job)) == NULL)
		return;
	for (i = 0; keys[i] != NULL; i++)
		events_take(o, job->result, keys[i]);
	events_tenant(ev, job->uid, "signal", o);
	if ((t = json_get_obj(job->result, "shadow_trades")) == NULL)
		return;
	if (json_get_int(t, "closed", &closed) && closed > 0 &&
	    (o = events_new(job)) != NULL) {
		json_add(o, "event", json_object_new_string("closed"));
		json_add(o, "count", json_object_new_int64(closed));
		json_add(o, "by", json_object_new_string("reversal"));
		json_add(o, "symbol", json_object_new_string(job->symbol));
		json_add(o, "signal_id", sid != NULL ?
		    json_object_new_string(sid) : NULL);
		events_tenant(ev, job->uid, "trade", o);
	}
	if ((opened = json_get_str(t, "opened")) != NULL &&
	    (o = events_new(job)) != NULL) {
		json_add(o, "event", json_object_new_string("opened"));
		json_add(o, "trade_id", json_object_new_string(opened));
		json_add(o, "symbol", json_object_new_string(job->symbol));
		json_add(o, "signal_id", sid != NULL ?
		    json_object_new_string(sid) : NULL);
		events_tenant(ev, job->uid, "trade", o);
	}
}

void
events_job_ended(struct events *ev, const struct job *job,
    const struct tp_err *err)
{
	json_object *o;

	if (ev == NULL || job->uid[0] == '\0')
		return;
	if (err != NULL) {
		if ((o = events_new(job)) == NULL)
			return;
		json_add(o, "kind", json_object_new_string(
		    jobs_kind_name(job->kind)));
		json_add(o, "code", json_object_new_string(
		    tp_code_name(err->code)));
		json_add(o, "message", json_object_new_string(err->msg));
		events_tenant(ev, job->uid, "error", o);
		return;
	}
	if (job->result == NULL)
		return;
	if (job->kind == JOB_SYNC)
		events_sync(ev, job);
	else if (job->kind == JOB_SIGNAL)
		events_signal(ev, job);
}

void
events_crash(struct events *ev, const struct job *job, const char *crash_id,
    const char *what, unsigned strikes)
{
	json_object *o;

	if (ev == NULL || job->uid[0] == '\0' || (o = events_new(job)) == NULL)
		return;
	json_add(o, "crash_id", json_object_new_string(crash_id));
	json_add(o, "what", json_object_new_string(what));
	json_add(o, "strikes", json_object_new_int64(strikes));
	events_tenant(ev, job->uid, "crash", o);
}

void
events_quarantine(struct events *ev, const char *uid, const char *crash_id,
    unsigned strikes, const char *reason)
{
	json_object *o;

	if (ev == NULL || (o = json_object_new_object()) == NULL)
		return;
	json_add(o, "crash_id", json_object_new_string(crash_id));
	json_add(o, "strikes", json_object_new_int64(strikes));
	json_add(o, "reason", json_object_new_string(reason));
	events_tenant(ev, uid, "quarantine", o);
}
