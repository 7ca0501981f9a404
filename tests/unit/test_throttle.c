/* test_throttle.c: the worker restart policy: backoff, quiet reset, crash rate, start-up failures. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <string.h>

#include <criterion/criterion.h>

#include "common/config.h"
#include "supervisor/pool_int.h"

#define T0	1000000000ull	/* an arbitrary monotonic time, in ms */

static struct config cfg;
static struct throttle thr;
static char reason[THROTTLE_REASON_MAX];

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.backoff_max = 30000;
	cfg.crash_rate = 30;
	throttle_init(&thr);
}

TestSuite(throttle, .init = setup);

static uint64_t
retry(uint64_t now)
{
	return throttle_retry_ms(&thr, &cfg, now, reason, sizeof(reason));
}

Test(throttle, nothing_happened_spawns_at_once)
{
	cr_assert_eq(retry(T0), 0);
	cr_assert_str_empty(reason);
	cr_assert_eq(throttle_window_crashes(&thr, T0), 0);
}

Test(throttle, backoff_doubles_from_100ms)
{
	throttle_crash(&thr, &cfg, T0, false, "worker 1 killed by SIGSEGV");
	cr_assert_eq(retry(T0), 100);
	cr_assert_eq(retry(T0 + 60), 40);
	cr_assert_eq(retry(T0 + 100), 0);
	cr_assert_str_empty(reason);

	throttle_crash(&thr, &cfg, T0 + 200, false, "worker 2 killed by SIGABRT");
	cr_assert_eq(retry(T0 + 200), 200);
	cr_assert(strstr(reason, "restart backoff after 2 crashes in a row") !=
	    NULL, "%s", reason);
	cr_assert(strstr(reason, "SIGABRT") != NULL, "%s", reason);
	throttle_crash(&thr, &cfg, T0 + 500, false, "x");
	cr_assert_eq(retry(T0 + 500), 400);
}

Test(throttle, backoff_is_capped)
{
	uint64_t t = T0;
	int i;

	cfg.crash_rate = 1000;
	cfg.backoff_max = 1500;
	for (i = 0; i < 20; i++) {
		throttle_crash(&thr, &cfg, t, false, "x");
		t += 10;
	}
	cr_assert_eq(retry(t - 10), 1500);
}

Test(throttle, clean_exit_resets_backoff)
{
	throttle_crash(&thr, &cfg, T0, false, "x");
	throttle_crash(&thr, &cfg, T0 + 1, false, "x");
	throttle_crash(&thr, &cfg, T0 + 2, false, "x");
	cr_assert_eq(retry(T0 + 2), 400);
	throttle_clean(&thr);
	cr_assert_eq(retry(T0 + 2), 0);
	throttle_crash(&thr, &cfg, T0 + 3, false, "x");
	cr_assert_eq(retry(T0 + 3), 100);
}

Test(throttle, quiet_period_resets_backoff)
{
	int i;

	for (i = 0; i < 5; i++)
		throttle_crash(&thr, &cfg, T0 + (uint64_t)i, false, "x");
	cr_assert_eq(retry(T0 + 4), 1600);
	/* quiet = max(2 * backoff_max, 60 s) = 60 s */
	throttle_crash(&thr, &cfg, T0 + 4 + 60000, false, "x");
	cr_assert_eq(retry(T0 + 4 + 60000), 100);
}

Test(throttle, crash_rate_throttles_until_the_window_allows)
{
	uint64_t now = T0 + 500;	/* mid-second */
	int i;

	cfg.crash_rate = 3;
	for (i = 0; i < 4; i++)
		throttle_crash(&thr, &cfg, now, false, "worker killed by SIGSEGV");
	cr_assert_eq(throttle_window_crashes(&thr, now), 4);
	/* the four fell in second T0/1000: allowed again 60 s after it */
	cr_assert_eq(retry(now), 60000 - 500);
	cr_assert(strncmp(reason, "crash rate limit: 4 crashes", 27) == 0,
	    "%s", reason);
	/* a clean exit ends the backoff, not the rate limit */
	throttle_clean(&thr);
	cr_assert_eq(retry(now + 30000), 60000 - 500 - 30000);
	cr_assert_eq(retry(T0 + 60000), 0);
	cr_assert_eq(throttle_window_crashes(&thr, T0 + 60000), 0);
}

Test(throttle, crash_rate_counts_a_sliding_minute)
{
	cfg.crash_rate = 2;
	throttle_crash(&thr, &cfg, T0, false, "a");
	throttle_crash(&thr, &cfg, T0 + 20000, false, "b");
	throttle_clean(&thr);
	cr_assert_eq(retry(T0 + 20000), 0);
	throttle_crash(&thr, &cfg, T0 + 40000, false, "c");
	throttle_clean(&thr);
	/* three within the minute: wait until the first leaves it */
	cr_assert_eq(retry(T0 + 40000), 20000);
	cr_assert_eq(retry(T0 + 60000), 0);
	cr_assert_eq(throttle_window_crashes(&thr, T0 + 60000), 2);
}

Test(throttle, startup_failures_name_the_cause)
{
	const char *why = "tradepulsed: cannot execute /nope: No such file or "
	    "directory";

	throttle_crash(&thr, &cfg, T0, true, why);
	throttle_crash(&thr, &cfg, T0 + 100, true, why);
	cr_assert_eq(retry(T0 + 100), 200);
	cr_assert(strncmp(reason, "restart backoff", 15) == 0, "%s", reason);
	throttle_crash(&thr, &cfg, T0 + 300, true, why);
	cr_assert_eq(retry(T0 + 300), 400);
	cr_assert(strncmp(reason, "worker start-up failing: ", 25) == 0,
	    "%s", reason);
	cr_assert(strstr(reason, why) != NULL, "%s", reason);
	/* a good HELLO: no longer a start-up problem */
	throttle_hello(&thr);
	cr_assert_eq(retry(T0 + 300), 400);
	cr_assert(strncmp(reason, "restart backoff", 15) == 0, "%s", reason);
}

Test(throttle, startup_failure_not_in_a_row)
{
	throttle_crash(&thr, &cfg, T0, true, "a");
	throttle_crash(&thr, &cfg, T0 + 1, true, "b");
	throttle_hello(&thr);
	throttle_crash(&thr, &cfg, T0 + 2, true, "c");
	retry(T0 + 2);
	cr_assert(strncmp(reason, "restart backoff", 15) == 0, "%s", reason);
}
