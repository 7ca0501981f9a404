/* idtoken.c: Firebase ID tokens verified as the Admin SDKs do: the form, RS256 over Google's certificates (idtoken_certs.c), the claims. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "common/idtoken_int.h"
#include "common/jsonutil.h"
#include "common/path.h"

#define IDTOKEN_ISS		"https://securetoken.google.com/"

/* Decodes one base64url segment (no padding) into a new buffer. */
static unsigned char *
idtoken_b64(const char *s, size_t len, size_t *out_len)
{
	unsigned char *bin;
	const char *end = NULL;
	size_t n = 0;

	if ((bin = malloc(len + 1)) == NULL)
		return NULL;
	if (sodium_base642bin(bin, len + 1, s, len, NULL, &n, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + len) {
		free(bin);
		return NULL;
	}
	*out_len = n;
	return bin;
}

/* A segment decoded and parsed as a JSON object, or NULL with why. */
static json_object *
idtoken_json(const char *s, size_t len, const char *what, struct tp_err *err)
{
	unsigned char *bin;
	json_object *o;
	size_t n;
	struct tp_err perr;

	if ((bin = idtoken_b64(s, len, &n)) == NULL) {
		tp_err_set(err, TP_UNAUTHENTICATED, "the %s is not base64url",
		    what);
		return NULL;
	}
	o = json_parse((const char *)bin, n, &perr);
	free(bin);
	if (o == NULL) {
		tp_err_set(err, TP_UNAUTHENTICATED, "the %s is not JSON: %s",
		    what, perr.msg);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		tp_err_set(err, TP_UNAUTHENTICATED, "the %s is not a JSON "
		    "object", what);
		return NULL;
	}
	return o;
}

/* RS256: RSASSA-PKCS1-v1_5 with SHA-256 over "header.payload". */
static int
idtoken_check_sig(EVP_PKEY *pk, const char *signed_part, size_t slen,
    const char *sig64, size_t sig64_len, struct tp_err *err)
{
	unsigned char *sig;
	size_t siglen;
	EVP_MD_CTX *md;
	int ok = 0;

	if ((sig = idtoken_b64(sig64, sig64_len, &siglen)) == NULL)
		return tp_err_set(err, TP_UNAUTHENTICATED, "the signature is "
		    "not base64url");
	if (siglen != (size_t)EVP_PKEY_size(pk)) {
		free(sig);
		return tp_err_set(err, TP_UNAUTHENTICATED, "the signature is "
		    "%zu bytes, not %d", siglen, EVP_PKEY_size(pk));
	}
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1)
		ok = EVP_DigestVerify(md, sig, siglen,
		    (const unsigned char *)signed_part, slen) == 1;
	EVP_MD_CTX_free(md);
	free(sig);
	return ok ? 0 : tp_err_set(err, TP_UNAUTHENTICATED, "bad signature");
}

