/* test_jsonutil.c: json_parse's strictness: duplicate keys, bad text, trailing data, infinite numbers, depth. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"

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
