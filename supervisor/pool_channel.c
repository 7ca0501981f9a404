/* pool_channel.c: the worker channel: its socket, heartbeat deadlines, sending to workers, receiving and checking their messages (HELLO, HEARTBEAT), handing the rest on. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/sealbox.h"
#include "common/timefmt.h"
#include "supervisor/daemon.h"
#include "supervisor/pool_int.h"
#include "supervisor/zframes.h"

#define POOL_HWM		1024	/* messages queued per worker */
#define POOL_DRAIN_MAX		4096	/* messages read by one drain */
#define POOL_SOCK_NAME		"workers.sock"
#define POOL_RUN_DIR		"run"

static void	pool_channel_cb(evutil_socket_t, short, void *);

/* The channel's ipc socket */

/*
 * <state_dir>/run, 0700 and ours: workers connect while they still run as
 * the daemon's user and lose the right to once they drop privileges, so
 * no other local process can ever reach the channel.
 */
int
pool_channel_open(struct pool *p, void *zctx, struct tp_err *err)
{
	struct sockaddr_un sun;
	int64_t maxsize = WIRE_HEADER_LEN + WIRE_MAX_RESULT;
	int on = 1, linger = 0, hwm = POOL_HWM;
	/* a send to a worker that is gone fails instead of vanishing; a
	 * frame over the largest message disconnects its sender */
	const struct router_opt opts[] = {
		{ ZMQ_ROUTER_MANDATORY, &on, sizeof(on),
		    "ZMQ_ROUTER_MANDATORY" },
		{ ZMQ_MAXMSGSIZE, &maxsize, sizeof(maxsize), "ZMQ_MAXMSGSIZE" },
		{ ZMQ_LINGER, &linger, sizeof(linger), "ZMQ_LINGER" },
		{ ZMQ_SNDHWM, &hwm, sizeof(hwm), "ZMQ_SNDHWM" },
		{ ZMQ_RCVHWM, &hwm, sizeof(hwm), "ZMQ_RCVHWM" },
	};
	const struct router_params rp = {
		.what = "worker channel",
		.dir = ROUTER_DIR_OWNED,
		.dir_mode = 0700,
		.sock_mode = 0600,
		.opts = opts,
		.nopts = sizeof(opts) / sizeof(opts[0]),
	};

	if (asprintf(&p->endpoint, "ipc://%s/%s/%s", p->d->cfg.state_dir,
	    POOL_RUN_DIR, POOL_SOCK_NAME) == -1) {
		p->endpoint = NULL;
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (strlen(p->endpoint + 6) >= sizeof(sun.sun_path))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the worker "
		    "channel %s is longer than a unix socket name may be (%zu "
		    "bytes); choose a shorter state_dir", p->endpoint + 6,
		    sizeof(sun.sun_path) - 1);
	if (router_open(&p->rt, zctx, p->endpoint, &rp, err) == -1)
		return -1;
	if ((p->ev_chan = event_new(p->d->base, p->rt.fd, EV_READ | EV_PERSIST,
	    pool_channel_cb, p)) == NULL || event_add(p->ev_chan, NULL) == -1)
		return tp_err_set(err, TP_INTERNAL,
		    "cannot watch the worker channel");
	/* ZMQ_FD is edge-triggered: look once in case something is queued */
	event_active(p->ev_chan, EV_READ, 0);
	return 0;
}

/* Heartbeats: a worker silent for heartbeat_timeout is killed */

void
pool_heartbeat_arm(struct worker *w)
{
	struct timeval tv = clock_tv(w->pool->d->cfg.heartbeat_timeout);

	if (w->killing || w->reaped || w->ev_heartbeat == NULL)
		return;
	evtimer_add(w->ev_heartbeat, &tv);
}

void
pool_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char reason[WORKER_REASON_MAX], t[32];

	timefmt_duration(t, sizeof(t), w->pool->d->cfg.heartbeat_timeout);
	if (w->hello_ok)
		snprintf(reason, sizeof(reason), "no heartbeat for %s", t);
	else
		snprintf(reason, sizeof(reason), "no hello within %s", t);
	worker_kill(w, reason);
}

/* Sending */

static void
pool_wipe_free(void *data, void *hint)
{
	wire_free_wiped(data, (size_t)(uintptr_t)hint);
}

