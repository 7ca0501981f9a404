/* store_fixture.h: the store tests' shared fixture: a fresh store in a temporary folder, and helpers. */
#ifndef TP_TESTS_STORE_FIXTURE_H
#define TP_TESTS_STORE_FIXTURE_H

#include <stddef.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "common/error.h"
#include "common/store.h"
#include "tests/unit/jsontext.h"	/* J() */

/*
 * The backend under test is chosen in store_fixture.c, in test_params(),
 * and nowhere else: the "store" suites use only the store.h interface, so
 * the same tests run unchanged against another backend. Built with
 * TP_STORE_TEST_FIRESTORE (the test_store_*_fs programs), it is the
 * Firestore emulator at TP_FS_EMULATOR_HOST, a fresh project per test
 * (make_tmpdir), and the program skips (exit 77) when that variable is
 * empty.
 */
extern const enum store_backend backend_under_test;

extern char tmpdir[64];
extern char dbpath[128];
extern struct store *st;	/* the store under test (setup opens it) */
extern struct tp_err err;

void test_params(struct store_params *p, int threads);
/* Opens the store at dbpath (Firestore: the test's project) with threads
 * store threads, on base. */
struct store *test_open(struct event_base *base, int threads);
/* A fresh folder (and, on Firestore, a fresh project). */
void make_tmpdir(void);
void remove_tmpdir(void);
/* The "store" suites' init and fini: a fresh store in a fresh folder. */
void setup(void);
void teardown(void);

void put(const char *path, const char *text);
void merge(const char *path, const char *text);
void expect_doc(const char *path, const char *text);
void expect_missing(const char *path);
const char *ids_of(const struct store_doclist *list, char *buf, size_t size);
void expect_query(const struct store_query *q, const char *want);
void expect_where(const char *coll, const char *field, json_object *value,
    const char *want);
void expect_tenants(size_t limit, const char *after, const char *want);
json_object *doc_of_size(size_t total);
json_object *doc_of_depth(int depth);
char *doc_text(const char *path);

#endif
