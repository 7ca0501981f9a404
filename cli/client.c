/* client.c: the job API transport: a DEALER socket, one request frame, one reply frame in time. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include <sodium.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/curve.h"
#include "common/jsonutil.h"

#define CLIENT_MONITOR "inproc://tradepulse-cli.monitor"
#define CLIENT_EVENTS (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED | \
	ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
	ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

struct client {
	void *ctx;
	void *sock;		/* DEALER to the daemon */
	void *mon;		/* PAIR receiving the DEALER's socket events */
	char *endpoint;
	const char *ipc_path;	/* inside endpoint; NULL unless ipc:// */
	bool connected;		/* a connection was made (maybe no handshake) */
	bool dropped;		/* a connection closed before the request */
};

/* The socket file must be there before ZeroMQ starts retrying in silence. */
static int
client_ipc_check(const char *path, struct tp_err *err)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return tp_err_set(err, TP_UNAVAILABLE,
			    "no such socket (is tradepulsed running?)");
		if (errno == EACCES)
			return tp_err_set(err, TP_UNAVAILABLE, "permission "
			    "denied (the socket's folder is open only to the "
			    "daemon's user and group)");
		return tp_err_errno(err, TP_UNAVAILABLE, "cannot check the "
		    "socket");
	}
	if (!S_ISSOCK(st.st_mode))
		return tp_err_set(err, TP_UNAVAILABLE, "%s is not a socket",
		    path);
	return 0;
}

/*
 * ZeroMQ only says that it will retry; a plain connect() tells why.
 * Returns 0 when the socket now accepts (ZeroMQ's retry will succeed).
 */
static int
client_ipc_diagnose(const char *path, struct tp_err *err)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return tp_err_set(err, TP_UNAVAILABLE, "socket path too long");
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return tp_err_errno(err, TP_UNAVAILABLE, "socket");
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (rc == 0) {
		close(fd);
		return 0;
	}
	switch (errno) {
	case ECONNREFUSED:
		tp_err_set(err, TP_UNAVAILABLE, "connection refused (is "
		    "tradepulsed running? the socket file may be left over "
		    "from a daemon that stopped)");
		break;
	case ENOENT:
	case ENOTDIR:
		tp_err_set(err, TP_UNAVAILABLE,
		    "no such socket (is tradepulsed running?)");
		break;
	case EACCES:
	case EPERM:
		tp_err_set(err, TP_UNAVAILABLE, "permission denied (the "
		    "socket is open only to the daemon's user and group)");
		break;
	default:
		tp_err_errno(err, TP_UNAVAILABLE, "cannot connect");
		break;
	}
	close(fd);
	return -1;
}

int
client_ipc_reachable(const char *path, struct tp_err *err)
{
	if (client_ipc_check(path, err) == -1)
		return -1;
	return client_ipc_diagnose(path, err);
}

static int
client_setopt_int(void *sock, int opt, int v, struct tp_err *err)
{
	if (zmq_setsockopt(sock, opt, &v, sizeof(v)) == -1)
		return tp_err_set(err, TP_INTERNAL, "zmq_setsockopt: %s",
		    zmq_strerror(errno));
	return 0;
}

/*
 * tcp://: the daemon serves it with CURVE only. Our secret key comes from
 * a file (never the command line), our public key is derived from it, and
 * the daemon's public key is checked, so a server without that secret key
 * cannot answer.
 */
static int
client_curve(void *sock, const char *curve_key, const char *server_key,
    struct tp_err *err)
{
	char sec[CURVE_Z85_LEN + 1], pub[CURVE_Z85_LEN + 1];
	char srv[CURVE_Z85_LEN + 1];
	int rc = 0;

	if (curve_key == NULL || server_key == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "a tcp:// endpoint "
		    "is served with CURVE only: give --curve-key FILE (your "
		    "secret key, from tradepulse keygen --curve) and "
		    "--server-key PUBFILE (the daemon's public key)");
	if (curve_public_get(server_key, srv, err) == -1)
		return -1;
	if (curve_secret_load(curve_key, "--curve-key", sec, err) == -1) {
		err->code = TP_INVALID_ARGUMENT;
		return -1;
	}
	if (curve_public_of(sec, pub, err) == -1)
		rc = -1;
	else if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, srv,
	    CURVE_Z85_LEN) == -1 || zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY,
	    pub, CURVE_Z85_LEN) == -1 || zmq_setsockopt(sock,
	    ZMQ_CURVE_SECRETKEY, sec, CURVE_Z85_LEN) == -1)
		rc = tp_err_set(err, TP_INTERNAL, "CURVE: %s",
		    zmq_strerror(errno));
	sodium_memzero(sec, sizeof(sec));
	return rc;
}

