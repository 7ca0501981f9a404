/* api.c: the job API socket: frames, limits, parsing, the table of operations, replies. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/jobs.h"
#include "supervisor/keys.h"
#include "supervisor/pulse.h"
#include "supervisor/status.h"
#include "supervisor/tenant.h"
#include "supervisor/zframes.h"

#define API_BURST	64	/* requests read per wake-up before yielding */
#define API_LINGER_MS	500	/* how long replies may still drain at close */
#define API_HWM		4096	/* messages queued per peer */
#define API_NAME_SHOWN	64	/* bytes of a client-supplied name we echo */

#define ARGS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define NO_ARGS		((const char *const []){ NULL })

/*
 * The routing table. Every request may also carry "op" and "wait"; any
 * other argument must be listed here, so a misspelt one is an error
 * rather than silently ignored. Later operations (pulse, signal, ...) are
 * one more line each.
 */
static const struct api_op api_ops[] = {
	{ API_OP_STATUS,	status_start,		NO_ARGS },
	{ API_OP_TENANT_ADD,	tenant_add_start,	ARGS("uid", "profile") },
	{ API_OP_TENANT_LIST,	tenant_list_start,	ARGS("limit", "after") },
	{ API_OP_TENANT_SHOW,	tenant_show_start,	ARGS("uid") },
	{ API_OP_KEYS_SET,	keys_set_start,
	    ARGS("uid", "key_id", "secret") },
	{ API_OP_KEYS_ROTATE,	keys_rotate_start,	NO_ARGS },
	{ API_OP_TRADING_SET,	trading_set_start,
	    ARGS("uid", "enabled", "reason") },
	{ API_OP_SYNC,		sync_start,		ARGS("uid") },
	{ API_OP_JOB,		job_start,		ARGS("id") },
	{ API_OP_TENANT_RELEASE, tenant_release_start,	ARGS("uid") },
	{ API_OP_PULSE,		pulse_op_start,		NO_ARGS },
	{ API_OP_PULSE_STATUS,	pulse_op_status,	NO_ARGS },
};

struct api {
	struct daemon		*d;
	void			*zctx;
	void			*sock;
	struct event		*ev;
	char			*endpoint;
	char			*bound_path;	/* the ipc socket file we made */
	TAILQ_HEAD(, api_req)	 reqs;		/* not yet answered */
	size_t			 in_flight;
	uint64_t		 requests;
	uint64_t		 errors;
	bool			 stopping;
};

static void	api_readable(evutil_socket_t, short, void *);

/* Copies a client-supplied name for an error message: printable ASCII
 * only, bounded, so a reply never carries broken UTF-8 or control bytes. */
static const char *
api_shown(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size && i < API_NAME_SHOWN; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}


/* An ipc socket's folder must be private; a stale socket is removed,
 * a live one (another daemon) is refused. */
static int
api_ipc_prepare(const char *path, struct tp_err *err)
{
	struct stat st;
	char dir[PATH_MAX];
	const char *slash;

	if (path[0] == '@')		/* Linux abstract namespace: no file */
		return 0;
	if ((slash = strrchr(path, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "api socket path too long");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT)
			return tp_err_errno(err, TP_FAILED_PRECONDITION,
			    "api socket folder %s", dir);
		if (files_mkdir(dir, 0750, err) == -1)
			return -1;
	}
	if (files_check_private_dir(dir, "api socket", err) == -1)
		return -1;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return tp_err_errno(err, TP_FAILED_PRECONDITION, "%s", path);
	}
	if (!S_ISSOCK(st.st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s exists and is not a socket", path);
	switch (files_socket_live(path)) {
	case 1:
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "another daemon is serving %s", path);
	case -1:
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "cannot tell whether %s is in use", path);
	}
	if (unlink(path) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "cannot remove the stale socket %s", path);
	log_info("removed the stale socket %s", path);
	return 0;
}

static int
api_setopt(struct api *api, int opt, const void *val, size_t len,
    const char *name, struct tp_err *err)
{
	if (zmq_setsockopt(api->sock, opt, val, len) == -1)
		return tp_err_set(err, TP_INTERNAL, "zmq_setsockopt %s: %s",
		    name, zmq_strerror(errno));
	return 0;
}

