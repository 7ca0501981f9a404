/* api_open.c: the job API's socket: the client cap and high-water marks from the descriptor limit and the byte budget, CURVE, binding, watching. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "common/clock.h"
#include "common/log.h"
#include "supervisor/api.h"
#include "supervisor/api_int.h"
#include "supervisor/clients.h"
#include "supervisor/daemon.h"
#include "supervisor/zap.h"

/*
 * The byte budget ([daemon] api_memory): half for the requests in
 * progress (charged as they arrive), half for replies queued to clients
 * that read slowly. ZeroMQ bounds a peer's queue in messages, not bytes,
 * so the high-water marks are set from the budget: max_clients peers
 * with sndhwm replies of at most API_REPLY_MAX each, and rcvhwm requests
 * of at most api_max_request each, fit in it.
 */
static int
api_hwm(size_t budget, size_t peers, size_t msg)
{
	size_t n = budget / (peers * msg);

	return n < 1 ? 1 : n > API_HWM_MAX ? API_HWM_MAX : (int)n;
}

/* The descriptors the daemon needs besides API connections: the store,
 * logs, the worker channel and each worker's pipes, the event loop. */
static size_t
api_fd_reserve(const struct config *cfg)
{
	return 64 + 8 * (size_t)cfg->store_threads +
	    4 * (size_t)cfg->max_workers;
}

/* Gives memory back to the system once clients have gone: freed reply
 * and request buffers otherwise stay in malloc's arenas. */
static void
api_trim(evutil_socket_t fd, short what, void *arg)
{
	struct api *api = arg;

	(void)fd;
	(void)what;
	if (clients_take_left(api->clients) > 0)
		malloc_trim(0);
}

/* Before the bind, so that connections are counted from the first. */
static int
api_watch_clients(void *sock, void *arg, struct tp_err *err)
{
	struct api *api = arg;
	const char *ep = api->endpoint;

	api->clients = clients_open(api->zctx, sock,
	    strncmp(ep, "ipc://", 6) == 0 && ep[6] != '@' ? ep + 6 : NULL,
	    api->max_clients, err);
	if (api->clients != NULL && strncmp(ep, "tcp://", 6) == 0)
		clients_set_tcp_port(api->clients,
		    (unsigned)atoi(strrchr(ep, ':') + 1));
	return api->clients == NULL ? -1 : 0;
}

/*
 * tcp:// is served with CURVE only (the configuration refuses it
 * otherwise): the ZAP handler with the allowlist first, then the
 * server's secret key, which is wiped once libzmq has its copy.
 */
static int
api_bind_curve(struct api *api, struct tp_err *err)
{
	const struct config *cfg = &api->d->cfg;

	if (*cfg->curve_server_key == '\0' || *cfg->curve_clients == '\0')
		return tp_err_set(err, TP_FAILED_PRECONDITION, "a tcp:// api "
		    "needs [auth] curve_server_key and curve_clients");
	if ((api->zap = zap_open(api->d->base, api->zctx, cfg->curve_clients,
	    err)) == NULL)
		return -1;
	return zap_curve_server(api->rt.sock, cfg->curve_server_key, err);
}

/* Before the bind: the connection monitor, and CURVE for tcp://. */
static int
api_before_bind(void *sock, void *arg, struct tp_err *err)
{
	struct api *api = arg;

	if (api_watch_clients(sock, arg, err) == -1)
		return -1;
	return strncmp(api->endpoint, "tcp://", 6) == 0 ?
	    api_bind_curve(api, err) : 0;
}

/*
 * ROUTER_MANDATORY: a reply to a full peer fails with EAGAIN
 * instead of vanishing, so a client that does not read is known.
 * The socket is 0660: group members (the CLI's users) must be able
 * to connect; the folder (0750, private) keeps everyone else out.
 */
