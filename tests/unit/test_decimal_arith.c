/* test_decimal_arith.c: fixed-point decimal arithmetic, rounding and comparison, against generated tables. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/decimal.h"
#include "common/jsonutil.h"
#include "tests/unit/decimal_fixture.h"
#include "tests/unit/decimal_cases.h"

/* ---- arithmetic ---- */

Test(arith, generated_add_sub_mul)
{
	struct tp_err err;
	struct dec a, b, r;
	char what[200];
	size_t i, rounded = 0, overflow = 0;

	for (i = 0; i < NELEM(bin_cases); i++) {
		a = D(bin_cases[i].a);
		b = D(bin_cases[i].b);
		snprintf(what, sizeof(what), "%s + %s", bin_cases[i].a,
		    bin_cases[i].b);
		check_result(dec_add(&a, &b, &r, &err), &r, &err,
		    bin_cases[i].sum, what);
		snprintf(what, sizeof(what), "%s - %s", bin_cases[i].a,
		    bin_cases[i].b);
		check_result(dec_sub(&a, &b, &r, &err), &r, &err,
		    bin_cases[i].diff, what);
		snprintf(what, sizeof(what), "%s * %s", bin_cases[i].a,
		    bin_cases[i].b);
		check_result(dec_mul(&a, &b, &r, &err), &r, &err,
		    bin_cases[i].prod, what);
		if (bin_cases[i].prod == NULL)
			overflow++;
		else if (r.scale < a.scale + b.scale)
			rounded++;
	}
	/* the table exercises both the rounding and the failing products */
	cr_assert_geq(rounded, 5, "%zu rounded products", rounded);
	cr_assert_geq(overflow, 3, "%zu overflowing products", overflow);
}

Test(arith, add_sub_exact_and_range)
{
	struct tp_err err;
	struct dec a, b, r;

	a = D("0.1");
	b = D("0.2");
	cr_assert_eq(dec_add(&a, &b, &r, &err), 0);
	cr_assert_str_eq(F(&r), "0.3");		/* not 0.30000000000000004 */
	a = D("122011.09751111286868");
	b = D("-122011.09751111286868");
	cr_assert_eq(dec_add(&a, &b, &r, &err), 0);
	cr_assert_str_eq(F(&r), "0.00000000000000");
	/* aligning to 30 decimals needs 68 digits internally; the result fits */
	a = D("-9999999.999999999999999999999999999999");
	b = D("10000000");
	cr_assert_eq(dec_add(&a, &b, &r, &err), 0, "%s", err.msg);
	cr_assert_str_eq(F(&r), "0.000000000000000000000000000001");
	a = D("99999999999999999999999999999999999999");
	b = D("1");
	check_result(dec_add(&a, &b, &r, &err), &r, &err, NULL, "max + 1");
	b = D("-1");
	check_result(dec_sub(&a, &b, &r, &err), &r, &err, NULL, "max - -1");
	check_result(dec_add(&a, &b, &r, &err), &r, &err,
	    "99999999999999999999999999999999999998", "max + -1");
	a = D("-99999999999999999999999999999999999999");
	check_result(dec_add(&a, &b, &r, &err), &r, &err, NULL, "min + -1");
	/* the common scale must fit too */
	a = D("10000000000000000000000000000000000000");
	b = D("0.1");
	check_result(dec_add(&a, &b, &r, &err), &r, &err, NULL, "1e37 + 0.1");
	/* aliasing */
	a = D("1.5");
	cr_assert_eq(dec_add(&a, &a, &a, &err), 0);
	cr_assert_str_eq(F(&a), "3.0");
	cr_assert_eq(dec_sub(&a, &a, &a, &err), 0);
	cr_assert_str_eq(F(&a), "0.0");
}

