/* cmd_signal.c: tradepulse signal UID SYMBOL (run the strategy for a tenant, print the signal) and tradepulse signals UID [-n N] (a tenant's signals, newest first). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"
#include "common/pnl.h"

/* The job may wait behind a queue: the reply gets a longer default. */
#define SIGNAL_TIMEOUT_MS	(120 * 1000)
#define SIGNALS_MAX		100	/* signals.list's limit, at most */

enum { SIGNALS_N = 1 };

/* An indicator of the signal's "indicators" map, as its text. */
static const char *
signal_ind(json_object *s, const char *key)
{
	json_object *ind;

	if (!json_object_object_get_ex(s, "indicators", &ind))
		return "?";
	return cli_str(ind, key, "?");
}

static void
signal_print(json_object *s, const void *arg)
{
	struct table *t;

	(void)arg;
	if ((t = table_new(2, NULL)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	table_kv(t, "signal", "%s", cli_str(s, "id", "?"));
	table_kv(t, "symbol", "%s", cli_str(s, "symbol", "?"));
	table_kv(t, "action", "%s", cli_str(s, "action", "?"));
	table_kv(t, "confidence", "%s", cli_str(s, "confidence", "?"));
	table_kv(t, "price", "%s (last daily close, %s)",
	    cli_str(s, "price", "?"), cli_str(s, "bar_at", "?"));
	table_kv(t, "sma_fast", "%s", signal_ind(s, "sma_fast"));
	table_kv(t, "sma_slow", "%s", signal_ind(s, "sma_slow"));
	table_kv(t, "rsi", "%s", signal_ind(s, "rsi"));
	table_kv(t, "reasoning", "%s", cli_str(s, "reasoning", "?"));
	table_kv(t, "strategy", "%s", cli_str(s, "strategy", "?"));
	table_kv(t, "timestamp", "%s", cli_str(s, "timestamp", "?"));
	table_kv(t, "job", "%s", cli_str(s, "job_id", "?"));
	table_print(t, stdout);
	table_free(t);
}

static const struct cli_opt signal_opts[] = {
	{ NULL, 0, false, 0 },
};

static int
signal_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req;
	const char *uid, *symbol;
	int opt, rc;

	cli_args_init(&a, &cmd_signal, argc, argv);
	/* --token-file F (a Firebase ID token, sent as "id_token") is
	 * issue 12's authentication part: its option goes in this table,
	 * and the token into req below. */
	while ((opt = cli_args_next(cli, &a, signal_opts)) > 0)
		;
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 2, 2, "UID and SYMBOL")) != 0)
		return rc;
	uid = a.pos[0];
	symbol = a.pos[1];
	if ((rc = cli_check_uid(&cmd_signal, uid)) != 0)
		return rc;
	if (!pnl_valid_symbol(symbol))
		return cli_usage_error(&cmd_signal, "\"%.32s\" is not a symbol "
		    "(1 to %d of A-Z 0-9 . / -, starting with a letter or a "
		    "digit)", symbol, PNL_SYMBOL_MAX);
	if (!cli->timeout_set)
		cli->timeout_ms = SIGNAL_TIMEOUT_MS;
	if ((req = cli_request(API_OP_SIGNAL, uid)) == NULL)
		return CLI_EXIT_ERROR;
	json_object_object_add(req, "symbol", json_object_new_string(symbol));
	return cli_exchange(cli, req, signal_print, NULL);
}

