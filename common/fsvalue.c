/* fsvalue.c: Firestore's typed values and the store's JSON documents, both ways (the mapping is in fsvalue.h). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/fsvalue.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"

#define FIELD_SHOWN_MAX	160	/* a field's name in a message */
#define NUM_TEXT_MAX	48	/* a double's shortest text, and then some */
#define SIG_MAX		17	/* significant digits a double ever needs */

/*
 * Where a walk is, for its messages: the document's path and the field's
 * name so far ("a.b[2].c"), never a value. Names are cut when too long;
 * they are only shown.
 */
struct walk {
	const char	*path;
	struct tp_err	*err;
	char		 field[FIELD_SHOWN_MAX];
	size_t		 flen;
};

static void
walk_init(struct walk *w, const char *path, struct tp_err *err)
{
	w->path = path != NULL ? path : "(no document)";
	w->err = err;
	w->field[0] = '\0';
	w->flen = 0;
}

/* Appends ".key" (or "key" first) or "[i]"; returns the length to restore. */
static size_t
walk_push_key(struct walk *w, const char *key)
{
	size_t old = w->flen;
	int n;

	n = snprintf(w->field + old, sizeof(w->field) - old, "%s%s",
	    old > 0 ? "." : "", key);
	if (n > 0)
		w->flen = old + (size_t)n < sizeof(w->field) ?
		    old + (size_t)n : sizeof(w->field) - 1;
	return old;
}

static size_t
walk_push_index(struct walk *w, size_t i)
{
	size_t old = w->flen;
	int n;

	n = snprintf(w->field + old, sizeof(w->field) - old, "[%zu]", i);
	if (n > 0)
		w->flen = old + (size_t)n < sizeof(w->field) ?
		    old + (size_t)n : sizeof(w->field) - 1;
	return old;
}

static void
walk_pop(struct walk *w, size_t old)
{
	w->flen = old;
	w->field[old] = '\0';
}

/* An error about the current field: "doc: field a.b: why". */
static int
walk_fail(struct walk *w, enum tp_code code, const char *why)
{
	char shown[FIELD_SHOWN_MAX];

	if (w->flen == 0)
		return tp_err_set(w->err, code, "%s: %s", w->path, why);
	return tp_err_set(w->err, code, "%s: field %s: %s", w->path,
	    tp_err_shown(w->field, shown, sizeof(shown)), why);
}

static int
walk_oom(struct walk *w)
{
	return tp_err_set(w->err, TP_RESOURCE_EXHAUSTED, "%s: out of memory",
	    w->path);
}

/* { key: v }, or NULL (v released) when out of memory. */
static json_object *
wrap(const char *key, json_object *v)
{
	json_object *o;

	if (v == NULL)
		return NULL;
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(v);
		return NULL;
	}
	if (json_add(o, key, v) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- decimals ---- */

/*
 * A number's text reduced to its decimal value: sign, significant digits
 * (no leading or trailing zeros) and the power of ten of the last one.
 * Zero is digits "" (its sign dropped: -0 and 0 are one decimal). Only the
 * strict JSON number grammar is read; more than SIG_MAX significant digits
 * set `many`, since such a text is never a double's shortest form.
 */
struct decval {
	bool	 neg;
	bool	 many;
	char	 digits[SIG_MAX + 1];
	size_t	 n;
	long	 exp;
};

static bool
decval_parse(const char *s, size_t len, struct decval *d)
{
	const char *p = s, *end = s + len;
	long e = 0, frac = 0, zeros = 0;
	bool eneg = false, any = false;

	memset(d, 0, sizeof(*d));
	if (p < end && *p == '-') {
		d->neg = true;
		p++;
	}
	if (p == end || *p < '0' || *p > '9')
		return false;
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return false;	/* a leading zero */
	for (int part = 0; part < 2; part++) {
		if (part == 1) {
			if (p == end || *p != '.')
				break;
			p++;
			if (p == end || *p < '0' || *p > '9')
				return false;
		}
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (part == 1)
				frac++;
			if (*p == '0' && d->n == 0 && !d->many)
				continue;	/* a leading zero */
			if (*p == '0') {
				zeros++;	/* trailing unless a digit follows */
				continue;
			}
			for (; zeros > 0; zeros--) {
				if (d->n == SIG_MAX)
					d->many = true;
				else
					d->digits[d->n++] = '0';
			}
			if (d->n == SIG_MAX)
				d->many = true;
			else
				d->digits[d->n++] = *p;
			any = true;
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || *p < '0' || *p > '9')
			return false;
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (e < 100000)	/* far past any double */
				e = e * 10 + (*p - '0');
	}
	if (p != end)
		return false;
	if (!any) {
		d->neg = false;
		d->exp = 0;
		return true;
	}
	/* the last significant digit's power: the trailing zeros dropped
	 * count up, the decimals written count down */
	d->exp = (eneg ? -e : e) + zeros - frac;
	return true;
}

