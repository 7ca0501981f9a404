/* decimal_fixture.c: the decimal tests' helpers: D() parses, F() prints, check_result() checks an outcome. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "tests/unit/decimal_fixture.h"

#include <criterion/criterion.h>

#include <string.h>

/* Parses s, which must be valid. */
struct dec
D(const char *s)
{
	struct tp_err err = { 0 };
	struct dec d;

	cr_assert_eq(dec_parse(s, strlen(s), &d, &err), 0,
	    "dec_parse(\"%s\"): %s", s, err.msg);
	return d;
}

/* d printed, in a static buffer. */
const char *
F(const struct dec *d)
{
	static char buf[DEC_TEXT_MAX + 1];

	cr_assert_geq(dec_format(d, buf, sizeof(buf)), 0);
	return buf;
}

/* An operation's outcome: its text, or NULL when it must fail with
 * "out of range". */
void
check_result(int rc, const struct dec *got, const struct tp_err *err,
    const char *want, const char *what)
{
	if (want == NULL) {
		cr_assert_eq(rc, -1, "%s: expected out of range, got %s",
		    what, rc == 0 ? F(got) : err->msg);
		cr_assert_eq(err->code, TP_INVALID_ARGUMENT, "%s", what);
		cr_assert_not_null(strstr(err->msg, "out of range"), "%s: %s",
		    what, err->msg);
		return;
	}
	cr_assert_eq(rc, 0, "%s: %s", what, err->msg);
	cr_assert_str_eq(F(got), want, "%s", what);
}
