/* prom.c: a small registry of counters, gauges and histograms, and its Prometheus text exposition (format 0.0.4). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/queue.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "supervisor/prom.h"

struct prom_series {
	char		 value[PROM_LABELS_MAX][PROM_VALUE_MAX];
	double		 v;			/* counter, gauge */
	uint64_t	 bucket[PROM_BUCKETS_MAX];	/* not cumulative */
	uint64_t	 count;
	double		 sum;
};

struct prom_family {
	STAILQ_ENTRY(prom_family) entry;
	enum prom_type	 type;
	char			*name;
	char			*help;
	size_t			 nlabels;
	char			*label[PROM_LABELS_MAX];
	double			 bound[PROM_BUCKETS_MAX];
	size_t			 nbounds;
	struct prom_series	*series;	/* PROM_SERIES_MAX */
	size_t			 nseries;
};

struct prom {
	STAILQ_HEAD(, prom_family) families;
};

struct prom *
prom_new(void)
{
	struct prom *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	STAILQ_INIT(&m->families);
	return m;
}

static void
prom_family_free(struct prom_family *f)
{
	size_t i;

	free(f->name);
	free(f->help);
	for (i = 0; i < f->nlabels; i++)
		free(f->label[i]);
	free(f->series);
	free(f);
}

void
prom_free(struct prom *m)
{
	struct prom_family *f;

	if (m == NULL)
		return;
	while ((f = STAILQ_FIRST(&m->families)) != NULL) {
		STAILQ_REMOVE_HEAD(&m->families, entry);
		prom_family_free(f);
	}
	free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels: no colon. */
static bool
prom_valid_name(const char *s, bool colon)
{
	const char *c;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return false;
	for (c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' ||
		    (colon && *c == ':')))
			return false;
	return c - s <= 128;
}

