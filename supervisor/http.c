/* http.c: the HTTP listener on [daemon] http: /healthz and /metrics for monitoring, the users' API and page (userapi.c) (libevent evhttp). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/store.h"
#include "supervisor/daemon.h"
#include "supervisor/http.h"
#include "supervisor/jobs.h"
#include "supervisor/metrics.h"
#include "supervisor/pause.h"
#include "supervisor/policy.h"
#include "supervisor/pool.h"
#include "supervisor/userapi.h"

/*
 * The store is probed from a store thread every HTTP_PROBE_MS (one small
 * read), so /healthz answers at once and never waits for the store: it
 * reports the last probe's outcome, or that a probe has been waiting too
 * long. The work function writes only the probe's result fields; the done
 * callback reads them on the loop.
 */
struct http_probe {
	bool			 pending;
	uint64_t		 sent_ms;	/* monotonic */
	bool			 answered;	/* a probe has completed */
	bool			 ok;
	char			 msg[TP_ERR_MSG_MAX];
	/* written by the work function */
	bool			 w_ok;
	char			 w_msg[TP_ERR_MSG_MAX];
};

struct http {
	struct daemon		*d;
	struct evhttp		*evh;
	struct event		*ev_probe;
	struct http_probe	 probe;
	struct userapi		*ua;		/* /api/v1/, / and /assets/ */
	char			 addr[256];
};

static void
http_probe_work(struct store *st, void *arg)
{
	struct http *h = arg;
	struct store_doc doc;
	struct tp_err err;

	memset(&doc, 0, sizeof(doc));
	tp_err_clear(&err);
	if (store_get(st, HTTP_PROBE_PATH, &doc, &err) == 0 ||
	    err.code == TP_NOT_FOUND) {
		h->probe.w_ok = true;
		h->probe.w_msg[0] = '\0';
	} else {
		h->probe.w_ok = false;
		snprintf(h->probe.w_msg, sizeof(h->probe.w_msg), "%s", err.msg);
	}
	store_doc_clear(&doc);
}

static void
http_probe_done(void *arg)
{
	struct http *h = arg;

	if (h->probe.ok && !h->probe.w_ok)
		log_warnx("health: the store failed a probe: %s",
		    h->probe.w_msg);
	h->probe.pending = false;
	h->probe.answered = true;
	h->probe.ok = h->probe.w_ok;
	memcpy(h->probe.msg, h->probe.w_msg, sizeof(h->probe.msg));
}

static void
http_probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	struct tp_err err;

	(void)fd;
	(void)what;
	if (h->probe.pending || h->d->store == NULL)
		return;
	h->probe.pending = true;
	h->probe.sent_ms = clock_mono_ms();
	if (store_async(h->d->store, http_probe_work, http_probe_done, h,
	    &err) == -1) {
		/* a full queue: the store is too busy to answer */
		h->probe.pending = false;
		h->probe.answered = true;
		h->probe.ok = false;
		snprintf(h->probe.msg, sizeof(h->probe.msg), "%s", err.msg);
	}
}

/* The reasons the daemon is not healthy, one a line; "" when it is. */
static void
http_health(struct http *h, struct evbuffer *out)
{
	struct daemon *d = h->d;
	const char *reason;
	json_object *ps;
	bool throttled = false;
	uint64_t now = clock_mono_ms();

	if (d->stopping)
		evbuffer_add_printf(out, "stopping\n");
	if (pause_active(d, &reason))
		evbuffer_add_printf(out, "paused: %s\n",
		    reason != NULL && *reason != '\0' ? reason : "no reason given");
	if (d->pool != NULL && (ps = pool_status(d->pool)) != NULL) {
		if (json_get_bool(ps, "throttled", &throttled) && throttled) {
			reason = json_get_str(ps, "throttle_reason");
			evbuffer_add_printf(out, "worker pool throttled: %s\n",
			    reason != NULL ? reason : "crashes");
		}
		json_object_put(ps);
	}
	if (h->probe.pending && now - h->probe.sent_ms > HTTP_PROBE_STALE_MS)
		evbuffer_add_printf(out, "store not answering for %llu s\n",
		    (unsigned long long)(now - h->probe.sent_ms) / 1000);
	else if (h->probe.answered && !h->probe.ok)
		evbuffer_add_printf(out, "store failing: %s\n", h->probe.msg);
}

