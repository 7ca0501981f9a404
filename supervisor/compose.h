/* compose.h: the store writes of an accepted sync RESULT and the summary the API shows, composed from the job as sent. */
#ifndef TP_SUPERVISOR_COMPOSE_H
#define TP_SUPERVISOR_COMPOSE_H

#include <stdbool.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/store.h"

struct job;
struct wire_result;

/* How the job ended, as the checker accepted it. */
struct compose_outcome {
	bool			 ok;
	enum tp_code		 wcode;		/* the worker's error, when !ok */
	const char		*wmsg;
	struct store_batch	*sb;		/* the writes go here */
	json_object		*trades;	/* the JOB's trades as sent
						   (an array), or NULL */
	size_t			*closed;	/* trades closed, or NULL */
};

/*
 * The writes of an accepted sync into c->sb: the same documents and
 * fields a sync always wrote (snapshot and its alternative copy, the
 * marks of the job's own trades, status/last_sync, last_sync_error set
 * or deleted). A marked trade whose price reached its take-profit or
 * stop-loss level (as c->trades has them) is closed in the same merge
 * (lifecycle.h), its P&L computed here from the JOB's side, qty and
 * entry. The worker named none of the paths. 0, or -1 when out of
 * memory.
 */
int		 compose_sync(struct job *job, const struct wire_result *r,
		    const struct compose_outcome *c);
/* The worker's error message, made safe to store and show. */
void		 compose_safe_msg(const char *msg, char *out, size_t size);
/* The job's summary as the API shows it; NULL when out of memory. */
json_object	*compose_summary(struct job *job, const struct wire_result *r);

#endif
