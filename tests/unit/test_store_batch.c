/* test_store_batch.c: the document store: atomic batches and concurrent synchronous calls. */
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

TestSuite(store, .init = setup, .fini = teardown, .timeout = 120);

/* --- batches --- */

Test(store, batch_applies_in_order)
{
	struct store_batch *b = store_batch_new();
	json_object *a = J("{\"a\":1,\"m\":{\"x\":1}}");
	json_object *m = J("{\"m\":{\"y\":2}}");

	put("users/u1/x/gone", "{}");
	store_batch_add(b, STORE_W_SET, "users/u1/x/one", a);
	store_batch_add(b, STORE_W_MERGE, "users/u1/x/one", m);
	store_batch_add(b, STORE_W_CREATE, "users/u1/x/two", a);
	store_batch_add(b, STORE_W_DELETE, "users/u1/x/gone", NULL);
	store_batch_add(b, STORE_W_MERGE, "users/u2/status/trading", m);
	/* the batch copied its data: later changes do not leak in */
	json_object_object_add(a, "late", json_object_new_int(1));
	cr_expect_eq(store_batch_len(b), 5);
	cr_assert_eq(store_batch_commit(st, b, &err), 0, "%s", err.msg);
	store_batch_free(b);
	json_object_put(a);
	json_object_put(m);
	expect_doc("users/u1/x/one", "{\"a\":1,\"m\":{\"x\":1,\"y\":2}}");
	expect_doc("users/u1/x/two", "{\"a\":1,\"m\":{\"x\":1}}");
	expect_missing("users/u1/x/gone");
	expect_doc("users/u2/status/trading", "{\"m\":{\"y\":2}}");
	/* an empty batch commits nothing, successfully */
	b = store_batch_new();
	cr_expect_eq(store_batch_commit(st, b, &err), 0);
	store_batch_free(b);
}

Test(store, batch_rolls_back_on_create_conflict)
{
	struct store_batch *b = store_batch_new();
	json_object *o = J("{\"new\":true}");

	put("users/u1/x/exists", "{\"old\":true}");
	put("users/u1/x/merged", "{\"k\":0}");
	store_batch_add(b, STORE_W_SET, "users/u1/x/a", o);
	store_batch_add(b, STORE_W_MERGE, "users/u1/x/merged", o);
	store_batch_add(b, STORE_W_DELETE, "users/u1/x/exists", NULL);
	store_batch_add(b, STORE_W_CREATE, "users/u1/x/b", o);
	store_batch_add(b, STORE_W_CREATE, "users/u1/x/merged", o);
	store_batch_add(b, STORE_W_SET, "users/u1/x/c", o);
	tp_err_clear(&err);
	cr_expect_eq(store_batch_commit(st, b, &err), -1);
	cr_expect_eq(err.code, TP_ALREADY_EXISTS, "%s", err.msg);
	cr_expect_not_null(strstr(err.msg, "users/u1/x/merged"), "%s",
	    err.msg);
	store_batch_free(b);
	json_object_put(o);
	/* nothing of the batch happened */
	expect_missing("users/u1/x/a");
	expect_missing("users/u1/x/b");
	expect_missing("users/u1/x/c");
	expect_doc("users/u1/x/merged", "{\"k\":0}");
	expect_doc("users/u1/x/exists", "{\"old\":true}");
	/* a batch of one CREATE fails the same way */
	o = J("{\"again\":1}");
	b = store_batch_new();
	store_batch_add(b, STORE_W_CREATE, "users/u1/x/exists", o);
	tp_err_clear(&err);
	cr_expect_eq(store_batch_commit(st, b, &err), -1);
	cr_expect_eq(err.code, TP_ALREADY_EXISTS, "%s", err.msg);
	store_batch_free(b);
	json_object_put(o);
	expect_doc("users/u1/x/exists", "{\"old\":true}");
}

