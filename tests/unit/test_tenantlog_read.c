/* test_tenantlog_read.c: tenant log lines parsed back, the last N lines, filters, following across rotations. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tenantlog.h"
#include "common/tenantlog_read.h"

#define UID "k3JhG8sP2QaZr7XyT1mNb0VwLc9d"

static char tmpdir[64];
static char tenants[128];

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/tp-test-tlogr-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(tenants, sizeof(tenants), "%s/tenants", tmpdir);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct tenantlog *
open_log(uint64_t max, unsigned keep)
{
	struct tp_err err = { 0 };
	struct tenantlog *tl = tenantlog_open(tmpdir, max, keep, &err);

	cr_assert_not_null(tl, "tenantlog_open: %s", err.msg);
	return tl;
}

static void
put(struct tenantlog *tl, enum tlog_level lvl, const char *job,
    const char *event, const char *msg)
{
	struct tp_err err = { 0 };

	cr_assert_eq(tenantlog_write(tl, UID, lvl, job, event, msg, &err), 0,
	    "write: %s", err.msg);
}

static void
reader(struct tlog_read *r, unsigned keep)
{
	memset(r, 0, sizeof(*r));
	r->dir = tenants;
	r->uid = UID;
	r->keep = keep;
	r->scan_max = 4 << 20;
	r->budget = 200 * 1024;
}

static int
parse(const char *line, struct tlog_entry *e)
{
	struct tp_err err = { 0 };

	return tenantlog_parse(line, strlen(line), e, &err);
}

Test(tenantlog_read, parses_what_was_written, .init = setup,
    .fini = teardown)
{
	const char *msg = "a\\b\nc\td\x01\x7f \xc2\x85 \xe2\x80\xa8 \xff é";
	struct tenantlog *tl = open_log(1 << 20, 3);
	struct tlog_read r;
	struct tp_err err = { 0 };

	put(tl, TLOG_WARN, "job-1.a:b", "sync", msg);
	put(tl, TLOG_INFO, NULL, "pulse", "");
	reader(&r, 3);
	cr_assert_eq(tenantlog_read_tail(&r, 10, &err), 0, "%s", err.msg);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.lines[0].level, TLOG_WARN);
	cr_assert_str_eq(r.lines[0].job, "job-1.a:b");
	cr_assert_str_eq(r.lines[0].event, "sync");
	/* the byte that was not UTF-8 comes back as U+FFFD */
	cr_assert_str_eq(r.lines[0].msg,
	    "a\\b\nc\td\x01\x7f \xc2\x85 \xe2\x80\xa8 \xef\xbf\xbd é");
	cr_assert_str_eq(r.lines[1].job, "");
	cr_assert_str_eq(r.lines[1].msg, "");
	cr_assert_eq(r.malformed, 0);
	cr_assert(!r.truncated);
	tenantlog_read_free(&r);
	tenantlog_free(tl);
}

Test(tenantlog_read, escape_round_trip)
{
	const char *msg = "x\\n\x1b[31m\r\n";
	char line[256], esc[128];
	struct tlog_entry e;
	bool all;

	tenantlog_escape(esc, sizeof(esc), msg, &all);
	cr_assert(all);
	cr_assert_str_eq(esc, "x\\\\n\\x1b[31m\\r\\n");
	snprintf(line, sizeof(line), "2026-12-06T15:04:05.000001Z ERROR - "
	    "crash %s", esc);
	cr_assert_eq(parse(line, &e), 0);
	cr_assert_str_eq(e.msg, msg);
	cr_assert_eq(e.level, TLOG_ERROR);
	cr_assert_str_eq(e.time, "2026-12-06T15:04:05.000001Z");
	free(e.msg);
}