static struct prom_family *
prom_find(const struct prom *m, const char *name)
{
	struct prom_family *f;

	STAILQ_FOREACH(f, &m->families, entry)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static int
prom_check(const struct prom *m, enum prom_type type,
    const char *name, const char *const *labels, const double *bounds,
    size_t nbounds, struct tp_err *err)
{
	size_t i, n;

	if (!prom_valid_name(name, true))
		return tp_err_set(err, TP_INTERNAL, "bad metric name \"%s\"",
		    name != NULL ? name : "");
	if (prom_find(m, name) != NULL)
		return tp_err_set(err, TP_INTERNAL, "metric %s registered "
		    "twice", name);
	for (n = 0; labels != NULL && labels[n] != NULL; n++)
		if (n >= PROM_LABELS_MAX ||
		    !prom_valid_name(labels[n], false) ||
		    strncmp(labels[n], "__", 2) == 0 ||
		    (type == PROM_HISTOGRAM && strcmp(labels[n], "le") == 0))
			return tp_err_set(err, TP_INTERNAL, "metric %s: bad "
			    "label names", name);
	if (type != PROM_HISTOGRAM)
		return nbounds == 0 ? 0 : tp_err_set(err, TP_INTERNAL,
		    "metric %s: buckets for a %s", name,
		    type == PROM_COUNTER ? "counter" : "gauge");
	if (nbounds == 0 || nbounds > PROM_BUCKETS_MAX)
		return tp_err_set(err, TP_INTERNAL, "metric %s: 1..%d buckets",
		    name, PROM_BUCKETS_MAX);
	for (i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			return tp_err_set(err, TP_INTERNAL, "metric %s: bucket "
			    "bounds not finite and increasing", name);
	return 0;
}

struct prom_family *
prom_family(struct prom *m, enum prom_type type, const char *name,
    const char *help, const char *const *labels, const double *bounds,
    size_t nbounds, struct tp_err *err)
{
	struct prom_family *f;
	size_t i;

	if (prom_check(m, type, name, labels, bounds, nbounds, err) == -1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->series = calloc(PROM_SERIES_MAX, sizeof(*f->series))) ==
	    NULL || (f->name = strdup(name)) == NULL ||
	    (f->help = strdup(help != NULL ? help : "")) == NULL)
		goto oom;
	f->type = type;
	for (i = 0; labels != NULL && labels[i] != NULL; i++) {
		if ((f->label[i] = strdup(labels[i])) == NULL)
			goto oom;
		f->nlabels++;
	}
	for (i = 0; i < nbounds; i++)
		f->bound[i] = bounds[i];
	f->nbounds = nbounds;
	/* a family without labels has its one series from the start, so
	 * that it is exposed (as 0) before anything happened */
	if (f->nlabels == 0)
		f->nseries = 1;
	STAILQ_INSERT_TAIL(&m->families, f, entry);
	return f;
oom:
	if (f != NULL)
		prom_family_free(f);
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return NULL;
}

/* The series of these label values, made if need be; when the family is
 * full, the "other" series (made in the last slot). */
static struct prom_series *
prom_series(struct prom_family *f, const char *v1, const char *v2)
{
	const char *v[PROM_LABELS_MAX] = { v1, v2 };
	struct prom_series *s;
	size_t i, k;

	for (k = 0; k < PROM_LABELS_MAX; k++)
		if (k >= f->nlabels || v[k] == NULL)
			v[k] = "";
	for (i = 0; i < f->nseries; i++) {
		s = &f->series[i];
		for (k = 0; k < f->nlabels; k++)
			if (strncmp(s->value[k], v[k], PROM_VALUE_MAX - 1)
			    != 0)
				break;
		if (k == f->nlabels)
			return s;
	}
	if (f->nseries == PROM_SERIES_MAX - 1) {
		for (k = 0; k < PROM_LABELS_MAX; k++)
			v[k] = PROM_OTHER;
		if (f->nseries < PROM_SERIES_MAX)
			f->nseries++;	/* the "other" slot, made once */
		s = &f->series[PROM_SERIES_MAX - 1];
		for (k = 0; k < f->nlabels; k++)
			snprintf(s->value[k], PROM_VALUE_MAX, "%s", v[k]);
		return s;
	}
	if (f->nseries >= PROM_SERIES_MAX)
		return &f->series[PROM_SERIES_MAX - 1];
	s = &f->series[f->nseries++];
	for (k = 0; k < f->nlabels; k++)
		snprintf(s->value[k], PROM_VALUE_MAX, "%s", v[k]);
	return s;
}

void
prom_add(struct prom_family *f, const char *v1, const char *v2,
    double v)
{
	if (f == NULL || f->type == PROM_HISTOGRAM || !isfinite(v) ||
	    (f->type == PROM_COUNTER && v < 0))
		return;
	prom_series(f, v1, v2)->v += v;
}

void
prom_set(struct prom_family *f, const char *v1, const char *v2,
    double v)
{
	struct prom_series *s;

	if (f == NULL || f->type == PROM_HISTOGRAM || isnan(v))
		return;
	s = prom_series(f, v1, v2);
	if (f->type == PROM_COUNTER && v < s->v)
		return;
	s->v = v;
}

void
prom_observe(struct prom_family *f, const char *v1, const char *v2,
    double v)
{
	struct prom_series *s;
	size_t i;

	if (f == NULL || f->type != PROM_HISTOGRAM || !isfinite(v))
		return;
	s = prom_series(f, v1, v2);
	for (i = 0; i < f->nbounds; i++)
		if (v <= f->bound[i]) {
			s->bucket[i]++;
			break;
		}
	s->count++;
	s->sum += v;
}

void
prom_observe_counts(struct prom_family *f, const char *v1, const char *v2,
    const uint64_t *counts, size_t n, double sum)
{
	struct prom_series *s;
	size_t i;

	if (f == NULL || f->type != PROM_HISTOGRAM || n != f->nbounds + 1 ||
	    !isfinite(sum) || sum < 0)
		return;
	s = prom_series(f, v1, v2);
	for (i = 0; i < f->nbounds; i++)
		s->bucket[i] += counts[i];
	for (i = 0; i < n; i++)
		s->count += counts[i];
	s->sum += sum;
}

/* --- exposition --- */

/* HELP text: backslash and newline escaped; label values: the double
 * quote too. */
static int
prom_escaped(struct evbuffer *out, const char *s, bool quote)
{
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '\\')
			rc = evbuffer_add(out, "\\\\", 2);
		else if (*s == '\n')
			rc = evbuffer_add(out, "\\n", 2);
		else if (quote && *s == '"')
			rc = evbuffer_add(out, "\\\"", 2);
		else
			rc = evbuffer_add(out, s, 1);
	}
	return rc;
}

