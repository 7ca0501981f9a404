/* api_args.c: the job API's argument getters: a request's arguments checked by type, length and range. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/path.h"
#include "supervisor/api.h"

static json_object *
api_arg_get(struct api_req *req, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(req->args, name, &v))
		return NULL;
	return v;
}

static int
api_arg_missing(const char *name, bool required, struct tp_err *err)
{
	if (required)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "missing argument \"%s\"", name);
	return 0;
}

int
api_arg_str(struct api_req *req, const char *name, bool required,
    size_t min, size_t max, const char **out, struct tp_err *err)
{
	json_object *v;
	const char *s;
	size_t len;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be a string", name);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	/* "\u0000" would cut the C string short of what was checked */
	if (strlen(s) != len)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must not contain NUL characters", name);
	if (len < min || len > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be %zu to %zu bytes long", name, min,
		    max);
	*out = s;
	return 1;
}

int
api_arg_token(struct api_req *req, const char *name, bool required,
    size_t min, size_t max, const char **out, struct tp_err *err)
{
	const char *s = NULL, *p;
	int rc;

	if ((rc = api_arg_str(req, name, required, min, max, &s, err)) != 1)
		return rc;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "argument \"%s\" must be printable ASCII without "
			    "spaces", name);
	*out = s;
	return 1;
}

int
api_arg_uid(struct api_req *req, const char *name, bool required,
    const char **out, struct tp_err *err)
{
	json_object *v;
	const char *s;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be a string", name);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) ||
	    !path_valid_uid(s))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" is not a valid uid (1 to %d characters of "
		    "A-Z a-z 0-9 _ -)", name, UID_MAX_LEN);
	if (strcmp(name, "uid") == 0)
		snprintf(req->uid, sizeof(req->uid), "%s", s);
	*out = s;
	return 1;
}

int
api_arg_bool(struct api_req *req, const char *name, bool required,
    bool *out, struct tp_err *err)
{
	json_object *v;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_boolean))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be true or false", name);
	*out = json_object_get_boolean(v) != 0;
	return 1;
}

int
api_arg_int(struct api_req *req, const char *name, bool required,
    int64_t min, int64_t max, int64_t *out, struct tp_err *err)
{
	json_object *v;
	int64_t n;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_int))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be an integer", name);
	n = json_object_get_int64(v);
	/* json-c saturates values beyond int64 at the limits */
	if (n < min || n > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be between %lld and %lld", name,
		    (long long)min, (long long)max);
	*out = n;
	return 1;
}

int
api_arg_map(struct api_req *req, const char *name, bool required,
    size_t max, json_object **out, struct tp_err *err)
{
	json_object *v;
	size_t len = 0;

	if ((v = api_arg_get(req, name)) == NULL)
		return api_arg_missing(name, required, err);
	if (!json_object_is_type(v, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" must be a map", name);
	if (json_compact(v, &len) == NULL || len > max)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "argument \"%s\" is larger than %zu bytes", name, max);
	*out = v;
	return 1;
}
