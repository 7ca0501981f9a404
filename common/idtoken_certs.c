/* idtoken_certs.c: Google's ID token certificates: a file re-read when it changes, or a URL fetched on a thread of its own and cached for its max-age. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/idtoken_int.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/url.h"

#define IDTOKEN_REFETCH_MS	(30 * 1000)
#define IDTOKEN_TIMEOUT_MS	(10 * 1000)
#define IDTOKEN_AGE_DEFAULT_S	3600
#define IDTOKEN_AGE_MAX_S	86400
#define IDTOKEN_STAT_MS		1000	/* a file's mtime is looked at this often */
#define IDTOKEN_URL_MAX		2048

static void
idtoken_set_free(struct idtoken_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		EVP_PKEY_free(s->k[i].pk);
	free(s);
}

/* One PEM certificate's public key: RSA of 2048 bits or more. */
static EVP_PKEY *
idtoken_cert_key(const char *kid, const char *pem, size_t len,
    struct tp_err *err)
{
	BIO *b;
	X509 *x;
	EVP_PKEY *pk = NULL;

	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "out of memory");
		return NULL;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "certificate %s is not "
		    "a PEM X.509 certificate", kid);
		return NULL;
	}
	pk = X509_get_pubkey(x);
	X509_free(x);
	if (pk == NULL || EVP_PKEY_base_id(pk) != EVP_PKEY_RSA ||
	    EVP_PKEY_bits(pk) < 2048) {
		EVP_PKEY_free(pk);
		tp_err_set(err, TP_INVALID_ARGUMENT, "certificate %s does not "
		    "hold an RSA key of 2048 bits or more", kid);
		return NULL;
	}
	return pk;
}

static bool
idtoken_kid_ok(const char *kid)
{
	size_t i, n = strlen(kid);

	if (n == 0 || n > IDTOKEN_KID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)kid[i] <= 0x20 ||
		    (unsigned char)kid[i] >= 0x7f)
			return false;
	return true;
}

static struct idtoken_set *
idtoken_parse_certs(const char *json, size_t len, struct tp_err *err)
{
	struct json_object_iterator it, end;
	struct idtoken_set *s;
	json_object *o, *v;
	const char *kid;

	if (len > IDTOKEN_CERTS_MAX) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "the certificates are "
		    "larger than %d bytes", IDTOKEN_CERTS_MAX);
		return NULL;
	}
	if ((o = json_parse(json, len, err)) == NULL)
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		tp_err_set(err, TP_INVALID_ARGUMENT, "the certificates are not "
		    "a JSON object {kid: PEM certificate}");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		json_object_put(o);
		tp_err_set(err, TP_INTERNAL, "out of memory");
		return NULL;
	}
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		kid = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if (s->n == IDTOKEN_CERTS_COUNT) {
			tp_err_set(err, TP_INVALID_ARGUMENT, "more than %d "
			    "certificates", IDTOKEN_CERTS_COUNT);
			goto fail;
		}
		if (!idtoken_kid_ok(kid)) {
			tp_err_set(err, TP_INVALID_ARGUMENT, "a kid is not 1 to "
			    "%d printable characters", IDTOKEN_KID_MAX);
			goto fail;
		}
		if (!json_object_is_type(v, json_type_string)) {
			tp_err_set(err, TP_INVALID_ARGUMENT, "certificate %s is "
			    "not a string", kid);
			goto fail;
		}
		snprintf(s->k[s->n].kid, sizeof(s->k[s->n].kid), "%s", kid);
		if ((s->k[s->n].pk = idtoken_cert_key(kid,
		    json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), err)) == NULL)
			goto fail;
		s->n++;
	}
	if (s->n == 0) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "no certificate in the "
		    "map");
		goto fail;
	}
	json_object_put(o);
	return s;
fail:
	json_object_put(o);
	idtoken_set_free(s);
	return NULL;
}

int
idtoken_certs_set_json(struct idtoken_certs *c, const char *json, size_t len,
    struct tp_err *err)
{
	struct idtoken_set *s, *old;

	if ((s = idtoken_parse_certs(json, len, err)) == NULL)
		return -1;
	pthread_mutex_lock(&c->mu);
	old = c->set;
	c->set = s;
	pthread_mutex_unlock(&c->mu);
	idtoken_set_free(old);
	return 0;
}

