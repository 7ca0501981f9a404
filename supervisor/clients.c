/* clients.c: the job API's connections: a monitor thread that counts them and keeps them under max_clients. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "common/clock.h"
#include "common/log.h"
#include "supervisor/clients.h"

#define CLIENTS_POLL_MS		250	/* how often the thread looks at stop */
#define CLIENTS_LOG_EVERY_MS	10000	/* evictions are summed up in between */
#define CLIENTS_EVENTS	(ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | \
			 ZMQ_EVENT_MONITOR_STOPPED)

struct client {
	TAILQ_ENTRY(client)	 entry;		/* least recently active first */
	int			 fd;
	uint64_t		 serial;
	size_t			 inflight;
	size_t			 bytes;
	bool			 closing;	/* shut down, not yet gone */
	bool			 stalled;
};

struct clients {
	pthread_mutex_t		 mtx;
	pthread_t		 thread;
	bool			 started;
	atomic_bool		 stop;
	void			*sock;		/* the ROUTER (main thread's) */
	void			*mon;		/* our PAIR: the thread's */
	char			 endpoint[64];
	char			*path;		/* the ipc socket file, or NULL */
	unsigned		 tcp_port;	/* a tcp:// api's port, or 0 */

	TAILQ_HEAD(clients_list_, client) list;
	size_t			 n, closing, max;
	uint64_t		 next_serial;
	struct clients_stats	 st;

	uint64_t		 evicted_unlogged;
	uint64_t		 last_log_ms;
};

static struct client *
clients_find(struct clients *c, int fd)
{
	struct client *cl;

	TAILQ_FOREACH(cl, &c->list, entry)
		if (cl->fd == fd)
			return cl;
	return NULL;
}

static struct client *
clients_find_serial(struct clients *c, int fd, uint64_t serial)
{
	struct client *cl;

	if (serial == 0 || (cl = clients_find(c, fd)) == NULL ||
	    cl->serial != serial)
		return NULL;
	return cl;
}

/*
 * Is fd still a connection of our socket? Between the event we act on
 * and now ZeroMQ may have closed it and the number may have been given
 * to a store file or a worker's pipe: those must never be shut down.
 */
static bool
clients_is_ours(struct clients *c, int fd)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	socklen_t len = sizeof(ss);

	/* tcp://: a connection accepted on our port (the store's own
	 * connections have ephemeral local ports) */
	if (c->tcp_port != 0) {
		memset(&ss, 0, sizeof(ss));
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			return false;
		if (ss.ss_family == AF_INET)
			return ntohs(((struct sockaddr_in *)&ss)->sin_port) ==
			    c->tcp_port;
		if (ss.ss_family == AF_INET6)
			return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) ==
			    c->tcp_port;
		return false;
	}
	len = sizeof(sun);
	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    sun.sun_family != AF_UNIX)
		return false;
	if (c->path == NULL)
		return true;
	return len > offsetof(struct sockaddr_un, sun_path) &&
	    strncmp(sun.sun_path, c->path, sizeof(sun.sun_path)) == 0;
}

/* Called with the lock held. */
static void
clients_shut(struct clients *c, struct client *cl)
{
	if (cl->closing)
		return;
	cl->closing = true;
	c->closing++;
	if (clients_is_ours(c, cl->fd))
		(void)shutdown(cl->fd, SHUT_RDWR);
}

/* Evictions are summed up: a flood would otherwise flood the log too.
 * Called with the lock held. */
static void
clients_log(struct clients *c, bool now_or_never)
{
	uint64_t now = clock_mono_ms();

	if (c->evicted_unlogged == 0 || (!now_or_never &&
	    now - c->last_log_ms < CLIENTS_LOG_EVERY_MS))
		return;
	log_warnx("api: more than max_clients (%zu) connections: %llu "
	    "closed to make room (the idle ones first)", c->max,
	    (unsigned long long)c->evicted_unlogged);
	c->evicted_unlogged = 0;
	c->last_log_ms = now;
}

/* Keeps the open connections at the cap: the one idle the longest goes,
 * or the newest when every connection has a request in progress. */
static void
clients_enforce(struct clients *c)
{
	struct client *cl, *victim;

	while (c->n - c->closing > c->max) {
		victim = NULL;
		TAILQ_FOREACH(cl, &c->list, entry)
			if (!cl->closing && cl->inflight == 0) {
				victim = cl;
				break;
			}
		if (victim == NULL)
			TAILQ_FOREACH_REVERSE(cl, &c->list, clients_list_, entry)
				if (!cl->closing) {
					victim = cl;
					break;
				}
		if (victim == NULL)
			abort();	/* n - closing > 0 yet none open */
		clients_shut(c, victim);
		c->st.evicted++;
		c->evicted_unlogged++;
	}
	clients_log(c, false);
}