struct client *
client_open(const char *endpoint, const char *curve_key,
    const char *server_key, struct tp_err *err)
{
	struct client *c;
	int64_t maxmsg = CLI_REPLY_MAX;
	bool tcp = strncmp(endpoint, "tcp://", 6) == 0;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->endpoint = strdup(endpoint)) == NULL) {
		free(c);
		tp_err_set(err, TP_INTERNAL, "out of memory");
		return NULL;
	}
	/* ipc://, or tcp:// with CURVE: nothing else would authenticate */
	if (strncmp(endpoint, "ipc://", 6) != 0 && !tcp) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "endpoint %.64s: only "
		    "ipc://PATH, or tcp://HOST:PORT with CURVE, is accepted",
		    endpoint);
		goto fail;
	}
	if (!tcp && (curve_key != NULL || server_key != NULL)) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "--curve-key and "
		    "--server-key are for a tcp:// endpoint; %.64s is ipc://",
		    endpoint);
		goto fail;
	}
	/* An abstract socket ("ipc://@name") has no file to look at. */
	if (!tcp && endpoint[6] != '@') {
		c->ipc_path = c->endpoint + 6;
		if (client_ipc_check(c->ipc_path, err) == -1)
			goto fail;
	}
	if ((c->ctx = zmq_ctx_new()) == NULL ||
	    (c->sock = zmq_socket(c->ctx, ZMQ_DEALER)) == NULL ||
	    (c->mon = zmq_socket(c->ctx, ZMQ_PAIR)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "zmq: %s", zmq_strerror(errno));
		goto fail;
	}
	/* Nothing lingers at exit, nothing queues before a connection. */
	if (client_setopt_int(c->sock, ZMQ_LINGER, 0, err) == -1 ||
	    client_setopt_int(c->sock, ZMQ_IMMEDIATE, 1, err) == -1 ||
	    client_setopt_int(c->mon, ZMQ_LINGER, 0, err) == -1)
		goto fail;
	if (tcp && client_curve(c->sock, curve_key, server_key, err) == -1)
		goto fail;
	if (zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg,
	    sizeof(maxmsg)) == -1) {
		tp_err_set(err, TP_INTERNAL, "zmq_setsockopt: %s",
		    zmq_strerror(errno));
		goto fail;
	}
	/* Socket events tell a refused connection from a slow daemon. */
	if (zmq_socket_monitor(c->sock, CLIENT_MONITOR, CLIENT_EVENTS) == -1 ||
	    zmq_connect(c->mon, CLIENT_MONITOR) == -1) {
		tp_err_set(err, TP_INTERNAL, "zmq monitor: %s",
		    zmq_strerror(errno));
		goto fail;
	}
	if (zmq_connect(c->sock, endpoint) == -1) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "invalid endpoint %s: %s",
		    endpoint, zmq_strerror(errno));
		goto fail;
	}
	return c;
fail:
	client_free(c);
	return NULL;
}

/* Reads one socket event; returns its number, or 0 if none was read. */
static unsigned
client_event(struct client *c)
{
	zmq_msg_t m;
	uint16_t ev = 0;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&m);
		return 0;
	}
	if (zmq_msg_size(&m) >= 6)
		memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
	/* The second frame (the peer's address) is of no use here. */
	while (zmq_msg_more(&m) && zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) != -1)
		;
	zmq_msg_close(&m);
	return ev;
}

static int
client_send(struct client *c, const char *buf, size_t len, bool borrowed,
    struct tp_err *err)
{
	zmq_msg_t m;

	/* Without a free function, ZeroMQ uses the caller's buffer as is. */
	if (borrowed) {
		if (zmq_msg_init_data(&m, (void *)buf, len, NULL, NULL) == -1)
			return tp_err_set(err, TP_INTERNAL, "zmq_msg_init_data:"
			    " %s", zmq_strerror(errno));
	} else {
		if (zmq_msg_init_size(&m, len) == -1)
			return tp_err_set(err, TP_INTERNAL, "zmq_msg_init_size:"
			    " %s", zmq_strerror(errno));
		memcpy(zmq_msg_data(&m), buf, len);
	}
	if (zmq_msg_send(&m, c->sock, ZMQ_DONTWAIT) == -1) {
		int saved = errno;

		zmq_msg_close(&m);
		if (saved == EAGAIN)
			return 1;	/* the connection went; wait again */
		return tp_err_set(err, TP_INTERNAL, "zmq_msg_send: %s",
		    zmq_strerror(saved));
	}
	return 0;
}

/* Returns 1 when no message was waiting. */
static int
client_recv(struct client *c, json_object **reply, struct tp_err *err)
{
	zmq_msg_t m;
	struct tp_err perr;
	int rc = 0;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&m);
		if (errno == EAGAIN)
			return 1;
		return tp_err_set(err, TP_INTERNAL, "zmq_msg_recv: %s",
		    zmq_strerror(errno));
	}
	if (zmq_msg_more(&m)) {
		while (zmq_msg_more(&m) &&
		    zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) != -1)
			;
		rc = tp_err_set(err, TP_INTERNAL, "malformed reply from the "
		    "daemon: more than one frame");
	} else if (zmq_msg_size(&m) > CLI_REPLY_MAX) {
		rc = tp_err_set(err, TP_RESOURCE_EXHAUSTED, "the daemon's "
		    "reply is larger than %d bytes", CLI_REPLY_MAX);
	} else {
		tp_err_clear(&perr);
		*reply = json_parse(zmq_msg_data(&m), zmq_msg_size(&m), &perr);
		if (*reply == NULL)
			rc = tp_err_set(err, TP_INTERNAL, "malformed reply "
			    "from the daemon: %s", perr.msg);
	}
	zmq_msg_close(&m);
	return rc;
}

