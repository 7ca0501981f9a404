/* path.h: validation of Firestore-style document and collection paths. */
#ifndef TP_PATH_H
#define TP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define PATH_MAX_LEN      1024	/* whole path, bytes */
#define PATH_MAX_SEGMENTS 16	/* bounded depth: 8 collection/doc pairs */
#define PATH_SEGMENT_MAX  128	/* one segment, bytes */
#define UID_MAX_LEN       128
#define AUTO_ID_LEN       20	/* store_create's generated ids */

/*
 * A segment is 1..PATH_SEGMENT_MAX characters of [A-Za-z0-9_.-], never "."
 * or "..", never of the reserved form "__...__". The segment after a
 * leading "users" is a uid and must also pass path_valid_uid.
 */

/* uid rule of the brief: 1..128 characters of [A-Za-z0-9_-]; the reserved
 * form "__...__" is refused too, since users/{uid} could not exist. */
bool path_valid_uid(const char *uid);
/* Validates a document path: an even number (>= 2) of valid segments. */
int path_check_doc(const char *path, struct tp_err *err);
/* Validates a collection path: an odd number (>= 1) of valid segments. */
int path_check_collection(const char *path, struct tp_err *err);
/* Validates a field name used in queries and ordering:
 * 1..128 characters of [A-Za-z0-9_], dot-separated for nested maps. */
int path_check_field(const char *field, struct tp_err *err);
/*
 * If path lies under users/{uid}/ (or is users/{uid}), copies the uid into
 * uid (size >= UID_MAX_LEN + 1) and returns true. The path must be valid.
 */
bool path_tenant(const char *path, char *uid, size_t uidsize);
/* Fills id (size >= AUTO_ID_LEN + 1) with a random [A-Za-z0-9] id. */
void path_auto_id(char *id);

/* The folder part of a file system path ("." for "x", "/" for "/x"):
 * 0, or -1 when it does not fit in size. */
int	path_fs_dirname(const char *path, char *dir, size_t size);

#endif
