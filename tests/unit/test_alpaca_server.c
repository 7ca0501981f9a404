/* test_alpaca_server.c: the worker's Alpaca client's transfers against a scripted local server: headers, retries, 429, limits, deadlines. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "tests/unit/alpaca_fixture.h"
#include "worker/alpaca.h"

static struct tp_err err;

static void
setup(void)
{
	alpaca_fixture_init(&err);
}

TestSuite(alpaca, .init = setup);

#define SRV_MAX		16
#define SRV_REQ_MAX	4096

/*
 * A one-thread HTTP/1.1 server on 127.0.0.1: answers the n-th request
 * (on whatever connection, keep-alive) with replies[n], and keeps the
 * request's head for the test to check.
 */
struct srv {
	int		 fd;
	uint16_t	 port;
	pthread_t	 th;
	pthread_mutex_t	 mu;
	char		*replies[SRV_MAX];
	size_t		 nreplies;
	char		 reqs[SRV_MAX][SRV_REQ_MAX];
	size_t		 nreqs;
	int		 stop[2];
};

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd pf[2 + 8];
	char buf[SRV_REQ_MAX], *reply;
	size_t npf = 2, i, k;
	ssize_t n;
	int c;
	size_t have[8] = { 0 };
	char heads[8][SRV_REQ_MAX];

	pf[0].fd = s->fd;
	pf[0].events = POLLIN;
	pf[1].fd = s->stop[0];
	pf[1].events = POLLIN;
	for (;;) {
		if (poll(pf, npf, 5000) <= 0 || pf[1].revents != 0)
			break;
		if ((pf[0].revents & POLLIN) && npf < 10 &&
		    (c = accept(s->fd, NULL, NULL)) != -1) {
			pf[npf].fd = c;
			pf[npf].events = POLLIN;
			pf[npf].revents = 0;
			have[npf - 2] = 0;
			npf++;
		}
		for (i = 2; i < npf; i++) {
			if (pf[i].revents == 0)
				continue;
			k = i - 2;
			n = read(pf[i].fd, buf, sizeof(buf) - 1);
			if (n <= 0) {
				close(pf[i].fd);
				pf[i] = pf[npf - 1];
				have[k] = have[npf - 3];
				memcpy(heads[k], heads[npf - 3], SRV_REQ_MAX);
				npf--;
				i--;
				continue;
			}
			if (have[k] + (size_t)n >= SRV_REQ_MAX)
				n = (ssize_t)(SRV_REQ_MAX - 1 - have[k]);
			memcpy(heads[k] + have[k], buf, (size_t)n);
			have[k] += (size_t)n;
			heads[k][have[k]] = '\0';
			if (strstr(heads[k], "\r\n\r\n") == NULL)
				continue;
			pthread_mutex_lock(&s->mu);
			reply = s->nreqs < s->nreplies ? s->replies[s->nreqs] :
			    NULL;
			if (s->nreqs < SRV_MAX)
				memcpy(s->reqs[s->nreqs++], heads[k],
				    have[k] + 1);
			pthread_mutex_unlock(&s->mu);
			have[k] = 0;
			if (reply == NULL)
				reply = "HTTP/1.1 500 Internal Server Error\r\n"
				    "Content-Length: 0\r\n\r\n";
			if (write(pf[i].fd, reply, strlen(reply)) < 0)
				break;
		}
	}
	for (i = 2; i < npf; i++)
		close(pf[i].fd);
	return NULL;
}

static void
srv_start(struct srv *s)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	cr_assert_eq(pipe(s->stop), 0);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(s->fd, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(s->fd, 16), 0);
	cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
}

static void
srv_reply(struct srv *s, int status, const char *extra, const char *body)
{
	char *r;

	cr_assert_lt(s->nreplies, SRV_MAX);
	cr_assert_neq(asprintf(&r, "HTTP/1.1 %d X\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\n%s\r\n%s", status,
	    strlen(body), extra != NULL ? extra : "", body), -1);
	s->replies[s->nreplies++] = r;
}