size_t
idtoken_certs_count(struct idtoken_certs *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->set != NULL ? c->set->n : 0;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* --- a file --- */

static int
idtoken_read_file(struct idtoken_certs *c, struct tp_err *err)
{
	struct stat st;
	struct tp_err perr;
	char *buf;
	ssize_t r;
	size_t len = 0;
	int fd, rc;

	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION, "%s",
		    c->path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s: not a "
		    "regular file", c->path);
	}
	if (st.st_size > IDTOKEN_CERTS_MAX) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s: larger "
		    "than %d bytes", c->path, IDTOKEN_CERTS_MAX);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return tp_err_set(err, TP_INTERNAL, "out of memory");
	}
	while (len < (size_t)st.st_size &&
	    (r = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			tp_err_errno(err, TP_FAILED_PRECONDITION, "%s",
			    c->path);
			close(fd);
			free(buf);
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	rc = idtoken_certs_set_json(c, buf, len, &perr);
	free(buf);
	if (rc == -1)
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s: %s",
		    c->path, perr.msg);
	pthread_mutex_lock(&c->mu);
	c->st = st;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* At most once a second: re-read a file that was replaced or changed. */
void
idtoken_file_check(struct idtoken_certs *c)
{
	struct stat st;
	struct tp_err err;
	uint64_t now = clock_mono_ms();
	bool changed;

	pthread_mutex_lock(&c->mu);
	if (c->stat_ms != 0 && now - c->stat_ms < IDTOKEN_STAT_MS) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	c->stat_ms = now;
	changed = stat(c->path, &st) == 0 &&
	    (st.st_ino != c->st.st_ino || st.st_dev != c->st.st_dev ||
	    st.st_size != c->st.st_size ||
	    st.st_mtim.tv_sec != c->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != c->st.st_mtim.tv_nsec);
	pthread_mutex_unlock(&c->mu);
	if (!changed)
		return;
	if (idtoken_read_file(c, &err) == -1)
		log_warnx("idtoken: %s; keeping the certificates held",
		    err.msg);
	else
		log_info("idtoken: certificates re-read from %s (%zu)",
		    c->path, idtoken_certs_count(c));
}

/* --- a URL --- */

/*
 * Where the certificates may come from: https://, or plain http:// only
 * to a loopback address (a test's server), and nothing a log line could
 * be cut with.
 */
static bool
idtoken_url_ok(const char *url)
{
	return url_check(url, IDTOKEN_URL_MAX) != URL_BAD;
}

struct idtoken_reply {
	char	*buf;
	size_t	 len;
	bool	 too_big;
	int64_t	 max_age;	/* -1: none */
};

static size_t
idtoken_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct idtoken_reply *r = arg;
	size_t n = size * nmemb;
	char *p;

	if (r->len + n > IDTOKEN_CERTS_MAX) {
		r->too_big = true;
		return 0;
	}
	if ((p = realloc(r->buf, r->len + n + 1)) == NULL)
		return 0;
	r->buf = p;
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

/* Cache-Control: ..., max-age=N, ... of the last response's headers. */
static size_t
idtoken_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct idtoken_reply *r = arg;
	size_t n = size * nmemb, i;
	char line[512];
	const char *p;
	int64_t v = 0;

	if (n >= sizeof(line))
		return n;
	memcpy(line, data, n);
	line[n] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		r->max_age = -1;	/* a new response (after a 100) */
		return n;
	}
	if (strncasecmp(line, "cache-control:", 14) != 0)
		return n;
	for (p = line + 14; (p = strstr(p, "max-age=")) != NULL; p += 8) {
		if (p != line + 14 && p[-1] != ' ' && p[-1] != ',' &&
		    p[-1] != ':')
			continue;
		for (i = 8, v = 0; p[i] >= '0' && p[i] <= '9' && v < 1000000000;
		    i++)
			v = v * 10 + (p[i] - '0');
		if (i > 8)
			r->max_age = v;
		break;
	}
	return n;
}

/* Ends a fetch in progress when the daemon stops: its exit must not wait
 * for a slow server. */
static int
idtoken_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct idtoken_certs *c = arg;
	bool stop;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	pthread_mutex_lock(&c->mu);
	stop = c->stop;
	pthread_mutex_unlock(&c->mu);
	return stop ? 1 : 0;
}