struct api *
api_open(struct daemon *d, struct tp_err *err)
{
	struct api *api;
	const char *ep = d->cfg.api;
	int64_t maxsize = API_HARD_MAX_FRAME;
	int off = 0, linger = API_LINGER_MS, hwm = API_HWM, fd;
	size_t fdlen = sizeof(fd);

	if ((api = calloc(1, sizeof(*api))) == NULL ||
	    (api->endpoint = strdup(ep)) == NULL) {
		free(api);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	api->d = d;
	TAILQ_INIT(&api->reqs);
	if ((api->zctx = zmq_ctx_new()) == NULL ||
	    (api->sock = zmq_socket(api->zctx, ZMQ_ROUTER)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "zmq: %s", zmq_strerror(errno));
		goto fail;
	}
	if (api_setopt(api, ZMQ_MAXMSGSIZE, &maxsize, sizeof(maxsize),
	    "ZMQ_MAXMSGSIZE", err) == -1 ||
	    api_setopt(api, ZMQ_ROUTER_MANDATORY, &off, sizeof(off),
	    "ZMQ_ROUTER_MANDATORY", err) == -1 ||
	    api_setopt(api, ZMQ_LINGER, &linger, sizeof(linger),
	    "ZMQ_LINGER", err) == -1 ||
	    api_setopt(api, ZMQ_SNDHWM, &hwm, sizeof(hwm),
	    "ZMQ_SNDHWM", err) == -1 ||
	    api_setopt(api, ZMQ_RCVHWM, &hwm, sizeof(hwm),
	    "ZMQ_RCVHWM", err) == -1)
		goto fail;
	if (strncmp(ep, "ipc://", 6) == 0 &&
	    api_ipc_prepare(ep + 6, err) == -1)
		goto fail;
	if (zmq_bind(api->sock, ep) == -1) {
		tp_err_set(err, TP_FAILED_PRECONDITION, "cannot bind %s: %s",
		    ep, zmq_strerror(errno));
		goto fail;
	}
	if (strncmp(ep, "ipc://", 6) == 0 && ep[6] != '@') {
		if ((api->bound_path = strdup(ep + 6)) == NULL) {
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto fail;
		}
		/* Group members (the CLI's users) must be able to connect;
		 * the folder keeps everyone else out. */
		if (chmod(api->bound_path, 0660) == -1)
			log_warn("chmod %s", api->bound_path);
	}
	if (zmq_getsockopt(api->sock, ZMQ_FD, &fd, &fdlen) == -1) {
		tp_err_set(err, TP_INTERNAL, "ZMQ_FD: %s", zmq_strerror(errno));
		goto fail;
	}
	if ((api->ev = event_new(d->base, fd, EV_READ | EV_PERSIST,
	    api_readable, api)) == NULL || event_add(api->ev, NULL) == -1) {
		tp_err_set(err, TP_INTERNAL, "cannot watch the api socket");
		goto fail;
	}
	/* ZMQ_FD is edge-triggered: look once in case something is queued. */
	event_active(api->ev, EV_READ, 0);
	return api;
fail:
	api_free(api);
	return NULL;
}

static void
api_req_free(struct api_req *req)
{
	if (req->ctx_free != NULL && req->ctx != NULL)
		req->ctx_free(req->ctx);
	json_object_put(req->args);
	free(req);
}

void
api_free(struct api *api)
{
	struct api_req *req;

	if (api == NULL)
		return;
	if (api->ev != NULL)
		event_free(api->ev);
	while ((req = TAILQ_FIRST(&api->reqs)) != NULL) {
		TAILQ_REMOVE(&api->reqs, req, entry);
		api_req_free(req);
	}
	if (api->sock != NULL)
		zmq_close(api->sock);
	if (api->zctx != NULL)
		zmq_ctx_term(api->zctx);
	/* zmq leaves the socket file; remove it unless someone else
	 * (a daemon started since) answers there now */
	if (api->bound_path != NULL && files_socket_live(api->bound_path) == 0 &&
	    unlink(api->bound_path) == -1)
		log_warn("unlink %s", api->bound_path);
	free(api->bound_path);
	free(api->endpoint);
	free(api);
}

void
api_stop(struct api *api)
{
	api->stopping = true;
}

void
api_get_stats(const struct api *api, struct api_stats *st)
{
	st->in_flight = api->in_flight;
	st->requests = api->requests;
	st->errors = api->errors;
}

const char *
api_endpoint(const struct api *api)
{
	return api->endpoint;
}

/* Sends one reply frame behind the request's envelope. */
static void
api_send(struct api *api, struct api_req *req, json_object *reply)
{
	const char *s;
	size_t len = 0;

	if (reply == NULL || (s = json_compact(reply, &len)) == NULL) {
		s = "{\"ok\":false,\"error\":{\"code\":\"internal\","
		    "\"message\":\"out of memory\"}}";
		len = strlen(s);
	}
	/* A ROUTER never blocks: without ROUTER_MANDATORY a reply to a
	 * peer that is gone or over its high-water mark is dropped. */
	if (zmq_send(api->sock, req->rid, req->rid_len,
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    (req->delimiter &&
	    zmq_send(api->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) ||
	    zmq_send(api->sock, s, len, ZMQ_DONTWAIT) == -1)
		log_debug("api: reply not sent: %s", zmq_strerror(errno));
	/*
	 * Sending can consume the edge of ZMQ_FD that announced new
	 * requests; look at ZMQ_EVENTS again on the next loop turn.
	 */
	if (api->ev != NULL)
		event_active(api->ev, EV_READ, 0);
}

static double
api_elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Never the body: only the op, the uid (once valid) and the outcome. */
static void
api_finish(struct api *api, struct api_req *req, const char *outcome)
{
	log_debug("api: %s%s%s: %s (%.1f ms)",
	    req->op != NULL ? req->op->name : "-",
	    req->uid[0] != '\0' ? " uid=" : "", req->uid, outcome,
	    api_elapsed_ms(&req->t0));
	TAILQ_REMOVE(&api->reqs, req, entry);
	api->in_flight--;
	api_req_free(req);
	if (api->stopping && api->in_flight == 0)
		daemon_idle(api->d);
}

static json_object *
api_error_json(const struct tp_err *err)
{
	json_object *o, *e;
	enum tp_code code = err->code == TP_OK ? TP_INTERNAL : err->code;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((e = json_object_new_object()) == NULL) {
		json_object_put(o);
		return NULL;
	}
	api_json_add(o, "ok", json_object_new_boolean(0));
	api_json_add(e, "code", json_object_new_string(tp_code_name(code)));
	api_json_add(e, "message", json_object_new_string(
	    err->msg[0] != '\0' ? err->msg : "unknown error"));
	api_json_add(o, "error", e);
	return o;
}

void
api_reply_error(struct api_req *req, const struct tp_err *err)
{
	struct api *api = req->api;
	json_object *o;

	if (req->replied)
		return;
	o = api_error_json(err);
	api_send(api, req, o);
	json_object_put(o);
	api->errors++;
	api_finish(api, req, tp_code_name(err->code == TP_OK ? TP_INTERNAL :
	    err->code));
}

void
api_reply(struct api_req *req, json_object *result)
{
	struct api *api = req->api;
	struct tp_err err;
	json_object *o;

	if (req->replied) {
		json_object_put(result);
		return;
	}
	if (result == NULL || (o = json_object_new_object()) == NULL) {
		json_object_put(result);
		tp_err_set(&err, TP_INTERNAL, "out of memory");
		api_reply_error(req, &err);
		return;
	}
	api_json_add(o, "ok", json_object_new_boolean(1));
	api_json_add(o, "result", result);
	api_send(api, req, o);
	json_object_put(o);
	api_finish(api, req, "ok");
}

void
api_abort(struct api *api)
{
	struct api_req *req;
	struct tp_err err;
	json_object *o;

	tp_err_set(&err, TP_UNAVAILABLE, "%s stopped before this request "
	    "finished; it may or may not have taken effect", DAEMON_NAME);
	TAILQ_FOREACH(req, &api->reqs, entry) {
		if (req->replied)
			continue;
		o = api_error_json(&err);
		api_send(api, req, o);
		json_object_put(o);
		api->errors++;
		req->replied = true;
		log_debug("api: %s%s%s: unavailable (at exit)",
		    req->op != NULL ? req->op->name : "-",
		    req->uid[0] != '\0' ? " uid=" : "", req->uid);
	}
}

int
api_submit(struct api_req *req, store_work_fn work, store_done_fn done,
    struct tp_err *err)
{
	return store_async(req->d->store, work, done, req, err);
}

static const struct api_op *
api_find_op(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(api_ops) / sizeof(api_ops[0]); i++)
		if (strcmp(api_ops[i].name, name) == 0)
			return &api_ops[i];
	return NULL;
}

static bool
api_op_takes(const struct api_op *op, const char *name)
{
	size_t i;

	if (strcmp(name, "op") == 0 || strcmp(name, "wait") == 0)
		return true;
	for (i = 0; op->args[i] != NULL; i++)
		if (strcmp(op->args[i], name) == 0)
			return true;
	return false;
}

/* Checks a parsed request and hands it to its operation. */
static int
api_route(struct api_req *req, struct tp_err *err)
{
	struct json_object_iterator it, end;
	const struct api_op *op;
	const char *name;
	json_object *v;
	char shown[API_NAME_SHOWN + 1];
	bool wait;

	if (!json_object_is_type(req->args, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "a request must be a JSON object");
	if (!json_object_object_get_ex(req->args, "op", &v))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "missing argument \"op\"");
	if (!json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"op\" must be a string");
	name = json_object_get_string(v);
	if (strlen(name) != (size_t)json_object_get_string_len(v) ||
	    (op = api_find_op(name)) == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "unknown op \"%s\"",
		    api_shown(name, shown, sizeof(shown)));
	req->op = op;
	it = json_object_iter_begin(req->args);
	end = json_object_iter_end(req->args);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		if (!api_op_takes(op, name))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "unknown argument \"%s\" for %s",
			    api_shown(name, shown, sizeof(shown)), op->name);
	}
	if (api_arg_bool(req, "wait", false, &wait, err) == -1)
		return -1;
	return op->start(req, err);
}

