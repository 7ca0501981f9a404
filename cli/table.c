/* table.c: rows printed in aligned columns, and "key: value" blocks. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct table {
	size_t ncols;
	bool header;
	size_t nrows;		/* rows, the header included */
	size_t cap;
	char **cells;		/* nrows * ncols, row-major */
};

struct table *
table_new(size_t ncols, const char *const *headers)
{
	struct table *t;

	if (ncols == 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	if (headers != NULL) {
		if (table_add(t, headers) == -1) {
			table_free(t);
			return NULL;
		}
		t->header = true;
	}
	return t;
}

int
table_add(struct table *t, const char *const *cells)
{
	size_t i, base;
	char **n;

	if (t->nrows == t->cap) {
		size_t cap = t->cap == 0 ? 16 : t->cap * 2;

		n = reallocarray(t->cells, cap * t->ncols, sizeof(*n));
		if (n == NULL)
			return -1;
		t->cells = n;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = cli_sanitize(cells[i] != NULL ?
		    cells[i] : "-");
		if (t->cells[base + i] == NULL) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

int
table_kv(struct table *t, const char *key, const char *fmt, ...)
{
	char k[128], v[4096];
	const char *cells[2] = { k, v };
	va_list ap;

	snprintf(k, sizeof(k), "%s:", key);
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	return table_add(t, cells);
}

size_t
table_rows(const struct table *t)
{
	return t->nrows - (t->header ? 1 : 0);
}

/* Width on the terminal: UTF-8 continuation bytes take no column. */
static size_t
table_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void
table_print(const struct table *t, FILE *fp)
{
	size_t *width, r, c, w;

	if ((width = calloc(t->ncols, sizeof(*width))) == NULL)
		return;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			w = table_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			fputs(cell, fp);
			if (c + 1 == t->ncols)
				break;	/* no trailing blanks */
			for (w = table_width(cell); w < width[c] + 2; w++)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	free(width);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
