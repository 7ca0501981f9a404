/* test_store.c: the document store through store.h, plus the SQLite backend's own guarantees. */
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

/*
 * The backend under test is chosen here, in test_params(), and nowhere
 * else: the "store" suite uses only the store.h interface, so the same
 * tests run unchanged against another backend. The "sqlite" suite checks
 * what only the SQLite backend promises (file mode, WAL, query plans).
 */
static const enum store_backend backend_under_test = STORE_SQLITE;

static char tmpdir[64];
static char dbpath[128];
static struct store *st;
static struct tp_err err;

static void
test_params(struct store_params *p, int threads)
{
	memset(p, 0, sizeof(*p));
	p->backend = backend_under_test;
	p->path = dbpath;
	p->threads = threads;
}

static struct store *
test_open(struct event_base *base, int threads)
{
	struct store_params p;
	struct store *s;

	test_params(&p, threads);
	tp_err_clear(&err);
	s = store_open(&p, base, &err);
	cr_assert_not_null(s, "store_open: %s", err.msg);
	return s;
}

static void
make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/tp-test-store-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", tmpdir);
	tp_err_clear(&err);
}

static void
remove_tmpdir(void)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(tmpdir);

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}

static void
setup(void)
{
	make_tmpdir();
	st = test_open(NULL, 0);
}

static void gate_set(bool open);

static void
teardown(void)
{
	/* a failed async test may have left the store thread at the gate */
	gate_set(true);
	store_free(st);
	st = NULL;
	remove_tmpdir();
}

/* --- helpers --- */

static json_object *
J(const char *text)
{
	struct tp_err e;
	json_object *o = json_parse(text, strlen(text), &e);

	cr_assert_not_null(o, "bad test JSON %s: %s", text, e.msg);
	return o;
}

static void
put(const char *path, const char *text)
{
	json_object *o = J(text);

	cr_assert_eq(store_set(st, path, o, false, &err), 0, "set %s: %s",
	    path, err.msg);
	json_object_put(o);
}

static void
merge(const char *path, const char *text)
{
	json_object *o = J(text);

	cr_assert_eq(store_set(st, path, o, true, &err), 0, "merge %s: %s",
	    path, err.msg);
	json_object_put(o);
}

static void
expect_doc(const char *path, const char *text)
{
	struct store_doc doc;
	json_object *want = J(text);

	cr_assert_eq(store_get(st, path, &doc, &err), 0, "get %s: %s", path,
	    err.msg);
	cr_expect_str_eq(doc.path, path);
	cr_expect(json_object_equal(doc.data, want),
	    "%s is %s, expected %s", path,
	    json_object_to_json_string(doc.data),
	    json_object_to_json_string(want));
	store_doc_clear(&doc);
	json_object_put(want);
}

static void
expect_missing(const char *path)
{
	struct store_doc doc;

	tp_err_clear(&err);
	cr_expect_eq(store_get(st, path, &doc, &err), -1, "%s exists", path);
	cr_expect_eq(err.code, TP_NOT_FOUND, "%s: %s", path, err.msg);
	cr_expect_null(doc.data);
}

/* The ids of list, comma-separated, into buf. */
static const char *
ids_of(const struct store_doclist *list, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < list->n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
		    i > 0 ? "," : "", list->docs[i].id);
	return buf;
}

static void
expect_query(const struct store_query *q, const char *want)
{
	struct store_doclist list;
	char got[4096];

	cr_assert_eq(store_query(st, q, &list, &err), 0, "query: %s",
	    err.msg);
	cr_expect_str_eq(ids_of(&list, got, sizeof(got)), want,
	    "query on %s where %s: got [%s], expected [%s]", q->collection,
	    q->where_field != NULL ? q->where_field : "-", got, want);
	store_doclist_free(&list);
}

static void
expect_where(const char *coll, const char *field, json_object *value,
    const char *want)
{
	struct store_query q;

	memset(&q, 0, sizeof(q));
	q.collection = coll;
	q.where_field = field;
	q.where_value = value;
	expect_query(&q, want);
	json_object_put(value);
}

static void
expect_tenants(size_t limit, const char *after, const char *want)
{
	char **uids, got[8192];
	size_t n, i, off = 0;

	cr_assert_eq(store_list_tenants(st, limit, after, &uids, &n, &err), 0,
	    "list tenants: %s", err.msg);
	got[0] = '\0';
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s",
		    i > 0 ? "," : "", uids[i]);
	cr_expect_str_eq(got, want, "tenants after %s: [%s], expected [%s]",
	    after != NULL ? after : "-", got, want);
	store_strings_free(uids, n);
}

/* {"s": "xxx..."} serialized to exactly total bytes. */
static json_object *
doc_of_size(size_t total)
{
	json_object *o = json_object_new_object();
	char *s;
	size_t n = total - strlen("{\"s\":\"\"}");

	s = malloc(n + 1);
	cr_assert_not_null(s);
	memset(s, 'x', n);
	s[n] = '\0';
	json_object_object_add(o, "s", json_object_new_string(s));
	free(s);
	return o;
}

/* A map whose deepest value is at level depth (the map itself is level 1,
 * as json-c counts nesting). */
static json_object *
doc_of_depth(int depth)
{
	json_object *o = json_object_new_object(), *inner;
	int i;

	json_object_object_add(o, "leaf", json_object_new_int(depth));
	for (i = 2; i < depth; i++) {
		inner = o;
		o = json_object_new_object();
		json_object_object_add(o, "a", inner);
	}
	return o;
}

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

