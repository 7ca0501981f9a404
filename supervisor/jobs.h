/* jobs.h: the job table: jobs, their states, who waits for them. */
#ifndef TP_SUPERVISOR_JOBS_H
#define TP_SUPERVISOR_JOBS_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "common/error.h"
#include "common/path.h"
#include "common/store.h"
#include "common/tenantlog.h"
#include "common/wire.h"
#include "supervisor/pool.h"

/*
 * The job layer decides what workers run; the pool (pool.h) runs them.
 * Tenant policy (strikes, quarantine, the gate: policy.h) is the table's
 * too: jobs->policy. Everything here lives on the event loop thread; store work functions get
 * copies of what they need and never touch these structures.
 *
 * A job's life:
 *   queued -> running (JOB sent to a worker) -> committing (its RESULT
 *   passed validation; the writes are on a store thread) -> done | failed.
 *   A crash sends running jobs back to queued (alone, with a strike), or
 *   fails them; a committing job is never re-queued, so a result is
 *   committed exactly once.
 *
 * The table tells its users of what happens through callbacks they
 * register, and calls into none of them: a job's owner (the pulse) hears
 * when the last job of a chain of re-runs ended and is asked for the
 * prices a JOB carries; a waiter (an API request with wait) hears when
 * its job ended; the batch engine (engine.h: dispatch.c, results.c,
 * crash.c, engine.c) hears when a job was queued.
 */

#define JOBS_KEEP_FINISHED	10000	/* finished jobs kept for `job` */
#define JOBS_KEEP_MS		(60 * 60 * 1000)	/* ... and at most this long */
#define JOBS_PRUNE_MS		(60 * 1000)
#define JOBS_RECENT_CRASHES	10	/* crash summaries kept for status */
#define JOBS_LOG_LINES		200	/* LOG lines a job may write */
#define JOBS_ID_LEN		17	/* "j" + 16 hex digits */
#define JOBS_COMMITS_MAX	256	/* results waiting to commit before
					   no new batch is started */

enum job_state {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_COMMITTING,
	JOB_DONE,
	JOB_FAILED,
};

enum job_kind {
	JOB_SYNC,
	JOB_PRICES,	/* a pulse's price fetch: no tenant (uid "") */
	JOB_SIGNAL,	/* one tenant's signal on one symbol (signals.h) */
};

#define JOBS_SYMBOL_MAX		16	/* pnl_valid_symbol's bound */

struct batch;
struct htab;
struct jobs;
struct policy;
struct job_waiter;
struct results_commit;

struct job {
	TAILQ_ENTRY(job)	 entry;		/* the queue or the finished list */
	char			 id[JOBS_ID_LEN + 1];
	char			 uid[UID_MAX_LEN + 1];
	enum job_kind		 kind;
	enum job_state		 state;
	unsigned		 attempts;	/* times sent to a worker */
	bool			 alone;		/* run in a batch of one */
	bool			 in_queue;
	bool			 in_finished;
	char			 created_at[32];
	struct timespec		 created_mono;	/* for the job duration metric */
	char			 ended_at[32];
	struct timespec		 ended_mono;
	json_object		*result;	/* the worker's summary (done),
						   until the job has ended */
	char			*result_text;	/* ... then kept as JSON text:
						   thousands are kept */
	enum tp_code		 err_code;	/* TP_OK: no error */
	char			 err_msg[TP_ERR_MSG_MAX];
	char			 crash_id[AUTO_ID_LEN + 1];
	char			 retry_of[JOBS_ID_LEN + 1];
	char			 retried_by[JOBS_ID_LEN + 1];
	bool			 interrupted;	/* ended by the daemon's stop */
	const struct job_owner	*owner;		/* who submitted it (the pulse) */
	void			*owner_arg;
	char			*trades;	/* sync: the JOB's trades (JSON
						   text), NULL: read at dispatch */
	char			*keys_doc;	/* sync: the sealed keys document
						   as the pulse read it (JSON
						   text), NULL: read at dispatch */
	json_object		*symbols;	/* prices: the symbols (array) */
	char			 symbol[JOBS_SYMBOL_MAX + 1];	/* signal */
	char			*signal_equity;	/* signal: the snapshot's
						   equity (decimal text) when
						   the API read it, or NULL */
	bool			 signal_trading;	/* signal: the tenant's
						   trading was enabled */
	json_object		*signal_open;	/* signal: the tenant's OPEN
						   trades of the symbol when
						   the API read them, [{"path",
						   "data"}] (a reversal closes
						   the opposite ones), or NULL */

	/* while running */
	struct batch		*batch;
	size_t			 slot;		/* index in batch->job */
	bool			 sent;		/* JOB sent in this attempt */
	bool			 begun;		/* JOB_BEGIN seen in this attempt */
	unsigned		 log_lines;
	struct event		*deadline;

	TAILQ_HEAD(, job_waiter) waiters;	/* API requests with wait */
};

TAILQ_HEAD(job_list, job);

/* Someone waiting for a job to end (an API request with wait: embedded in
 * the op's ctx): ended runs once, when it has. */
struct job_waiter {
	TAILQ_ENTRY(job_waiter)	 entry;
	struct job		*job;		/* NULL once told or detached */
	void			(*ended)(struct job *job, struct job_waiter *w);
	void			*arg;
};

/*
 * A job's owner: ended(job, arg) when the last job of its chain of re-runs
 * ended (the owner moves to a re-run); prices(job, trades, arg) for the
 * prices a sync JOB carries (NULL: the worker fetches them).
 */
struct job_owner {
	void		(*ended)(struct job *job, void *arg);
	json_object	*(*prices)(const struct job *job, json_object *trades,
			    void *arg);
};

