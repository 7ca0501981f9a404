/* secrets.c: tenant secrets sealed with XChaCha20-Poly1305 under the master key: seal, open, Alpaca credentials. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/jsonutil.h"
#include "common/secrets.h"
#include "common/timefmt.h"
#include "common/secrets_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define SECRETS_ALG		"xchacha20poly1305"
#define SECRETS_NONCE_BYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SECRETS_TAG_BYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SECRETS_CT_MAX		(SECRETS_PLAINTEXT_MAX + SECRETS_TAG_BYTES)

/* Encoding of Alpaca credentials inside the seal: a format byte, then the
 * key id and the secret, each as one length byte and that many bytes. */
#define ALPACA_FORMAT		1
#define ALPACA_FIELD_MAX	128
#define ALPACA_PT_MAX		(1 + 2 * (1 + ALPACA_FIELD_MAX))
#define ALPACA_PATH_MAX		(sizeof("users//secrets/alpaca") + 128)

static int
secrets_b64_add(json_object *o, const char *key, const uint8_t *bin,
    size_t len)
{
	size_t size = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	json_object *v;
	char *b64;

	if ((b64 = malloc(size)) == NULL)
		return -1;
	sodium_bin2base64(b64, size, bin, len, sodium_base64_VARIANT_ORIGINAL);
	v = json_object_new_string(b64);
	free(b64);
	return v == NULL ? -1 : json_add(o, key, v);
}

