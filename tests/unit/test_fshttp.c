/* test_fshttp.c: the Firestore transport against an HTTP server in the test (retries, errors, bounds, concurrency) and against the Firestore emulator. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "common/clock.h"
#include "common/fshttp.h"
#include "common/jsonutil.h"

#define REQ_MAX		65536
#define SCRIPT_MAX	16
#define CONNS_MAX	256

/* What the server does with one request. */
enum act {
	REPLY,		/* status and body, keep-alive */
	CLOSE,		/* reads the request, closes without a word */
	HUGE_LEN,	/* declares a body over FSHTTP_REPLY_MAX */
	HUGE_CHUNKED,	/* streams chunks past FSHTTP_REPLY_MAX */
};

struct answer {
	enum act	 act;
	int		 status;
	const char	*body;
	unsigned	 delay_ms;
};

/* An HTTP/1.1 server on 127.0.0.1: a thread per connection, keep-alive,
 * the n-th request answered by script[n] (then by dflt). */
struct srv {
	int		 fd;
	int		 stop[2];
	pthread_t	 th;
	char		 base[64];
	struct answer	 script[SCRIPT_MAX];
	size_t		 nscript;
	struct answer	 dflt;
	pthread_mutex_t	 mu;
	pthread_t	 conns[CONNS_MAX];
	int		 conn_fds[CONNS_MAX];
	size_t		 nconns;	/* connections accepted */
	size_t		 nreqs;		/* requests read */
	size_t		 active, max_active;	/* requests being answered */
	char		 last[4096];	/* the last request's head and body */
};

static struct srv srv;
static struct tp_err err;

static bool
read_request(int c, char *req, size_t *have, size_t *used)
{
	size_t want = 0;
	char *end, *cl;
	ssize_t n;

	for (;;) {
		req[*have] = '\0';
		if ((end = strstr(req, "\r\n\r\n")) != NULL) {
			cl = strcasestr(req, "Content-Length:");
			want = (size_t)(end + 4 - req) + (cl != NULL && cl < end ?
			    strtoul(cl + 15, NULL, 10) : 0);
			if (*have >= want) {
				*used = want;
				return true;
			}
		}
		if (*have == REQ_MAX - 1)
			return false;
		n = read(c, req + *have, REQ_MAX - 1 - *have);
		if (n <= 0)
			return false;
		*have += (size_t)n;
	}
}

static bool
write_all(int c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(c, p, n, MSG_NOSIGNAL)) <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Streams up to 80 MB; the client hangs up past its bound. */
static void
write_huge(int c, bool chunked)
{
	static char block[1024 * 1024];
	char head[256];
	int i;

	memset(block, 'a', sizeof(block));
	if (chunked)
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
	else
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: %d\r\n\r\n",
		    FSHTTP_REPLY_MAX + 1);
	if (!write_all(c, head, strlen(head)))
		return;
	for (i = 0; i < 80; i++) {
		if (chunked && !write_all(c, "100000\r\n", 8))
			return;
		if (!write_all(c, block, sizeof(block)))
			return;
		if (chunked && !write_all(c, "\r\n", 2))
			return;
	}
}

static void *
conn_main(void *arg)
{
	int c = (int)(intptr_t)arg;
	char *req = malloc(REQ_MAX), head[256];
	struct pollfd pf[2];
	size_t have = 0, used, n;
	struct answer a;

	cr_assert_not_null(req);
	pf[0].fd = c;
	pf[0].events = POLLIN;
	pf[1].fd = srv.stop[0];
	pf[1].events = POLLIN;
	for (;;) {
		if (poll(pf, 2, 30000) <= 0 || pf[1].revents != 0)
			break;
		if (!read_request(c, req, &have, &used))
			break;
		pthread_mutex_lock(&srv.mu);
		n = srv.nreqs++;
		if (++srv.active > srv.max_active)
			srv.max_active = srv.active;
		snprintf(srv.last, sizeof(srv.last), "%.*s", (int)used, req);
		a = n < srv.nscript ? srv.script[n] : srv.dflt;
		pthread_mutex_unlock(&srv.mu);
		memmove(req, req + used, have - used);
		have -= used;
		if (a.delay_ms > 0)
			usleep(a.delay_ms * 1000);
		pthread_mutex_lock(&srv.mu);
		srv.active--;
		pthread_mutex_unlock(&srv.mu);
		if (a.act == CLOSE)
			break;
		if (a.act == HUGE_LEN || a.act == HUGE_CHUNKED) {
			write_huge(c, a.act == HUGE_CHUNKED);
			break;
		}
		snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n\r\n",
		    a.status, strlen(a.body));
		if (!write_all(c, head, strlen(head)) ||
		    !write_all(c, a.body, strlen(a.body)))
			break;
	}
	free(req);
	shutdown(c, SHUT_RDWR);
	return NULL;
}