static void
srv_go(struct srv *s)
{
	cr_assert_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s)
{
	size_t i;

	if (write(s->stop[1], "x", 1) != 1)
		cr_assert_fail("cannot stop the server");
	pthread_join(s->th, NULL);
	close(s->fd);
	close(s->stop[0]);
	close(s->stop[1]);
	for (i = 0; i < s->nreplies; i++)
		free(s->replies[i]);
}

struct outcome {
	bool		 done;
	json_object	*reply;
	struct tp_err	 err;
	bool		 failed;
};

static void
on_done(void *arg, struct alpaca_req *r, json_object *reply,
    const struct tp_err *e)
{
	struct outcome *o = arg;

	(void)r;
	o->done = true;
	o->reply = reply;
	if (reply == NULL) {
		o->failed = true;
		o->err = *e;
	}
}

/* The event loop of a worker, with poll(2) instead of zmq_poll. */
static void
drive(struct alpaca *a, struct outcome *o, uint64_t max_ms)
{
	struct pollfd fds[64];
	uint64_t end = clock_mono_ms() + max_ms;
	int64_t t;
	size_t n, i;

	while (!o->done && clock_mono_ms() < end) {
		n = alpaca_pollfds(a, fds, 64);
		cr_assert_leq(n, 64);
		t = alpaca_timeout(a, clock_mono_ms());
		if (t < 0 || t > 100)
			t = 100;
		if (poll(fds, n, (int)t) > 0)
			for (i = 0; i < n; i++)
				if (fds[i].revents != 0)
					alpaca_ready(a, fds[i].fd,
					    fds[i].revents);
		alpaca_run(a);
	}
	cr_assert(o->done, "no answer within %lu ms", (unsigned long)max_ms);
}

struct client {
	struct alpaca		*a;
	struct alpaca_bucket	 bucket;
	struct alpaca_stats	 stats;
	struct alpaca_call	 call;
	char			 url[64];
};

static void
client_new(struct client *c, struct srv *s, uint64_t deadline_ms)
{
	struct alpaca_conf conf;

	memset(c, 0, sizeof(*c));
	snprintf(c->url, sizeof(c->url), "http://127.0.0.1:%u",
	    (unsigned)s->port);
	memset(&conf, 0, sizeof(conf));
	conf.trading_url = c->url;
	conf.data_url = c->url;
	c->a = alpaca_new(&conf, &err);
	cr_assert_not_null(c->a, "%s", err.msg);
	alpaca_bucket_init(&c->bucket, 200, clock_mono_ms());
	c->call.key_id = "PKTESTKEY1";
	c->call.secret = "s3cr3t-value";
	c->call.uid = "alice";
	c->call.bucket = &c->bucket;
	c->call.stats = &c->stats;
	c->call.deadline = clock_mono_ms() + deadline_ms;
}

#define ACCOUNT_OK "{\"id\": \"a\", \"status\": \"ACTIVE\", \"equity\": \"5\"}"

