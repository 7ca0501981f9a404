/* fshttp.c: the Firestore REST transport: one thread runs a curl multi handle for every caller's request; callers wait, retry and map Google's errors. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "common/clock.h"
#include "common/fshttp.h"
#include "common/jsonutil.h"
#include "common/url.h"

#define FSHTTP_URL_MAX		8192	/* base_url + path */
#define FSHTTP_CONNECT_MS	10000	/* connect_timeout_ms 0 */
#define FSHTTP_BACKOFF_MS	100	/* the first retry's bound */
#define FSHTTP_BACKOFF_MAX_MS	5000
#define FSHTTP_TRY_MIN_MS	100	/* the least worth a last try */
#define FSHTTP_EASY_FREE	16	/* idle easy handles kept */
#define FSHTTP_SHOWN_MAX	128	/* Google's message, in err */
#define FSHTTP_POLL_MS		1000	/* the thread's idle wake-up */

/* How one attempt ended, as the transport's thread saw it. */
enum fshttp_end {
	FSHTTP_RUNNING,
	FSHTTP_DONE,		/* cc and status are set */
	FSHTTP_CLOSED,		/* fshttp_free failed it */
};

/*
 * One call, on its caller's stack for all its attempts. The transport's
 * thread writes the reply members while the caller waits; end is set
 * under h->mu, which publishes them.
 */
struct fshttp_req {
	/* The attempt, set by the caller before queueing. */
	const char		*method;
	const char		*url;
	const char		*body;
	size_t			 len;
	struct curl_slist	*hdrs;
	long			 timeout_ms;
	/* The outcome. */
	enum fshttp_end		 end;
	CURLcode		 cc;
	long			 status;
	char			*buf;
	size_t			 blen, bcap;
	bool			 too_big;
	char			 curl_msg[CURL_ERROR_SIZE];
	CURL			*easy;
	pthread_cond_t		 cv;	/* end set; or closing, for a sleeper */
	struct fshttp_req	*next;	/* the queue, or the in-flight list */
	struct fshttp_req	*call_prev, *call_next;	/* h->calls */
};

struct fshttp {
	char			*base_url;
	struct gauth		*auth;
	int64_t			 deadline_ms;
	long			 connect_timeout_ms;
	int			 max_conns;
	bool			 plain_http;

	pthread_t		 th;
	CURLM			*multi;
	CURL			*idle[FSHTTP_EASY_FREE];	/* thread only */
	int			 nidle;
	struct fshttp_req	*flying;	/* thread only: in the multi */

	pthread_mutex_t		 mu;
	pthread_cond_t		 idle_cv;	/* calls became empty */
	struct fshttp_req	*queue, *queue_tail;	/* for the thread */
	struct fshttp_req	*calls;		/* every call in progress */
	bool			 closing;

	_Atomic uint64_t	 requests;
};

/* A condition variable on the monotonic clock, for timed waits. */
static int
fshttp_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc;

	if (pthread_condattr_init(&a) != 0)
		return -1;
	rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(cv, &a) == 0 ? 0 : -1;
	pthread_condattr_destroy(&a);
	return rc;
}

/*
 * Where the base URL may point: https://, or plain http:// only on a
 * loopback address (the emulator), and no byte a header or log line could
 * be cut with.
 */
static bool
fshttp_url_ok(const char *url, bool *plain)
{
	size_t n = strlen(url);
	enum url_kind k;

	if (n == 0 || url[n - 1] == '/' ||
	    (k = url_check(url, FSHTTP_URL_MAX / 2)) == URL_BAD)
		return false;
	*plain = k == URL_LOOPBACK_HTTP;
	/* a base URL: a host (and port) only, the paths are the calls' */
	return !*plain || strchr(url + strlen("http://"), '/') == NULL;
}

/* The reply body, refused past FSHTTP_REPLY_MAX (curl then fails the
 * transfer with CURLE_WRITE_ERROR). */
static size_t
fshttp_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fshttp_req *r = arg;
	size_t n = size * nmemb, cap;
	char *p;

	if (n > FSHTTP_REPLY_MAX - r->blen) {
		r->too_big = true;
		return 0;
	}
	if (r->blen + n + 1 > r->bcap) {
		cap = r->bcap == 0 ? 16384 : r->bcap;
		while (cap < r->blen + n + 1)
			cap *= 2;
		if (cap > FSHTTP_REPLY_MAX + 1)
			cap = FSHTTP_REPLY_MAX + 1;
		if ((p = realloc(r->buf, cap)) == NULL)
			return 0;
		r->buf = p;
		r->bcap = cap;
	}
	memcpy(r->buf + r->blen, data, n);
	r->blen += n;
	r->buf[r->blen] = '\0';
	return n;
}

