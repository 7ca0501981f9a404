/* alpaca_fixture.c: the set-up both Alpaca client test files share. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <curl/curl.h>
#include <sodium.h>

#include "tests/unit/alpaca_fixture.h"

void
alpaca_fixture_init(struct tp_err *err)
{
	cr_assert_geq(sodium_init(), 0);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	tp_err_clear(err);
}
