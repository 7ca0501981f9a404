/* store_int.h: what store.c and store_async.c share: the store's structure and its thread pool. */
#ifndef TP_STORE_INT_H
#define TP_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/store.h"
#include "common/store_backend.h"

struct store_task {
	store_work_fn work;
	store_done_fn done;
	void *arg;
	struct store_task *next;
};

struct store {
	const struct store_ops *ops;
	void *be;

	/* async: tasks run on threads; completions are handed back to the
	 * event base through a pipe, so the base needs no evthread locking */
	struct event_base *base;
	struct event *ev_done;
	int notify[2];
	pthread_t *threads;
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_task *qhead, *qtail;	/* waiting for a thread */
	struct store_task *dhead, *dtail;	/* done, callback not delivered */
	size_t pending;		/* submitted and not yet delivered */
	bool notified;		/* a wake-up byte is in the pipe */
	bool stopping;
};

/* 0 when st is open, else -1 saying so. */
int store_check_open(const struct store *st, struct tp_err *err);
/* Starts st->nthreads threads and the completion event on st->base. */
int store_threads_start(struct store *st, struct tp_err *err);
/* Stops the threads, drops undelivered work, closes the pipe (store_free). */
void store_async_stop(struct store *st);

#endif
