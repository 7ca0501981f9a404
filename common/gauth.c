/* gauth.c: Google service-account credentials: the key file loaded, an RS256 JWT signed, the OAuth token fetched, cached and refreshed. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "common/clock.h"
#include "common/gauth.h"
#include "common/gauth_int.h"
#include "common/jsonutil.h"
#include "common/url.h"

#define GAUTH_REPLY_MAX		(64 * 1024)	/* a token reply is < 2 KB */
#define GAUTH_KEY_BITS_MIN	2048
#define GAUTH_URL_MAX		2048
#define GAUTH_GRANT		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3A" \
				"grant-type%3Ajwt-bearer&assertion="

/* Every member Google writes in a key file; anything else is refused. */
static const char *const gauth_file_keys[] = {
	"type", "project_id", "private_key_id", "private_key", "client_email",
	"client_id", "auth_uri", "token_uri", "auth_provider_x509_cert_url",
	"client_x509_cert_url", "universe_domain", NULL
};

static int64_t
gauth_now(const struct gauth *g)
{
	return g->now_ms != NULL ? g->now_ms(g->now_arg) : clock_real_ms();
}

/* True when s has between 1 and max bytes, each in the set allowed. */
static bool
gauth_chars(const char *s, size_t max, const char *allowed)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, allowed) == n;
}

#define GAUTH_ALNUM	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789"

/*
 * An endpoint the JWT may be sent to: https://, or plain http:// only to
 * a loopback address, and nothing a header or a log line could be cut
 * with.
 */
static bool
gauth_url_ok(const char *url, bool loopback_http)
{
	enum url_kind k = url_check(url, GAUTH_URL_MAX);

	return k == URL_HTTPS || (loopback_http && k == URL_LOOPBACK_HTTP);
}

