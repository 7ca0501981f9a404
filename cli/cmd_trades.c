/* cmd_trades.c: tradepulse trades: a tenant's shadow trades, newest first. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"

#define TRADES_LIMIT_MAX 100	/* the daemon's bound, the seed's limit(100) */

enum { TRADES_OPEN = 1, TRADES_N };

static const struct cli_opt trades_opts[] = {
	{ "open", 0, false, TRADES_OPEN },
	{ "limit", 'n', true, TRADES_N },
	{ NULL, 0, false, 0 },
};

/* A field as text: "-" when absent or null. */
static const char *
trades_cell(json_object *t, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(t, key, &v))
		return "-";
	return cli_text(v);
}

static void
trades_print(json_object *result, const void *arg)
{
	static const char *const head[] = { "ID", "SYMBOL", "SIDE", "QTY",
	    "ENTRY", "PRICE", "P&L", "STATUS", "CREATED" };
	const bool *open = arg;
	json_object *trades, *t;
	struct table *tab;
	const char *row[9], *status;
	bool closed;
	size_t i, n;

	if (!json_object_object_get_ex(result, "trades", &trades) ||
	    !json_object_is_type(trades, json_type_array)) {
		cli_warnx("malformed reply from the daemon: no \"trades\" "
		    "array");
		return;
	}
	if ((tab = table_new(9, head)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	n = json_object_array_length(trades);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(trades, i);
		status = cli_str(t, "status", "-");
		/* a closed trade shows where it ended and what it made */
		closed = strcmp(status, "CLOSED") == 0;
		row[0] = cli_str(t, "id", "?");
		row[1] = trades_cell(t, "symbol");
		row[2] = trades_cell(t, "side");
		row[3] = trades_cell(t, "qty");
		row[4] = trades_cell(t, "entry_price");
		row[5] = trades_cell(t, closed ? "exit_price" :
		    "current_price");
		row[6] = trades_cell(t, closed ? "realized_pnl" :
		    "unrealized_pnl");
		row[7] = status;
		row[8] = trades_cell(t, "created_at");
		if (table_add(tab, row) == -1) {
			cli_warnx("out of memory");
			table_free(tab);
			return;
		}
	}
	if (n > 0)
		table_print(tab, stdout);
	printf("%zu %strade%s\n", n, *open ? "open " : "", n == 1 ? "" : "s");
	table_free(tab);
}

static int
trades_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req;
	const char *uid;
	char *end;
	long limit = TRADES_LIMIT_MAX;
	bool open = false;
	int opt, rc;

	cli_args_init(&a, &cmd_trades, argc, argv);
	while ((opt = cli_args_next(cli, &a, trades_opts)) > 0) {
		if (opt == TRADES_OPEN) {
			open = true;
			continue;
		}
		errno = 0;
		limit = strtol(a.optarg, &end, 10);
		if (errno != 0 || end == a.optarg || *end != '\0' ||
		    limit < 1 || limit > TRADES_LIMIT_MAX)
			return cli_usage_error(&cmd_trades, "-n must be a "
			    "whole number from 1 to %d", TRADES_LIMIT_MAX);
	}
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 1, 1, "UID")) != 0)
		return rc;
	uid = a.pos[0];
	if ((rc = cli_check_uid(&cmd_trades, uid)) != 0)
		return rc;
	if ((req = cli_request(API_OP_TRADES_LIST, uid)) == NULL)
		return CLI_EXIT_ERROR;
	json_object_object_add(req, "limit", json_object_new_int((int)limit));
	if (open)
		json_object_object_add(req, "open",
		    json_object_new_boolean(1));
	return cli_exchange(cli, req, trades_print, &open);
}

const struct cli_command cmd_trades = {
	.name = "trades",
	.synopsis = "trades UID [--open] [-n N]",
	.summary = "list a tenant's shadow trades, newest first",
	.description =
"Lists the tenant's shadow trades (users/UID/shadowTradeHistory),\n"
"newest first by created_at, as the dashboard shows them. A trade\n"
"without created_at is not listed.\n"
"\n"
"Columns: ID, SYMBOL, SIDE (buy, sell, long or short), QTY, ENTRY\n"
"(entry_price), PRICE and P&L (for an OPEN trade the last mark:\n"
"current_price and unrealized_pnl; for a CLOSED one exit_price and\n"
"realized_pnl), STATUS (OPEN or CLOSED) and CREATED. A value the\n"
"trade does not have yet, such as the price of a trade no pulse has\n"
"marked, is shown as \"-\". The last line counts the trades listed.\n"
"Amounts are shown exactly as stored (docs/pnl.md).\n"
"\n"
"A trade is closed by the pulse when its price reaches the\n"
"take_profit_price or stop_loss_price fixed when its signal opened\n"
"it, or by an opposite signal (close_reason says which); --json\n"
"shows these fields, closed_at, signal_id and pnl_error too.\n"
"\n"
"--open\n"
"       Only the trades whose status is OPEN.\n"
"-n N, --limit N\n"
"       At most N trades, 1 to 100 (default 100, the dashboard's\n"
"       limit).\n"
"--json\n"
"       Print the daemon's reply: {\"ok\": true, \"result\": {\"uid\",\n"
"       \"trades\": [...]}}, each trade with its id and stored\n"
"       fields.\n"
"\n"
"A tenant that does not exist is not_found (exit status 1).\n",
	.examples =
"tradepulse trades user_42\n"
"tradepulse trades user_42 --open -n 10\n"
"tradepulse trades user_42 --json | jq '.result.trades[0]'\n",
	.run = trades_run,
};
