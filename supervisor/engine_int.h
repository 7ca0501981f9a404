/* engine_int.h: the batch engine's own header: batches, and what dispatch.c, results.c, crash.c and engine.c call of each other. */
#ifndef TP_SUPERVISOR_ENGINE_INT_H
#define TP_SUPERVISOR_ENGINE_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "common/error.h"
#include "common/path.h"
#include "supervisor/engine.h"
#include "supervisor/jobs.h"
#include "supervisor/pool.h"

/*
 * The batch engine turns queued jobs into batches, batches into workers
 * (the pool runs them), RESULTs into commits, and worker deaths into
 * crash reports, strikes and re-runs. Only its own files include this
 * header; the rest of the daemon sees engine.h.
 *
 *   dispatch.c  batches, the pool's events, keys, JOBs, deadlines, kills
 *   results.c   RESULT and LOG messages: checked, then committed
 *   crash.c     worker deaths: reports, strikes, quarantine, re-runs
 *   engine.c    the engine's life: timers, stop, abort, free, status
 */

/* One worker's share of jobs. */
struct batch {
	TAILQ_ENTRY(batch)	 entry;
	struct jobs		*jobs;
	uint64_t		 id;
	struct worker		*w;		/* NULL once the worker is gone */
	pid_t			 pid;
	uint64_t		 generation;
	struct job		**job;		/* NULL where a job left */
	size_t			 n;
	size_t			 unanswered;	/* sent, no RESULT yet */
	bool			 alone;
	bool			 keys_pending;	/* keys being read for it */
	bool			 ready;
	bool			 sending;	/* JOBs going out now */
	bool			 shutdown_sent;
	bool			 killing;	/* worker_kill called by us */
	bool			 culprit_known;	/* killed for one job's fault */
	bool			 drain_killed;
	bool			 log_warned;	/* a bad LOG was reported */
	unsigned		 daemon_logs;	/* job-less LOG lines seen */
	char			 culprit_job[JOBS_ID_LEN + 1];
	char			 culprit_uid[UID_MAX_LEN + 1];
	/* the tenant whose own deadline made the daemon kill the worker:
	 * the one job of the batch that death implicates */
	char			 deadline_uid[UID_MAX_LEN + 1];
	char			 kill_reason[160];
	char			 crash_id[AUTO_ID_LEN + 1];	/* set ahead
						   when we kill it for a fault */
	struct event		*ev_shutdown;	/* exit overdue after SHUTDOWN */
};


/* dispatch.c (and engine_pool_events, engine_batch_fill of engine.h) */
/* Schedules a dispatch pass on the loop (coalesced). */
void		 dispatch_kick(struct jobs *j);
void		 dispatch_run(struct jobs *j);
/* The job left its batch (answered or failed): stop its deadline, send
 * SHUTDOWN when the batch has nothing more to do. */
void		 dispatch_job_left(struct batch *b, struct job *job);
/* Kills the batch's worker for a reason; later messages are ignored. */
void		 dispatch_kill(struct batch *b, const char *reason,
		    bool culprit_known);
void		 dispatch_batch_free(struct batch *b);
void		 dispatch_kill_all(struct jobs *j, const char *reason);

/* results.c */
void		 results_job_begin(struct batch *b, json_object *p);
void		 results_result(struct batch *b, json_object *p);
void		 results_log(struct batch *b, json_object *p);
/* At exit: frees the results still waiting to commit. */
void		 results_free_pending(struct jobs *j);

/* crash.c */
void		 crash_exited(struct jobs *j, struct batch *b,
		    const struct worker_exit *ex);
/*
 * A tenant's fault was proven without waiting for the crash (a rejected
 * result): one strike, its last_sync_error (code, "what") and a tenant
 * log line; at max_strikes the tenant is quarantined. Returns true when
 * it is quarantined now; *strikes gets its count.
 */
bool		 crash_strike(struct jobs *j, struct job *job,
		    const char *crash_id, const char *what, enum tp_code code,
		    unsigned *strikes);
json_object	*crash_recent_json(const struct jobs *j);
void		 crash_summaries_free(struct jobs *j);

#endif
