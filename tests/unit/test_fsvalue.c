/* test_fsvalue.c: the Firestore value codec both ways (decimals, integers, timestamps, maps, arrays), field paths, merge patches, and what the real emulator accepts and gives back. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/decimal.h"
#include "common/fsvalue.h"
#include "common/jsonutil.h"
#include "tests/unit/jsontext.h"

#define DOC "tenants/t1/trades/x1"

static struct tp_err err;

/* compact text of o; the string lives as long as o */
static const char *
text(json_object *o)
{
	return json_compact(o, NULL);
}

/* One JSON value (as text) encoded: its typed Value's text. */
static void
encodes(const char *in, const char *want)
{
	json_object *v = J(in), *t;

	tp_err_clear(&err);
	t = fsvalue_encode(v, DOC, &err);
	cr_assert_not_null(t, "refused %s: %s", in, err.msg);
	cr_assert_str_eq(text(t), want, "encoding %s", in);
	json_object_put(t);
	json_object_put(v);
}

/* fsvalue_fields refuses the document doc as `code`; the message names
 * the document and the field, never the value (`secret`). */
static void
fields_refused(const char *doc, const char *field, const char *secret)
{
	json_object *v = J(doc), *t;

	tp_err_clear(&err);
	t = fsvalue_fields(v, DOC, &err);
	cr_assert_null(t, "accepted %s", doc);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s: %s", doc, err.msg);
	cr_assert(strstr(err.msg, DOC) != NULL, "no document in: %s",
	    err.msg);
	cr_assert(strstr(err.msg, field) != NULL, "no field %s in: %s", field,
	    err.msg);
	if (secret != NULL)
		cr_assert(strstr(err.msg, secret) == NULL,
		    "the value is in: %s", err.msg);
	json_object_put(v);
}

/* A typed Value (as a reply's text) decoded: the JSON value's text. */
static void
decodes(const char *typed, const char *want)
{
	json_object *t = J(typed), *v = NULL;

	tp_err_clear(&err);
	cr_assert_eq(fsvalue_decode(t, DOC, &v, &err), 0, "refused %s: %s",
	    typed, err.msg);
	cr_assert_str_eq(v == NULL ? "null" : text(v), want, "decoding %s",
	    typed);
	json_object_put(v);
	json_object_put(t);
}

static void
decode_refused(const char *typed, const char *why)
{
	json_object *t = J(typed), *v = NULL;

	tp_err_clear(&err);
	cr_assert_eq(fsvalue_decode(t, DOC, &v, &err), -1, "accepted %s",
	    typed);
	cr_assert_null(v);
	cr_assert_eq(err.code, TP_INTERNAL, "%s: %s", typed, err.msg);
	cr_assert(strstr(err.msg, why) != NULL, "for %s\ngot  %s\nwant ...%s",
	    typed, err.msg, why);
	json_object_put(t);
}

/* ---- encoding ---- */

Test(fsvalue, scalars_encode)
{
	json_object *t;

	encodes("\"hello\"", "{\"stringValue\":\"hello\"}");
	encodes("\"\"", "{\"stringValue\":\"\"}");
	encodes("123", "{\"integerValue\":\"123\"}");
	encodes("-7", "{\"integerValue\":\"-7\"}");
	encodes("0", "{\"integerValue\":\"0\"}");
	encodes("9223372036854775807",
	    "{\"integerValue\":\"9223372036854775807\"}");
	encodes("-9223372036854775808",
	    "{\"integerValue\":\"-9223372036854775808\"}");
	encodes("true", "{\"booleanValue\":true}");
	encodes("false", "{\"booleanValue\":false}");
	t = fsvalue_encode(NULL, DOC, &err);
	cr_assert_not_null(t, "%s", err.msg);
	cr_assert_str_eq(text(t), "{\"nullValue\":null}");
	json_object_put(t);
	/* a double keeps its own text */
	encodes("12.34", "{\"doubleValue\":12.34}");
	encodes("1.50", "{\"doubleValue\":1.50}");
	encodes("1e-7", "{\"doubleValue\":1e-7}");
	encodes("2.0", "{\"doubleValue\":2.0}");
	encodes("-0.0", "{\"doubleValue\":-0.0}");
	encodes("1E5", "{\"doubleValue\":1E5}");
}

Test(fsvalue, integers_past_int64_are_refused)
{
	fields_refused("{\"q\":9223372036854775808}", "q", NULL);
	fields_refused("{\"q\":18446744073709551615}", "q", NULL);
	fields_refused("{\"q\":99999999999999999999}", "q", NULL);
}