static const struct {
	const char *a, *b, *prod;
} mul_cases[] = {
	{ "122011.09751111286868", "3", "366033.29253333860604" },
	{ "-187.25", "10", "-1872.50" },
	{ "0.1", "0.1", "0.01" },
	{ "-0.5", "-0.5", "0.25" },
	{ "0", "-5.5", "0.0" },
	/* 32 decimals: rounded to 30, half away from zero */
	{ "0.0000000000000001", "0.0000000000000005",
	    "0.000000000000000000000000000000" },
	{ "0.0000000000000001", "0.000000000000005",
	    "0.000000000000000000000000000001" },
	{ "-0.0000000000000001", "0.000000000000005",
	    "-0.000000000000000000000000000001" },
	{ "0.000000000000000123456789", "0.00000000000000987654321",
	    "0.000000000000000000000000000001" },
	/* more than 38 digits: rounded to the decimals that fit */
	{ "99999999999999999999.999999999999999", "99999999999999999.9",
	    "9999999999999999989999999999999999900.0" },
	{ "12345678901234567890.12345678901234567", "-3.000000000000000005",
	    "-37037036703703703732.098764873209876461" },
	{ "9999999999999999999.9999999999999999999",
	    "9999999999999999999.9999999999999999999",
	    "99999999999999999999999999999999999998" },
	{ "1234567890123456789.1234567890123456789", "12.5",
	    "15432098626543209864.043209862654320986" },
	/* rounding up reaches 10^37 at one decimal: one decimal fewer */
	{ "999999999999.9", "10000000000001000000000000.1",
	    "10000000000000000000000000000000000000" },
	{ "-999999999999.9", "10000000000001000000000000.1",
	    "-10000000000000000000000000000000000000" },
	{ "-9999999999999999999", "10000000000000000001",
	    "-99999999999999999999999999999999999999" },
	/* integer part too long: out of range */
	{ "10000000000000000000", "10000000000000000000", NULL },
	{ "-10000000000000000000", "10000000000000000000", NULL },
	{ "99999999999999999999999999999999999999", "1.5", NULL },
	{ "99999999999999999999999999999999999999",
	    "99999999999999999999999999999999999999", NULL },
};

Test(arith, mul)
{
	struct tp_err err;
	struct dec a, b, r;
	char what[200];
	size_t i;

	for (i = 0; i < NELEM(mul_cases); i++) {
		a = D(mul_cases[i].a);
		b = D(mul_cases[i].b);
		snprintf(what, sizeof(what), "%s * %s", mul_cases[i].a,
		    mul_cases[i].b);
		check_result(dec_mul(&a, &b, &r, &err), &r, &err,
		    mul_cases[i].prod, what);
		/* commutative, including the rounding */
		check_result(dec_mul(&b, &a, &r, &err), &r, &err,
		    mul_cases[i].prod, what);
	}
}

Test(arith, generated_div)
{
	struct tp_err err;
	struct dec a, b, r;
	char what[200];
	size_t i;

	for (i = 0; i < NELEM(div_cases); i++) {
		a = D(div_cases[i].a);
		b = D(div_cases[i].b);
		snprintf(what, sizeof(what), "%s / %s to %d", div_cases[i].a,
		    div_cases[i].b, div_cases[i].places);
		check_result(dec_div(&a, &b, div_cases[i].places, &r, &err),
		    &r, &err, div_cases[i].q, what);
		if (div_cases[i].q != NULL)
			cr_assert_eq(r.scale, div_cases[i].places);
	}
}

static const struct {
	const char *a, *b;
	int places;
	const char *q;
} div_hand[] = {
	{ "1", "8", 2, "0.13" },		/* 0.125: half, away from zero */
	{ "-1", "8", 2, "-0.13" },
	{ "1", "-8", 2, "-0.13" },
	{ "-1", "-8", 2, "0.13" },
	{ "1", "8", 3, "0.125" },
	{ "1", "3", 2, "0.33" },
	{ "2", "3", 2, "0.67" },
	{ "-2", "3", 2, "-0.67" },
	{ "5", "2", 0, "3" },
	{ "-5", "2", 0, "-3" },
	{ "7", "2", 0, "4" },
	{ "-7", "2", 0, "-4" },
	{ "0.5", "1", 0, "1" },
	{ "0.49999999999999999999999999999", "1", 0, "0" },
	{ "1", "3", 30, "0.333333333333333333333333333333" },
	{ "2", "3", 30, "0.666666666666666666666666666667" },
	{ "0", "-3", 2, "0.00" },
	{ "-0.0001", "3", 2, "0.00" },
	{ "122011.09751111286868", "0.00000000000000000001", 2,
	    "12201109751111286868000000.00" },
	{ "99999999999999999999999999999999999999", "1", 0,
	    "99999999999999999999999999999999999999" },
	{ "99999999999999999999999999999999999999",
	    "99999999999999999999999999999999999999", 30,
	    "1.000000000000000000000000000000" },
	{ "1", "99999999999999999999999999999999999999", 30,
	    "0.000000000000000000000000000000" },
	{ "0.000000000000000000000000000001", "0.000000000000000000000000000003",
	    4, "0.3333" },
	{ "99999999999999999999999999999999999999", "0.1", 0, NULL },
	{ "1", "0.000000000000000000000000000001", 8, NULL },
	{ "10000000", "0.000000000000000000000000000001", 0,
	    "10000000000000000000000000000000000000" },
	{ "100000000", "0.000000000000000000000000000001", 0, NULL },
	{ "9999999", "0.000000000000000000000000000001", 0,
	    "9999999000000000000000000000000000000" },
	{ "9999999999999999999999999999999999999", "2", 1,
	    "4999999999999999999999999999999999999.5" },
	{ "99999999999999999999999999999999999999", "2", 1, NULL },
	{ "99999999999999999999999999999999999999", "2", 0,
	    "50000000000000000000000000000000000000" },
	{ "99999999999999999999999999999999999999", "2", 2, NULL },
};

