/* test_store_async.c: the document store's asynchronous calls: completions on the event base, the bounded queue, store_free. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "common/jsonutil.h"
#include "common/path.h"
#include "common/store.h"
#include "common/store_backend.h"
#include "tests/unit/store_fixture.h"

static void gate_set(bool open);

/* teardown, after opening the gate a failed test may have left closed */
static void
async_teardown(void)
{
	gate_set(true);
	teardown();
}

TestSuite(store, .init = setup, .fini = async_teardown, .timeout = 120);

/* --- async --- */

struct async_state {
	struct event_base *base;
	pthread_t main;
	int total;
	int done;
	int wrong_thread;
	int work_on_main;
	int failures;
	bool timed_out;
};

struct async_req {
	struct async_state *s;
	int i;
	int rc;
	char msg[TP_ERR_MSG_MAX];
};

static void
async_work(struct store *s, void *p)
{
	struct async_req *r = p;
	struct store_doc doc;
	struct tp_err e;
	json_object *o;
	char path[96];
	int64_t v;

	if (pthread_equal(pthread_self(), r->s->main))
		r->s->work_on_main = 1;
	snprintf(path, sizeof(path), "users/a%d/jobs/j%04d", r->i % 17, r->i);
	o = json_object_new_object();
	json_object_object_add(o, "i", json_object_new_int(r->i));
	r->rc = store_set(s, path, o, false, &e);
	json_object_put(o);
	if (r->rc == 0 && (r->rc = store_get(s, path, &doc, &e)) == 0) {
		if (!json_get_int(doc.data, "i", &v) || v != r->i)
			r->rc = tp_err_set(&e, TP_INTERNAL, "wrong data");
		store_doc_clear(&doc);
	}
	if (r->rc != 0)
		snprintf(r->msg, sizeof(r->msg), "%s", e.msg);
}

static void
async_done(void *p)
{
	struct async_req *r = p;
	struct async_state *s = r->s;

	if (!pthread_equal(pthread_self(), s->main))
		s->wrong_thread++;
	if (r->rc != 0)
		s->failures++;
	if (++s->done == s->total)
		event_base_loopbreak(s->base);
}

static void
async_timeout(evutil_socket_t fd, short what, void *p)
{
	struct async_state *s = p;

	s->timed_out = true;
	event_base_loopbreak(s->base);
}

/* Runs the loop until every request is delivered (or 60 s pass). */
static void
async_run(struct async_state *s)
{
	struct timeval tv = { 60, 0 };
	struct event *t = evtimer_new(s->base, async_timeout, s);

	cr_assert_not_null(t);
	evtimer_add(t, &tv);
	if (s->done < s->total)
		event_base_dispatch(s->base);
	event_free(t);
	cr_assert(!s->timed_out, "only %d of %d completions", s->done,
	    s->total);
}

Test(store, async_requests_complete_on_the_event_base)
{
	enum { N = 600 };
	static struct async_req reqs[N];
	struct async_state s;
	struct store_doclist list;
	char **uids;
	size_t n;
	int i;

	memset(&s, 0, sizeof(s));
	s.base = event_base_new();
	s.main = pthread_self();
	s.total = N;
	store_free(st);
	st = test_open(s.base, 6);
	for (i = 0; i < N; i++) {
		reqs[i].s = &s;
		reqs[i].i = i;
		cr_assert_eq(store_async(st, async_work, async_done, &reqs[i],
		    &err), 0, "%s", err.msg);
	}
	cr_expect_gt(store_pending(st), 0);
	async_run(&s);
	cr_expect_eq(s.done, N);
	cr_expect_eq(s.wrong_thread, 0, "callbacks off the event base");
	cr_expect_eq(s.work_on_main, 0, "work ran on the event base");
	for (i = 0; i < N; i++)
		cr_expect_eq(reqs[i].rc, 0, "request %d: %s", i, reqs[i].msg);
	cr_expect_eq(store_pending(st), 0);
	/* the writes are really there */
	cr_assert_eq(store_list_tenants(st, 0, NULL, &uids, &n, &err), 0);
	cr_expect_eq(n, 17);
	store_strings_free(uids, n);
	cr_assert_eq(store_list(st, "users/a0/jobs", 0, NULL, &list, &err), 0);
	cr_expect_eq(list.n, (N + 16) / 17);
	store_doclist_free(&list);
	store_free(st);
	st = NULL;
	event_base_free(s.base);
}