/* One GET; the set is replaced on success. Returns the max-age in s. */
static int
idtoken_fetch(struct idtoken_certs *c, int64_t *max_age, struct tp_err *err)
{
	struct idtoken_reply r = { .max_age = -1 };
	CURL *h;
	CURLcode cc;
	long status = 0;
	int rc = -1;

	if ((h = curl_easy_init()) == NULL)
		return tp_err_set(err, TP_INTERNAL, "curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, idtoken_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, idtoken_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, idtoken_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	if ((cc = curl_easy_perform(h)) != CURLE_OK) {
		tp_err_set(err, TP_UNAVAILABLE, "%s", r.too_big ?
		    "the reply is too large" : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		tp_err_set(err, TP_UNAVAILABLE, "HTTP status %ld", status);
		goto out;
	}
	if (idtoken_certs_set_json(c, r.buf != NULL ? r.buf : "", r.len,
	    err) == -1)
		goto out;
	*max_age = r.max_age < 0 ? IDTOKEN_AGE_DEFAULT_S :
	    r.max_age < 1 ? 1 : r.max_age > IDTOKEN_AGE_MAX_S ?
	    IDTOKEN_AGE_MAX_S : r.max_age;
	rc = 0;
out:
	curl_easy_cleanup(h);
	free(r.buf);
	return rc;
}

static void
idtoken_deadline(struct timespec *ts, uint64_t mono_ms)
{
	ts->tv_sec = (time_t)(mono_ms / 1000);
	ts->tv_nsec = (long)(mono_ms % 1000) * 1000000L;
}

/* The fetch thread: sleeps until the max-age passes or a fetch is asked. */
static void *
idtoken_main(void *arg)
{
	struct idtoken_certs *c = arg;
	struct timespec ts;
	struct tp_err err;
	int64_t age = 0;
	uint64_t now;
	int rc;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->stop && !c->want && clock_mono_ms() < c->expires_ms) {
			idtoken_deadline(&ts, c->expires_ms);
			pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		}
		if (c->stop)
			break;
		c->want = false;
		c->fetched_ms = clock_mono_ms();
		pthread_mutex_unlock(&c->mu);
		rc = idtoken_fetch(c, &age, &err);
		now = clock_mono_ms();
		if (rc == -1)
			log_warnx("idtoken: certificates from %s: %s; %s", c->url,
			    err.msg, idtoken_certs_count(c) > 0 ?
			    "keeping those held" : "tokens are refused until "
			    "a fetch succeeds");
		else
			log_debug("idtoken: %zu certificates from %s, for %lld s",
			    idtoken_certs_count(c), c->url, (long long)age);
		pthread_mutex_lock(&c->mu);
		c->expires_ms = now + (rc == -1 ? (uint64_t)c->min_refetch_ms :
		    (uint64_t)age * 1000);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* A token named an unknown kid: refetch, at most every min_refetch_ms. */
void
idtoken_want(struct idtoken_certs *c)
{
	uint64_t now = clock_mono_ms();

	if (c->url == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->fetched_ms == 0 ||
	    now - c->fetched_ms >= (uint64_t)c->min_refetch_ms) {
		c->want = true;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
}

int
idtoken_certs_open(const char *source, const struct idtoken_certs_opts *opts,
    struct idtoken_certs **out, struct tp_err *err)
{
	struct idtoken_certs *c;
	pthread_condattr_t ca;
	bool url = strncmp(source, "https://", 8) == 0 ||
	    strncmp(source, "http://", 7) == 0;

	*out = NULL;
	if (url && !idtoken_url_ok(source))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "certs: the URL "
		    "must be https:// (http:// only on a loopback address)");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_INTERNAL, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->min_refetch_ms = opts != NULL && opts->min_refetch_ms > 0 ?
	    opts->min_refetch_ms : IDTOKEN_REFETCH_MS;
	c->timeout_ms = opts != NULL && opts->timeout_ms > 0 ?
	    opts->timeout_ms : IDTOKEN_TIMEOUT_MS;
	if (!url) {
		if ((c->path = strdup(source)) == NULL) {
			idtoken_certs_free(c);
			return tp_err_set(err, TP_INTERNAL, "out of memory");
		}
		if (idtoken_read_file(c, err) == -1) {
			idtoken_certs_free(c);
			return -1;
		}
		c->stat_ms = clock_mono_ms();
		*out = c;
		return 0;
	}
	if ((c->url = strdup(source)) == NULL) {
		idtoken_certs_free(c);
		return tp_err_set(err, TP_INTERNAL, "out of memory");
	}
	if (pthread_create(&c->th, NULL, idtoken_main, c) != 0) {
		idtoken_certs_free(c);
		return tp_err_set(err, TP_INTERNAL, "cannot start the "
		    "certificates' thread");
	}
	c->thread = true;
	*out = c;
	return 0;
}

void
idtoken_certs_free(struct idtoken_certs *c)
{
	if (c == NULL)
		return;
	if (c->thread) {
		pthread_mutex_lock(&c->mu);
		c->stop = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->th, NULL);
	}
	idtoken_set_free(c->set);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->path);
	free(c->url);
	free(c);
}

int
idtoken_certs_reload(struct idtoken_certs *c, struct tp_err *err)
{
	if (c->path != NULL)
		return idtoken_read_file(c, err);
	pthread_mutex_lock(&c->mu);
	c->want = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* The public key for kid, with a reference the caller frees. */
EVP_PKEY *
idtoken_find(struct idtoken_certs *c, const char *kid, bool *any)
{
	EVP_PKEY *pk = NULL;
	size_t i;

	pthread_mutex_lock(&c->mu);
	*any = c->set != NULL;
	for (i = 0; c->set != NULL && i < c->set->n; i++)
		if (strcmp(c->set->k[i].kid, kid) == 0) {
			pk = c->set->k[i].pk;
			EVP_PKEY_up_ref(pk);
			break;
		}
	pthread_mutex_unlock(&c->mu);
	return pk;
}
