/* main.c: tradepulse, the operator's command line: global options, dispatch, help. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "common/api.h"

/* Every command; a new command is a new cmd_<name>.c and a line here. */
static const struct cli_command *const commands[] = {
	&cmd_keygen,
	&cmd_tenant,
	&cmd_keys,
	&cmd_trading,
	&cmd_pulse,
	&cmd_sync,
	&cmd_signal,
	&cmd_signals,
	&cmd_job,
	&cmd_status,
	&cmd_migrate,
	&cmd_trades,
	&cmd_logs,
	&cmd_crashes,
	&cmd_watch,
	&cmd_pause,
	&cmd_resume,
	NULL,
};

#define HELP_GLOBAL "[-f FILE] [-e ENDPOINT [--curve-key FILE " \
	"--server-key PUBKEY]] [--json] [-t SECONDS] [--token-file FILE]"

static const char help_description[] =
"tradepulse is the command line of the tradepulse daemon, tradepulsed(8),\n"
"for operators and scripts. Except for keygen without --rotate, every\n"
"command sends one request to the daemon's job API, the ZeroMQ endpoint\n"
"[daemon] api of the configuration file, waits for the reply, and prints\n"
"it as readable text, or with --json as the daemon's JSON reply.\n"
"\n"
"The uid rule is checked before anything is sent (1 to 128 characters of\n"
"A-Z, a-z, 0-9, '_' and '-'), but the daemon has the last word on every\n"
"request. Options may follow the command's arguments; a uid that starts\n"
"with '-' must come after \"--\".\n";

static const char help_options[] =
"-f FILE, --config FILE\n"
"       Read the configuration from FILE. The default is\n"
"       $TRADEPULSE_CONF, or when that is not set\n"
"       " CONFIG_DEFAULT_PATH "; if that default file does\n"
"       not exist, the built-in defaults are used. Only [daemon] api,\n"
"       [daemon] events (watch), [secrets] master_key and [daemon]\n"
"       user (keygen) are used.\n"
"-e ENDPOINT, --endpoint ENDPOINT\n"
"       Talk to the job API at ENDPOINT instead of [daemon] api (the\n"
"       configuration file is then not read for it): ipc://PATH, or\n"
"       tcp://HOST:PORT, which the daemon serves with CURVE only.\n"
"--curve-key FILE\n"
"       For a tcp:// endpoint: the file of this client's CURVE secret\n"
"       key (PREFIX.key of tradepulse keygen --curve; mode 0600, owned\n"
"       by you). The public key is derived from it; the daemon must\n"
"       list it in [auth] curve_clients. Keys are never taken on the\n"
"       command line.\n"
"--server-key PUBKEY\n"
"       For a tcp:// endpoint: the daemon's CURVE public key, as a .pub\n"
"       file or its 40 Z85 characters (tradepulsed logs it at start).\n"
"--json\n"
"       Print the daemon's whole reply object, compact on one line, on\n"
"       standard output: {\"ok\":true,\"result\":{...}} or\n"
"       {\"ok\":false,\"error\":{\"code\":...,\"message\":...}}. Exit\n"
"       statuses are the same as without --json. Also accepted after\n"
"       the command.\n"
"-t SECONDS, --timeout SECONDS\n"
"       Wait at most SECONDS (a decimal number, at most 86400) for each\n"
"       reply. The default is 30, and 300 for keygen --rotate.\n"
"--token-file FILE\n"
"       Send every request on the behalf of a signed-in user: add the\n"
"       Firebase ID token read from FILE (leading and trailing white\n"
"       space stripped) as the request's \"id_token\". The token is\n"
"       never taken from the command line, where other users could see\n"
"       it, and never printed. The daemon then allows only what that\n"
"       user may ask for their own uid (sync, signal, job); anything else\n"
"       is permission_denied, and a token that does not verify is\n"
"       unauthenticated. Also accepted after the command.\n"
"-h, --help\n"
"       Print this help. After a command, or as tradepulse help\n"
"       COMMAND, print the help of that command.\n"
"--version\n"
"       Print the version.\n";

static const char help_exit[] =
"0   Success.\n"
"1   The daemon answered with an error, printed on standard error as\n"
"    \"tradepulse: CODE: MESSAGE\" with the job API's error code\n"
"    (invalid_argument, not_found, already_exists, failed_precondition,\n"
"    permission_denied, unauthenticated, resource_exhausted,\n"
"    unavailable, internal); or a local operation failed (an\n"
"    unreadable configuration file, keygen on an existing file, a\n"
"    malformed reply, an empty secret); or the job that sync --wait\n"
"    waited for failed.\n"
"2   Usage error: unknown command or option, missing or extra\n"
"    argument, a bad uid, timeout or option value, a secret too long.\n"
"3   The daemon cannot be reached: no ipc socket file, connection\n"
"    refused or not permitted, or no reply within the timeout. The\n"
"    message says which and names the endpoint.\n";

