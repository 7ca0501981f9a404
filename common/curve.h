/* curve.h: CURVE key files (a secret key, a public key) and the allowlist of API clients ([auth] curve_clients). */
#ifndef TP_CURVE_H
#define TP_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define CURVE_KEY_BYTES		32	/* a Curve25519 key */
#define CURVE_Z85_LEN		40	/* that key in Z85 */
#define CURVE_NAME_MAX		64	/* a client's name */
#define CURVE_CLIENTS_MAX	10000	/* entries in the allowlist */

enum curve_role {
	CURVE_ROLE_ADMIN,	/* every operation */
	CURVE_ROLE_SERVICE,	/* pulse, sync, jobs, signals: no
				   tenant or key administration */
};

struct curve_client {
	char		 name[CURVE_NAME_MAX + 1];	/* A-Z a-z 0-9 . _ - */
	enum curve_role	 role;
	uint8_t		 pub[CURVE_KEY_BYTES];
};

struct curve_clients {
	struct curve_client	*v;
	size_t			 n;
};

/* "admin", "service". */
const char *curve_role_name(enum curve_role role);

/*
 * Reads a secret key file: one line of 40 Z85 characters, a regular file
 * of mode 0600 or 0400 owned by the effective uid (like the master key).
 * what names the key in errors ("curve_server_key"). z85 gets the key
 * and a NUL; the caller wipes it (sodium_memzero) when done.
 */
int	curve_secret_load(const char *file, const char *what,
	    char z85[CURVE_Z85_LEN + 1], struct tp_err *err);
/* A public key given as 40 Z85 characters, or as a file holding them
 * (a .pub file of keygen --curve). */
int	curve_public_get(const char *file_or_z85, char z85[CURVE_Z85_LEN + 1],
	    struct tp_err *err);
/* Derives the public key of a Z85 secret key. */
int	curve_public_of(const char *secret_z85, char pub_z85[CURVE_Z85_LEN + 1],
	    struct tp_err *err);

/*
 * Loads the allowlist: one client a line, "NAME ROLE PUBLIC_KEY_Z85",
 * blank lines and lines starting with "#" ignored (a comment is a whole
 * line: a Z85 key may hold '#'). Errors read "FILE:LINE: why".
 * A name or a key listed twice is refused, and so is a file that others
 * than its owner may write.
 */
int	curve_clients_load(const char *file, struct curve_clients *out,
	    struct tp_err *err);
void	curve_clients_free(struct curve_clients *cl);
const struct curve_client *curve_clients_by_key(const struct curve_clients *cl,
	    const uint8_t pub[CURVE_KEY_BYTES]);
const struct curve_client *curve_clients_by_name(
	    const struct curve_clients *cl, const char *name);

/*
 * Makes a key pair: PREFIX.key (the secret, mode 0600, never replacing
 * a file) and PREFIX.pub (the public key, 0644). pub_z85 gets the public
 * key.
 */
int	curve_keygen(const char *prefix, char pub_z85[CURVE_Z85_LEN + 1],
	    struct tp_err *err);

#endif