Test(fsvalue, canonical_timestamps_encode_as_timestamps)
{
	encodes("\"2024-03-05T13:03:32.425065Z\"",
	    "{\"timestampValue\":\"2024-03-05T13:03:32.425065Z\"}");
	encodes("\"2024-02-29T00:00:00.000000Z\"",
	    "{\"timestampValue\":\"2024-02-29T00:00:00.000000Z\"}");
	encodes("\"0001-01-01T00:00:00.000000Z\"",
	    "{\"timestampValue\":\"0001-01-01T00:00:00.000000Z\"}");
	encodes("\"9999-12-31T23:59:59.999999Z\"",
	    "{\"timestampValue\":\"9999-12-31T23:59:59.999999Z\"}");
	/* anything else is a string, even when it is a time */
	encodes("\"2024-03-05T13:03:32Z\"",
	    "{\"stringValue\":\"2024-03-05T13:03:32Z\"}");
	encodes("\"2024-03-05T13:03:32.425Z\"",
	    "{\"stringValue\":\"2024-03-05T13:03:32.425Z\"}");
	encodes("\"2024-03-05T13:03:32.425065123Z\"",
	    "{\"stringValue\":\"2024-03-05T13:03:32.425065123Z\"}");
	encodes("\"2024-03-05T13:03:32.425065+00:00\"",
	    "{\"stringValue\":\"2024-03-05T13:03:32.425065+00:00\"}");
	encodes("\"2024-03-05t13:03:32.425065z\"",
	    "{\"stringValue\":\"2024-03-05t13:03:32.425065z\"}");
	encodes("\"2024-03-05 13:03:32.425065Z\"",
	    "{\"stringValue\":\"2024-03-05 13:03:32.425065Z\"}");
	encodes("\"2024-03-05T13:03:32.425065Zx\"",
	    "{\"stringValue\":\"2024-03-05T13:03:32.425065Zx\"}");
	/* not a real date or time */
	encodes("\"2023-02-29T00:00:00.000000Z\"",
	    "{\"stringValue\":\"2023-02-29T00:00:00.000000Z\"}");
	encodes("\"1900-02-29T00:00:00.000000Z\"",
	    "{\"stringValue\":\"1900-02-29T00:00:00.000000Z\"}");
	encodes("\"2024-04-31T00:00:00.000000Z\"",
	    "{\"stringValue\":\"2024-04-31T00:00:00.000000Z\"}");
	encodes("\"2024-13-01T00:00:00.000000Z\"",
	    "{\"stringValue\":\"2024-13-01T00:00:00.000000Z\"}");
	encodes("\"2024-01-01T24:00:00.000000Z\"",
	    "{\"stringValue\":\"2024-01-01T24:00:00.000000Z\"}");
	encodes("\"2024-01-01T23:59:60.000000Z\"",
	    "{\"stringValue\":\"2024-01-01T23:59:60.000000Z\"}");
	encodes("\"0000-01-01T00:00:00.000000Z\"",
	    "{\"stringValue\":\"0000-01-01T00:00:00.000000Z\"}");
}

Test(fsvalue, maps_and_arrays_encode_recursively)
{
	json_object *d = J("{\"a\":{\"b\":[1,\"x\",{\"c\":[true]}],\"e\":{}},"
	    "\"f\":[],\"g\":null}"), *f;

	f = fsvalue_fields(d, DOC, &err);
	cr_assert_not_null(f, "%s", err.msg);
	cr_assert_str_eq(text(f),
	    "{\"a\":{\"mapValue\":{\"fields\":{"
	    "\"b\":{\"arrayValue\":{\"values\":["
	    "{\"integerValue\":\"1\"},{\"stringValue\":\"x\"},"
	    "{\"mapValue\":{\"fields\":{\"c\":{\"arrayValue\":{\"values\":["
	    "{\"booleanValue\":true}]}}}}}]}},"
	    "\"e\":{\"mapValue\":{\"fields\":{}}}}}},"
	    "\"f\":{\"arrayValue\":{\"values\":[]}},"
	    "\"g\":{\"nullValue\":null}}");
	json_object_put(f);
	json_object_put(d);

	/* no data: an empty document */
	f = fsvalue_fields(NULL, DOC, &err);
	cr_assert_not_null(f);
	cr_assert_str_eq(text(f), "{}");
	json_object_put(f);
}

