/* zap.c: the ZeroMQ authentication handler (ZAP, RFC 27) for the CURVE job API, on the event loop: listed public keys in, others out. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "common/log.h"
#include "supervisor/zap.h"
#include "supervisor/zframes.h"

#define ZAP_ENDPOINT	"inproc://zeromq.zap.01"
#define ZAP_FRAMES	7	/* version, id, domain, address, routing id,
				   mechanism, the CURVE public key */
#define ZAP_BURST	64	/* requests answered per wake-up */
#define ZAP_LOG_EVERY	10	/* seconds between refusal lines, at most */
#define ZAP_ADDR_SHOWN	64	/* bytes of a peer's address logged */
#define ZAP_KEY_SHOWN	10	/* Z85 characters of a refused public key */

struct zap {
	void			*sock;		/* REP on ZAP_ENDPOINT */
	struct event		*ev;
	struct curve_clients	 clients;
	time_t			 logged;	/* last refusal line */
	unsigned long		 unlogged;	/* refusals since */
};

static void	zap_readable(evutil_socket_t, short, void *);

const struct curve_client *
zap_client(const struct zap *z, const char *name)
{
	return z != NULL && name != NULL ?
	    curve_clients_by_name(&z->clients, name) : NULL;
}

/* A frame's text for the log: printable ASCII only, bounded. */
static void
zap_shown(const zmq_msg_t *m, char *buf, size_t size)
{
	const char *s = zmq_msg_data((zmq_msg_t *)m);
	size_t len = zmq_msg_size((zmq_msg_t *)m), i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[len] = '\0';
}

/* A refusal is logged, but a flood of them is summed up. */
static void
zap_log_refusal(struct zap *z, const zmq_msg_t *addr, const uint8_t *pub,
    const char *why)
{
	char shown[ZAP_ADDR_SHOWN + 1], key[CURVE_Z85_LEN + 1] = "";
	time_t now = time(NULL);

	if (z->logged != 0 && now - z->logged < ZAP_LOG_EVERY) {
		z->unlogged++;
		return;
	}
	zap_shown(addr, shown, sizeof(shown));
	if (pub != NULL && zmq_z85_encode(key, pub, CURVE_KEY_BYTES) == NULL)
		key[0] = '\0';
	key[ZAP_KEY_SHOWN] = '\0';	/* a prefix is enough to find it */
	if (z->unlogged > 0)
		log_warnx("api: refused a client from %s: %s%s%s%s (and %lu "
		    "more refusals in the last %lld s)", shown[0] ? shown :
		    "?", why, key[0] ? " (public key " : "", key,
		    key[0] ? "...)" : "", z->unlogged,
		    (long long)(now - z->logged));
	else
		log_warnx("api: refused a client from %s: %s%s%s%s",
		    shown[0] ? shown : "?", why, key[0] ? " (public key " : "",
		    key, key[0] ? "...)" : "");
	z->logged = now;
	z->unlogged = 0;
}

static int
zap_send(void *sock, const char *s, size_t len, bool more)
{
	return zmq_send(sock, s, len, more ? ZMQ_SNDMORE : 0) == -1 ? -1 : 0;
}

/* Answers one request: 200 with the client's name, or 400. */
static void
zap_answer(struct zap *z, zmq_msg_t *f, size_t nf)
{
	const struct curve_client *c = NULL;
	const char *why = NULL;
	const uint8_t *pub = NULL;

	if (nf != ZAP_FRAMES || zmq_msg_size(&f[0]) != 3 ||
	    memcmp(zmq_msg_data(&f[0]), "1.0", 3) != 0)
		why = "a malformed ZAP request";
	else if (zmq_msg_size(&f[5]) != 5 ||
	    memcmp(zmq_msg_data(&f[5]), "CURVE", 5) != 0)
		why = "not a CURVE handshake";
	else if (zmq_msg_size(&f[6]) != CURVE_KEY_BYTES)
		why = "a malformed public key";
	else {
		pub = zmq_msg_data(&f[6]);
		if ((c = curve_clients_by_key(&z->clients, pub)) == NULL)
			why = "its public key is not in curve_clients";
	}
	if (c == NULL)
		zap_log_refusal(z, nf > 3 ? &f[3] : &f[0], pub, why);
	else
		log_debug("api: client %s (%s) authenticated",
		    c->name, curve_role_name(c->role));
	if (nf < 2)
		return;		/* no request id to answer */
	if (zap_send(z->sock, "1.0", 3, true) == -1 ||
	    zmq_send(z->sock, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
	    ZMQ_SNDMORE) == -1 ||
	    zap_send(z->sock, c != NULL ? "200" : "400", 3, true) == -1 ||
	    zap_send(z->sock, c != NULL ? "OK" : "not allowed", c != NULL ?
	    2 : 11, true) == -1 ||
	    zap_send(z->sock, c != NULL ? c->name : "", c != NULL ?
	    strlen(c->name) : 0, true) == -1 ||
	    zap_send(z->sock, "", 0, false) == -1)
		log_warnx("api: ZAP reply not sent: %s", zmq_strerror(errno));
}