/* Applies the limits, parses, routes; answers every failure. */
static void
api_dispatch(struct api *api, struct api_req *req, const char *buf,
    size_t len, bool bad_envelope)
{
	const struct config *cfg = &api->d->cfg;
	struct tp_err err;

	tp_err_clear(&err);
	if (api->stopping)
		tp_err_set(&err, TP_UNAVAILABLE, "%s is shutting down",
		    DAEMON_NAME);
	else if (bad_envelope)
		tp_err_set(&err, TP_INVALID_ARGUMENT, "a request is exactly "
		    "one frame (after the empty delimiter frame of a REQ "
		    "socket)");
	else if (len > cfg->api_max_request)
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "request of %zu bytes "
		    "is larger than api_max_request (%llu bytes)", len,
		    (unsigned long long)cfg->api_max_request);
	else if (api->in_flight > cfg->api_queue)
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "too many requests in "
		    "progress (api_queue %u); retry later",
		    (unsigned)cfg->api_queue);
	else if ((req->args = json_parse(buf, len, &err)) != NULL &&
	    api_route(req, &err) == 0)
		return;		/* the operation answers */
	api_reply_error(req, &err);
}


/*
 * Reads one message: [routing id] [empty delimiter, REQ only] [request].
 * Returns false when nothing was waiting.
 */
