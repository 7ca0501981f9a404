/* pool_status.c: the worker pool's figures for status: workers, throttling, crashes, spawn latencies, memory. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "supervisor/daemon.h"
#include "supervisor/pool_int.h"

static const char *const worker_state_names[] = {
	[WORKER_STARTING] = "starting",
	[WORKER_READY] = "ready",
	[WORKER_STOPPING] = "stopping",
	[WORKER_KILLING] = "killing",
	[WORKER_EXITED] = "exited",
};

static void
pool_array_add(json_object *a, json_object *v)
{
	if (json_object_array_add(a, v) != 0)
		json_object_put(v);
}

/* VmRSS of a live worker, in kB; -1 when it cannot be read. */
static int64_t
pool_rss_kb(pid_t pid)
{
	return spawn_status_kb(pid, "VmRSS:");
}

static json_object *
pool_ms_json(double ms)
{
	char s[32];

	/* 0.01 ms is as fine as a spawn time means anything */
	ms = (double)(int64_t)(ms * 100 + 0.5) / 100;	/* ms >= 0 */
	snprintf(s, sizeof(s), "%.2f", ms);
	return json_object_new_double_s(ms, s);
}

static int
pool_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* {n, median, p99, max} over the samples kept (nearest rank). */
static json_object *
pool_latency_json(const double *ring, size_t total)
{
	double v[POOL_SPAWN_SAMPLES];
	size_t n = total < POOL_SPAWN_SAMPLES ? total : POOL_SPAWN_SAMPLES;
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "n", json_object_new_int64((int64_t)n));
	if (n == 0) {
		json_add(o, "median", NULL);
		json_add(o, "p99", NULL);
		json_add(o, "max", NULL);
		return o;
	}
	memcpy(v, ring, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), pool_cmp_double);
	json_add(o, "median", pool_ms_json(v[(n + 1) / 2 - 1]));
	json_add(o, "p99", pool_ms_json(v[(99 * n + 99) / 100 - 1]));
	json_add(o, "max", pool_ms_json(v[n - 1]));
	return o;
}

static json_object *
pool_worker_json(const struct worker *w)
{
	json_object *o;
	int64_t rss;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "pid", json_object_new_int64(w->pid));
	json_add(o, "generation", json_object_new_int64(
	    (int64_t)w->generation));
	json_add(o, "uptime_ms", json_object_new_int64(
	    (int64_t)worker_uptime_ms(w)));
	json_add(o, "state", json_object_new_string(
	    worker_state_names[w->state]));
	json_add(o, "jobs_sent", json_object_new_int64(
	    (int64_t)w->jobs_sent));
	json_add(o, "jobs_done", json_object_new_int64(
	    (int64_t)w->jobs_done));
	rss = w->reaped ? -1 : pool_rss_kb(w->pid);
	json_add(o, "rss_kb", rss >= 0 ? json_object_new_int64(rss) :
	    NULL);
	return o;
}

json_object *
pool_status(const struct pool *p)
{
	char reason[THROTTLE_REASON_MAX];
	const struct worker *w;
	json_object *o, *a;
	uint64_t now = clock_mono_ms(), ms;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((a = json_object_new_array()) != NULL)
		TAILQ_FOREACH(w, &p->workers, entry)
			pool_array_add(a, pool_worker_json(w));
	json_add(o, "workers", a);
	ms = throttle_retry_ms(&p->thr, &p->d->cfg, now, reason,
	    sizeof(reason));
	json_add(o, "throttled", json_object_new_boolean(ms > 0));
	json_add(o, "throttle_reason", ms > 0 ?
	    json_object_new_string(reason) : NULL);
	json_add(o, "retry_ms", json_object_new_int64((int64_t)ms));
	json_add(o, "crashes", json_object_new_int64(
	    (int64_t)p->crashes));
	json_add(o, "crashes_last_minute", json_object_new_int64(
	    throttle_window_crashes(&p->thr, now)));
	json_add(o, "startup_failures", json_object_new_int64(
	    (int64_t)p->startup_failures));
	json_add(o, "restarts", json_object_new_int64(
	    (int64_t)p->restarts));
	json_add(o, "spawns", json_object_new_int64((int64_t)p->spawns));
	json_add(o, "worker_peak_rss_kb", json_object_new_int64(
	    (int64_t)p->worker_maxrss_kb));
	json_add(o, "spawn_ms", pool_latency_json(p->spawn_ms,
	    p->spawn_n));
	json_add(o, "ready_ms", pool_latency_json(p->ready_ms,
	    p->ready_n));
	json_add(o, "resolve", p->resolver != NULL ?
	    resolver_list(p->resolver) : json_object_new_array());
	return o;
}