Test(tenantlog_read, refuses_malformed_lines)
{
	static const char *const bad[] = {
		"",
		"2026-12-06T15:04:05Z INFO - sync m",		/* no fraction */
		"2026-12-06 15:04:05.000001Z INFO - sync m",
		"2026-13-06T15:04:05.000001Z INFO - sync m",	/* month */
		"2026-12-06T15:04:05.000001Z info - sync m",	/* level case */
		"2026-12-06T15:04:05.000001Z NOTICE - sync m",
		"2026-12-06T15:04:05.000001Z INFO - sync",	/* ok below */
		"2026-12-06T15:04:05.000001Z INFO -",		/* no event */
		"2026-12-06T15:04:05.000001Z INFO  - sync m",	/* two blanks */
		"2026-12-06T15:04:05.000001Z INFO j/1 sync m",	/* job char */
		"2026-12-06T15:04:05.000001Z INFO - sy:nc m",	/* event char */
		"2026-12-06T15:04:05.000001Z INFO - sync ",	/* blank, no msg */
		"2026-12-06T15:04:05.000001Z INFO - sync a\\q",	/* escape */
		"2026-12-06T15:04:05.000001Z INFO - sync a\\",
		"2026-12-06T15:04:05.000001Z INFO - sync a\\x4",
		"2026-12-06T15:04:05.000001Z INFO - sync a\\x41",	/* printable */
		"2026-12-06T15:04:05.000001Z INFO - sync a\\x0a",	/* is \n */
		"2026-12-06T15:04:05.000001Z INFO - sync a\\u0041",
		"2026-12-06T15:04:05.000001Z INFO - sync a\tb",	/* raw tab */
	};
	struct tlog_entry e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc = parse(bad[i], &e);

		if (i == 6) {
			cr_assert_eq(rc, 0, "%s", bad[i]);
			free(e.msg);
			continue;
		}
		cr_assert_eq(rc, -1, "accepted: %s", bad[i]);
		cr_assert_null(e.msg);
	}
}

Test(tenantlog_read, since_forms)
{
	struct tp_err err = { 0 };
	char out[TLOG_TIME_LEN + 1];
	int64_t now = 1765033445;	/* 2025-12-06T15:04:05Z */

	cr_assert_eq(tenantlog_since("2026-12-06T15:04:05Z", 0, out, &err), 0);
	cr_assert_str_eq(out, "2026-12-06T15:04:05.000000Z");
	cr_assert_eq(tenantlog_since("2026-12-06T17:04:05.25+02:00", 0, out,
	    &err), 0);
	cr_assert_str_eq(out, "2026-12-06T15:04:05.250000Z");
	cr_assert_eq(tenantlog_since("2024-03-01T00:30:00-01:00", 0, out,
	    &err), 0);
	cr_assert_str_eq(out, "2024-03-01T01:30:00.000000Z");
	cr_assert_eq(tenantlog_since("10m", now, out, &err), 0);
	cr_assert_str_eq(out, "2025-12-06T14:54:05.000000Z");
	cr_assert_eq(tenantlog_since("2h", now, out, &err), 0);
	cr_assert_str_eq(out, "2025-12-06T13:04:05.000000Z");
	cr_assert_eq(tenantlog_since("1d", now, out, &err), 0);
	cr_assert_str_eq(out, "2025-12-05T15:04:05.000000Z");
	cr_assert_eq(tenantlog_since("10", now, out, &err), -1);
	cr_assert_eq(tenantlog_since("m", now, out, &err), -1);
	cr_assert_eq(tenantlog_since("-5m", now, out, &err), -1);
	cr_assert_eq(tenantlog_since("10w", now, out, &err), -1);
	cr_assert_eq(tenantlog_since("99999999999d", now, out, &err), -1);
	cr_assert_eq(tenantlog_since("2026-12-06T15:04:05", 0, out, &err), -1);
	cr_assert_eq(tenantlog_since("2026-12-06T15:04:05+2:00", 0, out,
	    &err), -1);
	cr_assert_eq(tenantlog_since("2026-12-06T25:04:05Z", 0, out, &err),
	    -1);
	cr_assert_eq(tenantlog_since("", 0, out, &err), -1);
}

