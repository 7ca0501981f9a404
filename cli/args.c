/* args.c: parsing the options and arguments of a command, and usage errors. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/path.h"

void
cli_args_init(struct cli_args *a, const struct cli_command *cmd,
    int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->argc = argc;
	a->argv = argv;
	a->ind = 1;		/* argv[0] is the command's name */
}

static const struct cli_opt *
args_find_long(const struct cli_opt *opts, const char *name, size_t len)
{
	for (; opts != NULL && opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct cli_opt *
args_find_short(const struct cli_opt *opts, int c)
{
	for (; opts != NULL && opts->name != NULL; opts++)
		if (opts->short_name != 0 && opts->short_name == c)
			return opts;
	return NULL;
}

/* A long option: --name, --name=value, --name value. */
static int
args_long(struct cli *cli, struct cli_args *a, const struct cli_opt *opts,
    const char *arg)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct cli_opt *o;

	if (eq == NULL && strcmp(name, "json") == 0) {
		cli->json = true;
		return 0;
	}
	if (strncmp(name, "token-file", len) == 0 && len == 10) {
		int i = a->ind - 1;

		if (cli_token_option(cli, a->cmd, a->argc, a->argv, &i) == -1)
			return CLI_ARGS_BAD;
		a->ind = i + 1;
		return 0;
	}
	if (eq == NULL && strcmp(name, "help") == 0) {
		cli_help_command(stdout, a->cmd);
		return CLI_ARGS_HELP;
	}
	if ((o = args_find_long(opts, name, len)) == NULL) {
		cli_usage_error(a->cmd, "unknown option --%.*s%s", (int)len,
		    name, " (put -- before an argument that starts with '-')");
		return CLI_ARGS_BAD;
	}
	if (!o->has_arg) {
		if (eq != NULL) {
			cli_usage_error(a->cmd, "option --%s takes no value",
			    o->name);
			return CLI_ARGS_BAD;
		}
		a->optarg = NULL;
		return o->id;
	}
	if (eq != NULL)
		a->optarg = eq + 1;
	else if (a->ind < a->argc)
		a->optarg = a->argv[a->ind++];
	else {
		cli_usage_error(a->cmd, "option --%s needs a value", o->name);
		return CLI_ARGS_BAD;
	}
	return o->id;
}

/* A short option: -x, -x value, -xvalue. */
static int
args_short(struct cli_args *a, const struct cli_opt *opts, const char *arg)
{
	const struct cli_opt *o;

	if (strcmp(arg, "-h") == 0) {
		cli_help_command(stdout, a->cmd);
		return CLI_ARGS_HELP;
	}
	o = args_find_short(opts, (unsigned char)arg[1]);
	if (o == NULL || (!o->has_arg && arg[2] != '\0')) {
		cli_usage_error(a->cmd, "unknown option %s%s", arg,
		    " (put -- before an argument that starts with '-')");
		return CLI_ARGS_BAD;
	}
	if (!o->has_arg) {
		a->optarg = NULL;
		return o->id;
	}
	if (arg[2] != '\0')
		a->optarg = arg + 2;
	else if (a->ind < a->argc)
		a->optarg = a->argv[a->ind++];
	else {
		cli_usage_error(a->cmd, "option -%c needs a value",
		    o->short_name);
		return CLI_ARGS_BAD;
	}
	return o->id;
}

int
cli_args_next(struct cli *cli, struct cli_args *a, const struct cli_opt *opts)
{
	int rc;

	while (a->ind < a->argc) {
		char *arg = a->argv[a->ind++];

		if (a->no_more_opts || arg[0] != '-' || arg[1] == '\0') {
			if ((size_t)a->npos ==
			    sizeof(a->pos) / sizeof(a->pos[0])) {
				cli_usage_error(a->cmd, "too many arguments");
				return CLI_ARGS_BAD;
			}
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			a->no_more_opts = true;
			continue;
		}
		rc = arg[1] == '-' ? args_long(cli, a, opts, arg) :
		    args_short(a, opts, arg);
		if (rc != 0)
			return rc;
	}
	return CLI_ARGS_END;
}

int
cli_dispatch(struct cli *cli, const struct cli_command *cmd,
    const struct cli_sub *subs, int argc, char **argv)
{
	const struct cli_sub *s;
	char names[256];
	size_t len = 0;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			cli->json = true;
		else if (strncmp(argv[i], "--token-file", 12) == 0) {
			if (cli_token_option(cli, cmd, argc, argv, &i) != 1)
				return CLI_EXIT_USAGE;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			cli_help_command(stdout, cmd);
			return CLI_EXIT_OK;
		} else
			return cli_usage_error(cmd, "unknown option %s",
			    argv[i]);
	}
	if (i < argc)
		for (s = subs; s->name != NULL; s++)
			if (strcmp(s->name, argv[i]) == 0)
				return s->run(cli, argc - i, argv + i);
	/* "add, list or show" */
	names[0] = '\0';
	for (s = subs; s->name != NULL && len < sizeof(names); s++)
		len += snprintf(names + len, sizeof(names) - len, "%s%s",
		    s == subs ? "" : s[1].name == NULL ? " or " : ", ",
		    s->name);
	if (i == argc)
		return cli_usage_error(cmd, "missing subcommand: %s", names);
	return cli_usage_error(cmd, "unknown subcommand '%s': %s", argv[i],
	    names);
}

int
cli_args_count(struct cli_args *a, int min, int max, const char *what)
{
	if (a->npos < min)
		return cli_usage_error(a->cmd, "missing %s", what);
	if (a->npos > max)
		return cli_usage_error(a->cmd, "unexpected argument '%s'",
		    a->pos[max]);
	return 0;
}

int
cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	char msg[1024];
	const char *line, *end;
	va_list ap;
	bool first = true;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_warnx("%s", msg);
	if (cmd == NULL) {
		fprintf(stderr, "usage: tradepulse [-f FILE] [--json] "
		    "[-t SECONDS] [--token-file FILE] COMMAND [ARGUMENTS]\n"
		    "Try 'tradepulse --help'.\n");
		return CLI_EXIT_USAGE;
	}
	for (line = cmd->synopsis; *line != '\0'; line = end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		fprintf(stderr, "%s tradepulse %.*s\n",
		    first ? "usage:" : "      ", (int)(end - line), line);
		first = false;
		if (*end == '\n')
			end++;
	}
	fprintf(stderr, "Try 'tradepulse help %s'.\n", cmd->name);
	return CLI_EXIT_USAGE;
}

int
cli_check_uid(const struct cli_command *cmd, const char *uid)
{
	if (path_valid_uid(uid))
		return 0;
	/* A bad uid may be long: show its start only. */
	return cli_usage_error(cmd, "invalid uid '%.40s%s': a uid is 1 to %d "
	    "characters of A-Z, a-z, 0-9, '_' and '-'", uid,
	    strlen(uid) > 40 ? "..." : "", UID_MAX_LEN);
}

int
cli_parse_seconds(const char *s, int *ms)
{
	const char *p;
	char *end;
	double v;
	bool digit = false;

	/* Plain decimal only: no sign, exponent, hex, inf or nan. */
	for (p = s; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (*p != '.')
			return -1;
	}
	if (!digit)
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v) || v <= 0 || v > CLI_TIMEOUT_MAX_S)
		return -1;
	/* Rounded up, so a tiny timeout is never zero. */
	*ms = (int)(v * 1000.0);
	if ((double)*ms < v * 1000.0)
		(*ms)++;
	return 0;
}