/* Sets an easy handle up for r's attempt; -1 when curl refuses. */
static int
fshttp_easy_setup(struct fshttp *h, CURL *c, struct fshttp_req *r)
{
	CURLcode cc = CURLE_OK;

#define SET(opt, val) if (cc == CURLE_OK) cc = curl_easy_setopt(c, opt, val)
	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_HTTPHEADER, r->hdrs);
	SET(CURLOPT_PRIVATE, r);
	SET(CURLOPT_WRITEFUNCTION, fshttp_write);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_ERRORBUFFER, r->curl_msg);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, h->plain_http ? "http" : "https");
#else
	SET(CURLOPT_PROTOCOLS, h->plain_http ? CURLPROTO_HTTP : CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, r->timeout_ms);
	SET(CURLOPT_USERAGENT, "tradepulse");
	/* A declared length over the bound fails before the body comes. */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FSHTTP_REPLY_MAX);
	if (r->body != NULL || strcmp(r->method, "POST") == 0 ||
	    strcmp(r->method, "PATCH") == 0) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
		SET(CURLOPT_POSTFIELDS, r->body != NULL ? r->body : "");
	} else
		SET(CURLOPT_HTTPGET, 1L);
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)
		SET(CURLOPT_CUSTOMREQUEST, r->method);
#undef SET
	return cc == CURLE_OK ? 0 : -1;
}

/* Ends r's attempt (h->mu held) and wakes its caller. */
static void
fshttp_finish(struct fshttp_req *r, enum fshttp_end end)
{
	r->end = end;
	pthread_cond_signal(&r->cv);
}

/* Gives an easy handle back to the idle list (or frees it). */
static void
fshttp_easy_put(struct fshttp *h, CURL *c)
{
	if (h->nidle < FSHTTP_EASY_FREE) {
		curl_easy_reset(c);
		h->idle[h->nidle++] = c;
	} else
		curl_easy_cleanup(c);
}

/* Starts the queued requests (taken off the queue under h->mu). */
static void
fshttp_start(struct fshttp *h, struct fshttp_req *list)
{
	struct fshttp_req *r, *next;
	CURL *c;

	for (r = list; r != NULL; r = next) {
		next = r->next;
		c = h->nidle > 0 ? h->idle[--h->nidle] : curl_easy_init();
		if (c == NULL || fshttp_easy_setup(h, c, r) == -1 ||
		    curl_multi_add_handle(h->multi, c) != CURLM_OK) {
			r->cc = c == NULL ? CURLE_OUT_OF_MEMORY :
			    CURLE_FAILED_INIT;
			if (c != NULL)
				curl_easy_cleanup(c);
			pthread_mutex_lock(&h->mu);
			fshttp_finish(r, FSHTTP_DONE);
			pthread_mutex_unlock(&h->mu);
			continue;
		}
		atomic_fetch_add(&h->requests, 1);
		r->easy = c;
		r->next = h->flying;
		h->flying = r;
	}
}

/* Hands the finished transfers back to their callers. */
static void
fshttp_reap(struct fshttp *h)
{
	struct fshttp_req *r, **pp;
	CURLMsg *m;
	int left;
	char *p;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		r = (struct fshttp_req *)(void *)p;
		r->cc = m->data.result;
		r->status = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
		curl_multi_remove_handle(h->multi, r->easy);
		fshttp_easy_put(h, r->easy);
		r->easy = NULL;
		for (pp = &h->flying; *pp != NULL; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		pthread_mutex_lock(&h->mu);
		fshttp_finish(r, FSHTTP_DONE);
		pthread_mutex_unlock(&h->mu);
	}
}

