/* alpaca.c: the worker's Alpaca client: libcurl multi transfers, limits, retries, reply parsing. */
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
#include "common/jsonutil.h"
#include "common/pnl.h"
#include "worker/alpaca.h"

#define ALPACA_WHAT_MAX		96	/* "GET /v2/stocks/XYZ/bars" */
#define ALPACA_BODY_MIN		4096	/* first body buffer */
#define ALPACA_QUOTE_MAX	120	/* bytes of Alpaca's own message quoted */
#define ALPACA_UA		"tradepulse-worker"
/*
 * Transfers in libcurl at once. The others wait here, without an easy
 * handle (each holds buffers of some 20 KiB): a batch of 500 tenants
 * would otherwise hold 1000 handles while 64 connections serve them.
 */
#define ALPACA_RUNNING_MAX	(2 * ALPACA_CONNS_MAX)
#define ALPACA_KEY_MAX		(API_KEY_ID_MAX > API_SECRET_MAX ? \
				 API_KEY_ID_MAX : API_SECRET_MAX)

enum alpaca_state {
	ALPACA_WAITING,		/* for its start time: token, backoff, 429 */
	ALPACA_RUNNING,		/* an attempt is in libcurl */
	ALPACA_DONE,		/* finished; to be called back */
};

struct alpaca_req {
	TAILQ_ENTRY(alpaca_req) entry;
	struct alpaca		*a;
	enum alpaca_kind	 kind;
	enum alpaca_state	 state;
	char			*url;
	char			 what[ALPACA_WHAT_MAX];	/* for messages */
	struct alpaca_call	 call;
	alpaca_done_fn		*done;
	void			*arg;
	uint64_t		 start_at;	/* WAITING: not before */
	unsigned		 attempt;	/* attempts started */
	/* the attempt in flight */
	CURL			*easy;
	struct curl_slist	*hdrs;
	bool			 clipped;	/* its timeout is the deadline */
	char			 errbuf[CURL_ERROR_SIZE];	/* libcurl's
						   words: no secret in them */
	uint64_t		 timeout_ms;
	char			*body;
	size_t			 len, cap;
	bool			 too_large, oom;
	int64_t			 reset;		/* X-RateLimit-Reset, or -1 */
	/* the outcome */
	json_object		*reply;
	struct tp_err		 err;
};
TAILQ_HEAD(alpaca_reqq, alpaca_req);

struct alpaca_fd {
	curl_socket_t	 fd;
	int		 what;		/* CURL_POLL_IN, _OUT, _INOUT */
};

struct alpaca {
	CURLM			*multi;
	struct curl_slist	*resolve;
	char			*trading_url;
	char			*data_url;
	X509_STORE		*store;		/* the CA certificates, parsed
						   once for every connection */
	struct alpaca_fd	*fds;
	size_t			 nfds, capfds;
	int64_t			 timer;		/* libcurl's, monotonic ms */
	struct alpaca_reqq	 waiting, running, done;
	size_t			 npending;
	size_t			 nrunning;
	CURL			*idle[ALPACA_RUNNING_MAX];	/* easy handles
						   to reuse */
	size_t			 nidle;
};

static const char *const alpaca_kind_names[ALPACA_NKINDS] = {
	[ALPACA_ACCOUNT] = "account",
	[ALPACA_TRADES_LATEST] = "trades_latest",
	[ALPACA_BARS] = "bars",
};

uint64_t
alpaca_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t
alpaca_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
alpaca_oom(struct tp_err *err)
{
	return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
}

/* --- URLs --- */

int
alpaca_url_check(const char *url, char *host, uint16_t *port,
    struct tp_err *err)
{
	const char *p, *h, *end;
	unsigned long v = 0;
	size_t len, hlen, i, digits = 0;
	bool tls;