/* A float as the text format writes it: integers without a fraction,
 * +Inf/-Inf, otherwise enough digits to read back the same double. */
static int
prom_number(struct evbuffer *out, double v)
{
	char s[32];

	if (isinf(v))
		return evbuffer_add_printf(out, "%s", v > 0 ? "+Inf" : "-Inf")
		    < 0 ? -1 : 0;
	if (isnan(v))
		return evbuffer_add_printf(out, "NaN") < 0 ? -1 : 0;
	if (v == floor(v) && fabs(v) < 1e15)
		return evbuffer_add_printf(out, "%.0f", v) < 0 ? -1 : 0;
	/* the shorter form when it reads back the same (0.1, not
	 * 0.10000000000000001) */
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	return evbuffer_add(out, s, strlen(s));
}

/* name[suffix]{labels[,le="bound"]} value\n */
static int
prom_sample(struct evbuffer *out, const struct prom_family *f,
    const struct prom_series *s, const char *suffix, const double *le,
    double v)
{
	size_t k;
	int rc;

	rc = evbuffer_add_printf(out, "%s%s", f->name, suffix) < 0 ? -1 : 0;
	if (rc == 0 && (f->nlabels > 0 || le != NULL))
		rc = evbuffer_add(out, "{", 1);
	for (k = 0; k < f->nlabels && rc == 0; k++) {
		rc = evbuffer_add_printf(out, "%s%s=\"", k > 0 ? "," : "",
		    f->label[k]) < 0 ? -1 : 0;
		if (rc == 0)
			rc = prom_escaped(out, s->value[k], true);
		if (rc == 0)
			rc = evbuffer_add(out, "\"", 1);
	}
	if (rc == 0 && le != NULL) {
		rc = evbuffer_add_printf(out, "%sle=\"", f->nlabels > 0 ?
		    "," : "") < 0 ? -1 : 0;
		if (rc == 0)
			rc = prom_number(out, *le);
		if (rc == 0)
			rc = evbuffer_add(out, "\"", 1);
	}
	if (rc == 0 && (f->nlabels > 0 || le != NULL))
		rc = evbuffer_add(out, "}", 1);
	if (rc == 0)
		rc = evbuffer_add(out, " ", 1);
	if (rc == 0)
		rc = prom_number(out, v);
	if (rc == 0)
		rc = evbuffer_add(out, "\n", 1);
	return rc;
}

static int
prom_render_histogram(struct evbuffer *out, const struct prom_family *f,
    const struct prom_series *s)
{
	double inf = INFINITY;
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i < f->nbounds; i++) {
		cum += s->bucket[i];
		if (prom_sample(out, f, s, "_bucket", &f->bound[i],
		    (double)cum) == -1)
			return -1;
	}
	if (prom_sample(out, f, s, "_bucket", &inf, (double)s->count) == -1 ||
	    prom_sample(out, f, s, "_sum", NULL, s->sum) == -1 ||
	    prom_sample(out, f, s, "_count", NULL, (double)s->count) == -1)
		return -1;
	return 0;
}

int
prom_render(const struct prom *m, struct evbuffer *out)
{
	static const char *const tname[] = {
		[PROM_COUNTER] = "counter",
		[PROM_GAUGE] = "gauge",
		[PROM_HISTOGRAM] = "histogram",
	};
	const struct prom_family *f;
	size_t i;

	STAILQ_FOREACH(f, &m->families, entry) {
		if (evbuffer_add_printf(out, "# HELP %s ", f->name) < 0 ||
		    prom_escaped(out, f->help, false) == -1 ||
		    evbuffer_add_printf(out, "\n# TYPE %s %s\n", f->name,
		    tname[f->type]) < 0)
			return -1;
		for (i = 0; i < f->nseries; i++) {
			if (f->type == PROM_HISTOGRAM) {
				if (prom_render_histogram(out, f,
				    &f->series[i]) == -1)
					return -1;
			} else if (prom_sample(out, f, &f->series[i], "",
			    NULL, f->series[i].v) == -1)
				return -1;
		}
	}
	return 0;
}
