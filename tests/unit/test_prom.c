/* test_prom.c: the metrics registry's text exposition: HELP/TYPE, label escaping, cumulative histogram buckets, the series bound, refused definitions. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <event2/buffer.h>

#include "supervisor/prom.h"

static struct prom *reg;
static struct evbuffer *buf;
static char *text;

static void
setup(void)
{
	reg = prom_new();
	buf = evbuffer_new();
	cr_assert_not_null(reg);
	cr_assert_not_null(buf);
	text = NULL;
}

static void
teardown(void)
{
	prom_free(reg);
	evbuffer_free(buf);
	free(text);
}

TestSuite(prom, .init = setup, .fini = teardown);

/* The whole exposition as a string. */
static const char *
render(void)
{
	size_t n;

	free(text);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	cr_assert_eq(prom_render(reg, buf), 0);
	n = evbuffer_get_length(buf);
	text = calloc(1, n + 1);
	cr_assert_not_null(text);
	evbuffer_copyout(buf, text, n);
	return text;
}

static struct prom_family *
family(enum prom_type type, const char *name, const char *const *labels,
    const double *bounds, size_t nbounds)
{
	struct prom_family *f;
	struct tp_err err;

	f = prom_family(reg, type, name, "help", labels, bounds, nbounds, &err);
	cr_assert_not_null(f, "%s: %s", name, err.msg);
	return f;
}

Test(prom, counter_without_labels_is_exposed_as_zero)
{
	struct tp_err err;

	cr_assert_not_null(prom_family(reg, PROM_COUNTER, "x_total",
	    "Things.\nWith a \\ backslash.", NULL, NULL, 0, &err));
	cr_assert_str_eq(render(), "# HELP x_total Things.\\nWith a \\\\ "
	    "backslash.\n# TYPE x_total counter\nx_total 0\n");
}

Test(prom, label_values_are_escaped)
{
	static const char *const l[] = { "op", "code", NULL };
	struct prom_family *f = family(PROM_COUNTER, "req_total", l, NULL, 0);

	prom_add(f, "a\"b\\c\nd", "ok", 2);
	cr_assert_not_null(strstr(render(),
	    "req_total{op=\"a\\\"b\\\\c\\nd\",code=\"ok\"} 2\n"), "%s", text);
}

Test(prom, counters_only_grow)
{
	struct prom_family *f = family(PROM_COUNTER, "c_total", NULL, NULL, 0);

	prom_add(f, NULL, NULL, 3);
	prom_add(f, NULL, NULL, -1);
	prom_add(f, NULL, NULL, NAN);
	prom_set(f, NULL, NULL, 2);
	cr_assert_not_null(strstr(render(), "\nc_total 3\n"), "%s", text);
	prom_set(f, NULL, NULL, 7);
	cr_assert_not_null(strstr(render(), "\nc_total 7\n"), "%s", text);
}

Test(prom, gauges_go_both_ways_and_keep_fractions)
{
	struct prom_family *f = family(PROM_GAUGE, "g", NULL, NULL, 0);

	prom_set(f, NULL, NULL, 5);
	prom_add(f, NULL, NULL, -7.5);
	cr_assert_not_null(strstr(render(), "\ng -2.5\n"), "%s", text);
}

Test(prom, histogram_buckets_are_cumulative)
{
	static const double b[] = { 0.1, 1, 10 };
	static const char *const l[] = { "kind", NULL };
	struct prom_family *f = family(PROM_HISTOGRAM, "d_seconds", l, b, 3);

	prom_observe(f, "sync", NULL, 0.05);
	prom_observe(f, "sync", NULL, 0.1);	/* le is inclusive */
	prom_observe(f, "sync", NULL, 5);
	prom_observe(f, "sync", NULL, 50);
	prom_observe(f, "sync", NULL, INFINITY);	/* ignored */
	cr_assert_str_eq(render(),
	    "# HELP d_seconds help\n"
	    "# TYPE d_seconds histogram\n"
	    "d_seconds_bucket{kind=\"sync\",le=\"0.1\"} 2\n"
	    "d_seconds_bucket{kind=\"sync\",le=\"1\"} 2\n"
	    "d_seconds_bucket{kind=\"sync\",le=\"10\"} 3\n"
	    "d_seconds_bucket{kind=\"sync\",le=\"+Inf\"} 4\n"
	    "d_seconds_sum{kind=\"sync\"} 55.15\n"
	    "d_seconds_count{kind=\"sync\"} 4\n");
}

