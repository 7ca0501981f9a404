/* test_store_docs.c: the document store: get, set, merge, delete, ids, limits, timestamps, open. */
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

/* --- documents --- */

Test(store, set_replaces)
{
	put("users/u1/data/snapshot", "{\"a\":1,\"b\":{\"c\":2},\"s\":\"x\"}");
	expect_doc("users/u1/data/snapshot",
	    "{\"a\":1,\"b\":{\"c\":2},\"s\":\"x\"}");
	put("users/u1/data/snapshot", "{\"b\":{\"d\":3}}");
	expect_doc("users/u1/data/snapshot", "{\"b\":{\"d\":3}}");
}

Test(store, merge_nested_maps)
{
	put("users/u1/data/snapshot",
	    "{\"a\":1,\"m\":{\"x\":1,\"y\":{\"p\":1}},\"arr\":[1,2],"
	    "\"s\":\"keep\",\"t\":\"scalar\",\"u\":{\"k\":1},\"gone\":7}");
	merge("users/u1/data/snapshot",
	    "{\"m\":{\"y\":{\"q\":2},\"z\":3},\"arr\":[3,null],\"t\":{\"now\":"
	    "\"map\",\"nul\":null},\"u\":5,\"n\":null,\"gone\":null,\"e\":{}}");
	/* maps merged key by key, arrays (nulls and all) and scalars
	 * replaced whole, a null deletes its field (and a null for a missing
	 * field is nothing), a map replacing a scalar loses its nulls */
	expect_doc("users/u1/data/snapshot",
	    "{\"a\":1,\"m\":{\"x\":1,\"y\":{\"p\":1,\"q\":2},\"z\":3},"
	    "\"arr\":[3,null],\"s\":\"keep\",\"t\":{\"now\":\"map\"},\"u\":5,"
	    "\"e\":{}}");
	/* merging an empty map into a map keeps it */
	merge("users/u1/data/snapshot", "{\"m\":{}}");
	expect_doc("users/u1/data/snapshot",
	    "{\"a\":1,\"m\":{\"x\":1,\"y\":{\"p\":1,\"q\":2},\"z\":3},"
	    "\"arr\":[3,null],\"s\":\"keep\",\"t\":{\"now\":\"map\"},\"u\":5,"
	    "\"e\":{}}");
}

Test(store, merge_null_deletes_nested_field)
{
	put("users/u1/shadowTradeHistory/t1", "{\"symbol\":\"AAPL\","
	    "\"pnl_error\":{\"code\":\"not_found\",\"message\":\"no trade\","
	    "\"at\":\"x\"},\"m\":{\"a\":{\"b\":1,\"c\":2},\"d\":3}}");
	/* a nested null removes that field only */
	merge("users/u1/shadowTradeHistory/t1", "{\"m\":{\"a\":{\"b\":null}}}");
	expect_doc("users/u1/shadowTradeHistory/t1", "{\"symbol\":\"AAPL\","
	    "\"pnl_error\":{\"code\":\"not_found\",\"message\":\"no trade\","
	    "\"at\":\"x\"},\"m\":{\"a\":{\"c\":2},\"d\":3}}");
	/* a pulse's mark clears the trade's error: the field goes away */
	merge("users/u1/shadowTradeHistory/t1", "{\"current_price\":187.2512,"
	    "\"unrealized_pnl\":370.01,\"pnl_percent\":24.6264,\"marked_at\":"
	    "\"2024-05-01T10:00:00.000000Z\",\"pnl_error\":null}");
	expect_doc("users/u1/shadowTradeHistory/t1", "{\"symbol\":\"AAPL\","
	    "\"m\":{\"a\":{\"c\":2},\"d\":3},\"current_price\":187.2512,"
	    "\"unrealized_pnl\":370.01,\"pnl_percent\":24.6264,\"marked_at\":"
	    "\"2024-05-01T10:00:00.000000Z\"}");
	/* emptying a map keeps the (empty) map */
	merge("users/u1/shadowTradeHistory/t1", "{\"m\":{\"a\":{\"c\":null},"
	    "\"d\":null}}");
	expect_doc("users/u1/shadowTradeHistory/t1", "{\"symbol\":\"AAPL\","
	    "\"m\":{\"a\":{}},\"current_price\":187.2512,"
	    "\"unrealized_pnl\":370.01,\"pnl_percent\":24.6264,\"marked_at\":"
	    "\"2024-05-01T10:00:00.000000Z\"}");
	/* a set still stores nulls as given */
	put("users/u1/shadowTradeHistory/t1", "{\"pnl_error\":null}");
	expect_doc("users/u1/shadowTradeHistory/t1", "{\"pnl_error\":null}");
}
/*
 * path's document has exactly want's fields, each serialized as in want:
 * the text of every number, at any depth (the order of the fields is not
 * the store's to keep: Firestore returns them in its own).
 */