static void *
fshttp_main(void *arg)
{
	struct fshttp *h = arg;
	struct fshttp_req *list, *r;
	bool closing;
	int running;

	for (;;) {
		pthread_mutex_lock(&h->mu);
		closing = h->closing;
		list = closing ? NULL : h->queue;
		if (!closing)
			h->queue = h->queue_tail = NULL;
		pthread_mutex_unlock(&h->mu);
		if (closing)
			break;
		fshttp_start(h, list);
		curl_multi_perform(h->multi, &running);
		fshttp_reap(h);
		curl_multi_poll(h->multi, NULL, 0, FSHTTP_POLL_MS, NULL);
	}
	/* Closing: every call still queued or in flight fails. */
	pthread_mutex_lock(&h->mu);
	while ((r = h->flying) != NULL) {
		h->flying = r->next;
		curl_multi_remove_handle(h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		fshttp_finish(r, FSHTTP_CLOSED);
	}
	while ((r = h->queue) != NULL) {
		h->queue = r->next;
		fshttp_finish(r, FSHTTP_CLOSED);
	}
	h->queue_tail = NULL;
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int
fshttp_open(const struct fshttp_opts *opts, struct fshttp **out,
    struct tp_err *err)
{
	struct fshttp *h;
	bool plain;
	int conns;

	*out = NULL;
	if (opts == NULL || opts->base_url == NULL ||
	    !fshttp_url_ok(opts->base_url, &plain))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "Firestore base URL "
		    "must be https://HOST, or http:// on a loopback address, "
		    "without a trailing slash");
	if (opts->deadline_ms <= 0 || opts->connect_timeout_ms < 0 ||
	    opts->max_conns < 0 || opts->max_conns > FSHTTP_CONNS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "Firestore "
		    "transport: deadline_ms must be > 0, max_conns 0..%d",
		    FSHTTP_CONNS_MAX);
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->base_url = strdup(opts->base_url)) == NULL) {
		free(h);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	h->auth = opts->auth;
	h->deadline_ms = opts->deadline_ms;
	h->connect_timeout_ms = opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : FSHTTP_CONNECT_MS;
	h->max_conns = conns = opts->max_conns > 0 ? opts->max_conns :
	    FSHTTP_CONNS_MAX;
	h->plain_http = plain;
	atomic_init(&h->requests, 0);
	if (pthread_mutex_init(&h->mu, NULL) != 0) {
		free(h->base_url);
		free(h);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "no mutex");
	}
	if (fshttp_cond_init(&h->idle_cv) == -1)
		goto fail_mu;
	if ((h->multi = curl_multi_init()) == NULL)
		goto fail_cv;
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)conns);
	if (pthread_create(&h->th, NULL, fshttp_main, h) != 0) {
		curl_multi_cleanup(h->multi);
		goto fail_cv;
	}
	*out = h;
	return 0;
fail_cv:
	pthread_cond_destroy(&h->idle_cv);
fail_mu:
	pthread_mutex_destroy(&h->mu);
	free(h->base_url);
	free(h);
	return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
	    "cannot start the Firestore transport");
}

