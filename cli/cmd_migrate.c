/* cmd_migrate.c: tradepulse migrate-legacy --uid UID [--dry-run]: copy the seed's single-user collections into a tenant, printing what was copied. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"

/* A run pages through every legacy document: give it time. */
#define MIGRATE_TIMEOUT_MS	(600 * 1000)

enum { MIGRATE_UID = 1, MIGRATE_DRY_RUN };

static const struct cli_opt migrate_opts[] = {
	{ "uid", 'u', true, MIGRATE_UID },
	{ "dry-run", 'n', false, MIGRATE_DRY_RUN },
	{ NULL, 0, false, 0 },
};

/* The reply's kinds, in the order they are done. */
static const char *const migrate_kinds[] = {
	"account_snapshot", "data_snapshot", "signals", "shadow_trades", NULL,
};

static void
migrate_num(json_object *o, const char *key, char *buf, size_t size)
{
	int64_t v;

	if (json_get_int(o, key, &v))
		snprintf(buf, size, "%" PRId64, v);
	else
		snprintf(buf, size, "?");
}

/* Returns the number of documents that failed (-1: an unreadable reply). */
static int64_t
migrate_print(json_object *result)
{
	static const char *const hdr_real[] = {
		"FROM", "TO", "LEGACY", "COPIED", "EXISTING", "DIFFERING",
		"FAILED",
	};
	static const char *const hdr_dry[] = {
		"FROM", "TO", "LEGACY", "TO_COPY", "EXISTING", "DIFFERING",
		"FAILED",
	};
	json_object *kinds, *k, *errs;
	struct table *t;
	char n[5][32];
	const char *cells[7];
	bool dry = false;
	int64_t copied = 0, existing = 0, differing = 0, failed = 0;
	size_t i, j;

	json_get_bool(result, "dry_run", &dry);
	if ((kinds = json_get_obj(result, "kinds")) == NULL ||
	    (t = table_new(7, dry ? hdr_dry : hdr_real)) == NULL)
		return -1;
	for (i = 0; migrate_kinds[i] != NULL; i++) {
		if ((k = json_get_obj(kinds, migrate_kinds[i])) == NULL)
			continue;
		migrate_num(k, "legacy", n[0], sizeof(n[0]));
		migrate_num(k, "copied", n[1], sizeof(n[1]));
		migrate_num(k, "skipped_existing", n[2], sizeof(n[2]));
		migrate_num(k, "differing", n[3], sizeof(n[3]));
		migrate_num(k, "failed", n[4], sizeof(n[4]));
		cells[0] = cli_str(k, "from", "?");
		cells[1] = cli_str(k, "to", "?");
		for (j = 0; j < 5; j++)
			cells[2 + j] = n[j];
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	json_get_int(result, "copied", &copied);
	json_get_int(result, "skipped_existing", &existing);
	json_get_int(result, "differing", &differing);
	json_get_int(result, "failed", &failed);
	if (dry)
		printf("dry run: nothing written; %" PRId64 " document%s "
		    "would be copied", copied, copied == 1 ? "" : "s");
	else
		printf("%" PRId64 " document%s copied", copied,
		    copied == 1 ? "" : "s");
	printf(", %" PRId64 " already there (%" PRId64 " with other data, "
	    "kept), %" PRId64 " failed\n", existing, differing, failed);
	errs = json_get_obj(result, "errors");
	for (i = 0; json_object_is_type(errs, json_type_array) &&
	    i < json_object_array_length(errs); i++)
		printf("failed: %s\n",
		    cli_text(json_object_array_get_idx(errs, i)));
	return failed;
}

static int
migrate_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req, *reply, *result;
	const char *uid = NULL;
	bool dry = false;
	int64_t failed;
	int opt, rc;

	cli_args_init(&a, &cmd_migrate, argc, argv);
	while ((opt = cli_args_next(cli, &a, migrate_opts)) > 0) {
		if (opt == MIGRATE_UID)
			uid = a.optarg;
		else
			dry = true;
	}
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 0, "arguments")) != 0)
		return rc;
	if (uid == NULL)
		return cli_usage_error(&cmd_migrate, "--uid UID is required");
	if ((rc = cli_check_uid(&cmd_migrate, uid)) != 0)
		return rc;
	if (!cli->timeout_set)
		cli->timeout_ms = MIGRATE_TIMEOUT_MS;

	if ((req = cli_request(API_OP_MIGRATE_LEGACY, uid)) == NULL)
		return CLI_EXIT_ERROR;
	if (dry)
		json_object_object_add(req, "dry_run",
		    json_object_new_boolean(1));
	rc = cli_call(cli, req, &reply, &result);
	json_object_put(req);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(reply);
		if (!json_get_int(result, "failed", &failed))
			failed = -1;
	} else
		failed = migrate_print(result);
	json_object_put(reply);
	if (failed < 0) {
		cli_warnx("the daemon's reply has no counts");
		return CLI_EXIT_ERROR;
	}
	return failed > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

const struct cli_command cmd_migrate = {
	.name = "migrate-legacy",
	.synopsis = "migrate-legacy --uid UID [--dry-run]",
	.summary = "copy the single-user (legacy) collections into a tenant",
	.description =
"Copies the data of the single-user version of the product, kept in\n"
"global collections, into the tenant UID, as the seed's migration\n"
"guide says:\n"
"\n"
"       alpacaAccounts/snapshot   -> users/UID/alpacaAccounts/snapshot\n"
"                                    and users/UID/data/snapshot\n"
"       tradingSignals/ID         -> users/UID/signals/ID\n"
"       shadowTradeHistory/ID     -> users/UID/shadowTradeHistory/ID\n"
"\n"
"Document ids and data are kept as they are. The legacy documents are\n"
"only read, never changed or deleted. A target document that already\n"
"exists is never written: it is counted as EXISTING, and as DIFFERING\n"
"too when its data is not the legacy document's (a newer snapshot from\n"
"a sync, say). So the command may be run again at any time: a second\n"
"run copies nothing and changes nothing, and after new legacy\n"
"documents appear it copies only those. Each document is created on\n"
"its own: one the store refuses is counted as FAILED and named, and\n"
"the others are still copied.\n"
"\n"
"The tenant must exist (tenant add); the daemon reads the legacy\n"
"collections 64 documents at a time, whatever their size, and runs\n"
"one migration at a time (another is refused with\n"
"resource_exhausted). Prints a table with a row per target (FROM, TO,\n"
"LEGACY documents found, COPIED, EXISTING, DIFFERING, FAILED) and a\n"
"summary line. Exits 1 when a document failed; running again retries\n"
"only those. With --json, prints the daemon's reply: result.kinds.\n"
"{account_snapshot,data_snapshot,signals,shadow_trades}.{from, to,\n"
"legacy, copied, skipped_existing, differing, failed}, their sums in\n"
"result, and result.errors. See docs/migration.md.\n"
"\n"
"-u UID, --uid UID\n"
"       The tenant to copy into (required).\n"
"-n, --dry-run\n"
"       Write nothing; count what would be copied (the COPIED\n"
"       column is then TO_COPY).\n"
"\n"
"The reply timeout is 600 seconds unless -t is given.\n",
	.examples =
"tradepulse migrate-legacy --uid user_42 --dry-run\n"
"tradepulse migrate-legacy --uid user_42\n"
"tradepulse --json migrate-legacy --uid user_42\n",
	.run = migrate_run,
};
