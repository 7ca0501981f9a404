/* storetool.c: test and demo tool: reads and writes documents of a store (SQLite, or the one a configuration names) through the store API. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/config.h"
#include "common/jsonutil.h"
#include "common/store.h"

#define STORETOOL_LINE_MAX	(1024 * 1024)

static void
storetool_usage(void)
{
	fprintf(stderr, "usage: storetool DB|-f CONF set|merge PATH JSON\n"
	    "       storetool DB|-f CONF get PATH\n"
	    "       storetool DB|-f CONF field PATH [FIELD]\n"
	    "       storetool DB|-f CONF text PATH FIELD\n"
	    "       storetool DB|-f CONF tenants\n"
	    "       storetool DB|-f CONF updated PATH\n"
	    "       storetool DB|-f CONF ids COLLECTION\n"
	    "       storetool DB|-f CONF load FILE   (lines \"set|merge PATH "
	    "JSON\"; - is stdin)\n"
	    "Works on the SQLite store DB, or on the store of the daemon's "
	    "configuration\nCONF ([store]: SQLite or Firestore), with the "
	    "store's own code, so tests and\nthe demo write documents "
	    "(shadow trades, say) the way the daemon would; safe\nwhile the "
	    "daemon runs (WAL, busy timeout).\n"
	    "get prints the document (a missing one is an error); field "
	    "prints one field\n(FIELD a.b.c; none: the document) of it: a "
	    "string as it is, a number as\nSQLite's json_extract shows it "
	    "(90.00 as 90.0), anything else as JSON,\nnothing (exit 0) when "
	    "the document or the field is missing or null.\n"
	    "text prints one field as the store keeps it: a number's exact "
	    "text\n(122011.09751111286868, -20.0020), JSON otherwise.\n"
	    "tenants prints the tenants' uids, one a line.\n"
	    "updated prints a document's last update time (nothing when "
	    "it is missing);\nids the ids of a collection's documents, "
	    "one a line, in order.\n");
}

static json_object *
storetool_json(const char *s)
{
	struct tp_err err;
	json_object *o;

	if ((o = json_parse(s, strlen(s), &err)) == NULL)
		fprintf(stderr, "storetool: bad JSON: %s\n", err.msg);
	else if (!json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "storetool: the document must be a map\n");
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* "set|merge PATH JSON" lines, committed STORE_BATCH_MAX at a time. */
static int
storetool_load(struct store *st, const char *file)
{
	struct store_batch *b = NULL;
	struct tp_err err;
	json_object *o;
	FILE *fp;
	char *line, *path, *json;
	size_t n = 0, lineno = 0;
	int rc = 1;

	fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (fp == NULL) {
		perror(file);
		return 1;
	}
	if ((line = malloc(STORETOOL_LINE_MAX)) == NULL)
		goto out;
	while (fgets(line, STORETOOL_LINE_MAX, fp) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if ((path = strchr(line, ' ')) == NULL ||
		    (json = strchr(path + 1, ' ')) == NULL) {
			fprintf(stderr, "storetool: line %zu: want \"set|merge "
			    "PATH JSON\"\n", lineno);
			goto out;
		}
		*path++ = '\0';
		*json++ = '\0';
		if ((o = storetool_json(json)) == NULL)
			goto out;
		if (b == NULL && (b = store_batch_new()) == NULL)
			goto out;
		store_batch_add(b, strcmp(line, "merge") == 0 ? STORE_W_MERGE :
		    STORE_W_SET, path, o);
		json_object_put(o);
		if (++n % STORE_BATCH_MAX == 0) {
			if (store_batch_commit(st, b, &err) == -1) {
				fprintf(stderr, "storetool: %s\n", err.msg);
				goto out;
			}
			store_batch_free(b);
			b = NULL;
		}
	}
	if (b != NULL && store_batch_commit(st, b, &err) == -1) {
		fprintf(stderr, "storetool: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	store_batch_free(b);
	free(line);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* The value at the dotted path field of data, NULL when there is none. */
static json_object *
storetool_at(json_object *data, const char *field)
{
	char key[256];
	const char *dot;
	size_t n;

	while (data != NULL && *field != '\0') {
		dot = strchr(field, '.');
		n = dot != NULL ? (size_t)(dot - field) : strlen(field);
		if (n >= sizeof(key) ||
		    !json_object_is_type(data, json_type_object))
			return NULL;
		memcpy(key, field, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(data, key, &data))
			return NULL;
		field += n + (dot != NULL);
	}
	return data;
}

/*
 * A fractional number as SQLite's json_extract shows it (15 significant
 * digits, ".0" on a whole number: 90.00 is 90.0, -20.0020 is -20.002), so
 * that a check reads the same figure whichever backend stored it and
 * whatever text it keeps.
 */
static void
storetool_real(double d)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.15g", d);
	printf("%s%s\n", buf, strpbrk(buf, ".eni") == NULL ? ".0" : "");
}

/* get (strict: a missing document is an error) or field (lenient:
 * missing prints nothing; field NULL: the whole document). */
static int
storetool_get(struct store *st, const char *path, bool strict,
    const char *field, bool exact)
{
	struct store_doc doc;
	struct tp_err err;
	json_object *v;

	if (store_get(st, path, &doc, &err) == -1) {
		if (err.code == TP_NOT_FOUND && !strict)
			return 0;
		fprintf(stderr, "storetool: %s\n", err.msg);
		return 1;
	}
	v = field != NULL ? storetool_at(doc.data, field) : doc.data;
	if (json_object_is_type(v, json_type_string))
		printf("%s\n", json_object_get_string(v));
	else if (field != NULL && !exact &&
	    json_object_is_type(v, json_type_double))
		storetool_real(json_object_get_double(v));
	else if (v != NULL)
		printf("%s\n", json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	store_doc_clear(&doc);
	return 0;
}

static int
storetool_tenants(struct store *st)
{
	struct tp_err err;
	char **uids, *after = NULL;
	size_t n, i;

	do {
		if (store_list_tenants(st, 0, after, &uids, &n, &err) == -1) {
			fprintf(stderr, "storetool: %s\n", err.msg);
			free(after);
			return 1;
		}
		for (i = 0; i < n; i++)
			printf("%s\n", uids[i]);
		free(after);
		after = n > 0 ? strdup(uids[n - 1]) : NULL;
		store_strings_free(uids, n);
	} while (n > 0 && after != NULL);
	free(after);
	return 0;
}

/* updated PATH: the update time, so a test can tell a document was not
 * written again; ids COLLECTION: what a collection holds. */
static int
storetool_updated(struct store *st, const char *path)
{
	struct store_doc doc;
	struct tp_err err;

	if (store_get(st, path, &doc, &err) == -1) {
		if (err.code == TP_NOT_FOUND)
			return 0;
		fprintf(stderr, "storetool: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", doc.update_time);
	store_doc_clear(&doc);
	return 0;
}

static int
storetool_ids(struct store *st, const char *collection)
{
	struct store_doclist list;
	struct tp_err err;
	char *after = NULL;
	size_t i;

	do {
		if (store_list(st, collection, 500, after, &list, &err) ==
		    -1) {
			fprintf(stderr, "storetool: %s\n", err.msg);
			free(after);
			return 1;
		}
		for (i = 0; i < list.n; i++)
			printf("%s\n", list.docs[i].id);
		free(after);
		after = list.n == 500 ? strdup(list.docs[499].id) : NULL;
		store_doclist_free(&list);
	} while (after != NULL);
	return 0;
}

/* The store of configuration file (its [store] section), as the daemon
 * opens it. */
static struct store *
storetool_open_conf(const char *file, struct tp_err *err)
{
	struct store_params sp;
	struct config cfg;
	struct store *st;

	if (config_load(file, &cfg, err) == -1)
		return NULL;
	memset(&sp, 0, sizeof(sp));
	sp.backend = strcmp(cfg.store_backend, "firestore") == 0 ?
	    STORE_FIRESTORE : STORE_SQLITE;
	sp.path = cfg.store_path;
	sp.threads = 1;
	if (*cfg.project_id != '\0')
		sp.project_id = cfg.project_id;
	if (*cfg.emulator_host != '\0')
		sp.emulator_host = cfg.emulator_host;
	if (*cfg.credentials != '\0')
		sp.credentials = cfg.credentials;
	st = store_open(&sp, NULL, err);
	config_free(&cfg);
	return st;
}

int
main(int argc, char **argv)
{
	struct store_params sp;
	struct store *st;
	struct tp_err err;
	json_object *o;
	int rc = 1;

	if (argc >= 3 && strcmp(argv[1], "-f") == 0) {
		/* "-f CONF" takes the place of DB */
		st = storetool_open_conf(argv[2], &err);
		argv++;
		argc--;
	} else if (argc >= 3) {
		memset(&sp, 0, sizeof(sp));
		sp.backend = STORE_SQLITE;
		sp.path = argv[1];
		st = store_open(&sp, NULL, &err);
	} else {
		storetool_usage();
		return 2;
	}
	if (st == NULL) {
		fprintf(stderr, "storetool: %s\n", err.msg);
		return 1;
	}
	if ((strcmp(argv[2], "set") == 0 || strcmp(argv[2], "merge") == 0) &&
	    argc == 5) {
		if ((o = storetool_json(argv[4])) != NULL) {
			if (store_set(st, argv[3], o, strcmp(argv[2], "merge") ==
			    0, &err) == 0)
				rc = 0;
			else
				fprintf(stderr, "storetool: %s\n", err.msg);
			json_object_put(o);
		}
	} else if (strcmp(argv[2], "get") == 0 && argc == 4)
		rc = storetool_get(st, argv[3], true, NULL, false);
	else if (strcmp(argv[2], "field") == 0 && (argc == 4 || argc == 5))
		rc = storetool_get(st, argv[3], false, argc == 5 ? argv[4] :
		    NULL, false);
	else if (strcmp(argv[2], "text") == 0 && argc == 5)
		rc = storetool_get(st, argv[3], false, argv[4], true);
	else if (strcmp(argv[2], "tenants") == 0 && argc == 3)
		rc = storetool_tenants(st);
	else if (strcmp(argv[2], "updated") == 0 && argc == 4)
		rc = storetool_updated(st, argv[3]);
	else if (strcmp(argv[2], "ids") == 0 && argc == 4)
		rc = storetool_ids(st, argv[3]);
	else if (strcmp(argv[2], "load") == 0 && argc == 4)
		rc = storetool_load(st, argv[3]);
	else {
		storetool_usage();
		rc = 2;
	}
	store_free(st);
	return rc;
}