Test(alpaca, account_request_and_headers)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;

	srv_start(&s);
	srv_reply(&s, 200, NULL, ACCOUNT_OK);
	srv_go(&s);
	client_new(&c, &s, 5000);
	cr_assert_not_null(alpaca_account(c.a, &c.call, on_done, &o, &err));
	drive(c.a, &o, 5000);
	cr_assert_not(o.failed, "%s", o.err.msg);
	cr_assert_str_eq(json_get_str(o.reply, "equity"), "5");
	cr_assert_eq(strncmp(s.reqs[0], "GET /v2/account HTTP/1.1\r\n", 26), 0,
	    "%s", s.reqs[0]);
	cr_assert_not_null(strstr(s.reqs[0], "APCA-API-KEY-ID: PKTESTKEY1\r\n"));
	cr_assert_not_null(strstr(s.reqs[0],
	    "APCA-API-SECRET-KEY: s3cr3t-value\r\n"));
	cr_assert_eq(c.stats.requests[ALPACA_ACCOUNT], 1);
	cr_assert_eq(c.stats.retries, 0);
	cr_assert_eq(alpaca_pending(c.a), 0);
	json_object_put(o.reply);
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, trades_latest_and_bars_urls)
{
	const char *syms[] = { "AAPL", "BRK.B", "BF/B" };
	struct alpaca_bar *bars;
	struct outcome o = { 0 }, ob = { 0 };
	struct client c;
	struct srv s;
	size_t n;

	srv_start(&s);
	srv_reply(&s, 200, NULL, "{\"trades\": {\"AAPL\": {\"p\": 1.5}}}");
	srv_reply(&s, 200, NULL, "{\"bars\": [{\"c\": 1, \"h\": 1, \"l\": 1, "
	    "\"n\": 1, \"o\": 1, \"t\": \"2024-01-02T05:00:00Z\", \"v\": 3, "
	    "\"vw\": 1}], \"symbol\": \"BF/B\", \"next_page_token\": null}");
	srv_go(&s);
	client_new(&c, &s, 5000);
	cr_assert_not_null(alpaca_trades_latest(c.a, &c.call, syms, 3, on_done,
	    &o, &err), "%s", err.msg);
	drive(c.a, &o, 5000);
	cr_assert_not(o.failed, "%s", o.err.msg);
	cr_assert_eq(strncmp(s.reqs[0], "GET /v2/stocks/trades/latest?symbols="
	    "AAPL,BRK.B,BF%2FB HTTP/1.1", 63), 0, "%s", s.reqs[0]);
	json_object_put(o.reply);
	cr_assert_not_null(alpaca_bars(c.a, &c.call, "BF/B", "1Day", 5,
	    on_done, &ob, &err), "%s", err.msg);
	drive(c.a, &ob, 5000);
	cr_assert_not(ob.failed, "%s", ob.err.msg);
	cr_assert_eq(strncmp(s.reqs[1], "GET /v2/stocks/BF%2FB/bars?"
	    "timeframe=1Day&limit=5 HTTP/1.1", 57), 0, "%s", s.reqs[1]);
	cr_assert_eq(alpaca_parse_bars(ob.reply, "BF/B", &bars, &n, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(bars[0].v, 3);
	free(bars);
	json_object_put(ob.reply);
	cr_assert_eq(c.stats.requests[ALPACA_TRADES_LATEST], 1);
	cr_assert_eq(c.stats.requests[ALPACA_BARS], 1);
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, request_arguments_checked)
{
	const char *many[ALPACA_SYMBOLS_PER_REQ + 1];
	const char *bad[] = { "aapl" };
	struct outcome o = { 0 };
	struct client c;
	struct srv s;
	size_t i;

	srv_start(&s);
	client_new(&c, &s, 5000);
	for (i = 0; i <= ALPACA_SYMBOLS_PER_REQ; i++)
		many[i] = "AAPL";
	cr_assert_null(alpaca_trades_latest(c.a, &c.call, many,
	    ALPACA_SYMBOLS_PER_REQ + 1, on_done, &o, &err));
	cr_assert_null(alpaca_trades_latest(c.a, &c.call, many, 0, on_done,
	    &o, &err));
	cr_assert_null(alpaca_trades_latest(c.a, &c.call, bad, 1, on_done,
	    &o, &err));
	cr_assert_null(alpaca_bars(c.a, &c.call, "AAPL", "7Day", 5, on_done,
	    &o, &err));
	cr_assert_null(alpaca_bars(c.a, &c.call, "AAPL", "5Month", 5, on_done,
	    &o, &err));
	cr_assert_null(alpaca_bars(c.a, &c.call, "AAPL", "1Day", 0, on_done,
	    &o, &err));
	cr_assert_null(alpaca_bars(c.a, &c.call, "AAPL", "1Day",
	    ALPACA_BARS_MAX + 1, on_done, &o, &err));
	cr_assert_not_null(alpaca_bars(c.a, &c.call, "AAPL", "15Min", 1,
	    on_done, &o, &err));
	cr_assert_eq(alpaca_pending(c.a), 1);
	/* ended before it ran: no callback, nothing leaks */
	alpaca_free(c.a);
	cr_assert_not(o.done);
	srv_go(&s);
	srv_stop(&s);
}

Test(alpaca, unauthorized_not_retried)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;

	srv_start(&s);
	srv_reply(&s, 401, NULL, "{\"code\": 40110000, \"message\": "
	    "\"request is not authorized\"}");
	srv_reply(&s, 200, NULL, ACCOUNT_OK);
	srv_go(&s);
	client_new(&c, &s, 5000);
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 5000);
	cr_assert(o.failed);
	cr_assert_eq(o.err.code, TP_UNAUTHENTICATED);
	cr_assert_str_eq(o.err.msg, "Alpaca rejected the API keys (HTTP 401): "
	    "check the key id and secret with `tradepulse keys set alice`");
	cr_assert_eq(s.nreqs, 1);
	cr_assert_eq(c.stats.retries, 0);
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, server_error_retried)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;

	srv_start(&s);
	srv_reply(&s, 503, NULL, "busy");
	srv_reply(&s, 502, NULL, "");
	srv_reply(&s, 200, NULL, ACCOUNT_OK);
	srv_go(&s);
	client_new(&c, &s, 8000);
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 8000);
	cr_assert_not(o.failed, "%s", o.err.msg);
	cr_assert_eq(c.stats.requests[ALPACA_ACCOUNT], 3);
	cr_assert_eq(c.stats.retries, 2);
	json_object_put(o.reply);
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, rate_limit_reset_honoured)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;
	char hdr[64];
	uint64_t t0;

	srv_start(&s);
	snprintf(hdr, sizeof(hdr), "X-RateLimit-Reset: %lld\r\n",
	    (long long)time(NULL) + 1);
	srv_reply(&s, 429, hdr, "{\"message\": \"too many requests\"}");
	srv_reply(&s, 200, NULL, ACCOUNT_OK);
	srv_go(&s);
	client_new(&c, &s, 8000);
	t0 = clock_mono_ms();
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 8000);
	cr_assert_not(o.failed, "%s", o.err.msg);
	cr_assert_eq(c.stats.retries, 1);
	/* it waited for the reset second, not a short backoff */
	cr_assert_geq(clock_mono_ms() - t0, 150);
	json_object_put(o.reply);
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, rate_limit_past_deadline)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;
	char hdr[64];

	srv_start(&s);
	snprintf(hdr, sizeof(hdr), "X-RateLimit-Reset: %lld\r\n",
	    (long long)time(NULL) + 60);
	srv_reply(&s, 429, hdr, "{}");
	srv_go(&s);
	client_new(&c, &s, 3000);
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 3000);
	cr_assert(o.failed);
	cr_assert_eq(o.err.code, TP_RESOURCE_EXHAUSTED);
	cr_assert_not_null(strstr(o.err.msg, "Alpaca's rate limit for this "
	    "account is exhausted until "), "%s", o.err.msg);
	cr_assert_not_null(strstr(o.err.msg, " UTC"), "%s", o.err.msg);
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, reply_too_large)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;
	char *big;
	size_t n = ALPACA_REPLY_MAX + 10;

	big = malloc(n + 1);
	cr_assert_not_null(big);
	memset(big, ' ', n);
	big[n] = '\0';
	srv_start(&s);
	srv_reply(&s, 200, NULL, big);
	free(big);
	srv_go(&s);
	client_new(&c, &s, 5000);
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 5000);
	cr_assert(o.failed);
	cr_assert_eq(o.err.code, TP_RESOURCE_EXHAUSTED);
	cr_assert_str_eq(o.err.msg, "Alpaca's reply to GET /v2/account is "
	    "larger than 1 MiB");
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, malformed_and_deep_replies)
{
	struct outcome o = { 0 }, o2 = { 0 }, o3 = { 0 };
	struct client c;
	struct srv s;
	char *deep;
	size_t i, n = 100000;

	deep = malloc(2 * n + 1);
	cr_assert_not_null(deep);
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[n + i] = ']';
	}
	deep[2 * n] = '\0';
	srv_start(&s);
	srv_reply(&s, 200, NULL, deep);
	srv_reply(&s, 200, NULL, "{\"equity\": \"1\"");
	srv_reply(&s, 200, NULL, "[1, 2]");
	free(deep);
	srv_go(&s);
	client_new(&c, &s, 5000);
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 5000);
	cr_assert(o.failed);
	cr_assert_eq(o.err.code, TP_UNAVAILABLE);
	cr_assert_not_null(strstr(o.err.msg, "Alpaca sent a malformed reply to "
	    "GET /v2/account: "), "%s", o.err.msg);
	cr_assert_not_null(strstr(o.err.msg, "deep"), "%s", o.err.msg);
	alpaca_account(c.a, &c.call, on_done, &o2, &err);
	drive(c.a, &o2, 5000);
	cr_assert(o2.failed);
	cr_assert_not_null(strstr(o2.err.msg, "malformed reply"), "%s",
	    o2.err.msg);
	alpaca_account(c.a, &c.call, on_done, &o3, &err);
	drive(c.a, &o3, 5000);
	cr_assert(o3.failed);
	cr_assert_not_null(strstr(o3.err.msg, "not a JSON object"), "%s",
	    o3.err.msg);
	alpaca_free(c.a);
	srv_stop(&s);
}

