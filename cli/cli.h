/* cli.h: what the parts of the tradepulse command line share: options, commands, calls, output. */
#ifndef TP_CLI_H
#define TP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "common/config.h"
#include "common/error.h"

/* Exit status (documented in the help's EXIT STATUS section). */
#define CLI_EXIT_OK		0	/* done */
#define CLI_EXIT_ERROR		1	/* the daemon said no; a local error */
#define CLI_EXIT_USAGE		2	/* bad command line or input */
#define CLI_EXIT_UNREACHABLE	3	/* no socket, refused, no reply */

#define CLI_TIMEOUT_MS		(30 * 1000)	/* default reply timeout */
#define CLI_TIMEOUT_MAX_S	86400.0		/* largest -t accepted */
#define CLI_REPLY_MAX		(16 * 1024 * 1024)	/* largest reply */

struct client;

/* The state of one run: global options, the config, the connection. */
struct cli {
	const char *conf_file;		/* -f, or NULL for the default */
	bool json;			/* --json */
	int timeout_ms;			/* -t, or CLI_TIMEOUT_MS */
	bool timeout_set;		/* -t was given */
	const char *token_file;		/* --token-file: act for a user */
	char *id_token;			/* read from it at the first call */

	struct config cfg;
	bool cfg_loaded;
	bool cfg_defaulted;		/* no default file: built-in values */
	const char *cfg_path;		/* the file looked for */

	struct client *client;		/* opened on the first call */

	/* the endpoint and its CURVE keys (tcp://) */
	const char *endpoint;		/* -e, or NULL: [daemon] api */
	const char *curve_key;		/* --curve-key: our secret key file */
	const char *server_key;		/* --server-key: a .pub file or Z85 */

	bool quiet_unreachable;		/* a follower retrying: no message
					   when the daemon cannot be reached */
};

/*
 * A command (or a group of subcommands). Each lives in its own
 * cmd_<name>.c and is listed once in main.c, so a new command is a new
 * file and one line. run() gets argv with argv[0] = the command's name
 * and returns an exit status.
 */
struct cli_command {
	const char *name;
	const char *synopsis;		/* lines, without "tradepulse " */
	const char *summary;		/* one line for the command list */
	const char *description;	/* paragraphs and options; the help
					 * indents every line */
	const char *examples;		/* one example a line */
	int (*run)(struct cli *cli, int argc, char **argv);
};

extern const struct cli_command cmd_keygen;
extern const struct cli_command cmd_tenant;
extern const struct cli_command cmd_keys;
extern const struct cli_command cmd_trading;
extern const struct cli_command cmd_status;
extern const struct cli_command cmd_sync;
extern const struct cli_command cmd_signal;
extern const struct cli_command cmd_signals;
extern const struct cli_command cmd_job;
extern const struct cli_command cmd_pulse;
extern const struct cli_command cmd_migrate;
extern const struct cli_command cmd_trades;
extern const struct cli_command cmd_logs;
extern const struct cli_command cmd_crashes;
extern const struct cli_command cmd_watch;
extern const struct cli_command cmd_pause;
extern const struct cli_command cmd_resume;

/* main.c: help. */
void cli_help_command(FILE *fp, const struct cli_command *cmd);

/* args.c: command-line parsing shared by the commands. */
struct cli_opt {
	const char *name;		/* long name, without "--" */
	int short_name;			/* 0 if none */
	bool has_arg;
	int id;				/* > 0, returned by cli_args_next */
};
struct cli_args {
	const struct cli_command *cmd;
	int argc;
	char **argv;
	int ind;			/* next argument to look at */
	bool no_more_opts;		/* "--" was seen */
	const char *optarg;		/* argument of the last option */
	int npos;			/* positional arguments so far */
	char *pos[8];
};
#define CLI_ARGS_END	(-1)		/* no more options */
#define CLI_ARGS_HELP	(-2)		/* -h/--help: help was printed */
#define CLI_ARGS_BAD	(-3)		/* usage error was printed */

void cli_args_init(struct cli_args *a, const struct cli_command *cmd,
    int argc, char **argv);
/*
 * Returns the id of the next option (options and positional arguments
 * may be mixed; "--" ends the options), CLI_ARGS_END when all of argv
 * was read (positional arguments are then in a->pos), or CLI_ARGS_HELP /
 * CLI_ARGS_BAD. --json and -h/--help are understood everywhere.
 */
int cli_args_next(struct cli *cli, struct cli_args *a,
    const struct cli_opt *opts);
/* A subcommand of a command group ("tenant add"). */
struct cli_sub {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
};
/* Runs the subcommand named by the first argument that is not --json or
 * -h/--help, with argv starting at its name; returns an exit status. */
int cli_dispatch(struct cli *cli, const struct cli_command *cmd,
    const struct cli_sub *subs, int argc, char **argv);
/* Checks that between min and max positional arguments were given;
 * what names them in the message ("UID"). Returns 0 or CLI_EXIT_USAGE. */
int cli_args_count(struct cli_args *a, int min, int max, const char *what);
/* Prints "tradepulse: MESSAGE" and the command's usage; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Local check of the uid rule (the daemon checks again): prints the
 * usage error and returns CLI_EXIT_USAGE when uid is not valid. */
int cli_check_uid(const struct cli_command *cmd, const char *uid);
/* Parses a timeout in seconds ("30", "0.5") into milliseconds. */
int cli_parse_seconds(const char *s, int *ms);

