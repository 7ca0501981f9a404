/* alpaca_curl.c: the Alpaca client's transfers: libcurl multi, one attempt, retries, 429, the outcome. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "common/api.h"
#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/pnl.h"
#include "worker/alpaca.h"
#include "worker/alpaca_int.h"

/* --- the file descriptor table libcurl keeps through its callback --- */

static struct alpaca_fd *
alpaca_fd_find(struct alpaca *a, curl_socket_t fd)
{
	size_t i;

	for (i = 0; i < a->nfds; i++)
		if (a->fds[i].fd == fd)
			return &a->fds[i];
	return NULL;
}

int
alpaca_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct alpaca *a = userp;
	struct alpaca_fd *f, *nf;
	size_t ncap;

	(void)easy;
	(void)socketp;
	f = alpaca_fd_find(a, fd);
	if (what == CURL_POLL_REMOVE) {
		if (f != NULL)
			*f = a->fds[--a->nfds];
		return 0;
	}
	if (f == NULL) {
		if (a->nfds == a->capfds) {
			/* bounded by RLIMIT_NOFILE: every entry is an fd */
			ncap = a->capfds == 0 ? 16 : a->capfds * 2;
			if ((nf = reallocarray(a->fds, ncap, sizeof(*nf))) ==
			    NULL)
				return -1;
			a->fds = nf;
			a->capfds = ncap;
		}
		f = &a->fds[a->nfds++];
		f->fd = fd;
	}
	f->what = what;
	return 0;
}

int
alpaca_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct alpaca *a = userp;

	(void)multi;
	a->timer = timeout_ms < 0 ? -1 :
	    (int64_t)(clock_mono_ms() + (uint64_t)timeout_ms);
	return 0;
}

size_t
alpaca_pollfds(struct alpaca *a, struct pollfd *fds, size_t max)
{
	size_t i;

	for (i = 0; i < a->nfds && i < max; i++) {
		fds[i].fd = a->fds[i].fd;
		fds[i].events = 0;
		fds[i].revents = 0;
		if (a->fds[i].what & CURL_POLL_IN)
			fds[i].events |= POLLIN;
		if (a->fds[i].what & CURL_POLL_OUT)
			fds[i].events |= POLLOUT;
	}
	return a->nfds;
}

void
alpaca_ready(struct alpaca *a, int fd, short revents)
{
	int mask = 0, running;

	if (revents & POLLIN)
		mask |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		mask |= CURL_CSELECT_ERR;
	if (mask != 0)
		curl_multi_socket_action(a->multi, fd, mask, &running);
}

int64_t
alpaca_timeout(struct alpaca *a, uint64_t now)
{
	struct alpaca_req *r;
	int64_t next = a->timer;

	if (!TAILQ_EMPTY(&a->done))
		return 0;
	/* when libcurl is full, a transfer ending makes room: its socket
	 * or libcurl's timer wakes the loop */
	if (a->nrunning < ALPACA_RUNNING_MAX)
		TAILQ_FOREACH(r, &a->waiting, entry)
			if (next < 0 || (int64_t)r->start_at < next)
				next = (int64_t)r->start_at;
	if (next < 0)
		return -1;
	return next > (int64_t)now ? next - (int64_t)now : 0;
}

size_t
alpaca_pending(const struct alpaca *a)
{
	return a->npending;
}

/* --- one attempt --- */

static size_t
alpaca_write_cb(char *p, size_t size, size_t nmemb, void *userp)
{
	struct alpaca_req *r = userp;
	size_t n = size * nmemb, ncap;
	char *nb;

	/* the body is bounded here: Content-Length is not trusted */
	if (n > ALPACA_REPLY_MAX - r->len) {
		r->too_large = true;
		return 0;
	}
	if (r->len + n > r->cap) {
		ncap = r->cap == 0 ? ALPACA_BODY_MIN : r->cap;
		while (ncap < r->len + n)
			ncap *= 2;
		if (ncap > ALPACA_REPLY_MAX)
			ncap = ALPACA_REPLY_MAX;
		if ((nb = realloc(r->body, ncap)) == NULL) {
			r->oom = true;
			return 0;
		}
		r->body = nb;
		r->cap = ncap;
	}
	memcpy(r->body + r->len, p, n);
	r->len += n;
	return n;
}