Test(alpaca, connection_refused_until_deadline)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;

	/* a port that was just free: nothing listens there */
	srv_start(&s);
	close(s.fd);
	client_new(&c, &s, 1500);
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 3000);
	cr_assert(o.failed);
	cr_assert_eq(o.err.code, TP_UNAVAILABLE);
	cr_assert_not_null(strstr(o.err.msg, "cannot reach Alpaca"), "%s",
	    o.err.msg);
	cr_assert_geq(c.stats.retries, 1);
	alpaca_free(c.a);
	close(s.stop[0]);
	close(s.stop[1]);
}

Test(alpaca, silent_server_bounded_by_deadline)
{
	struct outcome o = { 0 };
	struct client c;
	struct srv s;
	uint64_t t0;
	int fd;

	/* accepts (the kernel does) but never answers */
	srv_start(&s);
	client_new(&c, &s, 1200);
	t0 = clock_mono_ms();
	alpaca_account(c.a, &c.call, on_done, &o, &err);
	drive(c.a, &o, 4000);
	cr_assert(o.failed);
	cr_assert_eq(o.err.code, TP_UNAVAILABLE);
	cr_assert_not_null(strstr(o.err.msg, "Alpaca did not answer within "
	    "the job's deadline"), "%s", o.err.msg);
	cr_assert_leq(clock_mono_ms() - t0, 1700);
	alpaca_free(c.a);
	fd = s.fd;
	close(fd);
	close(s.stop[0]);
	close(s.stop[1]);
}

