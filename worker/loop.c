/* loop.c: the worker's job loop: JOBs taken, run and answered, deadlines, one poll over the channel and the transfers. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "worker/main_int.h"
#include "worker/sandbox.h"

/* Sends j's RESULT (or a deadline error) and forgets the job. */
static void
loop_finish(struct worker *w, struct job *j, json_object *result)
{
	struct tp_err err;
	json_object *fallback;

	tp_err_clear(&err);
	if (j->log != NULL)
		result_add(result, "log", json_object_get(j->log));
	if (chan_send(w, WIRE_RESULT, result, &err) == -1 && !w->lost) {
		/* too large for the channel: answer with the reason */
		fprintf(stderr, "worker: job %s: %s\n", j->id, err.msg);
		fallback = result_error(j->id, TP_INTERNAL, err.msg);
		if (chan_send(w, WIRE_RESULT, fallback, &err) == -1)
			fprintf(stderr, "worker: job %s: %s\n", j->id, err.msg);
		json_object_put(fallback);
	}
	TAILQ_REMOVE(&w->jobs, j, entry);
	w->njobs--;
	job_free(j);
}

static void
loop_deadline(struct worker *w, struct job *j)
{
	json_object *r;
	char msg[128];

	snprintf(msg, sizeof(msg), "job exceeded its deadline of %" PRIu64
	    " ms in the worker", j->deadline_ms);
	r = result_error(j->id, TP_DEADLINE_EXCEEDED, msg);
	loop_finish(w, j, r);
	json_object_put(r);
}

/* Answers j if it is finished or out of time (then it is gone). */
static void
loop_settle(struct worker *w, struct job *j, uint64_t now)
{
	if (!j->done && now >= j->deadline)
		loop_deadline(w, j);
	else {
		/* still waiting for Alpaca when the RESULT is due */
		if (!j->done && now >= j->finish_by)
			job_expire(j);
		if (j->done)
			loop_finish(w, j, j->result);
	}
}

static void
loop_sweep(struct worker *w, uint64_t now)
{
	struct job *j, *next;

	for (j = TAILQ_FIRST(&w->jobs); j != NULL && !w->lost; j = next) {
		next = TAILQ_NEXT(j, entry);
		loop_settle(w, j, now);
	}
}

/* A job refused before it started: answered at once, never run. */
static void
loop_refuse(struct worker *w, const char *job_id, enum tp_code code,
    const char *message)
{
	struct tp_err err;
	json_object *r;

	fprintf(stderr, "worker: job %s refused: %s\n", job_id, message);
	r = result_error(job_id, code, message);
	if (chan_send(w, WIRE_RESULT, r, &err) == -1)
		fprintf(stderr, "worker: %s\n", err.msg);
	json_object_put(r);
}

static bool
loop_has_job(struct worker *w, const char *id)
{
	struct job *j;

	TAILQ_FOREACH(j, &w->jobs, entry)
		if (strcmp(j->id, id) == 0)
			return true;
	return false;
}

static void
loop_job(struct worker *w, json_object *payload)
{
	struct tp_err err;
	struct job *j;
	char msg[128];
	bool full;

	/* every JOB answered counts toward max_jobs, a bad one too */
	full = w->taken >= w->conf.max_jobs || w->njobs >= WORKER_INFLIGHT_MAX;
	if (!full)
		w->taken++;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		sandbox_oom();
	tp_err_clear(&err);
	if (job_parse(payload, w->conf.job_timeout_ms, token_session_key(), j,
	    &err) == -1) {
		if (j->id[0] != '\0')
			loop_refuse(w, j->id, TP_INVALID_ARGUMENT, err.msg);
		else {
			fprintf(stderr, "worker: bad job: %s\n", err.msg);
			chan_log(w, NULL, "error", "bad_job", err.msg);
		}
		job_free(j);
		return;
	}
	if (full) {
		snprintf(msg, sizeof(msg), "worker is full (max_jobs %" PRIu64
		    ", %d at once)", w->conf.max_jobs, WORKER_INFLIGHT_MAX);
		loop_refuse(w, j->id, TP_RESOURCE_EXHAUSTED, msg);
		job_free(j);
		return;
	}
	if (loop_has_job(w, j->id)) {
		loop_refuse(w, j->id, TP_INVALID_ARGUMENT,
		    "job is already running");
		job_free(j);
		return;
	}
	j->deadline = clock_mono_ms() + j->deadline_ms;
	TAILQ_INSERT_TAIL(&w->jobs, j, entry);
	w->njobs++;
	/* no JOB_BEGIN: every job starts as it arrives */
	job_start(w, j);
	/* answer at once: a later job of the batch may end the process */
	loop_settle(w, j, clock_mono_ms());
}

/* Milliseconds until the next heartbeat, job deadline or libcurl's or
 * a request's timer. */
static long
loop_timeout(struct worker *w, uint64_t now)
{
	uint64_t next = w->next_heartbeat;
	struct job *j;
	int64_t t;

	TAILQ_FOREACH(j, &w->jobs, entry) {
		if (j->deadline < next)
			next = j->deadline;
		if (!j->done && j->finish_by < next)
			next = j->finish_by;
	}
	if ((t = alpaca_timeout(w->alpaca, now)) >= 0 &&
	    now + (uint64_t)t < next)
		next = now + (uint64_t)t;
	return next > now ? (long)(next - now) : 0;
}

/*
 * The poll set: the channel, its monitor, then every socket libcurl
 * waits on (raw descriptors, which zmq_poll takes next to ZeroMQ's).
 * Returns how many items there are.
 */