/* A NumericDate claim that must be there, as an integer. */
static int
idtoken_time(json_object *p, const char *name, int64_t *out,
    struct tp_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(p, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return tp_err_set(err, TP_UNAUTHENTICATED, "claim %s is "
		    "missing or not an integer", name);
	*out = json_object_get_int64(v);
	return 0;
}

static const char *
idtoken_str(json_object *o, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		return NULL;
	return json_object_get_string(v);
}

static int
idtoken_claims(json_object *p, const char *project_id, int64_t now_s,
    char *uid_out, size_t uid_size, struct tp_err *err)
{
	int64_t exp, iat, auth_time;
	const char *aud, *iss, *sub;
	size_t plen = strlen(IDTOKEN_ISS);

	if (idtoken_time(p, "exp", &exp, err) == -1 ||
	    idtoken_time(p, "iat", &iat, err) == -1 ||
	    idtoken_time(p, "auth_time", &auth_time, err) == -1)
		return -1;
	if (exp <= now_s - IDTOKEN_SKEW_S)
		return tp_err_set(err, TP_UNAUTHENTICATED, "expired %lld s "
		    "ago", (long long)(now_s - exp));
	if (iat > now_s + IDTOKEN_SKEW_S)
		return tp_err_set(err, TP_UNAUTHENTICATED, "iat is %lld s in "
		    "the future", (long long)(iat - now_s));
	if (auth_time > now_s + IDTOKEN_SKEW_S)
		return tp_err_set(err, TP_UNAUTHENTICATED, "auth_time is %lld "
		    "s in the future", (long long)(auth_time - now_s));
	if ((aud = idtoken_str(p, "aud")) == NULL ||
	    strcmp(aud, project_id) != 0)
		return tp_err_set(err, TP_UNAUTHENTICATED, "aud is not the "
		    "project %s", project_id);
	if ((iss = idtoken_str(p, "iss")) == NULL ||
	    strncmp(iss, IDTOKEN_ISS, plen) != 0 ||
	    strcmp(iss + plen, project_id) != 0)
		return tp_err_set(err, TP_UNAUTHENTICATED, "iss is not "
		    IDTOKEN_ISS "%s", project_id);
	if ((sub = idtoken_str(p, "sub")) == NULL || *sub == '\0')
		return tp_err_set(err, TP_UNAUTHENTICATED, "sub is missing or "
		    "empty");
	if (strlen(sub) > UID_MAX_LEN)
		return tp_err_set(err, TP_UNAUTHENTICATED, "sub is longer than "
		    "%d characters", UID_MAX_LEN);
	if (!path_valid_uid(sub))
		return tp_err_set(err, TP_UNAUTHENTICATED, "sub is not a valid "
		    "uid for the store");
	if (strlen(sub) >= uid_size)
		return tp_err_set(err, TP_INTERNAL, "uid buffer too small");
	memcpy(uid_out, sub, strlen(sub) + 1);
	return 0;
}

int
idtoken_verify(struct idtoken_certs *c, const char *token,
    const char *project_id, int64_t now_s, bool accept_emulator,
    char *uid_out, size_t uid_size, struct tp_err *err)
{
	json_object *h = NULL, *p = NULL;
	const char *dot1, *dot2, *alg, *kid;
	size_t len;
	EVP_PKEY *pk = NULL;
	bool any;
	int rc = -1;

	if (project_id == NULL || *project_id == '\0')
		return tp_err_set(err, TP_UNAUTHENTICATED, "no "
		    "firebase_project_id is configured");
	if ((len = strnlen(token, IDTOKEN_MAX + 1)) > IDTOKEN_MAX)
		return tp_err_set(err, TP_UNAUTHENTICATED, "longer than %d "
		    "bytes", IDTOKEN_MAX);
	if ((dot1 = strchr(token, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    strchr(dot2 + 1, '.') != NULL)
		return tp_err_set(err, TP_UNAUTHENTICATED, "not three "
		    "segments");
	if ((h = idtoken_json(token, (size_t)(dot1 - token), "header",
	    err)) == NULL ||
	    (p = idtoken_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload",
	    err)) == NULL)
		goto out;
	if ((alg = idtoken_str(h, "alg")) == NULL) {
		tp_err_set(err, TP_UNAUTHENTICATED, "no alg");
		goto out;
	}
	if (strcmp(alg, "none") == 0) {
		if (!accept_emulator) {
			tp_err_set(err, TP_UNAUTHENTICATED, "alg none (an "
			    "unsigned emulator token) and accept_emulator_tokens "
			    "is off");
			goto out;
		}
		if (dot2[1] != '\0') {
			tp_err_set(err, TP_UNAUTHENTICATED, "alg none with a "
			    "signature");
			goto out;
		}
	} else if (strcmp(alg, "RS256") != 0) {
		tp_err_set(err, TP_UNAUTHENTICATED, "alg is not RS256");
		goto out;
	} else {
		if ((kid = idtoken_str(h, "kid")) == NULL || *kid == '\0') {
			tp_err_set(err, TP_UNAUTHENTICATED, "no kid");
			goto out;
		}
		if (c == NULL) {
			tp_err_set(err, TP_UNAUTHENTICATED, "no [auth] certs "
			    "are configured");
			goto out;
		}
		if (c->path != NULL)
			idtoken_file_check(c);
		if ((pk = idtoken_find(c, kid, &any)) == NULL) {
			idtoken_want(c);
			if (any)
				tp_err_set(err, TP_UNAUTHENTICATED, "unknown "
				    "kid (not in the certificates held)");
			else
				tp_err_set(err, TP_UNAUTHENTICATED, "no "
				    "certificates are held yet");
			goto out;
		}
		if (idtoken_check_sig(pk, token, (size_t)(dot2 - token),
		    dot2 + 1, len - (size_t)(dot2 + 1 - token), err) == -1)
			goto out;
	}
	rc = idtoken_claims(p, project_id, now_s, uid_out, uid_size, err);
out:
	EVP_PKEY_free(pk);
	json_object_put(h);
	json_object_put(p);
	return rc;
}
