/* result.c: a job's RESULT as the worker builds it: JSON that takes the out-of-memory path, log lines, errors, the key id's end. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <string.h>

#include "common/jsonutil.h"
#include "common/wire_result.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

/* Allocation failures take the out-of-memory path: no half-built RESULT. */
/* Allocation failures take the out-of-memory path: no half-built RESULT. */
json_object *
result_obj(void)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		sandbox_oom();
	return o;
}

json_object *
result_str(const char *s)
{
	json_object *o;

	if ((o = json_object_new_string(s)) == NULL)
		sandbox_oom();
	return o;
}

void
result_add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL || json_add(o, key, v) == -1)
		sandbox_oom();
}

void
result_append(json_object *a, json_object *v)
{
	if (v == NULL || json_object_array_add(a, v) != 0)
		sandbox_oom();
}

json_object *
result_error(const char *job_id, enum tp_code code, const char *message)
{
	json_object *r;

	if ((r = wire_result_error_new(job_id, code, message)) == NULL)
		sandbox_oom();
	return r;
}

void
result_last4(const struct job *j, char *out)
{
	size_t len = strlen(j->key_id);

	if (len < JOB_KEY_ID_MIN) {
		out[0] = '\0';
		return;
	}
	memcpy(out, j->key_id + len - JOB_KEY_ID_MIN, JOB_KEY_ID_MIN + 1);
}

void
result_log(struct job *j, const char *level, const char *event,
    const char *message)
{
	json_object *l;

	if (j->log == NULL && (j->log = json_object_new_array()) == NULL)
		sandbox_oom();
	if (json_object_array_length(j->log) >= JOB_LOG_LINES)
		return;
	/* two requests failing alike (bad keys) say it once */
	if ((l = json_object_array_get_idx(j->log,
	    json_object_array_length(j->log) - 1)) != NULL) {
		const char *lv = json_get_str(l, "level");
		const char *ev = json_get_str(l, "event");
		const char *ms = json_get_str(l, "message");

		if (lv != NULL && ev != NULL && ms != NULL &&
		    strcmp(lv, level) == 0 && strcmp(ev, event) == 0 &&
		    strcmp(ms, message) == 0)
			return;
	}
	l = result_obj();
	result_add(l, "level", result_str(level));
	result_add(l, "event", result_str(event));
	result_add(l, "message", result_str(message));
	result_append(j->log, l);
}
