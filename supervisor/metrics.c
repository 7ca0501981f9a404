/* metrics.c: tradepulsed's metrics (counters, gauges, histograms), counted where the facts are known and exposed on /metrics. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/wire_result.h"
#include "supervisor/metrics.h"
#include "supervisor/prom.h"


/* Seconds. A pulse of thousands of tenants takes minutes; a job seconds;
 * an Alpaca request tens of milliseconds to its 10 s timeout. */
static const double metrics_pulse_s[] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
};
static const double metrics_job_s[] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

struct metrics {
	struct prom		*reg;

	struct prom_family	*build_info;
	struct prom_family	*pulses;
	struct prom_family	*pulses_started;
	struct prom_family	*pulses_failed;
	struct prom_family	*pulse_duration;
	struct prom_family	*pulse_last;
	struct prom_family	*pulse_interval;
	struct prom_family	*syncs;
	struct prom_family	*jobs;
	struct prom_family	*job_duration;
	struct prom_family	*alpaca;
	struct prom_family	*alpaca_latency;
	double			 alpaca_s[WIRE_HTTP_BUCKETS];
	struct prom_family	*spawns;
	struct prom_family	*crashes;
	struct prom_family	*restarts;
	struct prom_family	*startup_failures;
	struct prom_family	*quarantines;
	struct prom_family	*api;
	struct prom_family	*queue_depth;
	struct prom_family	*jobs_running;
	struct prom_family	*workers;
	struct prom_family	*throttled;
	struct prom_family	*paused_g;
	struct prom_family	*store_pending;
	struct prom_family	*uptime;
};

struct metrics_def {
	size_t			 off;		/* of the family pointer */
	enum prom_type		 type;
	const char		*name;
	const char		*help;
	const char		*labels[3];
	const double		*bounds;
	size_t			 nbounds;
};

#define F(x)	offsetof(struct metrics, x)
#define NB(a)	(a), sizeof(a) / sizeof((a)[0])

