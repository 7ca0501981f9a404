/* userapi_sse.c: GET /api/v1/me/events: the tenant's events as Server-Sent Events, with a bounded replay buffer and slow readers dropped. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/clock.h"
#include "common/htab.h"
#include "common/log.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/userapi.h"
#include "supervisor/userapi_int.h"

#define SSE_TENANT_BYTES	(128 * 1024)	/* kept for replay, a tenant */
#define SSE_TYPE_MAX		16
#define SSE_SNDBUF		(32 * 1024)	/* the socket's send buffer */

/*
 * A tenant's ring: its last SSE_RING events (at most SSE_TENANT_BYTES),
 * kept from the first time one of its streams opened. Every event of the
 * tenant with a seq above `floor` is in the ring: a Last-Event-ID at or
 * above it is replayed, one below it (or above the feed's newest: the
 * daemon restarted) gets `event: reset`.
 */
struct sse_event {
	uint64_t	 seq;
	char		 type[SSE_TYPE_MAX];
	char		*json;
	size_t		 len;
};

struct sse_conn;

struct sse_tenant {
	char			 uid[UID_MAX_LEN + 1];
	struct sse_event	 ring[SSE_RING];
	size_t			 head, n, bytes;
	uint64_t		 floor;
	TAILQ_HEAD(, sse_conn)	 conns;
	size_t			 nconns;
};

struct sse_conn {
	TAILQ_ENTRY(sse_conn)	 entry;
	struct sse		*s;
	struct sse_tenant	*t;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
};

struct sse {
	struct userapi		*u;
	struct htab		*tenants;	/* uid -> struct sse_tenant */
	struct event		*ev_ping;
	size_t			 nconns;
	uint64_t		 last_seq;	/* the feed's newest seen */
	uint64_t		 dropped;	/* slow readers */
	bool			 listening;
};

static void
sse_event_clear(struct sse_event *e)
{
	free(e->json);
	memset(e, 0, sizeof(*e));
}

static void
sse_tenant_free(void *arg)
{
	struct sse_tenant *t = arg;
	size_t i;

	for (i = 0; i < SSE_RING; i++)
		sse_event_clear(&t->ring[i]);
	free(t);
}

/* The oldest event out; what it held can no longer be replayed. */
static void
sse_ring_pop(struct sse_tenant *t)
{
	struct sse_event *e = &t->ring[t->head];

	t->floor = e->seq;
	t->bytes -= e->len;
	sse_event_clear(e);
	t->head = (t->head + 1) % SSE_RING;
	t->n--;
}

static void
sse_ring_push(struct sse_tenant *t, const char *type, uint64_t seq,
    const char *json, size_t len)
{
	struct sse_event *e;

	if (len > SSE_EVENT_MAX) {
		/* sent live, not kept: a replay across it must reset */
		while (t->n > 0)
			sse_ring_pop(t);
		t->floor = seq;
		return;
	}
	while (t->n > 0 && (t->n == SSE_RING ||
	    t->bytes + len > SSE_TENANT_BYTES))
		sse_ring_pop(t);
	e = &t->ring[(t->head + t->n) % SSE_RING];
	if ((e->json = malloc(len + 1)) == NULL) {
		t->floor = seq;
		return;
	}
	memcpy(e->json, json, len);
	e->json[len] = '\0';
	e->len = len;
	e->seq = seq;
	snprintf(e->type, sizeof(e->type), "%s", type);
	t->bytes += len;
	t->n++;
}

/* --- connections ----------------------------------------------------------- */

static void
sse_conn_unlink(struct sse_conn *c)
{
	TAILQ_REMOVE(&c->t->conns, c, entry);
	c->t->nconns--;
	c->s->nconns--;
	free(c);
}

/* The peer went (or the connection failed): libevent frees the
 * connection; a request it left behind is ours to free. */
static void
sse_closed(struct evhttp_connection *evcon, void *arg)
{
	struct sse_conn *c = arg;
	struct evhttp_request *req = c->req;

	(void)evcon;
	sse_conn_unlink(c);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
}

