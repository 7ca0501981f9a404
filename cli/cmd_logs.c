/* cmd_logs.c: tradepulse logs: a tenant's log lines through the job API, and following them as they are written. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"
#include "common/tenantlog.h"
#include "common/tenantlog_read.h"

#define LOGS_N_MAX	1000	/* the daemon's bound */
#define LOGS_POLL_MS	250	/* a new line shows within a second */
#define LOGS_RETRY_MS	1000	/* while the daemon cannot be reached */
#define LOGS_FOLLOW_TIMEOUT_MS 5000	/* a poll's reply, unless -t */

enum { LOGS_N = 1, LOGS_FOLLOW, LOGS_SINCE, LOGS_LEVEL, LOGS_JOB };

static const struct cli_opt logs_opts[] = {
	{ "lines", 'n', true, LOGS_N },
	{ "follow", 'f', false, LOGS_FOLLOW },
	{ "since", 0, true, LOGS_SINCE },
	{ "level", 0, true, LOGS_LEVEL },
	{ "job", 0, true, LOGS_JOB },
	{ NULL, 0, false, 0 },
};

struct logs_args {
	const char	*uid;
	long		 n;		/* 0: the daemon's default */
	bool		 follow;
	const char	*since;
	const char	*level;
	const char	*job;
};

/* A field escaped as the log file holds it, so a line is one line and
 * nothing in it drives the terminal. */
static void
logs_put(const char *s, bool space)
{
	char buf[TLOG_LINE_MAX * 4];
	bool all;

	tenantlog_escape(buf, sizeof(buf), s, &all);
	printf("%s%s%s", space ? " " : "", buf, all ? "" : " [truncated]");
}

static void
logs_print_line(struct cli *cli, json_object *l)
{
	const char *lvl = cli_str(l, "level", "?"), *msg;
	char up[8];
	size_t i;

	if (cli->json) {
		cli_print_json(l);
		return;
	}
	for (i = 0; i + 1 < sizeof(up) && lvl[i] != '\0'; i++)
		up[i] = (lvl[i] >= 'a' && lvl[i] <= 'z') ?
		    (char)(lvl[i] - 'a' + 'A') : lvl[i];
	up[i] = '\0';
	logs_put(cli_str(l, "time", "?"), false);
	logs_put(up, true);
	logs_put(cli_str(l, "job", "-"), true);
	logs_put(cli_str(l, "event", "?"), true);
	msg = cli_str(l, "message", "");
	if (*msg != '\0')
		logs_put(msg, true);
	putchar('\n');
}

/* Prints the reply's lines; *cursor gets a copy of its cursor. -1 on a
 * malformed reply. */
static int
logs_print(struct cli *cli, json_object *result, char *cursor, size_t size,
    bool *truncated)
{
	json_object *lines;
	const char *cur;
	size_t i, n;

	if (!json_object_object_get_ex(result, "lines", &lines) ||
	    !json_object_is_type(lines, json_type_array) ||
	    (cur = json_get_str(result, "cursor")) == NULL ||
	    strlen(cur) >= size) {
		cli_warnx("malformed reply from the daemon: no \"lines\" or "
		    "\"cursor\"");
		return -1;
	}
	n = json_object_array_length(lines);
	for (i = 0; i < n; i++)
		logs_print_line(cli, json_object_array_get_idx(lines, i));
	snprintf(cursor, size, "%s", cur);
	*truncated = false;
	json_get_bool(result, "truncated", truncated);
	fflush(stdout);
	return 0;
}