static bool
decval_equal(const struct decval *a, const struct decval *b)
{
	return !a->many && !b->many && a->neg == b->neg && a->n == b->n &&
	    a->exp == b->exp && memcmp(a->digits, b->digits, a->n) == 0;
}

/*
 * The shortest "%.*g" text that reads back as d (finite), made a tidy
 * JSON number that stays a double when parsed again: "1e-07" -> "1e-7",
 * "1e+21" -> "1e21", "2" -> "2.0".
 */
static void
shortest_text(double d, char *buf, size_t size)
{
	char raw[32], *e;	/* "%.17g" needs at most 24 */
	size_t o = 0;

	for (int prec = 1; prec <= SIG_MAX; prec++) {
		snprintf(raw, sizeof(raw), "%.*g", prec, d);
		if (strtod(raw, NULL) == d)
			break;
	}
	e = strchr(raw, 'e');
	if (e == NULL) {
		snprintf(buf, size, "%s%s", raw,
		    strchr(raw, '.') == NULL ? ".0" : "");
		return;
	}
	for (const char *p = raw; p < e && o + 1 < size; p++)
		buf[o++] = *p;
	if (o + 1 < size)
		buf[o++] = 'e';
	e++;
	if (*e == '+')
		e++;
	else if (*e == '-' && o + 1 < size)
		buf[o++] = *e++;
	while (*e == '0' && e[1] != '\0')
		e++;
	while (*e != '\0' && o + 1 < size)
		buf[o++] = *e++;
	buf[o] = '\0';
}

/* ---- timestamps ---- */