void
fshttp_free(struct fshttp *h)
{
	struct fshttp_req *r;
	int i;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->closing = true;
	for (r = h->calls; r != NULL; r = r->call_next)
		pthread_cond_signal(&r->cv);	/* one asleep between tries */
	pthread_mutex_unlock(&h->mu);
	curl_multi_wakeup(h->multi);
	pthread_join(h->th, NULL);
	/* The callers leave on their own; h must outlive them. */
	pthread_mutex_lock(&h->mu);
	while (h->calls != NULL)
		pthread_cond_wait(&h->idle_cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
	for (i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	curl_multi_cleanup(h->multi);
	pthread_cond_destroy(&h->idle_cv);
	pthread_mutex_destroy(&h->mu);
	free(h->base_url);
	free(h);
}

uint64_t
fshttp_requests(const struct fshttp *h)
{
	return atomic_load(&h->requests);
}

/* Wipes and frees the header list (one holds the token). */
static void
fshttp_hdrs_free(struct curl_slist *hdrs)
{
	struct curl_slist *s;

	for (s = hdrs; s != NULL; s = s->next)
		sodium_memzero(s->data, strlen(s->data));
	curl_slist_free_all(hdrs);
}

/* The request's headers, the token fetched now (gauth caches it). */
static int
fshttp_hdrs(struct fshttp *h, bool body, struct curl_slist **out,
    struct tp_err *err)
{
	static const char prefix[] = "Authorization: Bearer ";
	char line[sizeof(prefix) + GAUTH_TOKEN_MAX];
	struct curl_slist *hdrs = NULL, *s;
	int rc = -1;

	*out = NULL;
	memcpy(line, prefix, sizeof(prefix));
	if (h->auth == NULL)
		strcpy(line + sizeof(prefix) - 1, "owner");
	else if (gauth_token(h->auth, line + sizeof(prefix) - 1,
	    GAUTH_TOKEN_MAX, err) == -1)
		goto out;
	if ((s = curl_slist_append(hdrs, line)) == NULL)
		goto oom;
	hdrs = s;
	/* No "Expect: 100-continue" on a large body: a round trip lost. */
	if ((s = curl_slist_append(hdrs, "Expect:")) == NULL)
		goto oom;
	hdrs = s;
	if ((s = curl_slist_append(hdrs, "Accept: application/json")) == NULL)
		goto oom;
	hdrs = s;
	if (body && (s = curl_slist_append(hdrs,
	    "Content-Type: application/json")) == NULL)
		goto oom;
	hdrs = s;
	*out = hdrs;
	hdrs = NULL;
	rc = 0;
	goto out;
oom:
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
out:
	sodium_memzero(line, sizeof(line));
	fshttp_hdrs_free(hdrs);
	return rc;
}

/*
 * Google's status name to our code. A commit whose precondition
 * currentDocument.exists=false meets an existing document gets HTTP 409
 * ALREADY_EXISTS from the emulator (TP_ALREADY_EXISTS; checked by
 * test_fshttp); exists=true on a missing one gets HTTP 404 NOT_FOUND,
 * and an updateTime that does not match HTTP 400 FAILED_PRECONDITION.
 */
static enum tp_code
fshttp_status_code(const char *status)
{
	static const struct {
		const char	*name;
		enum tp_code	 code;
	} map[] = {
		{ "NOT_FOUND", TP_NOT_FOUND },
		{ "ALREADY_EXISTS", TP_ALREADY_EXISTS },
		{ "FAILED_PRECONDITION", TP_FAILED_PRECONDITION },
		{ "INVALID_ARGUMENT", TP_INVALID_ARGUMENT },
		{ "OUT_OF_RANGE", TP_INVALID_ARGUMENT },
		{ "PERMISSION_DENIED", TP_PERMISSION_DENIED },
		{ "UNAUTHENTICATED", TP_UNAUTHENTICATED },
		{ "RESOURCE_EXHAUSTED", TP_RESOURCE_EXHAUSTED },
		{ "DEADLINE_EXCEEDED", TP_DEADLINE_EXCEEDED },
		{ "UNAVAILABLE", TP_UNAVAILABLE },
		/* a transaction's contention: the caller may run it again */
		{ "ABORTED", TP_UNAVAILABLE },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(status, map[i].name) == 0)
			return map[i].code;
	return TP_INTERNAL;
}

/* Without a Google status (a proxy's page, a bare reply), the HTTP code. */
static enum tp_code
fshttp_http_code(long status)
{
	switch (status) {
	case 400:	return TP_INVALID_ARGUMENT;
	case 401:	return TP_UNAUTHENTICATED;
	case 403:	return TP_PERMISSION_DENIED;
	case 404:	return TP_NOT_FOUND;
	case 429:	return TP_RESOURCE_EXHAUSTED;
	case 502:
	case 503:	return TP_UNAVAILABLE;
	case 504:	return TP_DEADLINE_EXCEEDED;
	default:	return TP_INTERNAL;
	}
}

/*
 * Google's error object in a reply: {"error":{...}}, or the same as the
 * single element of an array (a streamed method such as runQuery, even
 * after HTTP 200). NULL when there is none.
 */
static json_object *
fshttp_google_error(json_object *o)
{
	json_object *e;
	size_t i, n;

	if (json_object_is_type(o, json_type_object))
		return json_get_obj(o, "error");
	if (!json_object_is_type(o, json_type_array))
		return NULL;
	n = json_object_array_length(o);
	for (i = 0; i < n; i++)
		if ((e = json_get_obj(json_object_array_get_idx(o, i),
		    "error")) != NULL)
			return e;
	return NULL;
}

/*
 * Sets err from Google's error object (e may be NULL) and the HTTP
 * status; *retry tells whether another attempt may succeed.
 */
static void
fshttp_error(const char *method, long status, json_object *e, bool *retry,
    struct tp_err *err)
{
	const char *st = e != NULL ? json_get_str(e, "status") : NULL;
	const char *msg = e != NULL ? json_get_str(e, "message") : NULL;
	char sst[32], smsg[FSHTTP_SHOWN_MAX];
	enum tp_code code;

	*retry = status == 429 || status == 503 || (st != NULL &&
	    (strcmp(st, "ABORTED") == 0 || strcmp(st, "UNAVAILABLE") == 0 ||
	    strcmp(st, "RESOURCE_EXHAUSTED") == 0));
	code = st != NULL ? fshttp_status_code(st) : fshttp_http_code(status);
	if (st == NULL)
		tp_err_set(err, code, "Firestore %s: HTTP %ld", method, status);
	else
		tp_err_set(err, code, "Firestore %s: HTTP %ld %s: \"%s\"",
		    method, status, tp_err_shown(st, sst, sizeof(sst)),
		    tp_err_shown(msg != NULL ? msg : "", smsg, sizeof(smsg)));
}

/*
 * A curl failure worth another attempt: the request never left (no
 * connection: safe for any call), or its outcome is unknown (safe only
 * when idempotent). curl itself resends once, unasked, a request whose
 * reused keep-alive connection closed before any byte of reply (the
 * server's idle close racing the send); that is not counted here.
 */
static bool
fshttp_curl_retry(CURLcode cc, bool idempotent)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return true;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return idempotent;
	default:
		return false;
	}
}

