/* pool.c: the worker pool: its table, the worker channel, HELLO checks, heartbeats, exits, status. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
static void	pool_heartbeat_cb(evutil_socket_t, short, void *);
static void	pool_finish_cb(evutil_socket_t, short, void *);
static void	pool_throttle_cb(evutil_socket_t, short, void *);
static void	pool_reaped(struct pool *, struct worker *);

static const char *const worker_state_names[] = {
	[WORKER_STARTING] = "starting",
	[WORKER_READY] = "ready",
	[WORKER_STOPPING] = "stopping",
	[WORKER_KILLING] = "killing",
	[WORKER_EXITED] = "exited",
};

static void
pool_array_add(json_object *a, json_object *v)
{
	if (json_object_array_add(a, v) != 0)
		json_object_put(v);
}

/* The channel's ipc socket */

/*
 * <state_dir>/run, 0700 and ours: workers connect while they still run as
 * the daemon's user and lose the right to once they drop privileges, so
 * no other local process can ever reach the channel.
 */
static int
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

struct pool *
pool_new(struct daemon *d, void *zctx, const struct pool_events *ev,
    void *arg, struct tp_err *err)
{
	struct tp_err rerr;
	struct pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	p->d = d;
	p->ev = *ev;
	p->arg = arg;
	p->reaped = pool_reaped;
	p->devnull = -1;
	p->next_generation = 1;
	TAILQ_INIT(&p->workers);
	throttle_init(&p->thr);
	if ((p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		tp_err_errno(err, TP_INTERNAL, "/dev/null");
		goto fail;
	}
	if (pool_channel_open(p, zctx, err) == -1)
		goto fail;
	if ((p->ev_sigchld = evsignal_new(d->base, SIGCHLD, spawn_sigchld,
	    p)) == NULL || evsignal_add(p->ev_sigchld, NULL) == -1 ||
	    (p->ev_throttle = evtimer_new(d->base, pool_throttle_cb,
	    p)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "cannot set up the worker pool's "
		    "events");
		goto fail;
	}
	/* without it workers get no addresses; the pool still works */
	if ((p->resolver = resolver_new(d->base, &d->cfg, &rerr)) == NULL)
		log_warnx("worker pool: host name resolution unavailable: %s",
		    rerr.msg);
	log_debug("worker channel on %s", p->endpoint);
	return p;
fail:
	pool_free(p);
	return NULL;
}

static void
pool_worker_free(struct worker *w)
{
	spawn_worker_release(w);
	free(w);
}

void
pool_free(struct pool *p)
{
	struct worker *w;

	if (p == NULL)
		return;
	p->in_free = true;
	p->stopping = true;
	spawn_reap_all(p);
	while ((w = TAILQ_FIRST(&p->workers)) != NULL) {
		TAILQ_REMOVE(&p->workers, w, entry);
		pool_worker_free(w);
	}
	if (p->ev_sigchld != NULL)
		event_free(p->ev_sigchld);
	if (p->ev_throttle != NULL)
		event_free(p->ev_throttle);
	if (p->ev_chan != NULL)
		event_free(p->ev_chan);
	resolver_free(p->resolver);
	router_close(&p->rt);
	if (p->devnull != -1)
		close(p->devnull);
	free(p->endpoint);
	free(p);
}

void
pool_stop(struct pool *p)
{
	p->stopping = true;
	evtimer_del(p->ev_throttle);
}

size_t
pool_size(const struct pool *p)
{
	return p->nworkers;
}

uint64_t
pool_retry_ms(const struct pool *p)
{
	return throttle_retry_ms(&p->thr, &p->d->cfg, clock_mono_ms(), NULL, 0);
}

struct worker *
pool_find(struct pool *p, uint64_t generation)
{
	struct worker *w;

	TAILQ_FOREACH(w, &p->workers, entry)
		if (w->generation == generation)
			return w;
	return NULL;
}

static void
pool_throttle_timer(struct pool *p, uint64_t ms)
{
	struct timeval tv = clock_tv(ms);

	evtimer_add(p->ev_throttle, &tv);
}

/*
 * Calls ev->spawnable now or when the throttle allows. A throttle worth an
 * operator's attention (start-up failures, the crash rate, a long
 * backoff) is logged once, and so is its end.
 */
void
pool_throttle_arm(struct pool *p)
{
	char reason[THROTTLE_REASON_MAX];
	uint64_t ms;

	if (p->stopping || p->in_free)
		return;
	if ((ms = throttle_retry_ms(&p->thr, &p->d->cfg, clock_mono_ms(), reason,
	    sizeof(reason))) > 0) {
		if (!p->throttle_noted && (ms >= 1000 ||
		    strncmp(reason, "restart backoff", 15) != 0)) {
			log_warnx("worker spawning throttled for %" PRIu64
			    " ms: %s", ms, reason);
			p->throttle_noted = true;
		}
		pool_throttle_timer(p, ms);
		return;
	}
	if (p->throttle_noted) {
		log_info("worker spawning resumes");
		p->throttle_noted = false;
	}
	if (p->nworkers < p->d->cfg.max_workers && p->ev.spawnable != NULL)
		p->ev.spawnable(p->arg);
}

static void
pool_throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_throttle_arm(arg);
}