static bool
leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(long y, int m)
{
	static const int days[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* n digits at s as a number, or -1 when one is not a digit. */
static long
digits_at(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

struct civil {
	long y;
	int mo, d, h, mi, s;
	long us;
};

/* "YYYY-MM-DDTHH:MM:SS" at s (19 bytes, t or T) into c; a real date and
 * time in years 1..9999 (Firestore's range; no leap second). */
static bool
civil_parse(const char *s, struct civil *c)
{
	long v[6];
	static const int at[6] = { 0, 5, 8, 11, 14, 17 };
	static const int len[6] = { 4, 2, 2, 2, 2, 2 };

	if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return false;
	for (int i = 0; i < 6; i++)
		if ((v[i] = digits_at(s + at[i], len[i])) < 0)
			return false;
	c->y = v[0];
	c->mo = (int)v[1];
	c->d = (int)v[2];
	c->h = (int)v[3];
	c->mi = (int)v[4];
	c->s = (int)v[5];
	c->us = 0;
	return c->y >= 1 && c->mo >= 1 && c->mo <= 12 && c->d >= 1 &&
	    c->d <= month_days(c->y, c->mo) && c->h <= 23 && c->mi <= 59 &&
	    c->s <= 59;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (any year). */
static long
days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, long *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The store's canonical form, exactly: "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
static bool
is_canonical_timestamp(const char *s, size_t len)
{
	struct civil c;

	return len == 27 && civil_parse(s, &c) && s[10] == 'T' &&
	    s[19] == '.' && digits_at(s + 20, 6) >= 0 && s[26] == 'Z';
}

int
fsvalue_timestamp(const char *rfc3339, char *out, size_t size)
{
	const char *p;
	struct civil c;
	long secs, days, off = 0;
	int nfrac = 0;

	if (out == NULL || size < 32)
		return -1;
	out[0] = '\0';
	if (rfc3339 == NULL || strnlen(rfc3339, 20) < 20 ||
	    !civil_parse(rfc3339, &c))
		return -1;
	p = rfc3339 + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++)
			if (nfrac < 6)
				c.us = c.us * 10 + (*p - '0');
		if (nfrac == 0 || nfrac > 9)
			return -1;
		for (int i = nfrac; i < 6; i++)
			c.us *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		long oh = digits_at(p + 1, 2), om;

		if (oh < 0 || p[3] != ':' || (om = digits_at(p + 4, 2)) < 0 ||
		    oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	/* to UTC: local time minus its offset */
	secs = c.h * 3600L + c.mi * 60L + c.s - off;
	days = days_from_civil(c.y, c.mo, c.d);
	days += secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	secs -= (secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400)) *
	    86400L;
	civil_from_days(days, &c.y, &c.mo, &c.d);
	if (c.y < 1 || c.y > 9999)
		return -1;
	snprintf(out, size, "%04ld-%02d-%02dT%02ld:%02ld:%02ld.%06ldZ", c.y,
	    c.mo, c.d, secs / 3600, secs / 60 % 60, secs % 60, c.us);
	return 0;
}

/* ---- encoding ---- */

static json_object *encode(struct walk *w, json_object *v, int depth,
    bool in_array);

/*
 * A double as a doubleValue written with its own text, if the double
 * nearest that text reads back as the same decimal (see fsvalue.h). A
 * double built without text (json_object_new_double) has no other text
 * than its shortest one.
 */
static json_object *
encode_double(struct walk *w, json_object *v)
{
	double d = json_object_get_double(v);
	char shortest[NUM_TEXT_MAX];
	struct decval a, b;
	const char *text;
	size_t len;
	json_object *num;

	if (!isfinite(d)) {
		walk_fail(w, TP_INVALID_ARGUMENT,
		    "a number that is not finite cannot be stored");
		return NULL;
	}
	shortest_text(d, shortest, sizeof(shortest));
	if (json_object_get_userdata(v) == NULL) {
		text = shortest;
		len = strlen(shortest);
	} else {
		text = json_object_to_json_string_length(v,
		    JSON_C_TO_STRING_PLAIN, &len);
		if (text == NULL) {
			walk_oom(w);
			return NULL;
		}
	}
	if (!decval_parse(text, len, &a) || memchr(text, '\0', len) != NULL) {
		walk_fail(w, TP_INVALID_ARGUMENT, "not a JSON number");
		return NULL;
	}
	if (!decval_parse(shortest, strlen(shortest), &b) ||
	    !decval_equal(&a, &b)) {
		walk_fail(w, TP_INVALID_ARGUMENT,
		    "a decimal that a double cannot hold exactly (Firestore "
		    "stores numbers as doubles: at most 15 significant digits)");
		return NULL;
	}
	if ((num = json_object_new_double_s(d, text)) == NULL ||
	    (num = wrap("doubleValue", num)) == NULL)
		walk_oom(w);
	return num;
}

static json_object *
encode_int(struct walk *w, json_object *v)
{
	int64_t i = json_object_get_int64(v);
	char buf[24];
	json_object *s;

	/* json-c keeps integers past INT64_MAX as uint64 (saturated at
	 * UINT64_MAX); Firestore's integers are int64 */
	if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
		walk_fail(w, TP_INVALID_ARGUMENT,
		    "an integer past 64 bits (signed) cannot be stored");
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, i);
	if ((s = json_object_new_string(buf)) == NULL ||
	    (s = wrap("integerValue", s)) == NULL)
		walk_oom(w);
	return s;
}

static json_object *
encode_string(struct walk *w, json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	json_object *o;

	/* a copy: json-c's reference counts are not to be shared between
	 * the caller's tree and a request that may outlive it */
	o = wrap(is_canonical_timestamp(s, len) ? "timestampValue" :
	    "stringValue", json_object_new_string_len(s, (int)len));
	if (o == NULL)
		walk_oom(w);
	return o;
}

/* A store map as a Firestore "fields" map (no mapValue around it). */
static json_object *
encode_fields(struct walk *w, json_object *map, int depth)
{
	json_object *fields = json_object_new_object();

	if (fields == NULL) {
		walk_oom(w);
		return NULL;
	}
	json_object_object_foreach(map, key, val) {
		size_t old = walk_push_key(w, key);
		json_object *t = encode(w, val, depth + 1, false);

		walk_pop(w, old);
		if (t == NULL) {
			json_object_put(fields);
			return NULL;
		}
		if (json_add(fields, key, t) == -1) {
			json_object_put(fields);
			walk_oom(w);
			return NULL;
		}
	}
	return fields;
}

static json_object *
encode_array(struct walk *w, json_object *arr, int depth)
{
	json_object *values = json_object_new_array(), *o;
	size_t n = json_object_array_length(arr);

	if (values == NULL) {
		walk_oom(w);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t old = walk_push_index(w, i);
		json_object *t = encode(w, json_object_array_get_idx(arr, i),
		    depth + 1, true);

		walk_pop(w, old);
		if (t == NULL) {
			json_object_put(values);
			return NULL;
		}
		if (json_object_array_add(values, t) != 0) {
			json_object_put(t);
			json_object_put(values);
			walk_oom(w);
			return NULL;
		}
	}
	if ((o = wrap("values", values)) == NULL ||
	    (o = wrap("arrayValue", o)) == NULL)
		walk_oom(w);
	return o;
}

static json_object *
encode(struct walk *w, json_object *v, int depth, bool in_array)
{
	json_object *o;

	if (depth > JSON_MAX_DEPTH) {
		walk_fail(w, TP_INVALID_ARGUMENT, "nested too deeply");
		return NULL;
	}
	switch (json_object_get_type(v)) {
	case json_type_null:
		/* protobuf's JSON for NullValue is a JSON null */
		o = json_object_new_object();
		if (json_add(o, "nullValue", NULL) == -1) {
			json_object_put(o);
			o = NULL;
			walk_oom(w);
		}
		return o;
	case json_type_boolean:
		if ((o = wrap("booleanValue", json_object_new_boolean(
		    json_object_get_boolean(v)))) == NULL)
			walk_oom(w);
		return o;
	case json_type_int:
		return encode_int(w, v);
	case json_type_double:
		return encode_double(w, v);
	case json_type_string:
		return encode_string(w, v);
	case json_type_object:
		if ((o = encode_fields(w, v, depth)) == NULL)
			return NULL;
		if ((o = wrap("fields", o)) == NULL ||
		    (o = wrap("mapValue", o)) == NULL)
			walk_oom(w);
		return o;
	case json_type_array:
		if (in_array) {
			walk_fail(w, TP_INVALID_ARGUMENT,
			    "an array directly inside an array cannot be "
			    "stored in Firestore");
			return NULL;
		}
		return encode_array(w, v, depth);
	}
	walk_fail(w, TP_INTERNAL, "a JSON value of no known type");
	return NULL;
}

json_object *
fsvalue_fields(json_object *data, const char *path, struct tp_err *err)
{
	struct walk w;

	walk_init(&w, path, err);
	if (data == NULL) {
		json_object *o = json_object_new_object();

		if (o == NULL)
			walk_oom(&w);
		return o;
	}
	if (!json_object_is_type(data, json_type_object)) {
		walk_fail(&w, TP_INVALID_ARGUMENT,
		    "a document's data must be a JSON object");
		return NULL;
	}
	return encode_fields(&w, data, 0);
}

json_object *
fsvalue_encode(json_object *v, const char *path, struct tp_err *err)
{
	struct walk w;

	walk_init(&w, path, err);
	return encode(&w, v, 0, false);
}

/* ---- decoding ---- */

static int decode(struct walk *w, json_object *value, int depth,
    json_object **out);

/* A double read back: its text the shortest that round-trips. */
static json_object *
double_json(double d)
{
	char text[NUM_TEXT_MAX];

	shortest_text(d, text, sizeof(text));
	return json_object_new_double_s(d, text);
}

static int
decode_double(struct walk *w, json_object *n, json_object **out)
{
	double d;

	if (!json_object_is_type(n, json_type_double) &&
	    !json_object_is_type(n, json_type_int)) {
		/* "NaN", "Infinity", "-Infinity" come as strings */
		return walk_fail(w, TP_INTERNAL,
		    "a doubleValue that is not a finite number has no JSON "
		    "form");
	}
	d = json_object_get_double(n);
	if (!isfinite(d))
		return walk_fail(w, TP_INTERNAL,
		    "a doubleValue that is not a finite number has no JSON "
		    "form");
	if ((*out = double_json(d)) == NULL)
		return walk_oom(w);
	return 0;
}

static int
decode_int(struct walk *w, json_object *n, json_object **out)
{
	const char *s, *p;
	long long v;
	char *end;

	if (json_object_is_type(n, json_type_int)) {
		int64_t i = json_object_get_int64(n);

		if (i == INT64_MAX &&
		    json_object_get_uint64(n) > (uint64_t)INT64_MAX)
			return walk_fail(w, TP_INTERNAL,
			    "an integerValue out of range");
		*out = json_object_new_int64(i);
		return *out == NULL ? walk_oom(w) : 0;
	}
	if (!json_object_is_type(n, json_type_string))
		return walk_fail(w, TP_INTERNAL, "a malformed integerValue");
	s = json_object_get_string(n);
	p = *s == '-' ? s + 1 : s;
	if (*p < '0' || *p > '9')
		return walk_fail(w, TP_INTERNAL, "a malformed integerValue");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || (size_t)(end - s) !=
	    (size_t)json_object_get_string_len(n))
		return walk_fail(w, TP_INTERNAL, "a malformed integerValue");
	if (errno == ERANGE)
		return walk_fail(w, TP_INTERNAL,
		    "an integerValue out of range");
	if ((*out = json_object_new_int64((int64_t)v)) == NULL)
		return walk_oom(w);
	return 0;
}

/* Firestore's "fields" (NULL or absent: none) -> a store map. */
static int
decode_fields(struct walk *w, json_object *fields, int depth,
    json_object **out)
{
	json_object *map;

	if (fields != NULL && !json_object_is_type(fields, json_type_object))
		return walk_fail(w, TP_INTERNAL, "malformed fields");
	if ((map = json_object_new_object()) == NULL)
		return walk_oom(w);
	if (fields != NULL) {
		json_object_object_foreach(fields, key, val) {
			size_t old = walk_push_key(w, key);
			json_object *v = NULL;
			int rc = decode(w, val, depth + 1, &v);

			walk_pop(w, old);
			if (rc == -1) {
				json_object_put(map);
				return -1;
			}
			if (json_add(map, key, v) == -1) {
				json_object_put(map);
				return walk_oom(w);
			}
		}
	}
	*out = map;
	return 0;
}

static int
decode_array(struct walk *w, json_object *av, int depth, json_object **out)
{
	json_object *values = NULL, *arr;
	size_t n;

	if (!json_object_is_type(av, json_type_object) ||
	    (json_object_object_get_ex(av, "values", &values) &&
	    !json_object_is_type(values, json_type_array)))
		return walk_fail(w, TP_INTERNAL, "a malformed arrayValue");
	if ((arr = json_object_new_array()) == NULL)
		return walk_oom(w);
	n = values != NULL ? json_object_array_length(values) : 0;
	for (size_t i = 0; i < n; i++) {
		size_t old = walk_push_index(w, i);
		json_object *v = NULL;
		int rc = decode(w, json_object_array_get_idx(values, i),
		    depth + 1, &v);

		walk_pop(w, old);
		if (rc == -1) {
			json_object_put(arr);
			return -1;
		}
		if (json_object_array_add(arr, v) != 0) {
			json_object_put(v);
			json_object_put(arr);
			return walk_oom(w);
		}
	}
	*out = arr;
	return 0;
}

static int
decode_geo(struct walk *w, json_object *g, json_object **out)
{
	static const char *const names[] = { "latitude", "longitude" };
	json_object *o, *n;

	if (!json_object_is_type(g, json_type_object))
		return walk_fail(w, TP_INTERNAL, "a malformed geoPointValue");
	if ((o = json_object_new_object()) == NULL)
		return walk_oom(w);
	for (int i = 0; i < 2; i++) {
		double d = 0;	/* proto3 leaves out a zero */

		if (json_object_object_get_ex(g, names[i], &n)) {
			if (!json_object_is_type(n, json_type_double) &&
			    !json_object_is_type(n, json_type_int)) {
				json_object_put(o);
				return walk_fail(w, TP_INTERNAL,
				    "a malformed geoPointValue");
			}
			d = json_object_get_double(n);
		}
		if (!isfinite(d)) {
			json_object_put(o);
			return walk_fail(w, TP_INTERNAL,
			    "a malformed geoPointValue");
		}
		if ((n = double_json(d)) == NULL ||
		    json_add(o, names[i], n) == -1) {
			json_object_put(o);
			return walk_oom(w);
		}
	}
	*out = o;
	return 0;
}

static int
decode_string_kind(struct walk *w, json_object *s, const char *kind,
    json_object **out)
{
	char why[64];

	if (!json_object_is_type(s, json_type_string)) {
		snprintf(why, sizeof(why), "a malformed %s", kind);
		return walk_fail(w, TP_INTERNAL, why);
	}
	*out = json_object_new_string_len(json_object_get_string(s),
	    json_object_get_string_len(s));
	return *out == NULL ? walk_oom(w) : 0;
}

static int
decode(struct walk *w, json_object *value, int depth, json_object **out)
{
	const char *kind = NULL;
	json_object *v = NULL;
	char shown[48], why[96];

	*out = NULL;
	if (depth > JSON_MAX_DEPTH)
		return walk_fail(w, TP_INTERNAL, "nested too deeply");
	if (!json_object_is_type(value, json_type_object) ||
	    json_object_object_length(value) != 1)
		return walk_fail(w, TP_INTERNAL,
		    "a Value that does not hold exactly one kind");
	json_object_object_foreach(value, k, val) {
		kind = k;
		v = val;
	}
	if (strcmp(kind, "nullValue") == 0) {
		if (v != NULL && !(json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), "NULL_VALUE") == 0))
			return walk_fail(w, TP_INTERNAL,
			    "a malformed nullValue");
		return 0;
	}
	if (strcmp(kind, "booleanValue") == 0) {
		if (!json_object_is_type(v, json_type_boolean))
			return walk_fail(w, TP_INTERNAL,
			    "a malformed booleanValue");
		*out = json_object_new_boolean(json_object_get_boolean(v));
		return *out == NULL ? walk_oom(w) : 0;
	}
	if (strcmp(kind, "integerValue") == 0)
		return decode_int(w, v, out);
	if (strcmp(kind, "doubleValue") == 0)
		return decode_double(w, v, out);
	if (strcmp(kind, "timestampValue") == 0) {
		char ts[32];

		if (!json_object_is_type(v, json_type_string) ||
		    fsvalue_timestamp(json_object_get_string(v), ts,
		    sizeof(ts)) == -1)
			return walk_fail(w, TP_INTERNAL,
			    "a malformed timestampValue");
		*out = json_object_new_string(ts);
		return *out == NULL ? walk_oom(w) : 0;
	}
	if (strcmp(kind, "stringValue") == 0 ||
	    strcmp(kind, "referenceValue") == 0 ||
	    strcmp(kind, "bytesValue") == 0)
		return decode_string_kind(w, v, kind, out);
	if (strcmp(kind, "mapValue") == 0) {
		json_object *fields = NULL;

		if (!json_object_is_type(v, json_type_object))
			return walk_fail(w, TP_INTERNAL,
			    "a malformed mapValue");
		json_object_object_get_ex(v, "fields", &fields);
		return decode_fields(w, fields, depth, out);
	}
	if (strcmp(kind, "arrayValue") == 0)
		return decode_array(w, v, depth, out);
	if (strcmp(kind, "geoPointValue") == 0)
		return decode_geo(w, v, out);
	snprintf(why, sizeof(why), "a Value of unknown kind %s",
	    tp_err_shown(kind, shown, sizeof(shown)));
	return walk_fail(w, TP_INTERNAL, why);
}