static void
expect_texts(const char *path, const char *want)
{
	struct json_object_iterator it, end;
	json_object *w = J(want), *v;
	struct store_doc doc;
	const char *k, *a, *b;

	cr_assert_eq(store_get(st, path, &doc, &err), 0, "get %s: %s", path,
	    err.msg);
	cr_expect_eq(json_object_object_length(doc.data),
	    json_object_object_length(w), "%s has %s, expected %s", path,
	    json_object_to_json_string_ext(doc.data, JSON_C_TO_STRING_PLAIN),
	    want);
	it = json_object_iter_begin(w);
	end = json_object_iter_end(w);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		a = json_object_to_json_string_ext(json_object_iter_peek_value(
		    &it), JSON_C_TO_STRING_PLAIN);
		v = json_object_object_get(doc.data, k);
		b = v != NULL ? json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN) : "(missing)";
		cr_expect_str_eq(b, a, "%s field %s", path, k);
	}
	store_doc_clear(&doc);
	json_object_put(w);
}

Test(store, merge_keeps_number_text)
{
	put("users/u1/shadowTradeHistory/t1", "{\"qty\":10,\"entry_price\":"
	    "150.25,\"big\":1234567890123456789,\"e\":1e3,"
	    "\"neg\":-0.0}");
	merge("users/u1/shadowTradeHistory/t1", "{\"current_price\":187.2512,"
	    "\"unrealized_pnl\":370.01,\"pnl_percent\":-20.0020,\"equity\":"
	    "122011.09751111286868,\"m\":{\"x\":0.10}}");
	merge("users/u1/shadowTradeHistory/t1", "{\"m\":{\"y\":2.50}}");
	/* every number keeps the text it was written with, through two
	 * merges and a read: no binary floating point on the way */
	expect_texts("users/u1/shadowTradeHistory/t1", "{\"qty\":10,"
	    "\"entry_price\":150.25,\"big\":1234567890123456789,\"e\":1e3,"
	    "\"neg\":-0.0,\"current_price\":187.2512,\"unrealized_pnl\":"
	    "370.01,\"pnl_percent\":-20.0020,\"equity\":"
	    "122011.09751111286868,\"m\":{\"x\":0.10,\"y\":2.50}}");
	/* the same when the merge creates the document */
	merge("users/u1/shadowTradeHistory/t2", "{\"unrealized_pnl\":-20.0020,"
	    "\"n\":null,\"equity\":122011.09751111286868}");
	expect_texts("users/u1/shadowTradeHistory/t2", "{\"unrealized_pnl\":"
	    "-20.0020,\"equity\":122011.09751111286868}");
}

Test(store, merge_into_missing_creates)
{
	expect_missing("users/u1/status/trading");
	merge("users/u1/status/trading", "{\"enabled\":true,\"m\":{\"a\":1}}");
	expect_doc("users/u1/status/trading",
	    "{\"enabled\":true,\"m\":{\"a\":1}}");
	/* created as if merged into {}: no nulls, at any depth */
	merge("users/u1/status/other", "{\"n\":null,\"m\":{\"x\":null,"
	    "\"y\":{\"z\":null}},\"a\":[null]}");
	expect_doc("users/u1/status/other", "{\"m\":{\"y\":{}},\"a\":[null]}");
	/* a merge of nulls only creates an empty document */
	merge("users/u1/status/empty", "{\"n\":null}");
	expect_doc("users/u1/status/empty", "{}");
}