static const char help_environment[] =
"TRADEPULSE_CONF\n"
"       The configuration file to read when -f is not given.\n";

static void
help_indent(FILE *fp, const char *text, int indent)
{
	const char *end;

	for (; *text != '\0'; text = end) {
		end = strchr(text, '\n');
		if (end == NULL)
			end = text + strlen(text);
		if (end > text)
			fprintf(fp, "%*s%.*s", indent, "", (int)(end - text),
			    text);
		fputc('\n', fp);
		if (*end == '\n')
			end++;
	}
}

static void
help_synopsis(FILE *fp, const struct cli_command *cmd)
{
	const char *line, *end;

	for (line = cmd->synopsis; *line != '\0'; line = end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		fprintf(fp, "     tradepulse [global options] %.*s\n",
		    (int)(end - line), line);
		if (*end == '\n')
			end++;
	}
}

void
cli_help_command(FILE *fp, const struct cli_command *cmd)
{
	fprintf(fp, "NAME\n     tradepulse %s - %s\n\nSYNOPSIS\n", cmd->name,
	    cmd->summary);
	help_synopsis(fp, cmd);
	fputs("\nDESCRIPTION\n", fp);
	help_indent(fp, cmd->description, 5);
	fputs("\nGLOBAL OPTIONS\n"
	    "     -f FILE (configuration file), --json (print the daemon's "
	    "reply as JSON),\n"
	    "     -t SECONDS (reply timeout): see tradepulse --help.\n"
	    "\nEXIT STATUS\n", fp);
	help_indent(fp, help_exit, 5);
	fputs("\nEXAMPLES\n", fp);
	help_indent(fp, cmd->examples, 5);
}

static void
help_full(FILE *fp)
{
	const struct cli_command *const *c;
	struct config def;
	struct tp_err err;
	bool have_def;
	const char *line, *end;

	fputs("NAME\n     tradepulse - administer the tradepulse daemon\n"
	    "\nSYNOPSIS\n"
	    "     tradepulse " HELP_GLOBAL " COMMAND [ARGUMENTS]\n"
	    "     tradepulse help [COMMAND]\n"
	    "     tradepulse -h | --help | --version\n"
	    "\nDESCRIPTION\n", fp);
	help_indent(fp, help_description, 5);
	fputs("\nOPTIONS\n", fp);
	help_indent(fp, help_options, 5);
	fputs("\nCOMMANDS\n", fp);
	for (c = commands; *c != NULL; c++) {
		for (line = (*c)->synopsis; *line != '\0'; line = end) {
			end = strchr(line, '\n');
			if (end == NULL)
				end = line + strlen(line);
			fprintf(fp, "     %.*s\n", (int)(end - line), line);
			if (*end == '\n')
				end++;
		}
		help_indent(fp, (*c)->description, 10);
		fputc('\n', fp);
	}
	fputs("     help [COMMAND]\n"
	    "          Print this help, or the help of COMMAND.\n"
	    "\nEXIT STATUS\n", fp);
	help_indent(fp, help_exit, 5);
	fputs("\nENVIRONMENT\n", fp);
	help_indent(fp, help_environment, 5);
	tp_err_clear(&err);
	have_def = config_defaults(&def, &err) == 0;
	fprintf(fp, "\nFILES\n     %s\n            the configuration file\n",
	    CONFIG_DEFAULT_PATH);
	if (have_def) {
		fprintf(fp, "     %s\n            the master key file "
		    "([secrets] master_key)\n", def.master_key);
		fprintf(fp, "     %s\n            the job API endpoint "
		    "([daemon] api)\n", def.api);
		config_free(&def);
	}
	fputs("\nEXAMPLES\n", fp);
	for (c = commands; *c != NULL; c++)
		help_indent(fp, (*c)->examples, 5);
	fputs("\nSEE ALSO\n     tradepulsed(8), tradepulse.conf(5)\n", fp);
}