/* Opens, checks and reads the key file into guarded memory. */
static int
gauth_read_file(const char *path, char **buf, size_t *len, struct tp_err *err)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return tp_err_errno(err, TP_UNAVAILABLE,
		    "cannot open credentials file %s", path);
	/* The file that was opened is checked, not the name. */
	if (fstat(fd, &st) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE, "cannot stat %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "credentials file %s is not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "credentials file %s has mode %04o; it must not be readable "
		    "or writable by group or others: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "credentials file %s is owned by uid %u, not by uid %u that "
		    "reads it: chown it to that user", path,
		    (unsigned)st.st_uid, (unsigned)geteuid());
		goto fail;
	}
	if ((*buf = sodium_malloc(GAUTH_FILE_MAX + 1)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of guarded memory");
		goto fail;
	}
	for (;;) {
		n = read(fd, *buf + off, GAUTH_FILE_MAX + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tp_err_errno(err, TP_UNAVAILABLE, "cannot read %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off > GAUTH_FILE_MAX) {
			tp_err_set(err, TP_FAILED_PRECONDITION,
			    "credentials file %s is larger than %d bytes", path,
			    GAUTH_FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	*len = off;
	return 0;
fail:
	if (*buf != NULL) {
		sodium_memzero(*buf, GAUTH_FILE_MAX + 1);
		sodium_free(*buf);
		*buf = NULL;
	}
	close(fd);
	return -1;
}

/* An encrypted key is refused rather than a passphrase asked for. */
static int
gauth_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* Parses the PEM text into an RSA key of GAUTH_KEY_BITS_MIN bits or more. */
static int
gauth_parse_key(struct gauth *g, const char *pem, const char *path,
    struct tp_err *err)
{
	EVP_PKEY_CTX *ctx;
	BIO *bio;
	size_t len = strlen(pem);
	bool ok;

	if (len > GAUTH_FILE_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	g->key = PEM_read_bio_PrivateKey(bio, NULL, gauth_no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (g->key == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: private_key is not an unencrypted "
		    "PEM private key", path);
	if (!EVP_PKEY_is_a(g->key, "RSA"))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: private_key is not an RSA key", path);
	if (EVP_PKEY_get_bits(g->key) < GAUTH_KEY_BITS_MIN)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: private_key has %d bits, fewer than "
		    "%d", path, EVP_PKEY_get_bits(g->key), GAUTH_KEY_BITS_MIN);
	/* A damaged key may still parse: its parts must agree. */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, g->key, NULL);
	ok = ctx != NULL && EVP_PKEY_pairwise_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: private_key fails its consistency "
		    "check", path);
	return 0;
}

static int
gauth_dup(char **dst, const char *src, struct tp_err *err)
{
	if ((*dst = strdup(src)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

/* Checks the file's members and takes what is kept; never shows a value. */
static int
gauth_take(struct gauth *g, json_object *o, const char *path,
    const char *token_url, struct tp_err *err)
{
	struct json_object_iterator it, end;
	const char *bad, *type, *project, *kid, *pem, *email, *uri;

	if (!json_object_is_type(o, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s is not a JSON object", path);
	if ((bad = json_unknown_key(o, gauth_file_keys)) != NULL) {
		char shown[48];

		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s has an unknown member \"%s\"", path,
		    tp_err_shown(bad, shown, sizeof(shown)));
	}
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		if (!json_object_is_type(json_object_iter_peek_value(&it),
		    json_type_string))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "credentials file %s: %s is not a string", path,
			    json_object_iter_peek_name(&it));
	type = json_get_str(o, "type");
	project = json_get_str(o, "project_id");
	kid = json_get_str(o, "private_key_id");
	pem = json_get_str(o, "private_key");
	email = json_get_str(o, "client_email");
	uri = json_get_str(o, "token_uri");
	if (type == NULL || project == NULL || kid == NULL || pem == NULL ||
	    email == NULL || uri == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s needs type, project_id, private_key_id, "
		    "private_key, client_email and token_uri", path);
	if (strcmp(type, "service_account") != 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: type is not \"service_account\"", path);
	if (!gauth_chars(project, 100, "abcdefghijklmnopqrstuvwxyz0123456789-.:"))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: project_id is not a project id", path);
	if (!gauth_chars(kid, 128, GAUTH_ALNUM "_-"))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: private_key_id is not a key id", path);
	if (!gauth_chars(email, 254, GAUTH_ALNUM "@._+-") ||
	    strchr(email, '@') == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: client_email is not an address", path);
	if (!gauth_url_ok(uri, false))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s: token_uri is not an https:// URL",
		    path);
	if (token_url != NULL && !gauth_url_ok(token_url, true))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "token endpoint is neither https:// nor http:// on a "
		    "loopback address");
	if (gauth_parse_key(g, pem, path, err) == -1)
		return -1;
	if (gauth_dup(&g->project_id, project, err) == -1 ||
	    gauth_dup(&g->key_id, kid, err) == -1 ||
	    gauth_dup(&g->client_email, email, err) == -1 ||
	    gauth_dup(&g->token_url, token_url != NULL ? token_url : uri,
	    err) == -1)
		return -1;
	return 0;
}

int
gauth_load(const char *path, const struct gauth_opts *opts, struct gauth **out,
    struct tp_err *err)
{
	struct gauth *g;
	json_object *o;
	char *buf;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->done, NULL);
	g->early_ms = opts != NULL && opts->early_ms > 0 ? opts->early_ms :
	    GAUTH_EARLY_MS;
	g->retry_ms = opts != NULL && opts->retry_ms > 0 ? opts->retry_ms :
	    GAUTH_RETRY_MS;
	g->timeout_ms = opts != NULL && opts->timeout_ms > 0 ?
	    opts->timeout_ms : GAUTH_TIMEOUT_MS;
	if (opts != NULL) {
		g->now_ms = opts->now_ms;
		g->now_arg = opts->now_arg;
	}
	if (gauth_read_file(path, &buf, &len, err) == -1) {
		gauth_free(g);
		return -1;
	}
	o = json_parse(buf, len, err);
	sodium_memzero(buf, GAUTH_FILE_MAX + 1);
	sodium_free(buf);
	if (o == NULL) {
		/* json_parse's message may quote the text: say only where. */
		tp_err_set(err, TP_INVALID_ARGUMENT,
		    "credentials file %s is not valid JSON", path);
		gauth_free(g);
		return -1;
	}
	rc = gauth_take(g, o, path, opts != NULL ? opts->token_url : NULL, err);
	/* The PEM text's only copy left is json-c's: wipe it. */
	json_wipe_string(json_object_object_get(o, "private_key"));
	json_object_put(o);
	if (rc == -1) {
		gauth_free(g);
		return -1;
	}
	*out = g;
	return 0;
}

static void
gauth_free_str(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

void
gauth_free(struct gauth *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	while (g->refreshing)
		pthread_cond_wait(&g->done, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (g->thread_live)
		pthread_join(g->thread, NULL);
	EVP_PKEY_free(g->key);
	gauth_free_str(g->project_id);
	gauth_free_str(g->client_email);
	gauth_free_str(g->key_id);
	gauth_free_str(g->token_url);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->done);
	sodium_memzero(g, sizeof(*g));
	free(g);
}

const char *
gauth_project(const struct gauth *g)
{
	return g->project_id;
}

const char *
gauth_email(const struct gauth *g)
{
	return g->client_email;
}

/* Appends the base64url (no padding) form of len bytes at *p. */
static void
gauth_b64(char **p, const void *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	sodium_bin2base64(*p, cap, bin, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*p += strlen(*p);
}

/*
 * The request body: the grant type and an RS256 JWT, header {alg, typ,
 * kid}, claims {iss, scope, aud, iat, exp}, signed with the key.
 * *body is malloc'd; the caller wipes it.
 */
static int
gauth_body(struct gauth *g, int64_t now_s, char **body, size_t *blen,
    struct tp_err *err)
{
	json_object *hdr, *cl;
	const char *htext, *ctext;
	size_t hlen, clen, cap, siglen = 0, inlen;
	unsigned char *sig = NULL;
	EVP_MD_CTX *md = NULL;
	char *p, *in;
	int rc = -1;

	*body = NULL;
	hdr = json_object_new_object();
	cl = json_object_new_object();
	if (json_add(hdr, "alg", json_object_new_string("RS256")) == -1 ||
	    json_add(hdr, "typ", json_object_new_string("JWT")) == -1 ||
	    json_add(hdr, "kid", json_object_new_string(g->key_id)) == -1 ||
	    json_add(cl, "iss", json_object_new_string(g->client_email)) == -1 ||
	    json_add(cl, "scope", json_object_new_string(GAUTH_SCOPE)) == -1 ||
	    json_add(cl, "aud", json_object_new_string(g->token_url)) == -1 ||
	    json_add(cl, "iat", json_object_new_int64(now_s)) == -1 ||
	    json_add(cl, "exp", json_object_new_int64(now_s +
	    GAUTH_JWT_LIFETIME_S)) == -1 ||
	    (htext = json_compact(hdr, &hlen)) == NULL ||
	    (ctext = json_compact(cl, &clen)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g->key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, NULL, 0) != 1 ||
	    (sig = malloc(siglen)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "cannot start an RS256 signature");
		goto out;
	}
	cap = sizeof(GAUTH_GRANT) +
	    sodium_base64_ENCODED_LEN(hlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING) +
	    sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_URLSAFE_NO_PADDING) +
	    sodium_base64_ENCODED_LEN(siglen, sodium_base64_VARIANT_URLSAFE_NO_PADDING) + 2;
	if ((*body = malloc(cap)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	memcpy(*body, GAUTH_GRANT, sizeof(GAUTH_GRANT));
	in = p = *body + sizeof(GAUTH_GRANT) - 1;
	gauth_b64(&p, htext, hlen);
	*p++ = '.';
	gauth_b64(&p, ctext, clen);
	inlen = (size_t)(p - in);
	if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)in,
	    inlen) != 1) {
		tp_err_set(err, TP_INTERNAL, "the RS256 signature failed");
		goto out;
	}
	*p++ = '.';
	gauth_b64(&p, sig, siglen);
	*blen = (size_t)(p - *body);
	rc = 0;
out:
	if (rc == -1 && *body != NULL) {
		free(*body);
		*body = NULL;
	}
	ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(md);
	json_object_put(hdr);
	json_object_put(cl);
	return rc;
}

struct gauth_reply {
	char	buf[GAUTH_REPLY_MAX + 1];
	size_t	len;
};

static size_t
gauth_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct gauth_reply *r = arg;
	size_t n = size * nmemb;

	if (n > GAUTH_REPLY_MAX - r->len)
		return 0;	/* too long: libcurl ends the transfer */
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return n;
}

/* The reply of a refusal: OAuth's "error" code when it is one, else "". */
static const char *
gauth_oauth_error(const struct gauth_reply *r)
{
	static const char *const codes[] = {
		"invalid_grant", "invalid_client", "invalid_request",
		"invalid_scope", "unauthorized_client",
		"unsupported_grant_type", "access_denied", NULL
	};
	struct tp_err perr;
	json_object *o;
	const char *e, *found = "";
	size_t i;

	if ((o = json_parse(r->buf, r->len, &perr)) == NULL)
		return "";
	if ((e = json_get_str(o, "error")) != NULL)
		for (i = 0; codes[i] != NULL; i++)
			if (strcmp(e, codes[i]) == 0)
				found = codes[i];
	json_object_put(o);
	return found;
}

/* A 200 reply: {access_token, expires_in, token_type: Bearer}. */
static int
gauth_parse_reply(struct gauth_reply *r, char *tok, int64_t *expires_s,
    struct tp_err *err)
{
	struct tp_err perr;
	json_object *o, *at;
	const char *s, *type;
	size_t n;
	int rc = -1;

	if ((o = json_parse(r->buf, r->len, &perr)) == NULL)
		return tp_err_set(err, TP_UNAVAILABLE,
		    "token endpoint's reply is not JSON");
	at = json_object_is_type(o, json_type_object) ?
	    json_object_object_get(o, "access_token") : NULL;
	s = json_object_is_type(at, json_type_string) ?
	    json_object_get_string(at) : NULL;
	type = json_get_str(o, "token_type");
	if (s == NULL || type == NULL ||
	    !json_get_int(o, "expires_in", expires_s)) {
		tp_err_set(err, TP_UNAVAILABLE, "token endpoint's reply lacks "
		    "access_token, expires_in or token_type");
		goto out;
	}
	if (strcasecmp(type, "Bearer") != 0) {
		tp_err_set(err, TP_UNAVAILABLE,
		    "token endpoint's token is not a Bearer token");
		goto out;
	}
	if (*expires_s < 1 || *expires_s > 86400) {
		tp_err_set(err, TP_UNAVAILABLE,
		    "token endpoint's expires_in is out of range");
		goto out;
	}
	n = strlen(s);
	if (n == 0 || n >= GAUTH_TOKEN_MAX ||
	    !gauth_chars(s, n, GAUTH_ALNUM "-._~+/=")) {
		tp_err_set(err, TP_UNAVAILABLE,
		    "token endpoint's access_token is not a token");
		goto out;
	}
	memcpy(tok, s, n + 1);
	rc = 0;
out:
	json_wipe_string(at);
	json_object_put(o);
	return rc;
}

/*
 * One token request: the JWT posted, the reply read. Uses only what
 * gauth_load set, so it runs without the lock. tok gets the token.
 */
static int
gauth_fetch(struct gauth *g, int64_t now_ms, char *tok, int64_t *expires_s,
    struct tp_err *err)
{
	struct curl_slist *hdrs = NULL, *h;
	struct gauth_reply *r;
	char *body = NULL;
	size_t blen = 0;
	long status = 0;
	CURLcode cc;
	CURL *c = NULL;
	int rc = -1;

	if ((r = sodium_malloc(sizeof(*r))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	r->len = 0;
	if (gauth_body(g, now_ms / 1000, &body, &blen, err) == -1)
		goto out;
	if ((c = curl_easy_init()) == NULL ||
	    (h = curl_slist_append(hdrs, "Content-Type: "
	    "application/x-www-form-urlencoded")) == NULL ||
	    (hdrs = h, h = curl_slist_append(hdrs,
	    "Accept: application/json")) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	hdrs = h;
	curl_easy_setopt(c, CURLOPT_URL, g->token_url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gauth_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, g->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tradepulse");
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		tp_err_set(err, TP_UNAVAILABLE, "token endpoint: %s%s",
		    curl_easy_strerror(cc), cc == CURLE_WRITE_ERROR ?
		    " (reply too long)" : "");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		rc = gauth_parse_reply(r, tok, expires_s, err);
	else if (status == 400 || status == 401 || status == 403) {
		const char *code = gauth_oauth_error(r);

		tp_err_set(err, TP_UNAUTHENTICATED, "token endpoint refused "
		    "the service account's JWT: HTTP %ld%s%s", status,
		    *code != '\0' ? ", " : "", code);
	} else
		tp_err_set(err, TP_UNAVAILABLE,
		    "token endpoint answered HTTP %ld", status);
out:
	if (body != NULL) {
		sodium_memzero(body, blen);
		free(body);
	}
	curl_slist_free_all(hdrs);
	if (c != NULL)
		curl_easy_cleanup(c);
	sodium_memzero(r, sizeof(*r));
	sodium_free(r);
	return rc;
}

/*
 * One refresh, with g->refreshing set by the caller and mu not held: the
 * request, then its outcome published under the lock.
 */
static void
gauth_refresh(struct gauth *g)
{
	char tok[GAUTH_TOKEN_MAX];
	struct tp_err ferr;
	int64_t start = gauth_now(g), expires_s = 0;
	int rc;

	tp_err_clear(&ferr);
	rc = gauth_fetch(g, start, tok, &expires_s, &ferr);
	pthread_mutex_lock(&g->mu);
	g->requests++;
	if (rc == 0) {
		memcpy(g->token, tok, strlen(tok) + 1);
		/* Counted from before the request: never later than Google's. */
		g->expires_ms = start + expires_s * 1000;
		g->failed_ms = 0;
	} else {
		g->failed_ms = gauth_now(g);
		if (g->failed_ms == 0)
			g->failed_ms = 1;
		g->last_err = ferr;
	}
	g->refreshing = false;
	g->generation++;
	pthread_cond_broadcast(&g->done);
	pthread_mutex_unlock(&g->mu);
	sodium_memzero(tok, sizeof(tok));
}

static void *
gauth_refresh_main(void *arg)
{
	gauth_refresh(arg);
	return NULL;
}

/* Under mu: a refresh on a thread of its own, unless one runs already
 * or the last one failed less than retry_ms ago. */
static void
gauth_start_refresh(struct gauth *g, int64_t now)
{
	if (g->refreshing ||
	    (g->failed_ms != 0 && now - g->failed_ms < g->retry_ms))
		return;
	if (g->thread_live) {
		/* It has ended (refreshing is false): this does not wait. */
		pthread_join(g->thread, NULL);
		g->thread_live = false;
	}
	g->refreshing = true;
	if (pthread_create(&g->thread, NULL, gauth_refresh_main, g) != 0) {
		g->refreshing = false;	/* the next call tries again */
		return;
	}
	g->thread_live = true;
}

static int
gauth_copy(const struct gauth *g, char *buf, size_t size, struct tp_err *err)
{
	size_t n = strlen(g->token);

	if (n >= size)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "a buffer of %zu bytes cannot hold the access token", size);
	memcpy(buf, g->token, n + 1);
	return 0;
}

int
gauth_token(struct gauth *g, char *buf, size_t size, struct tp_err *err)
{
	uint64_t gen;
	int64_t now;
	int rc;

	pthread_mutex_lock(&g->mu);
	gen = g->generation;
	for (;;) {
		now = gauth_now(g);
		if (g->expires_ms > now) {
			if (now >= g->expires_ms - g->early_ms)
				gauth_start_refresh(g, now);
			rc = gauth_copy(g, buf, size, err);
			break;
		}
		if (g->generation != gen ||
		    (g->failed_ms != 0 && now - g->failed_ms < g->retry_ms)) {
			/* The request this call waited for, or a recent one,
			 * failed: its error, without another request. */
			if (err != NULL)
				*err = g->last_err;
			rc = -1;
			break;
		}
		if (g->refreshing) {
			pthread_cond_wait(&g->done, &g->mu);
			continue;
		}
		g->refreshing = true;
		pthread_mutex_unlock(&g->mu);
		gauth_refresh(g);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}
