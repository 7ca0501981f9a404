/* test_decimal_parse.c: fixed-point decimal parsing and formatting. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/decimal.h"
#include "common/jsonutil.h"
#include "tests/unit/decimal_fixture.h"

/* ---- parsing ---- */

static const struct {
	const char *in, *out;
} parse_ok[] = {
	{ "0", "0" },
	{ "-0", "0" },
	{ "-0.0", "0.0" },
	{ "7", "7" },
	{ "-12.5", "-12.5" },
	{ "1.50", "1.50" },			/* decimals kept as written */
	{ "187.25", "187.25" },
	{ "122011.09751111286868", "122011.09751111286868" },
	{ "-122011.09751111286868", "-122011.09751111286868" },
	{ "0.000001", "0.000001" },
	{ "100000.00", "100000.00" },
	{ "1e3", "1000" },
	{ "1E3", "1000" },
	{ "1e+3", "1000" },
	{ "1.5e2", "150" },
	{ "1.25e1", "12.5" },
	{ "1.5E-7", "0.00000015" },
	{ "1e-3", "0.001" },
	{ "-2.50e-2", "-0.0250" },
	{ "12e0", "12" },
	{ "12e-0", "12" },
	{ "0e5", "0" },
	{ "0.00e1", "0.0" },
	{ "0e-999", "0.000000000000000000000000000000" },
	{ "0e999999999999", "0" },
	{ "5e-30", "0.000000000000000000000000000005" },
	{ "1e37", "10000000000000000000000000000000000000" },
	{ "-1e37", "-10000000000000000000000000000000000000" },
	{ "99999999999999999999999999999999999999",
	    "99999999999999999999999999999999999999" },
	{ "-9999999999999999999999999999999999999.9",
	    "-9999999999999999999999999999999999999.9" },
	{ "0.123456789012345678901234567890",
	    "0.123456789012345678901234567890" },
	/* past 30 decimals or 38 digits only zeros are dropped */
	{ "1.0000000000000000000000000000000000000000",
	    "1.000000000000000000000000000000" },
	{ "123456789012345678901234567890123456780e-1",
	    "12345678901234567890123456789012345678" },
	{ "0.1234567890123456789012345678900000", "0.123456789012345678901234567890" },
	{ "99999999999999999999999999999999999999.000",
	    "99999999999999999999999999999999999999" },
};

Test(parse, valid)
{
	size_t i;

	for (i = 0; i < NELEM(parse_ok); i++) {
		struct dec d = D(parse_ok[i].in);

		cr_assert_str_eq(F(&d), parse_ok[i].out, "\"%s\"",
		    parse_ok[i].in);
	}
}

Test(parse, scale_is_decimals_written_minus_exponent)
{
	struct dec d;

	d = D("1.50");
	cr_assert_eq(d.scale, 2);
	cr_assert(d.m == 150);
	d = D("1.5e2");
	cr_assert_eq(d.scale, 0);
	cr_assert(d.m == 150);
	d = D("-1e-3");
	cr_assert_eq(d.scale, 3);
	cr_assert(d.m == -1);
	d = D("122011.09751111286868");
	cr_assert_eq(d.scale, 14);
	cr_assert(d.m == (__int128)12201109751111286868ULL);
}

static const char *const parse_bad[] = {
	"", "-", "+", "+1", "--1", "-+1", "1e", "1e+", "1e-", "e5", "1.", ".5",
	"-.5", "1.e3", "0x10", "0X1A", "012", "-012", "00", "00.5", "NaN", "nan",
	"-nan", "inf", "-inf", "Infinity", "-Infinity", " 1", "1 ", "1\t", "\n1",
	"1.2.3", "1e3e4", "1e3.5", "1,5", "1_000", "١", "1e\xff", "12a", "a12",
	"0.5f", "1d", "true", "null", "\"1\"", "- 1", "1.5e 2", "\xef\xbc\x91",
	/* out of range: digits, decimals, exponent */
	"100000000000000000000000000000000000000",
	"-100000000000000000000000000000000000000",
	"99999999999999999999999999999999999999.5",
	"1e38", "-1e38", "1e39", "1e999999999999", "1e-31", "-1e-31",
	"0.0000000000000000000000000000001",
	"1.0000000000000000000000000000001",
	"1e-999999999999999",
	"12345678901234567890.123456789012345678901",
};

Test(parse, invalid)
{
	struct tp_err err;
	struct dec d;
	size_t i;

	for (i = 0; i < NELEM(parse_bad); i++) {
		tp_err_clear(&err);
		cr_assert_eq(dec_parse(parse_bad[i], strlen(parse_bad[i]), &d,
		    &err), -1, "\"%s\" accepted as %s", parse_bad[i],
		    F(&d));
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "\"%s\"",
		    parse_bad[i]);
		cr_assert_gt(strlen(err.msg), 0);
	}
}

