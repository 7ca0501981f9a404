/* webconfig.c: the page's sign-in configuration: GET /api/v1/config (the Firebase web config from [auth], or null) and the Content-Security-Policy that allows exactly the hosts its SDK talks to. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "common/config.h"
#include "common/jsonutil.h"
#include "supervisor/daemon.h"
#include "supervisor/userapi.h"
#include "supervisor/userapi_int.h"

/* The hosts Firebase Auth's web SDK calls for a password sign-in and for
 * refreshing the ID token; with an emulator, it calls the emulator only. */
#define WEBCONFIG_FIREBASE_HOSTS \
	"https://identitytoolkit.googleapis.com https://securetoken.googleapis.com"

int
webconfig_csp(const struct config *cfg, char *buf, size_t size)
{
	const char *connect = "";
	const char *sep = "";

	if (*cfg->web_api_key != '\0') {
		sep = " ";
		/* config_origin checked it: a scheme, a host, a port; no
		 * blank, quote or ';' that could end the directive */
		connect = *cfg->web_auth_emulator != '\0' ?
		    cfg->web_auth_emulator : WEBCONFIG_FIREBASE_HOSTS;
	}
	if ((size_t)snprintf(buf, size, "default-src 'self'; script-src 'self'; "
	    "style-src 'self'; connect-src 'self'%s%s; img-src 'self' data:; "
	    "frame-ancestors 'none'", sep, connect) >= size)
		return -1;
	return 0;
}

void
webconfig_serve(struct daemon *d, struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct config *cfg = &d->cfg;
	json_object *o, *fb = NULL;
	struct tp_err err;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		tp_err_set(&err, TP_INVALID_ARGUMENT, "method not allowed; "
		    "allowed: GET, HEAD");
		userapi_reply_error_as(req, 405, &err);
		return;
	}
	if ((o = json_object_new_object()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (*cfg->web_api_key != '\0' && (fb = json_object_new_object()) != NULL) {
		/* the web API key is not a secret: it names the project to
		 * Google's endpoints, and every page that signs in holds it */
		json_add(fb, "apiKey", json_object_new_string(cfg->web_api_key));
		json_add(fb, "authDomain", *cfg->web_auth_domain != '\0' ?
		    json_object_new_string(cfg->web_auth_domain) : NULL);
		json_add(fb, "projectId",
		    json_object_new_string(cfg->firebase_project_id));
		json_add(fb, "emulator", *cfg->web_auth_emulator != '\0' ?
		    json_object_new_string(cfg->web_auth_emulator) : NULL);
	}
	json_add(o, "firebase", fb);
	userapi_reply_json(req, HTTP_OK, o);
	json_object_put(o);
}
