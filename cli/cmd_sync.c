/* cmd_sync.c: tradepulse sync UID [--wait]: queue a sync job for one tenant, or run it and say how it ended. */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"

/* A job may wait behind a whole queue: --wait gets a longer default. */
#define SYNC_WAIT_TIMEOUT_MS	(300 * 1000)

enum { SYNC_WAIT = 1 };

static const struct cli_opt sync_opts[] = {
	{ "wait", 'w', false, SYNC_WAIT },
	{ NULL, 0, false, 0 },
};

/* Prints the reply; returns the exit status (1 for a job that failed or
 * did not end). */
static int
sync_print(struct cli *cli, json_object *reply, json_object *job,
    const char *uid, bool wait)
{
	char outcome[1200];
	const char *id = cli_str(job, "job_id", "?");
	int r;

	if (!wait) {
		if (cli->json)
			cli_print_json(reply);
		else
			printf("queued job %s for %s\n", id,
			    cli_str(job, "uid", uid));
		return CLI_EXIT_OK;
	}
	r = cli_job_outcome(job, outcome, sizeof(outcome));
	if (cli->json)
		cli_print_json(reply);
	else if (r >= 0)
		printf("job %s %s\n", id, outcome);
	else
		printf("job %s has not ended: %s\n", id, outcome);
	return r == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

static int
sync_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req, *reply, *result;
	const char *uid;
	bool wait = false;
	int opt, rc;

	cli_args_init(&a, &cmd_sync, argc, argv);
	while ((opt = cli_args_next(cli, &a, sync_opts)) > 0)
		wait = true;
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 1, 1, "UID")) != 0)
		return rc;
	uid = a.pos[0];
	if ((rc = cli_check_uid(&cmd_sync, uid)) != 0)
		return rc;
	if (wait && !cli->timeout_set)
		cli->timeout_ms = SYNC_WAIT_TIMEOUT_MS;

	if ((req = cli_request(API_OP_SYNC, uid)) == NULL)
		return CLI_EXIT_ERROR;
	if (wait)
		json_object_object_add(req, "wait",
		    json_object_new_boolean(1));
	rc = cli_call(cli, req, &reply, &result);
	json_object_put(req);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = sync_print(cli, reply, result, uid, wait);
	json_object_put(reply);
	return rc;
}

const struct cli_command cmd_sync = {
	.name = "sync",
	.synopsis = "sync UID [--wait]",
	.summary = "run a sync job for one tenant in a sandboxed worker",
	.description =
"Queues a sync job for the tenant UID, as a pulse runs for every\n"
"tenant. The daemon decrypts the tenant's Alpaca keys and hands them,\n"
"and only them, to a sandboxed worker process, with the tenant's OPEN\n"
"shadow trades. The worker reads the Alpaca account and the latest\n"
"price of each trade's symbol; on success the account goes to\n"
"users/UID/data/snapshot and users/UID/alpacaAccounts/snapshot, each\n"
"open trade gets current_price, unrealized_pnl and pnl_percent (or a\n"
"pnl_error of its own), users/UID/status/last_sync names the job, the\n"
"tenant's last sync error is cleared and the tenant log gets a line\n"
"per step and \"committed job JOBID\", all in one transaction. A\n"
"failure (bad keys, a broker error) is written to\n"
"users/UID/status/last_sync_error instead. Prints \"queued job JOBID\n"
"for UID\"; follow the job with tradepulse job JOBID.\n"
"\n"
"Fails with not_found for an unknown tenant, failed_precondition when\n"
"the tenant has no keys, has trading disabled or is quarantined (see\n"
"tenant release), and resource_exhausted when the job queue is full.\n"
"\n"
"-w, --wait\n"
"       Wait until the job has ended and print \"job JOBID done:\n"
"       equity E (STATUS), N open trades marked, unrealized P&L X,\n"
"       key id ...WXYZ\", or \"job JOBID failed: CODE: MESSAGE\" and\n"
"       exit 1. A job whose worker crashes is run again, alone, so\n"
"       this can take a while: the reply timeout is then 300 seconds\n"
"       unless -t is given. With --json, the reply holds the job as\n"
"       tradepulse job shows it, and the exit status is the same.\n",
	.examples =
"tradepulse sync user_42\n"
"tradepulse sync user_42 --wait\n"
"tradepulse --json -t 60 sync user_42 --wait\n",
	.run = sync_run,
};
