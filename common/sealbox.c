/* sealbox.c: seals and opens a job's Alpaca keys under the worker's session key. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <string.h>

#include <sodium.h>

#include "common/sealbox.h"

_Static_assert(SEALBOX_KEY_BYTES == crypto_secretbox_KEYBYTES,
    "session key size");
_Static_assert(24 == crypto_secretbox_NONCEBYTES, "nonce size");
_Static_assert(16 == crypto_secretbox_MACBYTES, "MAC size");
_Static_assert(SEALBOX_TEXT_MAX >= sodium_base64_ENCODED_LEN(SEALBOX_BIN_MAX,
    sodium_base64_VARIANT_ORIGINAL), "sealed text size");

/* Length of a field, or 0 unless it is 1..SEALBOX_FIELD_MAX bytes of
 * printable ASCII (spaces allowed when space). */
static size_t
sealbox_field_len(const char *f, size_t size, int space)
{
	size_t i, n = strnlen(f, size);

	if (n == 0 || n == size || n > SEALBOX_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)f[i] < (space ? 0x20 : 0x21) ||
		    (unsigned char)f[i] > 0x7e)
			return 0;
	return n;
}

int
sealbox_keys_seal(const uint8_t *key, const char *key_id, const char *secret,
    char *out, size_t size, struct tp_err *err)
{
	uint8_t pt[SEALBOX_PT_MAX], bin[SEALBOX_BIN_MAX];
	size_t idlen, seclen, len = 0;

	if (key == NULL || size < SEALBOX_TEXT_MAX)
		return tp_err_set(err, TP_INTERNAL, "no session key or no room "
		    "for the sealed keys");
	idlen = sealbox_field_len(key_id, SEALBOX_FIELD_MAX + 1, 0);
	seclen = sealbox_field_len(secret, SEALBOX_FIELD_MAX + 1, 1);
	if (idlen == 0 || seclen == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the Alpaca %s "
		    "must be 1 to %d printable ASCII characters",
		    idlen == 0 ? "key id" : "secret", SEALBOX_FIELD_MAX);
	pt[len++] = SEALBOX_FORMAT;
	pt[len++] = (uint8_t)idlen;
	memcpy(pt + len, key_id, idlen);
	len += idlen;
	pt[len++] = (uint8_t)seclen;
	memcpy(pt + len, secret, seclen);
	len += seclen;
	randombytes_buf(bin, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(bin + crypto_secretbox_NONCEBYTES, pt, len, bin,
	    key);
	sodium_memzero(pt, sizeof(pt));
	sodium_bin2base64(out, size, bin, crypto_secretbox_NONCEBYTES +
	    crypto_secretbox_MACBYTES + len, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

/* Splits an opened plaintext into the two fields; 0 or -1. */
static int
sealbox_decode(const uint8_t *pt, size_t len, char *key_id, size_t idsize,
    char *secret, size_t secsize)
{
	size_t idlen, seclen;

	if (len < 3 || pt[0] != SEALBOX_FORMAT)
		return -1;
	idlen = pt[1];
	if (idlen == 0 || idlen > SEALBOX_FIELD_MAX || idlen >= idsize ||
	    len < 2 + idlen + 1)
		return -1;
	seclen = pt[2 + idlen];
	if (seclen == 0 || seclen > SEALBOX_FIELD_MAX || seclen >= secsize ||
	    len != 3 + idlen + seclen)
		return -1;
	memcpy(key_id, pt + 2, idlen);
	key_id[idlen] = '\0';
	memcpy(secret, pt + 3 + idlen, seclen);
	secret[seclen] = '\0';
	if (sealbox_field_len(key_id, idsize, 0) != idlen ||
	    sealbox_field_len(secret, secsize, 1) != seclen)
		return -1;
	return 0;
}

int
sealbox_keys_open(const uint8_t *key, const char *text, size_t textlen,
    char *key_id, size_t idsize, char *secret, size_t secsize,
    struct tp_err *err)
{
	uint8_t bin[SEALBOX_BIN_MAX], pt[SEALBOX_PT_MAX];
	const char *end = NULL;
	size_t binlen = 0;
	int rc = -1;

	if (key == NULL)
		tp_err_set(err, TP_INTERNAL, "no session key");
	else if (text == NULL || textlen == 0 || textlen >= SEALBOX_TEXT_MAX ||
	    memchr(text, '\0', textlen) != NULL ||
	    sodium_base642bin(bin, sizeof(bin), text, textlen, NULL, &binlen,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != text + textlen)
		tp_err_set(err, TP_INVALID_ARGUMENT, "\"keys_sealed\" is not "
		    "base64 of at most %d bytes", SEALBOX_BIN_MAX);
	else if (binlen < crypto_secretbox_NONCEBYTES +
	    crypto_secretbox_MACBYTES + 3)
		tp_err_set(err, TP_INVALID_ARGUMENT, "\"keys_sealed\" is too "
		    "short (%zu bytes)", binlen);
	else if (crypto_secretbox_open_easy(pt,
	    bin + crypto_secretbox_NONCEBYTES,
	    binlen - crypto_secretbox_NONCEBYTES, bin, key) != 0)
		tp_err_set(err, TP_INVALID_ARGUMENT, "\"keys_sealed\" does not "
		    "open under this worker's session key");
	else if (sealbox_decode(pt, binlen - crypto_secretbox_NONCEBYTES -
	    crypto_secretbox_MACBYTES, key_id, idsize, secret, secsize) == -1)
		tp_err_set(err, TP_INVALID_ARGUMENT, "\"keys_sealed\" does not "
		    "hold a key id and a secret");
	else
		rc = 0;
	sodium_memzero(pt, sizeof(pt));
	if (rc == -1) {
		sodium_memzero(key_id, idsize);
		sodium_memzero(secret, secsize);
	}
	return rc;
}
