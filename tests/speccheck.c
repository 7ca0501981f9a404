/* speccheck.c: checks a JSON reply against the response schema of an OpenAPI 3.0 document (tests of alpaca-sim). */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/jsonutil.h"

#define SPEC_MAX_DEPTH	200	/* schema nesting followed, $refs included */
#define SPEC_MAX_ERRORS	40
#define SPEC_MAX_INPUT	(16u << 20)

struct check {
	json_object *doc;	/* the OpenAPI document */
	int errors;		/* reported */
	bool quiet;		/* trying a branch of anyOf/oneOf */
	int failed;		/* errors seen, reported or not */
};

static void
spec_usage(void)
{
	fprintf(stderr,
	    "usage: speccheck SPEC METHOD PATH STATUS [FILE]\n"
	    "       speccheck SPEC --schema '#/components/schemas/NAME' [FILE]\n"
	    "Checks the JSON in FILE (default: standard input) against the\n"
	    "response schema of PATH (as written in the spec, e.g.\n"
	    "/v2/stocks/{symbol}/bars), METHOD (get) and STATUS (200) of the\n"
	    "OpenAPI 3.0 document SPEC, or against a named schema. Prints\n"
	    "\"ok\" and exits 0, or prints each mismatch with its JSON path and\n"
	    "exits 1; 2 for bad arguments, an unreadable file or bad JSON.\n");
}

static void
spec_fail(struct check *c, const char *at, const char *fmt, ...)
{
	va_list ap;

	c->failed++;
	if (c->quiet)
		return;
	if (++c->errors > SPEC_MAX_ERRORS) {
		if (c->errors == SPEC_MAX_ERRORS + 1)
			printf("... more mismatches\n");
		return;
	}
	printf("%s: ", at[0] != '\0' ? at : "$");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Reads a whole file (or stdin for NULL / "-"), at most SPEC_MAX_INPUT. */
static char *
spec_read(const char *file, size_t *len)
{
	FILE *fp = file == NULL || strcmp(file, "-") == 0 ? stdin :
	    fopen(file, "rb");
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	if ((buf = malloc(SPEC_MAX_INPUT + 1)) == NULL) {
		if (fp != stdin)
			fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, SPEC_MAX_INPUT + 1, fp);
	if (ferror(fp) || n > SPEC_MAX_INPUT) {
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	if (fp != stdin)
		fclose(fp);
	return buf;
}

/* Follows a local JSON pointer "#/a/b~1c". */
static json_object *
spec_pointer(json_object *doc, const char *ref)
{
	char tok[256];
	const char *p;
	json_object *cur = doc;
	size_t n;

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	for (p = ref + 2; *p != '\0' && cur != NULL;) {
		for (n = 0; *p != '\0' && *p != '/'; p++) {
			if (n + 1 >= sizeof(tok))
				return NULL;
			if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
				tok[n++] = p[1] == '0' ? '~' : '/';
				p++;
			} else
				tok[n++] = *p;
		}
		tok[n] = '\0';
		if (*p == '/')
			p++;
		if (!json_object_object_get_ex(cur, tok, &cur))
			return NULL;
	}
	return cur;
}

/* The object itself, or what its $ref chain points to. */
static json_object *
spec_deref(struct check *c, json_object *o)
{
	json_object *r;
	int hops;

	for (hops = 0; hops < 64 && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "$ref", &r); hops++)
		if ((o = spec_pointer(c->doc, json_object_get_string(r))) ==
		    NULL)
			return NULL;
	return o;
}

static const char *
spec_type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "?";
}

static bool
spec_type_ok(const char *type, json_object *v)
{
	if (strcmp(type, "string") == 0)
		return json_object_is_type(v, json_type_string);
	if (strcmp(type, "integer") == 0)
		return json_object_is_type(v, json_type_int);
	if (strcmp(type, "number") == 0)
		return json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double);
	if (strcmp(type, "boolean") == 0)
		return json_object_is_type(v, json_type_boolean);
	if (strcmp(type, "array") == 0)
		return json_object_is_type(v, json_type_array);
	if (strcmp(type, "object") == 0)
		return json_object_is_type(v, json_type_object);
	return true;	/* a type this checker does not know */
}

static bool
spec_hex(const char *s, size_t n)
{
	while (n-- > 0)
		if (!isxdigit((unsigned char)*s++))
			return false;
	return true;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM) */
static bool
spec_datetime(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; pat[i] != '\0'; i++)
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) :
		    s[i] != pat[i])
			return false;
	s += i;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z')
		return s[1] == '\0';
	return (*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && s[3] == ':' &&
	    isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) &&
	    s[6] == '\0';
}