static int
pool_send(struct pool *p, struct worker *w, enum wire_type type,
    json_object *payload, struct tp_err *err)
{
	zmq_msg_t msg;
	uint8_t *buf;
	size_t len;
	int rc = -1;

	if (wire_encode(type, w->generation, payload, &buf, &len, err) == -1)
		return -1;
	if (zmq_send(p->rt.sock, w->rid, sizeof(w->rid),
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
		tp_err_set(err, TP_UNAVAILABLE, "worker %ld is not connected: "
		    "%s", (long)w->pid, zmq_strerror(errno));
		if (type == WIRE_JOB)
			wire_free_wiped(buf, len);
		else
			free(buf);
		goto out;
	}
	if (type == WIRE_JOB) {
		/* ZeroMQ sends our buffer itself and hands it back to be
		 * wiped: no unwiped copy of the keys stays behind */
		if (zmq_msg_init_data(&msg, buf, len, pool_wipe_free,
		    (void *)(uintptr_t)len) == -1) {
			wire_free_wiped(buf, len);
			tp_err_set(err, TP_INTERNAL, "zmq_msg_init_data: %s",
			    zmq_strerror(errno));
			goto out;
		}
		if (zmq_msg_send(&msg, p->rt.sock, ZMQ_DONTWAIT) == -1) {
			tp_err_set(err, TP_UNAVAILABLE, "send to worker %ld: "
			    "%s", (long)w->pid, zmq_strerror(errno));
			zmq_msg_close(&msg);
			goto out;
		}
	} else {
		if (zmq_send(p->rt.sock, buf, len, ZMQ_DONTWAIT) == -1) {
			tp_err_set(err, TP_UNAVAILABLE, "send to worker %ld: "
			    "%s", (long)w->pid, zmq_strerror(errno));
			free(buf);
			goto out;
		}
		free(buf);
	}
	rc = 0;
out:
	/* sending can consume the edge of ZMQ_FD that announced input */
	if (p->ev_chan != NULL)
		event_active(p->ev_chan, EV_READ, 0);
	return rc;
}

/*
 * A worker's peak RSS (VmHWM, of its own image: wait4's ru_maxrss would
 * count the daemon's pages a child shares until exec), taken when
 * its batch is done, for status and the benchmark.
 */
static void
pool_note_peak(struct worker *w)
{
	int64_t kb = spawn_status_kb(w->pid, "VmHWM:");

	if (kb > 0 && (uint64_t)kb > w->pool->worker_maxrss_kb)
		w->pool->worker_maxrss_kb = (uint64_t)kb;
}

int
worker_send(struct worker *w, enum wire_type type, json_object *payload,
    struct tp_err *err)
{
	if (w->killing || w->reaped)
		return tp_err_set(err, TP_UNAVAILABLE, "worker %ld is %s",
		    (long)w->pid, w->reaped ? "gone" : "being killed");
	if (!w->hello_ok)
		return tp_err_set(err, TP_UNAVAILABLE, "worker %ld has not "
		    "said hello yet", (long)w->pid);
	if (type != WIRE_JOB && type != WIRE_SHUTDOWN)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the supervisor "
		    "does not send %s", wire_type_name(type));
	if (pool_send(w->pool, w, type, payload, err) == -1)
		return -1;
	if (type == WIRE_JOB)
		w->jobs_sent++;
	else {
		w->shutdown_sent = true;
		w->state = WORKER_STOPPING;
		pool_note_peak(w);
	}
	return 0;
}

int
worker_seal_keys(const struct worker *w, const char *key_id,
    const char *secret, char *out, size_t size, struct tp_err *err)
{
	if (w->session_key == NULL)
		return tp_err_set(err, TP_UNAVAILABLE, "worker %ld is gone",
		    (long)w->pid);
	return sealbox_keys_seal(w->session_key, key_id, secret, out, size,
	    err);
}

/* Receiving */

struct worker *
pool_find(struct pool *p, uint64_t generation)
{
	struct worker *w;

	TAILQ_FOREACH(w, &p->workers, entry)
		if (w->generation == generation)
			return w;
	return NULL;
}