/* The compact serialization of path's document as store_get returns it. */
static char *
doc_text(const char *path)
{
	struct store_doc doc;
	char *text;

	cr_assert_eq(store_get(st, path, &doc, &err), 0, "get %s: %s", path,
	    err.msg);
	text = strdup(json_compact(doc.data, NULL));
	cr_assert_not_null(text);
	store_doc_clear(&doc);
	return text;
}

Test(store, merge_keeps_number_text)
{
	char *text;

	put("users/u1/shadowTradeHistory/t1", "{\"qty\":10,\"entry_price\":"
	    "150.25,\"big\":1234567890123456789,\"e\":1e3,"
	    "\"neg\":-0.0}");
	merge("users/u1/shadowTradeHistory/t1", "{\"current_price\":187.2512,"
	    "\"unrealized_pnl\":370.01,\"pnl_percent\":-20.0020,\"equity\":"
	    "122011.09751111286868,\"m\":{\"x\":0.10}}");
	merge("users/u1/shadowTradeHistory/t1", "{\"m\":{\"y\":2.50}}");
	/* every number keeps the text it was written with, through two
	 * merges and a read: no binary floating point on the way */
	text = doc_text("users/u1/shadowTradeHistory/t1");
	cr_expect_str_eq(text, "{\"qty\":10,\"entry_price\":150.25,"
	    "\"big\":1234567890123456789,\"e\":1e3,\"neg\":-0.0,"
	    "\"current_price\":187.2512,\"unrealized_pnl\":370.01,"
	    "\"pnl_percent\":-20.0020,\"equity\":122011.09751111286868,"
	    "\"m\":{\"x\":0.10,\"y\":2.50}}");
	free(text);
	/* the same when the merge creates the document */
	merge("users/u1/shadowTradeHistory/t2", "{\"unrealized_pnl\":-20.0020,"
	    "\"n\":null,\"equity\":122011.09751111286868}");
	text = doc_text("users/u1/shadowTradeHistory/t2");
	cr_expect_str_eq(text, "{\"unrealized_pnl\":-20.0020,"
	    "\"equity\":122011.09751111286868}");
	free(text);
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

Test(store, document_size_limit)
{
	json_object *o, *small;

	o = doc_of_size(STORE_DOC_MAX);
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
	small = J("{\"t\":\"grow\"}");
	tp_err_clear(&err);
	cr_expect_eq(store_set(st, "ops/big", small, true, &err), -1);
	cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	json_object_put(small);
	{
		struct store_doc doc;

		cr_assert_eq(store_get(st, "ops/big", &doc, &err), 0);
		cr_expect_null(json_get_str(doc.data, "t"));
		cr_expect_eq(strlen(json_get_str(doc.data, "s")),
		    STORE_DOC_MAX - strlen("{\"s\":\"\"}"));
		store_doc_clear(&doc);
	}
}

Test(store, nesting_and_values)
{
	json_object *o;
	struct store_doc doc;

	o = doc_of_depth(JSON_MAX_DEPTH);
	cr_expect_eq(store_set(st, "ops/deep", o, false, &err), 0, "%s",
	    err.msg);
	json_object_put(o);
	cr_expect_eq(store_get(st, "ops/deep", &doc, &err), 0,
	    "a stored document must read back: %s", err.msg);
	store_doc_clear(&doc);
	o = doc_of_depth(JSON_MAX_DEPTH + 1);
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

/* --- SQLite backend only --- */

static void
sqlite_setup(void)
{
	if (backend_under_test != STORE_SQLITE)
		cr_skip_test("the backend under test is not sqlite");
	make_tmpdir();
	st = NULL;
}

TestSuite(sqlite, .init = sqlite_setup, .fini = teardown, .timeout = 60);

static sqlite3 *
raw_open(void)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK,
	    "%s: %s", sql, msg != NULL ? msg : "");
}