/* Only X-RateLimit-Reset is read; a new status line starts afresh. */
static size_t
alpaca_header_cb(char *p, size_t size, size_t nmemb, void *userp)
{
	static const char name[] = "x-ratelimit-reset:";
	struct alpaca_req *r = userp;
	size_t n = size * nmemb, i;
	int64_t v = 0;
	int digits = 0;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		r->reset = -1;
	if (n > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) ==
	    0) {
		for (i = sizeof(name) - 1; i < n && (p[i] == ' ' ||
		    p[i] == '\t'); i++)
			;
		for (; i < n && p[i] >= '0' && p[i] <= '9' && digits < 12;
		    i++, digits++)
			v = v * 10 + (p[i] - '0');
		if (digits > 0 && (i == n || p[i] == '\r' || p[i] == '\n' ||
		    p[i] == ' '))
			r->reset = v;
	}
	return n;
}

/* Wipes and frees a header list: it holds the secret. */
static void
alpaca_wipe_slist(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static struct curl_slist *
alpaca_headers(const struct alpaca_call *c)
{
	struct curl_slist *l = NULL, *n;
	char line[64 + ALPACA_KEY_MAX];
	int len;

	if ((n = curl_slist_append(l, "Accept: application/json")) == NULL)
		return NULL;
	l = n;
	len = snprintf(line, sizeof(line), "APCA-API-KEY-ID: %s", c->key_id);
	if (len < 0 || (size_t)len >= sizeof(line) ||
	    (n = curl_slist_append(l, line)) == NULL)
		goto fail;
	l = n;
	len = snprintf(line, sizeof(line), "APCA-API-SECRET-KEY: %s",
	    c->secret);
	if (len < 0 || (size_t)len >= sizeof(line) ||
	    (n = curl_slist_append(l, line)) == NULL)
		goto fail;
	l = n;
	sodium_memzero(line, sizeof(line));
	return l;
fail:
	sodium_memzero(line, sizeof(line));
	alpaca_wipe_slist(l);
	return NULL;
}

/* Each new TLS connection verifies against the one parsed store. */
static CURLcode
alpaca_ssl_ctx_cb(CURL *easy, void *sslctx, void *userp)
{
	struct alpaca *a = userp;

	(void)easy;
	SSL_CTX_set1_cert_store(sslctx, a->store);
	return CURLE_OK;
}

/* Parses the PEM bundle once; every certificate in it is trusted. */
int
alpaca_store(struct alpaca *a, const void *pem, size_t len, struct tp_err *err)
{
	STACK_OF(X509_INFO) *infos;
	X509_INFO *xi;
	BIO *bio;
	int i, n = 0;

	if (len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "cannot read the CA "
		    "certificates");
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (infos == NULL || (a->store = X509_STORE_new()) == NULL) {
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
		return tp_err_set(err, TP_INTERNAL, "cannot parse the CA "
		    "certificates");
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 != NULL && X509_STORE_add_cert(a->store,
		    xi->x509) == 1)
			n++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (n == 0)
		return tp_err_set(err, TP_INTERNAL, "no CA certificate in the "
		    "bundle");
	/* what libcurl sets on its own stores */
	X509_STORE_set_flags(a->store, X509_V_FLAG_TRUSTED_FIRST |
	    X509_V_FLAG_PARTIAL_CHAIN);
	return 0;
}

/* Ends the attempt in flight: the handle, its headers, its body. */
void
alpaca_end_attempt(struct alpaca_req *r)
{
	struct alpaca *a = r->a;

	if (r->easy != NULL) {
		curl_multi_remove_handle(a->multi, r->easy);
		/* kept for the next attempt of any request: no new buffers */
		if (a->nidle < ALPACA_RUNNING_MAX) {
			curl_easy_reset(r->easy);
			a->idle[a->nidle++] = r->easy;
		} else
			curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	alpaca_wipe_slist(r->hdrs);
	r->hdrs = NULL;
}

static void
alpaca_log(struct alpaca_req *r, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
alpaca_log(struct alpaca_req *r, const char *level, const char *fmt, ...)
{
	char msg[TP_ERR_MSG_MAX + 64];
	va_list ap;

	if (r->call.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->call.log(r->call.log_arg, level, "alpaca", msg);
}

/* The request ends with err (already set in r->err) or r->reply. */
static void
alpaca_settle(struct alpaca_req *r)
{
	struct alpaca *a = r->a;

	if (r->state == ALPACA_WAITING)
		TAILQ_REMOVE(&a->waiting, r, entry);
	else if (r->state == ALPACA_RUNNING) {
		TAILQ_REMOVE(&a->running, r, entry);
		a->nrunning--;
	}
	alpaca_end_attempt(r);
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
	if (r->reply == NULL)
		alpaca_log(r, "error", "%s", r->err.msg);
	r->state = ALPACA_DONE;
	TAILQ_INSERT_TAIL(&a->done, r, entry);
}

static void
alpaca_fail(struct alpaca_req *r, enum tp_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
alpaca_fail(struct alpaca_req *r, enum tp_code code, const char *fmt, ...)
{
	va_list ap;

	r->err.code = code;
	va_start(ap, fmt);
	vsnprintf(r->err.msg, sizeof(r->err.msg), fmt, ap);
	va_end(ap);
	alpaca_settle(r);
}

/* Back to WAITING until at. */
static void
alpaca_wait(struct alpaca_req *r, uint64_t at)
{
	struct alpaca *a = r->a;

	if (r->state == ALPACA_RUNNING) {
		TAILQ_REMOVE(&a->running, r, entry);
		a->nrunning--;
		TAILQ_INSERT_TAIL(&a->waiting, r, entry);
	}
	r->state = ALPACA_WAITING;
	r->start_at = at;
}

/* Starts an attempt now, or waits for a token, or fails for lack of
 * time. */
void
alpaca_start(struct alpaca_req *r, uint64_t now)
{
	struct alpaca *a = r->a;
	uint64_t left, wait;
	CURL *e;
	CURLMcode mc;
	bool ok;

	if (r->call.deadline <= now + ALPACA_MIN_LEFT_MS) {
		alpaca_fail(r, TP_UNAVAILABLE, "Alpaca did not answer within "
		    "the job's deadline (%s, %u attempt%s)", r->what,
		    r->attempt, r->attempt == 1 ? "" : "s");
		return;
	}
	left = r->call.deadline - now;
	if (r->call.bucket != NULL &&
	    (wait = alpaca_bucket_take(r->call.bucket, now)) > 0) {
		if (wait + ALPACA_MIN_LEFT_MS >= left) {
			alpaca_fail(r, TP_RESOURCE_EXHAUSTED, "the limit of %"
			    PRIu32 " Alpaca requests per minute leaves no "
			    "request for %s before the job's deadline",
			    r->call.bucket->per_minute, r->what);
			return;
		}
		alpaca_wait(r, now + wait);
		return;
	}
	r->timeout_ms = left < ALPACA_TIMEOUT_MS ? left : ALPACA_TIMEOUT_MS;
	r->clipped = left <= ALPACA_TIMEOUT_MS;
	r->len = 0;
	r->too_large = r->oom = false;
	r->reset = -1;
	r->errbuf[0] = '\0';
	e = a->nidle > 0 ? a->idle[--a->nidle] : curl_easy_init();
	if (e != NULL)
		r->easy = e;
	if ((r->hdrs = alpaca_headers(&r->call)) == NULL || e == NULL) {
		alpaca_fail(r, TP_RESOURCE_EXHAUSTED, "out of memory for %s",
		    r->what);
		return;
	}
	ok = curl_easy_setopt(e, CURLOPT_URL, r->url) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    /* no proxy from the environment, no netrc */
	    curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED) ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_USERAGENT, ALPACA_UA) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 0L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms) ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(r->timeout_ms < ALPACA_CONNECT_MS ? r->timeout_ms :
	    ALPACA_CONNECT_MS)) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
	    (long)ALPACA_LOW_SPEED_BYTES) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
	    (long)ALPACA_LOW_SPEED_S) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)ALPACA_REPLY_MAX) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, alpaca_write_cb) ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, alpaca_header_cb) ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, r) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PRIVATE, r) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	    (a->resolve == NULL || curl_easy_setopt(e, CURLOPT_RESOLVE,
	    a->resolve) == CURLE_OK) &&
	    /* names come from CONFIG only: resolving one would open
	     * /etc/hosts, which the sandbox forbids */
	    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, -1L) == CURLE_OK;
	if (ok && a->store != NULL) {
		/*
		 * The certificates in memory, never a file or folder (the
		 * sandbox forbids opening them); and not CURLOPT_CAINFO_BLOB,
		 * which libcurl copies (200 KiB) and parses again for every
		 * connection.
		 */
		ok = curl_easy_setopt(e, CURLOPT_CAINFO, NULL) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_CAPATH, NULL) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION,
		    alpaca_ssl_ctx_cb) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, a) == CURLE_OK;
	}
	if (!ok) {
		alpaca_fail(r, TP_INTERNAL, "libcurl refused an option for %s",
		    r->what);
		return;
	}
	if ((mc = curl_multi_add_handle(a->multi, e)) != CURLM_OK) {
		alpaca_fail(r, TP_INTERNAL, "curl_multi_add_handle: %s",
		    curl_multi_strerror(mc));
		return;
	}
	if (r->state == ALPACA_WAITING)
		TAILQ_REMOVE(&a->waiting, r, entry);
	r->state = ALPACA_RUNNING;
	TAILQ_INSERT_TAIL(&a->running, r, entry);
	a->nrunning++;
	r->attempt++;
	if (r->call.stats != NULL) {
		r->call.stats->requests[r->kind]++;
		if (r->attempt > 1)
			r->call.stats->retries++;
	}
}