static int
pool_send_config(struct pool *p, struct worker *w, struct tp_err *err)
{
	const struct config *cfg = &p->d->cfg;
	json_object *o, *res;
	int rc;

	if ((o = json_object_new_object()) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	res = p->resolver != NULL ? resolver_list(p->resolver) :
	    json_object_new_array();
	json_add(o, "max_jobs", json_object_new_int64(cfg->max_jobs));
	/* the silence limit: the worker beats at a third of it */
	json_add(o, "heartbeat_ms", json_object_new_int64(
	    (int64_t)cfg->heartbeat_timeout));
	json_add(o, "job_timeout_ms", json_object_new_int64(
	    (int64_t)cfg->job_timeout));
	json_add(o, "resolve", res);
	json_add(o, "trading_url", json_object_new_string(
	    cfg->trading_url));
	json_add(o, "data_url", json_object_new_string(cfg->data_url));
	json_add(o, "requests_per_minute", json_object_new_int64(
	    (int64_t)cfg->requests_per_minute));
	rc = pool_send(p, w, WIRE_CONFIG, o, err);
	json_object_put(o);
	return rc;
}

static void
pool_spawn_sample(double *ring, size_t *n, double ms)
{
	ring[*n % POOL_SPAWN_SAMPLES] = ms;
	(*n)++;
}

/* The token in constant time, the pid against the child we forked. */
static void
pool_hello(struct pool *p, struct worker *w, json_object *payload)
{
	uint8_t token[WIRE_TOKEN_BYTES];
	const char *hex, *end = NULL;
	struct tp_err err;
	size_t blen = 0;
	int64_t pid;
	bool ok;

	if (!json_get_int(payload, "pid", &pid) || pid != (int64_t)w->pid) {
		log_warnx("security: worker %ld (generation %" PRIu64 ") sent "
		    "a HELLO with a wrong pid", (long)w->pid, w->generation);
		worker_kill(w, "HELLO with a wrong pid");
		return;
	}
	hex = json_get_str(payload, "token");
	ok = hex != NULL && strlen(hex) == 2 * WIRE_TOKEN_BYTES &&
	    sodium_hex2bin(token, sizeof(token), hex, strlen(hex), NULL, &blen,
	    &end) == 0 && blen == sizeof(token) && *end == '\0' &&
	    sodium_memcmp(token, w->token, sizeof(token)) == 0;
	sodium_memzero(token, sizeof(token));
	if (!ok) {
		log_warnx("security: worker %ld (generation %" PRIu64 ") sent "
		    "a HELLO with a wrong token", (long)w->pid, w->generation);
		worker_kill(w, "HELLO with a wrong token");
		return;
	}
	sodium_memzero(w->token, sizeof(w->token));
	w->hello_ok = true;
	w->state = WORKER_READY;
	throttle_hello(&p->thr);
	pool_spawn_sample(p->spawn_ms, &p->spawn_n,
	    clock_since_ms(&w->t_spawn));
	if (pool_send_config(p, w, &err) == -1) {
		log_warnx("worker %ld: cannot send CONFIG: %s", (long)w->pid,
		    err.msg);
		worker_kill(w, "cannot send CONFIG");
		return;
	}
	log_debug("worker %ld (generation %" PRIu64 ") said hello after %.2f "
	    "ms", (long)w->pid, w->generation, clock_since_ms(&w->t_spawn));
	if (p->ev.ready != NULL)
		p->ev.ready(p->arg, w);
}

static bool
pool_heartbeat_ok(json_object *payload)
{
	json_object *v;

	if (!json_object_object_get_ex(payload, "jobs", &v))
		return true;
	return json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) >= 0;
}