static bool
api_recv(struct api *api)
{
	zmq_msg_t f[3];
	struct api_req *req;
	zmq_msg_t *body;
	size_t nf = 0;
	bool extra = false, bad;
	int rc;

	if ((rc = zframes_recv(api->sock, f, 3, &nf, &extra, "api")) == 0)
		return false;
	if (rc == -1)
		goto out;
	if (nf < 2)		/* a routing id alone: nothing to answer */
		goto out;
	if ((req = calloc(1, sizeof(*req))) == NULL) {
		log_warnx("api: out of memory; request dropped");
		goto out;
	}
	req->api = api;
	req->d = api->d;
	clock_gettime(CLOCK_MONOTONIC, &req->t0);
	req->rid_len = zmq_msg_size(&f[0]);
	if (req->rid_len > sizeof(req->rid))
		req->rid_len = sizeof(req->rid);
	memcpy(req->rid, zmq_msg_data(&f[0]), req->rid_len);
	body = &f[1];
	bad = extra;
	if (nf == 3) {
		if (zmq_msg_size(&f[1]) == 0) {
			req->delimiter = true;
			body = &f[2];
		} else
			bad = true;
	}
	TAILQ_INSERT_TAIL(&api->reqs, req, entry);
	api->in_flight++;
	api->requests++;
	api_dispatch(api, req, zmq_msg_data(body), zmq_msg_size(body), bad);
out:
	/* A request may hold a secret (keys.set): wipe the frames. */
	while (nf > 0)
		zframes_close(&f[--nf]);
	return true;
}