json_object *
secrets_seal(const struct secrets *s, const char *path, const uint8_t *pt,
    size_t ptlen, struct tp_err *err)
{
	uint8_t nonce[SECRETS_NONCE_BYTES];
	unsigned version = secrets_current_version(s);
	unsigned long long ctlen = 0;
	json_object *o = NULL, *v;
	uint8_t *ct;

	if (path == NULL || *path == '\0') {
		tp_err_set(err, TP_INVALID_ARGUMENT, "no document path to seal "
		    "under");
		return NULL;
	}
	if (ptlen > SECRETS_PLAINTEXT_MAX) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "secret of %zu bytes is "
		    "larger than %d", ptlen, SECRETS_PLAINTEXT_MAX);
		return NULL;
	}
	if ((ct = malloc(ptlen + SECRETS_TAG_BYTES)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	randombytes_buf(nonce, sizeof(nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, pt, ptlen,
	    (const uint8_t *)path, strlen(path), NULL, nonce,
	    secrets_key(s, version));
	if ((o = json_object_new_object()) == NULL ||
	    (v = json_object_new_string(SECRETS_ALG)) == NULL ||
	    json_add(o, "alg", v) == -1 ||
	    (v = json_object_new_int64(version)) == NULL ||
	    json_add(o, "key_version", v) == -1 ||
	    secrets_b64_add(o, "nonce", nonce, sizeof(nonce)) == -1 ||
	    secrets_b64_add(o, "ciphertext", ct, (size_t)ctlen) == -1) {
		json_object_put(o);
		o = NULL;
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	free(ct);
	return o;
}

unsigned
secrets_sealed_version(json_object *sealed)
{
	json_object *v;
	int64_t n;

	if (!json_object_is_type(sealed, json_type_object) ||
	    !json_object_object_get_ex(sealed, "key_version", &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	if (n < 1 || n > SECRETS_VERSION_MAX)
		return 0;
	return (unsigned)n;
}

/* Decodes the base64 string member key of o into bin (exactly want bytes,
 * or at most max bytes when want is 0). */
static int
secrets_b64_get(json_object *o, const char *key, uint8_t *bin, size_t want,
    size_t max, size_t *len, struct tp_err *err)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret has no %s string", key);
	s = json_object_get_string(v);
	if (sodium_base642bin(bin, want ? want : max, s,
	    (size_t)json_object_get_string_len(v), NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    (want != 0 && *len != want))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret has a bad %s", key);
	return 0;
}

/*
 * Opens a sealed map into out (size bytes, enough for the plaintext; the
 * caller wipes it): the work of secrets_open without an allocation, so
 * a pulse's thousands of openings cost no guarded-page syscalls.
 */
static int
secrets_open_into(const struct secrets *s, const char *path,
    json_object *sealed, uint8_t *out, size_t size, size_t *ptlen,
    struct tp_err *err)
{
	uint8_t nonce[SECRETS_NONCE_BYTES];
	uint8_t ct[SECRETS_CT_MAX];
	unsigned long long mlen = 0;
	const uint8_t *key;
	json_object *v;
	unsigned version;
	size_t ctlen = 0, noncelen = 0;

	*ptlen = 0;
	if (path == NULL || *path == '\0')
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "no document path to open the secret under");
	if (!json_object_is_type(sealed, json_type_object) ||
	    !json_object_object_get_ex(sealed, "alg", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), SECRETS_ALG) != 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret at %s is not a %s map", path, SECRETS_ALG);
	if ((version = secrets_sealed_version(sealed)) == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret at %s has no valid key_version", path);
	if ((key = secrets_key(s, version)) == NULL)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "sealed with key version %u, which the key file does not "
		    "have", version);
	if (secrets_b64_get(sealed, "nonce", nonce, sizeof(nonce), 0,
	    &noncelen, err) == -1)
		return -1;
	/* the ciphertext is not secret: no wiping needed */
	if (secrets_b64_get(sealed, "ciphertext", ct, 0, SECRETS_CT_MAX,
	    &ctlen, err) == -1)
		return -1;
	if (ctlen < SECRETS_TAG_BYTES)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret has a bad ciphertext");
	if (ctlen - SECRETS_TAG_BYTES > size)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the sealed secret "
		    "at %s is longer than expected", path);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct,
	    ctlen, (const uint8_t *)path, strlen(path), nonce, key) != 0)
		return tp_err_set(err, TP_PERMISSION_DENIED, "cannot decrypt "
		    "the secret at %s: wrong key or document path, or tampered "
		    "data", path);
	*ptlen = (size_t)mlen;
	return 0;
}

int
secrets_open(const struct secrets *s, const char *path, json_object *sealed,
    uint8_t **pt, size_t *ptlen, struct tp_err *err)
{
	uint8_t *m;

	*pt = NULL;
	*ptlen = 0;
	/* One byte more so that an empty secret still gets a buffer. */
	if ((m = sodium_malloc(SECRETS_PLAINTEXT_MAX + 1)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	if (secrets_open_into(s, path, sealed, m, SECRETS_PLAINTEXT_MAX,
	    ptlen, err) == -1) {
		sodium_free(m);
		return -1;
	}
	*pt = m;
	return 0;
}

void
secrets_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	sodium_free(p);
}

/* uid rule of the brief, checked here so this module stands alone. */
static int
secrets_check_uid(const char *uid, struct tp_err *err)
{
	size_t i;

	if (uid == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no uid");
	for (i = 0; uid[i] != '\0'; i++) {
		if (i == 128 || !((uid[i] >= 'a' && uid[i] <= 'z') ||
		    (uid[i] >= 'A' && uid[i] <= 'Z') ||
		    (uid[i] >= '0' && uid[i] <= '9') ||
		    uid[i] == '_' || uid[i] == '-'))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "invalid uid: 1 to 128 characters of "
			    "[A-Za-z0-9_-] expected");
	}
	if (i == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid uid: 1 to 128 characters of [A-Za-z0-9_-] "
		    "expected");
	return 0;
}

/* Length of a credential field, or 0 if it is not 1..128 printable ASCII
 * characters without spaces, NUL-terminated inside its array. */
static size_t
secrets_field_len(const char *f, size_t size)
{
	size_t i, n = strnlen(f, size);

	if (n == 0 || n == size || n > ALPACA_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x21 || (unsigned char)f[i] > 0x7e)
			return 0;
	return n;
}

static int
secrets_alpaca_path(const char *uid, char *path, size_t size,
    struct tp_err *err)
{
	if (secrets_check_uid(uid, err) == -1)
		return -1;
	snprintf(path, size, "users/%s/secrets/alpaca", uid);
	return 0;
}

static int
secrets_add_str(json_object *o, const char *key, const char *s)
{
	json_object *v = json_object_new_string(s);

	return v == NULL ? -1 : json_add(o, key, v);
}

/* The last four characters of a key id: enough to recognize it. Not
 * authenticated in the document: readers derive it from the sealed key id
 * (secrets_alpaca_last4); it stays for older readers and the store's eye. */
static int
secrets_add_last4(json_object *o, const char *key_id, size_t n)
{
	return secrets_add_str(o, "key_id_last4", key_id + (n > 4 ? n - 4 : 0));
}

json_object *
secrets_alpaca_doc(const struct secrets *s, const char *uid,
    const struct alpaca_creds *c, struct tp_err *err)
{
	char path[ALPACA_PATH_MAX], now[96];	/* 28 used; room for any tm */
	size_t idlen, seclen, len = 0;
	json_object *doc = NULL, *sealed;
	uint8_t *pt;

	if (secrets_alpaca_path(uid, path, sizeof(path), err) == -1)
		return NULL;
	idlen = secrets_field_len(c->key_id, sizeof(c->key_id));
	seclen = secrets_field_len(c->secret, sizeof(c->secret));
	if (idlen == 0 || seclen == 0) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "the Alpaca %s must be "
		    "1 to %d printable ASCII characters without spaces",
		    idlen == 0 ? "key id" : "secret", ALPACA_FIELD_MAX);
		return NULL;
	}
	if ((pt = sodium_malloc(ALPACA_PT_MAX)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of guarded memory");
		return NULL;
	}
	pt[len++] = ALPACA_FORMAT;
	pt[len++] = (uint8_t)idlen;
	memcpy(pt + len, c->key_id, idlen);
	len += idlen;
	pt[len++] = (uint8_t)seclen;
	memcpy(pt + len, c->secret, seclen);
	len += seclen;
	sealed = secrets_seal(s, path, pt, len, err);
	secrets_wipe_free(pt, ALPACA_PT_MAX);
	if (sealed == NULL)
		return NULL;
	store_timestamp(now, sizeof(now));
	if ((doc = json_object_new_object()) == NULL ||
	    json_object_object_add(doc, "sealed", sealed) != 0) {
		json_object_put(sealed);
		goto oom;
	}
	if (secrets_add_last4(doc, c->key_id, idlen) == -1 ||
	    secrets_add_str(doc, "updated_at", now) == -1)
		goto oom;
	return doc;
oom:
	json_object_put(doc);
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return NULL;
}

/* Splits the sealed plaintext into c; 0 or -1 if it is malformed. */
static int
secrets_alpaca_decode(const uint8_t *pt, size_t len, struct alpaca_creds *c)
{
	size_t idlen, seclen;

	if (len < 3 || pt[0] != ALPACA_FORMAT)
		return -1;
	idlen = pt[1];
	if (idlen == 0 || idlen > ALPACA_FIELD_MAX || len < 2 + idlen + 1)
		return -1;
	seclen = pt[2 + idlen];
	if (seclen == 0 || seclen > ALPACA_FIELD_MAX ||
	    len != 3 + idlen + seclen)
		return -1;
	memcpy(c->key_id, pt + 2, idlen);
	c->key_id[idlen] = '\0';
	memcpy(c->secret, pt + 3 + idlen, seclen);
	c->secret[seclen] = '\0';
	if (secrets_field_len(c->key_id, sizeof(c->key_id)) != idlen ||
	    secrets_field_len(c->secret, sizeof(c->secret)) != seclen)
		return -1;
	return 0;
}

int
secrets_alpaca_open(const struct secrets *s, const char *uid,
    json_object *doc, struct alpaca_creds *c, struct tp_err *err)
{
	char path[ALPACA_PATH_MAX];
	json_object *sealed;
	uint8_t pt[ALPACA_PT_MAX];	/* wiped before returning */
	size_t ptlen = 0;
	int rc;

	if (secrets_alpaca_path(uid, path, sizeof(path), err) == -1)
		return -1;
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "sealed", &sealed))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s has no sealed secret", path);
	rc = secrets_open_into(s, path, sealed, pt, sizeof(pt), &ptlen, err);
	if (rc == 0)
		rc = secrets_alpaca_decode(pt, ptlen, c);
	sodium_memzero(pt, sizeof(pt));
	if (rc == -1 && ptlen == 0)
		return -1;		/* err says why */
	if (rc == -1) {
		secrets_alpaca_wipe(c);
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the sealed secret at %s does not hold Alpaca credentials",
		    path);
	}
	return 0;
}

