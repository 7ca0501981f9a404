/* prom.h: a small registry of counters, gauges and histograms, and its Prometheus text exposition (format 0.0.4). */
#ifndef TP_SUPERVISOR_PROM_H
#define TP_SUPERVISOR_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*
 * Families are registered once, at start-up, with at most
 * PROM_LABELS_MAX label names; a series is one family's set of label
 * values, made on first use. Label values come from our own code (op
 * names, outcomes, signal names), yet a family holds at most
 * PROM_SERIES_MAX series: the values of any further series are folded
 * into "other" so that no input can grow the registry without bound.
 * Everything lives on the event loop thread.
 */

#define PROM_LABELS_MAX	2
#define PROM_SERIES_MAX	128
#define PROM_BUCKETS_MAX	16
#define PROM_VALUE_MAX	64	/* label value bytes kept */
#define PROM_OTHER		"other"

enum prom_type {
	PROM_COUNTER,
	PROM_GAUGE,
	PROM_HISTOGRAM,
};

struct evbuffer;
struct prom;
struct prom_family;

struct prom	*prom_new(void);
void		 prom_free(struct prom *m);

/*
 * name: [a-zA-Z_:][a-zA-Z0-9_:]*; labels: NULL-terminated label names
 * (NULL: none; "le" is refused); bounds: a histogram's upper bounds,
 * strictly increasing, finite, at most PROM_BUCKETS_MAX (+Inf is
 * implied). NULL (err) on a bad definition or a name already registered.
 */
struct prom_family *prom_family(struct prom *m,
    enum prom_type type, const char *name, const char *help,
    const char *const *labels, const double *bounds, size_t nbounds,
    struct tp_err *err);

/* v1, v2: the label values in the family's order (NULL when it has fewer
 * labels). A counter only grows: a negative or non-finite v is ignored. */
void	prom_add(struct prom_family *f, const char *v1, const char *v2,
	    double v);
/* Gauges, and counters whose total is kept elsewhere (a counter is never
 * set lower than it is). */
void	prom_set(struct prom_family *f, const char *v1, const char *v2,
	    double v);
/* A histogram observation; non-finite values are ignored. */
void	prom_observe(struct prom_family *f, const char *v1,
	    const char *v2, double v);

/* Observations counted elsewhere into the same buckets: counts[i] (not
 * cumulative) for each bound and, last, for +Inf (n == nbounds + 1, else
 * nothing is added); sum: their total. */
void	prom_observe_counts(struct prom_family *f, const char *v1,
	    const char *v2, const uint64_t *counts, size_t n, double sum);

/* The whole registry in the text format, families in registration
 * order; -1 when out of memory. */
int	prom_render(const struct prom *m, struct evbuffer *out);

#endif
