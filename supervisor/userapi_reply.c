/* userapi_reply.c: the users' API's replies: security headers, JSON, errors with their HTTP status, and the end of a call. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/jsonutil.h"
#include "supervisor/userapi.h"
#include "supervisor/userapi_int.h"

/* Set by userapi_new from [auth] (webconfig.c); the web keys need a
 * restart, so it holds for the daemon's life. */
static char userapi_csp[USERAPI_CSP_MAX] = "default-src 'self'; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'";

void
userapi_set_csp(const char *csp)
{
	snprintf(userapi_csp, sizeof(userapi_csp), "%s", csp);
}

void
userapi_headers(struct evhttp_request *req, bool api)
{
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);

	evhttp_add_header(hd, "Content-Security-Policy", userapi_csp);
	evhttp_add_header(hd, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(hd, "Referrer-Policy", "no-referrer");
	evhttp_add_header(hd, "X-Frame-Options", "DENY");
	if (api)
		evhttp_add_header(hd, "Cache-Control", "no-store");
}

void
userapi_reply_json(struct evhttp_request *req, int code, json_object *o)
{
	struct evbuffer *b = evbuffer_new();
	const char *text;
	size_t len = 0;

	userapi_headers(req, true);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	if (b == NULL || o == NULL || (text = json_compact(o, &len)) == NULL) {
		evbuffer_free(b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(b, text, len);
	evbuffer_add(b, "\n", 1);
	evhttp_send_reply(req, code, NULL, b);
	evbuffer_free(b);
}

static int
userapi_status(enum tp_code code, const char **name)
{
	switch (code) {
	case TP_INVALID_ARGUMENT:	*name = "invalid_argument"; return 400;
	case TP_UNAUTHENTICATED:	*name = "unauthenticated"; return 401;
	case TP_PERMISSION_DENIED:	*name = "permission_denied"; return 403;
	case TP_NOT_FOUND:		*name = "not_found"; return 404;
	case TP_RESOURCE_EXHAUSTED:	*name = "resource_exhausted"; return 429;
	case TP_FAILED_PRECONDITION:
	case TP_ALREADY_EXISTS:		*name = "failed_precondition"; return 412;
	case TP_UNAVAILABLE:
	case TP_DEADLINE_EXCEEDED:	*name = "unavailable"; return 503;
	default:			*name = "internal"; return 500;
	}
}

/* status 0: the error code's own. */
void
userapi_reply_error_as(struct evhttp_request *req, int status,
    const struct tp_err *err)
{
	json_object *o, *e;
	const char *name;
	int code = userapi_status(err->code, &name);

	if (status != 0)
		code = status;
	o = json_object_new_object();
	e = json_object_new_object();
	if (o == NULL || e == NULL) {
		json_object_put(o);
		json_object_put(e);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	json_add(e, "code", json_object_new_string(name));
	json_add(e, "message", json_object_new_string(err->msg[0] != '\0' ?
	    err->msg : name));
	json_add(o, "error", e);
	if (code == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
	userapi_reply_json(req, code, o);
	json_object_put(o);
}

void
userapi_reply_error(struct evhttp_request *req, const struct tp_err *err)
{
	userapi_reply_error_as(req, 0, err);
}

void
userapi_call_free(struct userapi_call *c)
{
	if (c == NULL)
		return;
	TAILQ_REMOVE(&c->u->calls, c, entry);
	c->u->ncalls--;
	json_object_put(c->result);
	free(c);
}
