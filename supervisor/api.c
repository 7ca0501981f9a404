/* api.c: the job API socket: frames, limits, parsing, the table of operations, replies (the argument getters in api_args.c). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "supervisor/api.h"
#include "supervisor/api_int.h"
#include "supervisor/clients.h"
#include "supervisor/daemon.h"
#include "supervisor/metrics.h"
#include "supervisor/keys.h"
#include "supervisor/logs.h"
#include "supervisor/migrate.h"
#include "supervisor/pulse.h"
#include "supervisor/router.h"
#include "supervisor/signals.h"
#include "supervisor/status.h"
#include "supervisor/pause.h"
#include "supervisor/sync.h"
#include "supervisor/tenant.h"
#include "supervisor/zap.h"
#include "supervisor/trades.h"
#include "supervisor/zframes.h"


#define ARGS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define NO_ARGS		((const char *const []){ NULL })

/*
 * The routing table. Every request may also carry "op", "wait" and
 * "id_token"; any other argument must be listed here, so a misspelt one is
 * an error rather than silently ignored. Later operations (pulse, signal,
 * ...) are one more line each. What a request acting for a user (a
 * verified id_token) may do is api_auth.c's table: nothing by default.
 */
static const struct api_op api_ops[] = {
	{ API_OP_STATUS,	status_start,		NO_ARGS, true },
	{ API_OP_TENANT_ADD,	tenant_add_start,	ARGS("uid", "profile"), false },
	{ API_OP_TENANT_LIST,	tenant_list_start,	ARGS("limit", "after"), false },
	{ API_OP_TENANT_SHOW,	tenant_show_start,	ARGS("uid"), false },
	{ API_OP_KEYS_SET,	keys_set_start,
	    ARGS("uid", "key_id", "secret"), false },
	{ API_OP_KEYS_ROTATE,	keys_rotate_start,	NO_ARGS, false },
	{ API_OP_TRADING_SET,	trading_set_start,
	    ARGS("uid", "enabled", "reason"), false },
	{ API_OP_SYNC,		sync_start,		ARGS("uid"), false },
	{ API_OP_JOB,		job_start,		ARGS("id"), true },
	{ API_OP_TENANT_RELEASE, tenant_release_start,	ARGS("uid"), false },
	{ API_OP_PULSE,		pulse_op_start,		NO_ARGS, false },
	{ API_OP_PULSE_STATUS,	pulse_op_status,	NO_ARGS, true },
	{ API_OP_MIGRATE_LEGACY, migrate_legacy_start,	ARGS("uid", "dry_run"),
	    false },
	{ API_OP_TRADES_LIST,	trades_list_start,
	    ARGS("uid", "open", "limit"), false },
	/* issue 12: signals */
	{ API_OP_SIGNAL,	signals_start,		ARGS("uid", "symbol"), false },
	{ API_OP_SIGNALS_LIST,	signals_list_start,	ARGS("uid", "limit"), false },
	/* issue 13: inspection */
	{ API_OP_LOGS,		logs_start,
	    ARGS("uid", "n", "since", "level", "job", "after"), false },
	{ API_OP_CRASHES,	crashes_start,		ARGS("uid", "limit"), false },
	/* issue 13: the operator's pause (admin only: api_auth.c) */
	{ API_OP_PAUSE,		pause_op_pause,		ARGS("reason"), true },
	{ API_OP_RESUME,	pause_op_resume,	NO_ARGS, true },
};



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
	if (api->ev_trim != NULL)
		event_free(api->ev_trim);
	while ((req = TAILQ_FIRST(&api->reqs)) != NULL) {
		TAILQ_REMOVE(&api->reqs, req, entry);
		api_req_free(req);
	}
	/* the monitor's thread stops before its socket closes */
	clients_close(api->clients);
	router_close(&api->rt);
	/* after the CURVE socket: without a handler libzmq lets all in */
	zap_free(api->zap);
	free(api->endpoint);
	free(api);
}

void
api_stop(struct api *api, void (*idle)(void *), void *arg)
{
	api->stopping = true;
	api->idle = idle;
	api->idle_arg = arg;
}

void
api_get_stats(struct api *api, struct api_stats *st)
{
	struct clients_stats cs;

	memset(st, 0, sizeof(*st));
	st->in_flight = api->in_flight;
	st->requests = api->requests;
	st->errors = api->errors;
	st->bytes = api->bytes;
	st->budget = api->d->cfg.api_memory;
	st->reply_budget = api->reply_budget;
	st->sndhwm = api->sndhwm;
	st->replies_dropped = api->replies_dropped;
	st->max_clients = api->max_clients;
	if (api->clients != NULL) {
		clients_get_stats(api->clients, &cs);
		st->clients = cs.current;
		st->clients_peak = cs.peak;
		st->clients_evicted = cs.evicted;
	}
}

const char *
api_endpoint(const struct api *api)
{
	return api->endpoint;
}

/*
 * Sends one reply frame behind the request's envelope. Returns 0, or -1
 * when the client's queue is full (it does not read: the reply is
 * dropped, not kept) or the client is gone.
 */