/*
 * Judges one finished attempt: 0 with *reply on success, else -1 with
 * err and *retry.
 */
static int
fshttp_outcome(struct fshttp_req *r, json_object **reply, bool idempotent,
    bool *retry, struct tp_err *err)
{
	json_object *o = NULL, *e;
	struct tp_err perr;

	*retry = false;
	if (r->end == FSHTTP_CLOSED)
		return tp_err_set(err, TP_UNAVAILABLE,
		    "Firestore %s: the transport is closing", r->method);
	if (r->too_big || r->cc == CURLE_FILESIZE_EXCEEDED)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "Firestore %s: "
		    "reply over %d bytes", r->method, FSHTTP_REPLY_MAX);
	if (r->cc != CURLE_OK) {
		*retry = fshttp_curl_retry(r->cc, idempotent);
		return tp_err_set(err, r->cc == CURLE_OPERATION_TIMEDOUT ?
		    TP_DEADLINE_EXCEEDED : r->cc == CURLE_OUT_OF_MEMORY ?
		    TP_RESOURCE_EXHAUSTED : TP_UNAVAILABLE, "Firestore %s: %s",
		    r->method, r->curl_msg[0] != '\0' ? r->curl_msg :
		    curl_easy_strerror(r->cc));
	}
	if (r->blen > 0)
		o = json_parse(r->buf, r->blen, &perr);
	if (r->status >= 200 && r->status <= 299) {
		if (r->blen == 0)
			o = json_object_new_object();
		if (o == NULL)
			return tp_err_set(err, TP_INTERNAL, "Firestore %s: "
			    "HTTP %ld with a reply that is not JSON",
			    r->method, r->status);
		if ((e = fshttp_google_error(o)) == NULL) {
			*reply = o;
			return 0;
		}
	} else
		e = fshttp_google_error(o);
	fshttp_error(r->method, r->status, e, retry, err);
	json_object_put(o);
	return -1;
}

/* Runs one attempt on the transport's thread: 0 when it ended (r->end
 * says how), -1 when closing had begun. */
