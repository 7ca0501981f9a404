/* cmd_pause.c: tradepulse pause [--reason TEXT] and tradepulse resume: the operator's big red button. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"

enum { PAUSE_REASON = 1 };

static const struct cli_opt pause_opts[] = {
	{ "reason", 'r', true, PAUSE_REASON },
	{ NULL, 0, false, 0 },
};

static void
pause_print(json_object *result, const void *arg)
{
	json_object *p = json_get_obj(result, "paused");
	bool changed = false;

	(void)arg;
	json_get_bool(result, "changed", &changed);
	printf("%s since %s by %s: %s\n", changed ? "paused" :
	    "already paused", cli_str(p, "since", "?"), cli_str(p, "by", "?"),
	    cli_str(p, "reason", ""));
	if (json_get_str(result, "warning") != NULL)
		cli_warnx("%s", json_get_str(result, "warning"));
}

static int
pause_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req;
	const char *reason = NULL;
	int opt, rc;

	cli_args_init(&a, &cmd_pause, argc, argv);
	while ((opt = cli_args_next(cli, &a, pause_opts)) > 0)
		reason = a.optarg;
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 0, "")) != 0)
		return rc;
	if (reason != NULL && strlen(reason) > API_REASON_MAX)
		return cli_usage_error(&cmd_pause, "the reason is longer than "
		    "%d bytes", API_REASON_MAX);
	if ((req = cli_request(API_OP_PAUSE, NULL)) == NULL)
		return CLI_EXIT_ERROR;
	if (reason != NULL)
		json_object_object_add(req, "reason",
		    json_object_new_string(reason));
	return cli_exchange(cli, req, pause_print, NULL);
}

static void
resume_print(json_object *result, const void *arg)
{
	json_object *was = json_get_obj(result, "was");

	(void)arg;
	if (was == NULL) {
		printf("not paused\n");
		return;
	}
	printf("resumed (paused since %s by %s: %s)\n",
	    cli_str(was, "since", "?"), cli_str(was, "by", "?"),
	    cli_str(was, "reason", ""));
}

static int
resume_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req;
	int opt, rc;

	cli_args_init(&a, &cmd_resume, argc, argv);
	if ((opt = cli_args_next(cli, &a, NULL)) != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 0, "")) != 0)
		return rc;
	if ((req = cli_request(API_OP_RESUME, NULL)) == NULL)
		return CLI_EXIT_ERROR;
	return cli_exchange(cli, req, resume_print, NULL);
}

const struct cli_command cmd_pause = {
	.name = "pause",
	.synopsis = "pause [--reason TEXT]",
	.summary = "stop every pulse and job now (the big red button)",
	.description =
"Pauses the daemon, for example on a suspected cross-user leak, as\n"
"tradepulsed(8)'s TROUBLESHOOTING says. At once: no pulse starts,\n"
"scheduled or asked for; sync, signal and pulse requests fail with\n"
"failed_precondition \"paused since TIME by WHO: REASON\"; jobs waiting\n"
"in the queue fail the same way and are never dispatched. Jobs already\n"
"running in workers get 5 seconds to finish; then their workers are\n"
"killed and the jobs end \"interrupted: tradepulsed paused\" (no\n"
"strike against their tenants). Reading (status, job, tenant show,\n"
"trades, the logs) keeps working.\n"
"\n"
"The pause is written to the file paused in [daemon] state_dir, so it\n"
"survives a restart (the daemon starts paused, and says so in its log)\n"
"and works when the store is what is broken. It shows in status, in\n"
"/healthz and as a \"paused\" event on the ops topic (tradepulse watch).\n"
"Per-tenant kill-switches (tradepulse trading) are not touched. Pausing\n"
"a paused daemon keeps the first pause and prints \"already paused\".\n"
"Prints \"paused since TIME by WHO: REASON\". An operator's operation:\n"
"refused to users (--token-file) and to CURVE clients of role service.\n"
"\n"
"-r TEXT, --reason TEXT\n"
"       Why, recorded with the pause (at most 256 bytes) and shown by\n"
"       status and in the events.\n",
	.examples =
"tradepulse pause --reason \"suspected cross-user leak, ticket 4711\"\n"
"tradepulse status\n"
"tradepulse resume\n",
	.run = pause_run,
};

const struct cli_command cmd_resume = {
	.name = "resume",
	.synopsis = "resume",
	.summary = "end a pause: pulses and jobs run again",
	.description =
"Ends the pause that tradepulse pause began: removes the pause file\n"
"from [daemon] state_dir, and pulses (the schedule's next turn, or\n"
"tradepulse pulse) and jobs run again. Jobs that failed while paused\n"
"are not re-run: the next pulse syncs every tenant. Sends a \"resumed\"\n"
"event on the ops topic. Prints \"resumed (paused since TIME by WHO:\n"
"REASON)\", or \"not paused\" (exit 0) when there was no pause.\n"
"An operator's operation, like pause.\n",
	.examples =
"tradepulse resume\n",
	.run = resume_run,
};
