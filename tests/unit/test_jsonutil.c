/* test_jsonutil.c: json_parse's strictness (duplicate keys, bad text, trailing data, depth), the getters, merge, copy, wipe. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "tests/unit/jsontext.h"

static struct tp_err err;

static void
parses(const char *text)
{
	json_object *o;

	tp_err_clear(&err);
	o = json_parse(text, strlen(text), &err);
	cr_assert_not_null(o, "refused %s: %s", text, err.msg);
	json_object_put(o);
}

/* json_parse refuses text as invalid_argument, saying reason. */
static void
refused(const char *text, const char *reason)
{
	json_object *o;

	tp_err_clear(&err);
	o = json_parse(text, strlen(text), &err);
	cr_assert_null(o, "accepted %s", text);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s", text);
	cr_assert(strstr(err.msg, reason) != NULL,
	    "for %s\ngot  %s\nwant ...%s...", text, err.msg, reason);
}

Test(jsonutil, duplicate_keys_are_refused)
{
	refused("{\"op\":\"status\",\"op\":\"tenant.list\"}",
	    "duplicate key \"op\" in a JSON object");
	refused("{\"a\":1,\"b\":2,\"a\":3}", "duplicate key \"a\"");
	refused("{\"a\":1,\"a\":1}", "duplicate key \"a\"");
	refused("{\"\":1,\"\":2}", "duplicate key \"\"");
	/* the last of many */
	refused("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"d\":5}",
	    "duplicate key \"d\"");
}

Test(jsonutil, escaped_duplicates_are_duplicates)
{
	refused("{\"op\":1,\"o\\u0070\":2}", "duplicate key \"op\"");
	refused("{\"\\u006fp\":1,\"op\":2}", "duplicate key \"op\"");
	refused("{\"a/b\":1,\"a\\/b\":2}", "duplicate key \"a/b\"");
	refused("{\"\\u00e9\":1,\"\xc3\xa9\":2}", "duplicate key \"??\"");
	/* different after unescaping: fine */
	parses("{\"op\":1,\"o\\u0071\":2}");
	parses("{\"a\\\"b\":1,\"a\\\\b\":2,\"ab\":3}");
}

Test(jsonutil, nested_duplicates_are_refused)
{
	refused("{\"args\":{\"uid\":\"a\",\"uid\":\"b\"}}",
	    "duplicate key \"uid\"");
	refused("[1,{\"x\":[{\"k\":1},{\"k\":2,\"k\":3}]}]",
	    "duplicate key \"k\"");
	/* the duplicate's first value held objects: dropped by the parse,
	 * still counted in the text */
	refused("{\"a\":{\"b\":{\"c\":1}},\"a\":2}", "duplicate key \"a\"");
	refused("{\"a\":[{},{}],\"z\":{},\"a\":[]}", "duplicate key \"a\"");
	/* colons and braces inside strings are text, not structure */
	refused("{\"x\":\"a:b{c}\",\"y\":\"}:{\",\"x\":0}",
	    "duplicate key \"x\"");
}

Test(jsonutil, the_same_name_in_different_objects_is_fine)
{
	parses("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}");
	parses("[{\"op\":1},{\"op\":2}]");
	parses("{\"k\":\"x:y\",\"v\":[{\"k\":1},{\"k\":2}],\"w\":{}}");
	parses("{}");
	parses("[]");
	parses("\"a:b\"");
}

Test(jsonutil, an_unprintable_duplicate_name_is_not_echoed)
{
	refused("{\"a\\u0001\":1,\"a\\u0001\":2}", "duplicate key \"a?\"");
}

Test(jsonutil, other_refusals_still_hold)
{
	refused("{\"a\":1} x", "invalid JSON at offset");
	refused("{\"a\":1e999}", "JSON number out of range");
	refused("{'a':1}", "single quote");
	refused("{\"a\":1.}", "digit expected");
	refused("{\"a\":\"\x01\"}", "control character");
	refused("{\"a\":\"\xc0\xaf\"}", "invalid UTF-8");
	refused("null", "JSON null");
	refused("{\"a\":1", "invalid JSON");
}

Test(jsonutil, depth_is_bounded)
{
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1];
	size_t i, n = JSON_MAX_DEPTH + 2;

	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[n + i] = ']';
	}
	deep[2 * n] = '\0';
	refused(deep, "invalid JSON");
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
