/* timefmt.h: the store's canonical timestamp, without the store (the worker uses it too). */
#ifndef TP_TIMEFMT_H
#define TP_TIMEFMT_H

#include <stddef.h>

/* Writes the current time as a canonical timestamp
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC) into buf (>= 32). */
void store_timestamp(char *buf, size_t size);

#endif