/* json_merge (the store's merge on json-c objects) gives what the store
 * gives, case by case. */
Test(store, json_merge_agrees_with_store_merge)
{
	static const char *const cases[][2] = {
		{ "{\"a\":1}", "{\"a\":null}" },
		{ "{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":null,\"d\":[1,null]}}" },
		{ "{\"a\":\"s\"}", "{\"a\":{\"x\":null,\"y\":{\"z\":null,\"w\":1}}}" },
		{ "{\"a\":[1,2]}", "{\"a\":[3],\"b\":{}}" },
		{ "{\"a\":{\"b\":{\"c\":1}}}", "{\"a\":{\"b\":5}}" },
		{ "{}", "{\"p\":370.01,\"q\":-20.0020,\"n\":null}" },
	};
	json_object *dst, *src, *want;
	struct store_doc doc;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put("ops/merge", cases[i][0]);
		merge("ops/merge", cases[i][1]);
		dst = J(cases[i][0]);
		src = J(cases[i][1]);
		json_merge(dst, src);
		cr_assert_eq(store_get(st, "ops/merge", &doc, &err), 0);
		want = doc.data;
		cr_expect(json_object_equal(dst, want), "case %zu: json_merge "
		    "%s, store %s", i, json_compact(dst, NULL),
		    json_compact(want, NULL));
		cr_expect_str_eq(json_compact(dst, NULL),
		    json_compact(want, NULL), "case %zu", i);
		store_doc_clear(&doc);
		json_object_put(dst);
		json_object_put(src);
	}
}

Test(store, merge_does_not_alias_caller_data)
{
	json_object *src = J("{\"m\":{\"k\":\"v\"}}");

	put("ops/x", "{\"a\":1}");
	cr_assert_eq(store_set(st, "ops/x", src, true, &err), 0, "%s",
	    err.msg);
	/* the caller still owns src, unchanged */
	json_object_object_add(src, "later", json_object_new_int(1));
	json_object_put(src);
	expect_doc("ops/x", "{\"a\":1,\"m\":{\"k\":\"v\"}}");
}

Test(store, get_missing_is_not_found)
{
	expect_missing("users/nobody");
	expect_missing("users/u1/status/trading");
	put("users/u1", "{}");
	expect_missing("users/u1/status/trading");
}

Test(store, delete_documents)
{
	put("users/u1/status/trading", "{\"enabled\":false}");
	put("users/u1/status/quarantine", "{\"strikes\":3}");
	cr_assert_eq(store_delete(st, "users/u1/status/trading", &err), 0,
	    "%s", err.msg);
	expect_missing("users/u1/status/trading");
	expect_doc("users/u1/status/quarantine", "{\"strikes\":3}");
	/* deleting a missing document is not an error */
	cr_expect_eq(store_delete(st, "users/u1/status/trading", &err), 0,
	    "%s", err.msg);
	cr_expect_eq(store_delete(st, "users/u9/x/y", &err), 0, "%s",
	    err.msg);
}

Test(store, update_time_and_id)
{
	struct store_doc doc;
	char before[32], after[32];

	store_timestamp(before, sizeof(before));
	put("users/u1/signals/sig-1", "{\"symbol\":\"AAPL\"}");
	store_timestamp(after, sizeof(after));
	cr_assert_eq(store_get(st, "users/u1/signals/sig-1", &doc, &err), 0);
	cr_expect_str_eq(doc.id, "sig-1");
	cr_expect_eq(strlen(doc.update_time), 27);
	cr_expect_leq(strcmp(before, doc.update_time), 0, "%s > %s", before,
	    doc.update_time);
	cr_expect_leq(strcmp(doc.update_time, after), 0);
	store_doc_clear(&doc);
	cr_expect_null(doc.path);
}

