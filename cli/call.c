/* call.c: finding the daemon through the config, and one request/reply exchange with it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "common/idtoken.h"
#include "common/jsonutil.h"

/*
 * The only keys the CLI uses: where the daemon and its events are, and
 * where keygen puts the master key and whom it gives it to. A daemon
 * setting the daemon would refuse (a bad [workers] value, say) must not
 * keep an operator from `status`. The
 * CURVE client keys are options (--curve-key, --server-key).
 */
static const char *const cli_config_keys[] = {
	"daemon.api", "daemon.events", "secrets.master_key", "daemon.user",
	NULL,
};

int
cli_config(struct cli *cli, const struct config **cfg)
{
	struct tp_err err;
	const char *env = getenv("TRADEPULSE_CONF");
	bool chosen = cli->conf_file != NULL || (env != NULL && *env != '\0');

	if (cli->cfg_loaded) {
		*cfg = &cli->cfg;
		return CLI_EXIT_OK;
	}
	tp_err_clear(&err);
	cli->cfg_path = cli->conf_file != NULL ? cli->conf_file :
	    config_default_path();
	/*
	 * A file named with -f or $TRADEPULSE_CONF must be there; without
	 * one, a machine with no config file uses the built-in defaults.
	 */
	if (!chosen && access(cli->cfg_path, F_OK) == -1 && errno == ENOENT) {
		if (config_defaults(&cli->cfg, &err) == -1) {
			cli_warnx("%s", err.msg);
			return CLI_EXIT_ERROR;
		}
		cli->cfg_defaulted = true;
	} else if (config_load_keys(cli->cfg_path, &cli->cfg, cli_config_keys,
	    &err) == -1) {
		cli_warnx("%s", err.msg);
		return CLI_EXIT_ERROR;
	}
	cli->cfg_loaded = true;
	*cfg = &cli->cfg;
	return CLI_EXIT_OK;
}

/* Failures of the transport: exit 3 when the daemon cannot be reached. */
static int
cli_transport_error(struct cli *cli, const char *endpoint,
    const struct tp_err *err)
{
	switch (err->code) {
	case TP_UNAVAILABLE:
	case TP_DEADLINE_EXCEEDED:
		if (cli->quiet_unreachable)
			return CLI_EXIT_UNREACHABLE;
		cli_warnx("cannot reach the daemon at %s: %s", endpoint,
		    err->msg);
		if (cli->cfg_defaulted)
			cli_warnx("note: there is no %s, so the built-in "
			    "endpoint was used (see -f)", cli->cfg_path);
		return CLI_EXIT_UNREACHABLE;
	default:
		cli_warnx("%s", err->msg);
		return CLI_EXIT_ERROR;
	}
}

int
cli_connect(struct cli *cli)
{
	const struct config *cfg;
	struct tp_err err;
	int rc;

	const char *ep = cli->endpoint;

	if (cli->client != NULL)
		return CLI_EXIT_OK;
	/* -e needs no configuration file */
	if (ep == NULL) {
		if ((rc = cli_config(cli, &cfg)) != CLI_EXIT_OK)
			return rc;
		if (cfg->api == NULL || *cfg->api == '\0') {
			cli_warnx("%s: no [daemon] api endpoint",
			    cli->cfg_path);
			return CLI_EXIT_ERROR;
		}
		ep = cfg->api;
	}
	tp_err_clear(&err);
	if ((cli->client = client_open(ep, cli->curve_key, cli->server_key,
	    &err)) == NULL)
		return cli_transport_error(cli, ep, &err);
	return CLI_EXIT_OK;
}

void
cli_disconnect(struct cli *cli)
{
	client_free(cli->client);
	cli->client = NULL;
}

/* Checks the reply's shape; prints a daemon error. */
static int
cli_reply(struct cli *cli, json_object *reply, json_object **result)
{
	json_object *error, *res;
	const char *code, *message;
	bool ok;

	if (!json_object_is_type(reply, json_type_object) ||
	    !json_get_bool(reply, "ok", &ok)) {
		cli_warnx("malformed reply from the daemon: no \"ok\"");
		return CLI_EXIT_ERROR;
	}
	if (ok) {
		if (!json_object_object_get_ex(reply, "result", &res) ||
		    !json_object_is_type(res, json_type_object)) {
			cli_warnx("malformed reply from the daemon: no "
			    "\"result\"");
			return CLI_EXIT_ERROR;
		}
		*result = res;
		return CLI_EXIT_OK;
	}
	error = json_get_obj(reply, "error");
	code = cli_str(error, "code", "internal");
	/* a daemon stopping says so: a follower waits for the next one */
	if (cli->quiet_unreachable && strcmp(code, "unavailable") == 0)
		return CLI_EXIT_UNREACHABLE;
	if (cli->json)
		cli_print_json(reply);
	message = cli_str(error, "message", "(no message)");
	cli_warnx("%s: %s", code, message);
	return CLI_EXIT_ERROR;
}