/* call.c: the configuration and one request/reply exchange. */
/* Loads the config once; returns an exit status. */
int cli_config(struct cli *cli, const struct config **cfg);
/* Connects to the daemon (done by the first call if not before), so a
 * command can fail early, before it asks for input; returns an exit
 * status. */
int cli_connect(struct cli *cli);
/*
 * Sends req and waits for the reply. Returns CLI_EXIT_OK with *reply
 * (the caller puts it) and *result (borrowed from *reply) when the daemon
 * answered ok; otherwise prints the error (and, with --json, the daemon's
 * reply on stdout) and returns CLI_EXIT_ERROR or CLI_EXIT_UNREACHABLE.
 */
int cli_call(struct cli *cli, json_object *req, json_object **reply,
    json_object **result);
/*
 * The same for a request already serialized by the caller. With borrowed
 * the buffer is handed to ZeroMQ without a copy and must stay unchanged
 * until cli_disconnect (used for requests that carry a secret).
 */
/* --token-file's ID token, read once (whitespace stripped); never shown.
 * CLI_EXIT_OK, or a usage error for a missing, empty or malformed file. */
int cli_token_load(struct cli *cli);
/* Takes --token-file FILE or --token-file=FILE at argv[*i] (global, also
 * after a command): 1 when taken, 0 when not this option, -1 on error. */
int cli_token_option(struct cli *cli, const struct cli_command *cmd,
    int argc, char **argv, int *i);
int cli_call_raw(struct cli *cli, const char *buf, size_t len,
    bool borrowed, json_object **reply, json_object **result);
/* Closes the connection; ZeroMQ holds no borrowed buffer afterwards. */
void cli_disconnect(struct cli *cli);
/* A request {"op": op}, with "uid" when uid is not NULL. Prints "out
 * of memory" and returns NULL when it cannot be built. */
json_object *cli_request(const char *op, const char *uid);
/*
 * The usual command's exchange: sends req (and puts it), then prints the
 * daemon's whole reply with --json, or else calls print (if not NULL)
 * with the reply's result, borrowed, and arg. Returns an exit status, as
 * cli_call.
 */
int cli_exchange(struct cli *cli, json_object *req,
    void (*print)(json_object *result, const void *arg), const void *arg);

/* cmd_job.c: a job's outcome on one line, into buf: "done: key id
 * ...WXYZ" (returns 0), "failed: CODE: MESSAGE" (returns 1), or its
 * state when it has not ended (returns -1). */
int cli_job_outcome(json_object *job, char *buf, size_t size);

/* client.c: the ZeroMQ transport. */
/*
 * Connects a DEALER socket to endpoint. Fails with TP_UNAVAILABLE when
 * the daemon cannot be reached (no ipc socket file, permission denied),
 * TP_INVALID_ARGUMENT for a bad endpoint.
 */
/* tcp:// needs curve_key (a secret key file, mode 0600) and server_key
 * (the daemon's public key: a .pub file or 40 Z85 characters); ipc://
 * takes neither (both NULL). */
struct client *client_open(const char *endpoint, const char *curve_key,
    const char *server_key, struct tp_err *err);
/*
 * Sends buf as one frame and waits up to timeout_ms for one reply frame,
 * which is parsed as JSON into *reply. Fails with TP_UNAVAILABLE
 * (refused, connection lost), TP_DEADLINE_EXCEEDED (no reply in time) or
 * TP_INTERNAL / TP_RESOURCE_EXHAUSTED (a malformed or oversized reply).
 * With borrowed, buf is not copied: it must stay valid until client_free.
 */
int client_call(struct client *c, const char *buf, size_t len,
    bool borrowed, int timeout_ms, json_object **reply, struct tp_err *err);
const char *client_endpoint(const struct client *c);
/* Whether the ipc socket file at path accepts a connection now; -1 with
 * TP_UNAVAILABLE saying why not (no file, permission, refused). */
int client_ipc_reachable(const char *path, struct tp_err *err);
void client_free(struct client *c);

/* output.c: printing. */
/* "tradepulse: " + message on stderr (control characters replaced). */
void cli_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints o compactly on one line on stdout. */
void cli_print_json(json_object *o);
/* Human text of a value: strings as they are, null as "-", numbers and
 * booleans as JSON, maps and arrays compactly. Borrowed from o. */
const char *cli_text(json_object *o);
/* The string field key of o, or dflt. */
const char *cli_str(json_object *o, const char *key, const char *dflt);
/* Formats a duration in milliseconds as "3d 4h 5m 6s" into buf. */
void cli_duration(char *buf, size_t size, long long ms);
/* Copies s into a fresh string with control characters (C0, DEL, C1)
 * replaced by '?', so text from the daemon cannot drive the terminal. */
char *cli_sanitize(const char *s);

/* table.c: aligned columns. */
struct table;
/* A table of ncols columns; headers may be NULL (no header line). */
struct table *table_new(size_t ncols, const char *const *headers);
/* Adds a row of ncols cells (copied, sanitized); -1 on allocation failure. */
int table_add(struct table *t, const char *const *cells);
/* Adds a "key:" / formatted value row to a two-column table. */
int table_kv(struct table *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t table_rows(const struct table *t);
/* Prints with columns padded to their widest cell (two spaces apart). */
void table_print(const struct table *t, FILE *fp);
void table_free(struct table *t);

#endif
