/* engine.h: the batch engine as the daemon sees it: its life cycle and what status shows of it. */
#ifndef TP_SUPERVISOR_ENGINE_H
#define TP_SUPERVISOR_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

struct jobs;
struct pool_events;

/* What the pool tells the engine (pool_new's events). */
extern const struct pool_events engine_pool_events;

/* After jobs_new: the engine's timers, and it hears of queued jobs. */
int		 engine_start(struct jobs *j, struct tp_err *err);
/* Stop: no new batches, queued jobs fail, running ones get until
 * min(DAEMON_DRAIN_MS, job_timeout), then their workers are killed;
 * idle(arg) once nothing is left. */
void		 engine_stop(struct jobs *j, void (*idle)(void *), void *arg);
/* At exit: every job still unfinished is failed as interrupted, waiters
 * told, workers detached (call before pool_free). */
void		 engine_abort(struct jobs *j);
/* Before jobs_free: batches, results waiting to commit, crash summaries. */
void		 engine_free(struct jobs *j);
/* Adds the engine's figures (recent crashes) to a status reply. */
void		 engine_status(struct jobs *j, json_object *r);
/* Adds what the live worker of that generation runs to its status entry
 * o ("batch": its size, "batch_id", "alone", "unanswered", "uids"). */
bool		 engine_batch_fill(struct jobs *j, uint64_t generation,
		    json_object *o);

#endif
