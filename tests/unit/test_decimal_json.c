/* test_decimal_json.c: fixed-point decimals from and to JSON numbers. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/decimal.h"
#include "common/jsonutil.h"
#include "tests/unit/decimal_fixture.h"

/* ---- JSON ---- */

Test(json, numbers_keep_their_text)
{
	static const char *const want[] = {
		"1.50", "122011.09751111286868", "1000", "0.0", "12", "-7",
		"9223372036854775807", "-9223372036854775807",
		"18446744073709551614", "0.00000015", "0.10",
		"0.100000000000000005551115123125", "187.25", "-5", "25",
		"0.000000000000000000000000000001",
	};
	const char *text = "[1.50, 122011.09751111286868, 1e3, -0.0, 12, -7, "
	    "9223372036854775807, -9223372036854775807, "
	    "18446744073709551614, 1.5E-7, 0.10, "
	    "0.100000000000000005551115123125, \"187.25\", \"-0.5e1\", "
	    "2.5e+1, 1e-30]";
	struct tp_err err;
	json_object *arr;
	struct dec d;
	size_t i;

	arr = json_parse(text, strlen(text), &err);
	cr_assert_not_null(arr, "%s", err.msg);
	cr_assert_eq(json_object_array_length(arr), NELEM(want));
	for (i = 0; i < NELEM(want); i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		cr_assert_eq(dec_from_json(v, &d, &err), 0, "[%zu]: %s", i,
		    err.msg);
		cr_assert_str_eq(F(&d), want[i], "[%zu]", i);
	}
	json_object_put(arr);
}

/* The premise of dec_from_json: json-c keeps a parsed double's text. */
Test(json, jsonc_keeps_original_double_text)
{
	const char *text = "{\"p\":122011.09751111286868,\"q\":0.10}";
	struct tp_err err;
	json_object *o, *p;
	struct dec d;
	char buf[64];

	o = json_parse(text, strlen(text), &err);
	cr_assert_not_null(o, "%s", err.msg);
	p = json_object_object_get(o, "p");
	cr_assert_eq(json_object_get_type(p), json_type_double);
	cr_assert_str_eq(json_object_to_json_string_ext(p,
	    JSON_C_TO_STRING_PLAIN), "122011.09751111286868");
	/* the binary double would print other digits; the text is exact */
	snprintf(buf, sizeof(buf), "%.17g", json_object_get_double(p));
	cr_assert_str_neq(buf, "122011.09751111286868");
	cr_assert_eq(dec_from_json(p, &d, &err), 0);
	cr_assert_eq(d.scale, 14);
	cr_assert_str_eq(F(&d), "122011.09751111286868");
	json_object_put(o);
}

Test(json, refused)
{
	const char *bad_text[] = {
		"\"\"", "\"abc\"", "\"1 \"", "\"0x10\"", "\"NaN\"", "\"inf\"",
		"\"1.2.3\"", "\"+5\"", "\"1e38\"", "1e-31",
		"\"1234567890123456789012345678901234567890123456789012345678901234567\"",
	};
	const char *bad_type[] = { "true", "false", "{}", "[1]", "{\"a\":1}" };
	struct tp_err err;
	json_object *v;
	struct dec d;
	size_t i;

	for (i = 0; i < NELEM(bad_text); i++) {
		v = json_parse(bad_text[i], strlen(bad_text[i]), &err);
		cr_assert_not_null(v, "%s", err.msg);
		cr_assert_eq(dec_from_json(v, &d, &err), -1, "%s",
		    bad_text[i]);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		json_object_put(v);
	}
	for (i = 0; i < NELEM(bad_type); i++) {
		v = json_parse(bad_type[i], strlen(bad_type[i]), &err);
		cr_assert_not_null(v, "%s", err.msg);
		cr_assert_eq(dec_from_json(v, &d, &err), -1, "%s",
		    bad_type[i]);
		cr_assert_str_eq(err.msg,
		    "must be a number or a decimal string");
		json_object_put(v);
	}
	/* JSON null is json-c's NULL */
	cr_assert_eq(dec_from_json(NULL, &d, &err), -1);
	cr_assert_str_eq(err.msg, "must be a number or a decimal string");
	/* doubles that came from nowhere near a decimal text */
	v = json_object_new_double(NAN);
	cr_assert_eq(dec_from_json(v, &d, &err), -1);
	json_object_put(v);
	v = json_object_new_double(-INFINITY);
	cr_assert_eq(dec_from_json(v, &d, &err), -1);
	json_object_put(v);
	/* a string with an embedded NUL is not the number before it */
	v = json_object_new_string_len("12\0003", 4);
	cr_assert_eq(dec_from_json(v, &d, &err), -1);
	json_object_put(v);
}

/* json-c saturates integers past 64 bits even in strict mode; the two
 * saturation values cannot be told from real ones and are refused. */
Test(json, saturated_integers_refused)
{
	const char *text[] = { "99999999999999999999", "18446744073709551615",
		"-9223372036854775809", "-9223372036854775808999",
		"-9223372036854775808" };
	struct tp_err err;
	json_object *v;
	struct dec d;
	size_t i;

	for (i = 0; i < NELEM(text); i++) {
		v = json_parse(text[i], strlen(text[i]), &err);
		if (v == NULL)
			continue;	/* a stricter json-c refuses it itself */
		cr_assert_eq(dec_from_json(v, &d, &err), -1, "%s -> %s",
		    text[i], F(&d));
		cr_assert_not_null(strstr(err.msg, "out of range"), "%s",
		    err.msg);
		json_object_put(v);
	}
}

Test(json, to_json_number)
{
	static const char *const vals[] = { "-12.50", "0.00", "187.25",
		"122011.09751111286868", "-0.0001", "12",
		"99999999999999999999999999999999999999" };
	struct tp_err err;
	json_object *o, *n;
	struct dec d, back;
	char want[128];
	size_t i;

	for (i = 0; i < NELEM(vals); i++) {
		d = D(vals[i]);
		n = dec_to_json_number(&d);
		cr_assert_not_null(n);
		cr_assert_eq(json_object_get_type(n), json_type_double);
		cr_assert_str_eq(json_object_to_json_string_ext(n,
		    JSON_C_TO_STRING_PLAIN), vals[i]);
		cr_assert_float_eq(json_object_get_double(n),
		    strtod(vals[i], NULL), 1e-300);
		cr_assert_eq(dec_from_json(n, &back, &err), 0, "%s", err.msg);
		cr_assert(back.m == d.m && back.scale == d.scale);
		/* inside an object, as the store will write it */
		o = json_object_new_object();
		json_object_object_add(o, "v", n);
		snprintf(want, sizeof(want), "{\"v\":%s}", vals[i]);
		cr_assert_str_eq(json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN), want);
		json_object_put(o);
	}
	d.m = 1;
	d.scale = 99;
	cr_assert_null(dec_to_json_number(&d));
}
