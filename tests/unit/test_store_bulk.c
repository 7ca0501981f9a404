/* test_store_bulk.c: the document store's bulk reads (get_many, the tenants' collection-group query) and its request count. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/store.h"
#include "tests/unit/store_fixture.h"

TestSuite(store, .init = setup, .fini = teardown, .timeout = 120);

/* --- get_many --- */

Test(store, get_many_found_missing_mixed)
{
	const char *paths[] = {
		"users/a/status/trading",
		"users/a/status/nothere",
		"users/b/secrets/alpaca",
		"nowhere/x",
		"users/a/status/trading",	/* twice: both answered */
	};
	struct store_doc out[5];
	int64_t v;
	size_t i;

	put("users/a/status/trading", "{\"enabled\":true,\"v\":1}");
	put("users/b/secrets/alpaca", "{\"v\":2}");
	memset(out, 0x5a, sizeof(out));	/* must be zeroed by the call */
	cr_assert_eq(store_get_many(st, paths, 5, out, &err), 0, "%s",
	    err.msg);
	cr_assert_not_null(out[0].data);
	cr_expect(json_get_int(out[0].data, "v", &v) && v == 1);
	cr_expect_str_eq(out[0].path, "users/a/status/trading");
	cr_expect_str_eq(out[0].id, "trading");
	cr_expect_neq(out[0].update_time[0], '\0');
	cr_expect_null(out[1].data);
	cr_assert_not_null(out[2].data);
	cr_expect(json_get_int(out[2].data, "v", &v) && v == 2);
	cr_expect_str_eq(out[2].id, "alpaca");
	cr_expect_null(out[3].data);
	cr_assert_not_null(out[4].data);
	cr_expect(json_get_int(out[4].data, "v", &v) && v == 1);
	for (i = 0; i < 5; i++)
		store_doc_clear(&out[i]);

	/* all missing: still no error */
	cr_assert_eq(store_get_many(st, &paths[1], 1, out, &err), 0, "%s",
	    err.msg);
	cr_expect_null(out[0].data);
	store_doc_clear(&out[0]);
}

Test(store, get_many_many)
{
	const char **paths;
	struct store_doc *out;
	char buf[64];
	size_t i, n = STORE_GET_MANY_MAX;
	int64_t v;

	paths = calloc(n, sizeof(*paths));
	out = calloc(n, sizeof(*out));
	cr_assert(paths != NULL && out != NULL);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "users/u%04zu/status/trading", i);
		if (i % 3 == 0) {
			char text[32];

			snprintf(text, sizeof(text), "{\"i\":%zu}", i);
			put(buf, text);
		}
		paths[i] = strdup(buf);
	}
	cr_assert_eq(store_get_many(st, paths, n, out, &err), 0, "%s",
	    err.msg);
	for (i = 0; i < n; i++) {
		if (i % 3 == 0) {
			cr_assert_not_null(out[i].data, "doc %zu", i);
			cr_expect(json_get_int(out[i].data, "i", &v) &&
			    v == (int64_t)i, "doc %zu", i);
		} else {
			cr_expect_null(out[i].data, "doc %zu", i);
		}
		store_doc_clear(&out[i]);
		free((char *)paths[i]);
	}
	free(paths);
	free(out);
}