Test(arith, div)
{
	struct tp_err err;
	struct dec a, b, r;
	char what[200];
	size_t i;

	for (i = 0; i < NELEM(div_hand); i++) {
		a = D(div_hand[i].a);
		b = D(div_hand[i].b);
		snprintf(what, sizeof(what), "%s / %s to %d", div_hand[i].a,
		    div_hand[i].b, div_hand[i].places);
		check_result(dec_div(&a, &b, div_hand[i].places, &r, &err),
		    &r, &err, div_hand[i].q, what);
	}
}

Test(arith, div_errors)
{
	struct tp_err err;
	struct dec a = D("1"), z = D("0.000"), r;

	cr_assert_eq(dec_div(&a, &z, 2, &r, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_str_eq(err.msg, "division by zero");
	cr_assert_eq(dec_div(&z, &z, 2, &r, &err), -1);
	cr_assert_eq(dec_div(&a, &a, -1, &r, &err), -1);
	cr_assert_not_null(strstr(err.msg, "decimal places"), "%s", err.msg);
	cr_assert_eq(dec_div(&a, &a, DEC_SCALE_MAX + 1, &r, &err), -1);
	cr_assert_eq(dec_div(&a, &a, DEC_SCALE_MAX, &r, &err), 0);
	cr_assert_str_eq(F(&r), "1.000000000000000000000000000000");
}

/* Pseudo-random identities: (a + b) - b == a, (a * b) / b == a. */
Test(arith, identities)
{
	uint64_t x = 88172645463325252ULL;
	struct tp_err err;
	struct dec a, b, s, t;
	int i, checked = 0;

	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a.m = (__int128)(int64_t)x;
		a.scale = (int)(x % 19);
		b.m = (__int128)(int64_t)(x * 0x2545F4914F6CDD1DULL) >>
		    (x % 40);
		b.scale = (int)((x >> 20) % 12);
		if (dec_add(&a, &b, &s, &err) == 0) {
			cr_assert_eq(dec_sub(&s, &b, &t, &err), 0);
			cr_assert_eq(dec_cmp(&t, &a), 0);
		}
		if (b.m != 0 && dec_mul(&a, &b, &s, &err) == 0 &&
		    s.scale == a.scale + b.scale) {
			cr_assert_eq(dec_div(&s, &b, a.scale, &t, &err), 0,
			    "%s", err.msg);
			cr_assert(t.m == a.m, "(a*b)/b != a at %d", i);
			checked++;
		}
	}
	cr_assert_gt(checked, 10000);
}

/* ---- rounding ---- */

static const struct round_case round_hand[] = {
	{ "0.125", 2, "0.13" },
	{ "-0.125", 2, "-0.13" },
	{ "0.135", 2, "0.14" },			/* not to even */
	{ "-0.135", 2, "-0.14" },
	{ "0.124999999", 2, "0.12" },
	{ "-0.124999999", 2, "-0.12" },
	{ "0.1250000000000000000000000001", 2, "0.13" },
	{ "2.5", 0, "3" },
	{ "-2.5", 0, "-3" },
	{ "3.5", 0, "4" },
	{ "0.5", 0, "1" },
	{ "-0.5", 0, "-1" },
	{ "0.4999999999999999999999999999", 0, "0" },
	{ "-0.005", 2, "-0.01" },
	{ "0.005", 2, "0.01" },
	{ "0.004", 2, "0.00" },
	{ "-0.004", 2, "0.00" },		/* no "-0.00" */
	{ "9.995", 2, "10.00" },
	{ "-9.995", 2, "-10.00" },
	{ "-0.00005", 4, "-0.0001" },
	{ "99999999999999999999999999999999999.995", 2,
	    "100000000000000000000000000000000000.00" },
	{ "12", 2, "12.00" },
	{ "-0.5", 2, "-0.50" },
	{ "1.5", 2, "1.50" },
	{ "1.23", 40, "1.230000000000000000000000000000" },	/* clamped */
	{ "1.5", -3, "2" },					/* clamped */
	/* padding stops where the value would leave the range */
	{ "9999999999999999999999999999999999999", 2,
	    "9999999999999999999999999999999999999.0" },
	{ "99999999999999999999999999999999999999", 2,
	    "99999999999999999999999999999999999999" },
};

Test(round, boundaries)
{
	struct dec d, r;
	size_t i;

	for (i = 0; i < NELEM(round_hand); i++) {
		d = D(round_hand[i].a);
		dec_round(&d, round_hand[i].places, &r);
		cr_assert_str_eq(F(&r), round_hand[i].r, "%s to %d",
		    round_hand[i].a, round_hand[i].places);
	}
}

Test(round, generated)
{
	struct dec d, r;
	size_t i;

	for (i = 0; i < NELEM(round_cases); i++) {
		d = D(round_cases[i].a);
		dec_round(&d, round_cases[i].places, &r);
		cr_assert_str_eq(F(&r), round_cases[i].r, "%s to %d",
		    round_cases[i].a, round_cases[i].places);
		/* in place gives the same */
		dec_round(&d, round_cases[i].places, &d);
		cr_assert_str_eq(F(&d), round_cases[i].r);
	}
}

/* ---- comparison, sign, integers ---- */

Test(cmp, generated)
{
	struct dec a, b;
	size_t i;

	for (i = 0; i < NELEM(cmp_cases); i++) {
		a = D(cmp_cases[i].a);
		b = D(cmp_cases[i].b);
		cr_assert_eq(dec_cmp(&a, &b), cmp_cases[i].cmp, "%s vs %s",
		    cmp_cases[i].a, cmp_cases[i].b);
		cr_assert_eq(dec_cmp(&b, &a), -cmp_cases[i].cmp);
	}
}

Test(cmp, across_scales)
{
	struct dec a, b;

	a = D("1.5");
	b = D("1.50");
	cr_assert_eq(dec_cmp(&a, &b), 0);
	a = D("-0");
	b = D("0.000");
	cr_assert_eq(dec_cmp(&a, &b), 0);
	a = D("-0.001");
	cr_assert_lt(dec_cmp(&a, &b), 0);
	a = D("-1.5");
	b = D("-1.25");
	cr_assert_lt(dec_cmp(&a, &b), 0);
	a = D("99999999999999999999999999999999999999");
	b = D("99999999.999999999999999999999999999999");
	cr_assert_gt(dec_cmp(&a, &b), 0);
	cr_assert_lt(dec_cmp(&b, &a), 0);
	a = D("0.000000000000000000000000000001");
	b = D("0");
	cr_assert_gt(dec_cmp(&a, &b), 0);
	a = D("-99999999999999999999999999999999999999");
	b = D("-0.000000000000000000000000000001");
	cr_assert_lt(dec_cmp(&a, &b), 0);
}

Test(misc, sign_neg_from_int)
{
	struct dec d;

	dec_from_int(INT64_MIN, &d);
	cr_assert_str_eq(F(&d), "-9223372036854775808");
	cr_assert_eq(dec_sign(&d), -1);
	dec_neg(&d, &d);
	cr_assert_str_eq(F(&d), "9223372036854775808");
	cr_assert_eq(dec_sign(&d), 1);
	dec_from_int(0, &d);
	cr_assert_eq(dec_sign(&d), 0);
	d = D("-99999999999999999999999999999999999999");
	dec_neg(&d, &d);
	cr_assert_str_eq(F(&d), "99999999999999999999999999999999999999");
}
