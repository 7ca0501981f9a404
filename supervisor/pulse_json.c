/* pulse_json.c: a pulse's figures: for pulse.status, ops/last_pulse and the ops events. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/store.h"
#include "supervisor/daemon.h"
#include "supervisor/pulse_int.h"

const char *
pulse_phase_name(enum pulse_phase ph)
{
	switch (ph) {
	case PULSE_PLANNING:
		return "planning";
	case PULSE_PRICES:
		return "prices";
	case PULSE_SYNCING:
		return "syncing";
	case PULSE_WRITING:
		return "writing";
	}
	return "unknown";
}

uint64_t
pulse_elapsed_ms(const struct pulse *p)
{
	return (uint64_t)clock_since_ms(&p->start);
}

/* Names a failed tenant in the pulse's figures, while there is room. */
void
pulse_failed_add(struct pulse *p, const char *uid, const char *code)
{
	if (p->nfailed >= PULSE_FAILED_MAX)
		return;
	snprintf(p->failed[p->nfailed].uid, sizeof(p->failed[0].uid), "%s",
	    uid);
	snprintf(p->failed[p->nfailed].code, sizeof(p->failed[0].code), "%s",
	    code);
	p->nfailed++;
}

/* Store requests since the pulse started (every one the daemon made
 * meanwhile: the plan's reads, the jobs' results, the API's). */
uint64_t
pulse_store_requests(const struct pulse *p)
{
	if (p->phase == PULSE_WRITING)
		return p->store_reqs;
	return store_requests(p->ps->d->store) - p->store_req0;
}

/* The figures of a pulse: running (elapsed) or ended (the document). */
json_object *
pulse_json(const struct pulse *p)
{
	json_object *o, *pr, *rq, *fl, *f;
	uint64_t sr = pulse_store_requests(p);
	char per[32];
	size_t i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "pulse_id", json_object_new_string(p->id));
	json_add(o, "trigger", json_object_new_string(p->trigger));
	json_add(o, "phase", json_object_new_string(
	    pulse_phase_name(p->phase)));
	json_add(o, "started_at", json_object_new_string(p->started_at));
	json_add(o, "elapsed_ms", json_object_new_int64(
	    (int64_t)pulse_elapsed_ms(p)));
	json_add(o, "users_total", json_object_new_int64(
	    (int64_t)p->users_total));
	json_add(o, "to_sync", json_object_new_int64((int64_t)p->to_sync));
	json_add(o, "ended", json_object_new_int64((int64_t)p->ended));
	json_add(o, "synced", json_object_new_int64((int64_t)p->synced));
	json_add(o, "errors", json_object_new_int64((int64_t)p->errors));
	if ((fl = json_object_new_array()) != NULL) {
		for (i = 0; i < p->nfailed; i++) {
			if ((f = json_object_new_object()) == NULL)
				break;
			json_add(f, "uid", json_object_new_string(
			    p->failed[i].uid));
			json_add(f, "code", json_object_new_string(
			    p->failed[i].code));
			if (json_object_array_add(fl, f) != 0) {
				json_object_put(f);
				break;
			}
		}
		json_add(o, "failed", fl);
	}
	json_add(o, "crashed", json_object_new_int64((int64_t)p->crashed));
	json_add(o, "quarantined", json_object_new_int64(
	    (int64_t)p->quarantined));
	json_add(o, "skipped_disabled", json_object_new_int64(
	    (int64_t)p->skipped_disabled));
	json_add(o, "skipped_no_keys", json_object_new_int64(
	    (int64_t)p->skipped_no_keys));
	json_add(o, "skipped_quarantined", json_object_new_int64(
	    (int64_t)p->skipped_quarantined));
	json_add(o, "interrupted", json_object_new_boolean(
	    p->interrupted));
	json_add(o, "plan_ms", json_object_new_int64((int64_t)p->plan_ms));
	json_add(o, "prices_ms", json_object_new_int64(
	    (int64_t)p->prices_ms));
	json_add(o, "store_requests", json_object_new_int64((int64_t)sr));
	if (p->synced > 0) {
		snprintf(per, sizeof(per), "%.2f", (double)sr /
		    (double)p->synced);
		json_add(o, "store_requests_per_synced_tenant",
		    json_object_new_double_s(strtod(per, NULL), per));
	} else
		json_add(o, "store_requests_per_synced_tenant", NULL);
	if (p->error[0] != '\0')
		json_add(o, "error", json_object_new_string(p->error));
	if ((pr = json_object_new_object()) != NULL) {
		json_add(pr, "source", json_object_new_string(
		    p->data_key ? "data_key" : "per_tenant"));
		json_add(pr, "symbols", json_object_new_int64(
		    (int64_t)p->symbols));
		json_add(pr, "found", json_object_new_int64(
		    p->prices != NULL ? json_object_object_length(p->prices) :
		    0));
		if (p->prices_error[0] != '\0')
			json_add(pr, "error", json_object_new_string(
			    p->prices_error));
		json_add(o, "prices", pr);
	}
	if ((rq = json_object_new_object()) != NULL) {
		json_add(rq, "account", json_object_new_int64(
		    (int64_t)p->req_account));
		json_add(rq, "trades_latest", json_object_new_int64(
		    (int64_t)p->req_trades));
		json_add(rq, "prices", json_object_new_int64(
		    (int64_t)p->req_prices));
		json_add(rq, "retries", json_object_new_int64(
		    (int64_t)p->req_retries));
		json_add(o, "requests", rq);
	}
	return o;
}