static void
raw_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *s;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	snprintf(out, size, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

static mode_t
file_mode(const char *path)
{
	struct stat sb;

	cr_assert_eq(stat(path, &sb), 0, "%s", path);
	return sb.st_mode & 07777;
}

Test(sqlite, file_is_private)
{
	char wal[160];
	mode_t old = umask(0);

	st = test_open(NULL, 0);
	put("users/u1/secrets/alpaca", "{\"ciphertext\":\"x\"}");
	umask(old);
	cr_expect_eq(file_mode(dbpath), 0600, "mode %o",
	    (unsigned)file_mode(dbpath));
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	cr_expect_eq(file_mode(wal), 0600);
}

Test(sqlite, loose_mode_is_tightened)
{
	int fd = open(dbpath, O_CREAT | O_WRONLY, 0644);

	cr_assert_geq(fd, 0);
	fchmod(fd, 0644);
	close(fd);
	st = test_open(NULL, 0);
	cr_expect_eq(file_mode(dbpath), 0600);
}

Test(sqlite, wal_and_schema_version)
{
	sqlite3 *db;
	char v[64];

	st = test_open(NULL, 0);
	put("ops/x", "{}");
	db = raw_open();
	raw_text(db, "PRAGMA journal_mode", v, sizeof(v));
	cr_expect_str_eq(v, "wal");
	raw_text(db, "PRAGMA user_version", v, sizeof(v));
	cr_expect_str_eq(v, "2");
	raw_text(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index'"
	    " AND name IN ('docs_status_created', 'docs_timestamp',"
	    " 'docs_tenant', 'docs_parent_id', 'docs_created')", v, sizeof(v));
	cr_expect_str_eq(v, "5");
	raw_text(db, "SELECT coalesce(tenant, '-') FROM docs WHERE path = "
	    "'ops/x'", v, sizeof(v));
	cr_expect_str_eq(v, "-");
	put("users/u7/status/trading", "{}");
	raw_text(db, "SELECT tenant FROM docs WHERE path = "
	    "'users/u7/status/trading'", v, sizeof(v));
	cr_expect_str_eq(v, "u7");
	sqlite3_close(db);
}

/* The query plan of q, as EXPLAIN QUERY PLAN details joined by "|". */
static void
query_plan(sqlite3 *db, const struct store_query *q, char *out, size_t size)
{
	char sql[1024], eqp[1100];
	sqlite3_stmt *s;
	size_t off = 0;
	struct tp_err e;

	cr_assert_eq(store_sqlite_query_sql(q, sql, sizeof(sql), &e), 0);
	snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
	cr_assert_eq(sqlite3_prepare_v2(db, eqp, -1, &s, NULL), SQLITE_OK,
	    "%s: %s", eqp, sqlite3_errmsg(db));
	out[0] = '\0';
	while (sqlite3_step(s) == SQLITE_ROW)
		off += (size_t)snprintf(out + off, size - off, "%s|",
		    (const char *)sqlite3_column_text(s, 3));
	sqlite3_finalize(s);
}

Test(sqlite, composite_queries_use_their_indexes)
{
	struct store_query q;
	sqlite3 *db;
	char plan[2048];
	char path[96];
	int i;

	st = test_open(NULL, 0);
	/* some data, so that the plan is not for an empty table only */
	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof(path),
		    "users/u%d/shadowTradeHistory/t%d", i % 5, i);
		put(path, i % 2 ? "{\"status\":\"OPEN\",\"created_at\":"
		    "\"2024-01-01T00:00:00.000000Z\"}" : "{\"status\":"
		    "\"CLOSED\",\"created_at\":\"2024-01-02T00:00:00.000000Z\"}");
		snprintf(path, sizeof(path), "users/u%d/signals/s%d", i % 5, i);
		put(path, "{\"timestamp\":\"2024-01-01T00:00:00.000000Z\"}");
	}
	db = raw_open();
	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/shadowTradeHistory";
	q.where_field = "status";
	q.where_value = json_object_new_string("OPEN");
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	q.limit = 100;
	query_plan(db, &q, plan, sizeof(plan));
	cr_expect_not_null(strstr(plan, "USING INDEX docs_status_created"),
	    "%s", plan);
	cr_expect_null(strstr(plan, "TEMP B-TREE"), "%s", plan);
	json_object_put(q.where_value);

	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/signals";
	q.order_field = "timestamp";
	q.order = STORE_ORDER_DESC;
	q.limit = 100;
	query_plan(db, &q, plan, sizeof(plan));
	cr_expect_not_null(strstr(plan, "USING INDEX docs_timestamp"), "%s",
	    plan);
	cr_expect_null(strstr(plan, "TEMP B-TREE"), "%s", plan);

	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/shadowTradeHistory";
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	q.limit = 100;
	query_plan(db, &q, plan, sizeof(plan));
	cr_expect_not_null(strstr(plan, "USING INDEX docs_created"), "%s",
	    plan);
	cr_expect_null(strstr(plan, "TEMP B-TREE"), "%s", plan);

	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/signals";
	q.order = STORE_ORDER_ASC;
	q.limit = 100;
	q.start_after = "s1";
	query_plan(db, &q, plan, sizeof(plan));
	cr_expect_not_null(strstr(plan, "docs_parent_id"), "%s", plan);
	cr_expect_null(strstr(plan, "TEMP B-TREE"), "%s", plan);
	sqlite3_close(db);
}

