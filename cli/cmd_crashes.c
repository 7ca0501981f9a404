/* cmd_crashes.c: tradepulse crashes: the workers' crash reports, newest first, for every tenant or one. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"

#define CRASHES_LIMIT_MAX 100	/* the daemon's bound */

enum { CRASHES_N = 1 };

static const struct cli_opt crashes_opts[] = {
	{ "limit", 'n', true, CRASHES_N },
	{ NULL, 0, false, 0 },
};

/* "SIGSEGV", "exit 3" */
static void
crashes_how(json_object *c, char *buf, size_t size)
{
	int64_t code;

	if (json_get_str(c, "signal") != NULL)
		snprintf(buf, size, "%s", json_get_str(c, "signal"));
	else if (json_get_int(c, "exit_code", &code))
		snprintf(buf, size, "exit %lld", (long long)code);
	else
		snprintf(buf, size, "-");
}

/* The tenants it names, comma-separated. */
static void
crashes_uids(json_object *c, char *buf, size_t size)
{
	json_object *uids;
	size_t i, n, len = 0;

	buf[0] = '\0';
	if (!json_object_object_get_ex(c, "uids", &uids) ||
	    !json_object_is_type(uids, json_type_array) ||
	    (n = json_object_array_length(uids)) == 0) {
		snprintf(buf, size, "-");
		return;
	}
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i > 0 ? "," : "", cli_text(json_object_array_get_idx(uids,
		    i)));
}

static void
crashes_print(json_object *result, const void *arg)
{
	static const char *const head[] = { "ID", "AT", "PID", "HOW",
	    "SYSCALL", "TENANTS", "REASON" };
	json_object *list, *c, *v;
	struct table *tab;
	const char *row[7];
	char how[32], pid[24], uids[512];
	size_t i, n;

	(void)arg;
	if (!json_object_object_get_ex(result, "crashes", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		cli_warnx("malformed reply from the daemon: no \"crashes\" "
		    "array");
		return;
	}
	if ((tab = table_new(7, head)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(list, i);
		crashes_how(c, how, sizeof(how));
		crashes_uids(c, uids, sizeof(uids));
		snprintf(pid, sizeof(pid), "%s",
		    json_object_object_get_ex(c, "pid", &v) ? cli_text(v) :
		    "-");
		row[0] = cli_str(c, "id", "?");
		row[1] = cli_str(c, "at", "-");
		row[2] = pid;
		row[3] = how;
		row[4] = cli_str(c, "syscall", "-");
		row[5] = uids;
		row[6] = cli_str(c, "reason", "-");
		if (table_add(tab, row) == -1) {
			cli_warnx("out of memory");
			table_free(tab);
			return;
		}
	}
	if (n > 0)
		table_print(tab, stdout);
	printf("%zu crash%s\n", n, n == 1 ? "" : "es");
	table_free(tab);
}

static int
crashes_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req;
	const char *uid = NULL;
	char *end;
	long limit = 0;
	int opt, rc;

	cli_args_init(&a, &cmd_crashes, argc, argv);
	while ((opt = cli_args_next(cli, &a, crashes_opts)) > 0) {
		errno = 0;
		limit = strtol(a.optarg, &end, 10);
		if (errno != 0 || end == a.optarg || *end != '\0' ||
		    limit < 1 || limit > CRASHES_LIMIT_MAX)
			return cli_usage_error(&cmd_crashes, "-n must be a "
			    "whole number from 1 to %d", CRASHES_LIMIT_MAX);
	}
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 1, "UID")) != 0)
		return rc;
	if (a.npos == 1) {
		uid = a.pos[0];
		if ((rc = cli_check_uid(&cmd_crashes, uid)) != 0)
			return rc;
	}
	if ((req = cli_request(API_OP_CRASHES, uid)) == NULL)
		return CLI_EXIT_ERROR;
	if (limit > 0)
		json_object_object_add(req, "limit",
		    json_object_new_int((int)limit));
	return cli_exchange(cli, req, crashes_print, NULL);
}

const struct cli_command cmd_crashes = {
	.name = "crashes",
	.synopsis = "crashes [UID] [-n N]",
	.summary = "list the workers' crash reports, newest first",
	.description =
"Lists the crash reports the daemon wrote when a worker died other\n"
"than by a clean exit or the daemon's stop (ops/crashes/reports;\n"
"docs/crashes.md), newest first. With UID, only the reports naming\n"
"that tenant (a job of it in flight, or the culprit), among the newest\n"
"500 reports.\n"
"\n"
"Columns: ID (the crash report id, as the tenant log and status name\n"
"it), AT, PID, HOW (the signal, or \"exit N\"), SYSCALL (the system\n"
"call a seccomp kill stopped, when known), TENANTS and REASON (why the\n"
"daemon killed it, when it did). The last line counts the reports.\n"
"\n"
"-n N, --limit N\n"
"       At most N reports, 1 to 100 (default 20).\n"
"--json\n"
"       Print the daemon's reply: {\"ok\": true, \"result\": {\"uid\",\n"
"       \"crashes\": [...], \"scanned\"}}, each report with its jobs,\n"
"       culprit, core flag, uptime and the tail of the worker's\n"
"       standard error.\n"
"\n"
"A tenant that does not exist is not_found (exit status 1).\n",
	.examples =
"tradepulse crashes\n"
"tradepulse crashes user_42 -n 5\n"
"tradepulse crashes --json | jq '.result.crashes[0].stderr_tail'\n",
	.run = crashes_run,
};