static json_object *
logs_request(const struct logs_args *la, const char *after)
{
	json_object *req;

	if ((req = cli_request(API_OP_LOGS, la->uid)) == NULL)
		return NULL;
	if ((la->n > 0 && after == NULL && json_add(req, "n",
	    json_object_new_int((int)la->n)) == -1) ||
	    (la->since != NULL && json_add(req, "since",
	    json_object_new_string(la->since)) == -1) ||
	    (la->level != NULL && json_add(req, "level",
	    json_object_new_string(la->level)) == -1) ||
	    (la->job != NULL && json_add(req, "job",
	    json_object_new_string(la->job)) == -1) ||
	    (after != NULL && json_add(req, "after",
	    json_object_new_string(after)) == -1)) {
		json_object_put(req);
		cli_warnx("out of memory");
		return NULL;
	}
	return req;
}

static void
logs_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Polls with the cursor until interrupted; a daemon that stops or
 * restarts is waited for quietly. */
static int
logs_follow(struct cli *cli, const struct logs_args *la, char *cursor,
    size_t size)
{
	json_object *req, *reply, *result;
	bool truncated = false, away = false;
	int rc;

	cli->quiet_unreachable = true;
	if (!cli->timeout_set)
		cli->timeout_ms = LOGS_FOLLOW_TIMEOUT_MS;
	for (;;) {
		if (!truncated)
			logs_sleep(away ? LOGS_RETRY_MS : LOGS_POLL_MS);
		if ((req = logs_request(la, cursor)) == NULL)
			return CLI_EXIT_ERROR;
		rc = cli_call(cli, req, &reply, &result);
		json_object_put(req);
		if (rc == CLI_EXIT_UNREACHABLE) {
			/* a fresh connection for the next try */
			cli_disconnect(cli);
			away = true;
			truncated = false;
			continue;
		}
		if (rc != CLI_EXIT_OK)
			return rc;
		away = false;
		rc = logs_print(cli, result, cursor, size, &truncated);
		json_object_put(reply);
		if (rc == -1)
			return CLI_EXIT_ERROR;
		if (ferror(stdout))
			return CLI_EXIT_ERROR;	/* the reader went away */
	}
}

static int
logs_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	struct logs_args la;
	struct tp_err err;
	json_object *req, *reply, *result;
	char cursor[TLOG_CURSOR_MAX], ts[TLOG_TIME_LEN + 1], *end;
	bool truncated = false;
	int opt, rc;

	memset(&la, 0, sizeof(la));
	cli_args_init(&a, &cmd_logs, argc, argv);
	while ((opt = cli_args_next(cli, &a, logs_opts)) > 0) {
		switch (opt) {
		case LOGS_N:
			errno = 0;
			la.n = strtol(a.optarg, &end, 10);
			if (errno != 0 || end == a.optarg || *end != '\0' ||
			    la.n < 1 || la.n > LOGS_N_MAX)
				return cli_usage_error(&cmd_logs, "-n must be "
				    "a whole number from 1 to %d", LOGS_N_MAX);
			break;
		case LOGS_FOLLOW:
			la.follow = true;
			break;
		case LOGS_SINCE:
			/* checked here for a usage error; the daemon's
			 * clock turns a duration into a time */
			tp_err_clear(&err);
			if (tenantlog_since(a.optarg, 0, ts, &err) == -1)
				return cli_usage_error(&cmd_logs, "--since "
				    "'%s': a duration such as 10m, 2h, 7d, or "
				    "an RFC 3339 time such as "
				    "2026-12-06T15:00:00Z", a.optarg);
			la.since = a.optarg;
			break;
		case LOGS_LEVEL:
			if (tenantlog_level_parse(a.optarg) == -1)
				return cli_usage_error(&cmd_logs, "--level "
				    "must be debug, info, warn or error");
			la.level = a.optarg;
			break;
		case LOGS_JOB:
			if (*a.optarg == '\0' || strlen(a.optarg) > 64 ||
			    strspn(a.optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
			    "ghijklmnopqrstuvwxyz0123456789_-.:") !=
			    strlen(a.optarg))
				return cli_usage_error(&cmd_logs, "--job: not "
				    "a job id");
			la.job = a.optarg;
			break;
		}
	}
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 1, 1, "UID")) != 0)
		return rc;
	la.uid = a.pos[0];
	if ((rc = cli_check_uid(&cmd_logs, la.uid)) != 0)
		return rc;

	if ((req = logs_request(&la, NULL)) == NULL)
		return CLI_EXIT_ERROR;
	rc = cli_call(cli, req, &reply, &result);
	json_object_put(req);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = logs_print(cli, result, cursor, sizeof(cursor), &truncated);
	json_object_put(reply);
	if (rc == -1)
		return CLI_EXIT_ERROR;
	if (truncated)
		cli_warnx("older lines were left out: the request's bounds "
		    "(4 MiB read, about 224 KiB returned) were reached; "
		    "narrow it with --since, --level or --job");
	if (!la.follow)
		return CLI_EXIT_OK;
	return logs_follow(cli, &la, cursor, sizeof(cursor));
}