Test(store, data_must_be_a_map)
{
	static const char *const bad[] = {
		"[1,2]", "\"text\"", "42", "true", "1.5", "[]",
	};
	json_object *o;
	char id[AUTO_ID_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = J(bad[i]);
		tp_err_clear(&err);
		cr_expect_eq(store_set(st, "ops/x", o, false, &err), -1,
		    "set accepted %s", bad[i]);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
		cr_expect_eq(store_set(st, "ops/x", o, true, &err), -1);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
		cr_expect_eq(store_create(st, "ops", o, id, &err), -1);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
		json_object_put(o);
	}
	cr_expect_eq(store_set(st, "ops/x", NULL, false, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	expect_missing("ops/x");
}

Test(store, bad_paths_on_every_operation)
{
	static const char *const bad[] = {
		"", "users", "users/../x", "users/u1/", "/users/u1",
		"users//u1", "users/u 1", "users/\xc3\xa9", "users/__x__",
		"users/u1/signals",
	};
	struct store_doclist list;
	struct store_doc doc;
	json_object *o = J("{\"a\":1}");
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_err_clear(&err);
		cr_expect_eq(store_get(st, bad[i], &doc, &err), -1, "%s",
		    bad[i]);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "get %s", bad[i]);
		tp_err_clear(&err);
		cr_expect_eq(store_set(st, bad[i], o, false, &err), -1);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "set %s", bad[i]);
		tp_err_clear(&err);
		cr_expect_eq(store_set(st, bad[i], o, true, &err), -1);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "merge %s",
		    bad[i]);
		tp_err_clear(&err);
		cr_expect_eq(store_delete(st, bad[i], &err), -1);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "delete %s",
		    bad[i]);
	}
	/* collections: a document path is not one */
	cr_expect_eq(store_create(st, "users/u1", o, NULL, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	cr_expect_eq(store_create(st, "users/../signals", o, NULL, &err), -1);
	cr_expect_eq(store_list(st, "users/u1", 0, NULL, &list, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	cr_expect_eq(list.n, 0);
	cr_expect_eq(store_list(st, "", 0, NULL, &list, &err), -1);
	json_object_put(o);
}

Test(store, auto_ids)
{
	enum { N = 1000 };
	static char ids[N][AUTO_ID_LEN + 1];
	struct store_doclist list;
	json_object *o = J("{\"v\":1}");
	char path[128];
	size_t i, j;

	for (i = 0; i < N; i++) {
		cr_assert_eq(store_create(st, "users/u1/signals", o, ids[i],
		    &err), 0, "create: %s", err.msg);
		cr_assert_eq(strlen(ids[i]), AUTO_ID_LEN);
		for (j = 0; j < AUTO_ID_LEN; j++)
			cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789",
			    ids[i][j]) != NULL, "bad id %s", ids[i]);
	}
	json_object_put(o);
	/* every id is its own document: N distinct documents */
	cr_assert_eq(store_list(st, "users/u1/signals", 0, NULL, &list, &err),
	    0, "%s", err.msg);
	cr_expect_eq(list.n, N);
	for (i = 1; i < list.n; i++)
		cr_expect_lt(strcmp(list.docs[i - 1].id, list.docs[i].id), 0);
	store_doclist_free(&list);
	snprintf(path, sizeof(path), "users/u1/signals/%s", ids[N / 2]);
	expect_doc(path, "{\"v\":1}");
	/* create without asking for the id */
	o = J("{\"w\":2}");
	cr_expect_eq(store_create(st, "ops", o, NULL, &err), 0, "%s", err.msg);
	json_object_put(o);
}

/*
 * The limits every backend keeps (the exact edges of the SQLite backend,
 * which measures a document as its JSON, are in test_store_sqlite.c;
 * Firestore measures it its own way, a little under 1 MiB).
 */
Test(store, document_size_limit)
{
	json_object *o, *grow;
	struct store_doc doc;

	o = doc_of_size(STORE_DOC_MAX * 9 / 10);
	cr_expect_eq(store_set(st, "ops/big", o, false, &err), 0, "%s",
	    err.msg);
	json_object_put(o);
	o = doc_of_size(STORE_DOC_MAX + 1);
	tp_err_clear(&err);
	cr_expect_eq(store_set(st, "ops/big2", o, false, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	cr_expect_eq(store_create(st, "ops", o, NULL, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(o);
	expect_missing("ops/big2");
	/* a merge that would grow the document past the limit fails and
	 * leaves it as it was */
	grow = doc_of_size(STORE_DOC_MAX / 5);
	json_object_object_add(grow, "t", json_object_get(
	    json_object_object_get(grow, "s")));
	json_object_object_del(grow, "s");
	tp_err_clear(&err);
	cr_expect_eq(store_set(st, "ops/big", grow, true, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	json_object_put(grow);
	cr_assert_eq(store_get(st, "ops/big", &doc, &err), 0);
	cr_expect_null(json_object_object_get(doc.data, "t"));
	cr_expect_eq(strlen(json_get_str(doc.data, "s")),
	    STORE_DOC_MAX * 9 / 10 - strlen("{\"s\":\"\"}"));
	store_doc_clear(&doc);
}

Test(store, nesting_and_values)
{
	json_object *o;
	struct store_doc doc;

	o = doc_of_depth(STORE_DEPTH_MAX);
	cr_expect_eq(store_set(st, "ops/deep", o, false, &err), 0, "%s",
	    err.msg);
	json_object_put(o);
	cr_expect_eq(store_get(st, "ops/deep", &doc, &err), 0,
	    "a stored document must read back: %s", err.msg);
	store_doc_clear(&doc);
	o = doc_of_depth(STORE_DEPTH_MAX + 1);
	tp_err_clear(&err);
	cr_expect_eq(store_set(st, "ops/deeper", o, false, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(o);
	/* JSON has no NaN or infinity */
	o = json_object_new_object();
	json_object_object_add(o, "x", json_object_new_double(NAN));
	cr_expect_eq(store_set(st, "ops/nan", o, false, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(o);
	/* strings must be UTF-8 */
	o = json_object_new_object();
	json_object_object_add(o, "x", json_object_new_string("bad \xff"));
	cr_expect_eq(store_set(st, "ops/utf8", o, false, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(o);
	/* but any valid value round-trips */
	put("ops/values", "{\"s\":\"caf\xc3\xa9 \\u0000 \\\"q\\\" /\","
	    "\"i\":-9007199254740993,\"d\":0.1,\"b\":false,\"n\":null,"
	    "\"a\":[1,\"x\",{\"k\":[]}],\"money\":\"122011.09751111286868\"}");
	expect_doc("ops/values", "{\"s\":\"caf\xc3\xa9 \\u0000 \\\"q\\\" /\","
	    "\"i\":-9007199254740993,\"d\":0.1,\"b\":false,\"n\":null,"
	    "\"a\":[1,\"x\",{\"k\":[]}],\"money\":\"122011.09751111286868\"}");
}

/* --- misc --- */

Test(store, timestamps_are_canonical)
{
	char a[32], b[32];
	int y, mo, d, h, mi, s, us;
	char z;

	store_timestamp(a, sizeof(a));
	cr_assert_eq(strlen(a), 27, "%s", a);
	cr_expect_eq(sscanf(a, "%4d-%2d-%2dT%2d:%2d:%2d.%6d%c", &y, &mo, &d,
	    &h, &mi, &s, &us, &z), 8, "%s", a);
	cr_expect_eq(z, 'Z');
	cr_expect_eq(a[4], '-');
	cr_expect_eq(a[10], 'T');
	cr_expect_eq(a[19], '.');
	cr_expect_geq(y, 2024);
	usleep(2000);
	store_timestamp(b, sizeof(b));
	cr_expect_lt(strcmp(a, b), 0, "%s !< %s", a, b);
	cr_expect_str_eq(store_backend_name(st),
	    backend_under_test == STORE_SQLITE ? "sqlite" : "firestore");
}

Test(store, open_rejects_bad_parameters)
{
	struct store_params p;

	test_params(&p, 0);
	p.backend = (enum store_backend)99;
	cr_expect_null(store_open(&p, NULL, &err));
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	test_params(&p, -1);
	cr_expect_null(store_open(&p, NULL, &err));
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	test_params(&p, STORE_THREADS_MAX + 1);
	cr_expect_null(store_open(&p, NULL, &err));
	cr_expect_null(store_open(NULL, NULL, &err));
	/* a closed store */
	cr_expect_eq(store_get(NULL, "ops/x", NULL, &err), -1);
	store_free(NULL);
}