Test(tenantlog_read, cursor_text)
{
	struct tlog_cursor c = { 2049, 123456789, 42, 1765033445000001 }, d;
	char buf[TLOG_CURSOR_MAX];

	tenantlog_cursor_format(&c, buf, sizeof(buf));
	cr_assert_eq(tenantlog_cursor_parse(buf, &d), 0);
	cr_assert_eq(d.dev, 2049);
	cr_assert_eq(d.ino, 123456789);
	cr_assert_eq(d.off, 42);
	cr_assert_eq(d.birth, 1765033445000001);
	cr_assert_eq(tenantlog_cursor_parse("1:0:0:0:0", &d), 0);
	cr_assert_eq(tenantlog_cursor_parse("1:0:0:0", &d), -1);
	cr_assert_eq(tenantlog_cursor_parse("2:1:2:3:4", &d), -1);
	cr_assert_eq(tenantlog_cursor_parse("1:1:2", &d), -1);
	cr_assert_eq(tenantlog_cursor_parse("1:1:2:3:4:5", &d), -1);
	cr_assert_eq(tenantlog_cursor_parse("1:01:2:3:4", &d), -1);
	cr_assert_eq(tenantlog_cursor_parse("1:1:2:-3:4", &d), -1);
	cr_assert_eq(tenantlog_cursor_parse("1:1:2:18446744073709551616:4", &d),
	    -1);
	cr_assert_eq(tenantlog_cursor_parse(NULL, &d), -1);
}

/* n across rotated files, and the filters */
Test(tenantlog_read, tail_and_filters, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(400, 10);
	struct tlog_read r;
	struct tp_err err = { 0 };
	char msg[32];
	int i;

	for (i = 0; i < 40; i++) {
		snprintf(msg, sizeof(msg), "line %d", i);
		put(tl, i % 4 == 0 ? TLOG_ERROR : TLOG_INFO,
		    i % 5 == 0 ? "j5" : "j", "sync", msg);
	}
	reader(&r, 10);
	cr_assert_eq(tenantlog_read_tail(&r, 25, &err), 0, "%s", err.msg);
	cr_assert_eq(r.n, 25);
	cr_assert_str_eq(r.lines[0].msg, "line 15");
	cr_assert_str_eq(r.lines[24].msg, "line 39");
	cr_assert(!r.truncated);
	cr_assert_neq(r.cursor.ino, 0);
	tenantlog_read_free(&r);

	/* more than there are: all of them, oldest first */
	reader(&r, 10);
	cr_assert_eq(tenantlog_read_tail(&r, 1000, &err), 0);
	cr_assert_eq(r.n, 40);
	cr_assert_str_eq(r.lines[0].msg, "line 0");
	cr_assert(!r.truncated);
	tenantlog_read_free(&r);

	reader(&r, 10);
	r.filter.min_level = TLOG_WARN;
	cr_assert_eq(tenantlog_read_tail(&r, 1000, &err), 0);
	cr_assert_eq(r.n, 10);
	for (i = 0; i < 10; i++)
		cr_assert_eq(r.lines[i].level, TLOG_ERROR);
	tenantlog_read_free(&r);

	reader(&r, 10);
	r.filter.job = "j5";
	cr_assert_eq(tenantlog_read_tail(&r, 3, &err), 0);
	cr_assert_eq(r.n, 3);
	cr_assert_str_eq(r.lines[0].msg, "line 25");
	cr_assert_str_eq(r.lines[2].msg, "line 35");
	tenantlog_read_free(&r);

	/* the scan bound: fewer lines, said so */
	reader(&r, 10);
	r.scan_max = 300;
	cr_assert_eq(tenantlog_read_tail(&r, 1000, &err), 0);
	cr_assert(r.truncated);
	cr_assert_gt(r.n, 0);
	cr_assert_lt(r.n, 40);
	cr_assert_str_eq(r.lines[r.n - 1].msg, "line 39");
	tenantlog_read_free(&r);

	/* the reply's budget keeps the newest */
	reader(&r, 10);
	r.budget = 3 * 150;
	cr_assert_eq(tenantlog_read_tail(&r, 1000, &err), 0);
	cr_assert(r.truncated);
	cr_assert_geq(r.n, 1);
	cr_assert_str_eq(r.lines[r.n - 1].msg, "line 39");
	tenantlog_read_free(&r);
	tenantlog_free(tl);
}

