/* test_path.c: document/collection path, uid and field validation; automatic ids. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"

/* "users/" + n characters c */
static char *
repeat_path(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);
	char *s = malloc(plen + n + slen + 1);

	cr_assert_not_null(s);
	memcpy(s, prefix, plen);
	memset(s + plen, c, n);
	memcpy(s + plen + n, suffix, slen + 1);
	return s;
}

/* n segments "a/b/a/b..." */
static char *
segments_path(size_t n)
{
	char *s = malloc(n * 2 + 1);
	size_t i;

	cr_assert_not_null(s);
	for (i = 0; i < n; i++) {
		s[i * 2] = i % 2 == 0 ? 'a' : 'b';
		s[i * 2 + 1] = '/';
	}
	s[n * 2 - 1] = '\0';
	return s;
}

static const char *const bad_docs[] = {
	"",
	"/",
	"users",				/* a collection */
	"users/u1/signals",			/* a collection */
	"/users/u1",				/* leading slash */
	"users/u1/",				/* trailing slash */
	"users//u1",				/* empty segment */
	"users/u1//status/x",
	"users/../x",
	"users/u1/status/..",
	"users/./x",
	"users/u1/status/.",
	"users/a b",				/* space */
	"users/u1/status/trad ing",
	"users/\xc3\xa9",			/* non-ASCII uid */
	"ops/caf\xc3\xa9",			/* non-ASCII id */
	"users/a\tb",				/* control characters */
	"users/u1/status/a\nb",
	"ops/a\x7f",
	"users/__x__",				/* reserved */
	"ops/__last__",
	"__c__/x",
	"users/a.b",				/* segment ok, uid not */
	"users/u1/st:atus/x",
	"users/u1/status/a\\b",
	"ops/a%2fb",
	"ops/a'b",
	"ops/a\"b",
	"users/u1/status/*",
	"users/u1/status/x?y",
};

static const char *const good_docs[] = {
	"users/u1",
	"users/AbC-09_z",
	"users/u1/status/trading",
	"users/u1/shadowTradeHistory/8fJ2kLm9QwErTyUiOpAs",
	"users/u1/data/snapshot",
	"ops/last_pulse",
	"ops/crashes/reports/x.y-z",
	"tradingSignals/abc",
	"ops/_x_",
	"ops/__x",
	"ops/x__",
	"ops/...",
	"ops/.x",
	"a/__",
	"a/___",
};

Test(path, bad_documents)
{
	struct tp_err err;
	size_t i;

	for (i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		tp_err_clear(&err);
		cr_expect_eq(path_check_doc(bad_docs[i], &err), -1,
		    "accepted bad document path #%zu \"%s\"", i, bad_docs[i]);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT, "path #%zu", i);
		cr_expect_neq(err.msg[0], '\0', "no message for path #%zu", i);
	}
	cr_expect_eq(path_check_doc(NULL, &err), -1);
	/* error messages never carry the raw control characters */
	cr_assert_eq(path_check_doc("users/a\nb", &err), -1);
	cr_expect_null(strchr(err.msg, '\n'), "%s", err.msg);
}

Test(path, good_documents)
{
	struct tp_err err;
	size_t i;

	for (i = 0; i < sizeof(good_docs) / sizeof(good_docs[0]); i++) {
		tp_err_clear(&err);
		cr_expect_eq(path_check_doc(good_docs[i], &err), 0,
		    "rejected \"%s\": %s", good_docs[i], err.msg);
	}
}

Test(path, length_limits)
{
	struct tp_err err;
	char *p;

	/* a uid of 128 characters is fine, 129 is not */
	p = repeat_path("users/", 'u', 128, "");
	cr_expect_eq(path_check_doc(p, &err), 0, "%s", err.msg);
	free(p);
	p = repeat_path("users/", 'u', 129, "");
	cr_expect_eq(path_check_doc(p, &err), -1);
	free(p);
	p = repeat_path("ops/", 'x', PATH_SEGMENT_MAX, "");
	cr_expect_eq(path_check_doc(p, &err), 0, "%s", err.msg);
	free(p);
	p = repeat_path("ops/", 'x', PATH_SEGMENT_MAX + 1, "");
	cr_expect_eq(path_check_doc(p, &err), -1);
	free(p);
}

Test(path, whole_length_limit)
{
	char buf[PATH_MAX_LEN + 200];
	struct tp_err err;
	size_t i, off = 0;

	/* 8 segments of 128 characters: 1031 bytes */
	for (i = 0; i < 8; i++) {
		memset(buf + off, 'a' + (char)i, 128);
		off += 128;
		buf[off++] = '/';
	}
	buf[off - 1] = '\0';
	cr_expect_gt(strlen(buf), PATH_MAX_LEN);
	cr_expect_eq(path_check_doc(buf, &err), -1);
	/* cut to exactly PATH_MAX_LEN bytes: still 8 segments */
	buf[PATH_MAX_LEN] = '\0';
	cr_expect_eq(path_check_doc(buf, &err), 0, "%s", err.msg);
}

Test(path, depth_limit)
{
	struct tp_err err;
	char *p;

	p = segments_path(PATH_MAX_SEGMENTS);
	cr_expect_eq(path_check_doc(p, &err), 0, "%s", err.msg);
	free(p);
	p = segments_path(PATH_MAX_SEGMENTS + 2);
	cr_expect_eq(path_check_doc(p, &err), -1);
	free(p);
	p = segments_path(PATH_MAX_SEGMENTS - 1);
	cr_expect_eq(path_check_collection(p, &err), 0, "%s", err.msg);
	free(p);
	p = segments_path(PATH_MAX_SEGMENTS + 1);
	cr_expect_eq(path_check_collection(p, &err), -1);
	free(p);
}

