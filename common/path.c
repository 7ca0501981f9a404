/* path.c: validation of document paths, field names and uids; random document ids; the folder of a file path. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/path.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

static bool
path_uid_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool
path_segment_char(char c)
{
	return path_uid_char(c) || c == '.';
}

static bool
path_field_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* A printable, bounded copy of untrusted text for error messages. */
static const char *
path_show(const char *text, char *buf, size_t size)
{
	size_t i;

	for (i = 0; text[i] != '\0' && i + 4 < size; i++)
		buf[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
	if (text[i] != '\0' && i >= 3) {
		memcpy(buf + i - 3, "...", 3);
	}
	buf[i] = '\0';
	return buf;
}

bool
path_valid_uid(const char *uid)
{
	size_t i;

	if (uid == NULL || uid[0] == '\0')
		return false;
	for (i = 0; uid[i] != '\0'; i++) {
		if (i >= UID_MAX_LEN || !path_uid_char(uid[i]))
			return false;
	}
	/* users/__x__ is a reserved document id, so it names no tenant */
	if (i >= 4 && uid[0] == '_' && uid[1] == '_' && uid[i - 2] == '_' &&
	    uid[i - 1] == '_')
		return false;
	return true;
}

/* Checks segment s of length len; idx is its position in the path. */
static int
path_check_segment(const char *shown, const char *s, size_t len, size_t idx,
    bool under_users, struct tp_err *err)
{
	char uid[UID_MAX_LEN + 1];
	size_t i;

	if (len == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "path \"%s\": empty segment", shown);
	if (len > PATH_SEGMENT_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "path \"%s\": segment %zu longer than %d bytes", shown,
		    idx + 1, PATH_SEGMENT_MAX);
	for (i = 0; i < len; i++)
		if (!path_segment_char(s[i]))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "path \"%s\": segment %zu has a character "
			    "outside [A-Za-z0-9_.-]", shown, idx + 1);
	if ((len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "path \"%s\": \".\" and \"..\" segments are not allowed",
		    shown);
	/* Firestore reserves ids of the form __.*__ */
	if (len >= 4 && s[0] == '_' && s[1] == '_' && s[len - 2] == '_' &&
	    s[len - 1] == '_')
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "path \"%s\": reserved segment \"__...__\"", shown);
	if (idx == 1 && under_users) {
		/* len <= PATH_SEGMENT_MAX == UID_MAX_LEN here */
		memcpy(uid, s, len);
		uid[len] = '\0';
		if (!path_valid_uid(uid))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "path \"%s\": invalid uid (1-%d characters of "
			    "[A-Za-z0-9_-])", shown, UID_MAX_LEN);
	}
	return 0;
}

/* Validates every segment of path; returns the segment count or -1. */
static int
path_check(const char *path, struct tp_err *err)
{
	const char *s, *slash;
	char shown[72];
	size_t len, idx;
	bool under_users;

	if (path == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "missing path");
	path_show(path, shown, sizeof(shown));
	len = strnlen(path, PATH_MAX_LEN + 1);
	if (len == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "empty path");
	if (len > PATH_MAX_LEN)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "path \"%s\" longer than %d bytes", shown,
		    PATH_MAX_LEN);
	under_users = strncmp(path, "users/", 6) == 0 ||
	    strcmp(path, "users") == 0;
	for (s = path, idx = 0;; idx++) {
		if (idx >= PATH_MAX_SEGMENTS)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "path \"%s\": more than %d segments", shown,
			    PATH_MAX_SEGMENTS);
		slash = strchr(s, '/');
		len = slash != NULL ? (size_t)(slash - s) : strlen(s);
		if (path_check_segment(shown, s, len, idx, under_users,
		    err) == -1)
			return -1;
		if (slash == NULL)
			break;
		s = slash + 1;
	}
	return (int)(idx + 1);
}

int
path_check_doc(const char *path, struct tp_err *err)
{
	char shown[72];
	int n;

	if ((n = path_check(path, err)) == -1)
		return -1;
	if (n % 2 != 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "path \"%s\" is a collection, not a document",
		    path_show(path, shown, sizeof(shown)));
	return 0;
}

int
path_check_collection(const char *path, struct tp_err *err)
{
	char shown[72];
	int n;

	if ((n = path_check(path, err)) == -1)
		return -1;
	if (n % 2 == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "path \"%s\" is a document, not a collection",
		    path_show(path, shown, sizeof(shown)));
	return 0;
}

int
path_check_field(const char *field, struct tp_err *err)
{
	char shown[72];
	size_t i, seglen = 0;

	if (field == NULL || field[0] == '\0')
		return tp_err_set(err, TP_INVALID_ARGUMENT, "empty field name");
	path_show(field, shown, sizeof(shown));
	for (i = 0; field[i] != '\0'; i++) {
		if (i >= 128)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "field \"%s\" longer than 128 characters",
			    shown);
		if (field[i] == '.') {
			if (seglen == 0)
				break;
			seglen = 0;
			continue;
		}
		if (!path_field_char(field[i]))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "field \"%s\": character outside [A-Za-z0-9_.]",
			    shown);
		seglen++;
	}
	if (seglen == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "field \"%s\": empty component", shown);
	return 0;
}

bool
path_tenant(const char *path, char *uid, size_t uidsize)
{
	const char *s, *end;
	size_t len;

	if (path == NULL || strncmp(path, "users/", 6) != 0)
		return false;
	s = path + 6;
	end = strchr(s, '/');
	len = end != NULL ? (size_t)(end - s) : strlen(s);
	if (len == 0 || len > UID_MAX_LEN || len >= uidsize)
		return false;
	memcpy(uid, s, len);
	uid[len] = '\0';
	return path_valid_uid(uid);
}

static void
path_sodium_init(void)
{
	/* randombytes works even if this fails; it only picks the source. */
	if (sodium_init() < 0)
		return;
}

void
path_auto_id(char *id)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	pthread_once(&once, path_sodium_init);
	for (i = 0; i < AUTO_ID_LEN; i++)
		id[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	id[AUTO_ID_LEN] = '\0';
}

int
path_fs_dirname(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(dir, size, ".");
	else if (slash == path)
		n = snprintf(dir, size, "/");
	else
		n = snprintf(dir, size, "%.*s", (int)(slash - path), path);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}