static void spec_validate(struct check *c, json_object *schema, json_object *v,
    const char *at, int depth);

/* How many errors validating v against schema gives, reporting none. */
static int
spec_try(struct check *c, json_object *schema, json_object *v, const char *at,
    int depth)
{
	bool quiet = c->quiet;
	int before = c->failed, n;

	c->quiet = true;
	spec_validate(c, schema, v, at, depth);
	n = c->failed - before;
	c->failed = before;
	c->quiet = quiet;
	return n;
}

static void
spec_validate(struct check *c, json_object *schema, json_object *v,
    const char *at, int depth)
{
	json_object *s, *t, *props, *req, *addl, *items, *list, *e, *pv;
	char sub[1024];
	const char *type = NULL, *str;
	size_t i, n;
	int ok;

	if (depth > SPEC_MAX_DEPTH) {
		spec_fail(c, at, "schema nested deeper than %d", SPEC_MAX_DEPTH);
		return;
	}
	if ((s = spec_deref(c, schema)) == NULL) {
		spec_fail(c, at, "unresolvable $ref in the spec");
		return;
	}
	if (!json_object_is_type(s, json_type_object))
		return;		/* {} or true: anything */
	if (json_object_object_get_ex(s, "type", &t))
		type = json_object_get_string(t);
	if (json_object_is_type(v, json_type_null)) {
		if (json_object_object_get_ex(s, "nullable", &t) &&
		    json_object_get_boolean(t))
			return;
		if (type != NULL)
			spec_fail(c, at, "null where the spec has a %s "
			    "(not nullable)", type);
		return;
	}
	if (type != NULL && !spec_type_ok(type, v)) {
		spec_fail(c, at, "expected %s, got %s", type,
		    spec_type_name(v));
		return;
	}
	if (json_object_object_get_ex(s, "enum", &list) &&
	    json_object_is_type(list, json_type_array)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++)
			if (json_object_equal(json_object_array_get_idx(list,
			    i), v))
				break;
		if (i == n)
			spec_fail(c, at, "%s is not one of the spec's enum "
			    "values", json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PLAIN));
	}
	if (json_object_is_type(v, json_type_string) &&
	    json_object_object_get_ex(s, "format", &t)) {
		str = json_object_get_string(v);
		if (strcmp(json_object_get_string(t), "date-time") == 0 &&
		    !spec_datetime(str))
			spec_fail(c, at, "\"%.60s\" is not an RFC 3339 date-time",
			    str);
		else if (strcmp(json_object_get_string(t), "uuid") == 0 &&
		    (strlen(str) != 36 || !spec_hex(str, 8) || str[8] != '-' ||
		    !spec_hex(str + 9, 4) || str[13] != '-' ||
		    !spec_hex(str + 14, 4) || str[18] != '-' ||
		    !spec_hex(str + 19, 4) || str[23] != '-' ||
		    !spec_hex(str + 24, 12)))
			spec_fail(c, at, "\"%.60s\" is not a UUID", str);
	}
	if (json_object_object_get_ex(s, "allOf", &list)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++)
			spec_validate(c, json_object_array_get_idx(list, i), v,
			    at, depth + 1);
	}
	if (json_object_object_get_ex(s, "anyOf", &list) ||
	    json_object_object_get_ex(s, "oneOf", &list)) {
		bool one = json_object_object_get_ex(s, "oneOf", &e);

		n = json_object_array_length(list);
		for (i = 0, ok = 0; i < n; i++)
			if (spec_try(c, json_object_array_get_idx(list, i), v,
			    at, depth + 1) == 0)
				ok++;
		if (ok == 0 || (one && ok != 1))
			spec_fail(c, at, "matches %d of the %zu schemas of %s",
			    ok, n, one ? "oneOf" : "anyOf");
	}
	if (json_object_is_type(v, json_type_object)) {
		if (json_object_object_get_ex(s, "required", &req)) {
			n = json_object_array_length(req);
			for (i = 0; i < n; i++) {
				str = json_object_get_string(
				    json_object_array_get_idx(req, i));
				if (!json_object_object_get_ex(v, str, NULL))
					spec_fail(c, at, "required property "
					    "\"%s\" is missing", str);
			}
		}
		if (!json_object_object_get_ex(s, "properties", &props))
			props = NULL;
		if (!json_object_object_get_ex(s, "additionalProperties",
		    &addl))
			addl = NULL;
		json_object_object_foreach(v, k, val) {
			snprintf(sub, sizeof(sub), "%s.%s", at[0] != '\0' ? at :
			    "$", k);
			if (props != NULL &&
			    json_object_object_get_ex(props, k, &pv))
				spec_validate(c, pv, val, sub, depth + 1);
			else if (addl != NULL &&
			    json_object_is_type(addl, json_type_boolean)) {
				if (!json_object_get_boolean(addl))
					spec_fail(c, sub, "property not allowed "
					    "(additionalProperties: false)");
			} else if (addl != NULL)
				spec_validate(c, addl, val, sub, depth + 1);
		}
	}
	if (json_object_is_type(v, json_type_array) &&
	    json_object_object_get_ex(s, "items", &items)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", at[0] != '\0' ?
			    at : "$", i);
			spec_validate(c, items, json_object_array_get_idx(v, i),
			    sub, depth + 1);
		}
	}
}