	len = strnlen(url, ALPACA_URL_MAX + 1);
	if (len > ALPACA_URL_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "URL longer than "
		    "%d bytes", ALPACA_URL_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f || url[i] == '?' ||
		    url[i] == '#' || url[i] == '@' || url[i] == '%' ||
		    url[i] == '\\')
			return tp_err_set(err, TP_INVALID_ARGUMENT, "URL must be "
			    "printable ASCII without spaces, user, query or "
			    "fragment");
	if (strncmp(url, "https://", 8) == 0)
		tls = true;
	else if (strncmp(url, "http://", 7) == 0)
		tls = false;
	else
		return tp_err_set(err, TP_INVALID_ARGUMENT, "URL must start "
		    "with http:// or https://");
	h = url + (tls ? 8 : 7);
	if ((end = strchr(h, '/')) == NULL)
		end = url + len;
	if (*h == '[') {
		/* an IPv6 literal */
		if ((p = memchr(h, ']', (size_t)(end - h))) == NULL)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "URL has an unterminated [IPv6 address]");
		hlen = (size_t)(p + 1 - h);
		p++;
	} else {
		for (p = h; p < end && *p != ':'; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
				return tp_err_set(err, TP_INVALID_ARGUMENT,
				    "URL host must be a name of [A-Za-z0-9.-] "
				    "or an address");
		hlen = (size_t)(p - h);
	}
	if (hlen == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "URL has no host");
	if (p < end) {
		if (*p != ':')
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "URL has junk after its host");
		for (p++; p < end && *p >= '0' && *p <= '9' && digits < 6;
		    p++, digits++)
			v = v * 10 + (unsigned long)(*p - '0');
		if (p != end || digits == 0 || v == 0 || v > 65535)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "URL port must be 1..65535");
	} else
		v = tls ? 443 : 80;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)v;
	return 0;
}

/* The base URL without trailing slashes, malloc'd; NULL for none. */
static int
alpaca_base(const char *url, char **out, struct tp_err *err)
{
	char host[ALPACA_URL_MAX + 1];
	uint16_t port;
	size_t len;

	*out = NULL;
	if (url == NULL)
		return 0;
	if (alpaca_url_check(url, host, &port, err) == -1)
		return -1;
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	if ((*out = strndup(url, len)) == NULL)
		return alpaca_oom(err);
	return 0;
}

/* Percent-encodes s into buf at *off (RFC 3986 unreserved kept). */
static int
alpaca_escape(const char *s, char *buf, size_t size, size_t *off)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (*off + 1 >= size)
				return -1;
			buf[(*off)++] = (char)c;
		} else {
			if (*off + 3 >= size)
				return -1;
			buf[(*off)++] = '%';
			buf[(*off)++] = hex[c >> 4];
			buf[(*off)++] = hex[c & 15];
		}
	}
	buf[*off] = '\0';
	return 0;
}

/* --- the token bucket and backoff --- */

void
alpaca_bucket_init(struct alpaca_bucket *b, uint32_t per_minute, uint64_t now)
{
	if (per_minute == 0)
		per_minute = 1;
	b->per_minute = per_minute;
	b->cap = (double)per_minute;
	b->tokens = b->cap;
	b->per_ms = (double)per_minute / 60000.0;
	b->last = now;
}