Test(parse, length_limit)
{
	char s[DEC_TEXT_MAX + 2];
	struct tp_err err;
	struct dec d;

	/* exactly 64 characters: "1e" and 62 zeros, which is 1 */
	memset(s, '0', sizeof(s));
	s[0] = '1';
	s[1] = 'e';
	s[DEC_TEXT_MAX] = '\0';
	d = D(s);
	cr_assert_str_eq(F(&d), "1");
	/* 65 characters of a valid number: refused for its length */
	s[DEC_TEXT_MAX] = '0';
	s[DEC_TEXT_MAX + 1] = '\0';
	cr_assert_eq(dec_parse(s, strlen(s), &d, &err), -1);
	cr_assert_not_null(strstr(err.msg, "longer than 64"), "%s", err.msg);
	/* 64 digits: short enough, but too many digits */
	memset(s, '9', DEC_TEXT_MAX);
	s[DEC_TEXT_MAX] = '\0';
	cr_assert_eq(dec_parse(s, strlen(s), &d, &err), -1);
	cr_assert_not_null(strstr(err.msg, "out of range"), "%s", err.msg);
	/* 1000 characters */
	{
		char big[1000];

		memset(big, '1', sizeof(big));
		cr_assert_eq(dec_parse(big, sizeof(big), &d, &err), -1);
	}
}

Test(parse, length_bounds_the_text)
{
	struct tp_err err;
	struct dec d;

	/* only len bytes are read: no NUL needed, trailing bytes ignored */
	cr_assert_eq(dec_parse("12.5xyz", 4, &d, &err), 0, "%s", err.msg);
	cr_assert_str_eq(F(&d), "12.5");
	cr_assert_eq(dec_parse("12.5", 3, &d, &err), -1);	/* "12." */
	cr_assert_eq(dec_parse("1\0", 2, &d, &err), -1);
	cr_assert_eq(dec_parse("\0", 1, &d, &err), -1);
	cr_assert_eq(dec_parse(NULL, 0, &d, &err), -1);
	cr_assert_eq(dec_parse("5", 0, &d, &err), -1);
}

Test(parse, error_messages)
{
	struct tp_err err;
	struct dec d;

	cr_assert_eq(dec_parse("012", 3, &d, &err), -1);
	cr_assert_str_eq(err.msg, "not a decimal number: leading zero");
	cr_assert_eq(dec_parse("1.2.3", 5, &d, &err), -1);
	cr_assert_str_eq(err.msg,
	    "not a decimal number: unexpected character at offset 3");
	cr_assert_eq(dec_parse("", 0, &d, &err), -1);
	cr_assert_str_eq(err.msg, "not a decimal number: empty");
	cr_assert_eq(dec_parse("1e38", 4, &d, &err), -1);
	cr_assert_not_null(strstr(err.msg, "out of range"), "%s", err.msg);
}

/* ---- formatting ---- */

Test(format, exact_decimals_and_buffer_size)
{
	struct dec d = { -1250, 2 };
	char buf[8];

	cr_assert_eq(dec_format(&d, buf, 7), 6);
	cr_assert_str_eq(buf, "-12.50");
	cr_assert_eq(dec_format(&d, buf, 6), -1);
	cr_assert_eq(dec_format(&d, NULL, 0), -1);
	d.m = -5;
	d.scale = 3;
	cr_assert_str_eq(F(&d), "-0.005");
	d.m = 5;
	d.scale = 0;
	cr_assert_str_eq(F(&d), "5");
	d.m = 0;
	d.scale = 2;
	cr_assert_str_eq(F(&d), "0.00");
	d.m = 0;
	d.scale = 30;
	cr_assert_str_eq(F(&d), "0.000000000000000000000000000000");
	/* outside the invariant: refused, not printed */
	d.m = 1;
	d.scale = 31;
	cr_assert_eq(dec_format(&d, buf, sizeof(buf)), -1);
	d.scale = -1;
	cr_assert_eq(dec_format(&d, buf, sizeof(buf)), -1);
}

Test(format, longest_values_fit_the_documented_buffer)
{
	struct dec d = D("-99999999.999999999999999999999999999999");
	char buf[DEC_TEXT_MAX + 1];

	cr_assert_eq(dec_format(&d, buf, sizeof(buf)), 40);
	cr_assert_str_eq(buf, "-99999999.999999999999999999999999999999");
	d = D("-99999999999999999999999999999999999999");
	cr_assert_eq(dec_format(&d, buf, sizeof(buf)), 39);
}

Test(format, parse_round_trip)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct dec d, e;
	char buf[DEC_TEXT_MAX + 1];
	struct tp_err err;
	int i, n;

	for (i = 0; i < 5000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d.m = (__int128)(x >> 1) * (__int128)(x % 100000000000ULL);
		d.m %= (__int128)1000000000000000000ULL * 100000000000000000ULL;
		if (x & 1)
			d.m = -d.m;
		d.scale = (int)(x % (DEC_SCALE_MAX + 1));
		n = dec_format(&d, buf, sizeof(buf));
		cr_assert_gt(n, 0);
		cr_assert_eq(dec_parse(buf, (size_t)n, &e, &err), 0, "%s: %s",
		    buf, err.msg);
		cr_assert(e.m == d.m && e.scale == d.scale, "%s", buf);
	}
}
