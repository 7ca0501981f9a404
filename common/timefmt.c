/* timefmt.c: the store's canonical timestamp, without the store (the worker uses it too). */
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