Test(sqlite, unusable_files_are_unavailable)
{
	struct store_params p;
	FILE *f;

	test_params(&p, 0);
	p.path = "/nonexistent-tp-dir/store.db";
	cr_expect_null(store_open(&p, NULL, &err));
	cr_expect_eq(err.code, TP_UNAVAILABLE, "%s", err.msg);
	f = fopen(dbpath, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database at all\n", f);
	fclose(f);
	test_params(&p, 0);
	cr_expect_null(store_open(&p, NULL, &err));
	cr_expect_eq(err.code, TP_UNAVAILABLE, "%s", err.msg);
	test_params(&p, 0);
	p.path = tmpdir;	/* a directory */
	cr_expect_null(store_open(&p, NULL, &err));
	cr_expect_eq(err.code, TP_UNAVAILABLE, "%s", err.msg);
}

Test(sqlite, locked_database_is_unavailable, .timeout = 60)
{
	sqlite3 *db;
	json_object *o = J("{\"v\":1}");
	struct store_doc doc;

	st = test_open(NULL, 0);
	put("ops/x", "{\"v\":0}");
	db = raw_open();
	raw_exec(db, "BEGIN IMMEDIATE");
	tp_err_clear(&err);
	cr_expect_eq(store_set(st, "ops/x", o, false, &err), -1);
	cr_expect_eq(err.code, TP_UNAVAILABLE, "%s", err.msg);
	/* readers are not blocked by the writer (WAL) */
	cr_expect_eq(store_get(st, "ops/x", &doc, &err), 0, "%s", err.msg);
	store_doc_clear(&doc);
	raw_exec(db, "ROLLBACK");
	sqlite3_close(db);
	cr_expect_eq(store_set(st, "ops/x", o, false, &err), 0, "%s", err.msg);
	json_object_put(o);
	expect_doc("ops/x", "{\"v\":1}");
}

Test(sqlite, newer_schema_is_refused)
{
	sqlite3 *db;

	st = test_open(NULL, 0);
	store_free(st);
	st = NULL;
	db = raw_open();
	raw_exec(db, "PRAGMA user_version = 99");
	sqlite3_close(db);
	{
		struct store_params p;

		test_params(&p, 0);
		cr_expect_null(store_open(&p, NULL, &err));
		cr_expect_eq(err.code, TP_FAILED_PRECONDITION, "%s", err.msg);
	}
}

Test(sqlite, corrupt_rows_are_internal_errors)
{
	struct store_doclist list;
	struct store_doc doc;
	sqlite3 *db;

	st = test_open(NULL, 0);
	put("ops/items/good/x", "{}");
	db = raw_open();
	/* SQLite's own JSON checks keep out malformed text, so corrupt here
	 * means valid JSON that is no document: not a map, or too deep */
	raw_exec(db, "INSERT INTO docs (path, parent, id, tenant, data,"
	    " update_time) VALUES ('ops/bad', 'ops', 'bad', NULL,"
	    " '[1]', '2024-01-01T00:00:00.000000Z')");
	raw_exec(db, "INSERT INTO docs (path, parent, id, tenant, data,"
	    " update_time) VALUES ('ops/deep', 'ops', 'deep', NULL,"
	    " '{\"a\":' || replace(printf('%.100c', '.'), '.', '[') || "
	    "replace(printf('%.100c', '.'), '.', ']') || '}',"
	    " '2024-01-01T00:00:00.000000Z')");
	sqlite3_close(db);
	tp_err_clear(&err);
	cr_expect_eq(store_get(st, "ops/bad", &doc, &err), -1);
	cr_expect_eq(err.code, TP_INTERNAL, "%s", err.msg);
	tp_err_clear(&err);
	cr_expect_eq(store_get(st, "ops/deep", &doc, &err), -1);
	cr_expect_eq(err.code, TP_INTERNAL, "%s", err.msg);
	cr_expect_not_null(strstr(err.msg, "too deep"), "%s", err.msg);
	cr_expect_eq(store_list(st, "ops", 0, NULL, &list, &err), -1);
	cr_expect_eq(err.code, TP_INTERNAL, "%s", err.msg);
	cr_expect_eq(list.n, 0);
	/* a merge into a document that is no map fails and leaves it */
	{
		json_object *o = J("{\"a\":1}");
		char v[64];

		tp_err_clear(&err);
		cr_expect_eq(store_set(st, "ops/bad", o, true, &err), -1);
		cr_expect_eq(err.code, TP_INTERNAL, "%s", err.msg);
		cr_expect_not_null(strstr(err.msg, "not a map"), "%s", err.msg);
		json_object_put(o);
		db = raw_open();
		raw_text(db, "SELECT data FROM docs WHERE path = 'ops/bad'", v,
		    sizeof(v));
		cr_expect_str_eq(v, "[1]");
		sqlite3_close(db);
	}
}

/* The stored text of path, read with SQL. */
static void
raw_data(const char *path, char *out, size_t size)
{
	sqlite3 *db = raw_open();
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT data FROM docs WHERE path = '%s'",
	    path);
	raw_text(db, sql, out, size);
	sqlite3_close(db);
}

Test(sqlite, merged_text_is_compact_and_exact)
{
	char text[512];
	struct store_doc doc;

	st = test_open(NULL, 0);
	put("users/u1/shadowTradeHistory/t1", "{\"symbol\":\"BRK.B\","
	    "\"note\":\"a/b \\\"q\\\" \\u00e9\\n\",\"qty\":3.50,"
	    "\"pnl_error\":{\"code\":\"x\"}}");
	merge("users/u1/shadowTradeHistory/t1", "{\"current_price\":370.01,"
	    "\"unrealized_pnl\":-20.0020,\"equity\":122011.09751111286868,"
	    "\"pnl_error\":null,\"m\":{\"k\":[1,{\"z\":0.5}]}}");
	raw_data("users/u1/shadowTradeHistory/t1", text, sizeof(text));
	/* SQLite's json_patch keeps every number's text and every
	 * string's escapes as json-c wrote them, without spaces */
	cr_expect_str_eq(text, "{\"symbol\":\"BRK.B\",\"note\":"
	    "\"a/b \\\"q\\\" \u00e9\\n\",\"qty\":3.50,"
	    "\"current_price\":370.01,\"unrealized_pnl\":-20.0020,"
	    "\"equity\":122011.09751111286868,\"m\":{\"k\":[1,{\"z\":0.5}]}}");
	/* and json-c reads it back to the same text */
	cr_assert_eq(store_get(st, "users/u1/shadowTradeHistory/t1", &doc,
	    &err), 0, "%s", err.msg);
	cr_expect_str_eq(json_compact(doc.data, NULL), text);
	store_doc_clear(&doc);
}

/* The ids query q finds, comma-separated. */
static void
query_ids(const struct store_query *q, char *out, size_t size)
{
	struct store_doclist list;

	cr_assert_eq(store_query(st, q, &list, &err), 0, "query %s: %s",
	    q->collection, err.msg);
	ids_of(&list, out, size);
	store_doclist_free(&list);
}

/*
 * The keyed collections (shadowTradeHistory, signals) answer queries on
 * status, created_at and timestamp from key columns: whatever the writes,
 * they must find exactly what the same query finds in a collection that
 * has none.
 */