/* Called with the lock held. */
static void
clients_forget(struct clients *c, struct client *cl)
{
	TAILQ_REMOVE(&c->list, cl, entry);
	if (cl->closing)
		c->closing--;
	c->n--;
	free(cl);
}

static void
clients_accepted(struct clients *c, int fd)
{
	struct client *cl;

	pthread_mutex_lock(&c->mtx);
	/* a missed disconnect: the number is a new connection now */
	if ((cl = clients_find(c, fd)) != NULL)
		clients_forget(c, cl);
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		/* not tracked, so not capped: close it rather than risk
		 * the descriptor limit */
		if (clients_is_ours(c, fd))
			(void)shutdown(fd, SHUT_RDWR);
		pthread_mutex_unlock(&c->mtx);
		return;
	}
	cl->fd = fd;
	cl->serial = ++c->next_serial;
	TAILQ_INSERT_TAIL(&c->list, cl, entry);
	c->n++;
	c->st.accepted++;
	if (c->n > c->st.peak)
		c->st.peak = c->n;
	clients_enforce(c);
	pthread_mutex_unlock(&c->mtx);
}

static void
clients_disconnected(struct clients *c, int fd)
{
	struct client *cl;

	pthread_mutex_lock(&c->mtx);
	if ((cl = clients_find(c, fd)) != NULL) {
		clients_forget(c, cl);
		c->st.left++;
	}
	pthread_mutex_unlock(&c->mtx);
}

/* One event: a 6-byte frame (event, value), then the endpoint. */
static bool
clients_event(struct clients *c)
{
	zmq_msg_t m;
	uint16_t ev = 0;
	uint32_t val = 0;
	bool more, ok = false, stopped = false;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&m);
		return false;
	}
	if (zmq_msg_size(&m) == 6) {
		memcpy(&ev, zmq_msg_data(&m), 2);
		memcpy(&val, (uint8_t *)zmq_msg_data(&m) + 2, 4);
		ok = true;
	}
	more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	while (more) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->mon, 0) == -1) {
			zmq_msg_close(&m);
			break;
		}
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
	if (!ok)
		return true;
	switch (ev) {
	case ZMQ_EVENT_ACCEPTED:
		clients_accepted(c, (int)val);
		break;
	case ZMQ_EVENT_DISCONNECTED:
		clients_disconnected(c, (int)val);
		break;
	case ZMQ_EVENT_MONITOR_STOPPED:
		stopped = true;
		break;
	}
	if (stopped)
		atomic_store(&c->stop, true);
	return true;
}

