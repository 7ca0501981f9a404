/* fsnum.c: the companion field that keeps a number's exact text beside its Firestore double (fsnum.h says how). */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/fsnum.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsvalue.h"
#include "common/jsonutil.h"

static int
fsnum_oom(struct tp_err *err)
{
	return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
}

/* The strict JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
fsnum_grammar(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	if (p < end && *p == '-')
		p++;
	if (p == end || *p < '0' || *p > '9')
		return false;
	if (*p++ != '0')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	if (p < end && *p == '.') {
		if (++p == end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p == end;
}

/* The value of a text fsnum_grammar accepted (strtod needs its NUL). */
static bool
fsnum_value(const char *s, size_t len, double *d)
{
	char *end;

	if (!fsnum_grammar(s, len) || memchr(s, '\0', len) != NULL)
		return false;
	*d = strtod(s, &end);
	return end == s + len && isfinite(*d);
}

/*
 * Whether the double v needs an entry: *text (len *len, living as long as
 * v) when it does, NULL when not. A double without text of its own is its
 * shortest text to fsvalue too; one whose text is not a finite JSON number
 * of its value is left for fsvalue to judge (it refuses what it cannot
 * write). The check is the one the brief of this module states: the text
 * against what fsvalue reads back for the double.
 */
static int
fsnum_needs(json_object *v, const char **text, size_t *len,
    struct tp_err *err)
{
	double d = json_object_get_double(v), t;
	json_object *value = NULL, *back = NULL;
	const char *bt;
	size_t blen;
	int rc = 0;

	*text = NULL;
	if (json_object_get_userdata(v) == NULL || !isfinite(d))
		return 0;
	if ((*text = json_object_to_json_string_length(v,
	    JSON_C_TO_STRING_PLAIN, len)) == NULL)
		return fsnum_oom(err);
	if (!fsnum_value(*text, *len, &t) || t != d ||
	    signbit(t) != signbit(d)) {
		*text = NULL;
		return 0;
	}
	if (d == 0 && signbit(d))
		return 0;	/* an entry: Firestore keeps no sign on zero */
	if ((value = json_object_new_object()) == NULL ||
	    json_add(value, "doubleValue", json_object_new_double(d)) == -1) {
		json_object_put(value);
		*text = NULL;
		return fsnum_oom(err);
	}
	if (fsvalue_decode(value, NULL, &back, err) == -1) {
		rc = -1;
	} else if ((bt = json_object_to_json_string_length(back,
	    JSON_C_TO_STRING_PLAIN, &blen)) == NULL) {
		rc = fsnum_oom(err);
	} else if (blen == *len && memcmp(bt, *text, blen) == 0) {
		*text = NULL;	/* reads back the same */
	}
	if (rc == -1)
		*text = NULL;
	json_object_put(back);
	json_object_put(value);
	return rc;
}

static int fsnum_split_map(json_object *map, int depth, json_object **plain,
    json_object **texts, struct tp_err *err);
static int fsnum_split_value(json_object *v, int depth, json_object **plain,
    json_object **texts, struct tp_err *err);

/* An array: its mirror starts at the first element with an entry, with a
 * null for each element before it, so it is as long as the array. */
static int
fsnum_split_array(json_object *v, int depth, json_object **plain,
    json_object **texts, struct tp_err *err)
{
	size_t n = json_object_array_length(v);
	json_object *arr = NULL, *p, *t;

	if ((*plain = json_object_new_array_ext((int)n)) == NULL)
		return fsnum_oom(err);
	for (size_t i = 0; i < n; i++) {
		if (fsnum_split_value(json_object_array_get_idx(v, i),
		    depth + 1, &p, &t, err) == -1)
			goto fail;
		if (json_object_array_add(*plain, p) != 0) {
			json_object_put(p);
			json_object_put(t);
			goto nomem;
		}
		if (t != NULL && arr == NULL) {
			if ((arr = json_object_new_array_ext((int)n)) == NULL) {
				json_object_put(t);
				goto nomem;
			}
			for (size_t j = 0; j < i; j++)
				if (json_object_array_add(arr, NULL) != 0) {
					json_object_put(t);
					goto nomem;
				}
		}
		if (arr != NULL && json_object_array_add(arr, t) != 0) {
			json_object_put(t);
			goto nomem;
		}
	}
	*texts = arr;
	return 0;
nomem:
	fsnum_oom(err);
fail:
	json_object_put(arr);
	json_object_put(*plain);
	*plain = NULL;
	return -1;
}