Test(prom, histogram_of_counts_made_elsewhere)
{
	static const double b[] = { 0.05, 0.1 };
	static const uint64_t c[] = { 2, 0, 1 }, wrong[] = { 5, 5 };
	struct prom_family *f = family(PROM_HISTOGRAM, "a_seconds", NULL, b,
	    2);

	prom_observe(f, NULL, NULL, 0.0625);
	prom_observe_counts(f, NULL, NULL, c, 3, 0.5);
	prom_observe_counts(f, NULL, NULL, wrong, 2, 1);	/* ignored */
	cr_assert_not_null(strstr(render(), "a_seconds_bucket{le=\"0.05\"} 2\n"
	    "a_seconds_bucket{le=\"0.1\"} 3\n"
	    "a_seconds_bucket{le=\"+Inf\"} 4\n"
	    "a_seconds_sum 0.5625\na_seconds_count 4\n"), "%s", text);
}

Test(prom, histogram_without_observations)
{
	static const double b[] = { 1 };
	struct prom_family *f = family(PROM_HISTOGRAM, "h", NULL, b, 1);

	(void)f;
	cr_assert_not_null(strstr(render(), "h_bucket{le=\"1\"} 0\n"
	    "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"), "%s", text);
}

Test(prom, series_beyond_the_bound_fold_into_other)
{
	static const char *const l[] = { "op", NULL };
	struct prom_family *f = family(PROM_COUNTER, "o_total", l, NULL, 0);
	char v[16];
	int i;

	for (i = 0; i < PROM_SERIES_MAX + 50; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		prom_add(f, v, NULL, 1);
	}
	prom_add(f, "v0", NULL, 1);
	render();
	cr_assert_not_null(strstr(text, "o_total{op=\"v0\"} 2\n"), "%s", text);
	cr_assert_null(strstr(text, "op=\"v127\""));
	cr_assert_not_null(strstr(text, "o_total{op=\"other\"} 51\n"));
}

Test(prom, bad_definitions_are_refused)
{
	static const double up[] = { 1, 2 }, down[] = { 2, 1 };
	static const char *const le[] = { "le", NULL };
	static const char *const three[] = { "a", "b", "c", NULL };
	static const char *const bad[] = { "a-b", NULL };
	struct tp_err err;

	cr_assert_null(prom_family(reg, PROM_GAUGE, "9x", "", NULL, NULL, 0,
	    &err));
	cr_assert_null(prom_family(reg, PROM_GAUGE, "a b", "", NULL, NULL, 0,
	    &err));
	cr_assert_null(prom_family(reg, PROM_HISTOGRAM, "h", "", le, up, 2,
	    &err));
	cr_assert_null(prom_family(reg, PROM_HISTOGRAM, "h", "", NULL, down, 2,
	    &err));
	cr_assert_null(prom_family(reg, PROM_HISTOGRAM, "h", "", NULL, NULL, 0,
	    &err));
	cr_assert_null(prom_family(reg, PROM_COUNTER, "c", "", NULL, up, 2,
	    &err));
	cr_assert_null(prom_family(reg, PROM_COUNTER, "c", "", three, NULL, 0,
	    &err));
	cr_assert_null(prom_family(reg, PROM_COUNTER, "c", "", bad, NULL, 0,
	    &err));
	cr_assert_not_null(prom_family(reg, PROM_COUNTER, "c", "", NULL, NULL,
	    0, &err));
	cr_assert_null(prom_family(reg, PROM_COUNTER, "c", "", NULL, NULL, 0,
	    &err), "a name registered twice");
}