static void *
srv_main(void *arg)
{
	struct pollfd pf[2];
	pthread_t th;
	int c;

	(void)arg;
	pf[0].fd = srv.fd;
	pf[0].events = POLLIN;
	pf[1].fd = srv.stop[0];
	pf[1].events = POLLIN;
	while (poll(pf, 2, 30000) > 0 && pf[1].revents == 0) {
		if ((c = accept(srv.fd, NULL, NULL)) == -1)
			continue;
		/* The head and the body are two writes: no Nagle delay. */
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		pthread_mutex_lock(&srv.mu);
		if (srv.nconns == CONNS_MAX ||
		    pthread_create(&th, NULL, conn_main, (void *)(intptr_t)c)
		    != 0) {
			pthread_mutex_unlock(&srv.mu);
			close(c);
			continue;
		}
		srv.conn_fds[srv.nconns] = c;
		srv.conns[srv.nconns++] = th;
		pthread_mutex_unlock(&srv.mu);
	}
	return NULL;
}

static void
srv_start(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.mu, NULL);
	srv.dflt = (struct answer){ REPLY, 503, "{}", 0 };
	cr_assert_eq(pipe(srv.stop), 0);
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(srv.fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(srv.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(srv.fd, 128), 0);
	cr_assert_eq(getsockname(srv.fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(srv.base, sizeof(srv.base), "http://127.0.0.1:%u",
	    (unsigned)ntohs(sin.sin_port));
	cr_assert_eq(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
}

static void
srv_stop(void)
{
	size_t i;

	cr_assert_eq(write(srv.stop[1], "x", 1), 1);
	pthread_join(srv.th, NULL);
	for (i = 0; i < srv.nconns; i++) {
		pthread_join(srv.conns[i], NULL);
		close(srv.conn_fds[i]);
	}
	close(srv.fd);
	close(srv.stop[0]);
	close(srv.stop[1]);
	pthread_mutex_destroy(&srv.mu);
}

static void
script(struct answer a)
{
	cr_assert_lt(srv.nscript, SCRIPT_MAX);
	srv.script[srv.nscript++] = a;
}

static size_t
srv_get(size_t *field)
{
	size_t n;

	pthread_mutex_lock(&srv.mu);
	n = *field;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void
setup(void)
{
	cr_assert_geq(sodium_init(), 0);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	tp_err_clear(&err);
	srv_start();
}

static void
teardown(void)
{
	srv_stop();
	curl_global_cleanup();
}

TestSuite(fshttp, .init = setup, .fini = teardown, .timeout = 60);

static struct fshttp *
open_srv(int64_t deadline_ms, int max_conns)
{
	struct fshttp_opts o = {
		.base_url = srv.base, .deadline_ms = deadline_ms,
		.max_conns = max_conns,
	};
	struct fshttp *h;

	cr_assert_eq(fshttp_open(&o, &h, &err), 0, "%s", err.msg);
	return h;
}

#define DOC	"/v1/projects/p/databases/(default)/documents/c/d"
#define GERR(code, st, msg) "{\"error\":{\"code\":" #code ",\"message\":\"" \
	msg "\",\"status\":\"" st "\"}}"

Test(fshttp, retried_after_503_on_one_connection)
{
	struct fshttp *h = open_srv(10000, 0);
	json_object *r;
	int64_t a;

	script((struct answer){ REPLY, 503, "{}", 0 });
	script((struct answer){ REPLY, 503, "Service Unavailable", 0 });
	script((struct answer){ REPLY, 200, "{\"a\":1}", 0 });
	cr_assert_eq(fshttp_call(h, "GET", DOC, NULL, 0, false, &r, &err), 0,
	    "%s", err.msg);
	cr_assert(json_get_int(r, "a", &a) && a == 1);
	json_object_put(r);
	cr_assert_eq(fshttp_requests(h), 3);
	cr_assert_eq(srv_get(&srv.nreqs), 3);
	cr_assert_eq(srv_get(&srv.nconns), 1, "keep-alive");
	cr_assert_not_null(strstr(srv.last, "GET " DOC " HTTP/1.1\r\n"));
	cr_assert_not_null(strstr(srv.last, "Authorization: Bearer owner\r\n"));
	cr_assert_null(strstr(srv.last, "Content-Type"));
	fshttp_free(h);
}

Test(fshttp, retried_after_429_with_backoff)
{
	struct fshttp *h = open_srv(10000, 0);
	json_object *r;
	uint64_t t0 = clock_mono_ms();

	script((struct answer){ REPLY, 429, GERR(429, "RESOURCE_EXHAUSTED",
	    "quota"), 0 });
	script((struct answer){ REPLY, 429, "{}", 0 });
	script((struct answer){ REPLY, 429, "{}", 0 });
	script((struct answer){ REPLY, 200, "", 0 });
	cr_assert_eq(fshttp_call(h, "POST", DOC ":commit", "{}", 2, false, &r,
	    &err), 0, "%s", err.msg);
	/* An empty body is an empty object. */
	cr_assert(json_object_is_type(r, json_type_object));
	cr_assert_eq(json_object_object_length(r), 0);
	json_object_put(r);
	cr_assert_eq(fshttp_requests(h), 4);
	/* Waits of at most 100, 200 and 400 ms. */
	cr_assert_lt(clock_mono_ms() - t0, 2000);
	cr_assert_not_null(strstr(srv.last, "POST " DOC ":commit HTTP/1.1"));
	cr_assert_not_null(strstr(srv.last,
	    "Content-Type: application/json\r\n"));
	cr_assert_not_null(strstr(srv.last, "\r\n\r\n{}"));
	fshttp_free(h);
}

Test(fshttp, aborted_status_retried)
{
	struct fshttp *h = open_srv(10000, 0);
	json_object *r;

	script((struct answer){ REPLY, 409, GERR(409, "ABORTED",
	    "Too much contention on these documents."), 0 });
	script((struct answer){ REPLY, 400, "[" GERR(400, "UNAVAILABLE",
	    "x") "]", 0 });
	script((struct answer){ REPLY, 200, "[{\"readTime\":\"t\"}]", 0 });
	cr_assert_eq(fshttp_call(h, "POST", DOC ":runQuery", "{}", 2, false,
	    &r, &err), 0, "%s", err.msg);
	cr_assert(json_object_is_type(r, json_type_array));
	json_object_put(r);
	cr_assert_eq(fshttp_requests(h), 3);
	fshttp_free(h);
}

Test(fshttp, errors_mapped_without_retry)
{
	static const struct {
		struct answer	 a;
		enum tp_code	 code;
		const char	*msg;
	} cases[] = {
		{ { REPLY, 404, GERR(404, "NOT_FOUND", "Document (projects\\/p"
		    "\\/c\\/d) not found."), 0 }, TP_NOT_FOUND,
		    "Firestore GET: HTTP 404 NOT_FOUND: \"Document (projects/p"
		    "/c/d) not found.\"" },
		{ { REPLY, 409, GERR(409, "ALREADY_EXISTS", "exists"), 0 },
		    TP_ALREADY_EXISTS, NULL },
		{ { REPLY, 400, GERR(400, "FAILED_PRECONDITION", "no index"),
		    0 }, TP_FAILED_PRECONDITION, NULL },
		{ { REPLY, 400, GERR(400, "INVALID_ARGUMENT", "bad"), 0 },
		    TP_INVALID_ARGUMENT, NULL },
		{ { REPLY, 403, GERR(403, "PERMISSION_DENIED", "no"), 0 },
		    TP_PERMISSION_DENIED, NULL },
		{ { REPLY, 401, GERR(401, "UNAUTHENTICATED", "no"), 0 },
		    TP_UNAUTHENTICATED, NULL },
		{ { REPLY, 500, GERR(500, "INTERNAL", "oops"), 0 },
		    TP_INTERNAL, NULL },
		{ { REPLY, 504, GERR(504, "DEADLINE_EXCEEDED", "slow"), 0 },
		    TP_DEADLINE_EXCEEDED, NULL },
		/* Not Google's error: the HTTP code alone. */
		{ { REPLY, 500, "<html>Bearer secret</html>", 0 }, TP_INTERNAL,
		    "Firestore GET: HTTP 500" },
		{ { REPLY, 404, "{\"error\":\"x\"}", 0 }, TP_NOT_FOUND,
		    "Firestore GET: HTTP 404" },
		/* A hostile message is shown as printable text, cut. */
		{ { REPLY, 400, GERR(400, "INVALID_ARGUMENT", "a\\r\\nX: y\\u0001"
		    "\\\"z"), 0 }, TP_INVALID_ARGUMENT,
		    "Firestore GET: HTTP 400 INVALID_ARGUMENT: \"a??X: y?\"z\"" },
		/* An error inside a streamed reply, after HTTP 200. */
		{ { REPLY, 200, "[" GERR(400, "FAILED_PRECONDITION", "index")
		    "]", 0 }, TP_FAILED_PRECONDITION,
		    "Firestore GET: HTTP 200 FAILED_PRECONDITION: \"index\"" },
		{ { REPLY, 200, "{\"a\":", 0 }, TP_INTERNAL,
		    "Firestore GET: HTTP 200 with a reply that is not JSON" },
	};
	struct fshttp *h = open_srv(10000, 0);
	json_object *r;
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	for (i = 0; i < n; i++)
		script(cases[i].a);
	for (i = 0; i < n; i++) {
		cr_assert_eq(fshttp_call(h, "GET", DOC, NULL, 0, true, &r,
		    &err), -1, "case %zu", i);
		cr_assert_null(r);
		cr_assert_eq(err.code, cases[i].code, "case %zu: %s", i,
		    err.msg);
		if (cases[i].msg != NULL)
			cr_assert_str_eq(err.msg, cases[i].msg, "case %zu", i);
		cr_assert_null(strstr(err.msg, "Bearer"));
		cr_assert_null(strstr(err.msg, "owner"));
	}
	cr_assert_eq(fshttp_requests(h), n, "none retried");
	fshttp_free(h);
}

/* A write whose outcome is unknown is not sent twice; a read is. */
Test(fshttp, connection_closed_retried_only_when_idempotent)
{
	struct fshttp *h = open_srv(10000, 0);
	json_object *r;

	script((struct answer){ CLOSE, 0, "", 0 });
	script((struct answer){ CLOSE, 0, "", 0 });
	script((struct answer){ REPLY, 200, "{}", 0 });
	cr_assert_eq(fshttp_call(h, "POST", DOC ":commit", "{}", 2, false, &r,
	    &err), -1);
	cr_assert_eq(err.code, TP_UNAVAILABLE, "%s", err.msg);
	cr_assert_eq(fshttp_requests(h), 1);
	cr_assert_eq(srv_get(&srv.nreqs), 1);
	cr_assert_eq(fshttp_call(h, "POST", DOC ":runQuery", "{}", 2, true,
	    &r, &err), 0, "%s", err.msg);
	json_object_put(r);
	cr_assert_eq(fshttp_requests(h), 3);
	cr_assert_eq(srv_get(&srv.nreqs), 3);
	fshttp_free(h);
}

/* Nothing listens: the request never left, so even a write is retried
 * until the deadline. */
Test(fshttp, refused_connection_retried_until_deadline)
{
	struct fshttp_opts o = {
		.base_url = "http://127.0.0.1:1", .deadline_ms = 800,
	};
	struct fshttp *h;
	json_object *r;
	uint64_t t0 = clock_mono_ms();

	cr_assert_eq(fshttp_open(&o, &h, &err), 0, "%s", err.msg);
	cr_assert_eq(fshttp_call(h, "POST", DOC ":commit", "{}", 2, false, &r,
	    &err), -1);
	cr_assert_eq(err.code, TP_DEADLINE_EXCEEDED, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "last: Firestore POST: "), "%s",
	    err.msg);
	cr_assert_gt(fshttp_requests(h), 1);
	cr_assert_lt(clock_mono_ms() - t0, 2000);
	fshttp_free(h);
}

Test(fshttp, deadline_bounds_retries)
{
	struct fshttp *h = open_srv(1000, 0);
	json_object *r;
	uint64_t t0 = clock_mono_ms(), dt;

	cr_assert_eq(fshttp_call(h, "GET", DOC, NULL, 0, true, &r, &err), -1);
	dt = clock_mono_ms() - t0;
	cr_assert_eq(err.code, TP_DEADLINE_EXCEEDED, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "deadline of 1000 ms exceeded "
	    "after "), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "; last: Firestore GET: HTTP 503"),
	    "%s", err.msg);
	/* The last try is made with the time left. */
	cr_assert_geq(dt, 850, "took %llu ms", (unsigned long long)dt);
	cr_assert_lt(dt, 2000, "took %llu ms", (unsigned long long)dt);
	/* Backoff: waits of up to 100, 200, 400, 800 ms, not a busy loop. */
	cr_assert_geq(fshttp_requests(h), 2);
	cr_assert_leq(fshttp_requests(h), 30);
	fshttp_free(h);
}

/* A server that never answers: the one attempt's timeout is the time
 * left. */
Test(fshttp, deadline_cuts_a_hanging_request)
{
	struct fshttp *h = open_srv(700, 0);
	json_object *r;
	uint64_t t0 = clock_mono_ms(), dt;

	script((struct answer){ REPLY, 200, "{}", 5000 });
	cr_assert_eq(fshttp_call(h, "POST", DOC ":commit", "{}", 2, false, &r,
	    &err), -1);
	dt = clock_mono_ms() - t0;
	cr_assert_eq(err.code, TP_DEADLINE_EXCEEDED, "%s", err.msg);
	cr_assert_geq(dt, 650);
	cr_assert_lt(dt, 1500, "took %llu ms", (unsigned long long)dt);
	cr_assert_eq(fshttp_requests(h), 1);
	fshttp_free(h);
}

Test(fshttp, reply_too_large_refused)
{
	struct fshttp *h = open_srv(20000, 0);
	json_object *r;

	script((struct answer){ HUGE_LEN, 0, "", 0 });
	script((struct answer){ HUGE_CHUNKED, 0, "", 0 });
	cr_assert_eq(fshttp_call(h, "GET", DOC, NULL, 0, true, &r, &err), -1);
	cr_assert_eq(err.code, TP_RESOURCE_EXHAUSTED, "%s", err.msg);
	cr_assert_str_eq(err.msg, "Firestore GET: reply over 67108864 bytes");
	cr_assert_eq(fshttp_call(h, "GET", DOC, NULL, 0, true, &r, &err), -1);
	cr_assert_eq(err.code, TP_RESOURCE_EXHAUSTED, "%s", err.msg);
	cr_assert_eq(fshttp_requests(h), 2, "not retried");
	fshttp_free(h);
}

struct caller {
	struct fshttp	*h;
	int		 i;
	int		 rc;
	struct tp_err	 err;
};

static void *
caller_main(void *arg)
{
	struct caller *c = arg;
	json_object *r;
	char body[64];
	int n;

	n = snprintf(body, sizeof(body), "{\"i\":%d}", c->i);
	c->rc = fshttp_call(c->h, "PATCH", DOC, body, (size_t)n, true, &r,
	    &c->err);
	if (c->rc == 0)
		json_object_put(r);
	return NULL;
}

static uint64_t
run_callers(struct fshttp *h, int n)
{
	struct caller c[32];
	pthread_t th[32];
	uint64_t t0 = clock_mono_ms();
	int i;

	for (i = 0; i < n; i++) {
		c[i] = (struct caller){ .h = h, .i = i };
		cr_assert_eq(pthread_create(&th[i], NULL, caller_main, &c[i]),
		    0);
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(c[i].rc, 0, "caller %d: %s", i, c[i].err.msg);
	}
	return clock_mono_ms() - t0;
}

Test(fshttp, many_threads_in_flight_at_once)
{
	struct fshttp *h = open_srv(20000, 0);
	uint64_t dt;

	srv.dflt = (struct answer){ REPLY, 200, "{\"ok\":true}", 300 };
	dt = run_callers(h, 32);
	cr_assert_eq(fshttp_requests(h), 32);
	cr_assert_eq(srv_get(&srv.nreqs), 32);
	/* Serially it would take 9.6 s. */
	cr_assert_geq(srv_get(&srv.max_active), 24, "only %zu at once",
	    srv_get(&srv.max_active));
	cr_assert_lt(dt, 3000, "took %llu ms", (unsigned long long)dt);
	cr_assert_not_null(strstr(srv.last, "PATCH " DOC " HTTP/1.1"));
	cr_assert_not_null(strstr(srv.last, "\r\n\r\n{\"i\":"));
	fshttp_free(h);
}

Test(fshttp, max_conns_bounds_connections)
{
	struct fshttp *h = open_srv(20000, 4);

	srv.dflt = (struct answer){ REPLY, 200, "{}", 100 };
	run_callers(h, 32);
	cr_assert_eq(srv_get(&srv.nreqs), 32);
	cr_assert_leq(srv_get(&srv.nconns), 4);
	cr_assert_leq(srv_get(&srv.max_active), 4);
	fshttp_free(h);
}

/* Freeing fails the calls in flight at once and waits for them. */
Test(fshttp, free_fails_calls_in_flight)
{
	struct fshttp *h = open_srv(20000, 0);
	struct caller c[4];
	pthread_t th[4];
	uint64_t t0;
	int i;

	srv.dflt = (struct answer){ REPLY, 200, "{}", 3000 };
	for (i = 0; i < 4; i++) {
		c[i] = (struct caller){ .h = h, .i = i };
		cr_assert_eq(pthread_create(&th[i], NULL, caller_main, &c[i]),
		    0);
	}
	usleep(300 * 1000);
	t0 = clock_mono_ms();
	fshttp_free(h);
	cr_assert_lt(clock_mono_ms() - t0, 1000);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(c[i].rc, -1);
		cr_assert_eq(c[i].err.code, TP_UNAVAILABLE, "%s",
		    c[i].err.msg);
		cr_assert_str_eq(c[i].err.msg,
		    "Firestore PATCH: the transport is closing");
	}
}