static void
pool_heartbeat_arm(struct worker *w)
{
	struct timeval tv = clock_tv(w->pool->d->cfg.heartbeat_timeout);

	if (w->killing || w->reaped || w->ev_heartbeat == NULL)
		return;
	evtimer_add(w->ev_heartbeat, &tv);
}

static void
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

int
pool_spawn(struct pool *p, void *ctx, struct worker **out, struct tp_err *err)
{
	const struct config *cfg = &p->d->cfg;
	char reason[THROTTLE_REASON_MAX], what[TP_ERR_MSG_MAX + 32];
	struct worker *w;
	uint64_t ms;

	*out = NULL;
	if (p->stopping || p->d->stopping)
		return tp_err_set(err, TP_UNAVAILABLE, "%s is stopping: no new "
		    "workers", DAEMON_NAME);
	if (p->nworkers >= cfg->max_workers)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "%zu workers "
		    "running (max_workers %u)", p->nworkers,
		    (unsigned)cfg->max_workers);
	if ((ms = throttle_retry_ms(&p->thr, cfg, clock_mono_ms(), reason,
	    sizeof(reason))) > 0) {
		/* only the timer: ev->spawnable must not run inside this call */
		pool_throttle_timer(p, ms);
		return tp_err_set(err, TP_UNAVAILABLE, "spawning throttled "
		    "for %" PRIu64 " ms: %s", ms, reason);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	w->pool = p;
	w->ctx = ctx;
	w->errfd = -1;
	w->state = WORKER_STARTING;
	w->generation = p->next_generation++;
	wire_routing_id(w->generation, w->rid);
	if ((w->ev_heartbeat = evtimer_new(p->d->base, pool_heartbeat_cb,
	    w)) == NULL ||
	    (w->ev_finish = evtimer_new(p->d->base, pool_finish_cb,
	    w)) == NULL) {
		pool_worker_free(w);
		return tp_err_set(err, TP_INTERNAL, "cannot create the "
		    "worker's timers");
	}
	if (spawn_worker(p, w, err) == -1) {
		pool_worker_free(w);
		/* a spawn failing over and over must not spin: back off */
		snprintf(what, sizeof(what), "cannot spawn: %s", err->msg);
		throttle_crash(&p->thr, cfg, clock_mono_ms(), true, what);
		log_warnx("worker pool: %s", what);
		if ((ms = pool_retry_ms(p)) > 0)
			pool_throttle_timer(p, ms);
		return -1;
	}
	TAILQ_INSERT_TAIL(&p->workers, w, entry);
	p->nworkers++;
	p->spawns++;
	if (p->unreplaced > 0) {
		p->unreplaced--;
		p->restarts++;
	}
	pool_heartbeat_arm(w);
	log_debug("spawned worker %ld (generation %" PRIu64 ")", (long)w->pid,
	    w->generation);
	*out = w;
	return 0;
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

static int64_t	pool_status_kb(pid_t, const char *);

/*
 * A worker's peak RSS (VmHWM, of its own image: wait4's ru_maxrss would
 * count the daemon's pages a child shares until exec), taken when
 * its batch is done, for status and the benchmark.
 */
static void
pool_note_peak(struct worker *w)
{
	int64_t kb = pool_status_kb(w->pid, "VmHWM:");

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
static void
pool_channel_drain(struct pool *p)
{
	int i;

	for (i = 0; i < POOL_DRAIN_MAX; i++)
		if (!pool_pollin(p) || !pool_recv(p))
			return;
	event_active(p->ev_chan, EV_READ, 0);
}

/* spawn.c reaped a worker: its last messages first. */
static void
pool_reaped(struct pool *p, struct worker *w)
{
	(void)w;
	pool_channel_drain(p);
}

/* Exits */

/* What a crash was, in a few words, for the log and the throttle's reason:
 * for a start-up failure its last stderr line says it best. */
static void
pool_exit_what(const struct worker *w, const struct worker_exit *ex,
    char *buf, size_t size)
{
	size_t n;

	if (ex->startup && ex->reason != NULL) {
		n = strlen(ex->reason);
		snprintf(buf, size, "%s", ex->reason);
		if (w->last_line[0] != '\0' && n + 1 < size)
			snprintf(buf + n, size - n, "; its last words: %.180s",
			    w->last_line);
		return;
	}
	if (ex->startup && w->last_line[0] != '\0') {
		snprintf(buf, size, "%.*s", (int)(size - 1), w->last_line);
		return;
	}
	if (ex->signame != NULL)
		snprintf(buf, size, "worker %ld killed by %s%s%s%s%s",
		    (long)ex->pid, ex->signame, ex->core ? " (core dumped)" : "",
		    ex->syscall != NULL ? " (syscall " : "",
		    ex->syscall != NULL ? ex->syscall : "",
		    ex->syscall != NULL ? ")" : "");
	else
		snprintf(buf, size, "worker %ld exited with status %d%s",
		    (long)ex->pid, ex->exit_code,
		    ex->startup ? " before saying hello" : "");
	if (ex->reason != NULL) {
		n = strlen(buf);
		snprintf(buf + n, size - n, " (%s)", ex->reason);
	}
}

void
pool_worker_finish(struct worker *w)
{
	struct pool *p = w->pool;
	const struct config *cfg = &p->d->cfg;
	char signame[32], what[THROTTLE_REASON_MAX];
	char tail[WORKER_STDERR_TAIL + 1];
	struct worker_exit ex;

	/* the last messages it sent before dying count */
	pool_channel_drain(p);

	memset(&ex, 0, sizeof(ex));
	ex.pid = w->pid;
	ex.generation = w->generation;
	ex.exit_code = -1;
	if (WIFEXITED(w->wstatus))
		ex.exit_code = WEXITSTATUS(w->wstatus);
	else if (WIFSIGNALED(w->wstatus)) {
		ex.signo = WTERMSIG(w->wstatus);
		ex.signame = spawn_signame(ex.signo, signame, sizeof(signame));
		ex.core = WCOREDUMP(w->wstatus) != 0;
	}
	ex.startup = !w->hello_ok;
	ex.clean = ex.exit_code == 0 && w->hello_ok && !w->killing &&
	    (w->shutdown_sent || w->jobs_sent >= cfg->max_jobs);
	ex.uptime_ms = w->uptime_ms;
	ex.reason = w->reason[0] != '\0' ? w->reason : NULL;
	ex.syscall = w->syscall[0] != '\0' ? w->syscall : NULL;
	spawn_stderr_tail(w, tail, sizeof(tail));
	ex.stderr_tail = tail;

	pool_exit_what(w, &ex, what, sizeof(what));
	if (ex.clean)
		log_debug("worker %ld (generation %" PRIu64 ") exited after "
		    "%" PRIu64 " ms, %" PRIu64 " jobs", (long)w->pid,
		    w->generation, ex.uptime_ms, w->jobs_done);
	else
		log_warnx("worker %ld (generation %" PRIu64 ") %s after %"
		    PRIu64 " ms: %s", (long)w->pid, w->generation,
		    ex.startup ? "failed to start" : "crashed", ex.uptime_ms,
		    what);

	/* killed while the daemon drains: no crash of the pool's making */
	if (!(p->stopping && w->killing)) {
		if (ex.clean)
			throttle_clean(&p->thr);
		else {
			throttle_crash(&p->thr, cfg, clock_mono_ms(), ex.startup,
			    what);
			p->crashes++;
			p->unreplaced++;
			if (ex.startup)
				p->startup_failures++;
		}
	}

	TAILQ_REMOVE(&p->workers, w, entry);
	p->nworkers--;
	if (p->ev.exited != NULL)
		p->ev.exited(p->arg, w, &ex);
	sodium_memzero(tail, sizeof(tail));
	pool_worker_free(w);
	pool_throttle_arm(p);
}

static void
pool_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_worker_finish(arg);
}

/* Accessors */

void *
worker_ctx(const struct worker *w)
{
	return w->ctx;
}

void
worker_set_ctx(struct worker *w, void *ctx)
{
	w->ctx = ctx;
}

pid_t
worker_pid(const struct worker *w)
{
	return w->pid;
}

uint64_t
worker_generation(const struct worker *w)
{
	return w->generation;
}

uint64_t
worker_uptime_ms(const struct worker *w)
{
	return w->reaped ? w->uptime_ms : (uint64_t)clock_since_ms(&w->t_spawn);
}

/* Status */

/* A "Vm...:" figure (kB) of /proc/PID/status, or -1. */
static int64_t
pool_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, flen) == 0) {
			if (sscanf(line + flen, "%lld", &kb) != 1)
				kb = -1;
			break;
		}
	fclose(fp);
	return (int64_t)kb;
}

