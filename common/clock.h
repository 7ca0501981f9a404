/* clock.h: the clocks every program reads: monotonic and wall-clock milliseconds, timevals for timers. */
#ifndef TP_CLOCK_H
#define TP_CLOCK_H

#include <sys/time.h>

#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and durations. */
uint64_t	clock_mono_ms(void);
/* Milliseconds since the epoch (CLOCK_REALTIME): for what a person reads. */
int64_t		clock_real_ms(void);
/* Milliseconds from t0 (CLOCK_MONOTONIC) to now, with fractions. */
double		clock_since_ms(const struct timespec *t0);
/* A libevent timer's timeval for ms milliseconds. */
struct timeval	clock_tv(uint64_t ms);

#endif