Test(sqlite, keyed_collections_query_like_any_other)
{
	static const char *const colls[] = { "users/k/items",
	    "users/k/shadowTradeHistory", "users/k/signals" };
	static const char *const docs[][2] = {
		{ "a", "{\"status\":\"OPEN\",\"created_at\":\"2024-01-03\","
		    "\"timestamp\":3}" },
		{ "b", "{\"status\":\"CLOSED\",\"created_at\":\"2024-01-01\","
		    "\"timestamp\":1.5}" },
		{ "c", "{\"status\":\"OPEN\",\"created_at\":\"2024-01-02\"}" },
		{ "d", "{\"status\":true,\"created_at\":2,\"timestamp\":\"t\"}" },
		{ "e", "{\"status\":1,\"created_at\":null,\"timestamp\":"
		    "{\"x\":1}}" },
		{ "f", "{\"status\":null,\"timestamp\":[1]}" },
		{ "g", "{\"other\":1}" },
	};
	json_object *vals[] = { json_object_new_string("OPEN"),
	    json_object_new_string("CLOSED"), json_object_new_int(1),
	    json_object_new_double(1.5), json_object_new_boolean(1),
	    json_object_new_int(3), json_object_new_string("2024-01-03"),
	    NULL };
	static const char *const fields[] = { "status", "created_at",
	    "timestamp" };
	struct store_query q;
	struct store_batch *b;
	json_object *o;
	char path[128], want[512], got[512];
	size_t c, i, f, g, v;
	int pass, dir;

	st = test_open(NULL, 0);
	for (pass = 0; pass < 2; pass++) {
		for (c = 0; c < 3; c++) {
			for (i = 0; pass == 0 && i < sizeof(docs) /
			    sizeof(docs[0]); i++) {
				snprintf(path, sizeof(path), "%s/%s", colls[c],
				    docs[i][0]);
				put(path, docs[i][1]);
			}
			if (pass == 0)
				continue;
			/* writes that move the keys: merges that change,
			 * delete and add them, a set without them, a merge
			 * that creates, a delete, a create in a batch */
			snprintf(path, sizeof(path), "%s/a", colls[c]);
			merge(path, "{\"status\":\"CLOSED\",\"x\":1}");
			snprintf(path, sizeof(path), "%s/b", colls[c]);
			merge(path, "{\"created_at\":null,\"timestamp\":null}");
			snprintf(path, sizeof(path), "%s/c", colls[c]);
			put(path, "{\"plain\":true}");
			snprintf(path, sizeof(path), "%s/g", colls[c]);
			merge(path, "{\"status\":\"OPEN\",\"created_at\":"
			    "\"2024-01-05\",\"timestamp\":1}");
			snprintf(path, sizeof(path), "%s/h", colls[c]);
			merge(path, "{\"status\":\"OPEN\",\"timestamp\":2}");
			snprintf(path, sizeof(path), "%s/d", colls[c]);
			cr_assert_eq(store_delete(st, path, &err), 0);
			snprintf(path, sizeof(path), "%s/e", colls[c]);
			merge(path, "{\"pnl\":1.25,\"marked_at\":\"x\"}");
			b = store_batch_new();
			o = J("{\"status\":\"OPEN\",\"created_at\":\"2024-01-04\"}");
			snprintf(path, sizeof(path), "%s/i", colls[c]);
			store_batch_add(b, STORE_W_CREATE, path, o);
			json_object_put(o);
			o = J("{\"timestamp\":1.5}");
			snprintf(path, sizeof(path), "%s/f", colls[c]);
			store_batch_add(b, STORE_W_MERGE, path, o);
			json_object_put(o);
			cr_assert_eq(store_batch_commit(st, b, &err), 0, "%s",
			    err.msg);
			store_batch_free(b);
		}
		/* every filter and order on the key fields, both ways */
		for (f = 0; f < 3; f++)
		for (v = 0; v < sizeof(vals) / sizeof(vals[0]); v++)
		for (g = 0; g <= 3; g++)
		for (dir = STORE_ORDER_ASC; dir <= STORE_ORDER_DESC; dir++) {
			for (c = 0; c < 3; c++) {
				memset(&q, 0, sizeof(q));
				q.collection = colls[c];
				q.where_field = fields[f];
				q.where_value = vals[v];
				q.order_field = g < 3 ? fields[g] : NULL;
				q.order = (enum store_order)dir;
				query_ids(&q, c == 0 ? want : got,
				    sizeof(want));
				if (c > 0)
					cr_expect_str_eq(got, want, "pass %d, "
					    "%s where %s = %s order %s %d: "
					    "[%s], plain [%s]", pass,
					    colls[c], fields[f],
					    json_compact(vals[v], NULL),
					    q.order_field != NULL ?
					    q.order_field : "id", dir, got,
					    want);
			}
			/* order only */
			for (c = 0; f == 0 && v == 0 && g < 3 && c < 3; c++) {
				memset(&q, 0, sizeof(q));
				q.collection = colls[c];
				q.order_field = fields[g];
				q.order = (enum store_order)dir;
				query_ids(&q, c == 0 ? want : got,
				    sizeof(want));
				if (c > 0)
					cr_expect_str_eq(got, want, "pass %d, "
					    "%s order by %s %d: [%s], plain "
					    "[%s]", pass, colls[c], fields[g],
					    dir, got, want);
			}
		}
	}
	/* sanity: the queries are not all empty */
	memset(&q, 0, sizeof(q));
	q.collection = colls[1];
	q.where_field = "status";
	q.where_value = vals[0];
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	query_ids(&q, got, sizeof(got));
	cr_expect_str_eq(got, "g,i", "%s", got);
	for (v = 0; v < sizeof(vals) / sizeof(vals[0]); v++)
		json_object_put(vals[v]);
}

