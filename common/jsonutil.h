/* jsonutil.h: small json-c helpers shared by the store, the daemon and the CLI. */
#ifndef TP_JSONUTIL_H
#define TP_JSONUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

#define JSON_MAX_DEPTH 64	/* nesting accepted from any outside input */

/* Parses exactly len bytes as one JSON value (no trailing garbage), with
 * depth bounded by JSON_MAX_DEPTH. Returns NULL with err on failure. */
json_object *json_parse(const char *buf, size_t len, struct tp_err *err);
/* Strict UTF-8 check (no overlong forms, surrogates, or > U+10FFFF). */
bool json_utf8_valid(const char *s, size_t len);
/* Field getters: NULL / false when absent or of another type. */
const char *json_get_str(json_object *o, const char *key);
bool json_get_bool(json_object *o, const char *key, bool *out);
bool json_get_int(json_object *o, const char *key, int64_t *out);
json_object *json_get_obj(json_object *o, const char *key);
/* The store's merge, an RFC 7396 merge patch: every key of src is copied
 * into dst; where both values are maps they are merged recursively, a
 * null in src deletes the key from dst, otherwise src's value (without
 * the nulls of its maps) replaces dst's. dst is modified; src is
 * borrowed. */
void json_merge(json_object *dst, json_object *src);
/* A deep copy (NULL on allocation failure). */
json_object *json_copy(json_object *o);
/* Compact serialization; the string lives as long as o. */
const char *json_compact(json_object *o, size_t *len);
/* Overwrites the bytes of a string value in place (for secrets that went
 * through json-c) before the object is released. */
void json_wipe_string(json_object *o);

/*
 * Adds v under key (a NULL v adds JSON null), or releases v when it cannot
 * be added, so that callers may build a tree without checking each step:
 * 0, or -1 when o is NULL or out of memory.
 */
int json_add(json_object *o, const char *key, json_object *v);

/* The first member name of o that is not in keys (NULL-terminated), or
 * NULL when every member is listed: a message takes no unknown field. */
const char *json_unknown_key(json_object *o, const char *const *keys);

#endif
