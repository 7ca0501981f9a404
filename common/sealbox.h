/* sealbox.h: a job's Alpaca keys sealed under the worker's per-spawn session key (crypto_secretbox). */
#ifndef TP_SEALBOX_H
#define TP_SEALBOX_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*
 * The supervisor hands each worker a fresh session key at spawn, on its
 * private fd 3 pipe after the token (never over ZeroMQ), and seals every
 * JOB's keys under it: ZeroMQ's I/O thread copies a message into buffers
 * we cannot wipe, so only ciphertext may go through it.
 *
 * Sealed text: base64 (RFC 4648, padded) of
 *   nonce (24 bytes) || crypto_secretbox_easy(plaintext)
 * plaintext:
 *   format (1 byte, SEALBOX_FORMAT) || len(key_id) (1) || key_id ||
 *   len(secret) (1) || secret
 * key_id: 1..SEALBOX_FIELD_MAX printable ASCII without spaces; secret:
 * 1..SEALBOX_FIELD_MAX printable ASCII (spaces allowed).
 */

#define SEALBOX_KEY_BYTES	32	/* crypto_secretbox_KEYBYTES */
#define SEALBOX_FIELD_MAX	128
#define SEALBOX_FORMAT		1
/* plaintext, nonce + MAC + plaintext, and its base64 text with the NUL */
#define SEALBOX_PT_MAX		(3 + 2 * SEALBOX_FIELD_MAX)
#define SEALBOX_BIN_MAX		(24 + 16 + SEALBOX_PT_MAX)
#define SEALBOX_TEXT_MAX	(((SEALBOX_BIN_MAX + 2) / 3) * 4 + 1)

/*
 * Seals key_id and secret (NUL-terminated) under key into out (size >=
 * SEALBOX_TEXT_MAX): a NUL-terminated base64 text, which holds no secret.
 * The plaintext lives on the stack only, wiped before returning. Fails
 * with TP_INVALID_ARGUMENT when a field is empty, too long or not
 * printable (never quoting it).
 */
int sealbox_keys_seal(const uint8_t *key, const char *key_id,
    const char *secret, char *out, size_t size, struct tp_err *err);

/*
 * Opens a sealed text of textlen bytes into key_id and secret
 * (NUL-terminated; each array of at least SEALBOX_FIELD_MAX + 1 bytes,
 * wiped by the caller after use). Bad base64, a wrong length, a failed
 * MAC (tampered, or another key) or a malformed plaintext fail with
 * TP_INVALID_ARGUMENT; nothing is left in the outputs then.
 */
int sealbox_keys_open(const uint8_t *key, const char *text, size_t textlen,
    char *key_id, size_t idsize, char *secret, size_t secsize,
    struct tp_err *err);

#endif
