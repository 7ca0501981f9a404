/* test_store_query.c: the document store: lists, queries and the tenant list. */
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

/* --- lists and queries --- */

Test(store, list_order_and_pagination)
{
	struct store_doclist list;
	char path[64], got[1024];
	int i;

	/* inserted out of order */
	for (i = 24; i >= 0; i--) {
		snprintf(path, sizeof(path), "users/u1/items/d%02d", i);
		put(path, "{\"x\":1}");
	}
	/* neighbours that must not show up */
	put("users/u1/items/d00/sub/x", "{}");
	put("users/u1/items2/a", "{}");
	put("users/u2/items/zz", "{}");
	put("users/u1", "{}");

	cr_assert_eq(store_list(st, "users/u1/items", 10, NULL, &list, &err),
	    0, "%s", err.msg);
	cr_expect_str_eq(ids_of(&list, got, sizeof(got)),
	    "d00,d01,d02,d03,d04,d05,d06,d07,d08,d09");
	cr_expect_str_eq(list.docs[3].path, "users/u1/items/d03");
	store_doclist_free(&list);
	cr_assert_eq(store_list(st, "users/u1/items", 10, "d09", &list, &err),
	    0);
	cr_expect_str_eq(ids_of(&list, got, sizeof(got)),
	    "d10,d11,d12,d13,d14,d15,d16,d17,d18,d19");
	store_doclist_free(&list);
	cr_assert_eq(store_list(st, "users/u1/items", 10, "d19", &list, &err),
	    0);
	cr_expect_str_eq(ids_of(&list, got, sizeof(got)),
	    "d20,d21,d22,d23,d24");
	store_doclist_free(&list);
	cr_assert_eq(store_list(st, "users/u1/items", 10, "d24", &list, &err),
	    0);
	cr_expect_eq(list.n, 0);
	store_doclist_free(&list);
	/* start_after need not exist */
	cr_assert_eq(store_list(st, "users/u1/items", 2, "d055", &list, &err),
	    0);
	cr_expect_str_eq(ids_of(&list, got, sizeof(got)), "d06,d07");
	store_doclist_free(&list);
	/* limit 0: everything */
	cr_assert_eq(store_list(st, "users/u1/items", 0, NULL, &list, &err),
	    0);
	cr_expect_eq(list.n, 25);
	store_doclist_free(&list);
	/* an empty collection */
	cr_assert_eq(store_list(st, "users/u3/items", 0, NULL, &list, &err),
	    0);
	cr_expect_eq(list.n, 0);
	store_doclist_free(&list);
	/* the root collection lists written roots only */
	cr_assert_eq(store_list(st, "users", 0, NULL, &list, &err), 0);
	cr_expect_str_eq(ids_of(&list, got, sizeof(got)), "u1");
	store_doclist_free(&list);
	/* a bad start_after */
	cr_expect_eq(store_list(st, "users/u1/items", 0, "../x", &list, &err),
	    -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
}

Test(store, query_equality)
{
	const char *c = "users/q/items";

	put("users/q/items/a", "{\"status\":\"OPEN\",\"qty\":2,\"flag\":true,"
	    "\"n\":null,\"created_at\":\"2024-01-01T00:00:03.000000Z\"}");
	put("users/q/items/b", "{\"status\":\"CLOSED\",\"qty\":2.0,"
	    "\"flag\":false,\"created_at\":\"2024-01-01T00:00:01.000000Z\"}");
	put("users/q/items/c", "{\"status\":\"OPEN\",\"qty\":\"2\",\"flag\":1,"
	    "\"created_at\":\"2024-01-01T00:00:02.000000Z\"}");
	put("users/q/items/d", "{\"status\":\"open\",\"qty\":3,"
	    "\"m\":{\"k\":\"v\",\"x\":{\"y\":0}}}");
	put("users/q/items/e", "{\"status\":{\"x\":1},\"qty\":[2],"
	    "\"flag\":\"true\",\"n\":0}");
	put("users/q2/items/a", "{\"status\":\"OPEN\",\"qty\":2}");

	expect_where(c, "status", json_object_new_string("OPEN"), "a,c");
	expect_where(c, "status", json_object_new_string("open"), "d");
	expect_where(c, "status", json_object_new_string("{\"x\":1}"), "");
	expect_where(c, "status", json_object_new_string("MISSING"), "");
	/* numbers compare as numbers, across int and double, never as text
	 * or as booleans */
	expect_where(c, "qty", json_object_new_int(2), "a,b");
	expect_where(c, "qty", json_object_new_double(2.0), "a,b");
	expect_where(c, "qty", json_object_new_string("2"), "c");
	expect_where(c, "qty", json_object_new_int(3), "d");
	expect_where(c, "flag", json_object_new_boolean(1), "a");
	expect_where(c, "flag", json_object_new_boolean(0), "b");
	expect_where(c, "flag", json_object_new_int(1), "c");
	expect_where(c, "n", NULL, "a");
	expect_where(c, "n", json_object_new_int(0), "e");
	/* nested fields */
	expect_where(c, "m.k", json_object_new_string("v"), "d");
	expect_where(c, "m.x.y", json_object_new_int(0), "d");
}

Test(store, query_order_and_limit)
{
	struct store_query q;
	const char *c = "users/o/items";

	put("users/o/items/i0", "{\"rank\":5}");
	put("users/o/items/i1", "{\"rank\":3}");
	put("users/o/items/i2", "{\"rank\":9}");
	put("users/o/items/i3", "{\"rank\":1}");
	put("users/o/items/i4", "{\"rank\":3}");
	put("users/o/items/i5", "{\"rank\":7.5}");
	put("users/o/items/i6", "{\"other\":1}");
	put("users/o/items/i7", "{\"rank\":-2,\"k\":\"x\"}");

	memset(&q, 0, sizeof(q));
	q.collection = c;
	q.order_field = "rank";
	q.order = STORE_ORDER_ASC;
	/* documents without the field are left out, ties go by id */
	expect_query(&q, "i7,i3,i1,i4,i0,i5,i2");
	q.order = STORE_ORDER_NONE;
	expect_query(&q, "i7,i3,i1,i4,i0,i5,i2");
	q.order = STORE_ORDER_DESC;
	expect_query(&q, "i2,i5,i0,i4,i1,i3,i7");
	q.limit = 3;
	expect_query(&q, "i2,i5,i0");
	q.order = STORE_ORDER_ASC;
	expect_query(&q, "i7,i3,i1");
	/* filter and order on different fields */
	q.where_field = "k";
	q.where_value = json_object_new_string("x");
	expect_query(&q, "i7");
	json_object_put(q.where_value);
	/* by id, descending, with start_after */
	memset(&q, 0, sizeof(q));
	q.collection = c;
	q.order = STORE_ORDER_DESC;
	q.limit = 2;
	q.start_after = "i5";
	expect_query(&q, "i4,i3");
}

Test(store, query_mixed_types_is_deterministic)
{
	struct store_doclist a, b;
	struct store_query q;
	char ga[256], gb[256];
	int i;

	put("ops/m/items/a", "{\"v\":\"text\"}");
	put("ops/m/items/b", "{\"v\":2}");
	put("ops/m/items/c", "{\"v\":true}");
	put("ops/m/items/d", "{\"v\":null}");
	put("ops/m/items/e", "{\"v\":1.5}");
	put("ops/m/items/f", "{\"v\":[1]}");
	put("ops/m/items/g", "{\"v\":{\"k\":1}}");
	memset(&q, 0, sizeof(q));
	q.collection = "ops/m/items";
	q.order_field = "v";
	q.order = STORE_ORDER_ASC;
	cr_assert_eq(store_query(st, &q, &a, &err), 0, "%s", err.msg);
	cr_expect_eq(a.n, 7);
	ids_of(&a, ga, sizeof(ga));
	for (i = 0; i < 3; i++) {
		cr_assert_eq(store_query(st, &q, &b, &err), 0);
		cr_expect_str_eq(ids_of(&b, gb, sizeof(gb)), ga);
		store_doclist_free(&b);
	}
	/* numbers among themselves keep numeric order */
	cr_expect_lt(strstr(ga, "e") - ga, strstr(ga, "b") - ga, "%s", ga);
	store_doclist_free(&a);
}

Test(store, query_shadow_trades_open_by_created_at)
{
	struct store_query q;
	char path[96], doc[256];
	int i;

	/* t00..t11, alternately OPEN and CLOSED, created a second apart but
	 * written in shuffled order */
	for (i = 0; i < 12; i++) {
		int k = (i * 5) % 12;

		snprintf(path, sizeof(path),
		    "users/u1/shadowTradeHistory/t%02d", k);
		snprintf(doc, sizeof(doc), "{\"symbol\":\"AAPL\",\"status\":"
		    "\"%s\",\"qty\":1,\"created_at\":"
		    "\"2024-05-01T10:00:%02d.000000Z\"}",
		    k % 2 == 0 ? "OPEN" : "CLOSED", k);
		put(path, doc);
	}
	/* another tenant's newer OPEN trade stays out */
	put("users/u2/shadowTradeHistory/zz", "{\"status\":\"OPEN\","
	    "\"created_at\":\"2030-01-01T00:00:00.000000Z\"}");
	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/shadowTradeHistory";
	q.where_field = "status";
	q.where_value = json_object_new_string("OPEN");
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	q.limit = 3;
	expect_query(&q, "t10,t08,t06");
	q.order = STORE_ORDER_ASC;
	q.limit = 0;
	expect_query(&q, "t00,t02,t04,t06,t08,t10");
	json_object_put(q.where_value);
	/* the dashboard's query: newest first, limit */
	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/shadowTradeHistory";
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	q.limit = 4;
	expect_query(&q, "t11,t10,t09,t08");
	/* signals by timestamp */
	put("users/u1/signals/s1", "{\"timestamp\":\"2024-05-01T10:00:01.000000Z\"}");
	put("users/u1/signals/s2", "{\"timestamp\":\"2024-05-01T10:00:03.000000Z\"}");
	put("users/u1/signals/s3", "{\"timestamp\":\"2024-05-01T10:00:02.000000Z\"}");
	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/signals";
	q.order_field = "timestamp";
	q.order = STORE_ORDER_DESC;
	q.limit = 2;
	expect_query(&q, "s2,s3");
}

Test(store, query_rejects_bad_arguments)
{
	struct store_doclist list;
	struct store_query q;

	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/items";
	q.where_field = "a-b";
	q.where_value = json_object_new_int(1);
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	q.where_field = "status') OR 1=1 --";
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(q.where_value);
	q.where_field = "a";
	q.where_value = J("{\"k\":1}");
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(q.where_value);
	q.where_value = J("[1]");
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	json_object_put(q.where_value);
	q.where_field = NULL;
	q.where_value = NULL;
	q.order_field = "a.";
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	q.order_field = "created_at";
	q.start_after = "x";
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	q.order_field = NULL;
	q.order = (enum store_order)42;
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	q.order = STORE_ORDER_ASC;
	q.start_after = NULL;
	q.collection = "users/u1";
	cr_expect_eq(store_query(st, &q, &list, &err), -1);
	cr_expect_eq(store_query(st, NULL, &list, &err), -1);
}

/* --- tenants --- */

Test(store, list_tenants_with_missing_roots)
{
	put("users/alice", "{\"created_at\":\"2024-01-01T00:00:00.000000Z\"}");
	put("users/alice/data/snapshot", "{\"equity\":\"1\"}");
	/* bob's and carol's roots were never written */
	put("users/bob/status/trading", "{\"enabled\":true}");
	put("users/carol/x/y/z/w", "{}");
	put("users/dave", "{}");
	/* not tenants */
	put("ops/last_pulse", "{}");
	put("tradingSignals/s1", "{}");
	put("ops/users/reports/x", "{}");

	expect_tenants(0, NULL, "alice,bob,carol,dave");
	expect_tenants(2, NULL, "alice,bob");
	expect_tenants(2, "bob", "carol,dave");
	expect_tenants(2, "dave", "");
	expect_tenants(0, "b", "bob,carol,dave");
	/* a tenant exists while any document under it does */
	cr_assert_eq(store_delete(st, "users/bob/status/trading", &err), 0);
	expect_tenants(0, NULL, "alice,carol,dave");
	cr_assert_eq(store_delete(st, "users/dave", &err), 0);
	expect_tenants(0, NULL, "alice,carol");
	{
		char **uids;
		size_t n;

		cr_expect_eq(store_list_tenants(st, 0, "../x", &uids, &n,
		    &err), -1);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
		cr_expect_null(uids);
		cr_expect_eq(n, 0);
	}
}

Test(store, list_tenants_paginates_many)
{
	struct store_batch *b = store_batch_new();
	json_object *o = J("{\"v\":1}");
	char path[96], **uids, after[UID_MAX_LEN + 1];
	size_t n, total = 0, i;
	int t;

	for (t = 0; t < 250; t++) {
		snprintf(path, sizeof(path), "users/t%03d/status/trading", t);
		store_batch_add(b, STORE_W_SET, path, o);
		snprintf(path, sizeof(path), "users/t%03d/signals/a", t);
		store_batch_add(b, STORE_W_SET, path, o);
	}
	cr_assert_eq(store_batch_commit(st, b, &err), 0, "%s", err.msg);
	store_batch_free(b);
	json_object_put(o);
	after[0] = '\0';
	for (;;) {
		cr_assert_eq(store_list_tenants(st, 100,
		    after[0] != '\0' ? after : NULL, &uids, &n, &err), 0);
		if (n == 0)
			break;
		cr_assert_leq(n, 100);
		for (i = 0; i < n; i++) {
			char want[16];

			snprintf(want, sizeof(want), "t%03zu", total + i);
			cr_assert_str_eq(uids[i], want);
		}
		total += n;
		snprintf(after, sizeof(after), "%s", uids[n - 1]);
		store_strings_free(uids, n);
	}
	cr_expect_eq(total, 250);
}