static int
api_send_text(struct api *api, struct api_req *req, const char *s,
    size_t len)
{
	int rc = 0;

	/* ROUTER_MANDATORY: the routing frame fails at once (EAGAIN for a
	 * full queue, EHOSTUNREACH for a gone peer); nothing is queued */
	if (zmq_send(api->rt.sock, req->rid, req->rid_len,
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
		if (errno == EAGAIN) {
			api->replies_dropped++;
			if (api->clients != NULL)
				clients_set_stalled(api->clients, req->fd,
				    req->serial, true);
		}
		log_debug("api: reply not sent: %s", zmq_strerror(errno));
		rc = -1;
	} else if ((req->delimiter &&
	    zmq_send(api->rt.sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) ||
	    zmq_send(api->rt.sock, s, len, ZMQ_DONTWAIT) == -1) {
		log_debug("api: reply cut short: %s", zmq_strerror(errno));
		rc = -1;
	} else if (api->clients != NULL)
		clients_set_stalled(api->clients, req->fd, req->serial, false);
	/*
	 * Sending can consume the edge of ZMQ_FD that announced new
	 * requests; look at ZMQ_EVENTS again on the next loop turn.
	 */
	if (api->ev != NULL)
		event_active(api->ev, EV_READ, 0);
	return rc;
}

static void
api_send(struct api *api, struct api_req *req, json_object *reply)
{
	const char *s;
	size_t len = 0;

	if (req->local != NULL) {
		req->local(req->local_arg, reply);
		return;
	}
	if (reply == NULL || (s = json_compact(reply, &len)) == NULL) {
		s = "{\"ok\":false,\"error\":{\"code\":\"internal\","
		    "\"message\":\"out of memory\"}}";
		len = strlen(s);
	} else if (len > API_REPLY_MAX) {
		log_warnx("api: a reply to %s%s%s of %zu bytes is larger than "
		    "%d; not sent", req->op != NULL ? req->op->name : "-",
		    req->client != NULL ? " client=" : "", req->client != NULL ?
		    req->client->name : "", len, API_REPLY_MAX);
		s = "{\"ok\":false,\"error\":{\"code\":\"internal\","
		    "\"message\":\"the reply is too large to send\"}}";
		len = strlen(s);
	}
	(void)api_send_text(api, req, s, len);
}

/* Never the body: only the op, the uid (once valid) and the outcome;
 * always for a CURVE client (a network request names who made it), with
 * -v for the local ones. */
static void
api_finish(struct api *api, struct api_req *req, const char *outcome)
{
	char line[512];

	metrics_api(req->d->metrics, req->op != NULL ? req->op->name : NULL,
	    outcome);
	snprintf(line, sizeof(line), "api: %s%s%s%s%s: %s (%.1f ms)",
	    req->op != NULL ? req->op->name : "-",
	    req->uid[0] != '\0' ? " uid=" : "", req->uid,
	    req->client != NULL ? " client=" : "",
	    req->client != NULL ? req->client->name : "", outcome,
	    clock_since_ms(&req->t0));
	if (req->client != NULL)
		log_info("%s", line);
	else
		log_debug("%s", line);
	TAILQ_REMOVE(&api->reqs, req, entry);
	api->in_flight--;
	if (req->charge > api->bytes)
		abort();	/* released more than was charged */
	api->bytes -= req->charge;
	if (req->charge > 0 && api->clients != NULL)
		clients_end(api->clients, req->fd, req->serial, req->charge);
	api_req_free(req);
	if (api->stopping && api->in_flight == 0 && api->idle != NULL)
		api->idle(api->idle_arg);
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
	json_add(o, "ok", json_object_new_boolean(0));
	json_add(e, "code", json_object_new_string(tp_code_name(code)));
	json_add(e, "message", json_object_new_string(
	    err->msg[0] != '\0' ? err->msg : "unknown error"));
	json_add(o, "error", e);
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
api_reply_outcome(struct api_req *req, int rc, json_object **result,
    const struct tp_err *err)
{
	json_object *r;

	if (rc == -1) {
		api_reply_error(req, err);
		return;
	}
	r = *result;
	*result = NULL;
	api_reply(req, r);
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
	json_add(o, "ok", json_object_new_boolean(1));
	json_add(o, "result", result);
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
		log_debug("api: %s%s%s%s%s: unavailable (at exit)",
		    req->op != NULL ? req->op->name : "-",
		    req->uid[0] != '\0' ? " uid=" : "", req->uid,
		    req->client != NULL ? " client=" : "",
		    req->client != NULL ? req->client->name : "");
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

	if (strcmp(name, "op") == 0 || strcmp(name, "wait") == 0 ||
	    strcmp(name, "id_token") == 0)
		return true;
	for (i = 0; op->args[i] != NULL; i++)
		if (strcmp(op->args[i], name) == 0)
			return true;
	return false;
}

/* Checks a parsed request's operation and argument names. */
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
		    tp_err_shown(name, shown, sizeof(shown)));
	req->op = op;
	it = json_object_iter_begin(req->args);
	end = json_object_iter_end(req->args);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		if (!api_op_takes(op, name))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "unknown argument \"%s\" for %s",
			    tp_err_shown(name, shown, sizeof(shown)), op->name);
	}
	return api_arg_bool(req, "wait", false, &wait, err) == -1 ? -1 : 0;
}