const struct cli_command cmd_logs = {
	.name = "logs",
	.synopsis = "logs UID [-n N] [-f] [--since 10m|TIME] "
	    "[--level LEVEL] [--job ID]",
	.summary = "show, or follow, a tenant's log",
	.description =
"Shows the last lines of the tenant's log, the story of its syncs,\n"
"signals, errors, crashes and quarantines, as the daemon wrote it to\n"
"<log_dir>/tenants/UID.log and its rotated files (UID.log.1, ...). The\n"
"lines are read by the daemon and sent through the job API, so this\n"
"works wherever the API does, a tcp:// endpoint with an admin CURVE\n"
"key included. Only operators may read a log (an ipc:// client or a\n"
"CURVE client of role admin).\n"
"\n"
"Each line is printed as the file holds it:\n"
"       TIME LEVEL JOB EVENT MESSAGE\n"
"TIME is UTC with microseconds, LEVEL one of DEBUG, INFO, WARN and\n"
"ERROR, JOB the job id or \"-\", EVENT a word such as sync, crash,\n"
"quarantine; control characters in the message are escaped (\\n, \\t,\n"
"\\xHH), so a line is always one line.\n"
"\n"
"-n N, --lines N\n"
"       The last N lines that pass the filters, 1 to 1000 (default\n"
"       50), oldest first.\n"
"-f, --follow\n"
"       After the last lines, keep printing new lines as they are\n"
"       written (the daemon is asked every 250 ms, so a line shows\n"
"       within a second), until interrupted. A rotation of the log\n"
"       loses and repeats nothing; while the daemon stops or restarts,\n"
"       the command waits quietly and goes on where it was. (Before\n"
"       the command, -f names the configuration file.)\n"
"--since 10m|TIME\n"
"       Only lines written since then: a duration before now (90s,\n"
"       10m, 2h, 7d; the daemon's clock) or an RFC 3339 time such as\n"
"       2026-12-06T15:00:00Z or 2026-12-06T16:00:00+01:00.\n"
"--level LEVEL\n"
"       Only lines of LEVEL and above: debug, info, warn or error.\n"
"--job ID\n"
"       Only the lines of job ID (as sync and job print it).\n"
"--json\n"
"       One JSON object per line, {\"time\", \"level\" (lower case),\n"
"       \"job\" (null for none), \"event\", \"message\" (unescaped)},\n"
"       for jq; with -f as they come.\n"
"\n"
"A request reads at most 4 MiB of the files and returns at most about\n"
"224 KiB of lines; when older matching lines were left out, a warning\n"
"says so on standard error. A tenant that does not exist is not_found\n"
"(exit status 1); one that has no log yet has no lines.\n",
	.examples =
"tradepulse logs user_42\n"
"tradepulse logs user_42 -n 200 --level warn\n"
"tradepulse logs user_42 --since 2h --job j-4f2a\n"
"tradepulse logs user_42 -f\n"
"tradepulse logs user_42 --json | jq -r 'select(.event == \"crash\") "
    "| .message'\n",
	.run = logs_run,
};