Test(alpaca, token_bucket_limits_requests)
{
	struct outcome o[3] = { { 0 } };
	struct client c;
	struct srv s;
	int i;

	srv_start(&s);
	for (i = 0; i < 3; i++)
		srv_reply(&s, 200, NULL, ACCOUNT_OK);
	srv_go(&s);
	client_new(&c, &s, 2000);
	/* 2 a minute: the third request cannot go before the deadline */
	alpaca_bucket_init(&c.bucket, 2, clock_mono_ms());
	for (i = 0; i < 3; i++)
		alpaca_account(c.a, &c.call, on_done, &o[i], &err);
	drive(c.a, &o[2], 2000);
	drive(c.a, &o[1], 2000);
	drive(c.a, &o[0], 2000);
	cr_assert_not(o[0].failed);
	cr_assert_not(o[1].failed);
	cr_assert(o[2].failed);
	cr_assert_eq(o[2].err.code, TP_RESOURCE_EXHAUSTED);
	cr_assert_not_null(strstr(o[2].err.msg, "2 Alpaca requests per "
	    "minute"), "%s", o[2].err.msg);
	cr_assert_eq(s.nreqs, 2);
	json_object_put(o[0].reply);
	json_object_put(o[1].reply);
	alpaca_free(c.a);
	srv_stop(&s);
}