int
secrets_alpaca_last4(const struct secrets *s, const char *uid,
    json_object *doc, char *out, size_t size, struct tp_err *err)
{
	struct alpaca_creds c;	/* wiped before returning */
	size_t n;
	int rc;

	if (size < 5)
		return tp_err_set(err, TP_INTERNAL, "no room for a key id end");
	out[0] = '\0';
	if ((rc = secrets_alpaca_open(s, uid, doc, &c, err)) == 0) {
		n = strlen(c.key_id);
		memcpy(out, c.key_id + (n > 4 ? n - 4 : 0), (n > 4 ? 4 : n) + 1);
	}
	secrets_alpaca_wipe(&c);
	return rc;
}

void
secrets_alpaca_wipe(struct alpaca_creds *c)
{
	if (c != NULL)
		sodium_memzero(c, sizeof(*c));
}

int
secrets_alpaca_reseal(const struct secrets *s, const char *uid,
    json_object *doc, json_object **out, struct tp_err *err)
{
	struct alpaca_creds *c;
	json_object *fresh = NULL, *copy = NULL, *v;
	int rc = -1;

	*out = NULL;
	if (secrets_check_uid(uid, err) == -1)
		return -1;
	if (json_object_is_type(doc, json_type_object) &&
	    json_object_object_get_ex(doc, "sealed", &v) &&
	    secrets_sealed_version(v) == secrets_current_version(s))
		return 0;
	if ((c = sodium_malloc(sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	if (secrets_alpaca_open(s, uid, doc, c, err) == -1)
		goto done;
	if ((fresh = secrets_alpaca_doc(s, uid, c, err)) == NULL)
		goto done;
	/* Keep the other fields (updated_at is when the tenant set the
	 * keys, which a rotation does not change). */
	if (json_object_deep_copy(doc, &copy, NULL) != 0) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	json_object_object_foreach(fresh, key, val) {
		if (strcmp(key, "updated_at") == 0 &&
		    json_object_object_get_ex(copy, key, NULL))
			continue;
		if (json_object_object_add(copy, key,
		    json_object_get(val)) != 0) {
			json_object_put(val);
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto done;
		}
	}
	*out = copy;
	copy = NULL;
	rc = 1;
done:
	json_object_put(copy);
	json_object_put(fresh);
	secrets_alpaca_wipe(c);
	sodium_free(c);
	return rc;
}
