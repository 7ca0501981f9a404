/* pause.h: the operator's big red button: no new pulse or job while paused, running ones drained then killed, kept across restarts. */
#ifndef TP_SUPERVISOR_PAUSE_H
#define TP_SUPERVISOR_PAUSE_H

#include <stdbool.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * A pause is a file, <state_dir>/paused ({"since", "reason", "by"}),
 * written atomically: it works when the store is what is broken, and
 * the daemon starts paused while it is there. While paused, a pulse
 * (scheduled or asked for) does not start, and jobs_submit refuses every
 * new job (sync, signal, a pulse's syncs) with failed_precondition
 * "paused ...: REASON"; queued jobs fail the same way and are not
 * dispatched; jobs running in workers get PAUSE_GRACE_MS to finish,
 * then their workers are killed (the jobs end "interrupted", no strike).
 * Per-tenant kill-switches (trading.set) are a separate matter.
 */

#define PAUSE_FILE		"paused"
#define PAUSE_FILE_MAX		4096	/* the file's size, at most */
#define PAUSE_GRACE_MS		5000	/* running jobs' time to finish */

struct api_req;
struct daemon;

/* At start, after the state folder exists: reads the pause file. A file
 * that cannot be read or parsed keeps the daemon paused (fail safe). */
int		 pause_load(struct daemon *d, struct tp_err *err);
void		 pause_free(struct daemon *d);
/* Whether the daemon is paused now; *reason (may be NULL) is borrowed. */
bool		 pause_active(const struct daemon *d, const char **reason);
/* 0, or -1 with failed_precondition naming the pause and its reason. */
int		 pause_check(const struct daemon *d, struct tp_err *err);
/* pause_check for jobs_set_gate (arg: the daemon). */
int		 pause_gate(void *arg, struct tp_err *err);
/* {since, reason, by}, or NULL when not paused (status's "paused"). */
json_object	*pause_status_json(const struct daemon *d);

/* API operations: pause {reason?}, resume {}. */
int		 pause_op_pause(struct api_req *req, struct tp_err *err);
int		 pause_op_resume(struct api_req *req, struct tp_err *err);

#endif