/* paths[path][method].responses[status].content[application/json].schema */
static json_object *
spec_response_schema(struct check *c, const char *method, const char *path,
    const char *status)
{
	json_object *o, *paths;
	char m[16];
	size_t i;

	for (i = 0; method[i] != '\0' && i + 1 < sizeof(m); i++)
		m[i] = (char)tolower((unsigned char)method[i]);
	m[i] = '\0';
	if (!json_object_object_get_ex(c->doc, "paths", &paths) ||
	    !json_object_object_get_ex(paths, path, &o)) {
		fprintf(stderr, "speccheck: the spec has no path %s\n", path);
		return NULL;
	}
	if (!json_object_object_get_ex(o, m, &o) ||
	    !json_object_object_get_ex(o, "responses", &o) ||
	    (!json_object_object_get_ex(o, status, &o) &&
	    !json_object_object_get_ex(o, "default", &o))) {
		fprintf(stderr, "speccheck: the spec has no %s %s response %s\n",
		    m, path, status);
		return NULL;
	}
	if ((o = spec_deref(c, o)) == NULL ||
	    !json_object_object_get_ex(o, "content", &o) ||
	    !json_object_object_get_ex(o, "application/json", &o) ||
	    !json_object_object_get_ex(o, "schema", &o)) {
		fprintf(stderr, "speccheck: %s %s %s has no application/json "
		    "schema\n", m, path, status);
		return NULL;
	}
	return o;
}

int
main(int argc, char *argv[])
{
	struct check c;
	struct json_tokener *tok;
	json_object *schema, *reply;
	struct tp_err err;
	const char *file;
	char *text;
	size_t len;
	int rc = 2;

	memset(&c, 0, sizeof(c));
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		spec_usage();
		return 0;
	}
	if (argc < 3 || (strcmp(argv[2], "--schema") == 0 ? argc < 4 ||
	    argc > 5 : argc < 5 || argc > 6)) {
		spec_usage();
		return 2;
	}
	if ((text = spec_read(argv[1], &len)) == NULL) {
		fprintf(stderr, "speccheck: %s: %s\n", argv[1], errno != 0 ?
		    strerror(errno) : "cannot read");
		return 2;
	}
	/* The spec is trusted and nests deeper than replies may. */
	tok = json_tokener_new_ex(1000);
	c.doc = tok != NULL ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	if (tok != NULL)
		json_tokener_free(tok);
	free(text);
	if (c.doc == NULL) {
		fprintf(stderr, "speccheck: %s: not JSON\n", argv[1]);
		return 2;
	}
	if (strcmp(argv[2], "--schema") == 0) {
		schema = spec_pointer(c.doc, argv[3]);
		file = argc == 5 ? argv[4] : NULL;
		if (schema == NULL)
			fprintf(stderr, "speccheck: no schema %s\n", argv[3]);
	} else {
		schema = spec_response_schema(&c, argv[2], argv[3], argv[4]);
		file = argc == 6 ? argv[5] : NULL;
	}
	if (schema == NULL)
		goto out;
	if ((text = spec_read(file, &len)) == NULL) {
		fprintf(stderr, "speccheck: %s: cannot read\n",
		    file != NULL ? file : "stdin");
		goto out;
	}
	/* The reply: strict JSON, valid UTF-8, bounded depth. */
	reply = json_parse(text, len, &err);
	free(text);
	if (reply == NULL) {
		printf("$: not a valid JSON reply: %s\n", err.msg);
		rc = 1;
		goto out;
	}
	spec_validate(&c, schema, reply, "", 0);
	json_object_put(reply);
	if (c.errors == 0)
		printf("ok\n");
	rc = c.errors == 0 ? 0 : 1;
out:
	json_object_put(c.doc);
	return rc;
}