static void
zap_readable(evutil_socket_t fd, short what, void *arg)
{
	struct zap *z = arg;
	zmq_msg_t f[ZAP_FRAMES];
	size_t nf, len;
	bool extra;
	int events, i, rc;

	(void)fd;
	(void)what;
	for (i = 0; i < ZAP_BURST; i++) {
		len = sizeof(events);
		if (zmq_getsockopt(z->sock, ZMQ_EVENTS, &events, &len) == -1) {
			log_warnx("api: ZAP ZMQ_EVENTS: %s",
			    zmq_strerror(errno));
			return;
		}
		if (!(events & ZMQ_POLLIN))
			return;
		nf = 0;
		extra = false;
		if ((rc = zframes_recv(z->sock, f, ZAP_FRAMES, &nf, &extra,
		    "api ZAP")) == 0)
			return;
		if (rc == 1)
			zap_answer(z, f, extra ? ZAP_FRAMES + 1 : nf);
		while (nf > 0)
			zframes_close(&f[--nf]);
	}
	event_active(z->ev, EV_READ, 0);
}

struct zap *
zap_open(struct event_base *base, void *zctx, const char *clients_file,
    struct tp_err *err)
{
	struct zap *z;
	int linger = 0, fd;
	size_t fdlen = sizeof(fd);

	if ((z = calloc(1, sizeof(*z))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	if (curve_clients_load(clients_file, &z->clients, err) == -1)
		goto fail;
	if ((z->sock = zmq_socket(zctx, ZMQ_REP)) == NULL ||
	    zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger)) ==
	    -1 || zmq_bind(z->sock, ZAP_ENDPOINT) == -1 ||
	    zmq_getsockopt(z->sock, ZMQ_FD, &fd, &fdlen) == -1) {
		tp_err_set(err, TP_INTERNAL, "the api's ZAP handler: %s",
		    zmq_strerror(errno));
		goto fail;
	}
	if ((z->ev = event_new(base, fd, EV_READ | EV_PERSIST, zap_readable,
	    z)) == NULL || event_add(z->ev, NULL) == -1) {
		tp_err_set(err, TP_INTERNAL, "cannot watch the ZAP socket");
		goto fail;
	}
	log_info("api: CURVE with %zu allowed client%s from %s",
	    z->clients.n, z->clients.n == 1 ? "" : "s", clients_file);
	return z;
fail:
	zap_free(z);
	return NULL;
}

int
zap_curve_server(void *sock, const char *file, struct tp_err *err)
{
	char sec[CURVE_Z85_LEN + 1], pub[CURVE_Z85_LEN + 1];
	int on = 1, rc = 0;

	if (curve_secret_load(file, "curve_server_key", sec, err) == -1)
		return -1;
	if (curve_public_of(sec, pub, err) == -1)
		rc = -1;
	else if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof(on)) ==
	    -1 || zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec,
	    CURVE_Z85_LEN) == -1 || zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN,
	    "tradepulse", 10) == -1)
		rc = tp_err_set(err, TP_INTERNAL, "api: CURVE: %s",
		    zmq_strerror(errno));
	sodium_memzero(sec, sizeof(sec));
	if (rc == 0)
		log_info("api: CURVE server, public key %s", pub);
	return rc;
}

void
zap_free(struct zap *z)
{
	if (z == NULL)
		return;
	if (z->ev != NULL)
		event_free(z->ev);
	if (z->sock != NULL)
		zmq_close(z->sock);
	curve_clients_free(&z->clients);
	free(z);
}
