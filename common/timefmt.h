/* timefmt.h: time for people and documents: the store's canonical timestamp (the worker uses it too), durations. */
#ifndef TP_TIMEFMT_H
#define TP_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Writes the current time as a canonical timestamp
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC) into buf (>= 32). */
void store_timestamp(char *buf, size_t size);
/* A duration the way a person reads it: "30s", "250ms", "1.5s". */
void timefmt_duration(char *buf, size_t size, uint64_t ms);

#endif