Test(fshttp, base_url_checked)
{
	static const char *const bad[] = {
		"http://example.com", "http://127.0.0.1:8080/", "ftp://x",
		"https://", "https://host/\r\nX: y", "http://127.0.0.10:80",
		"http://localhost.evil.com", "",
	};
	static const char *const good[] = {
		"https://firestore.googleapis.com", "http://127.0.0.1:8080",
		"http://localhost:1", "http://[::1]:9",
	};
	struct fshttp_opts o = { .deadline_ms = 1000 };
	struct fshttp *h;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.base_url = bad[i];
		cr_assert_eq(fshttp_open(&o, &h, &err), -1, "%s", bad[i]);
		cr_assert_null(h);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		o.base_url = good[i];
		cr_assert_eq(fshttp_open(&o, &h, &err), 0, "%s: %s", good[i],
		    err.msg);
		fshttp_free(h);
	}
	o.base_url = good[0];
	o.deadline_ms = 0;
	cr_assert_eq(fshttp_open(&o, &h, &err), -1);
	o.deadline_ms = 1000;
	o.max_conns = FSHTTP_CONNS_MAX + 1;
	cr_assert_eq(fshttp_open(&o, &h, &err), -1);
}

/*
 * Against the Firestore emulator (TP_FS_EMULATOR_HOST=host:port), each
 * test in a project of its own.
 */