int
cli_token_option(struct cli *cli, const struct cli_command *cmd, int argc,
    char **argv, int *i)
{
	const char *arg = argv[*i];

	if (strncmp(arg, "--token-file", 12) != 0 ||
	    (arg[12] != '\0' && arg[12] != '='))
		return 0;
	if (arg[12] == '=')
		cli->token_file = arg + 13;
	else if (*i + 1 < argc)
		cli->token_file = argv[++*i];
	else {
		cli_usage_error(cmd, "option --token-file needs a value");
		return -1;
	}
	if (*cli->token_file == '\0') {
		cli_usage_error(cmd, "option --token-file: the file name is "
		    "empty");
		return -1;
	}
	return 1;
}

/* A JWT's characters: base64url and the two dots. */
static bool
cli_token_chars(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.") == strlen(s);
}

int
cli_token_load(struct cli *cli)
{
	char buf[IDTOKEN_MAX + 2];
	size_t len = 0, start = 0;
	ssize_t r;
	int fd;

	if (cli->token_file == NULL || cli->id_token != NULL)
		return CLI_EXIT_OK;
	if ((fd = open(cli->token_file, O_RDONLY | O_CLOEXEC)) == -1)
		return cli_usage_error(NULL, "--token-file %s: %s",
		    cli->token_file, strerror(errno));
	while (len < sizeof(buf) - 1 &&
	    (r = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			close(fd);
			return cli_usage_error(NULL, "--token-file %s: %s",
			    cli->token_file, strerror(errno));
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	while (start < len && strchr(" \t\r\n", buf[start]) != NULL)
		start++;
	while (len > start && strchr(" \t\r\n", buf[len - 1]) != NULL)
		buf[--len] = '\0';
	/* the daemon refuses longer ones; say so here, without the token */
	if (len == start || len - start > IDTOKEN_MAX ||
	    !cli_token_chars(buf + start)) {
		sodium_memzero(buf, sizeof(buf));
		return cli_usage_error(NULL, "--token-file %s: not an ID token "
		    "(one line of at most %d characters of base64url and "
		    "dots)", cli->token_file, IDTOKEN_MAX);
	}
	cli->id_token = strdup(buf + start);
	sodium_memzero(buf, sizeof(buf));
	if (cli->id_token == NULL) {
		cli_warnx("out of memory");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int
cli_call_raw(struct cli *cli, const char *buf, size_t len, bool borrowed,
    json_object **reply, json_object **result)
{
	struct tp_err err;
	int rc;

	*reply = NULL;
	*result = NULL;
	/* a borrowed buffer holds a secret (keys set), an operator's
	 * request: never sent on a user's behalf */
	if (borrowed && cli->token_file != NULL)
		return cli_usage_error(NULL, "--token-file: this command is an "
		    "operator's; it is not sent on a user's behalf");
	if ((rc = cli_connect(cli)) != CLI_EXIT_OK)
		return rc;
	tp_err_clear(&err);
	if (client_call(cli->client, buf, len, borrowed, cli->timeout_ms,
	    reply, &err) == -1) {
		rc = cli_transport_error(cli, client_endpoint(cli->client),
		    &err);
		/* A late reply must never be taken for the next request's. */
		cli_disconnect(cli);
		return rc;
	}
	if ((rc = cli_reply(cli, *reply, result)) != CLI_EXIT_OK) {
		json_object_put(*reply);
		*reply = NULL;
		*result = NULL;
	}
	return rc;
}

int
cli_call(struct cli *cli, json_object *req, json_object **reply,
    json_object **result)
{
	const char *buf;
	size_t len;
	int rc;

	if ((rc = cli_token_load(cli)) != CLI_EXIT_OK)
		return rc;
	if (cli->id_token != NULL && json_add(req, "id_token",
	    json_object_new_string(cli->id_token)) == -1) {
		cli_warnx("out of memory");
		return CLI_EXIT_ERROR;
	}
	if ((buf = json_compact(req, &len)) == NULL) {
		cli_warnx("cannot serialize the request");
		return CLI_EXIT_ERROR;
	}
	return cli_call_raw(cli, buf, len, false, reply, result);
}

/* Adds the string field key to req; -1 when out of memory. */
static int
cli_request_str(json_object *req, const char *key, const char *value)
{
	json_object *v;

	if ((v = json_object_new_string(value)) == NULL)
		return -1;
	return json_add(req, key, v);
}

json_object *
cli_request(const char *op, const char *uid)
{
	json_object *req;

	if ((req = json_object_new_object()) == NULL ||
	    cli_request_str(req, "op", op) == -1 ||
	    (uid != NULL && cli_request_str(req, "uid", uid) == -1)) {
		json_object_put(req);
		cli_warnx("out of memory");
		return NULL;
	}
	return req;
}

int
cli_exchange(struct cli *cli, json_object *req,
    void (*print)(json_object *result, const void *arg), const void *arg)
{
	json_object *reply, *result;
	int rc;

	rc = cli_call(cli, req, &reply, &result);
	json_object_put(req);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(reply);
	else if (print != NULL)
		print(result, arg);
	json_object_put(reply);
	return CLI_EXIT_OK;
}