/* Ends a stream now, whatever is unsent. */
static void
sse_drop(struct sse_conn *c)
{
	struct evhttp_connection *evcon = c->evcon;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	sse_conn_unlink(c);
	evhttp_connection_free(evcon);	/* and its request */
}

/* Queues text; a reader with SSE_OUT_MAX unsent is dropped (false). */
static bool
sse_write(struct sse_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool
sse_write(struct sse_conn *c, const char *fmt, ...)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	struct evbuffer *b;
	va_list ap;
	size_t queued = bev != NULL ?
	    evbuffer_get_length(bufferevent_get_output(bev)) : 0;

	if (queued > SSE_OUT_MAX) {
		c->s->dropped++;
		log_info("http: the event stream of %s is %zu bytes behind: "
		    "dropped", c->t->uid, queued);
		sse_drop(c);
		return false;
	}
	if ((b = evbuffer_new()) == NULL)
		return true;
	va_start(ap, fmt);
	evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	evhttp_send_reply_chunk(c->req, b);
	evbuffer_free(b);
	return true;
}

static bool
sse_send_event(struct sse_conn *c, const char *type, uint64_t seq,
    const char *json)
{
	return sse_write(c, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", seq,
	    type, json);
}

/* The feed's listener: keep it, and send it to the tenant's streams. */
static void
sse_event(void *arg, const char *uid, const char *type, uint64_t seq,
    const char *json, size_t len)
{
	struct sse *s = arg;
	struct sse_tenant *t;
	struct sse_conn *c, *next;

	s->last_seq = seq;
	if ((t = htab_get(s->tenants, uid)) == NULL)
		return;
	sse_ring_push(t, type, seq, json, len);
	for (c = TAILQ_FIRST(&t->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		(void)sse_send_event(c, type, seq, json);
	}
}

struct sse_walk {
	struct sse_tenant	*idle;	/* sse_evict: one without streams */
};

static void
sse_ping_tenant(const char *key, void *value, void *arg)
{
	struct sse_tenant *t = value;
	struct sse_conn *c, *next;

	(void)key;
	(void)arg;
	for (c = TAILQ_FIRST(&t->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		(void)sse_write(c, ": ping\n\n");
	}
}

/* A comment line every SSE_PING_S: proxies keep the stream, and a peer
 * gone silently is found by the write. */
static void
sse_ping(evutil_socket_t fd, short what, void *arg)
{
	struct sse *s = arg;

	(void)fd;
	(void)what;
	htab_walk(s->tenants, sse_ping_tenant, NULL);
}

static void
sse_idle_tenant(const char *key, void *value, void *arg)
{
	struct sse_walk *w = arg;
	struct sse_tenant *t = value;

	(void)key;
	if (w->idle == NULL && t->nconns == 0)
		w->idle = t;
}

/* The tenant's ring, made at its first stream; NULL when SSE_TENANTS_MAX
 * tenants all have streams open. */
static struct sse_tenant *
sse_tenant(struct sse *s, const char *uid)
{
	struct sse_tenant *t;
	struct sse_walk w = { NULL };
	void *old;

	if ((t = htab_get(s->tenants, uid)) != NULL)
		return t;
	if (htab_count(s->tenants) >= SSE_TENANTS_MAX) {
		htab_walk(s->tenants, sse_idle_tenant, &w);
		if (w.idle == NULL)
			return NULL;
		sse_tenant_free(htab_del(s->tenants, w.idle->uid));
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	snprintf(t->uid, sizeof(t->uid), "%s", uid);
	TAILQ_INIT(&t->conns);
	t->floor = s->last_seq;
	if (htab_put(s->tenants, t->uid, t, &old) == -1) {
		free(t);
		return NULL;
	}
	return t;
}

/* "" or NULL: none (0, *has false); digits: the seq; else -1. */
static int
sse_last_id(const char *s, uint64_t *out, bool *has)
{
	size_t i;

	*out = 0;
	*has = false;
	if (s == NULL || *s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9' || i >= 19)
			return -1;
	*out = strtoull(s, NULL, 10);
	*has = true;
	return 0;
}

void
sse_start(struct sse *s, struct evhttp_request *req, const char *uid,
    const char *last_id)
{
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
	struct timeval wtv = { SSE_WRITE_TIMEOUT_S, 0 };
	int sndbuf = SSE_SNDBUF;
	struct bufferevent *bev;
	struct sse_tenant *t;
	struct sse_conn *c;
	struct tp_err err;
	uint64_t last;
	size_t i;
	bool has;

	if (sse_last_id(last_id, &last, &has) == -1) {
		tp_err_set(&err, TP_INVALID_ARGUMENT, "Last-Event-ID must be "
		    "an id this stream sent");
		userapi_reply_error(req, &err);
		return;
	}
	if (s->nconns >= SSE_TOTAL || (t = sse_tenant(s, uid)) == NULL ||
	    t->nconns >= SSE_PER_USER) {
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "too many event "
		    "streams open (%d a user, %d in all)", SSE_PER_USER,
		    SSE_TOTAL);
		userapi_reply_error(req, &err);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		tp_err_set(&err, TP_INTERNAL, "out of memory");
		userapi_reply_error(req, &err);
		return;
	}
	c->s = s;
	c->t = t;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	TAILQ_INSERT_TAIL(&t->conns, c, entry);
	t->nconns++;
	s->nconns++;
	userapi_headers(req, true);
	evhttp_add_header(hd, "Content-Type", "text/event-stream");
	evhttp_add_header(hd, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	evhttp_connection_set_closecb(c->evcon, sse_closed, c);
	/* no read timeout (the client says nothing more), a write one; a
	 * small kernel buffer, so what a slow reader holds is mostly the
	 * SSE_OUT_MAX we count */
	if ((bev = evhttp_connection_get_bufferevent(c->evcon)) != NULL) {
		bufferevent_set_timeouts(bev, NULL, &wtv);
		(void)setsockopt(bufferevent_getfd(bev), SOL_SOCKET,
		    SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	if (!sse_write(c, "retry: 3000\n\n"))
		return;
	if (!has)
		return;
	if (last < t->floor || last > s->last_seq) {
		(void)sse_write(c, "id: %" PRIu64 "\nevent: reset\ndata: "
		    "{}\n\n", s->last_seq);
		return;
	}
	for (i = 0; i < t->n; i++) {
		const struct sse_event *e = &t->ring[(t->head + i) % SSE_RING];

		if (e->seq > last && !sse_send_event(c, e->type, e->seq,
		    e->json))
			return;
	}
}

int
sse_new(struct userapi *u, struct sse **out, struct tp_err *err)
{
	struct timeval tv = { SSE_PING_S, 0 };
	struct sse *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->tenants = htab_new()) == NULL ||
	    (s->ev_ping = event_new(u->d->base, -1, EV_PERSIST, sse_ping,
	    s)) == NULL) {
		if (s != NULL)
			htab_free(s->tenants, NULL);
		free(s);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	s->u = u;
	if (events_listen(u->d->events, sse_event, s) == 0)
		s->listening = true;
	else
		log_warnx("http: the event stream hears no events (no feed)");
	evtimer_add(s->ev_ping, &tv);
	*out = s;
	return 0;
}

static void
sse_close_tenant(const char *key, void *value, void *arg)
{
	struct sse_tenant *t = value;

	(void)key;
	(void)arg;
	while (!TAILQ_EMPTY(&t->conns))
		sse_drop(TAILQ_FIRST(&t->conns));
}

void
sse_close_all(struct sse *s)
{
	if (s != NULL)
		htab_walk(s->tenants, sse_close_tenant, NULL);
}

/* The streams are left to evhttp_free, which comes next. */
static void
sse_forget_tenant(const char *key, void *value, void *arg)
{
	struct sse_tenant *t = value;
	struct sse_conn *c;

	(void)key;
	(void)arg;
	while ((c = TAILQ_FIRST(&t->conns)) != NULL) {
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
		sse_conn_unlink(c);
	}
}

void
sse_free(struct sse *s)
{
	if (s == NULL)
		return;
	if (s->listening)
		events_unlisten(s->u->d->events, sse_event, s);
	if (s->ev_ping != NULL)
		event_free(s->ev_ping);
	htab_walk(s->tenants, sse_forget_tenant, NULL);
	htab_free(s->tenants, sse_tenant_free);
	free(s);
}
