/* decimal.c: exact fixed-point decimal arithmetic (__int128 values, 256-bit intermediates). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/decimal.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

/*
 * An unsigned 256-bit integer, four 64-bit limbs, least significant first.
 * Products of two values and dividends scaled by up to 10^60 need more
 * than 128 bits; nothing here needs speed, so the operations are the
 * plain schoolbook ones.
 */
struct u256 {
	uint64_t w[4];
};

/* 10^n for 0 <= n <= DEC_DIGITS_MAX (10^38 < 2^127). */
static u128
dec_pow10(int n)
{
	u128 p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

static u128
dec_abs(__int128 m)
{
	/* |m| < 10^38 by invariant, so the negation cannot overflow */
	return m < 0 ? (u128)-m : (u128)m;
}

static void
u256_set(struct u256 *r, u128 v)
{
	r->w[0] = (uint64_t)v;
	r->w[1] = (uint64_t)(v >> 64);
	r->w[2] = 0;
	r->w[3] = 0;
}

static bool
u256_is_zero(const struct u256 *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

/* r *= k; false (r undefined) if the result does not fit 256 bits. */
static bool
u256_mul_small(struct u256 *r, uint64_t k)
{
	u128 carry = 0, t;
	int i;

	for (i = 0; i < 4; i++) {
		t = (u128)r->w[i] * k + carry;
		r->w[i] = (uint64_t)t;
		carry = t >> 64;
	}
	return carry == 0;
}

/* r += k; false on overflow. */
static bool
u256_add_small(struct u256 *r, uint64_t k)
{
	u128 carry = k, t;
	int i;

	for (i = 0; i < 4 && carry != 0; i++) {
		t = (u128)r->w[i] + carry;
		r->w[i] = (uint64_t)t;
		carry = t >> 64;
	}
	return carry == 0;
}

/* r /= k (k > 0); returns the remainder. */
static uint64_t
u256_div_small(struct u256 *r, uint64_t k)
{
	u128 rem = 0, t;
	int i;

	for (i = 3; i >= 0; i--) {
		t = (rem << 64) | r->w[i];
		r->w[i] = (uint64_t)(t / k);
		rem = t % k;
	}
	return (uint64_t)rem;
}

/* r = a * b, exact. */
static void
u256_mul128(struct u256 *r, u128 a, u128 b)
{
	uint64_t x[2] = { (uint64_t)a, (uint64_t)(a >> 64) };
	uint64_t y[2] = { (uint64_t)b, (uint64_t)(b >> 64) };
	u128 t, carry;
	int i, j;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 2; i++) {
		carry = 0;
		for (j = 0; j < 2; j++) {
			t = (u128)x[i] * y[j] + r->w[i + j] + carry;
			r->w[i + j] = (uint64_t)t;
			carry = t >> 64;
		}
		r->w[i + 2] = (uint64_t)carry;
	}
}

static int
u256_cmp(const struct u256 *a, const struct u256 *b)
{
	int i;

	for (i = 3; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

/* r = a - b, a >= b. */
static void
u256_sub(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
	uint64_t borrow = 0, x, y;
	int i;

	for (i = 0; i < 4; i++) {
		x = a->w[i];
		y = b->w[i];
		r->w[i] = x - y - borrow;
		borrow = (x < y || (x == y && borrow)) ? 1 : 0;
	}
}

/* r += a; the caller keeps the sum below 2^256. */
static void
u256_add(struct u256 *r, const struct u256 *a)
{
	u128 carry = 0, t;
	int i;

	for (i = 0; i < 4; i++) {
		t = (u128)r->w[i] + a->w[i] + carry;
		r->w[i] = (uint64_t)t;
		carry = t >> 64;
	}
}

/* r = (r << 1) | bit; the caller keeps r below 2^255. */
static void
u256_shl1(struct u256 *r, unsigned bit)
{
	int i;

	for (i = 3; i > 0; i--)
		r->w[i] = (r->w[i] << 1) | (r->w[i - 1] >> 63);
	r->w[0] = (r->w[0] << 1) | bit;
}

/* q = n / d, r = n % d; d != 0 and d < 2^255. Binary long division. */
static void
u256_divmod(const struct u256 *n, const struct u256 *d, struct u256 *q,
    struct u256 *r)
{
	int i;

	memset(q, 0, sizeof(*q));
	memset(r, 0, sizeof(*r));
	for (i = 255; i >= 0; i--) {
		/* r < d < 2^255 before the shift, so it cannot lose a bit */
		u256_shl1(r, (unsigned)(n->w[i / 64] >> (i % 64)) & 1);
		if (u256_cmp(r, d) >= 0) {
			u256_sub(r, r, d);
			q->w[i / 64] |= (uint64_t)1 << (i % 64);
		}
	}
}

/* true (and *out set) when a < 10^DEC_DIGITS_MAX. */
static bool
u256_to_mag(const struct u256 *a, u128 *out)
{
	u128 v;

	if (a->w[2] != 0 || a->w[3] != 0)
		return false;
	v = ((u128)a->w[1] << 64) | a->w[0];
	if (v >= dec_pow10(DEC_DIGITS_MAX))
		return false;
	*out = v;
	return true;
}

static int
dec_range_err(struct tp_err *err, const char *what)
{
	return tp_err_set(err, TP_INVALID_ARGUMENT,
	    "%s out of range (at most %d significant digits, %d decimals)",
	    what, DEC_DIGITS_MAX, DEC_SCALE_MAX);
}

static bool
dec_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
dec_parse(const char *s, size_t len, struct dec *d, struct tp_err *err)
{
	struct u256 n;
	size_t i = 0;
	bool neg = false, eneg = false;
	long exp = 0, scale;
	int frac = 0;
	u128 mag;

	if (s == NULL || len == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "not a decimal number: empty");
	if (len > DEC_TEXT_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "not a decimal number: longer than %d characters",
		    DEC_TEXT_MAX);
	memset(&n, 0, sizeof(n));
	if (s[i] == '-') {
		neg = true;
		i++;
	}
	if (i == len || !dec_digit(s[i]))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "not a decimal number: digit expected at offset %zu", i);
	/* JSON: the integer part is "0" or starts with 1-9 */
	if (s[i] == '0' && i + 1 < len && dec_digit(s[i + 1]))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "not a decimal number: leading zero");
	/* at most 64 digits < 10^64 < 2^256: the mantissa cannot overflow */
	for (; i < len && dec_digit(s[i]); i++) {
		(void)u256_mul_small(&n, 10);
		(void)u256_add_small(&n, (uint64_t)(s[i] - '0'));
	}
	if (i < len && s[i] == '.') {
		i++;
		if (i == len || !dec_digit(s[i]))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "not a decimal number: digit expected at offset %zu",
			    i);
		for (; i < len && dec_digit(s[i]); i++, frac++) {
			(void)u256_mul_small(&n, 10);
			(void)u256_add_small(&n, (uint64_t)(s[i] - '0'));
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			eneg = s[i] == '-';
			i++;
		}
		if (i == len || !dec_digit(s[i]))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "not a decimal number: digit expected at offset %zu",
			    i);
		/* saturate: anything past 10^6 is out of range either way */
		for (; i < len && dec_digit(s[i]); i++)
			if (exp < 1000000)
				exp = exp * 10 + (s[i] - '0');
		if (eneg)
			exp = -exp;
	}
	if (i != len)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "not a decimal number: unexpected character at offset %zu",
		    i);

	scale = (long)frac - exp;
	if (u256_is_zero(&n)) {
		/* zero in any notation: keep its decimals where possible */
		d->m = 0;
		d->scale = scale < 0 ? 0 :
		    scale > DEC_SCALE_MAX ? DEC_SCALE_MAX : (int)scale;
		return 0;
	}
	for (; scale < 0; scale++)
		if (!u256_mul_small(&n, 10))
			return dec_range_err(err, "decimal number");
	/* drop trailing zeros only where needed to fit; they change nothing */
	while (scale > 0 && (scale > DEC_SCALE_MAX || !u256_to_mag(&n, &mag))) {
		struct u256 t = n;

		if (u256_div_small(&t, 10) != 0)
			break;
		n = t;
		scale--;
	}
	if (scale > DEC_SCALE_MAX || !u256_to_mag(&n, &mag))
		return dec_range_err(err, "decimal number");
	d->m = neg ? -(__int128)mag : (__int128)mag;
	d->scale = (int)scale;
	return 0;
}

