/* secrets_int.h: what the key file (secrets_keyfile.c) and the sealing (secrets.c) share. */
#ifndef TP_SECRETS_INT_H
#define TP_SECRETS_INT_H

#include <stdint.h>

#include "common/secrets.h"

/*
 * Error codes: a key file that is missing or unreadable is TP_UNAVAILABLE;
 * one with a bad mode, bad contents or an unknown key version is
 * TP_FAILED_PRECONDITION (the operator must fix something first). A sealed
 * map that does not decrypt is TP_PERMISSION_DENIED: with a sound key file
 * the usual cause is a ciphertext copied under another tenant's path, which
 * is exactly the access that must be refused. A malformed sealed map or bad
 * input is TP_INVALID_ARGUMENT.
 */
#define SECRETS_VERSION_MAX	1000000u

struct secrets {
	unsigned	 nkeys;
	unsigned	 versions[SECRETS_MAX_VERSIONS];
	uint8_t		*keys;		/* nkeys * SECRETS_KEY_BYTES, read-only */
};

/* The key of that version, or NULL when the key file has none. */
const uint8_t *secrets_key(const struct secrets *s, unsigned version);

#endif