uint64_t
alpaca_bucket_take(struct alpaca_bucket *b, uint64_t now)
{
	double need;

	if (now > b->last) {
		b->tokens += (double)(now - b->last) * b->per_ms;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
		b->last = now;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	need = (1.0 - b->tokens) / b->per_ms;
	return (uint64_t)need + 1;
}

uint64_t
alpaca_backoff_ms(unsigned n)
{
	uint64_t base = ALPACA_BACKOFF_MS;

	while (n-- > 0 && base < ALPACA_BACKOFF_MAX_MS)
		base *= 2;
	if (base > ALPACA_BACKOFF_MAX_MS)
		base = ALPACA_BACKOFF_MAX_MS;
	/* +-50%: retries of many jobs that failed together spread out */
	return base / 2 + randombytes_uniform((uint32_t)base + 1);
}

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

static int
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

static int
alpaca_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct alpaca *a = userp;

	(void)multi;
	a->timer = timeout_ms < 0 ? -1 :
	    (int64_t)(alpaca_now_ms() + (uint64_t)timeout_ms);
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
static int
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
static void
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
static void
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
	wait = r->reset * 1000 - alpaca_wall_ms();
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
static void
alpaca_finished(struct alpaca_req *r, CURLcode res)
{
	uint64_t now = alpaca_now_ms();
	curl_off_t took = 0;
	char cause[TP_ERR_MSG_MAX];
	long status = 0, hsize = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &took);
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

/* --- requests --- */

static struct alpaca_req *
alpaca_req_new(struct alpaca *a, enum alpaca_kind kind,
    const struct alpaca_call *call, alpaca_done_fn *done, void *arg,
    char *url, struct tp_err *err)
{
	struct alpaca_req *r;

	if (call->key_id == NULL || call->secret == NULL ||
	    call->key_id[0] == '\0' || call->secret[0] == '\0' ||
	    strlen(call->key_id) > ALPACA_KEY_MAX ||
	    strlen(call->secret) > ALPACA_KEY_MAX) {
		free(url);
		tp_err_set(err, TP_INVALID_ARGUMENT, "no usable Alpaca keys");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		free(url);
		alpaca_oom(err);
		return NULL;
	}
	r->a = a;
	r->kind = kind;
	r->url = url;
	r->call = *call;
	r->done = done;
	r->arg = arg;
	r->reset = -1;
	r->state = ALPACA_WAITING;
	r->start_at = alpaca_now_ms();
	TAILQ_INSERT_TAIL(&a->waiting, r, entry);
	a->npending++;
	return r;
}

/* base + path (+ query), malloc'd. */
static char *
alpaca_join(const char *base, const char *path, const char *query)
{
	char *s;

	if (asprintf(&s, "%s%s%s", base, path, query) == -1)
		return NULL;
	return s;
}

struct alpaca_req *
alpaca_account(struct alpaca *a, const struct alpaca_call *call,
    alpaca_done_fn *done, void *arg, struct tp_err *err)
{
	struct alpaca_req *r;
	char *url;

	if (a->trading_url == NULL) {
		tp_err_set(err, TP_FAILED_PRECONDITION, "no trading_url in "
		    "the worker's CONFIG");
		return NULL;
	}
	if ((url = alpaca_join(a->trading_url, "/v2/account", "")) == NULL) {
		alpaca_oom(err);
		return NULL;
	}
	if ((r = alpaca_req_new(a, ALPACA_ACCOUNT, call, done, arg, url,
	    err)) != NULL)
		snprintf(r->what, sizeof(r->what), "GET /v2/account");
	return r;
}

struct alpaca_req *
alpaca_trades_latest(struct alpaca *a, const struct alpaca_call *call,
    const char *const *symbols, size_t n, alpaca_done_fn *done, void *arg,
    struct tp_err *err)
{
	/* "?symbols=" and 100 symbols of 16 bytes, each byte up to %XX,
	 * and their commas */
	char query[16 + ALPACA_SYMBOLS_PER_REQ * (ALPACA_SYMBOL_MAX * 3 + 1)];
	struct alpaca_req *r;
	size_t off, i;
	char *url;

	if (a->data_url == NULL) {
		tp_err_set(err, TP_FAILED_PRECONDITION, "no data_url in the "
		    "worker's CONFIG");
		return NULL;
	}
	if (n == 0 || n > ALPACA_SYMBOLS_PER_REQ) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "a latest-trades request "
		    "takes 1..%d symbols, not %zu", ALPACA_SYMBOLS_PER_REQ, n);
		return NULL;
	}
	off = (size_t)snprintf(query, sizeof(query), "?symbols=");
	for (i = 0; i < n; i++) {
		if (!pnl_valid_symbol(symbols[i])) {
			tp_err_set(err, TP_INVALID_ARGUMENT, "not a symbol: "
			    "entry %zu", i);
			return NULL;
		}
		if (i > 0)
			query[off++] = ',';
		if (alpaca_escape(symbols[i], query, sizeof(query), &off) ==
		    -1) {
			tp_err_set(err, TP_INTERNAL, "symbol list too long");
			return NULL;
		}
	}
	if ((url = alpaca_join(a->data_url, "/v2/stocks/trades/latest",
	    query)) == NULL) {
		alpaca_oom(err);
		return NULL;
	}
	if ((r = alpaca_req_new(a, ALPACA_TRADES_LATEST, call, done, arg, url,
	    err)) != NULL)
		snprintf(r->what, sizeof(r->what), "GET "
		    "/v2/stocks/trades/latest (%zu symbol%s)", n,
		    n == 1 ? "" : "s");
	return r;
}