Test(fsvalue, arrays_in_arrays_are_refused)
{
	fields_refused("{\"a\":[[1]]}", "a[0]", NULL);
	fields_refused("{\"m\":{\"list\":[1,2,[\"secret\"]]}}", "m.list[2]",
	    "secret");
	cr_assert(strstr(err.msg, "array directly inside an array") != NULL,
	    "%s", err.msg);
	/* an array in a map in an array is fine */
	encodes("[{\"a\":[1]}]",
	    "{\"arrayValue\":{\"values\":[{\"mapValue\":{\"fields\":{\"a\":"
	    "{\"arrayValue\":{\"values\":[{\"integerValue\":\"1\"}]}}}}}]}}");
}

Test(fsvalue, data_must_be_a_map)
{
	json_object *v = J("[1]");

	cr_assert_null(fsvalue_fields(v, DOC, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(v);
}

Test(fsvalue, depth_is_bounded)
{
	char buf[4096];
	size_t o = 0;
	json_object *v, *f, *m = NULL;

	for (int i = 0; i < JSON_MAX_DEPTH + 5; i++) {
		json_object *n = json_object_new_object();

		json_add(n, "k", m);
		m = n;
	}
	f = fsvalue_fields(m, DOC, &err);
	cr_assert_null(f);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	cr_assert(strstr(err.msg, "nested too deeply") != NULL, "%s",
	    err.msg);
	json_object_put(m);

	/* and within the bound, fine */
	for (int i = 0; i < 20; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{\"k\":");
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "1");
	for (int i = 0; i < 20; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "}");
	v = J(buf);
	f = fsvalue_fields(v, DOC, &err);
	cr_assert_not_null(f, "%s", err.msg);
	json_object_put(f);
	json_object_put(v);
}

/* ---- decimals ---- */

/*
 * text, as a JSON number in the store, goes out as a doubleValue with that
 * very text, and comes back (through a reply's text, as Firestore would
 * write it: `reply`) as a double whose text is `back`, the same decimal.
 */
static void
decimal_round_trip(const char *num, const char *reply, const char *back)
{
	char in[128], typed[128], want[160];
	json_object *d, *f, *t, *v = NULL;
	struct dec a, b;

	snprintf(in, sizeof(in), "{\"v\":%s}", num);
	snprintf(want, sizeof(want), "{\"v\":{\"doubleValue\":%s}}", num);
	d = J(in);
	tp_err_clear(&err);
	f = fsvalue_fields(d, DOC, &err);
	cr_assert_not_null(f, "refused %s: %s", num, err.msg);
	cr_assert_str_eq(text(f), want);

	snprintf(typed, sizeof(typed), "{\"doubleValue\":%s}", reply);
	t = J(typed);
	cr_assert_eq(fsvalue_decode(t, DOC, &v, &err), 0, "%s", err.msg);
	cr_assert(json_object_is_type(v, json_type_double), "%s", typed);
	cr_assert_str_eq(text(v), back, "%s read back", num);
	cr_assert_eq(dec_from_json(json_object_object_get(d, "v"), &a, &err),
	    0);
	cr_assert_eq(dec_from_json(v, &b, &err), 0);
	cr_assert_eq(dec_cmp(&a, &b), 0, "%s came back as %s", num, text(v));
	json_object_put(v);
	json_object_put(t);
	json_object_put(f);
	json_object_put(d);
}

Test(fsvalue, decimals_round_trip)
{
	/* as the emulator (Java) writes them, and as other servers may */
	decimal_round_trip("0.1", "0.1", "0.1");
	decimal_round_trip("12.34", "12.34", "12.34");
	decimal_round_trip("123456.789012", "123456.789012", "123456.789012");
	decimal_round_trip("1e-7", "1.0E-7", "1e-7");
	decimal_round_trip("0.0000001", "1e-07", "1e-7");
	decimal_round_trip("-0.05", "-0.05", "-0.05");
	decimal_round_trip("99999999999999.9", "9.99999999999999E13",
	    "99999999999999.9");
	decimal_round_trip("1.50", "1.5", "1.5");
	decimal_round_trip("2.0", "2.0", "2.0");
	decimal_round_trip("2.0", "2", "2.0");
	decimal_round_trip("1e21", "1.0E21", "1e21");
	decimal_round_trip("-1234.5678", "-1234.5678", "-1234.5678");
	decimal_round_trip("0.0", "0.0", "0.0");
	decimal_round_trip("0.30", "0.3", "0.3");
	/* 16 digits that a double does hold */
	decimal_round_trip("0.1234567890123456", "0.1234567890123456",
	    "0.1234567890123456");
}

Test(fsvalue, decimals_a_double_cannot_hold_are_refused)
{
	fields_refused("{\"price\":0.12345678901234567}", "price",
	    "12345678901234567");
	cr_assert(strstr(err.msg, "double") != NULL, "%s", err.msg);
	fields_refused("{\"m\":{\"q\":9007199254740993.0}}", "m.q",
	    "9007199254740993");
	fields_refused("{\"q\":0.30000000000000001}", "q", "3000000");
	/* 0 is not the decimal written */
	fields_refused("{\"q\":1e-400}", "q", "400");
}

Test(fsvalue, doubles_without_text_and_not_finite)
{
	json_object *d = json_object_new_object(), *f;

	/* a double built in code has no text but its shortest */
	json_add(d, "a", json_object_new_double(0.1));
	json_add(d, "b", json_object_new_double(0.1 + 0.2));
	f = fsvalue_fields(d, DOC, &err);
	cr_assert_not_null(f, "%s", err.msg);
	cr_assert_str_eq(text(f), "{\"a\":{\"doubleValue\":0.1},"
	    "\"b\":{\"doubleValue\":0.30000000000000004}}");
	json_object_put(f);

	json_add(d, "c", json_object_new_double(NAN));
	cr_assert_null(fsvalue_fields(d, DOC, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert(strstr(err.msg, "field c:") != NULL, "%s", err.msg);
	json_object_object_del(d, "c");
	json_add(d, "c", json_object_new_double(-INFINITY));
	cr_assert_null(fsvalue_fields(d, DOC, &err));
	json_object_put(d);
}

/* ---- decoding ---- */

Test(fsvalue, scalars_decode)
{
	decodes("{\"stringValue\":\"hello\"}", "\"hello\"");
	decodes("{\"integerValue\":\"123\"}", "123");
	decodes("{\"integerValue\":\"-9223372036854775808\"}",
	    "-9223372036854775808");
	decodes("{\"integerValue\":\"9223372036854775807\"}",
	    "9223372036854775807");
	decodes("{\"integerValue\":42}", "42");
	decodes("{\"booleanValue\":true}", "true");
	decodes("{\"nullValue\":null}", "null");
	decodes("{\"nullValue\":\"NULL_VALUE\"}", "null");
	decodes("{\"doubleValue\":12.34}", "12.34");
	decodes("{\"doubleValue\":1.0E-7}", "1e-7");
	decodes("{\"doubleValue\":-0.0}", "-0.0");
	decodes("{\"referenceValue\":"
	    "\"projects/p/databases/(default)/documents/c/d\"}",
	    "\"projects/p/databases/(default)/documents/c/d\"");
	decodes("{\"bytesValue\":\"AAE=\"}", "\"AAE=\"");
	decodes("{\"geoPointValue\":{\"latitude\":48.85,\"longitude\":2.35}}",
	    "{\"latitude\":48.85,\"longitude\":2.35}");
	/* proto3 leaves zeros out */
	decodes("{\"geoPointValue\":{\"longitude\":2.5}}",
	    "{\"latitude\":0.0,\"longitude\":2.5}");
}

Test(fsvalue, integers_decode_within_int64_only)
{
	decode_refused("{\"integerValue\":\"9223372036854775808\"}",
	    "out of range");
	decode_refused("{\"integerValue\":\"-9223372036854775809\"}",
	    "out of range");
	decode_refused("{\"integerValue\":\"12a\"}", "malformed integerValue");
	decode_refused("{\"integerValue\":\"\"}", "malformed integerValue");
	decode_refused("{\"integerValue\":\"+1\"}", "malformed integerValue");
	decode_refused("{\"integerValue\":\" 1\"}", "malformed integerValue");
	decode_refused("{\"integerValue\":1.5}", "malformed integerValue");
}

Test(fsvalue, non_finite_doubles_are_refused)
{
	decode_refused("{\"doubleValue\":\"NaN\"}", "not a finite number");
	decode_refused("{\"doubleValue\":\"Infinity\"}", "not a finite number");
	decode_refused("{\"doubleValue\":\"-Infinity\"}",
	    "not a finite number");
	decode_refused("{\"doubleValue\":true}", "not a finite number");
}

Test(fsvalue, containers_decode)
{
	decodes("{\"mapValue\":{}}", "{}");
	decodes("{\"mapValue\":{\"fields\":{}}}", "{}");
	decodes("{\"arrayValue\":{}}", "[]");
	decodes("{\"arrayValue\":{\"values\":[]}}", "[]");
	decodes("{\"mapValue\":{\"fields\":{\"a b\":{\"arrayValue\":{\"values\":"
	    "[{\"integerValue\":\"1\"},{\"nullValue\":null},{\"mapValue\":"
	    "{\"fields\":{\"t\":{\"timestampValue\":\"2024-01-02T03:04:05Z\"}"
	    "}}}]}}}}}",
	    "{\"a b\":[1,null,{\"t\":\"2024-01-02T03:04:05.000000Z\"}]}");
}

Test(fsvalue, unknown_and_malformed_values_are_internal_errors)
{
	decode_refused("{\"vectorValue\":{}}", "unknown kind vectorValue");
	decode_refused("{}", "exactly one kind");
	decode_refused("{\"stringValue\":\"a\",\"integerValue\":\"1\"}",
	    "exactly one kind");
	decode_refused("\"plain\"", "exactly one kind");
	decode_refused("{\"stringValue\":1}", "malformed stringValue");
	decode_refused("{\"booleanValue\":\"true\"}", "malformed booleanValue");
	decode_refused("{\"timestampValue\":\"yesterday\"}",
	    "malformed timestampValue");
	decode_refused("{\"mapValue\":{\"fields\":[]}}", "malformed fields");
	decode_refused("{\"arrayValue\":{\"values\":{}}}",
	    "malformed arrayValue");
	decode_refused("{\"nullValue\":0}", "malformed nullValue");
	decode_refused("{\"geoPointValue\":{\"latitude\":\"x\"}}",
	    "malformed geoPointValue");
}

Test(fsvalue, data_decodes_fields_and_names_the_field_in_errors)
{
	json_object *f = J("{\"a\":{\"integerValue\":\"5\"},\"m\":{\"mapValue\":"
	    "{\"fields\":{\"k\":{\"arrayValue\":{\"values\":[{\"stringValue\":"
	    "\"s\"},{\"oddValue\":1}]}}}}}}"), *d;

	d = fsvalue_data(f, DOC, &err);
	cr_assert_null(d);
	cr_assert_eq(err.code, TP_INTERNAL);
	cr_assert(strstr(err.msg, DOC ": field m.k[1]: ") != NULL, "%s",
	    err.msg);
	json_object_put(f);

	d = fsvalue_data(NULL, DOC, &err);
	cr_assert_not_null(d);
	cr_assert_str_eq(text(d), "{}");
	json_object_put(d);
}

/* ---- timestamps ---- */

static void
ts(const char *in, const char *want)
{
	char out[32];

	if (want == NULL) {
		cr_assert_eq(fsvalue_timestamp(in, out, sizeof(out)), -1,
		    "accepted %s as %s", in, out);
		return;
	}
	cr_assert_eq(fsvalue_timestamp(in, out, sizeof(out)), 0, "refused %s",
	    in);
	cr_assert_str_eq(out, want, "from %s", in);
}

Test(fsvalue, timestamps_read_in_any_form_firestore_writes)
{
	ts("2024-03-05T13:03:32Z", "2024-03-05T13:03:32.000000Z");
	ts("2024-03-05T13:03:32.4Z", "2024-03-05T13:03:32.400000Z");
	ts("2024-03-05T13:03:32.425Z", "2024-03-05T13:03:32.425000Z");
	ts("2024-03-05T13:03:32.425065Z", "2024-03-05T13:03:32.425065Z");
	ts("2024-03-05T13:03:32.123456789Z", "2024-03-05T13:03:32.123456Z");
	ts("2024-03-05t13:03:32.999999999z", "2024-03-05T13:03:32.999999Z");
	/* offsets, to UTC, across days, months, years and leap days */
	ts("2024-03-05T13:03:32+02:00", "2024-03-05T11:03:32.000000Z");
	ts("2024-03-05T13:03:32.5-05:30", "2024-03-05T18:33:32.500000Z");
	ts("2024-01-01T01:00:00.000001+02:00", "2023-12-31T23:00:00.000001Z");
	ts("2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00.000000Z");
	ts("2024-03-01T00:15:00+00:30", "2024-02-29T23:45:00.000000Z");
	ts("2023-03-01T00:15:00+00:30", "2023-02-28T23:45:00.000000Z");
	ts("2024-03-05T13:03:32+00:00", "2024-03-05T13:03:32.000000Z");
	ts("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z");
	ts("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999Z");
	/* not timestamps */
	ts("2024-03-05T13:03:32", NULL);
	ts("2024-03-05T13:03:32.Z", NULL);
	ts("2024-03-05T13:03:32.1234567890Z", NULL);
	ts("2024-03-05T13:03:32+0200", NULL);
	ts("2024-03-05T13:03:32+24:00", NULL);
	ts("2024-03-05T13:03:32Z ", NULL);
	ts("2024-02-30T13:03:32Z", NULL);
	ts("2024-03-05 13:03:32Z", NULL);
	ts("2024-3-5T13:03:32Z", NULL);
	ts("", NULL);
	ts("0001-01-01T00:30:00+01:00", NULL);	/* year 0 */
	ts("9999-12-31T23:30:00-01:00", NULL);	/* year 10000 */
}

Test(fsvalue, timestamps_come_back_in_their_canonical_form)
{
	decodes("{\"timestampValue\":\"2024-03-05T13:03:32.120Z\"}",
	    "\"2024-03-05T13:03:32.120000Z\"");
	decodes("{\"timestampValue\":\"2024-03-05T13:03:32.425065123Z\"}",
	    "\"2024-03-05T13:03:32.425065Z\"");
}

/* ---- field paths ---- */

static void
fp(const char *dotted, const char *want)
{
	char buf[128];

	tp_err_clear(&err);
	if (want == NULL) {
		cr_assert_eq(fsvalue_field_path(dotted, buf, sizeof(buf), &err),
		    -1, "accepted %s as %s", dotted, buf);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		return;
	}
	cr_assert_eq(fsvalue_field_path(dotted, buf, sizeof(buf), &err), 0,
	    "%s: %s", dotted, err.msg);
	cr_assert_str_eq(buf, want, "from %s", dotted);
}

Test(fsvalue, field_paths_quote_what_they_must)
{
	fp("status", "status");
	fp("a.b", "a.b");
	fp("_x.Y_9", "_x.Y_9");
	fp("a.1b", "a.`1b`");
	fp("2024.q4", "`2024`.q4");
	fp("0", "`0`");
	/* what the store would never pass, quoted all the same */
	fp("a b.c", "`a b`.c");
	fp("a`b", "`a\\`b`");
	fp("a\\b", "`a\\\\b`");
	fp("caf\xc3\xa9", "`caf\xc3\xa9`");
	fp("a-b", "`a-b`");
	/* not field names */
	fp("", NULL);
	fp("a..b", NULL);
	fp(".a", NULL);
	fp("a.", NULL);
}

Test(fsvalue, field_paths_that_do_not_fit)
{
	char buf[16];

	cr_assert_eq(fsvalue_field_path("abcdefg", buf, 8, &err), 0);
	cr_assert_str_eq(buf, "abcdefg");
	cr_assert_eq(fsvalue_field_path("abcdefgh", buf, 8, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_eq(fsvalue_field_path("a.1bcd", buf, 8, &err), -1);
	cr_assert_eq(fsvalue_field_path("a.1bcd", buf, 9, &err), 0);
	cr_assert_str_eq(buf, "a.`1bcd`");
}

/* ---- merge patches ---- */

static void
patches(const char *patch, const char *want_fields, const char *want_mask)
{
	json_object *p = J(patch), *f = NULL, *m = NULL;

	tp_err_clear(&err);
	cr_assert_eq(fsvalue_patch(p, DOC, &f, &m, &err), 0, "%s: %s", patch,
	    err.msg);
	cr_assert_str_eq(text(f), want_fields, "fields of %s", patch);
	cr_assert_str_eq(text(m), want_mask, "mask of %s", patch);
	json_object_put(f);
	json_object_put(m);
	json_object_put(p);
}

Test(fsvalue, patches_become_fields_and_a_mask)
{
	patches("{\"a\":1}", "{\"a\":{\"integerValue\":\"1\"}}", "[\"a\"]");
	patches("{\"a\":null}", "{}", "[\"a\"]");
	patches("{}", "{}", "[]");
	/* nested maps are descended into; an empty map, a scalar and an
	 * array are leaves; a null is in the mask alone */
	patches("{\"a\":{\"b\":1,\"c\":null,\"d\":{},\"e\":[1,{\"x\":null}]},"
	    "\"f\":null,\"g\":{\"h\":{\"i\":null}},\"j\":\"2024-03-05T13:03:"
	    "32.425065Z\"}",
	    "{\"a\":{\"mapValue\":{\"fields\":{"
	    "\"b\":{\"integerValue\":\"1\"},"
	    "\"d\":{\"mapValue\":{\"fields\":{}}},"
	    "\"e\":{\"arrayValue\":{\"values\":[{\"integerValue\":\"1\"},"
	    "{\"mapValue\":{\"fields\":{\"x\":{\"nullValue\":null}}}}]}}}}},"
	    "\"j\":{\"timestampValue\":\"2024-03-05T13:03:32.425065Z\"}}",
	    "[\"a.b\",\"a.c\",\"a.d\",\"a.e\",\"f\",\"g.h.i\",\"j\"]");
	/* keys are quoted in the mask, not in fields */
	patches("{\"x.y\":{\"1st\":2,\"a`b\\\\c\":null},\"caf\xc3\xa9\":true,"
	    "\"sp ace\":{}}",
	    "{\"x.y\":{\"mapValue\":{\"fields\":{\"1st\":{\"integerValue\":"
	    "\"2\"}}}},\"caf\xc3\xa9\":{\"booleanValue\":true},"
	    "\"sp ace\":{\"mapValue\":{\"fields\":{}}}}",
	    "[\"`x.y`.`1st`\",\"`x.y`.`a\\\\`b\\\\\\\\c`\",\"`caf\xc3\xa9`\","
	    "\"`sp ace`\"]");
}

Test(fsvalue, patches_are_checked_like_documents)
{
	json_object *p = J("{\"a\":{\"b\":[[1]]}}"), *f = NULL, *m = NULL;

	cr_assert_eq(fsvalue_patch(p, DOC, &f, &m, &err), -1);
	cr_assert_null(f);
	cr_assert_null(m);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert(strstr(err.msg, DOC ": field a.b[0]: ") != NULL, "%s",
	    err.msg);
	json_object_put(p);

	p = J("{\"q\":0.12345678901234567}");
	cr_assert_eq(fsvalue_patch(p, DOC, &f, &m, &err), -1);
	cr_assert(strstr(err.msg, "field q: ") != NULL, "%s", err.msg);
	json_object_put(p);

	p = J("[1]");
	cr_assert_eq(fsvalue_patch(p, DOC, &f, &m, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(p);
}

/* ---- the emulator ---- */

struct buf {
	char	*p;
	size_t	 n;
};

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	char *q = realloc(b->p, b->n + size * nmemb + 1);

	if (q == NULL)
		return 0;
	memcpy(q + b->n, data, size * nmemb);
	b->n += size * nmemb;
	q[b->n] = '\0';
	b->p = q;
	return size * nmemb;
}

/* One request to the emulator; the reply parsed (2xx expected). */
static json_object *
call(const char *method, const char *url, json_object *body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct buf b = { NULL, 0 };
	long status = 0;
	CURLcode rc;
	json_object *reply;

	cr_assert_not_null(c);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Authorization: Bearer owner");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text(body));
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, url,
	    curl_easy_strerror(rc));
	cr_assert_eq(status, 200, "%s %s: HTTP %ld: %s\nsent %s", method, url,
	    status, b.p != NULL ? b.p : "", body != NULL ? text(body) : "");
	reply = J(b.p != NULL ? b.p : "{}");
	free(b.p);
	return reply;
}

/* The document read back from the emulator, decoded. */
static json_object *
read_back(const char *url, json_object **raw)
{
	json_object *r = call("GET", url, NULL), *fields = NULL, *d;

	json_object_object_get_ex(r, "fields", &fields);
	d = fsvalue_data(fields, DOC, &err);
	cr_assert_not_null(d, "%s", err.msg);
	*raw = r;
	return d;
}

static const char *const emulator_doc =
	"{\"price\":12.34,\"tenth\":0.1,\"tiny\":1e-7,\"neg\":-0.05,"
	"\"wide\":123456.789012,\"big\":99999999999999.9,\"two\":2.0,"
	"\"imax\":9223372036854775807,\"imin\":-9223372036854775808,"
	"\"at\":\"2024-03-05T13:03:32.425065Z\","
	"\"at_ms\":\"2024-03-05T13:03:32.120000Z\","
	"\"at_s\":\"2024-03-05T13:03:32.000000Z\","
	"\"not_at\":\"2024-03-05T13:03:32Z\","
	"\"ok\":true,\"none\":null,\"empty\":{},\"list\":[1,\"a\",{\"b\":[2.5]}],"
	"\"m\":{\"a b\":{\"c\":1},\"x.y\":\"dotted\",\"1st\":{\"k`q\":\"tick\"},"
	"\"caf\xc3\xa9\":\"unicode\",\"gone\":1,\"keep\":true}}";

Test(fsvalue, the_emulator_takes_and_gives_back_the_encoding)
{
	const char *host = getenv("TP_FS_EMULATOR_HOST");
	char base[512], url[4096];
	json_object *doc, *fields, *body, *back, *raw, *patch, *mask, *merged;
	json_object *kind;
	size_t o;

	if (host == NULL || *host == '\0')
		cr_skip_test("the Firestore emulator was not given: set "
		    "TP_FS_EMULATOR_HOST=host:port to run this test");
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	snprintf(base, sizeof(base),
	    "http://%s/v1/projects/fsvalue-%ld/databases/(default)/documents",
	    host, (long)getpid());

	doc = J(emulator_doc);
	fields = fsvalue_fields(doc, DOC, &err);
	cr_assert_not_null(fields, "%s", err.msg);
	body = json_object_new_object();
	json_add(body, "fields", fields);
	snprintf(url, sizeof(url), "%s/fsvalue?documentId=d1", base);
	json_object_put(call("POST", url, body));
	json_object_put(body);

	snprintf(url, sizeof(url), "%s/fsvalue/d1", base);
	back = read_back(url, &raw);
	cr_assert(json_object_equal(doc, back), "sent %s\ngot  %s",
	    emulator_doc, text(back));
	/* Firestore holds them as its own types, not strings */
	kind = json_object_object_get(json_object_object_get(raw, "fields"),
	    "at");
	cr_assert(json_object_object_get_ex(kind, "timestampValue", NULL),
	    "%s", text(kind));
	kind = json_object_object_get(json_object_object_get(raw, "fields"),
	    "price");
	cr_assert(json_object_object_get_ex(kind, "doubleValue", NULL),
	    "%s", text(kind));
	/* decimals come back as the same text */
	cr_assert_str_eq(text(json_object_object_get(back, "price")), "12.34");
	cr_assert_str_eq(text(json_object_object_get(back, "tiny")), "1e-7");
	cr_assert_str_eq(text(json_object_object_get(back, "big")),
	    "99999999999999.9");
	json_object_put(raw);
	json_object_put(back);

	/* a merge patch, with quoted keys in the mask */
	patch = J("{\"m\":{\"a b\":{\"d\":2},\"x.y\":null,\"1st\":{\"k`q\":"
	    "\"tock\",\"new\":0.25},\"gone\":null,\"caf\xc3\xa9\":{}},"
	    "\"price\":13.05,\"ok\":null,\"list\":[{\"z\":[]}],"
	    "\"at\":\"2025-01-01T00:00:00.000001Z\"}");
	cr_assert_eq(fsvalue_patch(patch, DOC, &fields, &mask, &err), 0, "%s",
	    err.msg);
	o = (size_t)snprintf(url, sizeof(url), "%s/fsvalue/d1", base);
	for (size_t i = 0; i < json_object_array_length(mask); i++) {
		const char *fpath = json_object_get_string(
		    json_object_array_get_idx(mask, i));
		char *esc = curl_easy_escape(NULL, fpath, 0);

		cr_assert_not_null(esc);
		o += (size_t)snprintf(url + o, sizeof(url) - o,
		    "%cupdateMask.fieldPaths=%s", i == 0 ? '?' : '&', esc);
		curl_free(esc);
		cr_assert_lt(o, sizeof(url));
	}
	body = json_object_new_object();
	json_add(body, "fields", fields);
	json_object_put(call("PATCH", url, body));
	json_object_put(body);
	json_object_put(mask);

	snprintf(url, sizeof(url), "%s/fsvalue/d1", base);
	back = read_back(url, &raw);
	merged = json_copy(doc);
	json_merge(merged, patch);
	cr_assert(json_object_equal(merged, back), "want %s\ngot  %s",
	    text(merged), text(back));
	json_object_put(raw);
	json_object_put(back);
	json_object_put(merged);
	json_object_put(patch);
	json_object_put(doc);
	curl_global_cleanup();
}
