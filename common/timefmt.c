/* timefmt.c: durations, and the store's canonical timestamp, without the store (the worker uses it too). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/timefmt.h"

#include <stdio.h>
#include <time.h>

void
store_timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	if (buf == NULL || size == 0)
		return;
	buf[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return;
	snprintf(buf, size, "%s.%06ldZ", base, ts.tv_nsec / 1000);
}

void
timefmt_duration(char *buf, size_t size, uint64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
	else if (ms < 1000)
		snprintf(buf, size, "%llums", (unsigned long long)ms);
	else
		snprintf(buf, size, "%.1fs", (double)ms / 1000.0);
}