/* The schema of version 1, as the first release created it. */
static const char v1_schema[] =
	"CREATE TABLE docs ("
	"  path TEXT PRIMARY KEY NOT NULL,"
	"  parent TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  tenant TEXT,"
	"  data TEXT NOT NULL,"
	"  update_time TEXT NOT NULL"
	") STRICT;"
	"CREATE UNIQUE INDEX docs_parent_id ON docs(parent, id);"
	"CREATE INDEX docs_tenant ON docs(tenant);"
	"CREATE INDEX docs_status_created ON docs(parent,"
	"  json_extract(data, '$.status'), json_extract(data, '$.created_at'),"
	"  id);"
	"CREATE INDEX docs_created ON docs(parent,"
	"  json_extract(data, '$.created_at'), id);"
	"CREATE INDEX docs_timestamp ON docs(parent,"
	"  json_extract(data, '$.timestamp'), id);"
	"PRAGMA user_version = 1;";

Test(sqlite, version_1_database_migrates)
{
	struct store_query q;
	sqlite3 *db;
	char v[256], plan[2048];
	int i;

	/* a database the previous release wrote */
	cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	raw_exec(db, "PRAGMA journal_mode = WAL");
	raw_exec(db, v1_schema);
	raw_exec(db, "BEGIN");
	for (i = 0; i < 6; i++) {
		char sql[512];

		snprintf(sql, sizeof(sql), "INSERT INTO docs VALUES ("
		    "'users/u1/shadowTradeHistory/t%d', "
		    "'users/u1/shadowTradeHistory', 't%d', 'u1', "
		    "'{\"status\":\"%s\",\"created_at\":\"2024-01-0%d\","
		    "\"pnl_error\":null}', '2024-01-01T00:00:00.000000Z')",
		    i, i, i % 2 ? "CLOSED" : "OPEN", i + 1);
		raw_exec(db, sql);
		snprintf(sql, sizeof(sql), "INSERT INTO docs VALUES ("
		    "'users/u1/signals/s%d', 'users/u1/signals', 's%d', 'u1', "
		    "'{\"timestamp\":\"2024-02-0%d\"}', "
		    "'2024-01-01T00:00:00.000000Z')", i, i, 6 - i);
		raw_exec(db, sql);
	}
	raw_exec(db, "INSERT INTO docs VALUES ('users/u1/data/snapshot', "
	    "'users/u1/data', 'snapshot', 'u1', '{\"status\":\"ACTIVE\"}', "
	    "'2024-01-01T00:00:00.000000Z')");
	raw_exec(db, "COMMIT");
	sqlite3_close(db);

	st = test_open(NULL, 0);
	db = raw_open();
	raw_text(db, "PRAGMA user_version", v, sizeof(v));
	cr_expect_str_eq(v, "2");
	raw_text(db, "SELECT count(*) FROM docs", v, sizeof(v));
	cr_expect_str_eq(v, "13");
	/* the key columns were filled for the keyed collections only */
	raw_text(db, "SELECT group_concat(coalesce(k_status, '-') || '/' || "
	    "coalesce(k_created_at, '-') || '/' || coalesce(k_timestamp, '-'),"
	    " ' ') FROM (SELECT * FROM docs ORDER BY path)", v, sizeof(v));
	cr_expect_str_eq(v, "-/-/- OPEN/2024-01-01/- CLOSED/2024-01-02/- "
	    "OPEN/2024-01-03/- CLOSED/2024-01-04/- OPEN/2024-01-05/- "
	    "CLOSED/2024-01-06/- -/-/2024-02-06 -/-/2024-02-05 -/-/2024-02-04 "
	    "-/-/2024-02-03 -/-/2024-02-02 -/-/2024-02-01");
	/* the old documents answer the seed's queries, through the indexes */
	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/shadowTradeHistory";
	q.where_field = "status";
	q.where_value = json_object_new_string("OPEN");
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	expect_query(&q, "t4,t2,t0");
	query_plan(db, &q, plan, sizeof(plan));
	cr_expect_not_null(strstr(plan, "USING INDEX docs_status_created"),
	    "%s", plan);
	json_object_put(q.where_value);
	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/signals";
	q.order_field = "timestamp";
	q.order = STORE_ORDER_ASC;
	q.limit = 3;
	expect_query(&q, "s5,s4,s3");
	query_plan(db, &q, plan, sizeof(plan));
	cr_expect_not_null(strstr(plan, "USING INDEX docs_timestamp"), "%s",
	    plan);
	/* and they take writes: a mark, a close */
	merge("users/u1/shadowTradeHistory/t0", "{\"unrealized_pnl\":370.01,"
	    "\"pnl_error\":null}");
	expect_doc("users/u1/shadowTradeHistory/t0", "{\"status\":\"OPEN\","
	    "\"created_at\":\"2024-01-01\",\"unrealized_pnl\":370.01}");
	merge("users/u1/shadowTradeHistory/t4", "{\"status\":\"CLOSED\"}");
	memset(&q, 0, sizeof(q));
	q.collection = "users/u1/shadowTradeHistory";
	q.where_field = "status";
	q.where_value = json_object_new_string("OPEN");
	q.order_field = "created_at";
	q.order = STORE_ORDER_DESC;
	expect_query(&q, "t2,t0");
	json_object_put(q.where_value);
	sqlite3_close(db);
	/* opening again migrates nothing more */
	store_free(st);
	st = test_open(NULL, 0);
	expect_doc("users/u1/data/snapshot", "{\"status\":\"ACTIVE\"}");
}