static void
api_readable(evutil_socket_t fd, short what, void *arg)
{
	struct api *api = arg;
	size_t events_len;
	int events, i;

	for (i = 0; i < API_BURST; i++) {
		events_len = sizeof(events);
		if (zmq_getsockopt(api->sock, ZMQ_EVENTS, &events,
		    &events_len) == -1) {
			log_warnx("api: ZMQ_EVENTS: %s", zmq_strerror(errno));
			return;
		}
		if (!(events & ZMQ_POLLIN) || !api_recv(api))
			return;
	}
	/* More may be waiting: come back after the other ready events. */
	event_active(api->ev, EV_READ, 0);
}

/* Argument getters. */

static json_object *
api_arg_get(struct api_req *req, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(req->args, name, &v))
		return NULL;
	return v;
}

static int
api_arg_missing(const char *name, bool required, struct tp_err *err)
{
	if (required)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "missing argument \"%s\"", name);
	return 0;
}

int
api_arg_str(struct api_req *req, const char *name, bool required,
    size_t min, size_t max, const char **out, struct tp_err *err)
{
	json_object *v;
	const char *s;
	size_t len;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be a string", name);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	/* "\u0000" would cut the C string short of what was checked */
	if (strlen(s) != len)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must not contain NUL characters", name);
	if (len < min || len > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be %zu to %zu bytes long", name, min,
		    max);
	*out = s;
	return 1;
}

int
api_arg_token(struct api_req *req, const char *name, bool required,
    size_t min, size_t max, const char **out, struct tp_err *err)
{
	const char *s = NULL, *p;
	int rc;

	if ((rc = api_arg_str(req, name, required, min, max, &s, err)) != 1)
		return rc;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "argument \"%s\" must be printable ASCII without "
			    "spaces", name);
	*out = s;
	return 1;
}

int
api_arg_uid(struct api_req *req, const char *name, bool required,
    const char **out, struct tp_err *err)
{
	json_object *v;
	const char *s;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be a string", name);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) ||
	    !path_valid_uid(s))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" is not a valid uid (1 to %d characters of "
		    "A-Z a-z 0-9 _ -)", name, UID_MAX_LEN);
	if (strcmp(name, "uid") == 0)
		snprintf(req->uid, sizeof(req->uid), "%s", s);
	*out = s;
	return 1;
}

int
api_arg_bool(struct api_req *req, const char *name, bool required,
    bool *out, struct tp_err *err)
{
	json_object *v;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_boolean))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be true or false", name);
	*out = json_object_get_boolean(v) != 0;
	return 1;
}

int
api_arg_int(struct api_req *req, const char *name, bool required,
    int64_t min, int64_t max, int64_t *out, struct tp_err *err)
{
	json_object *v;
	int64_t n;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_int))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be an integer", name);
	n = json_object_get_int64(v);
	/* json-c saturates values beyond int64 at the limits */
	if (n < min || n > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be between %lld and %lld", name,
		    (long long)min, (long long)max);
	*out = n;
	return 1;
}

int
api_arg_map(struct api_req *req, const char *name, bool required,
    size_t max, json_object **out, struct tp_err *err)
{
	json_object *v;
	size_t len = 0;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be a map", name);
	if (json_compact(v, &len) == NULL || len > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" is larger than %zu bytes", name, max);
	*out = v;
	return 1;
}

void
api_json_add(json_object *o, const char *key, json_object *v)
{
	if (o == NULL || json_object_object_add(o, key, v) != 0)
		json_object_put(v);
}

json_object *
api_json_str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}