static int
fshttp_attempt(struct fshttp *h, struct fshttp_req *r)
{
	r->end = FSHTTP_RUNNING;
	r->cc = CURLE_OK;
	r->status = 0;
	r->blen = 0;
	r->too_big = false;
	r->curl_msg[0] = '\0';
	r->next = NULL;
	pthread_mutex_lock(&h->mu);
	if (h->closing) {
		pthread_mutex_unlock(&h->mu);
		return -1;
	}
	if (h->queue_tail != NULL)
		h->queue_tail->next = r;
	else
		h->queue = r;
	h->queue_tail = r;
	pthread_mutex_unlock(&h->mu);
	curl_multi_wakeup(h->multi);
	pthread_mutex_lock(&h->mu);
	while (r->end == FSHTTP_RUNNING)
		pthread_cond_wait(&r->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

/* Sleeps ms in the caller's thread; false when fshttp_free woke it. */
static bool
fshttp_sleep(struct fshttp *h, struct fshttp_req *r, uint64_t ms)
{
	struct timespec ts;
	bool open;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	while (!h->closing &&
	    pthread_cond_timedwait(&r->cv, &h->mu, &ts) != ETIMEDOUT)
		;
	open = !h->closing;
	pthread_mutex_unlock(&h->mu);
	return open;
}

/*
 * No time for another try: the deadline's code, with the last attempt's
 * error as the message, since that says what kept failing.
 */
static void
fshttp_deadline(const struct fshttp *h, unsigned attempts,
    struct tp_err *err)
{
	char last[TP_ERR_MSG_MAX];

	if (attempts == 0) {
		tp_err_set(err, TP_DEADLINE_EXCEEDED, "deadline of %lld ms "
		    "exceeded before a request", (long long)h->deadline_ms);
		return;
	}
	snprintf(last, sizeof(last), "%s", err->msg);
	tp_err_set(err, TP_DEADLINE_EXCEEDED, "deadline of %lld ms exceeded "
	    "after %u attempts; last: %s", (long long)h->deadline_ms,
	    attempts, last);
}

int
fshttp_call(struct fshttp *h, const char *method, const char *path,
    const char *body, size_t len, bool idempotent, json_object **reply,
    struct tp_err *err)
{
	struct fshttp_req r;
	struct tp_err local;
	uint64_t deadline, now, backoff = FSHTTP_BACKOFF_MS, wait;
	char url[FSHTTP_URL_MAX];
	unsigned attempts = 0;
	bool retry;
	int rc = -1, n;

	*reply = NULL;
	if (err == NULL)
		err = &local;	/* the last attempt's error is read back */
	n = snprintf(url, sizeof(url), "%s%s", h->base_url, path);
	if (n < 0 || (size_t)n >= sizeof(url) || path[0] != '/')
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "Firestore path too long or not absolute");
	if (body == NULL)
		len = 0;
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.url = url;
	r.body = body;
	r.len = len;
	if (fshttp_cond_init(&r.cv) == -1)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "no condition "
		    "variable");
	pthread_mutex_lock(&h->mu);
	if (h->closing) {
		pthread_mutex_unlock(&h->mu);
		pthread_cond_destroy(&r.cv);
		return tp_err_set(err, TP_UNAVAILABLE,
		    "Firestore %s: the transport is closing", method);
	}
	r.call_next = h->calls;
	if (h->calls != NULL)
		h->calls->call_prev = &r;
	h->calls = &r;
	pthread_mutex_unlock(&h->mu);

	deadline = clock_mono_ms() + (uint64_t)h->deadline_ms;
	for (;;) {
		now = clock_mono_ms();
		if (now >= deadline) {
			fshttp_deadline(h, attempts, err);
			break;
		}
		r.timeout_ms = (long)(deadline - now);
		if (fshttp_hdrs(h, body != NULL, &r.hdrs, err) == -1)
			break;
		attempts++;
		if (fshttp_attempt(h, &r) == -1) {
			fshttp_hdrs_free(r.hdrs);
			tp_err_set(err, TP_UNAVAILABLE,
			    "Firestore %s: the transport is closing", method);
			break;
		}
		fshttp_hdrs_free(r.hdrs);
		r.hdrs = NULL;
		if (fshttp_outcome(&r, reply, idempotent, &retry, err) == 0) {
			rc = 0;
			break;
		}
		if (!retry)
			break;
		now = clock_mono_ms();
		wait = randombytes_uniform((uint32_t)backoff + 1);
		backoff = backoff * 2 > FSHTTP_BACKOFF_MAX_MS ?
		    FSHTTP_BACKOFF_MAX_MS : backoff * 2;
		/* A wait past the deadline is cut so that a last try still
		 * has FSHTTP_TRY_MIN_MS; with less left, give up now. */
		if (now + wait + FSHTTP_TRY_MIN_MS > deadline) {
			if (deadline <= now + FSHTTP_TRY_MIN_MS) {
				fshttp_deadline(h, attempts, err);
				break;
			}
			wait = deadline - now - FSHTTP_TRY_MIN_MS;
		}
		if (!fshttp_sleep(h, &r, wait)) {
			tp_err_set(err, TP_UNAVAILABLE,
			    "Firestore %s: the transport is closing", method);
			break;
		}
	}
	free(r.buf);
	pthread_mutex_lock(&h->mu);
	if (r.call_prev != NULL)
		r.call_prev->call_next = r.call_next;
	else
		h->calls = r.call_next;
	if (r.call_next != NULL)
		r.call_next->call_prev = r.call_prev;
	if (h->calls == NULL && h->closing)
		pthread_cond_signal(&h->idle_cv);
	pthread_mutex_unlock(&h->mu);
	pthread_cond_destroy(&r.cv);
	return rc;
}