/* The spec's timeframes: [1-59]Min|T, [1-23]Hour|H, 1Day|D, 1Week|W,
 * [1,2,3,4,6,12]Month|M. */
static bool
alpaca_timeframe_ok(const char *tf)
{
	static const struct {
		const char *unit, *abbr;
		unsigned max;
	} units[] = {
		{ "Min", "T", 59 }, { "Hour", "H", 23 }, { "Day", "D", 1 },
		{ "Week", "W", 1 }, { "Month", "M", 12 },
	};
	unsigned v = 0;
	size_t i, digits = 0;

	for (; *tf >= '0' && *tf <= '9' && digits < 3; tf++, digits++)
		v = v * 10 + (unsigned)(*tf - '0');
	if (digits == 0 || v == 0)
		return false;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(tf, units[i].unit) != 0 &&
		    strcmp(tf, units[i].abbr) != 0)
			continue;
		if (v > units[i].max)
			return false;
		if (units[i].max == 12)
			return v <= 4 || v == 6 || v == 12;
		return true;
	}
	return false;
}

struct alpaca_req *
alpaca_bars(struct alpaca *a, const struct alpaca_call *call,
    const char *symbol, const char *timeframe, unsigned limit,
    alpaca_done_fn *done, void *arg, struct tp_err *err)
{
	char path[32 + ALPACA_SYMBOL_MAX * 3], query[64];
	struct alpaca_req *r;
	size_t off;
	char *url;

	if (a->data_url == NULL) {
		tp_err_set(err, TP_FAILED_PRECONDITION, "no data_url in the "
		    "worker's CONFIG");
		return NULL;
	}
	if (!pnl_valid_symbol(symbol)) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "not a symbol");
		return NULL;
	}
	if (!alpaca_timeframe_ok(timeframe)) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "timeframe must be like "
		    "5Min, 1Hour, 1Day, 1Week or 3Month");
		return NULL;
	}
	if (limit < 1 || limit > ALPACA_BARS_MAX) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "bars limit must be "
		    "1..%d", ALPACA_BARS_MAX);
		return NULL;
	}
	off = (size_t)snprintf(path, sizeof(path), "/v2/stocks/");
	/* a symbol with '/' stays one path segment */
	if (alpaca_escape(symbol, path, sizeof(path), &off) == -1 ||
	    off + sizeof("/bars") > sizeof(path)) {
		tp_err_set(err, TP_INTERNAL, "bars path too long");
		return NULL;
	}
	memcpy(path + off, "/bars", sizeof("/bars"));
	snprintf(query, sizeof(query), "?timeframe=%s&limit=%u", timeframe,
	    limit);
	if ((url = alpaca_join(a->data_url, path, query)) == NULL) {
		alpaca_oom(err);
		return NULL;
	}
	if ((r = alpaca_req_new(a, ALPACA_BARS, call, done, arg, url,
	    err)) != NULL)
		snprintf(r->what, sizeof(r->what), "GET %s", path);
	return r;
}

