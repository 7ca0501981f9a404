/* alpaca_fixture.h: the set-up both Alpaca client test files share. */
#ifndef TP_TESTS_ALPACA_FIXTURE_H
#define TP_TESTS_ALPACA_FIXTURE_H

#include "common/error.h"

/* libsodium and libcurl initialised, err cleared; asserts on failure. */
void alpaca_fixture_init(struct tp_err *err);

#endif