int
dec_from_json(json_object *v, struct dec *d, struct tp_err *err)
{
	const char *s;
	size_t len;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		/* an embedded NUL would make the text differ from its length */
		if (memchr(s, '\0', len) != NULL)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "not a decimal number: NUL byte");
		return dec_parse(s, len, d, err);
	case json_type_int:
		/*
		 * json-c (0.16, even in strict mode) saturates integers past 64
		 * bits to INT64_MIN or UINT64_MAX; those two cannot be told
		 * from real values, and no price or quantity is either.
		 */
		if (json_object_get_int64(v) == INT64_MIN ||
		    json_object_get_uint64(v) == UINT64_MAX)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "integer out of range");
		/* FALLTHROUGH */
	case json_type_double:
		/*
		 * An integer prints exactly. A double parsed by json-c keeps
		 * its original text as its serialization
		 * (json_object_new_double_s), so "0.10" stays 0.10 and never
		 * passes through binary floating point. NaN and Infinity
		 * print as such and are refused by dec_parse.
		 */
		s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN,
		    &len);
		if (s == NULL)
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		return dec_parse(s, len, d, err);
	default:
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "must be a number or a decimal string");
	}
}

void
dec_from_int(int64_t v, struct dec *d)
{
	d->m = v;
	d->scale = 0;
}