static void
alpaca_req_free(struct alpaca_req *r)
{
	alpaca_end_attempt(r);
	json_object_put(r->reply);
	free(r->body);
	free(r->url);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

void
alpaca_cancel(struct alpaca_req *r)
{
	struct alpaca *a;

	if (r == NULL)
		return;
	a = r->a;
	switch (r->state) {
	case ALPACA_WAITING:
		TAILQ_REMOVE(&a->waiting, r, entry);
		break;
	case ALPACA_RUNNING:
		TAILQ_REMOVE(&a->running, r, entry);
		a->nrunning--;
		break;
	case ALPACA_DONE:
		TAILQ_REMOVE(&a->done, r, entry);
		break;
	}
	a->npending--;
	alpaca_req_free(r);
}

/* --- the loop --- */

void
alpaca_run(struct alpaca *a)
{
	struct alpaca_req *r, *next;
	json_object *reply;
	struct tp_err err;
	CURLMsg *msg;
	uint64_t now;
	int running, left;

	now = alpaca_now_ms();
	if (a->timer >= 0 && (int64_t)now >= a->timer) {
		a->timer = -1;
		curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	while ((msg = curl_multi_info_read(a->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&r);
		if (r == NULL || r->easy != msg->easy_handle)
			continue;
		alpaca_finished(r, msg->data.result);
	}
	now = alpaca_now_ms();
	for (r = TAILQ_FIRST(&a->waiting); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->start_at <= now && a->nrunning < ALPACA_RUNNING_MAX)
			alpaca_start(r, now);
	}
	/* callbacks last: they may start or cancel requests */
	while ((r = TAILQ_FIRST(&a->done)) != NULL) {
		TAILQ_REMOVE(&a->done, r, entry);
		a->npending--;
		reply = r->reply;
		r->reply = NULL;
		err = r->err;
		r->done(r->arg, r, reply, reply != NULL ? NULL : &err);
		alpaca_req_free(r);
	}
}

struct alpaca *
alpaca_new(const struct alpaca_conf *c, struct tp_err *err)
{
	struct curl_slist *n;
	struct alpaca *a;
	json_object *e;
	const char *s;
	size_t i, len;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		alpaca_oom(err);
		return NULL;
	}
	TAILQ_INIT(&a->waiting);
	TAILQ_INIT(&a->running);
	TAILQ_INIT(&a->done);
	a->timer = -1;
	/* parsing the bundle costs tens of ms: only for TLS */
	if (c->ca != NULL && ((c->trading_url != NULL &&
	    strncmp(c->trading_url, "https:", 6) == 0) ||
	    (c->data_url != NULL && strncmp(c->data_url, "https:", 6) == 0)) &&
	    alpaca_store(a, c->ca, c->ca_len, err) == -1)
		goto fail;
	if (alpaca_base(c->trading_url, &a->trading_url, err) == -1 ||
	    alpaca_base(c->data_url, &a->data_url, err) == -1)
		goto fail;
	if (c->resolve != NULL &&
	    json_object_is_type(c->resolve, json_type_array)) {
		len = json_object_array_length(c->resolve);
		for (i = 0; i < len; i++) {
			e = json_object_array_get_idx(c->resolve, i);
			if (!json_object_is_type(e, json_type_string))
				continue;
			/* "+host:..." would let the entry expire, and then
			 * libcurl would resolve the name itself */
			s = json_object_get_string(e);
			if (*s == '+')
				s++;
			if ((n = curl_slist_append(a->resolve, s)) == NULL) {
				alpaca_oom(err);
				goto fail;
			}
			a->resolve = n;
		}
	}
	if ((a->multi = curl_multi_init()) == NULL) {
		alpaca_oom(err);
		goto fail;
	}
	if (curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION,
	    alpaca_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a) != CURLM_OK ||
	    curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION,
	    alpaca_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a) != CURLM_OK ||
	    curl_multi_setopt(a->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)ALPACA_CONNS_MAX) != CURLM_OK ||
	    curl_multi_setopt(a->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)ALPACA_CONNS_MAX) != CURLM_OK ||
	    curl_multi_setopt(a->multi, CURLMOPT_MAXCONNECTS,
	    (long)ALPACA_CONNS_MAX) != CURLM_OK) {
		tp_err_set(err, TP_INTERNAL, "libcurl refused a multi option");
		goto fail;
	}
	return a;
fail:
	alpaca_free(a);
	return NULL;
}

void
alpaca_free(struct alpaca *a)
{
	struct alpaca_req *r;

	if (a == NULL)
		return;
	while ((r = TAILQ_FIRST(&a->waiting)) != NULL)
		alpaca_cancel(r);
	while ((r = TAILQ_FIRST(&a->running)) != NULL)
		alpaca_cancel(r);
	while ((r = TAILQ_FIRST(&a->done)) != NULL)
		alpaca_cancel(r);
	while (a->nidle > 0)
		curl_easy_cleanup(a->idle[--a->nidle]);
	if (a->multi != NULL)
		curl_multi_cleanup(a->multi);
	curl_slist_free_all(a->resolve);
	X509_STORE_free(a->store);
	free(a->trading_url);
	free(a->data_url);
	free(a->fds);
	free(a);
}

