/* userapi.h: the users' HTTP API on [daemon] http (/api/v1/me...), its event stream, and the dashboard's static files. */
#ifndef TP_SUPERVISOR_USERAPI_H
#define TP_SUPERVISOR_USERAPI_H

#include <stdbool.h>

#include "common/error.h"

/*
 * docs/dashboard.md has the routes, their JSON and their limits. Every
 * request to /api/v1/ carries a Firebase ID token (Authorization: Bearer),
 * verified as the job API verifies one (common/idtoken.h); the uid comes
 * from the token alone. The reads run on the store's threads; the two
 * writes go through the job API's own operations (api_local), so a user's
 * stop and a signal have the effect, the checks and the log lines of the
 * operator's trading.set and signal.
 */

struct daemon;
struct evhttp_request;
struct userapi;

/* The user API of d (its event stream listens on d->events). */
int	 userapi_new(struct daemon *d, struct userapi **out,
	    struct tp_err *err);
/* Answers req when its path is the user API's or the page's (true);
 * false: not ours (http.c answers). */
bool	 userapi_handle(struct userapi *u, struct evhttp_request *req,
	    const char *path);
/* The security headers every reply of the listener carries. */
void	 userapi_headers(struct evhttp_request *req, bool api);
/* Closes the event streams (at stop): they never end by themselves. */
void	 userapi_close_streams(struct userapi *u);
/* After store_free (a read may run till then) and before evhttp_free. */
void	 userapi_free(struct userapi *u);

#endif