static const struct metrics_def metrics_defs[] = {
	{ F(build_info), PROM_GAUGE, "tradepulse_build_info",
	    "Always 1; the version of tradepulsed in a label.",
	    { "version", NULL }, NULL, 0 },
	{ F(pulses_started), PROM_COUNTER, "tradepulse_pulses_started_total",
	    "Pulses started.", { NULL }, NULL, 0 },
	{ F(pulses), PROM_COUNTER, "tradepulse_pulses_total",
	    "Pulses finished (interrupted ones included).", { NULL }, NULL, 0 },
	{ F(pulses_failed), PROM_COUNTER, "tradepulse_pulse_failures_total",
	    "Pulses that could not plan (the store failed): they synced no "
	    "tenant.", { NULL }, NULL, 0 },
	{ F(pulse_duration), PROM_HISTOGRAM, "tradepulse_pulse_duration_seconds",
	    "Time from a pulse's start to the end of its last sync.",
	    { NULL }, NB(metrics_pulse_s) },
	{ F(pulse_last), PROM_GAUGE,
	    "tradepulse_last_pulse_finished_timestamp_seconds",
	    "Unix time the last pulse finished; 0 before the first.",
	    { NULL }, NULL, 0 },
	{ F(pulse_interval), PROM_GAUGE, "tradepulse_pulse_interval_seconds",
	    "[pulse] interval; 0 when scheduled pulses are off.",
	    { NULL }, NULL, 0 },
	{ F(syncs), PROM_COUNTER, "tradepulse_tenant_syncs_total",
	    "Tenants a finished pulse synced, failed or skipped, by outcome.",
	    { "outcome", NULL }, NULL, 0 },
	{ F(jobs), PROM_COUNTER, "tradepulse_jobs_total",
	    "Jobs ended, by kind and outcome (done or failed).",
	    { "kind", "outcome", NULL }, NULL, 0 },
	{ F(job_duration), PROM_HISTOGRAM, "tradepulse_job_duration_seconds",
	    "Time from a job's submission to its end, queue time and "
	    "re-queued attempts included.",
	    { "kind", NULL }, NB(metrics_job_s) },
	{ F(alpaca), PROM_COUNTER, "tradepulse_alpaca_requests_total",
	    "Alpaca HTTP attempts the workers made, by status class "
	    "(error: no HTTP answer).", { "class", NULL }, NULL, 0 },
	{ F(spawns), PROM_COUNTER, "tradepulse_worker_spawns_total",
	    "Worker processes started.", { NULL }, NULL, 0 },
	{ F(crashes), PROM_COUNTER, "tradepulse_worker_crashes_total",
	    "Workers that ended without a clean exit, by the signal that "
	    "ended them (exit: a failure status).", { "signal", NULL },
	    NULL, 0 },
	{ F(restarts), PROM_COUNTER, "tradepulse_worker_restarts_total",
	    "Workers started after a crash.", { NULL }, NULL, 0 },
	{ F(startup_failures), PROM_COUNTER,
	    "tradepulse_worker_startup_failures_total",
	    "Workers that died before their HELLO.", { NULL }, NULL, 0 },
	{ F(quarantines), PROM_COUNTER, "tradepulse_quarantines_total",
	    "Tenants put in quarantine.", { NULL }, NULL, 0 },
	{ F(api), PROM_COUNTER, "tradepulse_api_requests_total",
	    "Job API requests answered, by operation and code (ok or the "
	    "error code).", { "op", "code", NULL }, NULL, 0 },
	{ F(queue_depth), PROM_GAUGE, "tradepulse_queue_depth",
	    "Jobs waiting for a worker.", { NULL }, NULL, 0 },
	{ F(jobs_running), PROM_GAUGE, "tradepulse_jobs_running",
	    "Jobs sent to a worker and not yet answered.", { NULL }, NULL, 0 },
	{ F(workers), PROM_GAUGE, "tradepulse_workers",
	    "Worker processes alive.", { NULL }, NULL, 0 },
	{ F(throttled), PROM_GAUGE, "tradepulse_workers_throttled",
	    "1 while the worker pool refuses to spawn after crashes.",
	    { NULL }, NULL, 0 },
	{ F(paused_g), PROM_GAUGE, "tradepulse_paused",
	    "1 while the operator has paused pulses and jobs.",
	    { NULL }, NULL, 0 },
	{ F(store_pending), PROM_GAUGE, "tradepulse_store_pending",
	    "Store operations queued or running.", { NULL }, NULL, 0 },
	{ F(uptime), PROM_GAUGE, "tradepulse_uptime_seconds",
	    "Seconds since tradepulsed started.", { NULL }, NULL, 0 },
};

#undef F
#undef NB

static struct prom_family **
metrics_slot(struct metrics *m, size_t off)
{
	return (struct prom_family **)(void *)((char *)m + off);
}

struct metrics *
metrics_new(struct tp_err *err)
{
	static const char *const outcomes[] = { "ok", "error",
	    "skipped_disabled", "skipped_no_keys", "skipped_quarantined" };
	const struct metrics_def *def;
	struct metrics *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->reg = prom_new()) == NULL) {
		free(m);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	for (i = 0; i < sizeof(metrics_defs) / sizeof(metrics_defs[0]); i++) {
		def = &metrics_defs[i];
		if ((*metrics_slot(m, def->off) = prom_family(m->reg, def->type,
		    def->name, def->help, def->labels[0] != NULL ?
		    def->labels : NULL, def->bounds, def->nbounds, err)) ==
		    NULL) {
			metrics_free(m);
			return NULL;
		}
	}
	prom_set(m->build_info, PACKAGE_VERSION, NULL, 1);
	/* the outcomes and classes exist from the start, as 0: a ratio
	 * or an increase over a series that appears later misses its first
	 * step */
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		prom_add(m->syncs, outcomes[i], NULL, 0);
	for (i = 0; i < WIRE_HTTP_CLASSES; i++)
		prom_add(m->alpaca, wire_http_class_names[i], NULL, 0);
	for (i = 0; i < WIRE_HTTP_BUCKETS; i++)
		m->alpaca_s[i] = (double)wire_http_latency_ms[i] / 1000.0;
	if ((m->alpaca_latency = prom_family(m->reg, PROM_HISTOGRAM,
	    "tradepulse_alpaca_request_duration_seconds", "Alpaca HTTP "
	    "attempts by time to the whole answer (or the failure), as the "
	    "workers measured them.", NULL, m->alpaca_s, WIRE_HTTP_BUCKETS,
	    err)) == NULL) {
		metrics_free(m);
		return NULL;
	}
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	prom_free(m->reg);
	free(m);
}