static struct fshttp *emu;
static char emu_docs[256];

static void
emu_setup(void)
{
	const char *host = getenv("TP_FS_EMULATOR_HOST");
	struct fshttp_opts o = { .deadline_ms = 10000 };
	char base[160], id[32];

	cr_assert_geq(sodium_init(), 0);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	emu = NULL;
	if (host == NULL || *host == '\0')
		return;
	snprintf(base, sizeof(base), "http://%s", host);
	o.base_url = base;
	cr_assert_eq(fshttp_open(&o, &emu, &err), 0, "%s", err.msg);
	snprintf(id, sizeof(id), "fshttp-%08x", randombytes_random());
	snprintf(emu_docs, sizeof(emu_docs),
	    "/v1/projects/%s/databases/(default)/documents", id);
}

static void
emu_teardown(void)
{
	fshttp_free(emu);
	curl_global_cleanup();
}

TestSuite(emulator, .init = emu_setup, .fini = emu_teardown, .timeout = 60);

#define NEED_EMULATOR() do { \
	if (emu == NULL) \
		cr_skip_test("TP_FS_EMULATOR_HOST is not set: no Firestore " \
		    "emulator to test against"); \
} while (0)

static json_object *
emu_call(const char *method, const char *suffix, const char *body)
{
	char path[512];
	json_object *r;

	snprintf(path, sizeof(path), "%s%s", emu_docs, suffix);
	cr_assert_eq(fshttp_call(emu, method, path, body, body != NULL ?
	    strlen(body) : 0, true, &r, &err), 0, "%s %s: %s", method, path,
	    err.msg);
	return r;
}

