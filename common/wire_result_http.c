/* wire_result_http.c: a RESULT's "http" counts (a job's Alpaca attempts by status class and latency): the worker's counting and encoder, the supervisor's checker. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/wire_result.h"

const char *const wire_http_class_names[WIRE_HTTP_CLASSES] = {
	"2xx", "3xx", "4xx", "5xx", "error",
};

/* An answer within 50 ms is a local broker (the simulator); Alpaca's
 * take about 100 ms to 1 s; ALPACA_TIMEOUT_MS is 10 s. */
const int64_t wire_http_latency_ms[WIRE_HTTP_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

#define WH_LATENCY	"latency_ms"
#define WH_SUM		"latency_ms_sum"

void
wire_http_count(struct wire_http *h, long status, uint64_t ms)
{
	size_t c, b;

	if (status >= 200 && status <= 599)
		c = (size_t)(status / 100 - 2);
	else
		c = WIRE_HTTP_CLASSES - 1;	/* no (final) HTTP answer */
	for (b = 0; b < WIRE_HTTP_BUCKETS; b++)
		if ((int64_t)ms <= wire_http_latency_ms[b])
			break;
	if (ms > WIRE_HTTP_ATTEMPT_MAX_MS)
		ms = WIRE_HTTP_ATTEMPT_MAX_MS;
	/* the counts stay within the checker's bounds */
	if (h->classes[c] >= WIRE_COUNT_MAX || h->latency[b] >= WIRE_COUNT_MAX)
		return;
	h->classes[c]++;
	h->latency[b]++;
	h->latency_ms_sum += (int64_t)ms;
}

int
wire_result_http(json_object *r, const struct wire_http *h)
{
	json_object *q, *a;
	size_t i;

	if ((q = json_object_new_object()) == NULL)
		return -1;
	for (i = 0; i < WIRE_HTTP_CLASSES; i++)
		if (json_add(q, wire_http_class_names[i],
		    json_object_new_int64(h->classes[i])) == -1)
			goto fail;
	if ((a = json_object_new_array()) == NULL)
		goto fail;
	if (json_add(q, WH_LATENCY, a) == -1)
		goto fail;
	for (i = 0; i <= WIRE_HTTP_BUCKETS; i++)
		if (json_object_array_add(a,
		    json_object_new_int64(h->latency[i])) != 0)
			goto fail;
	if (json_add(q, WH_SUM, json_object_new_int64(h->latency_ms_sum)) == -1)
		goto fail;
	return json_add(r, "http", q);
fail:
	json_object_put(q);
	return -1;
}

static enum wire_verdict
wh_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return WIRE_REJECT_MALFORMED;
}

/* An int of 0..max into *out. */
static bool
wh_count(json_object *v, int64_t max, int64_t *out)
{
	if (v == NULL || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= 0 && *out <= max;
}

enum wire_verdict
wire_result_http_check(json_object *q, struct wire_http *h, char *why,
    size_t size)
{
	static const char *const keys[] = { "2xx", "3xx", "4xx", "5xx",
	    "error", WH_LATENCY, WH_SUM, NULL };
	json_object *a, *v;
	int64_t total = 0, lat = 0;
	size_t i;

	memset(h, 0, sizeof(*h));
	if (q == NULL)
		return WIRE_ACCEPT;
	if (!json_object_is_type(q, json_type_object) ||
	    json_unknown_key(q, keys) != NULL)
		return wh_why(why, size, "\"http\" is not a map of the status "
		    "classes, %s and %s", WH_LATENCY, WH_SUM);
	for (i = 0; i < WIRE_HTTP_CLASSES; i++) {
		json_object_object_get_ex(q, wire_http_class_names[i], &v);
		if (!wh_count(v, WIRE_COUNT_MAX, &h->classes[i]))
			return wh_why(why, size, "http.%s is not a count of "
			    "0..%d", wire_http_class_names[i], WIRE_COUNT_MAX);
		total += h->classes[i];
	}
	if (!json_object_object_get_ex(q, WH_LATENCY, &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) != WIRE_HTTP_BUCKETS + 1)
		return wh_why(why, size, "http.%s is not an array of %d counts",
		    WH_LATENCY, WIRE_HTTP_BUCKETS + 1);
	for (i = 0; i <= WIRE_HTTP_BUCKETS; i++) {
		if (!wh_count(json_object_array_get_idx(a, i), WIRE_COUNT_MAX,
		    &h->latency[i]))
			return wh_why(why, size, "http.%s[%zu] is not a count "
			    "of 0..%d", WH_LATENCY, i, WIRE_COUNT_MAX);
		lat += h->latency[i];
	}
	if (lat != total)
		return wh_why(why, size, "http.%s counts %lld attempts, the "
		    "classes %lld", WH_LATENCY, (long long)lat,
		    (long long)total);
	json_object_object_get_ex(q, WH_SUM, &v);
	if (!wh_count(v, total * WIRE_HTTP_ATTEMPT_MAX_MS, &h->latency_ms_sum))
		return wh_why(why, size, "http.%s is not 0..%lld ms for %lld "
		    "attempts", WH_SUM, (long long)(total *
		    WIRE_HTTP_ATTEMPT_MAX_MS), (long long)total);
	h->present = true;
	return WIRE_ACCEPT;
}
