/* chan.c: the worker's channel to its supervisor: connect, send and receive with timeouts, HELLO, LOG, heartbeats. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "worker/main_int.h"
#include "worker/sandbox.h"

#define CHAN_MONITOR		"inproc://worker-monitor"

static void
chan_msg_free(void *data, void *hint)
{
	wire_free_wiped(data, (size_t)(uintptr_t)hint);
}

int
chan_send(struct worker *w, enum wire_type type, json_object *payload,
    struct tp_err *err)
{
	zmq_msg_t msg;
	uint8_t *buf;
	size_t len;

	if (wire_encode(type, w->opts.generation, payload, &buf, &len,
	    err) == -1)
		return -1;
	if (zmq_msg_init_data(&msg, buf, len, chan_msg_free,
	    (void *)(uintptr_t)len) == -1) {
		wire_free_wiped(buf, len);
		w->lost = true;
		return tp_err_set(err, TP_UNAVAILABLE, "zmq_msg_init_data: %s",
		    zmq_strerror(errno));
	}
	while (zmq_msg_send(&msg, w->sock, 0) == -1) {
		if (errno == EINTR)
			continue;
		zmq_msg_close(&msg);
		w->lost = true;
		return tp_err_set(err, TP_UNAVAILABLE, "cannot send %s: %s",
		    wire_type_name(type), zmq_strerror(errno));
	}
	return 0;
}

/*
 * Bounds every send and receive on the channel: with reconnect off, a
 * DEALER whose supervisor died has no peer, and a send (the HELLO, a
 * heartbeat) would block for ever; it fails with EAGAIN instead and the
 * worker, its channel lost, exits.
 */
int
chan_timeouts(struct worker *w, int ms)
{
	if (zmq_setsockopt(w->sock, ZMQ_SNDTIMEO, &ms, sizeof(ms)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_RCVTIMEO, &ms, sizeof(ms)) == -1 ||
	    zmq_setsockopt(w->mon, ZMQ_RCVTIMEO, &ms, sizeof(ms)) == -1)
		return -1;
	return 0;
}

int
chan_open(struct worker *w, struct tp_err *err)
{
	uint8_t id[8];
	int linger = WORKER_LINGER_MS, reconnect = -1, tmo = WORKER_CHAN_MS;
	int64_t maxmsg = WIRE_HEADER_LEN + WIRE_MAX_JOB;

	if ((w->zctx = zmq_ctx_new()) == NULL)
		return tp_err_set(err, TP_INTERNAL, "zmq_ctx_new: %s",
		    zmq_strerror(errno));
	if ((w->sock = zmq_socket(w->zctx, ZMQ_DEALER)) == NULL ||
	    (w->mon = zmq_socket(w->zctx, ZMQ_PAIR)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "zmq_socket: %s",
		    zmq_strerror(errno));
	wire_routing_id(w->opts.generation, id);
	/* no reconnect: after the privilege drop the socket's folder is out
	 * of reach, and a lost supervisor ends the worker anyway */
	if (zmq_setsockopt(w->sock, ZMQ_ROUTING_ID, id, sizeof(id)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof(linger)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_RECONNECT_IVL, &reconnect,
	    sizeof(reconnect)) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_MAXMSGSIZE, &maxmsg,
	    sizeof(maxmsg)) == -1 ||
	    chan_timeouts(w, tmo) == -1 ||
	    zmq_setsockopt(w->mon, ZMQ_LINGER, &linger, sizeof(linger)) == -1)
		return tp_err_set(err, TP_INTERNAL, "zmq_setsockopt: %s",
		    zmq_strerror(errno));
	/* the monitor's peer is connected first so no event is lost */
	if (zmq_socket_monitor(w->sock, CHAN_MONITOR, ZMQ_EVENT_CONNECTED |
	    ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED) == -1 ||
	    zmq_connect(w->mon, CHAN_MONITOR) == -1)
		return tp_err_set(err, TP_INTERNAL, "zmq_socket_monitor: %s",
		    zmq_strerror(errno));
	if (zmq_connect(w->sock, w->opts.channel) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "cannot connect to "
		    "%s: %s", w->opts.channel, zmq_strerror(errno));
	return 0;
}

/* Reads one monitor event (two frames); returns its id, 0 for none. */
static unsigned int
chan_monitor_event(struct worker *w)
{
	zmq_msg_t msg;
	uint16_t ev = 0;
	int more;

	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, w->mon, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&msg);
		return 0;
	}
	if (zmq_msg_size(&msg) >= sizeof(ev))
		memcpy(&ev, zmq_msg_data(&msg), sizeof(ev));
	more = zmq_msg_more(&msg);
	zmq_msg_close(&msg);
	while (more) {
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, w->mon, 0) == -1) {
			zmq_msg_close(&msg);
			break;
		}
		more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);
	}
	return ev;
}

