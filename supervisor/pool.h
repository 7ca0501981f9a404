/* pool.h: the worker processes: spawn, channel, heartbeats, reaping, throttling. */
#ifndef TP_SUPERVISOR_POOL_H
#define TP_SUPERVISOR_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/wire.h"

/*
 * The pool knows processes, not jobs (Postfix's master: spawn.c, status,
 * throttling; the job layer in jobs.c/dispatch.c decides what a worker
 * runs). It owns:
 *  - the worker channel (ROUTER on ipc://<state_dir>/run/workers.sock);
 *  - spawning: posix_spawn of tradepulse-worker (never a bare fork of the
 *    daemon: the child closes every fd but stdin=/dev/null, stdout and
 *    stderr = a pipe read by the pool, and fd 3 = the token and session
 *    key pipe, then execs with a minimal environment); the per-spawn
 *    token and session key (which seals its JOBs' keys); the generation
 *    number;
 *  - HELLO checks (token in constant time, pid matches the child), after
 *    which it sends CONFIG and calls ev->ready;
 *  - HEARTBEAT: consumed here; a worker silent for heartbeat_timeout is
 *    killed; every other message type goes to ev->message;
 *  - stderr: the last WORKER_STDERR_TAIL bytes of each worker are kept for
 *    its crash report (and each line is logged at debug level);
 *  - death: SIGCHLD through libevent, waitpid, then ev->exited exactly
 *    once per worker with what is known; channel loss and missed
 *    heartbeats lead to a kill, then to the same ev->exited;
 *  - killing: worker_kill sends SIGTERM, then SIGKILL after
 *    DAEMON_KILL_GRACE_MS;
 *  - restart policy: exponential backoff with a cap when crashes repeat
 *    (reset after a quiet period), a pool-wide crash-rate limit that
 *    throttles spawning, start-up failures (death before HELLO) counted
 *    and throttled separately, in the manner of Postfix's master. While
 *    throttled, pool_spawn fails with TP_UNAVAILABLE and pool_retry_ms
 *    says when to try again; the pool calls ev->spawnable when spawning
 *    becomes possible again.
 */

#define WORKER_STDERR_TAIL	4096

struct daemon;
struct pool;
struct worker;

/* Why and how a worker ended; passed to ev->exited. */
struct worker_exit {
	pid_t		 pid;
	uint64_t	 generation;
	bool		 clean;		/* exit status 0 after SHUTDOWN or max_jobs */
	bool		 startup;	/* died before a good HELLO */
	int		 exit_code;	/* -1 when killed by a signal */
	int		 signo;		/* 0 when it exited */
	const char	*signame;	/* "SIGSEGV", ... or NULL */
	bool		 core;
	uint64_t	 uptime_ms;
	const char	*reason;	/* why the pool killed it, e.g. "no heartbeat
					   for 10s", "channel lost", or NULL */
	const char	*syscall;	/* forbidden syscall named on stderr by the
					   worker's SIGSYS handler, or NULL */
	const char	*stderr_tail;	/* last lines of its stderr ("" if none) */
};

struct pool_events {
	/* The worker said a good HELLO and got its CONFIG: send it jobs. */
	void	(*ready)(void *arg, struct worker *w);
	/* A checked message (JOB_BEGIN, RESULT, LOG) from a live worker;
	 * m->payload is borrowed for the call. */
	void	(*message)(void *arg, struct worker *w, const struct wire_msg *m);
	/* The worker is gone (process reaped); w is freed after the call. */
	void	(*exited)(void *arg, struct worker *w, const struct worker_exit *ex);
	/* Throttling ended or a worker slot freed: dispatch may spawn again.
	 * A hint: it may come when nothing changed. Never called from inside
	 * pool_spawn. */
	void	(*spawnable)(void *arg);
};

/* The channel is a ROUTER of zctx, the daemon's context, which outlives
 * the pool. */
struct pool *pool_new(struct daemon *d, void *zctx,
    const struct pool_events *ev, void *arg, struct tp_err *err);
/* Kills every worker (SIGKILL), reaps them, closes the channel (before
 * the daemon ends the context). No ev callback runs from here: the job
 * layer settles its batches first. */
void pool_free(struct pool *p);

/*
 * Starts one worker for a batch; ctx is the job layer's batch, returned by
 * worker_ctx. Fails with TP_RESOURCE_EXHAUSTED at max_workers, with
 * TP_UNAVAILABLE while throttled or stopping, TP_INTERNAL if the
 * program cannot be started.
 */
int pool_spawn(struct pool *p, void *ctx, struct worker **out,
    struct tp_err *err);
/* Workers alive now (spawned and not yet reaped). */
size_t pool_size(const struct pool *p);
/* 0 when a spawn may be tried now, else milliseconds until it may. */
uint64_t pool_retry_ms(const struct pool *p);
/* No new spawns from now on (daemon stopping). */
void pool_stop(struct pool *p);
/* {"workers": [{pid, generation, uptime_ms, state, jobs_sent,
 *  jobs_done, rss_kb}...], "throttled": bool, "throttle_reason": str|null,
 *  "retry_ms": int, "crashes": int, "startup_failures": int,
 *  "restarts": int, "spawns": int, "crashes_last_minute": int,
 *  "spawn_ms": {n, median, p99, max}, "ready_ms": {n, median, p99, max},
 *  "resolve": ["host:port:address,...", ...]}
 * state: "starting" | "ready" | "stopping" | "killing" | "exited";
 * rss_kb: VmRSS now (null once it has exited); spawn_ms: spawn to a good
 * HELLO over the last 1024 spawns, ready_ms: spawn to the first message
 * after CONFIG (ms, 0.01 precision; null while n is 0); "batch" is the
 * job layer's to add. */
json_object *pool_status(const struct pool *p);

/* Sends a message to a live worker (encoded with its generation). For a
 * JOB the encoded buffer is wiped once ZeroMQ has copied it. Only JOB and
 * SHUTDOWN, and only after ev->ready: TP_UNAVAILABLE before it, once the
 * worker is being killed or is gone, or when its connection refuses the
 * message. */
int worker_send(struct worker *w, enum wire_type type, json_object *payload,
    struct tp_err *err);
/* Seals a job's keys under the worker's session key into out (size >=
 * SEALBOX_TEXT_MAX, common/sealbox.h): the JOB's "keys_sealed". The
 * clear fields are the caller's to wipe. TP_UNAVAILABLE once the worker
 * is gone (its key is freed when it is reaped). */
int worker_seal_keys(const struct worker *w, const char *key_id,
    const char *secret, char *out, size_t size, struct tp_err *err);
/* SIGTERM, then SIGKILL after DAEMON_KILL_GRACE_MS; the reason goes to the
 * worker_exit. Safe to call more than once. */
void worker_kill(struct worker *w, const char *reason);
void *worker_ctx(const struct worker *w);
void worker_set_ctx(struct worker *w, void *ctx);
pid_t worker_pid(const struct worker *w);
uint64_t worker_generation(const struct worker *w);
uint64_t worker_uptime_ms(const struct worker *w);

#endif