Test(sqlite, commit_many_isolates_a_failing_batch)
{
	struct store_batch *b[4];
	struct tp_err errs[4];
	json_object *o, *big, *open_;
	int rcs[4];
	size_t i;

	st = test_open(NULL, 0);
	put("ops/big", "{\"v\":0}");
	for (i = 0; i < 4; i++)
		b[i] = store_batch_new();
	o = J("{\"pnl\":370.01,\"pnl_error\":null}");
	big = doc_of_size(STORE_DOC_MAX - 4);
	store_batch_add(b[0], STORE_W_MERGE, "users/u1/shadowTradeHistory/t1",
	    o);
	store_batch_add(b[0], STORE_W_DELETE, "users/u1/status/x", NULL);
	/* batch 1: its first write lands, its second overflows the limit:
	 * neither stays */
	store_batch_add(b[1], STORE_W_MERGE, "users/u2/shadowTradeHistory/t1",
	    o);
	store_batch_add(b[1], STORE_W_MERGE, "ops/big", big);
	store_batch_add(b[2], STORE_W_MERGE, "users/u3/shadowTradeHistory/t1",
	    o);
	/* batch 3 merges into what batch 0 wrote */
	open_ = J("{\"status\":\"OPEN\"}");
	store_batch_add(b[3], STORE_W_MERGE, "users/u1/shadowTradeHistory/t1",
	    open_);
	json_object_put(open_);
	cr_assert_eq(store_batch_commit_many(st, b, 4, rcs, errs), 0);
	cr_expect_eq(rcs[0], 0, "%s", errs[0].msg);
	cr_expect_eq(rcs[1], -1);
	cr_expect_eq(errs[1].code, TP_INVALID_ARGUMENT, "%s", errs[1].msg);
	cr_expect_not_null(strstr(errs[1].msg, "more than the limit"), "%s",
	    errs[1].msg);
	cr_expect_eq(rcs[2], 0, "%s", errs[2].msg);
	cr_expect_eq(rcs[3], 0, "%s", errs[3].msg);
	expect_doc("users/u1/shadowTradeHistory/t1", "{\"pnl\":370.01,"
	    "\"status\":\"OPEN\"}");
	expect_missing("users/u2/shadowTradeHistory/t1");
	expect_doc("ops/big", "{\"v\":0}");
	expect_doc("users/u3/shadowTradeHistory/t1", "{\"pnl\":370.01}");
	for (i = 0; i < 4; i++)
		store_batch_free(b[i]);
	json_object_put(o);
	json_object_put(big);
}

Test(sqlite, data_survives_reopen)
{
	char **uids;
	size_t n;

	st = test_open(NULL, 0);
	put("users/u1/status/trading", "{\"enabled\":true}");
	store_free(st);
	st = test_open(NULL, 0);
	expect_doc("users/u1/status/trading", "{\"enabled\":true}");
	cr_assert_eq(store_list_tenants(st, 0, NULL, &uids, &n, &err), 0);
	cr_expect_eq(n, 1);
	store_strings_free(uids, n);
	/* the sync_full setting opens the same file */
	store_free(st);
	{
		struct store_params p;

		test_params(&p, 0);
		p.sync_full = true;
		st = store_open(&p, NULL, &err);
		cr_assert_not_null(st, "%s", err.msg);
	}
	expect_doc("users/u1/status/trading", "{\"enabled\":true}");
}

/* --- jsonutil: the parsing and merging the store's documents rely on --- */

Test(jsonutil, parse_accepts_exact_json)
{
	static const char *const good[] = {
		"{}", " {\"a\":1} \n", "[1,2]", "\"s\"", "123", "-1.5e3",
		"true", "{\"a\":\"caf\xc3\xa9\",\"b\":[null]}",
		"[\"it's \\\"q\\\" \\\\ \\u00e9 \xf0\x9f\x98\x80\",0.5,-0,1E+2]",
	};
	struct tp_err e;
	json_object *o;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		o = json_parse(good[i], strlen(good[i]), &e);
		cr_expect_not_null(o, "%s: %s", good[i], e.msg);
		json_object_put(o);
	}
	/* exactly len bytes are parsed, whatever follows */
	o = json_parse("{\"a\":1}garbage", 7, &e);
	cr_assert_not_null(o, "%s", e.msg);
	cr_expect_eq(json_object_object_length(o), 1);
	json_object_put(o);
	o = json_parse("12345", 3, &e);
	cr_assert_not_null(o, "%s", e.msg);
	cr_expect_eq(json_object_get_int(o), 123);
	json_object_put(o);
}