Test(store, batch_rolls_back_on_bad_write)
{
	struct store_batch *b;
	json_object *o = J("{\"v\":1}"), *arr = J("[1]");

	b = store_batch_new();
	store_batch_add(b, STORE_W_SET, "users/u1/x/a", o);
	store_batch_add(b, STORE_W_SET, "users/../x", o);
	store_batch_add(b, STORE_W_SET, "users/u1/x/c", o);
	cr_expect_eq(store_batch_commit(st, b, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	store_batch_free(b);

	b = store_batch_new();
	store_batch_add(b, STORE_W_SET, "users/u1/x/a", o);
	store_batch_add(b, STORE_W_MERGE, "users/u1/x/b", arr);
	cr_expect_eq(store_batch_commit(st, b, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	store_batch_free(b);

	b = store_batch_new();
	store_batch_add(b, STORE_W_SET, "users/u1/x/a", o);
	store_batch_add(b, STORE_W_SET, NULL, o);
	cr_expect_eq(store_batch_commit(st, b, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	store_batch_free(b);

	/* a merge that overflows the size limit, after other writes */
	put("ops/big", "{}");
	b = store_batch_new();
	store_batch_add(b, STORE_W_SET, "users/u1/x/a", o);
	{
		json_object *half = doc_of_size(STORE_DOC_MAX / 2 + 16);

		store_batch_add(b, STORE_W_MERGE, "ops/big", half);
		json_object_object_add(half, "s2", json_object_get(
		    json_object_object_get(half, "s")));
		json_object_object_del(half, "s");
		store_batch_add(b, STORE_W_MERGE, "ops/big", half);
		json_object_put(half);
	}
	cr_expect_eq(store_batch_commit(st, b, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	store_batch_free(b);
	expect_doc("ops/big", "{}");

	json_object_put(o);
	json_object_put(arr);
	expect_missing("users/u1/x/a");
	expect_missing("users/u1/x/b");
	expect_missing("users/u1/x/c");
}

Test(store, batch_size_limit)
{
	struct store_batch *b = store_batch_new();
	json_object *o = J("{\"v\":1}");
	struct store_doclist list;
	char path[64];
	int i;

	for (i = 0; i < STORE_BATCH_MAX; i++) {
		snprintf(path, sizeof(path), "ops/b/items/i%03d", i);
		store_batch_add(b, STORE_W_SET, path, o);
	}
	cr_expect_eq(store_batch_len(b), STORE_BATCH_MAX);
	cr_assert_eq(store_batch_commit(st, b, &err), 0, "%s", err.msg);
	store_batch_free(b);

	b = store_batch_new();
	for (i = 0; i <= STORE_BATCH_MAX; i++) {
		snprintf(path, sizeof(path), "ops/c/items/i%03d", i);
		store_batch_add(b, STORE_W_SET, path, o);
	}
	cr_expect_eq(store_batch_len(b), STORE_BATCH_MAX + 1);
	tp_err_clear(&err);
	cr_expect_eq(store_batch_commit(st, b, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	store_batch_free(b);
	json_object_put(o);

	cr_assert_eq(store_list(st, "ops/b/items", 0, NULL, &list, &err), 0);
	cr_expect_eq(list.n, STORE_BATCH_MAX);
	store_doclist_free(&list);
	cr_assert_eq(store_list(st, "ops/c/items", 0, NULL, &list, &err), 0);
	cr_expect_eq(list.n, 0);
	store_doclist_free(&list);
}

/* --- concurrency --- */

struct worker_arg {
	int k;
	int failures;
	char msg[TP_ERR_MSG_MAX];
};

#define THREADS 8
#define ROUNDS  100

static void *
sync_worker(void *p)
{
	struct worker_arg *w = p;
	struct store_doclist list;
	struct store_doc doc;
	struct tp_err e;
	json_object *o;
	char path[96], text[128];
	int64_t v;
	int j;

	for (j = 0; j < ROUNDS; j++) {
		snprintf(path, sizeof(path), "users/t%d/items/i%03d", w->k, j);
		snprintf(text, sizeof(text), "{\"k\":%d,\"j\":%d}", w->k, j);
		o = json_parse(text, strlen(text), &e);
		if (store_set(st, path, o, false, &e) == -1)
			goto fail;
		json_object_put(o);
		if (store_get(st, path, &doc, &e) == -1)
			goto fail_doc;
		if (!json_get_int(doc.data, "j", &v) || v != j) {
			snprintf(e.msg, sizeof(e.msg), "%s: wrong data", path);
			store_doc_clear(&doc);
			goto fail_doc;
		}
		store_doc_clear(&doc);
		/* everyone merges into one shared document */
		snprintf(text, sizeof(text), "{\"counts\":{\"t%d\":%d}}",
		    w->k, j);
		o = json_parse(text, strlen(text), &e);
		if (store_set(st, "ops/shared", o, true, &e) == -1)
			goto fail;
		json_object_put(o);
		if (j % 10 == 9) {
			snprintf(path, sizeof(path), "users/t%d/items", w->k);
			if (store_list(st, path, 0, NULL, &list, &e) == -1)
				goto fail_doc;
			if (list.n != (size_t)j + 1)
				w->failures++;
			store_doclist_free(&list);
		}
	}
	return NULL;
fail:
	json_object_put(o);
fail_doc:
	w->failures++;
	snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
	return NULL;
}

Test(store, concurrent_sync_calls)
{
	pthread_t th[THREADS];
	struct worker_arg args[THREADS];
	struct store_doclist list;
	struct store_doc doc;
	json_object *counts;
	char path[64], key[16];
	int64_t v;
	int k;

	for (k = 0; k < THREADS; k++) {
		memset(&args[k], 0, sizeof(args[k]));
		args[k].k = k;
		cr_assert_eq(pthread_create(&th[k], NULL, sync_worker,
		    &args[k]), 0);
	}
	for (k = 0; k < THREADS; k++) {
		pthread_join(th[k], NULL);
		cr_expect_eq(args[k].failures, 0, "thread %d: %s", k,
		    args[k].msg);
	}
	for (k = 0; k < THREADS; k++) {
		snprintf(path, sizeof(path), "users/t%d/items", k);
		cr_assert_eq(store_list(st, path, 0, NULL, &list, &err), 0);
		cr_expect_eq(list.n, ROUNDS);
		store_doclist_free(&list);
	}
	/* no merge was lost */
	cr_assert_eq(store_get(st, "ops/shared", &doc, &err), 0);
	counts = json_get_obj(doc.data, "counts");
	cr_assert_not_null(counts);
	cr_expect_eq(json_object_object_length(counts), THREADS);
	for (k = 0; k < THREADS; k++) {
		snprintf(key, sizeof(key), "t%d", k);
		cr_expect(json_get_int(counts, key, &v) && v == ROUNDS - 1,
		    "counts.%s", key);
	}
	store_doc_clear(&doc);
}