TAILQ_HEAD(batch_list, batch);

/* Store work owned by the job layer, freed at exit if never finished. */
struct jobs_work {
	TAILQ_ENTRY(jobs_work)	 entry;
	void			(*free)(struct jobs_work *);
};

struct jobs_crash_summary {
	char		 id[AUTO_ID_LEN + 1];
	char		 at[32];
	pid_t		 pid;
	char		 signame[16];	/* "" when it exited */
	int		 exit_code;
	char		 syscall[40];
	char		 reason[160];
	bool		 startup;
	json_object	*uids;		/* array */
};

struct jobs {
	struct daemon		*d;
	/* who may hold new work (the operator's pause): -1 with the reason
	 * while held; NULL: never held */
	int			(*gate)(void *arg, struct tp_err *err);
	void			*gate_arg;
	struct htab		*byid;		/* job id -> struct job */
	struct policy		*policy;	/* strikes, quarantine */

	struct job_list		 queue;
	size_t			 nqueued;
	struct job_list		 finished;
	size_t			 nfinished;
	size_t			 nrunning;
	size_t			 ncommitting;
	struct batch_list	 batches;
	uint64_t		 next_batch;
	TAILQ_HEAD(, jobs_work)	 work;
	size_t			 nwork;
	TAILQ_HEAD(, results_commit) commits;	/* results waiting to commit */
	size_t			 ncommits;
	bool			 commit_running;	/* a group on a store
						   thread */

	struct event		*ev_dispatch;	/* deferred dispatch */
	struct event		*ev_retry;	/* dispatch after throttling */
	struct event		*ev_prune;
	struct event		*ev_drain;	/* the stop deadline */
	bool			 stopping;
	void			(*queued)(void *);	/* a job was queued */
	void			*queued_arg;
	void			(*idle)(void *);	/* told when stopping and */
	void			*idle_arg;		/* idle */
	bool			 idle_said;

	struct jobs_crash_summary recent[JOBS_RECENT_CRASHES];
	size_t			 nrecent;	/* valid entries, newest at 0 */

	uint64_t		 submitted;
	uint64_t		 done;
	uint64_t		 failed;
	uint64_t		 crashes;
	uint64_t		 security_events;
};

struct api_req;
struct daemon;
struct pulse;

/* jobs.c */
struct jobs	*jobs_new(struct daemon *d, struct tp_err *err);
/* The gate jobs_submit and dispatch ask before taking or starting work;
 * set by the daemon, so that the job layer does not know the pause. */
void		 jobs_set_gate(struct jobs *j,
		    int (*gate)(void *arg, struct tp_err *err), void *arg);
/* Whether the gate holds work now (err, when not NULL, says why). */
bool		 jobs_held(struct jobs *j, struct tp_err *err);
/* After the pool, the API and the store are freed. */
void		 jobs_free(struct jobs *j);
/* Queues a job; TP_RESOURCE_EXHAUSTED past max_queue, TP_UNAVAILABLE when
 * stopping, TP_FAILED_PRECONDITION when the tenant is quarantined. */
struct job	*jobs_submit(struct jobs *j, const char *uid, enum job_kind kind,
		    struct tp_err *err);
struct job	*jobs_find(struct jobs *j, const char *id);
/* Puts a job (not in a batch) back in the queue, or fails it when
 * stopping; alone: run it in a batch of one. */
void		 jobs_requeue(struct jobs *j, struct job *job, bool alone);
/* queued -> running (taken into batch b); running -> committing. */
void		 jobs_set_running(struct jobs *j, struct job *job,
		    struct batch *b);
void		 jobs_set_committing(struct jobs *j, struct job *job);
/* Ends a job: done (err NULL) or failed; answers its waiters. */
void		 jobs_finish(struct jobs *j, struct job *job,
		    const struct tp_err *err);
/* Fails a job as interrupted by the daemon's stop: unavailable, and its
 * waiters get that error rather than the job. */
void		 jobs_interrupt(struct jobs *j, struct job *job);
/* Queues a re-run of a failed job as a new job that runs alone. */
struct job	*jobs_retry(struct jobs *j, struct job *job);
json_object	*jobs_job_json(const struct job *job);
/* The prices a sync JOB carries, from its owner; NULL: none. */
json_object	*jobs_job_prices(const struct job *job, json_object *trades);
const char	*jobs_state_name(enum job_state s);
const char	*jobs_kind_name(enum job_kind k);
/* w->ended (set by the caller) runs when the job has ended: now, if it has. */
void		 jobs_wait(struct job *job, struct job_waiter *w);
void		 jobs_unwait(struct job_waiter *w);

/* Store work bookkeeping. */
int		 jobs_work_submit(struct jobs *j, struct jobs_work *w,
		    store_work_fn work, store_done_fn done, struct tp_err *err);
void		 jobs_work_done(struct jobs *j, struct jobs_work *w);
/* A line in the tenant's log with the job id (loop thread). */
void		 jobs_tlog(struct jobs *j, const char *uid, enum tlog_level lvl,
		    const char *job_id, const char *event, const char *fmt, ...)
		    __attribute__((format(printf, 6, 7)));

/* No job from now on; idle(arg) once nothing is left (engine_stop). */
void		 jobs_set_stopping(struct jobs *j, void (*idle)(void *),
		    void *arg);
/* Nothing running, committing or writing: the daemon may exit. */
bool		 jobs_idle(const struct jobs *j);
/* While stopping: tells the daemon when the job layer became idle. */
void		 jobs_idle_check(struct jobs *j);
/* Adds the job table's figures to a status reply. */
void		 jobs_status(struct jobs *j, json_object *r);

#endif