void
metrics_pulse_started(struct metrics *m)
{
	if (m != NULL)
		prom_add(m->pulses_started, NULL, NULL, 1);
}

void
metrics_pulse_ended(struct metrics *m, const struct metrics_pulse *p)
{
	struct timespec ts;

	if (m == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	prom_add(m->pulses, NULL, NULL, 1);
	prom_observe(m->pulse_duration, NULL, NULL, p->seconds);
	if (p->failed)
		prom_add(m->pulses_failed, NULL, NULL, 1);
	else	/* a pulse that synced nobody is not the alert's last pulse */
		prom_set(m->pulse_last, NULL, NULL, (double)ts.tv_sec +
		    (double)(ts.tv_nsec / 1000000) / 1000.0);
	prom_add(m->syncs, "ok", NULL, (double)p->synced);
	prom_add(m->syncs, "error", NULL, (double)p->errors);
	prom_add(m->syncs, "skipped_disabled", NULL,
	    (double)p->skipped_disabled);
	prom_add(m->syncs, "skipped_no_keys", NULL, (double)p->skipped_no_keys);
	prom_add(m->syncs, "skipped_quarantined", NULL,
	    (double)p->skipped_quarantined);
}

void
metrics_crash(struct metrics *m, const char *signame)
{
	if (m != NULL)
		prom_add(m->crashes, signame != NULL ? signame : "exit", NULL,
		    1);
}

void
metrics_api(struct metrics *m, const char *op, const char *code)
{
	if (m != NULL)
		prom_add(m->api, op != NULL ? op : "unknown", code, 1);
}

void
metrics_job(struct metrics *m, const char *kind, bool ok, double seconds)
{
	if (m == NULL)
		return;
	prom_add(m->jobs, kind, ok ? "done" : "failed", 1);
	prom_observe(m->job_duration, kind, NULL, seconds);
}

void
metrics_alpaca(struct metrics *m, const struct wire_http *h)
{
	uint64_t counts[WIRE_HTTP_BUCKETS + 1];
	size_t i;

	if (m == NULL || !h->present)
		return;
	for (i = 0; i < WIRE_HTTP_CLASSES; i++)
		prom_add(m->alpaca, wire_http_class_names[i], NULL,
		    (double)h->classes[i]);
	for (i = 0; i <= WIRE_HTTP_BUCKETS; i++)
		counts[i] = (uint64_t)h->latency[i];
	prom_observe_counts(m->alpaca_latency, NULL, NULL, counts,
	    WIRE_HTTP_BUCKETS + 1, (double)h->latency_ms_sum / 1000.0);
}

int
metrics_render(struct metrics *m, const struct metrics_now *now,
    struct evbuffer *out)
{
	prom_set(m->spawns, NULL, NULL, (double)now->spawns);
	prom_set(m->restarts, NULL, NULL, (double)now->restarts);
	prom_set(m->startup_failures, NULL, NULL,
	    (double)now->startup_failures);
	prom_set(m->quarantines, NULL, NULL, (double)now->quarantines);
	prom_set(m->queue_depth, NULL, NULL, (double)now->queue_depth);
	prom_set(m->jobs_running, NULL, NULL, (double)now->jobs_running);
	prom_set(m->workers, NULL, NULL, (double)now->workers);
	prom_set(m->throttled, NULL, NULL, now->throttled ? 1 : 0);
	prom_set(m->paused_g, NULL, NULL, now->paused ? 1 : 0);
	prom_set(m->store_pending, NULL, NULL, (double)now->store_pending);
	prom_set(m->pulse_interval, NULL, NULL, now->pulse_interval_s);
	prom_set(m->uptime, NULL, NULL, now->uptime_s);
	return prom_render(m->reg, out);
}
