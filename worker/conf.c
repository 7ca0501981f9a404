/* conf.c: the CONFIG the supervisor sends after HELLO: limits, URLs, resolve entries, ports, and the Alpaca client made from it. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zmq.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "worker/main_int.h"
#include "worker/sandbox.h"

#define WORKER_MAX_JOBS_MAX	1000000000ULL
#define WORKER_HEARTBEAT_MIN	30		/* ms */
#define WORKER_TIMEOUT_MAX	(24ULL * 3600 * 1000)	/* ms */

static int
conf_int(json_object *p, const char *key, uint64_t min, uint64_t max,
    uint64_t *out, struct tp_err *err)
{
	int64_t v;

	if (!json_get_int(p, key, &v) || v < 0 || (uint64_t)v < min ||
	    (uint64_t)v > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "CONFIG \"%s\" must "
		    "be an integer of %" PRIu64 "..%" PRIu64, key, min, max);
	*out = (uint64_t)v;
	return 0;
}

/* The port of a CURLOPT_RESOLVE entry "[+]host:port:address[,...]". */
static int
conf_resolve_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t digits = 0;

	if (*s == '+')
		s++;
	if (*s == ':' || (s = strchr(s, ':')) == NULL)
		return -1;
	for (s++; *s >= '0' && *s <= '9' && digits < 5; s++, digits++)
		v = v * 10 + (unsigned long)(*s - '0');
	if (digits == 0 || v == 0 || v > 65535 || *s != ':' || s[1] == '\0')
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static void
conf_add_port(struct worker_conf *c, uint16_t port)
{
	size_t i;

	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return;
	if (c->nports < sizeof(c->ports) / sizeof(c->ports[0]))
		c->ports[c->nports++] = port;
}

/* Does a resolve entry give host:port an address? */
static bool
conf_resolved(json_object *r, const char *host, uint16_t port)
{
	char prefix[ALPACA_URL_MAX + 16];
	const char *s;
	size_t i, n, plen;
	int len;

	if (r == NULL)
		return false;
	len = snprintf(prefix, sizeof(prefix), "%s:%u:", host,
	    (unsigned)port);
	if (len < 0 || (size_t)len >= sizeof(prefix))
		return false;
	plen = (size_t)len;
	n = json_object_array_length(r);
	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(r, i));
		if (*s == '+')
			s++;
		if (strncasecmp(s, prefix, plen) == 0)
			return true;
	}
	return false;
}

/* An address, not a name: libcurl then resolves nothing. */
static bool
conf_literal(const char *host)
{
	char v6[ALPACA_URL_MAX + 1];
	unsigned char addr[16];
	size_t len = strlen(host);

	if (inet_pton(AF_INET, host, addr) == 1)
		return true;
	if (len < 3 || host[0] != '[' || host[len - 1] != ']')
		return false;
	memcpy(v6, host + 1, len - 2);
	v6[len - 2] = '\0';
	return inet_pton(AF_INET6, v6, addr) == 1;
}

/*
 * trading_url or data_url: checked, copied, its port allowed. A host
 * name without an address in "resolve" cannot be reached (resolving it
 * would open /etc/hosts, which the sandbox forbids): every job then fails
 * with that reason rather than the worker dying on its first transfer.
 */
static int
conf_url(struct worker *w, json_object *p, const char *key, char *out,
    struct tp_err *err)
{
	char host[ALPACA_URL_MAX + 1];
	struct tp_err e;
	json_object *v;
	uint16_t port;

	if (!json_object_object_get_ex(p, key, &v))
		return 0;
	tp_err_clear(&e);
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) !=
	    strlen(json_object_get_string(v)) ||
	    alpaca_url_check(json_object_get_string(v), host, &port, &e) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "CONFIG \"%s\" "
		    "must be an http:// or https:// URL%s%s", key,
		    e.msg[0] != '\0' ? ": " : "", e.msg);
	memcpy(out, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v) + 1);
	conf_add_port(&w->conf, port);
	if (!conf_literal(host) && !conf_resolved(w->conf.resolve, host,
	    port) && w->conf.url_error[0] == '\0')
		snprintf(w->conf.url_error, sizeof(w->conf.url_error),
		    "the %s host %s:%u has no address in the worker's CONFIG "
		    "\"resolve\" (workers resolve no names)", key, host,
		    (unsigned)port);
	return 0;
}

static int
conf_resolve(struct worker *w, json_object *r, struct tp_err *err)
{
	json_object *e;
	const char *s;
	size_t i, n, len, k;
	uint16_t port;

	if (!json_object_is_type(r, json_type_array) ||
	    (n = json_object_array_length(r)) > WORKER_RESOLVE_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "CONFIG \"resolve\" "
		    "must be an array of at most %d strings",
		    WORKER_RESOLVE_MAX);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(r, i);
		if (!json_object_is_type(e, json_type_string))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "CONFIG \"resolve\" entry %zu is not a string", i);
		s = json_object_get_string(e);
		len = (size_t)json_object_get_string_len(e);
		for (k = 0; k < len; k++)
			if ((unsigned char)s[k] <= 0x20 ||
			    (unsigned char)s[k] >= 0x7f)
				break;
		if (len == 0 || len > WORKER_RESOLVE_LEN || k < len ||
		    conf_resolve_port(s, &port) == -1)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "CONFIG \"resolve\" entry %zu is not "
			    "host:port:address", i);
		conf_add_port(&w->conf, port);
	}
	w->conf.resolve = json_object_get(r);
	return 0;
}

