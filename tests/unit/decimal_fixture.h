/* decimal_fixture.h: the decimal tests' helpers: D() parses, F() prints, check_result() checks an outcome. */
#ifndef TP_TESTS_DECIMAL_FIXTURE_H
#define TP_TESTS_DECIMAL_FIXTURE_H

#include "common/decimal.h"
#include "common/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Parses s, which must be valid. */
struct dec D(const char *s);
/* d printed, in a static buffer. */
const char *F(const struct dec *d);
/* An operation's outcome: its text, or NULL when it must fail with
 * "out of range". */
void check_result(int rc, const struct dec *got, const struct tp_err *err,
    const char *want, const char *what);

#endif