/* Any value -> its plain copy and its companion entry (NULL: none). */
static int
fsnum_split_value(json_object *v, int depth, json_object **plain,
    json_object **texts, struct tp_err *err)
{
	const char *text;
	size_t len;

	*plain = NULL;
	*texts = NULL;
	if (depth > JSON_MAX_DEPTH)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "a document nested too deeply");
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_object:
		return fsnum_split_map(v, depth, plain, texts, err);
	case json_type_array:
		return fsnum_split_array(v, depth, plain, texts, err);
	case json_type_double:
		if (fsnum_needs(v, &text, &len, err) == -1)
			return -1;
		if (text != NULL) {
			/* no text of its own: fsvalue writes the shortest */
			*plain = json_object_new_double(
			    json_object_get_double(v));
			*texts = json_object_new_string_len(text, (int)len);
			if (*plain == NULL || *texts == NULL) {
				json_object_put(*plain);
				json_object_put(*texts);
				*plain = *texts = NULL;
				return fsnum_oom(err);
			}
			return 0;
		}
		break;
	default:
		break;
	}
	if ((*plain = json_copy(v)) == NULL)
		return fsnum_oom(err);
	return 0;
}

static int
fsnum_split_map(json_object *map, int depth, json_object **plain,
    json_object **texts, struct tp_err *err)
{
	json_object *p, *t;

	if ((*plain = json_object_new_object()) == NULL)
		return fsnum_oom(err);
	json_object_object_foreach(map, key, val) {
		if (fsnum_split_value(val, depth + 1, &p, &t, err) == -1)
			goto fail;
		if (json_add(*plain, key, p) == -1) {
			json_object_put(t);
			goto nomem;
		}
		if (t == NULL)
			continue;
		if (*texts == NULL && (*texts = json_object_new_object()) ==
		    NULL) {
			json_object_put(t);
			goto nomem;
		}
		if (json_add(*texts, key, t) == -1)
			goto nomem;
	}
	return 0;
nomem:
	fsnum_oom(err);
fail:
	json_object_put(*plain);
	json_object_put(*texts);
	*plain = *texts = NULL;
	return -1;
}

/* A store document or patch: a map without the companion's name. */
static int
fsnum_check_top(json_object *data, struct tp_err *err)
{
	if (!json_object_is_type(data, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "a document's data must be a JSON object");
	if (json_object_object_get_ex(data, FSNUM_FIELD, NULL))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the field " FSNUM_FIELD " is reserved by the Firestore "
		    "backend");
	return 0;
}

int
fsnum_split(json_object *data, json_object **plain, json_object **texts,
    struct tp_err *err)
{
	*plain = NULL;
	*texts = NULL;
	if (data == NULL)
		return 0;
	if (fsnum_check_top(data, err) == -1)
		return -1;
	return fsnum_split_map(data, 0, plain, texts, err);
}

/* The patch map `patch` -> its plain copy and the companion's patch (every
 * leaf's entry, or null). */