Test(tenantlog_read, since_filter, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(300, 10);
	struct tlog_read r;
	struct tp_err err = { 0 };
	char since[TLOG_TIME_LEN + 1];
	int i;

	for (i = 0; i < 10; i++)
		put(tl, TLOG_INFO, NULL, "old", "before");
	usleep(20000);
	for (i = 0; i < 10; i++)
		put(tl, TLOG_INFO, NULL, "new", "after");
	/* since the first new line: the old ones are 20 ms older */
	reader(&r, 10);
	cr_assert_eq(tenantlog_read_tail(&r, 10, &err), 0);
	cr_assert_eq(r.n, 10);
	cr_assert_str_eq(r.lines[0].event, "new");
	snprintf(since, sizeof(since), "%s", r.lines[0].time);
	tenantlog_read_free(&r);
	reader(&r, 10);
	r.filter.since = since;
	cr_assert_eq(tenantlog_read_tail(&r, 1000, &err), 0);
	cr_assert_eq(r.n, 10, "%zu lines, since %s, first %s", r.n, since,
	    r.n > 0 ? r.lines[0].time : "-");
	for (i = 0; i < 10; i++)
		cr_assert_str_eq(r.lines[i].event, "new");
	tenantlog_read_free(&r);
	tenantlog_free(tl);
}

/* a follower sees every line once, whatever the rotations between reads */
Test(tenantlog_read, follow_across_rotation, .init = setup,
    .fini = teardown)
{
	struct tenantlog *tl = open_log(250, 5);
	struct tlog_read r;
	struct tlog_cursor cur;
	struct tp_err err = { 0 };
	char msg[32];
	int i, next = 0, written = 0, round;

	/* no file yet: an empty cursor */
	reader(&r, 5);
	cr_assert_eq(tenantlog_read_tail(&r, 10, &err), 0);
	cr_assert_eq(r.n, 0);
	cur = r.cursor;
	cr_assert_eq(cur.ino, 0);
	tenantlog_read_free(&r);

	for (round = 0; round < 12; round++) {
		/* 0 to 4 lines of about 60 bytes: 0 to 1 rotations */
		for (i = 0; i < round % 5; i++) {
			snprintf(msg, sizeof(msg), "n %d", written++);
			put(tl, TLOG_INFO, NULL, "sync", msg);
		}
		reader(&r, 5);
		cr_assert_eq(tenantlog_read_after(&r, &cur, &err), 0, "%s",
		    err.msg);
		for (i = 0; i < (int)r.n; i++) {
			snprintf(msg, sizeof(msg), "n %d", next++);
			cr_assert_str_eq(r.lines[i].msg, msg);
		}
		cr_assert(!r.truncated);
		cur = r.cursor;
		tenantlog_read_free(&r);
	}
	cr_assert_eq(next, written);

	/* a budget of about one line: the rest comes in later reads */
	for (i = 0; i < 3; i++) {
		snprintf(msg, sizeof(msg), "n %d", written++);
		put(tl, TLOG_INFO, NULL, "sync", msg);
	}
	for (round = 0; round < 5 && next < written; round++) {
		reader(&r, 5);
		r.budget = 150;
		cr_assert_eq(tenantlog_read_after(&r, &cur, &err), 0);
		cr_assert_eq(r.n, 1);
		snprintf(msg, sizeof(msg), "n %d", next++);
		cr_assert_str_eq(r.lines[0].msg, msg);
		cur = r.cursor;
		tenantlog_read_free(&r);
	}
	cr_assert_eq(next, written);
	tenantlog_free(tl);
}

/* a cursor whose file rotated away: the oldest kept, said so */
Test(tenantlog_read, follow_lost_file, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(100, 1);
	struct tlog_read r;
	struct tlog_cursor cur;
	struct tp_err err = { 0 };
	int i;

	put(tl, TLOG_INFO, NULL, "sync", "first");
	reader(&r, 1);
	cr_assert_eq(tenantlog_read_tail(&r, 10, &err), 0);
	cur = r.cursor;
	tenantlog_read_free(&r);
	for (i = 0; i < 4; i++)
		put(tl, TLOG_INFO, NULL, "sync", "a line long enough to rotate");
	reader(&r, 1);
	cr_assert_eq(tenantlog_read_after(&r, &cur, &err), 0);
	cr_assert(r.truncated);
	cr_assert_eq(r.n, 2);	/* .1 and the current file, a line each */
	tenantlog_read_free(&r);
	tenantlog_free(tl);
}

Test(tenantlog_read, refuses_bad_uid, .init = setup, .fini = teardown)
{
	struct tlog_read r;
	struct tp_err err = { 0 };

	reader(&r, 1);
	r.uid = "../etc";
	cr_assert_eq(tenantlog_read_tail(&r, 10, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
}