Test(emulator, patch_then_get)
{
	json_object *r, *f;
	const char *v;

	NEED_EMULATOR();
	r = emu_call("PATCH", "/t/d1", "{\"fields\":{\"a\":{\"stringValue\":"
	    "\"x\"}}}");
	json_object_put(r);
	r = emu_call("GET", "/t/d1", NULL);
	f = json_get_obj(json_get_obj(r, "fields"), "a");
	cr_assert_not_null(f);
	v = json_get_str(f, "stringValue");
	cr_assert_not_null(v);
	cr_assert_str_eq(v, "x");
	cr_assert_not_null(strstr(json_get_str(r, "name"), "/documents/t/d1"));
	json_object_put(r);
	cr_assert_eq(fshttp_requests(emu), 2);
}

Test(emulator, run_query_is_an_array)
{
	json_object *r;

	NEED_EMULATOR();
	json_object_put(emu_call("PATCH", "/t/a", "{\"fields\":{}}"));
	json_object_put(emu_call("PATCH", "/t/b", "{\"fields\":{}}"));
	r = emu_call("POST", ":runQuery", "{\"structuredQuery\":{\"from\":"
	    "[{\"collectionId\":\"t\"}]}}");
	cr_assert(json_object_is_type(r, json_type_array));
	cr_assert_eq(json_object_array_length(r), 2);
	cr_assert_not_null(json_get_obj(json_object_array_get_idx(r, 0),
	    "document"));
	json_object_put(r);
}