/* m * 10^k, false if it leaves the range. */
static bool
dec_upscale(__int128 m, int k, __int128 *out)
{
	u128 mag = dec_abs(m);

	if (k < 0 || k > DEC_DIGITS_MAX)
		return false;
	if (mag != 0 && mag >= dec_pow10(DEC_DIGITS_MAX - k))
		return false;
	mag *= dec_pow10(k);
	*out = m < 0 ? -(__int128)mag : (__int128)mag;
	return true;
}

static bool
dec_in_range(__int128 m)
{
	return dec_abs(m) < dec_pow10(DEC_DIGITS_MAX);
}

/* a + sign * b, on 256-bit magnitudes so that aligning an operand to the
 * common scale cannot overflow (each stays below 10^68). */
static int
dec_addsub(const struct dec *a, const struct dec *b, int sign,
    struct dec *out, struct tp_err *err)
{
	int scale = a->scale > b->scale ? a->scale : b->scale, k;
	bool na = a->m < 0, nb = (b->m < 0) != (sign < 0), neg;
	struct u256 x, y;
	u128 mag;

	u256_set(&x, dec_abs(a->m));
	u256_set(&y, dec_abs(b->m));
	for (k = a->scale; k < scale; k++)
		(void)u256_mul_small(&x, 10);
	for (k = b->scale; k < scale; k++)
		(void)u256_mul_small(&y, 10);
	if (na == nb) {
		u256_add(&x, &y);
		neg = na;
	} else if (u256_cmp(&x, &y) >= 0) {
		u256_sub(&x, &x, &y);
		neg = na;
	} else {
		u256_sub(&x, &y, &x);
		neg = nb;
	}
	if (!u256_to_mag(&x, &mag))
		return dec_range_err(err, sign > 0 ? "sum" : "difference");
	out->m = neg ? -(__int128)mag : (__int128)mag;
	out->scale = scale;
	return 0;
}

int
dec_add(const struct dec *a, const struct dec *b, struct dec *out,
    struct tp_err *err)
{
	return dec_addsub(a, b, 1, out, err);
}

int
dec_sub(const struct dec *a, const struct dec *b, struct dec *out,
    struct tp_err *err)
{
	return dec_addsub(a, b, -1, out, err);
}

int
dec_mul(const struct dec *a, const struct dec *b, struct dec *out,
    struct tp_err *err)
{
	struct u256 p;
	bool neg = (a->m < 0) != (b->m < 0), removed = false;
	int scale = a->scale + b->scale;
	uint64_t digit = 0;
	u128 mag;

	u256_mul128(&p, dec_abs(a->m), dec_abs(b->m));
	/*
	 * Drop decimals one at a time until the product fits; only the last
	 * digit dropped decides the rounding: >= 5 means the dropped part is
	 * at least half a unit, so the magnitude goes up (half away from zero).
	 */
	while (scale > 0 && (scale > DEC_SCALE_MAX || !u256_to_mag(&p, &mag))) {
		digit = u256_div_small(&p, 10);
		scale--;
		removed = true;
	}
	if (removed && digit >= 5) {
		(void)u256_add_small(&p, 1);
		/* 99..9 + 1 may reach 10^38: one more exact division by 10 */
		if (!u256_to_mag(&p, &mag) && scale > 0) {
			(void)u256_div_small(&p, 10);
			scale--;
		}
	}
	if (!u256_to_mag(&p, &mag))
		return dec_range_err(err, "product");
	out->m = neg ? -(__int128)mag : (__int128)mag;
	out->scale = scale;
	return 0;
}

int
dec_div(const struct dec *a, const struct dec *b, int places,
    struct dec *out, struct tp_err *err)
{
	struct u256 n, d, q, r;
	bool neg = (a->m < 0) != (b->m < 0);
	int k;
	u128 mag;

