/* secrets.h: tenant secrets at rest: XChaCha20-Poly1305 under a versioned master key. */
#ifndef TP_SECRETS_H
#define TP_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * The master key file holds one or more key versions; the highest is the
 * current one, used for every new ciphertext; older versions stay so that
 * old ciphertexts can be read until they are re-encrypted. The file must be
 * a regular file of mode 0600 (or 0400): a group- or world-readable file is
 * refused, saying why. Call sodium_init() (secrets_init) before anything.
 *
 * A sealed secret is a JSON map stored in a document:
 *   { "alg": "xchacha20poly1305", "key_version": N,
 *     "nonce": base64, "ciphertext": base64 }
 * with the document path as associated data, so a ciphertext copied under
 * another path (another tenant) does not decrypt.
 */

#define SECRETS_KEY_BYTES 32
#define SECRETS_MAX_VERSIONS 64
#define SECRETS_PLAINTEXT_MAX 4096

struct secrets;

/* sodium_init once; -1 if libsodium cannot start. */
int secrets_init(struct tp_err *err);

/* Creates a new key file with version 1 (fails if it exists). */
int secrets_keygen(const char *keyfile, struct tp_err *err);
/* Adds a new current version to an existing key file (atomic replace,
 * mode kept 0600); the new version number goes to *version. */
int secrets_keygen_rotate(const char *keyfile, unsigned *version,
    struct tp_err *err);

/* Loads a key file (checks first its mode and that the effective uid owns
 * it). Keys live in guarded memory. */
struct secrets *secrets_load(const char *keyfile, struct tp_err *err);
void secrets_free(struct secrets *s);
unsigned secrets_current_version(const struct secrets *s);

/* Encrypts pt under the current key with ad = document path. */
json_object *secrets_seal(const struct secrets *s, const char *path,
    const uint8_t *pt, size_t ptlen, struct tp_err *err);
/* Decrypts a sealed map. *pt is allocated with sodium_malloc and must be
 * released with secrets_wipe_free(*pt, *ptlen). */
int secrets_open(const struct secrets *s, const char *path,
    json_object *sealed, uint8_t **pt, size_t *ptlen, struct tp_err *err);
/* The key version a sealed map was made with, or 0 if unreadable. */
unsigned secrets_sealed_version(json_object *sealed);
void secrets_wipe_free(void *p, size_t len);

/*
 * Alpaca credentials of a tenant: the document users/{uid}/secrets/alpaca
 * is { "sealed": <sealed map of key_id and secret>, "key_id_last4": "WXYZ",
 *      "updated_at": timestamp }; key_id_last4 is a hint in clear, not
 * authenticated: what is shown comes from secrets_alpaca_last4.
 */
struct alpaca_creds {
	char key_id[129];
	char secret[129];
};

/* Builds the document for users/{uid}/secrets/alpaca. */
json_object *secrets_alpaca_doc(const struct secrets *s, const char *uid,
    const struct alpaca_creds *c, struct tp_err *err);
/* Opens that document. c should be sodium_malloc'd or wiped by the caller
 * (secrets_alpaca_wipe). */
int secrets_alpaca_open(const struct secrets *s, const char *uid,
    json_object *doc, struct alpaca_creds *c, struct tp_err *err);
/*
 * The last four characters of the key id sealed in that document (out:
 * at least 5 bytes), opened and wiped at once. The document's own
 * "key_id_last4" is not authenticated (a document moved from another
 * tenant keeps it); this is, since the sealed map is bound to the path:
 * a moved document fails here.
 */
int secrets_alpaca_last4(const struct secrets *s, const char *uid,
    json_object *doc, char *out, size_t size, struct tp_err *err);
void secrets_alpaca_wipe(struct alpaca_creds *c);
/* Re-encrypts a document under the current key version; returns 1 when a
 * new document was made (*out), 0 when it already was current. */
int secrets_alpaca_reseal(const struct secrets *s, const char *uid,
    json_object *doc, json_object **out, struct tp_err *err);

#endif