/* --- replies --- */

static int
alpaca_add(json_object *o, const char *key, json_object *v, struct tp_err *err)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return alpaca_oom(err);
	}
	return 0;
}

#define ALPACA_BAD_ACCOUNT	"Alpaca sent a malformed reply to GET " \
	"/v2/account: field \"%s\" "

/* A decimal string (kept as sent) or a number (as its decimal text). */
static int
alpaca_money(json_object *v, const char *field, char *out, size_t size,
    struct tp_err *err)
{
	struct tp_err e;
	struct dec d;
	const char *s;
	size_t len;

	tp_err_clear(&e);
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (dec_parse(s, len, &d, &e) == -1 || len >= size)
			return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
			    "is not a decimal: %s", field, e.msg);
		memcpy(out, s, len + 1);
		return 0;
	case json_type_int:
	case json_type_double:
		if (dec_from_json(v, &d, &e) == -1 ||
		    dec_format(&d, out, size) == -1)
			return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
			    "is not a usable number: %s", field, e.msg);
		return 0;
	default:
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT "is "
		    "a%s %s, not a decimal string or number", field,
		    json_object_get_type(v) == json_type_array ||
		    json_object_get_type(v) == json_type_object ? "n" : "",
		    json_type_to_name(json_object_get_type(v)));
	}
}

/* A string of 1..max bytes whose characters pass ok. */
static int
alpaca_text(json_object *v, const char *field, size_t max,
    bool (*ok)(char), const char *what, struct tp_err *err)
{
	const char *s;
	size_t len, i;

	if (!json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT "is "
		    "a%s %s, not a string", field,
		    json_object_is_type(v, json_type_array) ||
		    json_object_is_type(v, json_type_object) ||
		    json_object_is_type(v, json_type_int) ? "n" : "",
		    json_type_to_name(json_object_get_type(v)));
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	for (i = 0; i < len && ok(s[i]); i++)
		;
	if (len == 0 || len > max || i < len)
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT "must "
		    "be 1..%zu characters of %s", field, max, what);
	return 0;
}