/* VmRSS of a live worker, in kB; -1 when it cannot be read. */
static int64_t
pool_rss_kb(pid_t pid)
{
	return pool_status_kb(pid, "VmRSS:");
}

static json_object *
pool_ms_json(double ms)
{
	char s[32];

	/* 0.01 ms is as fine as a spawn time means anything */
	ms = (double)(int64_t)(ms * 100 + 0.5) / 100;	/* ms >= 0 */
	snprintf(s, sizeof(s), "%.2f", ms);
	return json_object_new_double_s(ms, s);
}

static int
pool_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* {n, median, p99, max} over the samples kept (nearest rank). */
static json_object *
pool_latency_json(const double *ring, size_t total)
{
	double v[POOL_SPAWN_SAMPLES];
	size_t n = total < POOL_SPAWN_SAMPLES ? total : POOL_SPAWN_SAMPLES;
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "n", json_object_new_int64((int64_t)n));
	if (n == 0) {
		json_add(o, "median", NULL);
		json_add(o, "p99", NULL);
		json_add(o, "max", NULL);
		return o;
	}
	memcpy(v, ring, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), pool_cmp_double);
	json_add(o, "median", pool_ms_json(v[(n + 1) / 2 - 1]));
	json_add(o, "p99", pool_ms_json(v[(99 * n + 99) / 100 - 1]));
	json_add(o, "max", pool_ms_json(v[n - 1]));
	return o;
}

