/* api.h: the daemon's side of the job API: requests, replies, argument checks. */
#ifndef TP_SUPERVISOR_API_H
#define TP_SUPERVISOR_API_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "common/api.h"
#include "common/error.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/store.h"

struct daemon;
struct api;
struct api_req;

/*
 * An operation's start function runs on the loop with the request's
 * argument names already checked against the op's list. It either returns
 * -1 with err (the API replies with that error; the request and its ctx
 * are freed) or returns 0 having answered, or arranged to answer, exactly
 * once with api_reply or api_reply_error, usually from the done callback
 * of store work it submitted with api_submit. After answering, the
 * request is gone. Work functions run on a store thread: they may use
 * req->ctx (the op's own copies of its inputs) and nothing else of the
 * request or the daemon.
 */
typedef int (*api_start_fn)(struct api_req *req, struct tp_err *err);

struct api_op {
	const char		*name;
	api_start_fn		 start;
	const char *const	*args;	/* accepted arguments, NULL-terminated */
	bool			 light;	/* answered from memory at once: never
					   refused for the queue or budget */
};

#define API_RID_MAX 256		/* ZeroMQ routing ids are 1..255 bytes */

struct api_req {
	TAILQ_ENTRY(api_req)	 entry;
	struct api		*api;
	struct daemon		*d;
	const struct api_op	*op;
	json_object		*args;		/* the request object */
	char			 uid[UID_MAX_LEN + 1];	/* for the log, once valid */
	/* a verified ID token's uid: the request acts for that user alone */
	bool			 as_user;
	char			 user_uid[UID_MAX_LEN + 1];

	/* operation state; ctx_free runs when the request is freed */
	void			*ctx;
	void			(*ctx_free)(void *ctx);

	/* envelope, mirrored in the reply */
	uint8_t			 rid[API_RID_MAX];
	size_t			 rid_len;
	bool			 delimiter;	/* a REQ client's empty frame */

	/* its connection (clients.h) and what it is charged */
	int			 fd;
	uint64_t		 serial;
	size_t			 charge;

	bool			 replied;
	struct timespec		 t0;

	/* a CURVE client (tcp://): its name (User-Id) and role; NULL for
	 * ipc://, whose clients have every right */
	const struct curve_client *client;

	/* an in-process request (api_local): the reply goes to local(),
	 * never to a socket */
	void			(*local)(void *arg, json_object *reply);
	void			*local_arg;
};

struct api_stats {
	size_t		in_flight;
	uint64_t	requests;
	uint64_t	errors;
	size_t		bytes;		/* charged by the requests in progress */
	size_t		budget;		/* [daemon] api_memory */
	size_t		reply_budget;	/* what queued replies may hold */
	int		sndhwm;		/* replies queued per client */
	uint64_t	replies_dropped;
	size_t		clients;	/* connections now */
	size_t		clients_peak;
	size_t		max_clients;	/* the cap in force */
	uint64_t	clients_evicted;
};

/* Binds [daemon] api (a ROUTER of zctx, the daemon's context, which
 * outlives it) and starts serving on d->base. */
struct api	*api_open(struct daemon *d, void *zctx, struct tp_err *err);
/* From now on every new request is answered `unavailable`; idle(arg) is
 * called each time the last request in progress has been answered. */
void		 api_stop(struct api *api, void (*idle)(void *), void *arg);
/* Answers `unavailable` to every request still in progress (at exit). */
void		 api_abort(struct api *api);
/* Frees the remaining requests, closes the socket (before the daemon
 * ends the context). */
void		 api_free(struct api *api);
void		 api_get_stats(struct api *api, struct api_stats *st);
const char	*api_endpoint(const struct api *api);

/*
 * An in-process request on behalf of user_uid, whose ID token the caller
 * has verified (the HTTP user API): args (consumed) is a request object as
 * a client would send, without "id_token"; the caller has decided the
 * user may ask it. reply(arg, {"ok", "result"|"error"}) runs exactly once,
 * on the loop (at exit with `unavailable`), unless this returns -1.
 */
int		 api_local(struct api *api, const char *user_uid,
		    json_object *args, void (*reply)(void *, json_object *),
		    void *arg, struct tp_err *err);
/* Replies (result is consumed) and frees the request. */
void		 api_reply(struct api_req *req, json_object *result);
void		 api_reply_error(struct api_req *req, const struct tp_err *err);
/* A store work function's outcome: err when rc is -1, else *result
 * (taken: *result becomes NULL). */
void		 api_reply_outcome(struct api_req *req, int rc,
		    json_object **result, const struct tp_err *err);
/* store_async with req as the argument of work and done. */
int		 api_submit(struct api_req *req, store_work_fn work,
		    store_done_fn done, struct tp_err *err);

/*
 * Argument getters: 1 when the argument is present and valid; 0 when an
 * optional one is absent (*out untouched); -1 with an invalid_argument
 * error naming it when a required one is missing or one is malformed.
 * Strings point into the request and live as long as it.
 */
int	api_arg_uid(struct api_req *req, const char *name, bool required,
	    const char **out, struct tp_err *err);
int	api_arg_str(struct api_req *req, const char *name, bool required,
	    size_t min, size_t max, const char **out, struct tp_err *err);
/* Like api_arg_str, and only printable ASCII without spaces. */
int	api_arg_token(struct api_req *req, const char *name, bool required,
	    size_t min, size_t max, const char **out, struct tp_err *err);
int	api_arg_bool(struct api_req *req, const char *name, bool required,
	    bool *out, struct tp_err *err);
int	api_arg_int(struct api_req *req, const char *name, bool required,
	    int64_t min, int64_t max, int64_t *out, struct tp_err *err);
/* A map whose compact serialization is at most max bytes. */
int	api_arg_map(struct api_req *req, const char *name, bool required,
	    size_t max, json_object **out, struct tp_err *err);

/* api_auth.c: a request's "id_token", verified; what it may then do.
 * -1 with unauthenticated or permission_denied. */
int	api_auth(struct api_req *req, struct tp_err *err);
/* For API_USER_OP_CHECKS operations: 0 when the request is the
 * operator's or acts for uid, else -1 with permission_denied. */
/* api_auth.c: a CURVE client of role service may run and follow work
 * (api_service_ops), nothing else; admins and ipc:// clients anything.
 * 0, or -1 with TP_PERMISSION_DENIED. */
int	api_permit(const struct api_req *req, struct tp_err *err);
int	api_auth_owns(const struct api_req *req, const char *uid,
	    struct tp_err *err);

/* A JSON string, or null for NULL. */
json_object *api_json_str_or_null(const char *s);

#endif
