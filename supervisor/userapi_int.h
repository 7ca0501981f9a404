/* userapi_int.h: the user API's state shared by its files (userapi.c, userapi_me.c, userapi_sse.c, webroot.c). */
#ifndef TP_SUPERVISOR_USERAPI_INT_H
#define TP_SUPERVISOR_USERAPI_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <json-c/json.h>

#include "common/error.h"
#include "common/path.h"

#define USERAPI_BODY_MAX	4096	/* a POST's body, bytes */
#define USERAPI_RATE_PER_S	10	/* requests per second and user ... */
#define USERAPI_RATE_BURST	20	/* ... with bursts of this many */
#define USERAPI_USERS_MAX	10000	/* rate buckets held (LRU-free: the
					   full ones are dropped first) */
#define USERAPI_PENDING_MAX	256	/* reads in progress, all users */
#define USERAPI_LIST_MAX	100	/* limit= at most (the seed's page) */
#define USERAPI_LIST_DEFAULT	20
#define USERAPI_OPEN_SHOWN	100	/* open trades in /me */
#define USERAPI_SCAN_MAX	1000	/* trades read for one page or total */
#define USERAPI_CURSOR_MAX	96
#define USERAPI_SIGNAL_WAIT_S	60	/* POST /me/signals: the job's bound */

#define SSE_RING		64	/* events kept per tenant for replay */
#define SSE_EVENT_MAX		(16 * 1024)	/* larger: sent, not kept */
#define SSE_OUT_MAX		(256 * 1024)	/* unsent bytes: a reader this
						   slow is dropped */
#define SSE_PER_USER		4
#define SSE_TOTAL		256
#define SSE_PING_S		15
#define SSE_WRITE_TIMEOUT_S	60	/* nothing written for this long */
#define SSE_TENANTS_MAX		10000	/* rings held */

struct daemon;
struct userapi;
struct sse;

/* A request of the user API in progress (a read on a store thread, or
 * one of the job API's operations): freed by its answer, or at exit. */
struct userapi_call {
	TAILQ_ENTRY(userapi_call) entry;
	struct userapi		*u;
	struct evhttp_request	*req;
	char			 uid[UID_MAX_LEN + 1];
	/* the read's inputs and outputs (userapi_me.c) */
	int			 what;
	char			 status[8];	/* trades: OPEN, CLOSED, "" */
	size_t			 limit;
	char			 cursor[USERAPI_CURSOR_MAX + 1];
	json_object		*result;
	struct tp_err		 err;
	int			 rc;
};

struct userapi {
	struct daemon		*d;
	struct htab		*rate;		/* uid -> struct userapi_bucket */
	TAILQ_HEAD(, userapi_call) calls;
	size_t			 ncalls;
	struct sse		*sse;
};

/* userapi_reply.c: replies (below userapi.c and the files it routes to) */
#define USERAPI_CSP_MAX	1024
void	userapi_set_csp(const char *csp);
void	userapi_reply_json(struct evhttp_request *req, int code,
	    json_object *o);
void	userapi_reply_error(struct evhttp_request *req,
	    const struct tp_err *err);
/* status 0: the error code's own (405 takes TP_INVALID_ARGUMENT's form). */
void	userapi_reply_error_as(struct evhttp_request *req, int status,
	    const struct tp_err *err);
void	userapi_call_free(struct userapi_call *c);

/* userapi_me.c: the reads. 0, or -1 with err (nothing submitted). */
enum { USERAPI_ME, USERAPI_TRADES, USERAPI_SIGNALS };
int	userapi_me_submit(struct userapi_call *c, struct tp_err *err);
/* doc's money field key as exact decimal text (null: absent or not a
 * decimal). */
json_object *userapi_money(json_object *doc, const char *key);
/* A cursor's form (opaque to clients): "<created_at>_<id>". */
bool	userapi_cursor_valid(const char *s);

/* userapi_sse.c */
int	sse_new(struct userapi *u, struct sse **out, struct tp_err *err);
void	sse_start(struct sse *s, struct evhttp_request *req, const char *uid,
	    const char *last_id);
void	sse_close_all(struct sse *s);
void	sse_free(struct sse *s);

/* webroot.c: GET/HEAD of / and /assets/...; true when answered. */
bool	webroot_serve(struct daemon *d, struct evhttp_request *req,
	    const char *path);

/* webconfig.c: the page's CSP for cfg into buf (-1: too long), and
 * GET /api/v1/config. */
struct config;
int	webconfig_csp(const struct config *cfg, char *buf, size_t size);
void	webconfig_serve(struct daemon *d, struct evhttp_request *req);

#endif
