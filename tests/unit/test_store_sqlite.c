/* test_store_sqlite.c: what only the SQLite backend of the store promises: file mode, WAL, indexes, schema, migration. */
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
#include "common/store_sqlite_int.h"	/* store_sqlite_group_sql */
#include "tests/unit/store_fixture.h"

/* The "sqlite" suite checks what only the SQLite backend promises (file mode,
 * WAL, query plans); its TestSuite is below with its init. */

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
	cr_expect_str_eq(v, "3");
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

/* The pulse's group query of OPEN trades reads only OPEN trades, in
 * order: by docs_group_status, without a sort. */
Test(sqlite, group_query_uses_its_index)
{
	struct store_group_query q;
	sqlite3_stmt *s;
	sqlite3 *db;
	char sql[1024], eqp[1100], plan[2048], path[96];
	size_t off;
	struct tp_err e;
	int i, k;

	st = test_open(NULL, 0);
	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof(path),
		    "users/u%d/shadowTradeHistory/t%d", i % 5, i);
		put(path, i % 2 ? "{\"status\":\"OPEN\"}" :
		    "{\"status\":\"CLOSED\"}");
		snprintf(path, sizeof(path), "users/u%d/status/s%d", i % 5, i);
		put(path, "{}");
	}
	db = raw_open();
	memset(&q, 0, sizeof(q));
	q.collection_id = "shadowTradeHistory";
	q.where_field = "status";
	q.where_value = json_object_new_string("OPEN");
	q.limit = 100;
	for (k = 0; k < 4; k++) {
		q.from_uid = k & 1 ? "u1" : NULL;
		q.to_uid = k & 2 ? "u3" : NULL;
		q.start_after = k == 3 ? "users/u1/shadowTradeHistory/t1" :
		    NULL;
		cr_assert_eq(store_sqlite_group_sql(&q, sql, sizeof(sql), &e),
		    0);
		snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
		cr_assert_eq(sqlite3_prepare_v2(db, eqp, -1, &s, NULL),
		    SQLITE_OK, "%s: %s", eqp, sqlite3_errmsg(db));
		off = 0;
		plan[0] = '\0';
		while (sqlite3_step(s) == SQLITE_ROW)
			off += (size_t)snprintf(plan + off, sizeof(plan) - off,
			    "%s|", (const char *)sqlite3_column_text(s, 3));
		sqlite3_finalize(s);
		cr_expect_not_null(strstr(plan, "USING INDEX docs_group_status "
		    "(k_status=?"), "%s", plan);
		cr_expect_null(strstr(plan, "TEMP B-TREE"), "%s", plan);
	}
	json_object_put(q.where_value);
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
	cr_expect_str_eq(v, "3");
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

/* The SQLite backend measures a document as its compact JSON: exactly
 * STORE_DOC_MAX bytes fit, one more does not, before or after a merge. */
Test(sqlite, document_size_limit_exact)
{
	json_object *o, *small;

	st = test_open(NULL, 0);

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