static bool
alpaca_printable(char c)
{
	return (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f;
}

static bool
alpaca_upper(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

int
alpaca_parse_account(json_object *reply, json_object *out, struct tp_err *err)
{
	static const char *const money[] = {
		"cash", "equity", "last_equity", "buying_power",
		"portfolio_value", "long_market_value", "short_market_value",
		"initial_margin", "maintenance_margin",
	};
	static const char *const flags[] = {
		"pattern_day_trader", "trading_blocked", "account_blocked",
	};
	static const struct {
		const char *name;
		size_t max;
		bool (*ok)(char);
		const char *what;
	} texts[] = {
		{ "id", 64, alpaca_printable, "printable ASCII" },
		{ "account_number", 64, alpaca_printable, "printable ASCII" },
		{ "status", 32, alpaca_upper, "[A-Z_]" },
		{ "currency", 8, alpaca_upper, "[A-Z]" },
		{ "created_at", 64, alpaca_printable, "printable ASCII" },
	};
	char buf[DEC_TEXT_MAX + 1];
	json_object *v;
	int64_t n;
	size_t i;

	if (!json_object_object_get_ex(reply, "equity", &v) || v == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
		    "is missing", "equity");
	if (!json_object_object_get_ex(reply, "status", &v) || v == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, ALPACA_BAD_ACCOUNT
		    "is missing", "status");
	/* a field sent as null is taken as absent */
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!json_object_object_get_ex(reply, texts[i].name, &v) ||
		    v == NULL)
			continue;
		if (alpaca_text(v, texts[i].name, texts[i].max, texts[i].ok,
		    texts[i].what, err) == -1 ||
		    alpaca_add(out, texts[i].name, json_object_new_string_len(
		    json_object_get_string(v), json_object_get_string_len(v)),
		    err) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(money) / sizeof(money[0]); i++) {
		if (!json_object_object_get_ex(reply, money[i], &v) ||
		    v == NULL)
			continue;
		if (alpaca_money(v, money[i], buf, sizeof(buf), err) == -1 ||
		    alpaca_add(out, money[i], json_object_new_string(buf),
		    err) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!json_object_object_get_ex(reply, flags[i], &v) ||
		    v == NULL)
			continue;
		if (!json_object_is_type(v, json_type_boolean))
			return tp_err_set(err, TP_UNAVAILABLE,
			    ALPACA_BAD_ACCOUNT "is a%s %s, not a boolean",
			    flags[i], json_object_is_type(v, json_type_int) ||
			    json_object_is_type(v, json_type_array) ||
			    json_object_is_type(v, json_type_object) ? "n" : "",
			    json_type_to_name(json_object_get_type(v)));
		if (alpaca_add(out, flags[i], json_object_new_boolean(
		    json_object_get_boolean(v)), err) == -1)
			return -1;
	}
	if (json_object_object_get_ex(reply, "daytrade_count", &v) &&
	    v != NULL) {
		errno = 0;
		if (!json_object_is_type(v, json_type_int) ||
		    (n = json_object_get_int64(v)) < 0 || n > INT32_MAX ||
		    errno != 0)
			return tp_err_set(err, TP_UNAVAILABLE,
			    ALPACA_BAD_ACCOUNT "is not an integer of 0..%d",
			    "daytrade_count", INT32_MAX);
		if (alpaca_add(out, "daytrade_count", json_object_new_int64(n),
		    err) == -1)
			return -1;
	}
	return 0;
}

/* A price: a number or decimal string above zero. */
static int
alpaca_price(json_object *v, struct dec *d, struct tp_err *err)
{
	static const struct dec zero = { 0, 0 };

	if (v == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, "is missing");
	if (dec_from_json(v, d, err) == -1)
		return -1;
	if (dec_cmp(d, &zero) <= 0)
		return tp_err_set(err, TP_UNAVAILABLE, "is not above zero");
	return 0;
}

int
alpaca_parse_trades(json_object *reply, const char *const *symbols,
    size_t n, json_object *prices, json_object *errors, struct tp_err *err)
{
	char msg[TP_ERR_MSG_MAX + 64], buf[DEC_TEXT_MAX + 1];
	json_object *trades, *t, *p, *eo;
	enum tp_code code;
	struct tp_err e;
	struct dec d;
	size_t i;

	if (!json_object_object_get_ex(reply, "trades", &trades))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/trades/latest: field \"trades\" "
		    "is missing");
	/* null: nothing known */
	if (trades != NULL && !json_object_is_type(trades, json_type_object))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/trades/latest: field \"trades\" "
		    "is a%s %s, not a map",
		    json_object_is_type(trades, json_type_array) ||
		    json_object_is_type(trades, json_type_int) ? "n" : "",
		    json_type_to_name(json_object_get_type(trades)));
	for (i = 0; i < n; i++) {
		tp_err_clear(&e);
		p = NULL;
		code = TP_UNAVAILABLE;
		if (trades == NULL ||
		    !json_object_object_get_ex(trades, symbols[i], &t)) {
			code = TP_NOT_FOUND;
			snprintf(msg, sizeof(msg), "no latest trade for symbol "
			    "%s", symbols[i]);
		} else if (!json_object_is_type(t, json_type_object)) {
			snprintf(msg, sizeof(msg), "Alpaca sent a malformed "
			    "latest trade for %s: not a map", symbols[i]);
		} else if (!json_object_object_get_ex(t, "p", &p) ||
		    alpaca_price(p, &d, &e) == -1) {
			snprintf(msg, sizeof(msg), "Alpaca sent a malformed "
			    "latest trade for %s: field \"p\" %s", symbols[i],
			    p == NULL || e.msg[0] == '\0' ? "is missing" :
			    e.msg);
		} else if (dec_format(&d, buf, sizeof(buf)) == -1) {
			snprintf(msg, sizeof(msg), "Alpaca sent a malformed "
			    "latest trade for %s: price out of range",
			    symbols[i]);
		} else {
			if (alpaca_add(prices, symbols[i],
			    json_object_new_string(buf), err) == -1)
				return -1;
			continue;
		}
		if ((eo = json_object_new_object()) == NULL)
			return alpaca_oom(err);
		if (alpaca_add(eo, "code", json_object_new_string(
		    tp_code_name(code)), err) == -1 ||
		    alpaca_add(eo, "message", json_object_new_string(msg),
		    err) == -1) {
			json_object_put(eo);
			return -1;
		}
		if (alpaca_add(errors, symbols[i], eo, err) == -1)
			return -1;
	}
	return 0;
}

