/* jobs.c: the worker's jobs: checking a JOB, running it, building its RESULT. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/jsonutil.h"
#include "common/store.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#define JOB_KEY_ID_MIN		4	/* the RESULT shows its last 4 */
#define JOB_DEADLINE_MAX_MS	(24ULL * 3600 * 1000)

/* Allocation failures take the out-of-memory path: no half-built RESULT. */
json_object *
job_json_obj(void)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		sandbox_oom();
	return o;
}

json_object *
job_json_str(const char *s)
{
	json_object *o;

	if ((o = json_object_new_string(s)) == NULL)
		sandbox_oom();
	return o;
}

void
job_json_add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0)
		sandbox_oom();
}

void
job_json_append(json_object *a, json_object *v)
{
	if (v == NULL || json_object_array_add(a, v) != 0)
		sandbox_oom();
}

/*
 * A string field of printable ASCII (no spaces when token) of min..max
 * bytes, copied into out (size > max). Never quotes the value: it may be a
 * secret.
 */
static int
job_field(json_object *p, const char *key, size_t min, size_t max, bool token,
    char *out, struct tp_err *err)
{
	json_object *v;
	const char *s;
	size_t len, i;

	if (!json_object_object_get_ex(p, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"%s\" is missing or not a string", key);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len || len < min || len > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"%s\" must be %zu..%zu bytes", key, min, max);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < (token ? 0x21 : 0x20) ||
		    (unsigned char)s[i] > 0x7e)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "\"%s\" must be printable ASCII%s", key,
			    token ? " without spaces" : "");
	memcpy(out, s, len + 1);
	return 0;
}

int
job_parse(json_object *p, uint64_t max_deadline_ms, struct job *j,
    struct tp_err *err)
{
	json_object *keys;
	const char *s;
	int64_t dl;

	memset(j, 0, sizeof(*j));
	s = json_get_str(p, "job_id");
	if (!wire_valid_job_id(s))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "\"job_id\" must be "
		    "1..%d characters of [A-Za-z0-9_-]", WIRE_JOB_ID_MAX);
	memcpy(j->id, s, strlen(s) + 1);
	if ((s = json_get_str(p, "uid")) == NULL || !path_valid_uid(s))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"uid\" is missing or not a valid uid");
	memcpy(j->uid, s, strlen(s) + 1);
	if ((s = json_get_str(p, "kind")) == NULL || strcmp(s, "sync") != 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"kind\" must be \"sync\"");
	if (!json_get_int(p, "deadline_ms", &dl) || dl < 1 ||
	    (uint64_t)dl > JOB_DEADLINE_MAX_MS)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"deadline_ms\" must be an integer of 1..%llu",
		    (unsigned long long)JOB_DEADLINE_MAX_MS);
	/* never longer than the configured job timeout */
	j->deadline_ms = (uint64_t)dl < max_deadline_ms ? (uint64_t)dl :
	    max_deadline_ms;
	if ((keys = json_get_obj(p, "keys")) == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "\"keys\" is missing or not a map");
	if (job_field(keys, "key_id", JOB_KEY_ID_MIN, API_KEY_ID_MAX, true,
	    j->key_id, err) == -1 ||
	    job_field(keys, "secret", 1, API_SECRET_MAX, false, j->secret,
	    err) == -1) {
		sodium_memzero(j->key_id, sizeof(j->key_id));
		sodium_memzero(j->secret, sizeof(j->secret));
		return -1;
	}
	return 0;
}

json_object *
job_result_error(const char *job_id, enum tp_code code, const char *message)
{
	json_object *r, *e;

	r = job_json_obj();
	job_json_add(r, "job_id", job_json_str(job_id));
	job_json_add(r, "ok", json_object_new_boolean(0));
	e = job_json_obj();
	job_json_add(e, "code", job_json_str(tp_code_name(code)));
	job_json_add(e, "message", job_json_str(message));
	job_json_add(r, "error", e);
	job_json_add(r, "writes", json_object_new_array());
	return r;
}

/*
 * The sync job until Alpaca exists: proves the tenant's keys reached this
 * worker by reporting the key id's last 4 characters, and records the
 * sync in users/{uid}/status/last_sync.
 */
static void
job_sync(struct worker *w, struct job *j)
{
	json_object *r, *res, *writes, *wr, *data;
	char last4[JOB_KEY_ID_MIN + 1], at[32], path[PATH_MAX_LEN + 1];
	size_t len;

	(void)w;
	len = strlen(j->key_id);
	memcpy(last4, j->key_id + len - JOB_KEY_ID_MIN, JOB_KEY_ID_MIN + 1);
	/* the keys are no longer needed */
	sodium_memzero(j->key_id, sizeof(j->key_id));
	sodium_memzero(j->secret, sizeof(j->secret));

	store_timestamp(at, sizeof(at));
	snprintf(path, sizeof(path), "users/%s/status/last_sync", j->uid);
	r = job_json_obj();
	job_json_add(r, "job_id", job_json_str(j->id));
	job_json_add(r, "ok", json_object_new_boolean(1));
	res = job_json_obj();
	job_json_add(res, "key_id_last4", job_json_str(last4));
	job_json_add(r, "result", res);
	if ((writes = json_object_new_array()) == NULL)
		sandbox_oom();
	wr = job_json_obj();
	job_json_add(wr, "op", job_json_str("merge"));
	job_json_add(wr, "path", job_json_str(path));
	data = job_json_obj();
	job_json_add(data, "at", job_json_str(at));
	job_json_add(data, "job_id", job_json_str(j->id));
	job_json_add(data, "key_id_last4", job_json_str(last4));
	job_json_add(wr, "data", data);
	job_json_append(writes, wr);
#ifdef TP_FAULT_INJECTION
	if (j->fault == FAULT_FOREIGN)
		faults_foreign(j, writes);
#endif
	job_json_add(r, "writes", writes);
	j->result = r;
	j->done = true;
}

void
job_start(struct worker *w, struct job *j)
{
#ifdef TP_FAULT_INJECTION
	if ((j->fault = faults_lookup(j->uid)) != FAULT_NONE) {
		fprintf(stderr, "worker: injecting fault %s (job %s)\n",
		    faults_name(j->fault), j->id);
		faults_trigger(j);
	}
#endif
	job_sync(w, j);
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	json_object_put(j->result);
	sodium_memzero(j, sizeof(*j));
	free(j);
}