static void *
clients_thread(void *arg)
{
	struct clients *c = arg;
	zmq_pollitem_t pi;

	while (!atomic_load(&c->stop)) {
		pi.socket = c->mon;
		pi.fd = -1;
		pi.events = ZMQ_POLLIN;
		pi.revents = 0;
		if (zmq_poll(&pi, 1, CLIENTS_POLL_MS) == -1) {
			if (errno == ETERM)
				break;
			continue;
		}
		while (!atomic_load(&c->stop) && clients_event(c))
			;
		pthread_mutex_lock(&c->mtx);
		clients_log(c, false);
		pthread_mutex_unlock(&c->mtx);
	}
	pthread_mutex_lock(&c->mtx);
	clients_log(c, true);
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

void
clients_set_tcp_port(struct clients *c, unsigned port)
{
	pthread_mutex_lock(&c->mtx);
	c->tcp_port = port;
	pthread_mutex_unlock(&c->mtx);
}

struct clients *
clients_open(void *zctx, void *sock, const char *path, size_t max,
    struct tp_err *err)
{
	static atomic_uint seq;
	struct clients *c;
	int linger = 0, rc;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (path != NULL && (c->path = strdup(path)) == NULL)) {
		free(c);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->mtx, NULL);
	TAILQ_INIT(&c->list);
	atomic_init(&c->stop, false);
	c->sock = sock;
	c->max = max;
	c->st.max = max;
	snprintf(c->endpoint, sizeof(c->endpoint), "inproc://api-clients-%u",
	    atomic_fetch_add(&seq, 1));
	if (zmq_socket_monitor(sock, c->endpoint, CLIENTS_EVENTS) == -1) {
		tp_err_set(err, TP_INTERNAL, "zmq_socket_monitor: %s",
		    zmq_strerror(errno));
		goto fail;
	}
	if ((c->mon = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(c->mon, ZMQ_LINGER, &linger, sizeof(linger)) ==
	    -1 || zmq_connect(c->mon, c->endpoint) == -1) {
		tp_err_set(err, TP_INTERNAL, "api monitor: %s",
		    zmq_strerror(errno));
		goto fail;
	}
	if ((rc = pthread_create(&c->thread, NULL, clients_thread, c)) != 0) {
		errno = rc;
		tp_err_errno(err, TP_INTERNAL, "cannot start the api "
		    "connections thread");
		goto fail;
	}
	c->started = true;
	return c;
fail:
	clients_close(c);
	return NULL;
}

void
clients_close(struct clients *c)
{
	struct client *cl;

	if (c == NULL)
		return;
	/* stops the events; the thread sees MONITOR_STOPPED or its flag */
	(void)zmq_socket_monitor(c->sock, NULL, 0);
	atomic_store(&c->stop, true);
	if (c->started)
		pthread_join(c->thread, NULL);
	if (c->mon != NULL)
		zmq_close(c->mon);
	while ((cl = TAILQ_FIRST(&c->list)) != NULL) {
		TAILQ_REMOVE(&c->list, cl, entry);
		free(cl);
	}
	pthread_mutex_destroy(&c->mtx);
	free(c->path);
	free(c);
}

uint64_t
clients_serial(struct clients *c, int fd)
{
	struct client *cl;
	uint64_t serial = 0;

	pthread_mutex_lock(&c->mtx);
	if (fd >= 0 && (cl = clients_find(c, fd)) != NULL) {
		serial = cl->serial;
		/* most recently active last: the last to be evicted */
		TAILQ_REMOVE(&c->list, cl, entry);
		TAILQ_INSERT_TAIL(&c->list, cl, entry);
	}
	pthread_mutex_unlock(&c->mtx);
	return serial;
}

int
clients_begin(struct clients *c, int fd, uint64_t serial, size_t bytes,
    size_t max_inflight, size_t max_bytes, struct tp_err *err)
{
	struct client *cl;
	int rc = 0;

	pthread_mutex_lock(&c->mtx);
	if ((cl = clients_find_serial(c, fd, serial)) != NULL) {
		if (cl->inflight >= max_inflight)
			rc = tp_err_set(err, TP_RESOURCE_EXHAUSTED, "this "
			    "connection has %zu requests in progress, the most "
			    "one client may have; wait for their replies",
			    cl->inflight);
		else if (cl->bytes + bytes > max_bytes)
			rc = tp_err_set(err, TP_RESOURCE_EXHAUSTED, "this "
			    "connection's requests in progress hold %zu bytes, "
			    "the most one client may (api_memory / 2 / "
			    "max_clients); wait for their replies", cl->bytes);
		else {
			cl->inflight++;
			cl->bytes += bytes;
		}
	}
	pthread_mutex_unlock(&c->mtx);
	return rc;
}

void
clients_end(struct clients *c, int fd, uint64_t serial, size_t bytes)
{
	struct client *cl;

	pthread_mutex_lock(&c->mtx);
	if ((cl = clients_find_serial(c, fd, serial)) != NULL) {
		if (cl->inflight == 0 || cl->bytes < bytes)
			abort();	/* ended more than began */
		cl->inflight--;
		cl->bytes -= bytes;
	}
	pthread_mutex_unlock(&c->mtx);
}

void
clients_set_stalled(struct clients *c, int fd, uint64_t serial, bool stalled)
{
	struct client *cl;

	pthread_mutex_lock(&c->mtx);
	if ((cl = clients_find_serial(c, fd, serial)) != NULL)
		cl->stalled = stalled;
	pthread_mutex_unlock(&c->mtx);
}

bool
clients_stalled(struct clients *c, int fd, uint64_t serial)
{
	struct client *cl;
	bool stalled = false;

	pthread_mutex_lock(&c->mtx);
	if ((cl = clients_find_serial(c, fd, serial)) != NULL)
		stalled = cl->stalled;
	pthread_mutex_unlock(&c->mtx);
	return stalled;
}

void
clients_get_stats(struct clients *c, struct clients_stats *st)
{
	pthread_mutex_lock(&c->mtx);
	*st = c->st;
	st->current = c->n;
	pthread_mutex_unlock(&c->mtx);
}

uint64_t
clients_take_left(struct clients *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mtx);
	n = c->st.left;
	c->st.left = 0;
	pthread_mutex_unlock(&c->mtx);
	return n;
}
