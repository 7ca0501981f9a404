/* jsonutil.c: bounded JSON parsing, typed getters, RFC 7396 merge, wiping. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/jsonutil.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>
#include <json-c/printbuf.h>

/*
 * Rejects numbers that parsed to infinity (e.g. 1e999): JSON has none.
 * Adds up the members of every object into *members, for the duplicate
 * key check (json_parse).
 */
static int
json_check_tree(json_object *o, size_t *members, struct tp_err *err)
{
	struct json_object_iterator it, end;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(o)))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "JSON number out of range");
		return 0;
	case json_type_object:
		*members += (size_t)json_object_object_length(o);
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			if (json_check_tree(json_object_iter_peek_value(&it),
			    members, err) == -1)
				return -1;
		return 0;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (json_check_tree(json_object_array_get_idx(o, i),
			    members, err) == -1)
				return -1;
		return 0;
	default:
		return 0;
	}
}

/* Length of the UTF-8 sequence at s (strict: no overlong forms,
 * surrogates or code points past U+10FFFF), or 0 if it is invalid. */
static size_t
json_utf8_seq(const unsigned char *s, size_t avail)
{
	size_t n, k;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (avail < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
json_utf8_valid(const char *s, size_t len)
{
	size_t i, n;

	for (i = 0; i < len; i += n)
		if ((n = json_utf8_seq((const unsigned char *)s + i,
		    len - i)) == 0)
			return false;
	return true;
}

/*
 * What json-c's strict mode still lets through: NUL bytes, invalid or
 * overlong UTF-8, raw control characters in strings, single-quoted
 * names, and numbers like "1." (which json-c would write back as is).
 * Counts the colons outside strings into *members: in JSON that json-c
 * then accepts, each is one member of an object.
 */
static int
json_prescan(const char *buf, size_t len, size_t *members,
    struct tp_err *err)
{
	const unsigned char *s = (const unsigned char *)buf;
	bool in_str = false, esc = false;
	const char *why = NULL;
	size_t i, n, colons = 0;

	for (i = 0; i < len && why == NULL; i += n) {
		n = 1;
		if (s[i] == '\0')
			why = "NUL byte";
		else if (s[i] >= 0x80) {
			if ((n = json_utf8_seq(s + i, len - i)) == 0)
				why = "invalid UTF-8";
		} else if (in_str) {
			if (esc)
				esc = false;
			else if (s[i] == '\\')
				esc = true;
			else if (s[i] == '"')
				in_str = false;
			else if (s[i] < 0x20)
				why = "control character in a string";
		} else if (s[i] == '"')
			in_str = true;
		else if (s[i] == ':')
			colons++;
		else if (s[i] == '\'')
			why = "single quote";
		else if (s[i] == '.' && (i + 1 == len || s[i + 1] < '0' ||
		    s[i + 1] > '9'))
			why = "digit expected after '.'";
	}
	if (why != NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid JSON at offset %zu: %s", i - n, why);
	*members = colons;
	return 0;
}

/* Container levels json_dup_name follows: as deep as json-c accepts. */
struct json_dup_level {
	json_object	*names;		/* an object's names so far; NULL in
					   an array */
	bool		 want_name;	/* the next string is a name */
};

/*
 * Finds a name given twice in one object of buf, which json-c parsed:
 * the error path only, once json_parse knows there is one. Each name is
 * unescaped by json-c itself, so "o\u0070" and "op" are the same name,
 * as they were to the parse that kept only one of them. Copies it,
 * shortened and with unprintable bytes as '?', into name; false when
 * none is found (which would mean the counts disagreed for another
 * reason).
 */
static bool
json_dup_name(const char *buf, size_t len, char *name, size_t size)
{
	struct json_dup_level st[JSON_MAX_DEPTH + 1];
	struct json_tokener *tok;
	json_object *key;
	const char *k;
	size_t i, j, top = 0, depth = 0;
	bool found = false;

	if ((tok = json_tokener_new()) == NULL)
		return false;
	for (i = 0; i < len && !found; i++) {
		switch (buf[i]) {
		case '{':
		case '[':
			if (depth == JSON_MAX_DEPTH + 1)
				goto done;
			top = depth++;
			st[top].names = buf[i] == '{' ?
			    json_object_new_object() : NULL;
			st[top].want_name = buf[i] == '{';
			if (buf[i] == '{' && st[top].names == NULL)
				goto done;
			break;
		case '}':
		case ']':
			if (depth == 0)
				goto done;
			json_object_put(st[--depth].names);
			top = depth > 0 ? depth - 1 : 0;
			break;
		case ',':
			if (depth > 0 && st[top].names != NULL)
				st[top].want_name = true;
			break;
		case '"':
			for (j = i + 1; j < len && buf[j] != '"'; j++)
				if (buf[j] == '\\')
					j++;
			if (j >= len)
				goto done;
			if (depth > 0 && st[top].want_name) {
				st[top].want_name = false;
				json_tokener_reset(tok);
				key = json_tokener_parse_ex(tok, buf + i,
				    (int)(j - i + 1));
				if (key == NULL)
					goto done;
				k = json_object_get_string(key);
				if (json_object_object_get_ex(st[top].names,
				    k, NULL)) {
					snprintf(name, size, "%s", k);
					found = true;
				} else
					json_object_object_add(st[top].names,
					    k, NULL);
				json_object_put(key);
			}
			i = j;
			break;
		}
	}
done:
	while (depth > 0)
		json_object_put(st[--depth].names);
	json_tokener_free(tok);
	for (k = name; found && *k != '\0'; k++)
		if ((unsigned char)*k < 0x20 || (unsigned char)*k >= 0x7f)
			name[k - name] = '?';
	return found;
}

/*
 * One tokener per thread, reset for each input: a new one is two
 * allocations past malloc's small sizes, and each of those made glibc
 * consolidate its fast bins, which showed as a tenth of the supervisor's
 * CPU in a pulse. Its scratch buffer is wiped after every input.
 */
static pthread_key_t	json_tok_key;
static pthread_once_t	json_tok_once = PTHREAD_ONCE_INIT;
static bool		json_tok_keyed;

static void
json_tok_wipe(struct json_tokener *tok, size_t len)
{
	if (tok->pb == NULL || tok->pb->buf == NULL || tok->pb->size <= 0)
		return;
	if (len > (size_t)tok->pb->size)
		len = (size_t)tok->pb->size;
	sodium_memzero(tok->pb->buf, len);
}

static void
json_tok_destroy(void *arg)
{
	struct json_tokener *tok = arg;

	json_tok_wipe(tok, SIZE_MAX);
	json_tokener_free(tok);
}

static void
json_tok_key_init(void)
{
	json_tok_keyed = pthread_key_create(&json_tok_key,
	    json_tok_destroy) == 0;
}

/* This thread's tokener, reset; NULL when out of memory. */
static struct json_tokener *
json_tok_get(bool *owned)
{
	struct json_tokener *tok;

	*owned = false;
	(void)pthread_once(&json_tok_once, json_tok_key_init);
	if (json_tok_keyed &&
	    (tok = pthread_getspecific(json_tok_key)) != NULL) {
		json_tokener_reset(tok);
		return tok;
	}
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		return NULL;
	if (!json_tok_keyed || pthread_setspecific(json_tok_key, tok) != 0)
		*owned = true;	/* no slot: this call frees it */
	return tok;
}

json_object *
json_parse(const char *buf, size_t len, struct tp_err *err)
{
	struct json_tokener *tok;
	json_object *o;
	enum json_tokener_error jerr;
	size_t off, text_members = 0, tree_members = 0;
	char name[65];
	bool owned;

	if (buf == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no JSON input"),
		    NULL;
	if (len > INT_MAX - 1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "JSON input of %zu bytes is too large", len), NULL;
	if (json_prescan(buf, len, &text_members, err) == -1)
		return NULL;
	if ((tok = json_tok_get(&owned)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory"), NULL;
	/* Size the scratch buffer for the longest possible string now, so it is
	 * never realloc'd mid-parse leaving a copy of a secret in freed memory
	 * (what it held before was wiped). */
	if (printbuf_memset(tok->pb, 0, 0, (int)len + 1) < 0) {
		if (owned)
			json_tok_destroy(tok);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory"), NULL;
	}
	printbuf_reset(tok->pb);
	/* strict: no trailing data, no comments, no NaN literals; UTF-8
	 * was checked (more strictly) by json_prescan above */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* the terminating NUL tells json-c the input ended here */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		off = len;
	}
	/* The tokener's scratch buffer held the strings it parsed, which may
	 * be secrets (keys.set): none was longer than the input. */
	json_tok_wipe(tok, len + 1);
	if (owned)
		json_tok_destroy(tok);
	else
		json_tokener_reset(tok);
	if (jerr != json_tokener_success) {
		json_object_put(o);
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid JSON at offset %zu: %s", off,
		    json_tokener_error_desc(jerr)), NULL;
	}
	/* json-c's null is NULL, which here means failure */
	if (o == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "JSON null is not accepted as a whole input"), NULL;
	if (off < len) {
		json_object_put(o);
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid JSON at offset %zu: trailing data", off), NULL;
	}
	if (json_check_tree(o, &tree_members, err) == -1) {
		json_object_put(o);
		return NULL;
	}
	/*
	 * A name given twice in an object: json-c keeps the last value, so
	 * {"op":"status","op":"tenant.list"} would run tenant.list. Every
	 * member in the text has one colon; the parsed tree has fewer
	 * members exactly when some object had a name twice (its value
	 * replaced in place, and whatever the first value held dropped).
	 */
	if (tree_members != text_members) {
		json_object_put(o);
		if (json_dup_name(buf, len, name, sizeof(name)))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "duplicate key \"%s\" in a JSON object", name),
			    NULL;
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "duplicate key in a JSON object"), NULL;
	}
	return o;
}

const char *
json_get_str(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool
json_get_bool(json_object *o, const char *key, bool *out)
{
	json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v) != 0;
	return true;
}

bool
json_get_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

json_object *
json_get_obj(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

void
json_merge(json_object *dst, json_object *src)
{
	struct json_object_iterator it, end;
	json_object *sv, *dv;
	const char *key;

	if (dst == NULL || src == NULL ||
	    !json_object_is_type(dst, json_type_object) ||
	    !json_object_is_type(src, json_type_object))
		return;
	it = json_object_iter_begin(src);
	end = json_object_iter_end(src);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		sv = json_object_iter_peek_value(&it);
		if (sv == NULL) {		/* json-c's null */
			json_object_object_del(dst, key);
			continue;
		}
		if (json_object_is_type(sv, json_type_object)) {
			if (!json_object_object_get_ex(dst, key, &dv) ||
			    !json_object_is_type(dv, json_type_object)) {
				/* a map replaces a non-map as if merged into
				 * {}: its nulls dropped, as SQLite's json_patch
				 * does */
				dv = json_object_new_object();
				json_object_object_add(dst, key, dv);
			}
			json_merge(dv, sv);
			continue;
		}
		/* a copy, so dst never shares (non-atomic) refcounts with src */
		json_object_object_add(dst, key, json_copy(sv));
	}
}

json_object *
json_copy(json_object *o)
{
	json_object *dst = NULL;

	if (o == NULL)
		return NULL;
	if (json_object_deep_copy(o, &dst, NULL) != 0)
		return NULL;
	return dst;
}

const char *
json_compact(json_object *o, size_t *len)
{
	return json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static void
json_wipe_tree(json_object *o)
{
	struct json_object_iterator it, end;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		n = (size_t)json_object_get_string_len(o);
		if (n > 0)
			sodium_memzero((void *)(uintptr_t)
			    json_object_get_string(o), n);
		break;
	case json_type_object:
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			json_wipe_tree(json_object_iter_peek_value(&it));
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			json_wipe_tree(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
}

void
json_wipe_string(json_object *o)
{
	const char *s;
	size_t len;

	if (o == NULL)
		return;
	/*
	 * json-c caches the last serialization of an object. Serializing the
	 * unchanged object again rewrites that cache in place (same length,
	 * no realloc that would leave a copy behind), and the text is zeroed
	 * before the strings themselves are.
	 */
	if ((s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN,
	    &len)) != NULL && len > 0)
		sodium_memzero((void *)(uintptr_t)s, len);
	json_wipe_tree(o);
}

int
json_add(json_object *o, const char *key, json_object *v)
{
	if (o == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

const char *
json_unknown_key(json_object *o, const char *const *keys)
{
	struct json_object_iterator it, end;
	const char *name;
	size_t i;

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], name) == 0)
				break;
		if (keys[i] == NULL)
			return name;
	}
	return NULL;
}