/* A gate that holds the only store thread until opened. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static bool gate_entered;
static atomic_int works_run;
static int dones_run;

static void
gate_work(struct store *s, void *p)
{
	pthread_mutex_lock(&gate_mu);
	gate_entered = true;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	atomic_fetch_add(&works_run, 1);
}

static void
count_work(struct store *s, void *p)
{
	atomic_fetch_add(&works_run, 1);
	usleep(200);
}

static void
count_done(void *p)
{
	struct async_state *s = p;

	dones_run++;
	if (s != NULL && ++s->done == s->total)
		event_base_loopbreak(s->base);
}

static void
gate_set(bool open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

Test(store, async_queue_is_bounded)
{
	struct async_state s;
	int accepted = 0;

	memset(&s, 0, sizeof(s));
	s.base = event_base_new();
	s.main = pthread_self();
	store_free(st);
	st = test_open(s.base, 1);
	gate_set(false);
	cr_assert_eq(store_async(st, gate_work, count_done, &s, &err), 0);
	accepted++;
	for (;;) {
		tp_err_clear(&err);
		if (store_async(st, count_work, count_done, &s, &err) == -1)
			break;
		cr_assert_lt(++accepted, STORE_ASYNC_MAX * 2);
	}
	cr_expect_eq(err.code, TP_RESOURCE_EXHAUSTED, "%s", err.msg);
	cr_expect_eq(accepted, STORE_ASYNC_MAX);
	cr_expect_eq(store_pending(st), STORE_ASYNC_MAX);
	s.total = accepted;
	gate_set(true);
	async_run(&s);
	cr_expect_eq(atomic_load(&works_run), accepted);
	cr_expect_eq(store_pending(st), 0);
	/* room again */
	s.total++;
	cr_expect_eq(store_async(st, count_work, count_done, &s, &err), 0);
	async_run(&s);
	store_free(st);
	st = NULL;
	event_base_free(s.base);
}

Test(store, async_needs_an_event_base)
{
	cr_expect_eq(store_async(st, count_work, count_done, NULL, &err), -1);
	cr_expect_eq(err.code, TP_FAILED_PRECONDITION);
	cr_expect_eq(store_pending(st), 0);
}

static void *
gate_opener(void *p)
{
	usleep(500 * 1000);
	gate_set(true);
	return NULL;
}

Test(store, free_waits_for_running_work_only)
{
	struct event_base *base = event_base_new();
	pthread_t opener;
	int i;

	store_free(st);
	st = test_open(base, 1);
	gate_set(false);
	cr_assert_eq(store_async(st, gate_work, count_done, NULL, &err), 0);
	for (i = 0; i < 10; i++)
		cr_assert_eq(store_async(st, count_work, count_done, NULL,
		    &err), 0);
	/* the only thread is busy at the gate until the opener opens it */
	pthread_mutex_lock(&gate_mu);
	while (!gate_entered)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	cr_assert_eq(pthread_create(&opener, NULL, gate_opener, NULL), 0);
	/* no loop runs: store_free waits for the running work, drops the
	 * queued work and delivers nothing */
	store_free(st);
	st = NULL;
	pthread_join(opener, NULL);
	cr_expect_eq(atomic_load(&works_run), 1, "%d works ran",
	    atomic_load(&works_run));
	cr_expect_eq(dones_run, 0);
	event_base_free(base);
}

Test(store, free_with_undelivered_completions)
{
	struct event_base *base = event_base_new();
	int i;

	store_free(st);
	st = test_open(base, 4);
	for (i = 0; i < 50; i++)
		cr_assert_eq(store_async(st, count_work, count_done, NULL,
		    &err), 0);
	while (atomic_load(&works_run) < 50)
		usleep(1000);
	/* all done, none delivered (the loop never ran): freed cleanly */
	cr_expect_eq(store_pending(st), 50);
	store_free(st);
	st = NULL;
	cr_expect_eq(dones_run, 0);
	event_base_free(base);
}
