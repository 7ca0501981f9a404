/* cmd_job.c: tradepulse job ID: one job's state, and the one-line outcome that sync --wait prints too. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"
#include "common/wire.h"

/* The job id rule of the job API (wire_valid_job_id), checked before
 * anything is sent. */
static bool
job_valid_id(const char *id)
{
	size_t n = strlen(id);
	const char *p;

	if (n == 0 || n > WIRE_JOB_ID_MAX)
		return false;
	for (p = id; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* The text of field key of o, or NULL when absent or null. */
static const char *
job_field(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return cli_text(v);
}

/*
 * A result as people read it: for a sync "equity 100000 (ACTIVE), 5 open
 * trades marked, unrealized P&L 12.34, key id ...WXYZ" (and "N could not
 * be marked"); for a price fetch "prices of N symbols"; else JSON.
 */
static void
job_result_text(json_object *result, char *buf, size_t size)
{
	json_object *prices;
	const char *last4;
	int64_t marked = 0, failed = 0;

	if (result == NULL || !json_object_is_type(result, json_type_object)) {
		snprintf(buf, size, "none");
		return;
	}
	if ((last4 = json_get_str(result, "key_id_last4")) != NULL) {
		(void)json_get_int(result, "trades_marked", &marked);
		(void)json_get_int(result, "trades_failed", &failed);
		snprintf(buf, size, "equity %s (%s), %lld open trade%s marked, "
		    "unrealized P&L %s%s%.0lld%s, key id \xe2\x80\xa6%s",
		    cli_str(result, "equity", "?"),
		    cli_str(result, "status", "?"), (long long)marked,
		    marked == 1 ? "" : "s",
		    cli_str(result, "unrealized_pnl", "-"),
		    failed > 0 ? "; " : "", (long long)failed,
		    failed > 0 ? " could not be marked" : "", last4);
	} else if ((prices = json_get_obj(result, "prices")) != NULL)
		snprintf(buf, size, "prices of %d symbols",
		    json_object_object_length(prices));
	else
		snprintf(buf, size, "%s", cli_text(result));
}

/* "CODE: MESSAGE" of a job's error, or "none". */
static void
job_error_text(json_object *error, char *buf, size_t size)
{
	if (error == NULL || !json_object_is_type(error, json_type_object)) {
		snprintf(buf, size, "none");
		return;
	}
	snprintf(buf, size, "%s: %s", cli_str(error, "code", "unknown"),
	    cli_str(error, "message", "(no message)"));
}

int
cli_job_outcome(json_object *job, char *buf, size_t size)
{
	char text[1024];
	const char *state = cli_str(job, "state", "?");

	if (strcmp(state, "done") == 0) {
		job_result_text(json_get_obj(job, "result"), text,
		    sizeof(text));
		snprintf(buf, size, "done: %s", text);
		return 0;
	}
	if (strcmp(state, "failed") == 0) {
		job_error_text(json_get_obj(job, "error"), text, sizeof(text));
		snprintf(buf, size, "failed: %s", text);
		return 1;
	}
	snprintf(buf, size, "%s", state);
	return -1;
}

/* arg: the job id asked for. */
static void
job_print(json_object *job, const void *arg)
{
	char text[1024];
	struct table *t;
	const char *s;

	if ((t = table_new(2, NULL)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	table_kv(t, "job", "%s", cli_str(job, "job_id", arg));
	table_kv(t, "uid", "%s", cli_str(job, "uid", "?"));
	table_kv(t, "kind", "%s", cli_str(job, "kind", "?"));
	table_kv(t, "state", "%s", cli_str(job, "state", "?"));
	table_kv(t, "attempts", "%s", (s = job_field(job, "attempts")) != NULL ?
	    s : "?");
	table_kv(t, "created", "%s", (s = job_field(job, "created_at")) !=
	    NULL ? s : "?");
	table_kv(t, "ended", "%s", (s = job_field(job, "ended_at")) != NULL ?
	    s : "not yet");
	job_result_text(json_get_obj(job, "result"), text, sizeof(text));
	table_kv(t, "result", "%s", text);
	job_error_text(json_get_obj(job, "error"), text, sizeof(text));
	table_kv(t, "error", "%s", text);
	table_kv(t, "crash", "%s", (s = job_field(job, "crash_id")) != NULL ?
	    s : "none");
	table_print(t, stdout);
	table_free(t);
}

static int
job_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req, *v;
	const char *id;
	int opt, rc;

	cli_args_init(&a, &cmd_job, argc, argv);
	if ((opt = cli_args_next(cli, &a, NULL)) != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 1, 1, "ID")) != 0)
		return rc;
	id = a.pos[0];
	if (!job_valid_id(id))
		return cli_usage_error(&cmd_job, "invalid job id '%.40s%s': a "
		    "job id is 1 to %d characters of A-Z, a-z, 0-9, '_' and "
		    "'-'", id, strlen(id) > 40 ? "..." : "", WIRE_JOB_ID_MAX);
	if ((req = cli_request(API_OP_JOB, NULL)) == NULL)
		return CLI_EXIT_ERROR;
	if ((v = json_object_new_string(id)) == NULL ||
	    json_object_object_add(req, "id", v) != 0) {
		json_object_put(v);
		json_object_put(req);
		cli_warnx("out of memory");
		return CLI_EXIT_ERROR;
	}
	return cli_exchange(cli, req, job_print, id);
}

const struct cli_command cmd_job = {
	.name = "job",
	.synopsis = "job ID",
	.summary = "show a job's state and outcome",
	.description =
"Shows the job ID (as printed by sync) as \"key: value\" lines: job,\n"
"uid, kind, state (queued, running, done or failed), attempts (runs\n"
"started, re-runs after a worker crash included), created and ended\n"
"times (\"not yet\" while it runs), result (for a sync: the\n"
"account's equity and status, the open trades marked, their\n"
"unrealized P&L, and the last four characters of the key id the\n"
"worker saw; for a pulse's price fetch, how many prices), error (\"CODE:\n"
"MESSAGE\", or \"none\") and crash (the id of the crash report under\n"
"ops/crashes/reports when a worker crash ended it, or \"none\").\n"
"The exit status is 0 whenever the job was found, whatever its\n"
"state. Fails with not_found for an unknown job or one that ended\n"
"too long ago to be kept.\n",
	.examples =
"tradepulse job 0f3a9c2e41d87b65\n"
"tradepulse --json job 0f3a9c2e41d87b65\n",
	.run = job_run,
};