static int
conf_parse(struct worker *w, json_object *p, struct tp_err *err)
{
	json_object *r;
	uint64_t rpm = ALPACA_RPM_DEFAULT;

	if (conf_int(p, "max_jobs", 1, WORKER_MAX_JOBS_MAX,
	    &w->conf.max_jobs, err) == -1 ||
	    conf_int(p, "heartbeat_ms", WORKER_HEARTBEAT_MIN,
	    WORKER_TIMEOUT_MAX, &w->conf.heartbeat_ms, err) == -1 ||
	    conf_int(p, "job_timeout_ms", 1, WORKER_TIMEOUT_MAX,
	    &w->conf.job_timeout_ms, err) == -1)
		return -1;
	if (json_object_object_get_ex(p, "requests_per_minute", NULL) &&
	    conf_int(p, "requests_per_minute", 1, ALPACA_RPM_MAX, &rpm,
	    err) == -1)
		return -1;
	w->conf.requests_per_minute = (uint32_t)rpm;
	if (json_object_object_get_ex(p, "resolve", &r) &&
	    conf_resolve(w, r, err) == -1)
		return -1;
	if (conf_url(w, p, "trading_url", w->conf.trading_url,
	    err) == -1 ||
	    conf_url(w, p, "data_url", w->conf.data_url, err) == -1)
		return -1;
	/* until the supervisor sends them, jobs say what is missing */
	if (w->conf.url_error[0] == '\0' && (w->conf.trading_url[0] == '\0' ||
	    w->conf.data_url[0] == '\0'))
		snprintf(w->conf.url_error, sizeof(w->conf.url_error),
		    "the worker's CONFIG has no %s", w->conf.trading_url[0] ==
		    '\0' ? "trading_url" : "data_url");
	return 0;
}

/* Waits (bounded) for the CONFIG that answers a good HELLO. Returns the
 * exit status to end with, or -1 to go on. */
int
conf_wait(struct worker *w)
{
	zmq_pollitem_t it[2] = {
		{ w->sock, 0, ZMQ_POLLIN, 0 },
		{ w->mon, 0, ZMQ_POLLIN, 0 },
	};
	uint64_t end = clock_mono_ms() + WORKER_CONFIG_MS, now;
	struct wire_msg m;
	struct tp_err err;
	enum chan_rx rx;
	int rc;

	for (;;) {
		if (chan_monitor(w, NULL) == -1) {
			fprintf(stderr, "worker: channel lost before CONFIG\n");
			return 1;
		}
		while ((rx = chan_recv(w, &m)) == CHAN_RX_SKIP)
			;
		if (rx == CHAN_RX_FAIL) {
			fprintf(stderr, "worker: channel failed: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
		if (rx == CHAN_RX_MSG) {
			if (m.type == WIRE_SHUTDOWN) {
				wire_msg_clear(&m);
				return 0;
			}
			if (m.type != WIRE_CONFIG) {
				fprintf(stderr, "worker: expected CONFIG, got "
				    "%s\n", wire_type_name(m.type));
				wire_msg_clear(&m);
				return 1;
			}
			tp_err_clear(&err);
			rc = conf_parse(w, m.payload, &err);
			wire_msg_clear(&m);
			/* heartbeat_ms fits an int: WORKER_TIMEOUT_MAX */
			if (rc == 0 && chan_timeouts(w,
			    (int)w->conf.heartbeat_ms) == -1) {
				rc = -1;
				tp_err_set(&err, TP_INTERNAL, "zmq_setsockopt: "
				    "%s", zmq_strerror(errno));
			}
			if (rc == -1 || sandbox_restrict_tcp(w->conf.ports,
			    w->conf.nports, &err) == -1) {
				fprintf(stderr, "worker: %s\n", err.msg);
				return 1;
			}
			return -1;
		}
		if ((now = clock_mono_ms()) >= end)
			break;
		if (zmq_poll(it, 2, (long)(end - now)) == -1 && errno != EINTR) {
			fprintf(stderr, "worker: zmq_poll: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "worker: no CONFIG within %d ms of HELLO\n",
	    WORKER_CONFIG_MS);
	return 1;
}

/* The Alpaca client of every job, from CONFIG. */
int
conf_alpaca(struct worker *w, struct tp_err *err)
{
	struct alpaca_conf ac;

	memset(&ac, 0, sizeof(ac));
	ac.trading_url = w->conf.trading_url[0] != '\0' ?
	    w->conf.trading_url : NULL;
	ac.data_url = w->conf.data_url[0] != '\0' ? w->conf.data_url : NULL;
	ac.resolve = w->conf.resolve;
	ac.ca = sandbox_ca(&ac.ca_len);
	if ((w->alpaca = alpaca_new(&ac, err)) == NULL)
		return -1;
	return 0;
}