/* A failure worth another attempt, if attempts and time remain. */
static void
alpaca_transient(struct alpaca_req *r, uint64_t now, const char *cause)
{
	uint64_t wait;

	wait = alpaca_backoff_ms(r->attempt - 1);
	if (r->attempt < ALPACA_ATTEMPTS_MAX &&
	    now + wait + ALPACA_MIN_LEFT_MS < r->call.deadline) {
		alpaca_log(r, "warn", "%s: %s; retry %u in %" PRIu64 " ms",
		    r->what, cause, r->attempt, wait);
		alpaca_end_attempt(r);
		alpaca_wait(r, now + wait);
		return;
	}
	alpaca_fail(r, TP_UNAVAILABLE, "%s (%s, %u attempt%s)", cause, r->what,
	    r->attempt, r->attempt == 1 ? "" : "s");
}

/* Alpaca's own "message" from an error body, printable and short. */
static void
alpaca_quote(struct alpaca_req *r, char *out, size_t size)
{
	struct tp_err e;
	json_object *o;
	const char *m;
	size_t i, k = 0;

	out[0] = '\0';
	if (r->len == 0 || (o = json_parse(r->body, r->len, &e)) == NULL)
		return;
	if ((m = json_get_str(o, "message")) != NULL) {
		for (i = 0; m[i] != '\0' && k + 1 < size && i < ALPACA_QUOTE_MAX;
		    i++)
			out[k++] = (unsigned char)m[i] >= 0x20 &&
			    (unsigned char)m[i] < 0x7f ? m[i] : '?';
		out[k] = '\0';
	}
	json_object_put(o);
}

