/* metrics.h: tradepulsed's metrics (counters, gauges, histograms), counted where the facts are known and exposed on /metrics. */
#ifndef TP_SUPERVISOR_METRICS_H
#define TP_SUPERVISOR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*
 * The names and meanings are documented in docs/metrics.md. Events are
 * counted by the hooks below, one call where the fact is known; figures
 * that another module keeps already (spawns, queue depth, quarantines,
 * ...) are read at scrape time into struct metrics_now. Every hook
 * accepts m == NULL (does nothing), so a module works without metrics.
 */

struct evbuffer;
struct metrics;
struct wire_http;

/* A pulse's figures when it ended (pulse.c's counts). */
struct metrics_pulse {
	double		 seconds;
	size_t		 synced;
	size_t		 errors;		/* crashed and quarantined included */
	size_t		 skipped_disabled;
	size_t		 skipped_no_keys;
	size_t		 skipped_quarantined;
	bool		 interrupted;
	bool		 failed;		/* could not plan: synced none */
};

/* What the scrape reads from the daemon's modules. */
struct metrics_now {
	uint64_t	 spawns;
	uint64_t	 restarts;
	uint64_t	 startup_failures;
	uint64_t	 quarantines;
	size_t		 queue_depth;		/* jobs queued */
	size_t		 jobs_running;
	size_t		 workers;
	bool		 throttled;
	bool		 paused;		/* pause_active() */
	size_t		 store_pending;
	double		 pulse_interval_s;	/* 0: pulses off */
	double		 uptime_s;
};

struct metrics	*metrics_new(struct tp_err *err);
void		 metrics_free(struct metrics *m);

/* Hooks. */
void	metrics_pulse_started(struct metrics *m);
void	metrics_pulse_ended(struct metrics *m, const struct metrics_pulse *p);
/* A worker that did not end cleanly; signame NULL when it exited with a
 * status (labelled "exit"). */
void	metrics_crash(struct metrics *m, const char *signame);
/* An API reply: the op's name (NULL: unknown op) and "ok" or the error
 * code's wire name. */
void	metrics_api(struct metrics *m, const char *op, const char *code);
/* A job ended: kind "sync" | "prices" | "signal", after seconds. */
void	metrics_job(struct metrics *m, const char *kind, bool ok,
	    double seconds);
/* The Alpaca attempts a checked RESULT reports (its "http", if any). */
void	metrics_alpaca(struct metrics *m, const struct wire_http *h);
/* The exposition, with now's figures read first; -1 when out of memory. */
int	metrics_render(struct metrics *m, const struct metrics_now *now,
	    struct evbuffer *out);

#endif