/* One frame from a worker: who sent it, is it well-formed, what is it. */
static void
pool_message(struct pool *p, const uint8_t *rid, size_t rid_len,
    const uint8_t *buf, size_t len)
{
	char reason[WORKER_REASON_MAX];
	struct wire_msg m;
	struct tp_err err;
	struct worker *w;
	uint64_t gen = 0;
	size_t i;

	if (rid_len != 8) {
		log_warnx("worker channel: a message from a connection that "
		    "is no worker (routing id of %zu bytes); ignored", rid_len);
		return;
	}
	for (i = 0; i < 8; i++)
		gen = gen << 8 | rid[i];
	if ((w = pool_find(p, gen)) == NULL ||
	    memcmp(w->rid, rid, sizeof(w->rid)) != 0) {
		if (gen > 0 && gen < p->next_generation)
			log_debug("worker channel: late message of the exited "
			    "worker of generation %" PRIu64 "; ignored", gen);
		else
			log_warnx("worker channel: a message from generation "
			    "%" PRIu64 ", which no worker has; ignored", gen);
		return;
	}
	if (w->killing) {
		log_debug("worker %ld: message ignored: it is being killed",
		    (long)w->pid);
		return;
	}
	memset(&m, 0, sizeof(m));
	if (wire_decode(buf, len, &m, &err) == -1) {
		log_warnx("worker %ld (generation %" PRIu64 "): bad message: "
		    "%s", (long)w->pid, w->generation, err.msg);
		snprintf(reason, sizeof(reason), "bad message: %.120s",
		    err.msg);
		worker_kill(w, reason);
		return;
	}
	if (m.generation != w->generation) {
		log_warnx("security: worker %ld (generation %" PRIu64 ") sent "
		    "a message of generation %" PRIu64, (long)w->pid,
		    w->generation, m.generation);
		worker_kill(w, "message of another generation");
		goto out;
	}
	if (!w->hello_ok && m.type != WIRE_HELLO) {
		log_warnx("worker %ld (generation %" PRIu64 "): %s before "
		    "HELLO", (long)w->pid, w->generation,
		    wire_type_name(m.type));
		snprintf(reason, sizeof(reason), "%s before HELLO",
		    wire_type_name(m.type));
		worker_kill(w, reason);
		goto out;
	}
	pool_heartbeat_arm(w);
	if (w->hello_ok && !w->configured && m.type != WIRE_HELLO) {
		/* the first word after CONFIG: it has sandboxed itself */
		w->configured = true;
		pool_spawn_sample(p->ready_ms, &p->ready_n,
		    clock_since_ms(&w->t_spawn));
	}
	switch (m.type) {
	case WIRE_HELLO:
		if (w->hello_ok) {
			log_warnx("worker %ld: a second HELLO", (long)w->pid);
			worker_kill(w, "a second HELLO");
		} else
			pool_hello(p, w, m.payload);
		break;
	case WIRE_HEARTBEAT:
		if (!pool_heartbeat_ok(m.payload)) {
			log_warnx("worker %ld: bad HEARTBEAT", (long)w->pid);
			worker_kill(w, "bad HEARTBEAT");
		}
		break;
	case WIRE_RESULT:
		w->jobs_done++;
		/* FALLTHROUGH */
	case WIRE_JOB_BEGIN:
	case WIRE_LOG:
		if (p->ev.message != NULL)
			p->ev.message(p->arg, w, &m);
		break;
	default:
		log_warnx("worker %ld: unexpected %s from a worker",
		    (long)w->pid, wire_type_name(m.type));
		snprintf(reason, sizeof(reason), "sent %s",
		    wire_type_name(m.type));
		worker_kill(w, reason);
		break;
	}
out:
	wire_msg_clear(&m);
}


/* Reads one message [routing id][frame]; false when nothing waits. */
static bool
pool_recv(struct pool *p)
{
	zmq_msg_t f[2];
	size_t nf = 0;
	bool extra = false;
	int rc;

	/* a RESULT may carry a tenant's data: frames are wiped when closed */
	if ((rc = zframes_recv(p->rt.sock, f, 2, &nf, &extra,
	    "worker channel")) == 0)
		return false;
	if (rc == -1)
		goto out;
	if (nf < 2 || extra) {
		struct worker *w = NULL;
		uint64_t gen = 0;
		size_t i;

		/* one message is one frame */
		if (zmq_msg_size(&f[0]) == 8) {
			for (i = 0; i < 8; i++)
				gen = gen << 8 |
				    ((const uint8_t *)zmq_msg_data(&f[0]))[i];
			w = pool_find(p, gen);
		}
		log_warnx("worker channel: a message of %s frames%s; ignored",
		    extra ? "several" : "no", w != NULL ? " from a worker" : "");
		if (w != NULL)
			worker_kill(w, "malformed message (frames)");
		goto out;
	}
	pool_message(p, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]),
	    zmq_msg_data(&f[1]), zmq_msg_size(&f[1]));
out:
	while (nf > 0)
		zframes_close(&f[--nf]);
	return true;
}

static bool
pool_pollin(struct pool *p)
{
	size_t len = sizeof(int);
	int events;

	if (zmq_getsockopt(p->rt.sock, ZMQ_EVENTS, &events, &len) == -1) {
		log_warnx("worker channel: ZMQ_EVENTS: %s",
		    zmq_strerror(errno));
		return false;
	}
	return (events & ZMQ_POLLIN) != 0;
}

static void
pool_channel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	int i;

	for (i = 0; i < POOL_CHANNEL_BURST; i++)
		if (!pool_pollin(p) || !pool_recv(p))
			return;
	/* more may be waiting: come back after the other ready events */
	event_active(p->ev_chan, EV_READ, 0);
}

/* Reads whatever is waiting on the channel (also before an exit is
 * reported, so a dying worker's last messages are not lost). */
void
pool_channel_drain(struct pool *p)
{
	int i;

	for (i = 0; i < POOL_DRAIN_MAX; i++)
		if (!pool_pollin(p) || !pool_recv(p))
			return;
	event_active(p->ev_chan, EV_READ, 0);
}