static json_object *
pool_worker_json(const struct worker *w)
{
	json_object *o;
	int64_t rss;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "pid", json_object_new_int64(w->pid));
	json_add(o, "generation", json_object_new_int64(
	    (int64_t)w->generation));
	json_add(o, "uptime_ms", json_object_new_int64(
	    (int64_t)worker_uptime_ms(w)));
	json_add(o, "state", json_object_new_string(
	    worker_state_names[w->state]));
	json_add(o, "jobs_sent", json_object_new_int64(
	    (int64_t)w->jobs_sent));
	json_add(o, "jobs_done", json_object_new_int64(
	    (int64_t)w->jobs_done));
	rss = w->reaped ? -1 : pool_rss_kb(w->pid);
	json_add(o, "rss_kb", rss >= 0 ? json_object_new_int64(rss) :
	    NULL);
	return o;
}

json_object *
pool_status(const struct pool *p)
{
	char reason[THROTTLE_REASON_MAX];
	const struct worker *w;
	json_object *o, *a;
	uint64_t now = clock_mono_ms(), ms;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((a = json_object_new_array()) != NULL)
		TAILQ_FOREACH(w, &p->workers, entry)
			pool_array_add(a, pool_worker_json(w));
	json_add(o, "workers", a);
	ms = throttle_retry_ms(&p->thr, &p->d->cfg, now, reason,
	    sizeof(reason));
	json_add(o, "throttled", json_object_new_boolean(ms > 0));
	json_add(o, "throttle_reason", ms > 0 ?
	    json_object_new_string(reason) : NULL);
	json_add(o, "retry_ms", json_object_new_int64((int64_t)ms));
	json_add(o, "crashes", json_object_new_int64(
	    (int64_t)p->crashes));
	json_add(o, "crashes_last_minute", json_object_new_int64(
	    throttle_window_crashes(&p->thr, now)));
	json_add(o, "startup_failures", json_object_new_int64(
	    (int64_t)p->startup_failures));
	json_add(o, "restarts", json_object_new_int64(
	    (int64_t)p->restarts));
	json_add(o, "spawns", json_object_new_int64((int64_t)p->spawns));
	json_add(o, "worker_peak_rss_kb", json_object_new_int64(
	    (int64_t)p->worker_maxrss_kb));
	json_add(o, "spawn_ms", pool_latency_json(p->spawn_ms,
	    p->spawn_n));
	json_add(o, "ready_ms", pool_latency_json(p->ready_ms,
	    p->ready_n));
	json_add(o, "resolve", p->resolver != NULL ?
	    resolver_list(p->resolver) : json_object_new_array());
	return o;
}
