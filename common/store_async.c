/* store_async.c: the store's asynchronous calls: a thread pool whose completions run on the event base. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/store_int.h"

static void
store_wake(struct store *st)
{
	ssize_t r;

	/* a full pipe already guarantees a wake-up, so EAGAIN is fine */
	do {
		r = write(st->notify[1], "", 1);
	} while (r == -1 && errno == EINTR);
}

static void *
store_thread(void *arg)
{
	struct store *st = arg;
	struct store_task *t;
	bool wake;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->qhead == NULL && !st->stopping)
			pthread_cond_wait(&st->cv, &st->mu);
		/* on stopping, work not yet started is dropped (store_free) */
		if (st->stopping || (t = st->qhead) == NULL)
			break;
		if ((st->qhead = t->next) == NULL)
			st->qtail = NULL;
		pthread_mutex_unlock(&st->mu);

		t->work(st, t->arg);

		pthread_mutex_lock(&st->mu);
		t->next = NULL;
		if (st->dtail != NULL)
			st->dtail->next = t;
		else
			st->dhead = t;
		st->dtail = t;
		wake = !st->notified;
		st->notified = true;
		if (wake) {
			pthread_mutex_unlock(&st->mu);
			store_wake(st);
			pthread_mutex_lock(&st->mu);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* Runs on the event base: delivers the completions of finished tasks. */
static void
store_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = arg;
	struct store_task *t, *next;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&st->mu);
	t = st->dhead;
	st->dhead = st->dtail = NULL;
	st->notified = false;
	pthread_mutex_unlock(&st->mu);
	for (; t != NULL; t = next) {
		next = t->next;
		/* counted out first, so done() sees its own request finished */
		pthread_mutex_lock(&st->mu);
		st->pending--;
		pthread_mutex_unlock(&st->mu);
		if (t->done != NULL)
			t->done(t->arg);
		free(t);
	}
}

int
store_async(struct store *st, store_work_fn work, store_done_fn done,
    void *arg, struct tp_err *err)
{
	struct store_task *t;

	if (store_check_open(st, err) == -1)
		return -1;
	if (work == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no work function");
	if (st->base == NULL)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "store opened without an event base");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory queueing store work");
	t->work = work;
	t->done = done;
	t->arg = arg;
	pthread_mutex_lock(&st->mu);
	if (st->stopping || st->pending >= STORE_ASYNC_MAX) {
		bool stopping = st->stopping;

		pthread_mutex_unlock(&st->mu);
		free(t);
		if (stopping)
			return tp_err_set(err, TP_UNAVAILABLE,
			    "store is shutting down");
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "store queue full (%d requests in flight)",
		    STORE_ASYNC_MAX);
	}
	if (st->qtail != NULL)
		st->qtail->next = t;
	else
		st->qhead = t;
	st->qtail = t;
	st->pending++;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

size_t
store_pending(struct store *st)
{
	size_t n;

	if (st == NULL)
		return 0;
	pthread_mutex_lock(&st->mu);
	n = st->pending;
	pthread_mutex_unlock(&st->mu);
	return n;
}

/* Stops and joins the first n threads. */
static void
store_threads_stop(struct store *st, int n)
{
	int i;

	pthread_mutex_lock(&st->mu);
	st->stopping = true;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	for (i = 0; i < n; i++)
		pthread_join(st->threads[i], NULL);
}

int
store_threads_start(struct store *st, struct tp_err *err)
{
	sigset_t all, old;
	int i, rc = 0;

	if (pipe2(st->notify, O_NONBLOCK | O_CLOEXEC) == -1)
		return tp_err_errno(err, TP_INTERNAL, "pipe");
	st->ev_done = event_new(st->base, st->notify[0], EV_READ | EV_PERSIST,
	    store_deliver, st);
	if (st->ev_done == NULL || event_add(st->ev_done, NULL) == -1)
		return tp_err_set(err, TP_INTERNAL,
		    "cannot add the store's completion event");
	if ((st->threads = calloc((size_t)st->nthreads,
	    sizeof(*st->threads))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	/* signals stay with the event loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < st->nthreads; i++)
		if ((rc = pthread_create(&st->threads[i], NULL, store_thread,
		    st)) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (i < st->nthreads) {
		store_threads_stop(st, i);
		st->nthreads = 0;
		errno = rc;
		return tp_err_errno(err, TP_RESOURCE_EXHAUSTED,
		    "cannot start store threads");
	}
	return 0;
}

/* Waits for the work running on the store's threads, drops what has not
 * started and the completions not delivered, and closes the wake-up pipe
 * (store_free). */
void
store_async_stop(struct store *st)
{
	struct store_task *t, *next;

	if (st->threads != NULL)
		store_threads_stop(st, st->nthreads);
	free(st->threads);
	/* finished work whose callbacks will not run any more */
	for (t = st->dhead; t != NULL; t = next) {
		next = t->next;
		free(t);
	}
	/* work that never started */
	for (t = st->qhead; t != NULL; t = next) {
		next = t->next;
		free(t);
	}
	if (st->ev_done != NULL)
		event_free(st->ev_done);
	if (st->notify[0] != -1)
		close(st->notify[0]);
	if (st->notify[1] != -1)
		close(st->notify[1]);
}
