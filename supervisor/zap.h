/* zap.h: the ZeroMQ authentication handler (ZAP) of a CURVE job API: the allowlist, and each client's role. */
#ifndef TP_SUPERVISOR_ZAP_H
#define TP_SUPERVISOR_ZAP_H

#include <stdbool.h>

#include <event2/event.h>

#include "common/curve.h"
#include "common/error.h"

struct zap;

/*
 * Loads [auth] curve_clients and answers ZeroMQ's authentication requests
 * on inproc://zeromq.zap.01 of zctx, from the event loop: a listed public
 * key is accepted with the client's name as its User-Id, any other key
 * refused (logged, at most once per 10 s with a count). Open it before the
 * CURVE socket binds, and free it after that socket is closed: without a
 * handler libzmq would let every key in.
 */
struct zap	*zap_open(struct event_base *base, void *zctx,
		    const char *clients_file, struct tp_err *err);
void		 zap_free(struct zap *z);
/* Makes sock a CURVE server with the secret key of file (wiped once
 * libzmq has its copy); logs the public key. */
int		 zap_curve_server(void *sock, const char *file,
		    struct tp_err *err);
/* The listed client of that name (a message's User-Id), or NULL. */
const struct curve_client *zap_client(const struct zap *z, const char *name);

#endif
