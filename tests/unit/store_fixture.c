/* store_fixture.c: the store tests' shared fixture: a fresh store in a temporary folder, and helpers. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "tests/unit/store_fixture.h"
#include "tests/unit/jsontext.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/jsonutil.h"

/*
 * The backend under test is chosen here, in test_params(), and nowhere
 * else: the "store" suite uses only the store.h interface, so the same
 * tests run unchanged against another backend. The "sqlite" suite checks
 * what only the SQLite backend promises (file mode, WAL, query plans).
 *
 * Built with TP_STORE_TEST_FIRESTORE (the *_fs programs), the same suites
 * run on the Firestore emulator at TP_FS_EMULATOR_HOST (make check starts
 * one: tests/emulator.sh), each test in a project of its own, so that the
 * tests start empty and may run in parallel on one emulator.
 */
#ifdef TP_STORE_TEST_FIRESTORE
const enum store_backend backend_under_test = STORE_FIRESTORE;
static char fs_project[64];
#else
const enum store_backend backend_under_test = STORE_SQLITE;
#endif

char tmpdir[64];
char dbpath[128];
struct store *st;
struct tp_err err;

void
test_params(struct store_params *p, int threads)
{
	memset(p, 0, sizeof(*p));
	p->backend = backend_under_test;
	p->threads = threads;
#ifdef TP_STORE_TEST_FIRESTORE
	p->emulator_host = getenv("TP_FS_EMULATOR_HOST");
	p->project_id = fs_project;
#else
	p->path = dbpath;
#endif
}

struct store *
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

#ifdef TP_STORE_TEST_FIRESTORE
/*
 * A project id no other test uses, even on an emulator that outlives this
 * run: Criterion runs each test in a process of its own, and a pid comes
 * back after a while, hence the clock as well.
 */
static void
fixture_new_project(void)
{
	static unsigned counter;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(fs_project, sizeof(fs_project), "t-%ld-%u-%llx",
	    (long)getpid(), counter++, (unsigned long long)ts.tv_sec *
	    1000000000ULL + (unsigned long long)ts.tv_nsec);
}
#endif

void
make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/tp-test-store-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", tmpdir);
#ifdef TP_STORE_TEST_FIRESTORE
	fixture_new_project();
#endif
	tp_err_clear(&err);
}

void
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

void
setup(void)
{
	make_tmpdir();
	st = test_open(NULL, 0);
}

void
teardown(void)
{
	store_free(st);
	st = NULL;
	remove_tmpdir();
}

/* --- helpers --- */

void
put(const char *path, const char *text)
{
	json_object *o = J(text);

	cr_assert_eq(store_set(st, path, o, false, &err), 0, "set %s: %s",
	    path, err.msg);
	json_object_put(o);
}

void
merge(const char *path, const char *text)
{
	json_object *o = J(text);

	cr_assert_eq(store_set(st, path, o, true, &err), 0, "merge %s: %s",
	    path, err.msg);
	json_object_put(o);
}

void
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

void
expect_missing(const char *path)
{
	struct store_doc doc;

	tp_err_clear(&err);
	cr_expect_eq(store_get(st, path, &doc, &err), -1, "%s exists", path);
	cr_expect_eq(err.code, TP_NOT_FOUND, "%s: %s", path, err.msg);
	cr_expect_null(doc.data);
}

/* The ids of list, comma-separated, into buf. */
const char *
ids_of(const struct store_doclist *list, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < list->n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
		    i > 0 ? "," : "", list->docs[i].id);
	return buf;
}

void
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

void
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

void
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
json_object *
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
json_object *
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


/* The compact serialization of path's document as store_get returns it. */
char *
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

#ifdef TP_STORE_TEST_FIRESTORE
/*
 * Criterion's own main, but without an emulator every test of the program
 * is skipped as a whole: exit 77, which automake counts as SKIP (a
 * cr_skip would be counted as a pass), saying why.
 */
int
main(int argc, char *argv[])
{
	struct criterion_test_set *tests;
	const char *host = getenv("TP_FS_EMULATOR_HOST");
	int rc = 0;

	if (host == NULL || *host == '\0') {
		printf("%s: SKIPPED: the store suite on Firestore needs the "
		    "Firestore emulator, and TP_FS_EMULATOR_HOST is empty "
		    "(make check starts one when the emulator and java are "
		    "installed: see tests/emulator.sh)\n", argv[0]);
		return 77;
	}
	tests = criterion_initialize();
	if (criterion_handle_args(argc, argv, true))
		rc = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return rc;
}
#endif