static int
alpaca_bar(json_object *b, size_t i, struct alpaca_bar *out,
    struct tp_err *err)
{
	static const char *const decs[] = { "o", "h", "l", "c", "vw" };
	struct dec *dst[] = { &out->o, &out->h, &out->l, &out->c, &out->vw };
	static const char *const ints[] = { "v", "n" };
	int64_t *idst[] = { &out->v, &out->n };
	json_object *v;
	struct tp_err e;
	const char *s;
	size_t k, len;

	if (!json_object_is_type(b, json_type_object))
		return tp_err_set(err, TP_UNAVAILABLE, "bar %zu is not a map", i);
	if (!json_object_object_get_ex(b, "t", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (len = (size_t)json_object_get_string_len(v)) == 0 ||
	    len >= sizeof(out->t))
		return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field \"t\" "
		    "must be a timestamp string", i);
	s = json_object_get_string(v);
	for (k = 0; k < len; k++)
		if (!alpaca_printable(s[k]))
			return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field "
			    "\"t\" must be a timestamp string", i);
	memcpy(out->t, s, len + 1);
	for (k = 0; k < sizeof(decs) / sizeof(decs[0]); k++) {
		tp_err_clear(&e);
		if (!json_object_object_get_ex(b, decs[k], &v) || v == NULL ||
		    dec_from_json(v, dst[k], &e) == -1)
			return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field "
			    "\"%s\" %s", i, decs[k], e.msg[0] != '\0' ? e.msg :
			    "is missing");
	}
	for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
		if (!json_object_object_get_ex(b, ints[k], &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    (*idst[k] = json_object_get_int64(v)) < 0 ||
		    *idst[k] == INT64_MAX)
			return tp_err_set(err, TP_UNAVAILABLE, "bar %zu: field "
			    "\"%s\" must be a non-negative integer", i,
			    ints[k]);
	}
	return 0;
}

int
alpaca_parse_bars(json_object *reply, const char *symbol,
    struct alpaca_bar **bars, size_t *n, struct tp_err *err)
{
	struct alpaca_bar *out;
	json_object *arr, *v;
	struct tp_err e;
	size_t len, i;

	*bars = NULL;
	*n = 0;
	if (json_object_object_get_ex(reply, "symbol", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), symbol) != 0))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/%s/bars: field \"symbol\" is not "
		    "\"%s\"", symbol, symbol);
	if (!json_object_object_get_ex(reply, "bars", &arr))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/%s/bars: field \"bars\" is "
		    "missing", symbol);
	if (arr == NULL)
		return 0;	/* null: no bars */
	if (!json_object_is_type(arr, json_type_array))
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a malformed "
		    "reply to GET /v2/stocks/%s/bars: field \"bars\" is not a "
		    "list", symbol);
	if ((len = json_object_array_length(arr)) == 0)
		return 0;
	if (len > ALPACA_BARS_MAX)
		return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent %zu bars for "
		    "%s, more than the %d asked for at most", len, symbol,
		    ALPACA_BARS_MAX);
	if ((out = calloc(len, sizeof(*out))) == NULL)
		return alpaca_oom(err);
	for (i = 0; i < len; i++) {
		tp_err_clear(&e);
		if (alpaca_bar(json_object_array_get_idx(arr, i), i, &out[i],
		    &e) == -1) {
			free(out);
			return tp_err_set(err, TP_UNAVAILABLE, "Alpaca sent a "
			    "malformed reply to GET /v2/stocks/%s/bars: %s",
			    symbol, e.msg);
		}
	}
	*bars = out;
	*n = len;
	return 0;
}

const char *
alpaca_kind_name(enum alpaca_kind k)
{
	return (unsigned)k < ALPACA_NKINDS ? alpaca_kind_names[k] : "unknown";
}