static void
http_now(struct http *h, struct metrics_now *now)
{
	struct daemon *d = h->d;
	json_object *ps;
	int64_t v;
	bool b;

	memset(now, 0, sizeof(*now));
	now->paused = pause_active(d, NULL);
	if (d->pool != NULL && (ps = pool_status(d->pool)) != NULL) {
		if (json_get_int(ps, "spawns", &v) && v >= 0)
			now->spawns = (uint64_t)v;
		if (json_get_int(ps, "restarts", &v) && v >= 0)
			now->restarts = (uint64_t)v;
		if (json_get_int(ps, "startup_failures", &v) && v >= 0)
			now->startup_failures = (uint64_t)v;
		if (json_get_bool(ps, "throttled", &b))
			now->throttled = b;
		json_object_put(ps);
		now->workers = pool_size(d->pool);
	}
	if (d->jobs != NULL) {
		now->queue_depth = d->jobs->nqueued;
		now->jobs_running = d->jobs->nrunning;
		if (d->jobs->policy != NULL)
			now->quarantines = policy_quarantines(d->jobs->policy);
	}
	if (d->store != NULL)
		now->store_pending = store_pending(d->store);
	now->pulse_interval_s = d->cfg.pulse_enabled ?
	    (double)d->cfg.pulse_interval / 1000.0 : 0;
	now->uptime_s = (double)daemon_uptime_ms(d) / 1000.0;
}

static void
http_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);

	userapi_headers(req, true);
	evhttp_add_header(hd, "Content-Type", type);
	evhttp_send_reply(req, code, reason, body);
}

static void
http_cb(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct metrics_now now;
	struct evbuffer *body;

	if (path != NULL && h->ua != NULL && userapi_handle(h->ua, req, path))
		return;
	if ((body = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (path == NULL || (strcmp(path, "/healthz") != 0 &&
	    strcmp(path, "/metrics") != 0)) {
		evbuffer_add_printf(body, "not found; try /healthz or "
		    "/metrics\n");
		http_reply(req, HTTP_NOTFOUND, "Not Found",
		    "text/plain; charset=utf-8", body);
	} else if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		evbuffer_add_printf(body, "method not allowed\n");
		http_reply(req, 405, "Method Not Allowed",
		    "text/plain; charset=utf-8", body);
	} else if (strcmp(path, "/healthz") == 0) {
		http_health(h, body);
		if (evbuffer_get_length(body) == 0) {
			evbuffer_add_printf(body, "ok\n");
			http_reply(req, HTTP_OK, "OK",
			    "text/plain; charset=utf-8", body);
		} else
			http_reply(req, HTTP_SERVUNAVAIL, "Service Unavailable",
			    "text/plain; charset=utf-8", body);
	} else {
		http_now(h, &now);
		if (metrics_render(h->d->metrics, &now, body) == 0)
			http_reply(req, HTTP_OK, "OK",
			    "text/plain; version=0.0.4; charset=utf-8", body);
		else
			evhttp_send_error(req, HTTP_INTERNAL, NULL);
	}
	evbuffer_free(body);
}

/* host:port, [v6]:port -> host and port (the config checked the form). */
static int
http_split(const char *addr, char *host, size_t size, uint16_t *port,
    struct tp_err *err)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t n;
	long p;
	char *end;

	if (colon == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "[daemon] http: "
		    "\"%s\" is not host:port", addr);
	n = (size_t)(colon - addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		h++;
		n -= 2;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (n == 0 || n >= size || *end != '\0' || errno != 0 || p < 1 ||
	    p > 65535)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "[daemon] http: "
		    "\"%s\" is not host:port", addr);
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
http_open(struct daemon *d, struct http **out, struct tp_err *err)
{
	struct timeval tv = clock_tv(HTTP_PROBE_MS);
	struct http *h;
	char host[256];
	uint16_t port = 0;

	*out = NULL;
	if (d->cfg.http == NULL || *d->cfg.http == '\0')
		return 0;
	if (http_split(d->cfg.http, host, sizeof(host), &port, err) == -1)
		return -1;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	h->d = d;
	snprintf(h->addr, sizeof(h->addr), "%s", d->cfg.http);
	if ((h->evh = evhttp_new(d->base)) == NULL ||
	    (h->ev_probe = event_new(d->base, -1, EV_PERSIST, http_probe_cb,
	    h)) == NULL) {
		http_free(h);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	evhttp_set_max_headers_size(h->evh, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(h->evh, HTTP_BODY_MAX);
	evhttp_set_timeout(h->evh, HTTP_TIMEOUT_S);
	/* every method reaches http_cb, which answers 405 (evhttp itself
	 * would say 501 for the ones not allowed) */
	evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->evh, http_cb, h);
	if (userapi_new(d, &h->ua, err) == -1) {
		http_free(h);
		return -1;
	}
	errno = 0;
	if (evhttp_bind_socket_with_handle(h->evh, host, port) == NULL) {
		tp_err_set(err, TP_UNAVAILABLE, "[daemon] http: cannot listen "
		    "on %s%s%s", d->cfg.http, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
		http_free(h);
		return -1;
	}
	evtimer_add(h->ev_probe, &tv);
	http_probe_cb(-1, 0, h);
	log_info("http: /healthz, /metrics, the dashboard (/) and its API "
	    "(/api/v1/) on %s", h->addr);
	*out = h;
	return 0;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->ev_probe != NULL)
		event_free(h->ev_probe);
	userapi_free(h->ua);
	if (h->evh != NULL)
		evhttp_free(h->evh);
	free(h);
}

void
http_stop(struct http *h)
{
	if (h != NULL)
		userapi_close_streams(h->ua);
}