static const struct cli_command *
main_find(const char *name)
{
	const struct cli_command *const *c;

	for (c = commands; *c != NULL; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

/* tradepulse help [COMMAND [SUBCOMMAND]] */
static int
main_help(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		help_full(stdout);
		return CLI_EXIT_OK;
	}
	if ((cmd = main_find(argv[1])) == NULL)
		return cli_usage_error(NULL, "no such command '%s'", argv[1]);
	cli_help_command(stdout, cmd);
	return CLI_EXIT_OK;
}

/*
 * Matches a global option that takes a value: -x VALUE, -xVALUE,
 * --long VALUE, --long=VALUE. Returns 1 and sets *val on a match, 0 when
 * arg is another option, -1 (after a usage error) when the value is
 * missing.
 */
static int
main_optval(int argc, char **argv, int *i, char s, const char *l,
    const char **val)
{
	const char *arg = argv[*i];
	size_t ll = strlen(l);

	if (arg[1] == s && arg[1] != '-') {
		if (arg[2] != '\0') {
			*val = arg + 2;
			return 1;
		}
	} else if (strncmp(arg + 2, l, ll) == 0 && arg[1] == '-' &&
	    (arg[2 + ll] == '\0' || arg[2 + ll] == '=')) {
		if (arg[2 + ll] == '=') {
			*val = arg + 3 + ll;
			return 1;
		}
	} else
		return 0;
	if (*i + 1 >= argc) {
		cli_usage_error(NULL, "option %s needs a value", arg);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

/* Reads the global options; *ind is then the command's index. */
static int
main_options(struct cli *cli, int argc, char **argv, int *ind)
{
	const char *val;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(arg, "--json") == 0) {
			cli->json = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			help_full(stdout);
			return -1;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("tradepulse %s (job API version %d)\n",
			    PACKAGE_VERSION, API_VERSION);
			return -1;
		}
		if ((rc = main_optval(argc, argv, &i, 'f', "config",
		    &val)) != 0) {
			if (rc == -1)
				return CLI_EXIT_USAGE;
			cli->conf_file = val;
			continue;
		}
		if ((rc = main_optval(argc, argv, &i, 'e', "endpoint",
		    &val)) != 0) {
			if (rc == -1)
				return CLI_EXIT_USAGE;
			cli->endpoint = val;
			continue;
		}
		if ((rc = main_optval(argc, argv, &i, 0, "curve-key",
		    &val)) != 0) {
			if (rc == -1)
				return CLI_EXIT_USAGE;
			cli->curve_key = val;
			continue;
		}
		if ((rc = main_optval(argc, argv, &i, 0, "server-key",
		    &val)) != 0) {
			if (rc == -1)
				return CLI_EXIT_USAGE;
			cli->server_key = val;
			continue;
		}
		if ((rc = cli_token_option(cli, NULL, argc, argv, &i)) != 0) {
			if (rc == -1)
				return CLI_EXIT_USAGE;
			continue;
		}
		if ((rc = main_optval(argc, argv, &i, 't', "timeout",
		    &val)) != 0) {
			if (rc == -1)
				return CLI_EXIT_USAGE;
			if (cli_parse_seconds(val, &cli->timeout_ms) == -1)
				return cli_usage_error(NULL, "bad timeout "
				    "'%s': seconds, more than 0 and at most "
				    "%g", val, CLI_TIMEOUT_MAX_S);
			cli->timeout_set = true;
			continue;
		}
		return cli_usage_error(NULL, "unknown option %s", arg);
	}
	*ind = i;
	return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct cli cli;
	const struct cli_command *cmd;
	int ind = argc, rc;

	memset(&cli, 0, sizeof(cli));
	cli.timeout_ms = CLI_TIMEOUT_MS;

	if ((rc = main_options(&cli, argc, argv, &ind)) != CLI_EXIT_OK)
		rc = rc == -1 ? CLI_EXIT_OK : rc;
	else if (ind >= argc)
		rc = cli_usage_error(NULL, "missing command");
	else if (strcmp(argv[ind], "help") == 0)
		rc = main_help(argc - ind, argv + ind);
	else if ((cmd = main_find(argv[ind])) == NULL)
		rc = cli_usage_error(NULL, "unknown command '%s'", argv[ind]);
	else
		rc = cmd->run(&cli, argc - ind, argv + ind);

	cli_disconnect(&cli);
	if (cli.id_token != NULL) {
		sodium_memzero(cli.id_token, strlen(cli.id_token));
		free(cli.id_token);
	}
	if (cli.cfg_loaded)
		config_free(&cli.cfg);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_warnx("error writing to standard output");
		if (rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
	}
	return rc;
}