/*
 * The limits of work in progress: per connection (clients.h), then,
 * except for the light operations answered from memory at once, the
 * whole API's count (api_queue) and bytes (half of api_memory).
 */
static int
api_admit(struct api *api, struct api_req *req, size_t len,
    struct tp_err *err)
{
	const struct config *cfg = &api->d->cfg;
	size_t charge = len * API_REQ_FACTOR + API_REQ_COST;
	bool light = req->op != NULL && req->op->light;

	if (!light && api->in_flight > cfg->api_queue)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "too many "
		    "requests in progress (api_queue %u); retry later",
		    (unsigned)cfg->api_queue);
	if (!light && api->bytes + charge > cfg->api_memory / 2)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "the requests in "
		    "progress hold %zu bytes, the API's budget "
		    "(api_memory / 2); retry later", api->bytes);
	if (api->clients != NULL && clients_begin(api->clients, req->fd,
	    req->serial, charge, API_CLIENT_INFLIGHT, cfg->api_memory / 2 /
	    api->max_clients, err) == -1)
		return -1;
	req->charge = charge;
	api->bytes += charge;
	return 0;
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
	else if ((req->args = json_parse(buf, len, &err)) != NULL &&
	    api_route(req, &err) == 0 && api_auth(req, &err) == 0 &&
	    api_permit(req, &err) == 0 &&
	    api_admit(api, req, len, &err) == 0 &&
	    req->op->start(req, &err) == 0)
		return;		/* the operation answers */
	api_reply_error(req, &err);
}

int
api_local(struct api *api, const char *user_uid, json_object *args,
    void (*reply)(void *, json_object *), void *arg, struct tp_err *err)
{
	struct api_req *req;

	if (api->stopping) {
		json_object_put(args);
		return tp_err_set(err, TP_UNAVAILABLE, "%s is shutting down",
		    DAEMON_NAME);
	}
	if (api->in_flight > api->d->cfg.api_queue) {
		json_object_put(args);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "too many "
		    "requests in progress; retry later");
	}
	if ((req = calloc(1, sizeof(*req))) == NULL) {
		json_object_put(args);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	req->api = api;
	req->d = api->d;
	req->args = args;
	req->local = reply;
	req->local_arg = arg;
	req->fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &req->t0);
	req->as_user = true;
	snprintf(req->user_uid, sizeof(req->user_uid), "%s", user_uid);
	snprintf(req->uid, sizeof(req->uid), "%s", user_uid);
	TAILQ_INSERT_TAIL(&api->reqs, req, entry);
	api->in_flight++;
	api->requests++;
	tp_err_clear(err);
	if (api_route(req, err) == 0 && req->op->start(req, err) == 0)
		return 0;	/* the operation answers */
	api_reply_error(req, err);	/* through reply(), once */
	return 0;
}

/* A client that does not read its replies gets no work done: one short
 * refusal is tried, and once that goes through it is served again. */
static bool
api_refuse_stalled(struct api *api, struct api_req *req)
{
	static const char refusal[] = "{\"ok\":false,\"error\":{\"code\":"
	    "\"resource_exhausted\",\"message\":\"earlier replies to this "
	    "connection were not read; read them before sending more\"}}";

	if (api->clients == NULL ||
	    !clients_stalled(api->clients, req->fd, req->serial))
		return false;
	(void)api_send_text(api, req, refusal, sizeof(refusal) - 1);
	api->errors++;
	return true;
}

/* The connection a frame came from, for the per-client limits. */
static int
api_frame_fd(zmq_msg_t *m)
{
	int fd = zmq_msg_get(m, ZMQ_SRCFD);

	return fd >= 0 ? fd : -1;
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

	if ((rc = zframes_recv(api->rt.sock, f, 3, &nf, &extra, "api")) == 0)
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
	req->fd = api_frame_fd(&f[1]);
	body = &f[1];
	bad = extra;
	if (nf == 3) {
		if (zmq_msg_size(&f[1]) == 0) {
			req->delimiter = true;
			body = &f[2];
		} else
			bad = true;
	}
	if (api->clients != NULL)
		req->serial = clients_serial(api->clients, req->fd);
	/* CURVE: the name our ZAP handler gave the client's key */
	if (api->zap != NULL && (req->client = zap_client(api->zap,
	    zmq_msg_gets(body, "User-Id"))) == NULL) {
		log_warnx("api: a request without a known CURVE client name; "
		    "dropped");
		free(req);
		goto out;
	}
	if (api_refuse_stalled(api, req)) {
		free(req);
		goto out;
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

void
api_readable(evutil_socket_t fd, short what, void *arg)
{
	struct api *api = arg;
	size_t events_len;
	int events, i;

	for (i = 0; i < API_BURST; i++) {
		events_len = sizeof(events);
		if (zmq_getsockopt(api->rt.sock, ZMQ_EVENTS, &events,
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

json_object *
api_json_str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}