	if (places < 0 || places > DEC_SCALE_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "decimal places must be 0 to %d", DEC_SCALE_MAX);
	if (b->m == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "division by zero");
	/*
	 * a/b * 10^places = (ma * 10^(sb - sa + places)) / mb. The power
	 * goes on the dividend or the divisor, whichever keeps it an integer;
	 * the divisor stays below 10^68 and the dividend below 2^256 (past
	 * that the quotient is out of range anyway).
	 */
	k = b->scale - a->scale + places;
	u256_set(&n, dec_abs(a->m));
	u256_set(&d, dec_abs(b->m));
	for (; k > 0; k--)
		if (!u256_mul_small(&n, 10))
			return dec_range_err(err, "quotient");
	for (; k < 0; k++)
		(void)u256_mul_small(&d, 10);
	u256_divmod(&n, &d, &q, &r);
	/* half away from zero: up when 2r >= d (r < d < 2^226, no overflow) */
	u256_shl1(&r, 0);
	if (u256_cmp(&r, &d) >= 0)
		(void)u256_add_small(&q, 1);
	if (!u256_to_mag(&q, &mag))
		return dec_range_err(err, "quotient");
	out->m = neg ? -(__int128)mag : (__int128)mag;
	out->scale = places;
	return 0;
}

void
dec_round(const struct dec *a, int places, struct dec *out)
{
	__int128 m = a->m, t;
	int scale = a->scale;
	u128 mag, p, q, r;

	if (places < 0)
		places = 0;
	if (places > DEC_SCALE_MAX)
		places = DEC_SCALE_MAX;
	if (places < scale) {
		mag = dec_abs(m);
		p = dec_pow10(scale - places);
		q = mag / p;
		r = mag % p;
		/* r < p <= 10^30, so 2r cannot overflow */
		if (2 * r >= p)
			q++;
		m = m < 0 ? -(__int128)q : (__int128)q;
		scale = places;
	}
	/* pad to `places` decimals while the value stays in range */
	for (; scale < places && dec_upscale(m, 1, &t); scale++)
		m = t;
	out->m = m;
	out->scale = scale;
}

int
dec_cmp(const struct dec *a, const struct dec *b)
{
	__int128 ia, ib, fa, fb;
	int s = a->scale > b->scale ? a->scale : b->scale;

	/* integer parts first, then fractions aligned to the larger scale
	 * (each below 10^30 there, so the alignment cannot overflow) */
	ia = a->m / (__int128)dec_pow10(a->scale);
	ib = b->m / (__int128)dec_pow10(b->scale);
	if (ia != ib)
		return ia < ib ? -1 : 1;
	fa = a->m % (__int128)dec_pow10(a->scale) *
	    (__int128)dec_pow10(s - a->scale);
	fb = b->m % (__int128)dec_pow10(b->scale) *
	    (__int128)dec_pow10(s - b->scale);
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return 0;
}

int
dec_sign(const struct dec *a)
{
	return a->m < 0 ? -1 : a->m > 0 ? 1 : 0;
}

void
dec_neg(const struct dec *a, struct dec *out)
{
	out->m = -a->m;
	out->scale = a->scale;
}

int
dec_format(const struct dec *a, char *buf, size_t size)
{
	char digits[DEC_DIGITS_MAX + DEC_SCALE_MAX + 2];
	size_t nd = 0, need, i, o = 0;
	u128 mag = dec_abs(a->m);
	int scale = a->scale;

	if (scale < 0 || scale > DEC_SCALE_MAX || !dec_in_range(a->m))
		return -1;
	/* digits, least significant first, at least scale + 1 of them */
	do {
		digits[nd++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	} while (mag != 0);
	while (nd < (size_t)scale + 1)
		digits[nd++] = '0';
	need = (a->m < 0 ? 1 : 0) + nd + (scale > 0 ? 1 : 0);
	if (buf == NULL || need + 1 > size)
		return -1;
	if (a->m < 0)
		buf[o++] = '-';
	for (i = nd; i > 0; i--) {
		if (i == (size_t)scale && scale > 0)
			buf[o++] = '.';
		buf[o++] = digits[i - 1];
	}
	buf[o] = '\0';
	return (int)o;
}

json_object *
dec_to_json_number(const struct dec *a)
{
	char buf[DEC_TEXT_MAX + 1];

	if (dec_format(a, buf, sizeof(buf)) == -1)
		return NULL;
	/* the double is only for readers that ask json-c for one; the
	 * serialized text is buf, exactly */
	return json_object_new_double_s(strtod(buf, NULL), buf);
}