static int
fsnum_patch_map(json_object *patch, int depth, json_object **plain,
    json_object **tpatch, struct tp_err *err)
{
	json_object *p, *t;

	*plain = NULL;
	*tpatch = NULL;
	if (depth > JSON_MAX_DEPTH)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "a document nested too deeply");
	if ((*plain = json_object_new_object()) == NULL ||
	    (*tpatch = json_object_new_object()) == NULL)
		goto nomem;
	json_object_object_foreach(patch, key, val) {
		/* the walk of fsvalue_patch: a map with members is descended
		 * into, anything else (an empty map too) is one leaf */
		if (json_object_is_type(val, json_type_object) &&
		    json_object_object_length(val) > 0) {
			if (fsnum_patch_map(val, depth + 1, &p, &t, err) == -1)
				goto fail;
		} else if (fsnum_split_value(val, depth + 1, &p, &t,
		    err) == -1) {
			goto fail;
		}
		if (json_add(*plain, key, p) == -1) {
			json_object_put(t);
			goto nomem;
		}
		if (json_add(*tpatch, key, t) == -1)	/* NULL: delete */
			goto nomem;
	}
	return 0;
nomem:
	fsnum_oom(err);
fail:
	json_object_put(*plain);
	json_object_put(*tpatch);
	*plain = *tpatch = NULL;
	return -1;
}

int
fsnum_patch(json_object *patch, json_object **plain,
    json_object **texts_patch, struct tp_err *err)
{
	*plain = NULL;
	*texts_patch = NULL;
	if (fsnum_check_top(patch, err) == -1)
		return -1;
	if (fsnum_patch_map(patch, 0, plain, texts_patch, err) == -1)
		return -1;
	if (json_object_object_length(*texts_patch) == 0) {
		json_object_put(*texts_patch);
		*texts_patch = NULL;
	}
	return 0;
}

/*
 * The entry `t` for the value `v` (held at key of map, or at index i of
 * arr): a text put back on the double it still equals, maps and arrays of
 * the same length walked; anything else ignored.
 */
static int
fsnum_join_value(json_object *t, json_object *v, json_object *map,
    const char *key, json_object *arr, size_t i, int depth,
    struct tp_err *err)
{
	json_object *d;
	double x;

	if (depth > JSON_MAX_DEPTH || t == NULL || v == NULL)
		return 0;
	switch (json_object_get_type(t)) {
	case json_type_string:
		if (!json_object_is_type(v, json_type_double) ||
		    !fsnum_value(json_object_get_string(t),
		    (size_t)json_object_get_string_len(t), &x) ||
		    x != json_object_get_double(v))
			return 0;
		/* x, not v's value: -0 comes back as 0, and == holds */
		if ((d = json_object_new_double_s(x,
		    json_object_get_string(t))) == NULL)
			return fsnum_oom(err);
		if (map != NULL)
			return json_add(map, key, d) == -1 ? fsnum_oom(err) : 0;
		if (json_object_array_put_idx(arr, i, d) != 0) {
			json_object_put(d);
			return fsnum_oom(err);
		}
		return 0;
	case json_type_object:
		if (!json_object_is_type(v, json_type_object))
			return 0;
		json_object_object_foreach(t, k, sub) {
			json_object *dv = NULL;

			if (json_object_object_get_ex(v, k, &dv) &&
			    fsnum_join_value(sub, dv, v, k, NULL, 0,
			    depth + 1, err) == -1)
				return -1;
		}
		return 0;
	case json_type_array:
		if (!json_object_is_type(v, json_type_array) ||
		    json_object_array_length(t) != json_object_array_length(v))
			return 0;
		for (size_t j = 0; j < json_object_array_length(t); j++)
			if (fsnum_join_value(json_object_array_get_idx(t, j),
			    json_object_array_get_idx(v, j), NULL, NULL, v, j,
			    depth + 1, err) == -1)
				return -1;
		return 0;
	default:
		return 0;
	}
}

int
fsnum_join(json_object *data, struct tp_err *err)
{
	json_object *texts = NULL;
	int rc;

	if (!json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, FSNUM_FIELD, &texts))
		return 0;
	json_object_get(texts);
	json_object_object_del(data, FSNUM_FIELD);
	/* the companion's top is the document itself */
	rc = fsnum_join_value(texts, data, NULL, NULL, NULL, 0, 0, err);
	json_object_put(texts);
	return rc;
}