const struct cli_command cmd_signal = {
	.name = "signal",
	.synopsis = "signal UID SYMBOL",
	.summary = "run the trading strategy for a tenant on one symbol",
	.description =
"Asks for a trading signal for the tenant UID on SYMBOL, as the\n"
"seed's generate_trading_signal did, and waits for it. A sandboxed\n"
"worker fetches the symbol's latest daily bars from Alpaca's market\n"
"data API with the tenant's own keys ([signals] bars of them), and the\n"
"strategy of docs/strategy.md decides: a fast and a slow simple moving\n"
"average of the closes ([signals] fast, slow) filtered by Wilder's RSI\n"
"([signals] rsi_period) give BUY, SELL or HOLD, a confidence from 0 to\n"
"1 and a one-sentence reasoning. The daemon writes the signal to\n"
"users/UID/signals/ID, where it is never changed, and prints it: its\n"
"id, symbol, action, confidence, price (the last daily close, exactly\n"
"as Alpaca sent it), the indicators (sma_fast, sma_slow, rsi), the\n"
"reasoning, the strategy, the timestamp and the job that made it.\n"
"\n"
"A tenant whose trading is disabled still gets a signal; no shadow\n"
"trade is opened for it.\n"
"\n"
"Fails with invalid_argument for a bad uid or symbol, not_found for an\n"
"unknown tenant, failed_precondition when the tenant has no keys or is\n"
"quarantined, or when Alpaca has too few daily bars of the symbol (an\n"
"unknown symbol has none), and with the broker's error (for example\n"
"unauthenticated for keys Alpaca refuses) when the fetch fails; the\n"
"exit status is then 1. The reply timeout is 120 seconds unless -t is\n"
"given. With --json, the reply holds the signal as written, with its\n"
"\"id\" and \"job_id\".\n",
	.examples =
"tradepulse signal user_42 AAPL\n"
"tradepulse --json signal user_42 BRK.B\n",
	.run = signal_run,
};

/* signals */

static const struct cli_opt signals_opts[] = {
	{ "number", 'n', true, SIGNALS_N },
	{ NULL, 0, false, 0 },
};

static void
signals_print(json_object *result, const void *arg)
{
	static const char *const head[] = { "TIMESTAMP", "SYMBOL", "ACTION",
	    "CONFIDENCE", "PRICE", "ID" };
	json_object *list, *s;
	struct table *t;
	const char *row[6];
	size_t i, n;

	(void)arg;
	if (!json_object_object_get_ex(result, "signals", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		cli_warnx("malformed reply from the daemon: no \"signals\" "
		    "list");
		return;
	}
	if ((t = table_new(6, head)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(list, i);
		row[0] = cli_str(s, "timestamp", "?");
		row[1] = cli_str(s, "symbol", "?");
		row[2] = cli_str(s, "action", "?");
		row[3] = cli_str(s, "confidence", "?");
		row[4] = cli_str(s, "price", "?");
		row[5] = cli_str(s, "id", "?");
		if (table_add(t, row) == -1)
			break;
	}
	if (n > 0)
		table_print(t, stdout);
	printf("%zu signal%s\n", n, n == 1 ? "" : "s");
	table_free(t);
}

static int
signals_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req;
	const char *uid;
	long n = SIGNALS_MAX;
	char *end;
	int opt, rc;

	cli_args_init(&a, &cmd_signals, argc, argv);
	while ((opt = cli_args_next(cli, &a, signals_opts)) > 0) {
		n = strtol(a.optarg, &end, 10);
		if (*a.optarg == '\0' || *end != '\0' || n < 1 ||
		    n > SIGNALS_MAX)
			return cli_usage_error(&cmd_signals, "-n: \"%.20s\" is "
			    "not a count from 1 to %d", a.optarg, SIGNALS_MAX);
	}
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 1, 1, "UID")) != 0)
		return rc;
	uid = a.pos[0];
	if ((rc = cli_check_uid(&cmd_signals, uid)) != 0)
		return rc;
	if ((req = cli_request(API_OP_SIGNALS_LIST, uid)) == NULL)
		return CLI_EXIT_ERROR;
	json_object_object_add(req, "limit", json_object_new_int((int)n));
	return cli_exchange(cli, req, signals_print, NULL);
}

const struct cli_command cmd_signals = {
	.name = "signals",
	.synopsis = "signals UID [-n N]",
	.summary = "list a tenant's signals, newest first",
	.description =
"Lists the signals of the tenant UID (users/UID/signals), newest first\n"
"by their timestamp, as the seed's dashboard reads them: at most N\n"
"(default and maximum 100, as the seed's limit(100)). One line per\n"
"signal: TIMESTAMP, SYMBOL, ACTION, CONFIDENCE, PRICE and ID, then the\n"
"count. tradepulse --json signals UID prints every field of each one\n"
"(reasoning, indicators, strategy, parameters, bar_at, job_id).\n"
"\n"
"Fails with not_found for an unknown tenant.\n"
"\n"
"-n, --number N\n"
"       Show the N newest signals (1 to 100; default 100).\n",
	.examples =
"tradepulse signals user_42\n"
"tradepulse signals user_42 -n 10\n"
"tradepulse --json signals user_42\n",
	.run = signals_run,
};