static size_t
loop_poll_set(struct worker *w)
{
	size_t n, i, cap;

	for (;;) {
		cap = w->nitems > 2 ? w->nitems - 2 : 0;
		n = alpaca_pollfds(w->alpaca, w->pfds, cap);
		if (n <= cap && w->items != NULL)
			break;
		cap = n + 16;
		if ((w->pfds = reallocarray(w->pfds, cap, sizeof(*w->pfds))) ==
		    NULL || (w->items = reallocarray(w->items, cap + 2,
		    sizeof(*w->items))) == NULL)
			sandbox_oom();
		w->nitems = cap + 2;
	}
	w->items[0] = (zmq_pollitem_t){ w->sock, 0, ZMQ_POLLIN, 0 };
	w->items[1] = (zmq_pollitem_t){ w->mon, 0, ZMQ_POLLIN, 0 };
	for (i = 0; i < n; i++) {
		w->items[i + 2] = (zmq_pollitem_t){ NULL, w->pfds[i].fd, 0, 0 };
		if (w->pfds[i].events & POLLIN)
			w->items[i + 2].events |= ZMQ_POLLIN;
		if (w->pfds[i].events & POLLOUT)
			w->items[i + 2].events |= ZMQ_POLLOUT;
	}
	return n + 2;
}

/* Hands what zmq_poll saw on libcurl's sockets to libcurl, then lets the
 * client run its timers and call back finished requests. */
static void
loop_transfers(struct worker *w, size_t nitems)
{
	short rev;
	size_t i;

	for (i = 2; i < nitems; i++) {
		if (w->items[i].revents == 0)
			continue;
		rev = 0;
		if (w->items[i].revents & ZMQ_POLLIN)
			rev |= POLLIN;
		if (w->items[i].revents & ZMQ_POLLOUT)
			rev |= POLLOUT;
		if (w->items[i].revents & ZMQ_POLLERR)
			rev |= POLLERR;
		alpaca_ready(w->alpaca, w->items[i].fd, rev);
	}
	alpaca_run(w->alpaca);
}

/* Handles one message; returns an exit status, or -1 to go on. */
static int
loop_dispatch(struct worker *w, struct wire_msg *m)
{
	const char *reason;

	switch (m->type) {
	case WIRE_JOB:
		loop_job(w, m->payload);
		return -1;
	case WIRE_SHUTDOWN:
		reason = json_get_str(m->payload, "reason");
		fprintf(stderr, "worker: shutdown (%.*s)\n", 128,
		    reason != NULL ? reason : "no reason");
		/*
		 * Nothing is left to send (the supervisor says SHUTDOWN once
		 * it has every RESULT, or when it wants none): end here, keys
		 * wiped, without tearing down ZeroMQ's and the runtime's
		 * threads inside the sandbox, where a sanitizer runtime's
		 * teardown has made a forbidden call under load.
		 */
		loop_wipe_jobs(w);
		token_wipe();
		_exit(0);
	default:
		fprintf(stderr, "worker: unexpected %s ignored\n",
		    wire_type_name(m->type));
		return -1;
	}
}

/*
 * The job loop: one zmq_poll over the channel and every socket of the
 * jobs' transfers, with a timeout of the next heartbeat, deadline or
 * transfer timer, so heartbeats go out while transfers are in flight and
 * all jobs of the batch run at once.
 */
int
loop_run(struct worker *w)
{
	uint64_t interval, now, silence;
	struct wire_msg m;
	enum chan_rx rx;
	size_t nitems;
	int i, rc;

	interval = w->conf.heartbeat_ms / 3;
	/* a live supervisor sends the jobs, then SHUTDOWN once it has every
	 * RESULT: an idle worker it leaves silent this long is orphaned or
	 * its supervisor wedged; the parent-death signal covers the common
	 * case, this what it cannot see */
	silence = w->conf.heartbeat_ms * WORKER_SILENCE_FACTOR;
	if (silence < WORKER_SILENCE_MIN_MS)
		silence = WORKER_SILENCE_MIN_MS;
	w->next_heartbeat = clock_mono_ms();
	for (;;) {
		now = clock_mono_ms();
		if (now >= w->next_heartbeat) {
			chan_heartbeat(w);
			w->next_heartbeat = now + interval;
		}
		loop_sweep(w, now);
		if (w->lost)
			break;
		if (w->njobs == 0 && now - w->last_heard >= silence) {
			fprintf(stderr, "worker: no word from the supervisor "
			    "for %" PRIu64 " ms while idle: exiting\n",
			    now - w->last_heard);
			return 1;
		}
		if (w->taken >= w->conf.max_jobs && w->njobs == 0) {
			fprintf(stderr, "worker: max_jobs reached (%" PRIu64 " jobs)\n",
			    w->taken);
			return 0;
		}
		nitems = loop_poll_set(w);
		if (zmq_poll(w->items, (int)nitems, loop_timeout(w, now)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "worker: zmq_poll: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
		loop_transfers(w, nitems);
		if (chan_monitor(w, NULL) == -1)
			break;
		for (i = 0; i < WORKER_MSGS_PER_TURN; i++) {
			if ((rx = chan_recv(w, &m)) == CHAN_RX_NONE ||
			    rx == CHAN_RX_FAIL)
				break;
			if (rx == CHAN_RX_SKIP)
				continue;
			rc = loop_dispatch(w, &m);
			wire_msg_clear(&m);
			if (rc != -1)
				return rc;
			if (w->lost)
				break;
		}
	}
	fprintf(stderr, "worker: channel lost: the supervisor is gone\n");
	return 1;
}

/* Frees every job, wiping its keys. */
void
loop_wipe_jobs(struct worker *w)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&w->jobs)) != NULL) {
		TAILQ_REMOVE(&w->jobs, j, entry);
		job_free(j);
	}
	w->njobs = 0;
}