/* Drains the monitor; -1 when the channel is gone. */
int
chan_monitor(struct worker *w, bool *connected)
{
	unsigned int ev;

	while ((ev = chan_monitor_event(w)) != 0) {
		if (ev == ZMQ_EVENT_CONNECTED && connected != NULL)
			*connected = true;
		if (ev == ZMQ_EVENT_DISCONNECTED || ev == ZMQ_EVENT_CLOSED) {
			w->lost = true;
			return -1;
		}
	}
	return 0;
}

/* The connection must exist before the privilege drop: afterwards the
 * channel's folder (0700, the daemon's) is out of reach. */
int
chan_wait_connected(struct worker *w, struct tp_err *err)
{
	zmq_pollitem_t it = { w->mon, 0, ZMQ_POLLIN, 0 };
	uint64_t end = clock_mono_ms() + WORKER_CONNECT_MS, now;
	bool connected = false;

	for (;;) {
		if (chan_monitor(w, &connected) == -1)
			return tp_err_set(err, TP_UNAVAILABLE, "cannot connect "
			    "to %s: refused or closed", w->opts.channel);
		if (connected)
			return 0;
		if ((now = clock_mono_ms()) >= end)
			break;
		if (zmq_poll(&it, 1, (long)(end - now)) == -1 && errno != EINTR)
			return tp_err_set(err, TP_INTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
	}
	return tp_err_set(err, TP_UNAVAILABLE, "cannot connect to %s within "
	    "%d ms", w->opts.channel, WORKER_CONNECT_MS);
}

/* Reads one message without waiting. */
enum chan_rx
chan_recv(struct worker *w, struct wire_msg *m)
{
	struct tp_err err;
	zmq_msg_t msg;
	int rc, more;

	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, w->sock, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&msg);
		if (errno == EAGAIN || errno == EINTR)
			return CHAN_RX_NONE;
		w->lost = true;
		return CHAN_RX_FAIL;
	}
	if ((more = zmq_msg_more(&msg))) {
		/* one message is one frame: drop every part */
		while (more) {
			sodium_memzero(zmq_msg_data(&msg), zmq_msg_size(&msg));
			zmq_msg_close(&msg);
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, w->sock, 0) == -1)
				break;
			more = zmq_msg_more(&msg);
		}
		sodium_memzero(zmq_msg_data(&msg), zmq_msg_size(&msg));
		zmq_msg_close(&msg);
		fprintf(stderr, "worker: multi-part message ignored\n");
		return CHAN_RX_SKIP;
	}
	tp_err_clear(&err);
	rc = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), m, &err);
	/* a JOB's frame holds keys */
	sodium_memzero(zmq_msg_data(&msg), zmq_msg_size(&msg));
	zmq_msg_close(&msg);
	if (rc == -1) {
		fprintf(stderr, "worker: bad message ignored: %s\n", err.msg);
		return CHAN_RX_SKIP;
	}
	if (m->generation != w->opts.generation) {
		fprintf(stderr, "worker: %s of generation %" PRIu64 " ignored\n",
		    wire_type_name(m->type), m->generation);
		wire_msg_clear(m);
		return CHAN_RX_SKIP;
	}
	w->last_heard = clock_mono_ms();
	return CHAN_RX_MSG;
}

int
chan_hello(struct worker *w, struct tp_err *err)
{
	char hex[WIRE_TOKEN_BYTES * 2 + 1];
	json_object *p, *tok;
	int rc;

	token_hex(hex, sizeof(hex));
	p = result_obj();
	result_add(p, "pid", json_object_new_int64((int64_t)getpid()));
	tok = result_str(hex);
	sodium_memzero(hex, sizeof(hex));
	result_add(p, "token", tok);
	rc = chan_send(w, WIRE_HELLO, p, err);
	json_wipe_string(p);
	json_object_put(p);
	return rc;
}

void
chan_log(struct worker *w, const char *job_id, const char *level,
    const char *event, const char *message)
{
	struct tp_err err;
	json_object *p;

	p = result_obj();
	if (job_id != NULL)
		result_add(p, "job_id", result_str(job_id));
	else if (json_add(p, "job_id", NULL) == -1)	/* null */
		sandbox_oom();
	result_add(p, "level", result_str(level));
	result_add(p, "event", result_str(event));
	result_add(p, "message", result_str(message));
	if (chan_send(w, WIRE_LOG, p, &err) == -1)
		fprintf(stderr, "worker: %s\n", err.msg);
	json_object_put(p);
}

void
chan_heartbeat(struct worker *w)
{
	struct tp_err err;
	json_object *p;

	p = result_obj();
	result_add(p, "jobs", json_object_new_int64((int64_t)w->njobs));
	if (chan_send(w, WIRE_HEARTBEAT, p, &err) == -1)
		fprintf(stderr, "worker: %s\n", err.msg);
	json_object_put(p);
}

void
chan_close(struct worker *w)
{
	if (w->sock != NULL)
		zmq_socket_monitor(w->sock, NULL, 0);
	if (w->mon != NULL)
		zmq_close(w->mon);
	if (w->sock != NULL)
		zmq_close(w->sock);
	if (w->zctx != NULL)
		zmq_ctx_term(w->zctx);
}
