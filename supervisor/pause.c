/* pause.c: the pause and resume operations, the pause file in state_dir, and the drain of the running jobs. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/clock.h"
#include "common/curve.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/store.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/engine_int.h"
#include "supervisor/events.h"
#include "supervisor/jobs.h"
#include "supervisor/pause.h"

#define PAUSE_BY_MAX	96

struct pause {
	bool		 active;
	char		 since[32];
	char		 reason[API_REASON_MAX + 1];
	char		 by[PAUSE_BY_MAX];
	struct event	*grace;		/* then the workers are killed */
};

/* Text from outside (the operator, the file) without control bytes. */
static void
pause_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int
pause_path(const struct daemon *d, const char *suffix, char *buf,
    size_t size, struct tp_err *err)
{
	if ((size_t)snprintf(buf, size, "%s/%s%s", d->cfg.state_dir,
	    PAUSE_FILE, suffix) >= size)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "state_dir is too "
		    "long for the pause file");
	return 0;
}

static void
pause_set(struct pause *pz, const char *since, const char *reason,
    const char *by)
{
	pz->active = true;
	snprintf(pz->since, sizeof(pz->since), "%s", since);
	snprintf(pz->reason, sizeof(pz->reason), "%s", reason);
	snprintf(pz->by, sizeof(pz->by), "%s", by);
	pause_clean(pz->reason);
	pause_clean(pz->by);
}