/* 429: wait for X-RateLimit-Reset when the deadline allows. */
static void
alpaca_limited(struct alpaca_req *r, uint64_t now)
{
	char when[16];
	struct tm tm;
	time_t t;
	int64_t wait;

	if (r->reset < 0) {
		alpaca_transient(r, now, "Alpaca answered with HTTP 429 "
		    "without X-RateLimit-Reset");
		return;
	}
	wait = r->reset * 1000 - clock_real_ms();
	if (wait < (int64_t)ALPACA_BACKOFF_MS)
		wait = ALPACA_BACKOFF_MS;
	/* a little spread, so the tenants of one reset do not all return
	 * in the same millisecond */
	wait += (int64_t)randombytes_uniform(ALPACA_BACKOFF_MS);
	if (now + (uint64_t)wait + ALPACA_MIN_LEFT_MS >= r->call.deadline ||
	    r->attempt >= ALPACA_ATTEMPTS_MAX) {
		t = (time_t)r->reset;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "later");
		alpaca_fail(r, TP_RESOURCE_EXHAUSTED, "Alpaca's rate limit for "
		    "this account is exhausted until %s UTC (%s)", when,
		    r->what);
		return;
	}
	alpaca_log(r, "warn", "%s: HTTP 429 (rate limited); retry %u in %"
	    PRId64 " ms, at X-RateLimit-Reset", r->what, r->attempt, wait);
	alpaca_end_attempt(r);
	alpaca_wait(r, now + (uint64_t)wait);
}

