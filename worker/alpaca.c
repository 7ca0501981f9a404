/* alpaca.c: the Alpaca client: URLs, the token bucket and backoff, requests, the loop. */
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

static const char *const alpaca_kind_names[ALPACA_NKINDS] = {
	[ALPACA_ACCOUNT] = "account",
	[ALPACA_TRADES_LATEST] = "trades_latest",
	[ALPACA_BARS] = "bars",
};

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
	r->start_at = clock_mono_ms();
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

/*
 * The newest `limit` daily bars, newest first. Alpaca's bars start by
 * default at the beginning of the current day, so an early start with
 * sort=desc asks for the latest ones whatever the worker's clock says
 * (alpaca-sim's market has its own frozen date).
 */
struct alpaca_req *
alpaca_daily_bars(struct alpaca *a, const struct alpaca_call *call,
    const char *symbol, unsigned limit, alpaca_done_fn *done, void *arg,
    struct tp_err *err)
{
	char path[32 + ALPACA_SYMBOL_MAX * 3], query[96];
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
	if (limit < 1 || limit > ALPACA_BARS_MAX) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "bars limit must be "
		    "1..%d", ALPACA_BARS_MAX);
		return NULL;
	}
	off = (size_t)snprintf(path, sizeof(path), "/v2/stocks/");
	if (alpaca_escape(symbol, path, sizeof(path), &off) == -1 ||
	    off + sizeof("/bars") > sizeof(path)) {
		tp_err_set(err, TP_INTERNAL, "bars path too long");
		return NULL;
	}
	memcpy(path + off, "/bars", sizeof("/bars"));
	snprintf(query, sizeof(query), "?timeframe=1Day&start=%s&limit=%u"
	    "&sort=desc", ALPACA_BARS_START, limit);
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

	now = clock_mono_ms();
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
	now = clock_mono_ms();
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

const char *
alpaca_kind_name(enum alpaca_kind k)
{
	return (unsigned)k < ALPACA_NKINDS ? alpaca_kind_names[k] : "unknown";
}
