/* fsvalue.h: Firestore's typed values and the store's JSON documents, both ways. */
#ifndef TP_FSVALUE_H
#define TP_FSVALUE_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * The mapping (docs/firestore.md says it for operators):
 *  - string: stringValue, except a string in the store's canonical
 *    timestamp form "YYYY-MM-DDTHH:MM:SS.ffffffZ" (store_timestamp), which
 *    is a timestampValue, and comes back in that same form;
 *  - integer (json_type_int): integerValue (a decimal string);
 *  - number with a fraction or exponent (json_type_double): doubleValue,
 *    written with the number's own text. Firestore has no decimal type, so
 *    an exact decimal is a double: it is accepted only when the double
 *    nearest its text reads back as the same decimal (always so up to 15
 *    significant digits; a double built without text is taken as its
 *    shortest text), and on reading a doubleValue becomes a json-c
 *    double whose text is the shortest that round-trips. So the exact
 *    decimals the daemon writes (prices, quantities, P&L to the cent) come
 *    back exactly, and a dashboard sums real numbers;
 *  - true/false: booleanValue; null: nullValue;
 *  - map: mapValue; array: arrayValue (an array directly inside an array
 *    is refused: Firestore cannot store it).
 * Reading, a referenceValue becomes its path string, bytesValue its base64
 * text and geoPointValue a map {latitude, longitude}.
 * path names the document in error messages (never a value).
 */

/* Store map -> Firestore "fields" map of typed values. */
json_object *fsvalue_fields(json_object *data, const char *path,
    struct tp_err *err);
/* One JSON value -> one typed Value (query filters). */
json_object *fsvalue_encode(json_object *v, const char *path,
    struct tp_err *err);
/* Firestore "fields" (NULL: an empty document) -> store map. */
json_object *fsvalue_data(json_object *fields, const char *path,
    struct tp_err *err);
/* One typed Value -> JSON value (*out; NULL for nullValue). */
int fsvalue_decode(json_object *value, const char *path, json_object **out,
    struct tp_err *err);

/*
 * A merge patch (RFC 7396, as store_set merges) as a Firestore update:
 * *fields holds every non-null leaf (maps descended into, every other
 * value a leaf) as typed values, and *mask (a json array of strings) the
 * field path of every leaf, the nulls' included, so that Firestore deletes
 * them. An empty map in the patch is a leaf (it sets the field to {}).
 * One difference from json_merge, which this cannot see: a null inside a
 * patch map whose field is absent or not a map in the document ({"n":
 * {"z":null}} on {"n":5}) leaves that field as it is in Firestore, where
 * json_merge makes it {} (the emulator shows it).
 */
int fsvalue_patch(json_object *patch, const char *path, json_object **fields,
    json_object **mask, struct tp_err *err);

/*
 * The Firestore field path of a store field name ("a.b": segments joined
 * by dots): each segment that is not [A-Za-z_][A-Za-z0-9_]* is quoted in
 * backquotes, with ` and \ escaped. -1 when buf is too small.
 */
int fsvalue_field_path(const char *dotted, char *buf, size_t size,
    struct tp_err *err);

/*
 * An RFC 3339 timestamp as Firestore writes it ("...T13:03:32Z",
 * "...32.425065Z", "...32.123456789Z") -> the store's canonical form in
 * out (size >= 32), microseconds truncated. -1 when it is not one.
 */
int fsvalue_timestamp(const char *rfc3339, char *out, size_t size);

#endif