/* A socket event while waiting: -1 ends the call with err set. */
static int
client_on_event(struct client *c, unsigned ev, bool sent, json_object **reply,
    struct tp_err *err)
{
	int rc;

	switch (ev) {
	case ZMQ_EVENT_CONNECTED:
		c->connected = true;
		return 0;
	case ZMQ_EVENT_CONNECT_RETRIED:
		/* ZeroMQ also retries after a connection it had was closed. */
		if (c->dropped)
			return tp_err_set(err, TP_UNAVAILABLE, "the peer "
			    "closed the connection before the request (did "
			    "tradepulsed stop, or is this not the job API "
			    "endpoint?)");
		if (c->ipc_path != NULL)
			return client_ipc_diagnose(c->ipc_path, err);
		return tp_err_set(err, TP_UNAVAILABLE, "connection refused or "
		    "host unreachable (is tradepulsed running?)");
	case ZMQ_EVENT_DISCONNECTED:
		if (!sent) {
			c->dropped = true;	/* the retry event tells */
			return 0;
		}
		/* A reply that came just before the close still counts. */
		if ((rc = client_recv(c, reply, err)) != 1)
			return rc == 0 ? 1 : -1;
		return tp_err_set(err, TP_UNAVAILABLE, "the connection closed "
		    "before a reply (did tradepulsed stop?)");
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		return tp_err_set(err, TP_UNAVAILABLE, "the ZeroMQ handshake "
		    "failed (did tradepulsed stop, or is this not the job API "
		    "endpoint?)");
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		return tp_err_set(err, TP_UNAVAILABLE, "the daemon refused "
		    "authentication");
	default:
		return 0;
	}
}

static int
client_timeout(const struct client *c, bool sent, int timeout_ms,
    struct tp_err *err)
{
	double s = timeout_ms / 1000.0;

	if (sent)
		return tp_err_set(err, TP_DEADLINE_EXCEEDED, "no reply within "
		    "%g s", s);
	if (c->connected)
		return tp_err_set(err, TP_DEADLINE_EXCEEDED, "connected, but "
		    "no ZeroMQ handshake within %g s (is the daemon hung, or "
		    "is this not the job API endpoint?)", s);
	return tp_err_set(err, TP_DEADLINE_EXCEEDED, "no connection within "
	    "%g s", s);
}

int
client_call(struct client *c, const char *buf, size_t len, bool borrowed,
    int timeout_ms, json_object **reply, struct tp_err *err)
{
	int64_t deadline = (int64_t)clock_mono_ms() + timeout_ms, left;
	bool sent = false;
	int rc;

	*reply = NULL;
	for (;;) {
		zmq_pollitem_t items[2] = {
			{ c->sock, 0, sent ? ZMQ_POLLIN : ZMQ_POLLOUT, 0 },
			{ c->mon, 0, ZMQ_POLLIN, 0 },
		};

		if ((left = deadline - (int64_t)clock_mono_ms()) <= 0)
			return client_timeout(c, sent, timeout_ms, err);
		if (zmq_poll(items, 2, (long)left) == -1) {
			if (errno == EINTR)
				continue;
			return tp_err_set(err, TP_INTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
		}
		/* With ZMQ_IMMEDIATE, POLLOUT means a live connection. */
		if (!sent && (items[0].revents & ZMQ_POLLOUT)) {
			rc = client_send(c, buf, len, borrowed, err);
			if (rc == -1)
				return -1;
			sent = rc == 0;
			continue;
		}
		if (sent && (items[0].revents & ZMQ_POLLIN)) {
			if ((rc = client_recv(c, reply, err)) != 1)
				return rc;
			continue;
		}
		if (items[1].revents & ZMQ_POLLIN) {
			rc = client_on_event(c, client_event(c), sent, reply,
			    err);
			if (rc != 0)
				return rc == 1 ? 0 : -1;
		}
	}
}

const char *
client_endpoint(const struct client *c)
{
	return c->endpoint;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->sock != NULL) {
		zmq_socket_monitor(c->sock, NULL, 0);
		zmq_close(c->sock);
	}
	if (c->mon != NULL)
		zmq_close(c->mon);
	/* After the context ends, ZeroMQ holds no borrowed buffer. */
	if (c->ctx != NULL)
		while (zmq_ctx_term(c->ctx) == -1 && errno == EINTR)
			;
	free(c->endpoint);
	free(c);
}
