/* decimal.h: exact fixed-point decimal numbers for money, with one rounding rule. */
#ifndef TP_DECIMAL_H
#define TP_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * A value is m / 10^scale with 0 <= scale <= DEC_SCALE_MAX and
 * |m| < 10^DEC_DIGITS_MAX (so negation never overflows and every
 * intermediate fits the 256-bit helpers). Values are not normalised:
 * "1.50" keeps scale 2 and prints as "1.50".
 *
 * Rounding rule, everywhere: HALF AWAY FROM ZERO. A value exactly half way
 * between two results goes to the one with the larger magnitude:
 * 0.125 -> 0.13, -0.125 -> -0.13, 2.5 -> 3, -2.5 -> -3.
 *
 * Every function that can leave the range returns -1 with
 * TP_INVALID_ARGUMENT and a message; none aborts.
 */
#define DEC_SCALE_MAX  30	/* most decimals kept */
#define DEC_DIGITS_MAX 38	/* most significant digits in m */
#define DEC_TEXT_MAX   64	/* longest text dec_parse accepts; a buffer of
				   DEC_TEXT_MAX + 1 bytes always holds dec_format */

struct dec {
	__int128 m;
	int scale;
};

/*
 * Parses exactly len bytes. Grammar: the strict JSON number grammar,
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, whether the text came
 * as a JSON number or inside a JSON string. No '+' sign, no leading zeros
 * ("012"), no "1." or ".5", no spaces, no "nan"/"inf", no hex, at most
 * DEC_TEXT_MAX bytes. The scale is the number of decimals written minus
 * the exponent ("1.50" -> scale 2, "1.5e2" -> 150 scale 0, "1e-3" -> 0.001
 * scale 3). Trailing zeros are dropped only when needed to fit
 * DEC_SCALE_MAX decimals and DEC_DIGITS_MAX digits; a value needing more
 * is refused ("out of range").
 */
int dec_parse(const char *s, size_t len, struct dec *d, struct tp_err *err);
/* A JSON string (parsed with dec_parse) or number. An integer is exact; a
 * double is taken from the number's original text as json-c's tokener kept
 * it, so no binary floating point enters. Anything else: "must be a number
 * or a decimal string". */
int dec_from_json(json_object *v, struct dec *d, struct tp_err *err);
/* An integer, scale 0. */
void dec_from_int(int64_t v, struct dec *d);

/* Exact; the result has the larger scale of the two. -1 "out of range"
 * when it does not fit. */
int dec_add(const struct dec *a, const struct dec *b, struct dec *out,
    struct tp_err *err);
int dec_sub(const struct dec *a, const struct dec *b, struct dec *out,
    struct tp_err *err);
/* Exact (scale a->scale + b->scale) when the product fits DEC_DIGITS_MAX
 * digits and DEC_SCALE_MAX decimals. Otherwise the exact 256-bit product is
 * rounded half away from zero to the most decimals that fit (this is never
 * less accurate than rounding an operand first); -1 "out of range" when
 * even its integer part does not fit. */
int dec_mul(const struct dec *a, const struct dec *b, struct dec *out,
    struct tp_err *err);
/* a / b rounded half away from zero to `places` decimals
 * (0 <= places <= DEC_SCALE_MAX); the result has scale `places`. Division
 * by zero and a quotient out of range are errors. */
int dec_div(const struct dec *a, const struct dec *b, int places,
    struct dec *out, struct tp_err *err);
/* Half away from zero to `places` decimals (clamped to 0..DEC_SCALE_MAX).
 * When places > a->scale the value is padded with zeros to scale
 * `places`, so dec_format prints exactly `places` decimals; if padding
 * would leave the range (|value| >= 10^(38 - places)), the exact value is
 * kept at the largest scale that fits. Never fails: out may alias a. */
void dec_round(const struct dec *a, int places, struct dec *out);
/* <0, 0, >0 like strcmp; compares values, not text (1.5 == 1.50). */
int dec_cmp(const struct dec *a, const struct dec *b);
/* -1, 0 or 1. */
int dec_sign(const struct dec *a);
/* -a (always fits). out may alias a. */
void dec_neg(const struct dec *a, struct dec *out);

/* Plain text with exactly a->scale decimals: "-12.50", "0.001", "7"
 * (no exponent; "-0.00" is printed as "0.00"). Returns the length, or -1
 * if it does not fit in size bytes (including the NUL). */
int dec_format(const struct dec *a, char *buf, size_t size);
/* A JSON number whose serialized text is dec_format's
 * (json_object_new_double_s); NULL on allocation failure. */
json_object *dec_to_json_number(const struct dec *a);

#endif
