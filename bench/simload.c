/* simload.c: a keep-alive HTTP load generator for alpaca-sim: N connections, one key each, requests/s and latency. */
#include <config.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#define LOAD_BUCKETS	64	/* latency histogram: 2^(i/4) microseconds */
#define LOAD_CONNS_MAX	10000

struct load;

struct conn {
	struct load *load;
	struct evhttp_connection *evcon;
	int key;
	uint64_t sent_ns;
};

struct load {
	struct event_base *base;
	const char *host;
	int port;
	const char *path;
	int nconns, nkeys;
	char (*secrets)[41];
	struct conn *conns;
	bool measuring, stopping;
	uint64_t ok, errors, other_status;
	uint64_t hist[LOAD_BUCKETS];
	uint64_t setup_status;
};

static uint64_t
load_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
load_bucket(uint64_t us)
{
	int b = 0;

	/* four buckets per doubling */
	while (b + 1 < LOAD_BUCKETS && us >= (uint64_t)(1u << ((b + 1) / 4)) *
	    (uint64_t)(4 + (b + 1) % 4) / 4)
		b++;
	return b;
}

static double
load_bucket_ms(int b)
{
	return (double)(1u << (b / 4)) * (4 + b % 4) / 4 / 1000.0;
}

static double
load_percentile(const struct load *l, double pct)
{
	uint64_t total = 0, seen = 0, want;
	int b;

	for (b = 0; b < LOAD_BUCKETS; b++)
		total += l->hist[b];
	if (total == 0)
		return 0;
	want = (uint64_t)(pct / 100.0 * (double)total);
	for (b = 0; b < LOAD_BUCKETS; b++) {
		seen += l->hist[b];
		if (seen > want)
			break;
	}
	return load_bucket_ms(b < LOAD_BUCKETS ? b : LOAD_BUCKETS - 1);
}

static void load_send(struct conn *c);

static void
load_done(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;
	struct load *l = c->load;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	uint64_t us = (load_now_ns() - c->sent_ns) / 1000;

	if (l->measuring) {
		if (code == 200) {
			l->ok++;
			l->hist[load_bucket(us)]++;
		} else if (code == 0)
			l->errors++;
		else
			l->other_status++;
	}
	if (!l->stopping)
		load_send(c);
}

static void
load_send(struct conn *c)
{
	struct load *l = c->load;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char kid[32];

	if ((req = evhttp_request_new(load_done, c)) == NULL) {
		l->errors++;
		return;
	}
	h = evhttp_request_get_output_headers(req);
	snprintf(kid, sizeof(kid), "SIMLOAD%d-%06d", (int)getpid(), c->key);
	evhttp_add_header(h, "Host", l->host);
	evhttp_add_header(h, "APCA-API-KEY-ID", kid);
	evhttp_add_header(h, "APCA-API-SECRET-KEY", l->secrets[c->key]);
	c->sent_ns = load_now_ns();
	if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_GET, l->path) == -1)
		l->errors++;
}

static void
load_setup_done(struct evhttp_request *req, void *arg)
{
	struct load *l = arg;

	l->setup_status = req != NULL ?
	    (uint64_t)evhttp_request_get_response_code(req) : 0;
	event_base_loopbreak(l->base);
}

/* Creates the keys' accounts through the control API, in one request. */
static int
load_setup(struct load *l)
{
	struct evhttp_connection *evcon;
	struct evhttp_request *req;
	struct evbuffer *b;
	int i;

	evcon = evhttp_connection_base_new(l->base, NULL, l->host,
	    (ev_uint16_t)l->port);
	if (evcon == NULL || (req = evhttp_request_new(load_setup_done, l)) ==
	    NULL)
		return -1;
	b = evhttp_request_get_output_buffer(req);
	evbuffer_add_printf(b, "{\"accounts\":[");
	for (i = 0; i < l->nkeys; i++)
		evbuffer_add_printf(b, "%s{\"key_id\":\"SIMLOAD%d-%06d\","
		    "\"secret\":\"%s\"}", i > 0 ? "," : "", (int)getpid(), i,
		    l->secrets[i]);
	evbuffer_add_printf(b, "]}");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    l->host);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	if (evhttp_make_request(evcon, req, EVHTTP_REQ_POST,
	    "/_sim/accounts") == -1)
		return -1;
	event_base_dispatch(l->base);
	evhttp_connection_free(evcon);
	return l->setup_status == 200 ? 0 : -1;
}

static void
load_phase(evutil_socket_t fd, short what, void *arg)
{
	struct load *l = arg;

	(void)fd;
	(void)what;
	if (!l->measuring) {
		l->measuring = true;	/* the warm-up is over */
		return;
	}
	l->stopping = true;
	event_base_loopbreak(l->base);
}

static void
load_usage(void)
{
	fprintf(stderr,
	    "usage: simload [-c connections] [-d seconds] [-w seconds] "
	    "[-k keys] [-p path] HOST:PORT\n"
	    "Loads alpaca-sim with keep-alive GETs (default /v2/account) over\n"
	    "connections (default 100) that each wait for a reply before the\n"
	    "next request, for -d seconds (default 5) after -w seconds of\n"
	    "warm-up (default 1). It first creates -k accounts (default: one\n"
	    "per connection, SIMLOAD000000...) with random secrets through the\n"
	    "control API; run the sim with --rate-limit 0 or enough keys.\n"
	    "Prints one JSON line: requests/s, errors, latency percentiles.\n");
}

