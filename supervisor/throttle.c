/* throttle.c: the restart policy: backoff after crashes, a crash-rate limit, start-up failures. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <string.h>

#include "supervisor/pool_int.h"

/*
 * In the manner of Postfix's master: a worker that crashes makes the next
 * spawn wait (100 ms, doubled per crash in a row, capped at backoff_max);
 * a clean exit or a quiet period ends the series. Independently, more
 * than crash_rate crashes within the last minute stop spawning until the
 * window allows again. Deaths before HELLO are crashes too; three in a
 * row mean the program or its configuration is broken, and the reason
 * shown says so. Nothing here ever stops the daemon.
 */

void
throttle_init(struct throttle *t)
{
	memset(t, 0, sizeof(*t));
}

static uint64_t
throttle_quiet_ms(const struct config *cfg)
{
	uint64_t q = 2 * cfg->backoff_max;

	return q > THROTTLE_QUIET_MIN_MS ? q : THROTTLE_QUIET_MIN_MS;
}

/* The delay after n crashes in a row. */
static uint64_t
throttle_backoff_ms(const struct config *cfg, uint32_t n)
{
	uint64_t ms = THROTTLE_BACKOFF_MIN_MS;
	uint32_t i;

	if (n == 0)
		return 0;
	for (i = 1; i < n && ms < cfg->backoff_max; i++)
		ms *= 2;
	return ms < cfg->backoff_max ? ms : cfg->backoff_max;
}

void
throttle_crash(struct throttle *t, const struct config *cfg, uint64_t now_ms,
    bool startup, const char *what)
{
	uint64_t sec = now_ms / 1000;
	size_t b = sec % THROTTLE_WINDOW_S;

	if (t->crashed && now_ms - t->last_crash_ms >= throttle_quiet_ms(cfg))
		t->consecutive = 0;
	if (t->consecutive < UINT32_MAX)
		t->consecutive++;
	t->last_crash_ms = now_ms;
	t->crashed = true;
	snprintf(t->last_crash, sizeof(t->last_crash), "%s", what);

	if (t->bucket_sec[b] != sec) {
		t->bucket_sec[b] = sec;
		t->bucket_n[b] = 0;
	}
	if (t->bucket_n[b] < UINT32_MAX)
		t->bucket_n[b]++;

	if (startup) {
		if (t->startup_row < UINT32_MAX)
			t->startup_row++;
		snprintf(t->startup_what, sizeof(t->startup_what), "%s", what);
	}
}

void
throttle_clean(struct throttle *t)
{
	t->consecutive = 0;
}

void
throttle_hello(struct throttle *t)
{
	t->startup_row = 0;
}

uint32_t
throttle_window_crashes(const struct throttle *t, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000, n = 0;
	size_t i;

	for (i = 0; i < THROTTLE_WINDOW_S; i++)
		if (t->bucket_n[i] > 0 && t->bucket_sec[i] + THROTTLE_WINDOW_S >
		    sec)
			n += t->bucket_n[i];
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* When the crash-rate window next allows a spawn (0: it does now). */
static uint64_t
throttle_rate_retry_ms(const struct throttle *t, const struct config *cfg,
    uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000, s, n, at;
	size_t b;

	n = throttle_window_crashes(t, now_ms);
	if (n <= cfg->crash_rate)
		return 0;
	/* drop the oldest seconds until the count fits */
	for (s = sec + 1 - THROTTLE_WINDOW_S; s <= sec; s++) {
		b = s % THROTTLE_WINDOW_S;
		if (t->bucket_sec[b] != s || t->bucket_n[b] == 0)
			continue;
		n -= t->bucket_n[b];
		if (n <= cfg->crash_rate) {
			at = (s + THROTTLE_WINDOW_S) * 1000;
			return at > now_ms ? at - now_ms : 1;
		}
	}
	return 1;
}

uint64_t
throttle_retry_ms(const struct throttle *t, const struct config *cfg,
    uint64_t now_ms, char *reason, size_t size)
{
	uint64_t backoff = 0, rate, at;

	if (t->crashed && t->consecutive > 0 &&
	    now_ms - t->last_crash_ms < throttle_quiet_ms(cfg)) {
		at = t->last_crash_ms + throttle_backoff_ms(cfg, t->consecutive);
		backoff = at > now_ms ? at - now_ms : 0;
	}
	rate = throttle_rate_retry_ms(t, cfg, now_ms);
	if (reason != NULL && size > 0) {
		reason[0] = '\0';
		if (t->startup_row >= THROTTLE_STARTUP_MAX &&
		    (backoff > 0 || rate > 0))
			snprintf(reason, size, "worker start-up failing: %s",
			    t->startup_what);
		else if (rate > 0)
			snprintf(reason, size, "crash rate limit: %u crashes "
			    "in the last %d s (crash_rate %u); last: %s",
			    (unsigned)throttle_window_crashes(t, now_ms),
			    THROTTLE_WINDOW_S, (unsigned)cfg->crash_rate,
			    t->last_crash);
		else if (backoff > 0)
			snprintf(reason, size, "restart backoff after %u "
			    "crash%s in a row; last: %s",
			    (unsigned)t->consecutive,
			    t->consecutive == 1 ? "" : "es", t->last_crash);
	}
	return backoff > rate ? backoff : rate;
}
