/* idtoken.h: Firebase ID tokens verified as the Admin SDKs do (RS256 over Google's certificates, the claims checked). */
#ifndef TP_IDTOKEN_H
#define TP_IDTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define IDTOKEN_MAX		8192	/* bytes of a token, at most */
/*
 * Clock skew allowed between Google's clock and ours, in seconds: exp may
 * have passed by this much, iat and auth_time may be this far ahead. A
 * minute covers an NTP-synchronised host (milliseconds off) and a VM just
 * resumed, while keeping a stolen token's extra life short; the issue
 * caps it at 5 minutes.
 */
#define IDTOKEN_SKEW_S		60
#define IDTOKEN_CERTS_MAX	(256 * 1024)	/* the certificates' JSON */
#define IDTOKEN_CERTS_COUNT	64		/* kids in it, at most */
#define IDTOKEN_KID_MAX		128
/* Google's address of the securetoken certificates. */
#define IDTOKEN_GOOGLE_CERTS	"https://www.googleapis.com/robot/v1/" \
	"metadata/x509/securetoken@system.gserviceaccount.com"

struct idtoken_certs;

/* Every member may be 0/NULL for its default. */
struct idtoken_certs_opts {
	/* URL source: the refetch after a failure or an unknown kid is at
	 * most this often (default 30 s); the max-age is clamped to
	 * [1 s, 1 day], 1 hour when the reply has none. */
	int64_t		 min_refetch_ms;
	long		 timeout_ms;	/* one fetch (default 10 s) */
};

/*
 * A source of certificates: the JSON map {kid: PEM X.509 certificate}
 * that Google serves.
 *  - A file path: read now (an error is returned); re-read when its
 *    mtime, size or inode changes (looked at most once a second, from
 *    idtoken_verify), or on idtoken_certs_reload.
 *  - An https:// URL (http:// only on a loopback address, for tests):
 *    fetched on a thread of its own, never by the caller, and refetched
 *    when the reply's Cache-Control max-age has passed, or when a token
 *    names an unknown kid (rate limited). Until the first fetch lands,
 *    every token is refused. A failed refetch keeps the certificates
 *    held (logged) and is retried.
 * The program must have called curl_global_init() for a URL.
 */
int	idtoken_certs_open(const char *source,
	    const struct idtoken_certs_opts *opts, struct idtoken_certs **out,
	    struct tp_err *err);
void	idtoken_certs_free(struct idtoken_certs *c);
/* A file: re-read now (an error keeps the old set); a URL: refetch soon. */
int	idtoken_certs_reload(struct idtoken_certs *c, struct tp_err *err);
/* How many certificates are held now (tests, status). */
size_t	idtoken_certs_count(struct idtoken_certs *c);
/* Parses the JSON map into the set held (tests and the file source). */
int	idtoken_certs_set_json(struct idtoken_certs *c, const char *json,
	    size_t len, struct tp_err *err);

/*
 * Verifies a Firebase ID token for project_id at now_s (seconds since the
 * epoch) and copies its uid (sub) into uid_out (at least UID_MAX_LEN + 1
 * bytes). -1 with err: TP_UNAUTHENTICATED and the reason (never the
 * token), for the daemon's log only; the client is told "invalid ID
 * token". An unsigned token ("alg":"none", empty signature, as the Auth
 * emulator makes) passes only when accept_emulator.
 */
int	idtoken_verify(struct idtoken_certs *c, const char *token,
	    const char *project_id, int64_t now_s, bool accept_emulator,
	    char *uid_out, size_t uid_size, struct tp_err *err);

#endif
