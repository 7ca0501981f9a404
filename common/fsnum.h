/* fsnum.h: a number's exact text kept beside its Firestore double, so the store's numbers come back as written. */
#ifndef TP_FSNUM_H
#define TP_FSNUM_H

#include <json-c/json.h>

#include "common/error.h"

/*
 * Firestore stores a number with a fraction or exponent as a double
 * (doubleValue), which the dashboard computes with; the store promises
 * that numbers keep their text (-20.0020, 1e3, 0.10,
 * 122011.09751111286868). So the Firestore backend writes each such
 * number as the nearest double AND, when that double does not read back
 * with the same text (fsvalue.h: a doubleValue reads back as its
 * shortest text), its exact text in a companion field. Reading, the text
 * is put back on the double as long as the double still equals it.
 *
 * The companion is the top-level field FSNUM_FIELD ("_tp_text"), a name
 * reserved in Firestore documents: a write whose data has it at the top
 * level is refused (TP_INVALID_ARGUMENT), and reading removes it. It
 * mirrors the document: where a double needs its text, the companion
 * holds the text as a string at the same field; maps mirror maps (only
 * the keys that need an entry, never an empty map); an array is mirrored
 * whole (same length, null where no element needs an entry), and left out
 * when no element needs one. Zero with a minus sign always has an entry:
 * Firestore drops the sign.
 */
#define FSNUM_FIELD "_tp_text"

/*
 * For a set or a create: *plain a deep copy of data (a map, or NULL:
 * *plain NULL) where every double that needs an entry is a double without
 * text, which fsvalue writes in its shortest form; *texts the companion's
 * value, or NULL when no number needs one. -1 with err (both NULL) when
 * data is not a map or has FSNUM_FIELD, is nested too deeply, or out of
 * memory.
 */
int fsnum_split(json_object *data, json_object **plain, json_object **texts,
    struct tp_err *err);

/*
 * For a merge patch (RFC 7396): *plain as fsnum_split makes it (nulls
 * kept); *texts_patch a merge patch for the companion that walks the
 * patch as fsvalue_patch does (maps with members descended into, every
 * other value, an empty map included, a leaf): each leaf becomes its
 * companion entry, or null (deleting a stale one) when it needs none.
 * *texts_patch is NULL when the patch has no leaves ({}).
 */
int fsnum_patch(json_object *patch, json_object **plain,
    json_object **texts_patch, struct tp_err *err);

/*
 * On reading: removes FSNUM_FIELD from data (a map) and gives each double
 * its entry's text when the double equals (==) the text's value. Entries
 * that no longer match their field (someone changed the value, e.g. a
 * dashboard) or are malformed are ignored. -1 with err when out of
 * memory.
 */
int fsnum_join(json_object *data, struct tp_err *err);

#endif
