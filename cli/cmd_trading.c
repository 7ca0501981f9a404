/* cmd_trading.c: tradepulse trading enable|disable: a tenant's kill-switch. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"

enum { TRADING_REASON = 1 };

static const struct cli_opt trading_opts[] = {
	{ "reason", 'r', true, TRADING_REASON },
	{ NULL, 0, false, 0 },
};

/* What trading_print needs of the command line. */
struct trading_asked {
	const char *uid;
	const char *reason;		/* NULL when not given */
	bool enabled;
};

static void
trading_print(json_object *result, const void *arg)
{
	const struct trading_asked *ask = arg;
	const char *r;
	bool on = ask->enabled;

	/* What the daemon recorded, which is what counts; an enable shows
	 * a reason only when one was given. */
	json_get_bool(result, "enabled", &on);
	r = on && ask->reason == NULL ? NULL :
	    cli_str(result, "reason", ask->reason);
	printf("trading %s for %s", on ? "enabled" : "disabled",
	    cli_str(result, "uid", ask->uid));
	if (r != NULL && *r != '\0')
		printf(" (reason: %s)", r);
	putchar('\n');
}

static int
trading_set(struct cli *cli, int argc, char **argv, bool enabled)
{
	struct cli_args a;
	struct trading_asked ask;
	json_object *req;
	const char *reason = NULL, *uid;
	int opt, rc;

	cli_args_init(&a, &cmd_trading, argc, argv);
	while ((opt = cli_args_next(cli, &a, trading_opts)) > 0)
		reason = a.optarg;
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 1, 1, "UID")) != 0)
		return rc;
	uid = a.pos[0];
	if ((rc = cli_check_uid(&cmd_trading, uid)) != 0)
		return rc;
	if (reason != NULL && strlen(reason) > API_REASON_MAX)
		return cli_usage_error(&cmd_trading, "the reason is longer "
		    "than %d bytes", API_REASON_MAX);

	if ((req = cli_request(API_OP_TRADING_SET, uid)) == NULL)
		return CLI_EXIT_ERROR;
	json_object_object_add(req, "enabled",
	    json_object_new_boolean(enabled));
	if (reason != NULL)
		json_object_object_add(req, "reason",
		    json_object_new_string(reason));
	ask.uid = uid;
	ask.reason = reason;
	ask.enabled = enabled;
	return cli_exchange(cli, req, trading_print, &ask);
}

static int
trading_enable(struct cli *cli, int argc, char **argv)
{
	return trading_set(cli, argc, argv, true);
}

static int
trading_disable(struct cli *cli, int argc, char **argv)
{
	return trading_set(cli, argc, argv, false);
}

static const struct cli_sub trading_subs[] = {
	{ "enable", trading_enable },
	{ "disable", trading_disable },
	{ NULL, NULL },
};

static int
trading_run(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, &cmd_trading, trading_subs, argc, argv);
}

const struct cli_command cmd_trading = {
	.name = "trading",
	.synopsis =
"trading enable UID [--reason TEXT]\n"
"trading disable UID [--reason TEXT]",
	.summary = "turn a tenant's trading kill-switch on or off",
	.description =
"Sets the tenant's kill-switch (users/UID/status/trading). The\n"
"heartbeat skips a tenant whose trading is disabled until it is\n"
"enabled again.\n"
"\n"
"enable UID\n"
"       Enable trading; prints \"trading enabled for UID\".\n"
"disable UID\n"
"       Disable trading; prints \"trading disabled for UID (reason:\n"
"       TEXT)\".\n"
"-r TEXT, --reason TEXT\n"
"       Why, recorded with the switch (at most 256 bytes) and\n"
"       shown by tenant show.\n",
	.examples =
"tradepulse trading disable user_42 --reason \"chargeback pending\"\n"
"tradepulse trading enable user_42\n",
	.run = trading_run,
};