/* The emulator answers HTTP 409 ALREADY_EXISTS to a create over an
 * existing document. */
Test(emulator, create_over_existing_is_already_exists)
{
	char body[512], path[300];
	json_object *r;

	NEED_EMULATOR();
	json_object_put(emu_call("PATCH", "/t/d", "{\"fields\":{}}"));
	snprintf(body, sizeof(body), "{\"writes\":[{\"update\":{\"name\":"
	    "\"%s/t/d\",\"fields\":{}},\"currentDocument\":{\"exists\":false}}"
	    "]}", emu_docs + 4);
	snprintf(path, sizeof(path), "%s:commit", emu_docs);
	cr_assert_eq(fshttp_call(emu, "POST", path, body, strlen(body), false,
	    &r, &err), -1);
	cr_assert_eq(err.code, TP_ALREADY_EXISTS, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "HTTP 409 ALREADY_EXISTS"), "%s",
	    err.msg);
	cr_assert_eq(fshttp_requests(emu), 2, "not retried");
}

Test(emulator, missing_document_is_not_found)
{
	char path[300];
	json_object *r;

	NEED_EMULATOR();
	snprintf(path, sizeof(path), "%s/t/none", emu_docs);
	cr_assert_eq(fshttp_call(emu, "GET", path, NULL, 0, true, &r, &err),
	    -1);
	cr_assert_eq(err.code, TP_NOT_FOUND, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "HTTP 404 NOT_FOUND: \"Document"),
	    "%s", err.msg);
	cr_assert_eq(fshttp_requests(emu), 1);
}