/* The file's text into pz; a bad file still pauses (fail safe). */
static void
pause_parse(struct pause *pz, const char *path, const char *buf, size_t len)
{
	struct tp_err err;
	json_object *o;
	const char *since, *reason, *by;

	if ((o = json_parse(buf, len, &err)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		log_warnx("pause: %s is not a JSON object; staying paused "
		    "(`tradepulse resume` removes it)", path);
		pause_set(pz, "", "the pause file is unreadable", "unknown");
		return;
	}
	since = json_get_str(o, "since");
	reason = json_get_str(o, "reason");
	by = json_get_str(o, "by");
	pause_set(pz, since != NULL ? since : "", reason != NULL ? reason : "",
	    by != NULL ? by : "unknown");
	json_object_put(o);
}

int
pause_load(struct daemon *d, struct tp_err *err)
{
	struct pause *pz;
	struct stat st;
	char path[PATH_MAX], buf[PAUSE_FILE_MAX + 1];
	ssize_t n;
	int fd;

	if ((pz = calloc(1, sizeof(*pz))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	d->pause = pz;
	if (pause_path(d, "", path, sizeof(path), err) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("pause: %s", path);
		pause_set(pz, "", "the pause file cannot be opened", "unknown");
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > PAUSE_FILE_MAX ||
	    (n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		close(fd);
		log_warnx("pause: %s is not a readable file of at most %d "
		    "bytes; staying paused", path, PAUSE_FILE_MAX);
		pause_set(pz, "", "the pause file is unreadable", "unknown");
		return 0;
	}
	close(fd);
	pause_parse(pz, path, buf, (size_t)n);
	log_warnx("paused since %s by %s: %s; no pulse or job runs until "
	    "`tradepulse resume`", pz->since, pz->by, pz->reason);
	return 0;
}

void
pause_free(struct daemon *d)
{
	if (d->pause == NULL)
		return;
	if (d->pause->grace != NULL)
		event_free(d->pause->grace);
	free(d->pause);
	d->pause = NULL;
}

bool
pause_active(const struct daemon *d, const char **reason)
{
	bool on = d->pause != NULL && d->pause->active;

	if (reason != NULL)
		*reason = on ? d->pause->reason : NULL;
	return on;
}

int
pause_gate(void *arg, struct tp_err *err)
{
	return pause_check(arg, err);
}

int
pause_check(const struct daemon *d, struct tp_err *err)
{
	const struct pause *pz = d->pause;

	if (!pause_active(d, NULL))
		return 0;
	return tp_err_set(err, TP_FAILED_PRECONDITION, "paused since %s by "
	    "%s: %s (`tradepulse resume` ends it)", pz->since, pz->by,
	    *pz->reason != '\0' ? pz->reason : "no reason given");
}

json_object *
pause_status_json(const struct daemon *d)
{
	const struct pause *pz = d->pause;
	json_object *o;

	if (!pause_active(d, NULL) || (o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "since", json_object_new_string(pz->since));
	json_add(o, "reason", json_object_new_string(pz->reason));
	json_add(o, "by", json_object_new_string(pz->by));
	return o;
}

/* The file: written to a temporary name, synced, renamed over. */
static int
pause_write(const struct daemon *d, struct tp_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	json_object *o;
	const char *text;
	size_t len;
	int fd, rc = -1;

	if (pause_path(d, "", path, sizeof(path), err) == -1 ||
	    pause_path(d, ".tmp", tmp, sizeof(tmp), err) == -1)
		return -1;
	if ((o = pause_status_json(d)) == NULL ||
	    (text = json_compact(o, &len)) == NULL) {
		json_object_put(o);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		json_object_put(o);
		return tp_err_errno(err, TP_INTERNAL, "%s", tmp);
	}
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) == -1)
		tp_err_errno(err, TP_INTERNAL, "%s", tmp);
	else if (rename(tmp, path) == -1)
		tp_err_errno(err, TP_INTERNAL, "rename %s", path);
	else
		rc = 0;
	close(fd);
	if (rc == -1)
		(void)unlink(tmp);
	else if ((fd = open(d->cfg.state_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		(void)fsync(fd);	/* the rename too survives a crash */
		close(fd);
	}
	json_object_put(o);
	return rc;
}

/* Every queued job fails with the pause's error: none is dispatched,
 * and a pulse waiting for its syncs ends. */
static void
pause_fail_queued(struct daemon *d)
{
	struct tp_err err;
	struct job *job;

	if (d->jobs == NULL || pause_check(d, &err) == 0)
		return;
	while ((job = TAILQ_FIRST(&d->jobs->queue)) != NULL)
		jobs_finish(d->jobs, job, &err);
}

/* The grace is over: the workers still running jobs are killed. */
static void
pause_grace_end(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (!pause_active(d, NULL) || d->jobs == NULL || d->jobs->stopping)
		return;
	pause_fail_queued(d);
	if (d->jobs->nrunning > 0)
		log_warnx("pause: %zu jobs still running after %d ms; their "
		    "workers are killed", d->jobs->nrunning, PAUSE_GRACE_MS);
	dispatch_kill_all(d->jobs, "tradepulsed paused");
}

/* Who asked: the CURVE client's name, or the ipc peer's uid. */
static void
pause_who(const struct api_req *req, char *buf, size_t size)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (req->client != NULL)
		snprintf(buf, size, "client %s", req->client->name);
	else if (req->fd >= 0 && getsockopt(req->fd, SOL_SOCKET, SO_PEERCRED,
	    &cr, &len) == 0)
		snprintf(buf, size, "uid %lu", (unsigned long)cr.uid);
	else
		snprintf(buf, size, "an api client");
}

static json_object *
pause_reply(const struct daemon *d, bool changed)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "paused", pause_status_json(d));
	json_add(o, "changed", json_object_new_boolean(changed));
	return o;
}

int
pause_op_pause(struct api_req *req, struct tp_err *err)
{
	struct daemon *d = req->d;
	struct pause *pz = d->pause;
	struct timeval tv;
	struct tp_err werr;
	const char *reason = "";
	char by[PAUSE_BY_MAX], at[32];
	json_object *r;

	if (api_arg_str(req, "reason", false, 0, API_REASON_MAX, &reason,
	    err) == -1)
		return -1;
	if (pz->active) {	/* the first pause's reason stands */
		api_reply(req, pause_reply(d, false));
		return 0;
	}
	pause_who(req, by, sizeof(by));
	store_timestamp(at, sizeof(at));
	pause_set(pz, at, reason, by);
	log_warnx("paused by %s: %s", pz->by, *pz->reason != '\0' ?
	    pz->reason : "no reason given");
	r = pause_reply(d, true);
	tp_err_clear(&werr);
	/* the button works even when the file cannot be written: the reply
	 * says it will not survive a restart */
	if (pause_write(d, &werr) == -1) {
		log_warnx("pause: cannot write the pause file: %s; the pause "
		    "ends with this run", werr.msg);
		if (r != NULL)
			json_add(r, "warning", json_object_new_string("the "
			    "pause file could not be written: the pause ends "
			    "with this run"));
	}
	events_ops(d->events, "paused", pause_status_json(d));
	pause_fail_queued(d);
	if (pz->grace == NULL)
		pz->grace = evtimer_new(d->base, pause_grace_end, d);
	if (pz->grace != NULL) {
		tv = clock_tv(PAUSE_GRACE_MS);
		evtimer_add(pz->grace, &tv);
	} else
		dispatch_kill_all(d->jobs, "tradepulsed paused");
	api_reply(req, r);
	return 0;
}

int
pause_op_resume(struct api_req *req, struct tp_err *err)
{
	struct daemon *d = req->d;
	struct pause *pz = d->pause;
	char path[PATH_MAX], by[PAUSE_BY_MAX];
	json_object *r, *was;

	if (pause_path(d, "", path, sizeof(path), err) == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT)
		return tp_err_errno(err, TP_INTERNAL, "cannot remove the pause "
		    "file %s; still paused", path);
	if ((r = json_object_new_object()) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	was = pause_status_json(d);
	json_add(r, "changed", json_object_new_boolean(was != NULL));
	json_add(r, "was", was);
	if (was != NULL) {
		pause_who(req, by, sizeof(by));
		log_warnx("resumed by %s (paused since %s by %s)", by,
		    pz->since, pz->by);
		if ((was = json_object_new_object()) != NULL) {
			json_add(was, "paused_since",
			    json_object_new_string(pz->since));
			json_add(was, "paused_by", json_object_new_string(pz->by));
			json_add(was, "reason", json_object_new_string(pz->reason));
			json_add(was, "resumed_by", json_object_new_string(by));
		}
		events_ops(d->events, "resumed", was);
	}
	pz->active = false;
	if (pz->grace != NULL)
		evtimer_del(pz->grace);
	if (d->jobs != NULL && d->jobs->nqueued > 0)
		dispatch_kick(d->jobs);
	api_reply(req, r);
	return 0;
}