Test(jsonutil, parse_rejects_with_offsets)
{
	static const struct {
		const char *text;
		size_t len;
		const char *offset;	/* expected "offset N", or NULL */
	} bad[] = {
		{ "", 0, "offset 0" },
		{ "   ", 3, NULL },
		{ "{\"a\":1} x", 9, "offset 8" },
		{ "{\"a\":1}{}", 9, "offset 7" },
		{ "{\"a\":1", 6, "offset 6" },
		{ "{\"a\":1}\0", 8, "offset 7" },
		{ "{\"a\":\"x\0y\"}", 11, "offset 7" },
		{ "[\"a\tb\"]", 7, "offset 3" },
		{ "[1.]", 4, "offset 2" },
		{ "[1.e5]", 6, "offset 2" },
		{ "[Infinity]", 10, NULL },
		{ "[\"\xed\xa0\x80\"]", 7, "offset 2" },
		{ "[\"\xf4\x90\x80\x80\"]", 8, "offset 2" },
		{ "[\"\xe2\x82\"]", 6, "offset 2" },
		{ "/*c*/{}", 7, NULL },
		{ "{\"a\":1,}", 8, NULL },
		{ "[01]", 4, NULL },
		{ "{'a':1}", 7, NULL },
		{ "[1,]", 4, NULL },
		{ "nan", 3, NULL },
		{ "NaN", 3, NULL },
		{ "[1e999]", 7, NULL },
		{ "\"\xff\"", 3, NULL },
		{ "\"\xc0\xaf\"", 4, "offset 1" },
		{ "null", 4, NULL },
		{ "{\"a\" 1}", 7, NULL },
		{ "tru", 3, NULL },
	};
	struct tp_err e;
	json_object *o;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_err_clear(&e);
		o = json_parse(bad[i].text, bad[i].len, &e);
		cr_expect_null(o, "accepted bad JSON #%zu", i);
		json_object_put(o);
		cr_expect_eq(e.code, TP_INVALID_ARGUMENT, "#%zu", i);
		cr_expect_neq(e.msg[0], '\0', "#%zu", i);
		if (bad[i].offset != NULL)
			cr_expect_not_null(strstr(e.msg, bad[i].offset),
			    "#%zu: \"%s\" lacks %s", i, e.msg, bad[i].offset);
	}
	cr_expect_null(json_parse(NULL, 0, &e));
}

Test(jsonutil, parse_bounds_depth)
{
	char buf[2 * JSON_MAX_DEPTH + 8];
	struct tp_err e;
	json_object *o;
	int i;

	/* JSON_MAX_DEPTH nested arrays, the innermost empty */
	for (i = 0; i < JSON_MAX_DEPTH; i++) {
		buf[i] = '[';
		buf[JSON_MAX_DEPTH + i] = ']';
	}
	o = json_parse(buf, 2 * JSON_MAX_DEPTH, &e);
	cr_expect_not_null(o, "%s", e.msg);
	json_object_put(o);
	/* one more level */
	memmove(buf + 1, buf, 2 * JSON_MAX_DEPTH);
	buf[0] = '[';
	buf[2 * JSON_MAX_DEPTH + 1] = ']';
	o = json_parse(buf, 2 * JSON_MAX_DEPTH + 2, &e);
	cr_expect_null(o);
	cr_expect_not_null(strstr(e.msg, "offset"), "%s", e.msg);
	json_object_put(o);
}

Test(jsonutil, getters_check_types)
{
	json_object *o = J("{\"s\":\"x\",\"i\":7,\"d\":1.5,\"b\":true,"
	    "\"m\":{},\"a\":[]}");
	int64_t v;
	bool b;

	cr_expect_str_eq(json_get_str(o, "s"), "x");
	cr_expect_null(json_get_str(o, "i"));
	cr_expect_null(json_get_str(o, "missing"));
	cr_expect(json_get_int(o, "i", &v) && v == 7);
	cr_expect(!json_get_int(o, "d", &v));
	cr_expect(!json_get_int(o, "s", &v));
	cr_expect(json_get_bool(o, "b", &b) && b);
	cr_expect(!json_get_bool(o, "i", &b));
	cr_expect_not_null(json_get_obj(o, "m"));
	cr_expect_null(json_get_obj(o, "a"));
	cr_expect_null(json_get_str(NULL, "s"));
	cr_expect_null(json_get_obj(json_object_object_get(o, "a"), "x"));
	json_object_put(o);
}

Test(jsonutil, merge_copy_compact)
{
	json_object *dst = J("{\"a\":{\"x\":1,\"y\":[1]},\"b\":1}");
	json_object *src = J("{\"a\":{\"y\":[2],\"z\":{\"k\":\"v/w\"}},"
	    "\"b\":{\"now\":1}}");
	json_object *want = J("{\"a\":{\"x\":1,\"y\":[2],\"z\":{\"k\":"
	    "\"v/w\"}},\"b\":{\"now\":1}}");
	json_object *copy;
	size_t len;

	json_merge(dst, src);
	cr_expect(json_object_equal(dst, want), "%s",
	    json_object_to_json_string(dst));
	/* dst took copies: changing src leaves dst alone */
	json_object_object_add(json_get_obj(src, "b"), "later",
	    json_object_new_int(1));
	cr_expect(json_object_equal(dst, want));
	copy = json_copy(dst);
	cr_assert_not_null(copy);
	json_object_object_del(dst, "a");
	cr_expect(json_object_equal(copy, want));
	cr_expect_str_eq(json_compact(copy, &len), "{\"a\":{\"x\":1,\"y\":[2],"
	    "\"z\":{\"k\":\"v/w\"}},\"b\":{\"now\":1}}");
	cr_expect_eq(len, strlen(json_compact(copy, NULL)));
	json_object_put(copy);
	json_object_put(dst);
	json_object_put(src);
	json_object_put(want);
}

Test(jsonutil, wipe_strings)
{
	json_object *o = J("{\"key_id\":\"PKTEST\",\"secret\":"
	    "\"s3cr3t-value\",\"n\":[\"inner-secret\"]}");
	json_object *s = json_object_object_get(o, "secret");
	const char *p = json_object_get_string(s);
	size_t i;

	/* serialize once, as a write to the store would */
	cr_expect_not_null(strstr(json_compact(o, NULL), "s3cr3t"));
	json_wipe_string(o);
	for (i = 0; i < strlen("s3cr3t-value"); i++)
		cr_expect_eq(p[i], '\0');
	cr_expect_null(strstr(json_object_to_json_string(o), "s3cr3t"));
	cr_expect_null(strstr(json_object_to_json_string(o), "inner"));
	json_object_put(o);
	json_wipe_string(NULL);
}