int
main(int argc, char *argv[])
{
	struct load l;
	struct event *phase;
	struct timeval warm, dur;
	char *hostport, *colon;
	uint64_t start, elapsed;
	long secs = 5, warmup = 1;
	int ch, i, rc = 1;
	double rps;

	memset(&l, 0, sizeof(l));
	l.nconns = 100;
	l.path = "/v2/account";
	while ((ch = getopt(argc, argv, "c:d:hk:p:w:")) != -1) {
		switch (ch) {
		case 'c':
			l.nconns = atoi(optarg);
			break;
		case 'd':
			secs = atol(optarg);
			break;
		case 'w':
			warmup = atol(optarg);
			break;
		case 'k':
			l.nkeys = atoi(optarg);
			break;
		case 'p':
			l.path = optarg;
			break;
		case 'h':
			load_usage();
			return 0;
		default:
			load_usage();
			return 2;
		}
	}
	if (optind + 1 != argc || l.nconns < 1 || l.nconns > LOAD_CONNS_MAX ||
	    secs < 1 || secs > 3600 || warmup < 0 || warmup > 600 ||
	    l.nkeys < 0 || l.nkeys > LOAD_CONNS_MAX || l.path[0] != '/') {
		load_usage();
		return 2;
	}
	if (l.nkeys == 0)
		l.nkeys = l.nconns;
	if ((hostport = strdup(argv[optind])) == NULL ||
	    (colon = strrchr(hostport, ':')) == NULL ||
	    (l.port = atoi(colon + 1)) < 1 || l.port > 65535) {
		fprintf(stderr, "simload: %s: HOST:PORT expected\n",
		    argv[optind]);
		free(hostport);
		return 2;
	}
	*colon = '\0';
	l.host = hostport;
	if (sodium_init() == -1 || (l.base = event_base_new()) == NULL ||
	    (l.secrets = calloc((size_t)l.nkeys, sizeof(*l.secrets))) == NULL ||
	    (l.conns = calloc((size_t)l.nconns, sizeof(*l.conns))) == NULL)
		goto out;
	for (i = 0; i < l.nkeys; i++) {
		unsigned char r[20];

		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(l.secrets[i], sizeof(l.secrets[i]), r, sizeof(r));
	}
	if (load_setup(&l) == -1) {
		fprintf(stderr, "simload: cannot create the accounts at %s:%d "
		    "(HTTP %" PRIu64 ")\n", l.host, l.port, l.setup_status);
		goto out;
	}
	for (i = 0; i < l.nconns; i++) {
		l.conns[i].load = &l;
		l.conns[i].key = i % l.nkeys;
		l.conns[i].evcon = evhttp_connection_base_new(l.base, NULL,
		    l.host, (ev_uint16_t)l.port);
		if (l.conns[i].evcon == NULL)
			goto out;
		evhttp_connection_set_timeout(l.conns[i].evcon, 30);
		load_send(&l.conns[i]);
	}
	warm.tv_sec = warmup;
	warm.tv_usec = 0;
	dur.tv_sec = secs;
	dur.tv_usec = 0;
	phase = event_new(l.base, -1, 0, load_phase, &l);
	l.measuring = warmup == 0;
	if (!l.measuring)
		event_base_once(l.base, -1, EV_TIMEOUT, load_phase, &l, &warm);
	/* the measured window starts when the warm-up ends */
	if (warmup > 0) {
		event_base_loop(l.base, EVLOOP_ONCE);
		while (!l.measuring)
			event_base_loop(l.base, EVLOOP_ONCE);
	}
	start = load_now_ns();
	event_add(phase, &dur);
	event_base_dispatch(l.base);
	elapsed = load_now_ns() - start;
	event_free(phase);
	rps = (double)l.ok / ((double)elapsed / 1e9);
	printf("{\"path\":\"%s\",\"connections\":%d,\"keys\":%d,"
	    "\"seconds\":%.2f,\"requests\":%" PRIu64 ",\"rps\":%.0f,"
	    "\"non_200\":%" PRIu64 ",\"errors\":%" PRIu64 ","
	    "\"latency_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f}}\n",
	    l.path, l.nconns, l.nkeys, (double)elapsed / 1e9, l.ok, rps,
	    l.other_status, l.errors, load_percentile(&l, 50),
	    load_percentile(&l, 90), load_percentile(&l, 99));
	rc = l.errors == 0 && l.other_status == 0 ? 0 : 1;
out:
	if (l.conns != NULL)
		for (i = 0; i < l.nconns; i++)
			if (l.conns[i].evcon != NULL)
				evhttp_connection_free(l.conns[i].evcon);
	free(l.conns);
	if (l.secrets != NULL)
		sodium_memzero(l.secrets, (size_t)l.nkeys * sizeof(*l.secrets));
	free(l.secrets);
	if (l.base != NULL)
		event_base_free(l.base);
	free(hostport);
	return rc;
}
