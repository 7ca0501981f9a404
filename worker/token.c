/* token.c: the worker's secrets from fd 3: the HELLO's token and the JOBs' session key, wiped at exit. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "common/sealbox.h"
#include "worker/main_int.h"

static uint8_t token_bytes[WIRE_TOKEN_BYTES];
/* The session key the JOBs' keys are sealed under (sealbox.h): read after
 * the token, in sodium_malloc'd memory (guarded, mlocked), wiped at exit. */
static uint8_t *token_session;

/* Reads exactly len bytes of the fd 3 pipe; 0 or -1 (err says why). */
static int
token_read_pipe(uint8_t *buf, size_t len, const char *what,
    struct tp_err *err)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(WIRE_TOKEN_FD, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return tp_err_errno(err, TP_UNAUTHENTICATED,
			    "cannot read the %s on fd %d", what,
			    WIRE_TOKEN_FD);
		if (n == 0)
			return tp_err_set(err, TP_UNAUTHENTICATED, "short %s "
			    "on fd %d: %zu of %zu bytes", what, WIRE_TOKEN_FD,
			    off, len);
		off += (size_t)n;
	}
	return 0;
}

/* Wipes the token and the session key: at every exit. */
void
token_wipe(void)
{
	sodium_memzero(token_bytes, sizeof(token_bytes));
	if (token_session != NULL)
		sodium_memzero(token_session, SEALBOX_KEY_BYTES);
}

/* The token, then the session key, both before the sandbox. */
int
token_read(struct tp_err *err)
{
	int rc;

	if (fcntl(WIRE_TOKEN_FD, F_GETFD) == -1)
		return tp_err_set(err, TP_UNAUTHENTICATED, "no token on fd %d: "
		    "%s is started by tradepulsed, not by hand", WIRE_TOKEN_FD,
		    WORKER_NAME);
	/* sodium_malloc needs it (the sandbox calls it again: a no-op) */
	if (sodium_init() < 0)
		rc = tp_err_set(err, TP_INTERNAL, "sodium_init failed");
	else if ((token_session = sodium_malloc(SEALBOX_KEY_BYTES)) ==
	    NULL)
		rc = tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	else if ((rc = token_read_pipe(token_bytes, sizeof(token_bytes),
	    "token", err)) == 0)
		rc = token_read_pipe(token_session, SEALBOX_KEY_BYTES,
		    "session key", err);
	close(WIRE_TOKEN_FD);
	if (rc == -1)
		token_wipe();
	return rc;
}

void
token_hex(char *hex, size_t size)
{
	sodium_bin2hex(hex, size, token_bytes, sizeof(token_bytes));
	sodium_memzero(token_bytes, sizeof(token_bytes));
}

const uint8_t *
token_session_key(void)
{
	return token_session;
}