Test(path, collections)
{
	static const char *const good[] = {
		"users", "ops", "users/u1/signals",
		"users/u1/shadowTradeHistory", "ops/crashes/x/y/z",
	};
	static const char *const bad[] = {
		"", "users/u1", "ops/last_pulse", "/users", "users/",
		"users//signals", "users/../signals", "users/u 1/signals",
		"__users__", "users/\xc3\xa9/signals", ".", "..",
	};
	struct tp_err err;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(path_check_collection(good[i], &err), 0,
		    "rejected \"%s\": %s", good[i], err.msg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_err_clear(&err);
		cr_expect_eq(path_check_collection(bad[i], &err), -1,
		    "accepted \"%s\"", bad[i]);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	}
}

Test(path, uids)
{
	static const char *const bad[] = {
		"../x", "a/b", "", ".", "..", "\xc3\xa9", "a\xc3\xa9", "a b",
		" a", "a ", "a\tb", "a\nb", "a\x01", "__x__", "a.b", "a:b",
		"a\\b", "a%b", "a'b", "*",
	};
	static const char *const good[] = {
		"a", "Z", "0", "_", "-", "abc-DEF_123", "__x", "x__", "___",
		"kLm9QwErTyUiOpAs8fJ2",
	};
	char doc[512];
	size_t i;
	char *p;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect(!path_valid_uid(bad[i]), "accepted uid \"%s\"",
		    bad[i]);
		/* and such a uid never passes as a tenant path either */
		snprintf(doc, sizeof(doc), "users/%s/status/trading", bad[i]);
		cr_expect_eq(path_check_doc(doc, NULL), -1, "accepted %s",
		    doc);
	}
	cr_expect(!path_valid_uid(NULL));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_expect(path_valid_uid(good[i]), "rejected uid \"%s\"",
		    good[i]);
		snprintf(doc, sizeof(doc), "users/%s/status/trading", good[i]);
		cr_expect_eq(path_check_doc(doc, NULL), 0, "rejected %s", doc);
	}
	p = repeat_path("", 'u', 128, "");
	cr_expect(path_valid_uid(p));
	free(p);
	p = repeat_path("", 'u', 129, "");
	cr_expect(!path_valid_uid(p));
	free(p);
}

Test(path, fields)
{
	static const char *const good[] = {
		"status", "created_at", "a.b", "a.b.c", "A9_", "_", "0",
	};
	static const char *const bad[] = {
		"", ".", "a.", ".a", "a..b", "a-b", "a b", "a/b", "\xc3\xa9",
		"$", "a[0]", "'", "status') OR 1=1 --", "a\"b", "a\n",
		"$.status",
	};
	struct tp_err err;
	size_t i;
	char *p;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(path_check_field(good[i], &err), 0,
		    "rejected field \"%s\": %s", good[i], err.msg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_err_clear(&err);
		cr_expect_eq(path_check_field(bad[i], &err), -1,
		    "accepted field \"%s\"", bad[i]);
		cr_expect_eq(err.code, TP_INVALID_ARGUMENT);
	}
	cr_expect_eq(path_check_field(NULL, &err), -1);
	p = repeat_path("", 'f', 128, "");
	cr_expect_eq(path_check_field(p, &err), 0);
	free(p);
	p = repeat_path("", 'f', 129, "");
	cr_expect_eq(path_check_field(p, &err), -1);
	free(p);
}

Test(path, tenant_of_path)
{
	char uid[UID_MAX_LEN + 1];

	cr_expect(path_tenant("users/u1", uid, sizeof(uid)));
	cr_expect_str_eq(uid, "u1");
	cr_expect(path_tenant("users/u-2/status/trading", uid, sizeof(uid)));
	cr_expect_str_eq(uid, "u-2");
	cr_expect(path_tenant("users/abc/x/y/z/w", uid, sizeof(uid)));
	cr_expect_str_eq(uid, "abc");
	cr_expect(!path_tenant("users", uid, sizeof(uid)));
	cr_expect(!path_tenant("ops/last_pulse", uid, sizeof(uid)));
	cr_expect(!path_tenant("usersx/a", uid, sizeof(uid)));
	cr_expect(!path_tenant("ops/users/a", uid, sizeof(uid)));
	cr_expect(!path_tenant(NULL, uid, sizeof(uid)));
	/* a buffer too small for the uid is refused, not overrun */
	cr_expect(!path_tenant("users/abcdef", uid, 4));
}

static int
cmp_ids(const void *a, const void *b)
{
	return memcmp(a, b, AUTO_ID_LEN + 1);
}

Test(path, auto_ids)
{
	enum { N = 1000 };
	static char ids[N][AUTO_ID_LEN + 1];
	size_t i, j;

	for (i = 0; i < N; i++) {
		memset(ids[i], '#', sizeof(ids[i]));
		path_auto_id(ids[i]);
		cr_assert_eq(strlen(ids[i]), AUTO_ID_LEN);
		for (j = 0; j < AUTO_ID_LEN; j++) {
			char c = ids[i][j];

			cr_assert((c >= 'A' && c <= 'Z') ||
			    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'),
			    "bad id character in %s", ids[i]);
		}
	}
	qsort(ids, N, sizeof(ids[0]), cmp_ids);
	for (i = 1; i < N; i++)
		cr_assert_neq(cmp_ids(ids[i - 1], ids[i]), 0,
		    "duplicate id %s", ids[i]);
}