json_object *
fsvalue_data(json_object *fields, const char *path, struct tp_err *err)
{
	struct walk w;
	json_object *out = NULL;

	walk_init(&w, path, err);
	if (decode_fields(&w, fields, 0, &out) == -1)
		return NULL;
	return out;
}

int
fsvalue_decode(json_object *value, const char *path, json_object **out,
    struct tp_err *err)
{
	struct walk w;

	walk_init(&w, path, err);
	return decode(&w, value, 0, out);
}

/* ---- field paths and patches ---- */

static bool
simple_segment(const char *s, size_t len)
{
	if (len == 0 || !((s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* Appends one segment, quoted when it must be, at buf + *o; false when
 * it does not fit (the NUL included). */
static bool
segment_append(const char *s, size_t len, char *buf, size_t size,
    size_t *o)
{
	bool quote = !simple_segment(s, len);

	if (quote) {
		if (*o + 1 >= size)
			return false;
		buf[(*o)++] = '`';
	}
	for (size_t i = 0; i < len; i++) {
		if (quote && (s[i] == '`' || s[i] == '\\')) {
			if (*o + 1 >= size)
				return false;
			buf[(*o)++] = '\\';
		}
		if (*o + 1 >= size)
			return false;
		buf[(*o)++] = s[i];
	}
	if (quote) {
		if (*o + 1 >= size)
			return false;
		buf[(*o)++] = '`';
	}
	buf[*o] = '\0';
	return true;
}

int
fsvalue_field_path(const char *dotted, char *buf, size_t size,
    struct tp_err *err)
{
	const char *s = dotted, *dot;
	size_t o = 0;

	if (buf == NULL || size == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "no room for a field path");
	buf[0] = '\0';
	if (dotted == NULL || *dotted == '\0')
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "an empty field name");
	for (;;) {
		dot = strchr(s, '.');
		size_t len = dot != NULL ? (size_t)(dot - s) : strlen(s);

		if (len == 0)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "a field name with an empty segment");
		if (o > 0) {
			if (o + 1 >= size)
				goto too_long;
			buf[o++] = '.';
		}
		if (!segment_append(s, len, buf, size, &o))
			goto too_long;
		if (dot == NULL)
			return 0;
		s = dot + 1;
	}
too_long:
	buf[0] = '\0';
	return tp_err_set(err, TP_INVALID_ARGUMENT,
	    "a field path longer than %zu bytes", size - 1);
}

/* A merge patch's walk: mask paths are built in mpath (quoted). */
struct pwalk {
	struct walk	 w;
	json_object	*mask;
	char		*mpath;
	size_t		 mlen;
	size_t		 msize;
};

static int
pwalk_push(struct pwalk *p, const char *key, size_t *old)
{
	size_t need = p->mlen + 1 + 2 + 2 * strlen(key) + 1;

	*old = p->mlen;
	if (need > p->msize) {
		size_t n = p->msize * 2 > need ? p->msize * 2 : need;
		char *m = realloc(p->mpath, n);

		if (m == NULL)
			return walk_oom(&p->w);
		p->mpath = m;
		p->msize = n;
	}
	if (p->mlen > 0)
		p->mpath[p->mlen++] = '.';
	/* room was made above: the quoted segment always fits */
	segment_append(key, strlen(key), p->mpath, p->msize, &p->mlen);
	return 0;
}

static int
pwalk_leaf(struct pwalk *p)
{
	json_object *s = json_object_new_string_len(p->mpath, (int)p->mlen);

	if (s == NULL || json_object_array_add(p->mask, s) != 0) {
		json_object_put(s);
		return walk_oom(&p->w);
	}
	return 0;
}

/* The patch map at `patch` into the fields map `fields`. */
static int
patch_map(struct pwalk *p, json_object *patch, json_object *fields,
    int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return walk_fail(&p->w, TP_INVALID_ARGUMENT,
		    "nested too deeply");
	json_object_object_foreach(patch, key, val) {
		size_t old_m, old_w = walk_push_key(&p->w, key);
		json_object *t = NULL;
		int rc = pwalk_push(p, key, &old_m);

		if (rc == 0 && val == NULL) {
			rc = pwalk_leaf(p);	/* deleted: in the mask only */
		} else if (rc == 0 &&
		    json_object_is_type(val, json_type_object) &&
		    json_object_object_length(val) > 0) {
			json_object *sub = json_object_new_object();

			if (sub == NULL)
				rc = walk_oom(&p->w);
			else
				rc = patch_map(p, val, sub, depth + 1);
			/* a map of deletions alone adds nothing to fields */
			if (rc == 0 && json_object_object_length(sub) > 0) {
				if ((t = wrap("fields", sub)) == NULL ||
				    (t = wrap("mapValue", t)) == NULL)
					rc = walk_oom(&p->w);
			} else {
				json_object_put(sub);
			}
		} else if (rc == 0) {
			if ((t = encode(&p->w, val, depth + 1, false)) == NULL)
				rc = -1;
			else
				rc = pwalk_leaf(p);
		}
		walk_pop(&p->w, old_w);
		p->mlen = old_m;
		if (rc == 0 && t != NULL && json_add(fields, key, t) == -1)
			rc = walk_oom(&p->w);
		else if (rc == -1)
			json_object_put(t);
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
fsvalue_patch(json_object *patch, const char *path, json_object **fields,
    json_object **mask, struct tp_err *err)
{
	struct pwalk p;
	int rc;

	*fields = NULL;
	*mask = NULL;
	memset(&p, 0, sizeof(p));
	walk_init(&p.w, path, err);
	if (!json_object_is_type(patch, json_type_object))
		return walk_fail(&p.w, TP_INVALID_ARGUMENT,
		    "a merge patch must be a JSON object");
	p.msize = 256;
	p.mpath = malloc(p.msize);
	p.mask = json_object_new_array();
	*fields = json_object_new_object();
	if (p.mpath == NULL || p.mask == NULL || *fields == NULL)
		rc = walk_oom(&p.w);
	else
		rc = patch_map(&p, patch, *fields, 0);
	free(p.mpath);
	if (rc == -1) {
		json_object_put(p.mask);
		json_object_put(*fields);
		*fields = NULL;
		return -1;
	}
	*mask = p.mask;
	return 0;
}
