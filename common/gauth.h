/* gauth.h: Google service-account credentials: the key file, the RS256 JWT, the OAuth token cached and refreshed. */
#ifndef TP_GAUTH_H
#define TP_GAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define GAUTH_FILE_MAX		(64 * 1024)	/* a key file is about 2.4 KB */
#define GAUTH_TOKEN_MAX		4096		/* an access token, NUL included */
#define GAUTH_SCOPE		"https://www.googleapis.com/auth/datastore"
#define GAUTH_JWT_LIFETIME_S	3600		/* exp - iat */
#define GAUTH_EARLY_MS		(5 * 60 * 1000)	/* refresh this long before expiry */
#define GAUTH_RETRY_MS		(10 * 1000)	/* after a failed refresh */
#define GAUTH_TIMEOUT_MS	(10 * 1000)	/* one token request */

struct gauth;

/* Every member may be 0/NULL for its default. */
struct gauth_opts {
	/* The token endpoint; NULL: the file's token_uri. It must be
	 * https://, or http:// on a loopback address (a test's endpoint). */
	const char	*token_url;
	int64_t		 early_ms;	/* GAUTH_EARLY_MS */
	int64_t		 retry_ms;	/* GAUTH_RETRY_MS */
	long		 timeout_ms;	/* GAUTH_TIMEOUT_MS */
	/* Wall-clock milliseconds since the epoch (JWT iat, token expiry);
	 * NULL: clock_real_ms. A test moves time with it. */
	int64_t		(*now_ms)(void *arg);
	void		*now_arg;
};

/*
 * Loads a service-account JSON file: a regular file of at most
 * GAUTH_FILE_MAX bytes, readable by its owner alone and owned by the
 * effective uid, with type "service_account", project_id,
 * private_key_id, private_key (an RSA key of 2048 bits or more, in PEM),
 * client_email and token_uri (and no member Google does not write).
 * The key is kept as an OpenSSL key; its PEM text is wiped. The program
 * must have called sodium_init() and curl_global_init() first.
 */
int gauth_load(const char *path, const struct gauth_opts *opts,
    struct gauth **out, struct tp_err *err);
/* Waits for a refresh in progress, wipes the key and the tokens, frees. */
void gauth_free(struct gauth *g);

/* The file's project_id and client_email (live as long as g). */
const char *gauth_project(const struct gauth *g);
const char *gauth_email(const struct gauth *g);

/*
 * Copies a valid access token into buf (the value for "Authorization:
 * Bearer ..."). Any thread may call it at any time (a mutex guards g):
 *  - a cached token outside the early window is returned at once;
 *  - inside the window (early_ms before expiry) the cached token is
 *    returned at once and one refresh is started on a thread of its own
 *    (at most one at a time, not again within retry_ms of a failure);
 *  - only when no token is valid (the first call, or the old token has
 *    really expired) does the caller wait for the token endpoint, at most
 *    timeout_ms; callers that arrive meanwhile wait for the same request.
 * A failed refresh keeps the old token until it expires. -1 with err
 * (TP_UNAUTHENTICATED: the endpoint refused the key; TP_UNAVAILABLE:
 * unreachable, 5xx or an unreadable reply; TP_INVALID_ARGUMENT: buf too
 * small). Neither the key, the JWT nor a token is ever in err.
 */
int gauth_token(struct gauth *g, char *buf, size_t size, struct tp_err *err);

#endif