static int
api_bind(struct api *api, struct tp_err *err)
{
	int64_t maxsize = API_HARD_MAX_FRAME;
	int on = 1, linger = API_LINGER_MS, hs = API_HANDSHAKE_MS;
	const struct router_opt opts[] = {
		{ ZMQ_MAXMSGSIZE, &maxsize, sizeof(maxsize), "ZMQ_MAXMSGSIZE" },
		{ ZMQ_ROUTER_MANDATORY, &on, sizeof(on),
		    "ZMQ_ROUTER_MANDATORY" },
		{ ZMQ_LINGER, &linger, sizeof(linger), "ZMQ_LINGER" },
		{ ZMQ_HANDSHAKE_IVL, &hs, sizeof(hs), "ZMQ_HANDSHAKE_IVL" },
		{ ZMQ_SNDHWM, &api->sndhwm, sizeof(api->sndhwm), "ZMQ_SNDHWM" },
		{ ZMQ_RCVHWM, &api->rcvhwm, sizeof(api->rcvhwm), "ZMQ_RCVHWM" },
	};
	const struct router_params rp = {
		.what = "api socket",
		.dir = ROUTER_DIR_CHECKED,
		.dir_mode = 0750,
		.sock_mode = 0660,
		.opts = opts,
		.nopts = sizeof(opts) / sizeof(opts[0]),
		.before_bind = api_before_bind,
		.arg = api,
	};

	return router_open(&api->rt, api->zctx, api->endpoint, &rp, err);
}

struct api *
api_open(struct daemon *d, void *zctx, struct tp_err *err)
{
	struct api *api;
	const struct config *cfg = &d->cfg;
	const char *ep = cfg->api;
	struct timeval tv = clock_tv(API_TRIM_MS);
	size_t reserve = api_fd_reserve(cfg);

	if ((api = calloc(1, sizeof(*api))) == NULL ||
	    (api->endpoint = strdup(ep)) == NULL) {
		free(api);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	api->d = d;
	api->zctx = zctx;
	TAILQ_INIT(&api->reqs);
	/* the cap leaves the reserve free below the descriptor limit */
	if (d->nofile < reserve + 8) {
		tp_err_set(err, TP_FAILED_PRECONDITION, "the file descriptor "
		    "limit (%zu) is too low: the daemon needs %zu for itself "
		    "and some for API clients; raise it (ulimit -n, "
		    "LimitNOFILE=)", d->nofile, reserve);
		goto fail;
	}
	api->max_clients = cfg->max_clients;
	if (api->max_clients > d->nofile - reserve) {
		api->max_clients = d->nofile - reserve;
		log_warnx("api: max_clients %u lowered to %zu: the file "
		    "descriptor limit is %zu and the daemon keeps %zu for "
		    "itself", (unsigned)cfg->max_clients, api->max_clients,
		    d->nofile, reserve);
	}
	api->reply_budget = cfg->api_memory / 2;
	api->sndhwm = api_hwm(api->reply_budget, api->max_clients,
	    API_REPLY_MAX);
	api->rcvhwm = api_hwm(cfg->api_memory / 4, api->max_clients,
	    cfg->api_max_request);
	if (api_bind(api, err) == -1)
		goto fail;
	if ((api->ev = event_new(d->base, api->rt.fd, EV_READ | EV_PERSIST,
	    api_readable, api)) == NULL || event_add(api->ev, NULL) == -1 ||
	    (api->ev_trim = event_new(d->base, -1, EV_PERSIST, api_trim,
	    api)) == NULL || evtimer_add(api->ev_trim, &tv) == -1) {
		tp_err_set(err, TP_INTERNAL, "cannot watch the api socket");
		goto fail;
	}
	log_info("api: at most %zu clients, %d replies queued to each, a "
	    "budget of %llu bytes", api->max_clients, api->sndhwm,
	    (unsigned long long)cfg->api_memory);
	/* ZMQ_FD is edge-triggered: look once in case something is queued. */
	event_active(api->ev, EV_READ, 0);
	return api;
fail:
	api_free(api);
	return NULL;
}
