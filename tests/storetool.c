/* storetool.c: test and demo tool: reads and writes documents of a SQLite store through the store API. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/jsonutil.h"
#include "common/store.h"

#define STORETOOL_LINE_MAX	(1024 * 1024)

static void
storetool_usage(void)
{
	fprintf(stderr, "usage: storetool DB set|merge PATH JSON\n"
	    "       storetool DB get PATH\n"
	    "       storetool DB load FILE   (lines \"set|merge PATH JSON\"; "
	    "- is stdin)\n"
	    "Works on the SQLite store DB with the store's own code, so "
	    "tests and the demo\nwrite documents (shadow trades, say) the "
	    "way the daemon would; safe while the\ndaemon runs (WAL, busy "
	    "timeout).\n");
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

int
main(int argc, char **argv)
{
	struct store_params sp;
	struct store_doc doc;
	struct store *st;
	struct tp_err err;
	json_object *o;
	int rc = 1;

	if (argc < 4) {
		storetool_usage();
		return 2;
	}
	memset(&sp, 0, sizeof(sp));
	sp.backend = STORE_SQLITE;
	sp.path = argv[1];
	if ((st = store_open(&sp, NULL, &err)) == NULL) {
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
	} else if (strcmp(argv[2], "get") == 0 && argc == 4) {
		if (store_get(st, argv[3], &doc, &err) == 0) {
			printf("%s\n", json_object_to_json_string_ext(doc.data,
			    JSON_C_TO_STRING_PLAIN));
			store_doc_clear(&doc);
			rc = 0;
		} else
			fprintf(stderr, "storetool: %s\n", err.msg);
	} else if (strcmp(argv[2], "load") == 0 && argc == 4)
		rc = storetool_load(st, argv[3]);
	else {
		storetool_usage();
		rc = 2;
	}
	store_free(st);
	return rc;
}