static void
alpaca_http_status(struct alpaca_req *r, long status, uint64_t now)
{
	char quote[ALPACA_QUOTE_MAX + 1], cause[64];
	struct tp_err e;
	json_object *o;

	if (status == 200) {
		tp_err_clear(&e);
		if ((o = json_parse(r->body, r->len, &e)) == NULL) {
			alpaca_fail(r, TP_UNAVAILABLE, "Alpaca sent a malformed "
			    "reply to %s: %s", r->what, e.msg);
			return;
		}
		if (!json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			alpaca_fail(r, TP_UNAVAILABLE, "Alpaca sent a malformed "
			    "reply to %s: not a JSON object", r->what);
			return;
		}
		r->reply = o;
		alpaca_settle(r);
		return;
	}
	if (status == 429) {
		alpaca_limited(r, now);
		return;
	}
	if (status >= 500 && status <= 599) {
		snprintf(cause, sizeof(cause), "Alpaca answered with HTTP %ld",
		    status);
		alpaca_transient(r, now, cause);
		return;
	}
	alpaca_quote(r, quote, sizeof(quote));
	if (status == 401) {
		if (r->call.uid != NULL)
			alpaca_fail(r, TP_UNAUTHENTICATED, "Alpaca rejected the "
			    "API keys (HTTP 401): check the key id and secret "
			    "with `tradepulse keys set %s`", r->call.uid);
		else
			alpaca_fail(r, TP_UNAUTHENTICATED, "Alpaca rejected the "
			    "market data key (HTTP 401): check [alpaca] "
			    "data_key_id and its secret");
		return;
	}
	if (status == 403) {
		alpaca_fail(r, TP_PERMISSION_DENIED, "Alpaca refused %s (HTTP "
		    "403): the API keys lack the permission%s%s%s", r->what,
		    quote[0] != '\0' ? " (\"" : "", quote,
		    quote[0] != '\0' ? "\")" : "");
		return;
	}
	alpaca_fail(r, status == 404 ? TP_NOT_FOUND : status == 400 ||
	    status == 422 ? TP_INVALID_ARGUMENT : TP_UNAVAILABLE,
	    "Alpaca answered %s with HTTP %ld%s%s%s", r->what, status,
	    quote[0] != '\0' ? ": \"" : "", quote, quote[0] != '\0' ? "\"" :
	    "");
}

/* An attempt ended in libcurl with res. */
void
alpaca_finished(struct alpaca_req *r, CURLcode res)
{
	uint64_t now = clock_mono_ms();
	curl_off_t took = 0;
	char cause[TP_ERR_MSG_MAX];
	long status = 0, hsize = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &took);
	if (r->call.stats != NULL)
		wire_http_count(&r->call.stats->http, res == CURLE_OK ? status :
		    0, took > 0 ? (uint64_t)took / 1000 : 0);
	if (r->too_large || res == CURLE_FILESIZE_EXCEEDED) {
		alpaca_fail(r, TP_RESOURCE_EXHAUSTED, "Alpaca's reply to %s is "
		    "larger than 1 MiB", r->what);
		return;
	}
	if (r->oom) {
		alpaca_fail(r, TP_RESOURCE_EXHAUSTED, "out of memory for the "
		    "reply to %s", r->what);
		return;
	}
	switch (res) {
	case CURLE_OK:
		alpaca_http_status(r, status, now);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(r->easy, CURLINFO_HEADER_SIZE, &hsize);
		/* the low-speed check ends a drip, or a server that says
		 * nothing, before the timeout */
		if ((uint64_t)took / 1000 + 250 < r->timeout_ms && hsize == 0) {
			snprintf(cause, sizeof(cause), "Alpaca did not answer "
			    "within %d s", ALPACA_LOW_SPEED_S);
			alpaca_transient(r, now, cause);
		} else if ((uint64_t)took / 1000 + 250 < r->timeout_ms) {
			snprintf(cause, sizeof(cause), "Alpaca's reply was too "
			    "slow (under %d bytes/s for %d s)",
			    ALPACA_LOW_SPEED_BYTES, ALPACA_LOW_SPEED_S);
			alpaca_transient(r, now, cause);
		} else if (r->clipped)
			alpaca_fail(r, TP_UNAVAILABLE, "Alpaca did not answer "
			    "within the job's deadline (%s, %u attempt%s)",
			    r->what, r->attempt, r->attempt == 1 ? "" : "s");
		else {
			snprintf(cause, sizeof(cause), "Alpaca did not answer "
			    "within %d s", ALPACA_TIMEOUT_MS / 1000);
			alpaca_transient(r, now, cause);
		}
		return;
	case CURLE_PARTIAL_FILE:
		alpaca_transient(r, now, "Alpaca's reply was cut short");
		return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		snprintf(cause, sizeof(cause), "cannot reach Alpaca: %s",
		    curl_easy_strerror(res));
		alpaca_transient(r, now, cause);
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
		alpaca_fail(r, TP_UNAVAILABLE, "Alpaca's TLS certificate was "
		    "not accepted (%s): %s", r->what, r->errbuf[0] != '\0' ?
		    r->errbuf : curl_easy_strerror(res));
		return;
	default:
		alpaca_fail(r, TP_UNAVAILABLE, "%s failed: %s", r->what,
		    r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(res));
		return;
	}
}