Test(store, get_many_refuses_bad_arguments)
{
	const char *bad[] = { "users/a/status/trading", "users/a/status" };
	const char *odd[] = { "users/a/status/trading", "users/../x/y" };
	const char *ok[] = { "users/a/status/trading" };
	const char **many;
	struct store_doc out[2], *big;
	size_t i;

	put("users/a/status/trading", "{}");
	cr_expect_eq(store_get_many(st, bad, 2, out, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	cr_expect_null(out[0].data);
	cr_expect_null(out[1].data);
	cr_expect_eq(store_get_many(st, odd, 2, out, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	cr_expect_eq(store_get_many(st, ok, 0, out, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	cr_expect_eq(store_get_many(st, NULL, 1, out, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	cr_expect_eq(store_get_many(st, ok, 1, NULL, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	cr_expect_eq(store_get_many(NULL, ok, 1, out, &err), -1);
	cr_expect_eq(err.code, TP_FAILED_PRECONDITION);

	/* one more than the limit */
	many = calloc(STORE_GET_MANY_MAX + 1, sizeof(*many));
	big = calloc(STORE_GET_MANY_MAX + 1, sizeof(*big));
	cr_assert(many != NULL && big != NULL);
	for (i = 0; i < STORE_GET_MANY_MAX + 1; i++)
		many[i] = "users/a/status/trading";
	cr_expect_eq(store_get_many(st, many, STORE_GET_MANY_MAX + 1, big,
	    &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	free(many);
	free(big);
}

/* --- query_group --- */

/* Runs q and compares the paths it gives, comma-separated. */
static void
expect_group(const struct store_group_query *q, const char *want)
{
	struct store_doclist list;
	char got[8192];
	size_t i, off = 0;

	cr_assert_eq(store_query_group(st, q, &list, &err), 0,
	    "group query: %s", err.msg);
	got[0] = '\0';
	for (i = 0; i < list.n; i++) {
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s",
		    i > 0 ? "," : "", list.docs[i].path);
		cr_expect_not_null(list.docs[i].data);
		cr_expect_neq(list.docs[i].update_time[0], '\0');
		cr_expect_str_eq(list.docs[i].id,
		    strrchr(list.docs[i].path, '/') + 1);
	}
	cr_expect_str_eq(got, want, "group query [%s], expected [%s]", got,
	    want);
	store_doclist_free(&list);
}

/* Three tenants whose uids order differently as plain strings of their
 * paths ("users/b-x/" < "users/b/" since '-' < '/') and segment by
 * segment ("b" < "b-x" < "b2"), as Firestore orders document names. */
static void
group_fixture(void)
{
	put("users/b2/trades/t1", "{\"status\":\"OPEN\"}");
	put("users/b-x/trades/t2", "{\"status\":\"OPEN\"}");
	put("users/b-x/trades/t1", "{\"status\":\"CLOSED\"}");
	put("users/b/trades/t9", "{\"status\":\"OPEN\"}");
	put("users/b/trades/t0", "{\"status\":\"OPEN\"}");
	put("users/a/trades/x", "{\"status\":\"OPEN\"}");
	put("users/c/trades/a", "{\"status\":\"OPEN\",\"n\":1}");
	/* none of these is a document of users/{uid}/trades */
	put("users/b/trades/t0/trades/deep", "{\"status\":\"OPEN\"}");
	put("users/b/other/trades/x/y", "{\"status\":\"OPEN\"}");
	put("users/b/other/t0", "{\"status\":\"OPEN\"}");
	put("users/b/tradesx/t0", "{\"status\":\"OPEN\"}");
	put("trades/t0", "{\"status\":\"OPEN\"}");
	put("other/b/trades/t0", "{\"status\":\"OPEN\"}");
	put("users/b", "{\"status\":\"OPEN\"}");
}

Test(store, group_order_is_segment_order)
{
	struct store_group_query q;

	group_fixture();
	memset(&q, 0, sizeof(q));
	q.collection_id = "trades";
	expect_group(&q, "users/a/trades/x,users/b/trades/t0,users/b/trades/t9,"
	    "users/b-x/trades/t1,users/b-x/trades/t2,users/b2/trades/t1,"
	    "users/c/trades/a");
}

Test(store, group_where_equal)
{
	struct store_group_query q;
	json_object *v = json_object_new_string("OPEN");
	json_object *one = json_object_new_int(1);
	json_object *str1 = json_object_new_string("1");

	group_fixture();
	memset(&q, 0, sizeof(q));
	q.collection_id = "trades";
	q.where_field = "status";
	q.where_value = v;
	expect_group(&q, "users/a/trades/x,users/b/trades/t0,users/b/trades/t9,"
	    "users/b-x/trades/t2,users/b2/trades/t1,users/c/trades/a");
	q.where_field = "n";
	q.where_value = one;
	expect_group(&q, "users/c/trades/a");
	q.where_value = str1;		/* a string is not the number */
	expect_group(&q, "");
	json_object_put(v);
	json_object_put(one);
	json_object_put(str1);
}

Test(store, group_tenant_range)
{
	struct store_group_query q;

	group_fixture();
	memset(&q, 0, sizeof(q));
	q.collection_id = "trades";
	q.from_uid = "b";			/* inclusive */
	q.to_uid = "b2";			/* exclusive */
	expect_group(&q, "users/b/trades/t0,users/b/trades/t9,"
	    "users/b-x/trades/t1,users/b-x/trades/t2");
	q.from_uid = "b-x";
	q.to_uid = NULL;
	expect_group(&q, "users/b-x/trades/t1,users/b-x/trades/t2,"
	    "users/b2/trades/t1,users/c/trades/a");
	q.from_uid = NULL;
	q.to_uid = "b-x";
	expect_group(&q, "users/a/trades/x,users/b/trades/t0,"
	    "users/b/trades/t9");
	q.from_uid = "b0";			/* not a tenant: between */
	q.to_uid = "c";
	expect_group(&q, "users/b2/trades/t1");
	q.from_uid = "c";
	q.to_uid = "b";				/* empty range */
	expect_group(&q, "");
	q.from_uid = "b";
	q.to_uid = "b";
	expect_group(&q, "");
}

Test(store, group_pages_with_start_after)
{
	struct store_group_query q;
	json_object *v = json_object_new_string("OPEN");

	group_fixture();
	memset(&q, 0, sizeof(q));
	q.collection_id = "trades";
	q.where_field = "status";
	q.where_value = v;
	q.limit = 2;
	expect_group(&q, "users/a/trades/x,users/b/trades/t0");
	q.start_after = "users/b/trades/t0";
	expect_group(&q, "users/b/trades/t9,users/b-x/trades/t2");
	q.start_after = "users/b-x/trades/t2";
	expect_group(&q, "users/b2/trades/t1,users/c/trades/a");
	q.start_after = "users/c/trades/a";
	expect_group(&q, "");
	/* start_after need not exist, nor match the filter */
	q.limit = 0;
	q.start_after = "users/b-x/trades/t1";
	expect_group(&q, "users/b-x/trades/t2,users/b2/trades/t1,"
	    "users/c/trades/a");
	q.start_after = "users/b/trades/t5";
	expect_group(&q, "users/b/trades/t9,users/b-x/trades/t2,"
	    "users/b2/trades/t1,users/c/trades/a");
	/* with a range */
	q.from_uid = "b";
	q.to_uid = "b2";
	q.start_after = "users/b/trades/t9";
	expect_group(&q, "users/b-x/trades/t2");
	json_object_put(v);
}

Test(store, group_pages_many)
{
	struct store_group_query q;
	struct store_doclist list;
	char path[64], last[64], after[64];
	size_t total = 0, pages = 0;
	int u, d;

	for (u = 0; u < 30; u++)
		for (d = 0; d < 7; d++) {
			snprintf(path, sizeof(path),
			    "users/u%02d/shadowTradeHistory/t%d", u, d);
			put(path, d % 2 == 0 ? "{\"status\":\"OPEN\"}" :
			    "{\"status\":\"CLOSED\"}");
		}
	memset(&q, 0, sizeof(q));
	q.collection_id = "shadowTradeHistory";
	q.where_field = "status";
	q.where_value = json_object_new_string("OPEN");
	q.limit = 11;
	last[0] = '\0';
	for (;;) {
		cr_assert_eq(store_query_group(st, &q, &list, &err), 0, "%s",
		    err.msg);
		for (d = 0; d < (int)list.n; d++) {
			cr_expect_gt(strcmp(list.docs[d].path, last), 0,
			    "%s after %s", list.docs[d].path, last);
			snprintf(last, sizeof(last), "%s", list.docs[d].path);
		}
		total += list.n;
		pages++;
		if (list.n < q.limit) {
			store_doclist_free(&list);
			break;
		}
		snprintf(after, sizeof(after), "%s",
		    list.docs[list.n - 1].path);
		q.start_after = after;
		store_doclist_free(&list);
		cr_assert_lt(pages, 100);
	}
	cr_expect_eq(total, 30 * 4);
	cr_expect_eq(pages, 11);	/* 120 = 10 full pages + 10 */
	json_object_put(q.where_value);
}

Test(store, group_refuses_bad_arguments)
{
	struct store_group_query q;
	struct store_doclist list;
	json_object *arr = json_object_new_array();

	memset(&q, 0, sizeof(q));
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.collection_id = "users/a/trades";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.collection_id = "__x__";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.collection_id = "trades";
	q.where_field = "bad field";
	q.where_value = NULL;
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.where_field = "status";
	q.where_value = arr;
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.where_field = NULL;
	q.where_value = NULL;
	q.from_uid = "a/b";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.from_uid = NULL;
	q.to_uid = "";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.to_uid = NULL;
	/* start_after must be a document of users/{uid}/trades */
	q.start_after = "users/a/other/x";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.start_after = "users/a/trades/x/trades/y";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.start_after = "other/a/trades/x";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.start_after = "users/a/trades";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.start_after = "x";
	cr_expect_eq(store_query_group(st, &q, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	q.start_after = "users/a/trades/x";
	cr_expect_eq(store_query_group(st, &q, &list, &err), 0, "%s",
	    err.msg);
	store_doclist_free(&list);
	cr_expect_eq(store_query_group(st, NULL, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(arr);
}

/* --- the request count --- */

Test(store, requests_count_up)
{
	const char *paths[] = { "users/a/status/trading", "users/a/x/y" };
	struct store_group_query gq;
	struct store_doclist list;
	struct store_doc out[2];
	struct store_doc doc;
	uint64_t r0, r1;
	char **uids;
	size_t n;

	r0 = store_requests(st);
	put("users/a/status/trading", "{}");
	r1 = store_requests(st);
	cr_expect_gt(r1, r0, "a write is a request");
	r0 = r1;
	cr_assert_eq(store_get(st, paths[0], &doc, &err), 0, "%s", err.msg);
	store_doc_clear(&doc);
	cr_expect_gt(r1 = store_requests(st), r0, "a get is a request");
	r0 = r1;
	cr_assert_eq(store_get_many(st, paths, 2, out, &err), 0, "%s",
	    err.msg);
	store_doc_clear(&out[0]);
	store_doc_clear(&out[1]);
	cr_expect_gt(r1 = store_requests(st), r0, "get_many is a request");
	r0 = r1;
	memset(&gq, 0, sizeof(gq));
	gq.collection_id = "status";
	cr_assert_eq(store_query_group(st, &gq, &list, &err), 0, "%s",
	    err.msg);
	cr_expect_eq(list.n, 1);
	store_doclist_free(&list);
	cr_expect_gt(r1 = store_requests(st), r0, "a group query is one");
	r0 = r1;
	cr_assert_eq(store_list_tenants(st, 0, NULL, &uids, &n, &err), 0);
	store_strings_free(uids, n);
	cr_expect_gt(r1 = store_requests(st), r0, "listing tenants is one");
	r0 = r1;
	/* refused before the backend: no request */
	cr_expect_eq(store_get_many(st, paths, 0, out, &err), -1);
	cr_expect_eq(store_requests(st), r0);
	cr_expect_eq(store_requests(NULL), 0);
}
