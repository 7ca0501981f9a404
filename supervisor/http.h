/* http.h: the HTTP listener on [daemon] http: /healthz and /metrics for monitoring (libevent evhttp). */
#ifndef TP_SUPERVISOR_HTTP_H
#define TP_SUPERVISOR_HTTP_H

#include "common/error.h"

/*
 * GET (or HEAD) /healthz: 200 "ok" while the loop runs, the store answers
 * and the worker pool may spawn; otherwise 503 with one reason a line.
 * GET (or HEAD) /metrics: the Prometheus text format 0.0.4 (metrics.h).
 * Any other path is 404, any other method 405. It carries no secret and
 * changes nothing, so it needs no authentication; it listens on loopback
 * unless [daemon] http says otherwise. The address is read at start-up
 * only (a reload that changes it is refused, like [daemon] api).
 */

#define HTTP_HEADERS_MAX	8192	/* request line and headers, bytes */
#define HTTP_BODY_MAX		4096	/* the user API's POST bodies */
#define HTTP_TIMEOUT_S		10	/* to read a request or write a reply */
#define HTTP_PROBE_MS		10000	/* store probe period */
#define HTTP_PROBE_STALE_MS	30000	/* a probe unanswered this long: the
					   store is not answering */
#define HTTP_PROBE_PATH		"ops/last_pulse"	/* a small document;
					   missing is an answer too */

struct daemon;
struct http;

/* Listens on d->cfg.http ("" : *out = NULL, nothing listens). */
int	http_open(struct daemon *d, struct http **out, struct tp_err *err);
/* At stop: the event streams end (they never do by themselves). */
void	http_stop(struct http *h);
/* After store_free (a store probe may be running until then). */
void	http_free(struct http *h);

#endif
