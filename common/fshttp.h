/* fshttp.h: the Firestore REST client's transport: one curl multi handle on its own thread, synchronous calls from any thread, retries. */
#ifndef TP_FSHTTP_H
#define TP_FSHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/gauth.h"

#define FSHTTP_REPLY_MAX	(64 * 1024 * 1024)	/* one reply body */
#define FSHTTP_CONNS_MAX	64			/* connections to the host */

struct fshttp;

struct fshttp_opts {
	/* "http://HOST:PORT" (the emulator: no TLS, "Authorization: Bearer
	 * owner") or "https://firestore.googleapis.com"; no trailing slash. */
	const char	*base_url;
	struct gauth	*auth;		/* NULL: the emulator's "owner" */
	int64_t		 deadline_ms;	/* one call, retries included */
	long		 connect_timeout_ms;	/* 0: 10 s */
	int		 max_conns;	/* 0: FSHTTP_CONNS_MAX */
};

/* Starts the transport's thread. auth stays the caller's (freed after). */
int fshttp_open(const struct fshttp_opts *opts, struct fshttp **out,
    struct tp_err *err);
/* Fails the calls in flight (TP_UNAVAILABLE), joins the thread, frees. */
void fshttp_free(struct fshttp *h);

/*
 * One request, from any thread; the calling thread waits while the
 * transport's thread runs it beside every other thread's (HTTP keep-alive,
 * up to max_conns connections). path is appended to base_url
 * ("/v1/projects/P/databases/(default)/documents:commit"); body (JSON, len
 * bytes) may be NULL for GET and DELETE.
 *
 * Retried with jittered exponential backoff (100 ms doubling up to 5 s,
 * each wait a random part of it) until the deadline: HTTP 429 and 503, and
 * a Google error status ABORTED, UNAVAILABLE or RESOURCE_EXHAUSTED; a
 * failed connection or a timeout only when idempotent is true (a write
 * whose outcome is unknown is not sent twice).
 *
 * 2xx: *reply is the parsed body (an object or, for runQuery, an array;
 * an empty body is an empty object). Otherwise -1 with err: the Google
 * error's status mapped to the tp codes (NOT_FOUND, ALREADY_EXISTS,
 * FAILED_PRECONDITION, INVALID_ARGUMENT, PERMISSION_DENIED,
 * UNAUTHENTICATED, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, UNAVAILABLE,
 * ABORTED -> TP_UNAVAILABLE, others TP_INTERNAL) and its message, which
 * holds no credential. A reply over FSHTTP_REPLY_MAX is TP_RESOURCE_EXHAUSTED.
 */
int fshttp_call(struct fshttp *h, const char *method, const char *path,
    const char *body, size_t len, bool idempotent, json_object **reply,
    struct tp_err *err);

/* HTTP requests sent since open, retries included. */
uint64_t fshttp_requests(const struct fshttp *h);

#endif
