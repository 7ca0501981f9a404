/* cmd_keygen.c: tradepulse keygen: create the master key file, or have the daemon rotate it; make a CURVE key pair. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/curve.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/secrets.h"

#define KEYGEN_ROTATE_TIMEOUT_MS (300 * 1000)
#define KEYGEN_CURVE_PREFIX	"curve"	/* curve.key, curve.pub */

enum { KEYGEN_ROTATE = 1, KEYGEN_OUTPUT, KEYGEN_CURVE, KEYGEN_OUT };

static const struct cli_opt keygen_opts[] = {
	{ "rotate", 0, false, KEYGEN_ROTATE },
	{ "output", 'o', true, KEYGEN_OUTPUT },
	{ "curve", 0, false, KEYGEN_CURVE },
	{ "out", 0, true, KEYGEN_OUT },
	{ NULL, 0, false, 0 },
};

/* A local failure: a message, and with --json an error object too. */
static int
keygen_fail(struct cli *cli, enum tp_code code, const char *msg)
{
	json_object *o, *e;

	if (cli->json && (o = json_object_new_object()) != NULL) {
		e = json_object_new_object();
		json_object_object_add(e, "code",
		    json_object_new_string(tp_code_name(code)));
		json_object_object_add(e, "message",
		    json_object_new_string(msg));
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", e);
		cli_print_json(o);
		json_object_put(o);
	}
	cli_warnx("%s", msg);
	return CLI_EXIT_ERROR;
}

/*
 * Run as root, keygen gives the new key file to [daemon] user: the daemon
 * drops to that user before it reads the key, and refuses a key file it
 * does not own. The folder may be that user's (keys.rotate writes there),
 * so the file is reopened without following links and changed only if it
 * is still the regular, root-owned, single-link file just made.
 * Returns 0 and the owner's name in *owner (NULL: left as it was), or -1
 * with a message in msg.
 */
static int
keygen_give(const char *file, const char *user, const char **owner,
    char *msg, size_t size)
{
	const struct passwd *pw;
	struct stat st;
	int fd, rc = -1;

	*owner = NULL;
	if (geteuid() != 0 || user == NULL || *user == '\0' ||
	    strcmp(user, "root") == 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		cli_warnx("note: there is no user %s ([daemon] user) yet, so "
		    "%s stays root's: chown %s it before the daemon starts",
		    user, file, user);
		return 0;
	}
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(msg, size, "cannot reopen %s to give it to %s: %s",
		    file, user, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    st.st_nlink != 1)
		snprintf(msg, size, "%s changed after it was written; not "
		    "giving it to %s", file, user);
	else if (fchown(fd, pw->pw_uid, pw->pw_gid) == -1)
		snprintf(msg, size, "cannot give %s to %s (%s): chown %s it",
		    file, user, strerror(errno), user);
	else {
		*owner = user;
		rc = 0;
	}
	close(fd);
	return rc;
}

static int
keygen_create(struct cli *cli, const char *output)
{
	const struct config *cfg;
	const char *file = output, *user = NULL, *owner;
	struct tp_err err;
	struct stat st;
	char msg[TP_ERR_MSG_MAX + PATH_MAX + 256], dir[PATH_MAX];
	json_object *o, *r;
	int rc;

	if (file == NULL) {
		if ((rc = cli_config(cli, &cfg)) != CLI_EXIT_OK)
			return rc;
		file = cfg->master_key;
		if (file == NULL || *file == '\0') {
			snprintf(msg, sizeof(msg), "%s: no [secrets] "
			    "master_key; use --output FILE", cli->cfg_path);
			return keygen_fail(cli, TP_INVALID_ARGUMENT, msg);
		}
		user = cfg->daemon_user;
	}
	/* Overwriting a key would make every stored secret unreadable. */
	if (lstat(file, &st) == 0) {
		snprintf(msg, sizeof(msg), "%s already exists: refusing to "
		    "overwrite a master key (keygen --rotate adds a new key "
		    "version)", file);
		return keygen_fail(cli, TP_ALREADY_EXISTS, msg);
	}
	/* The folder is not made here: its owner and mode are the point. */
	if (path_fs_dirname(file, dir, sizeof(dir)) == 0 &&
	    stat(dir, &st) == -1 && errno == ENOENT) {
		snprintf(msg, sizeof(msg), "folder %s does not exist: make "
		    "install-service makes the default one; otherwise make it "
		    "0700, owned by [daemon] user", dir);
		return keygen_fail(cli, TP_NOT_FOUND, msg);
	}
	tp_err_clear(&err);
	if (secrets_init(&err) == -1 || secrets_keygen(file, &err) == -1)
		return keygen_fail(cli, err.code, err.msg);
	if (keygen_give(file, user, &owner, msg, sizeof(msg)) == -1)
		return keygen_fail(cli, TP_UNAVAILABLE, msg);
	if (!cli->json) {
		if (owner != NULL)
			printf("wrote master key version 1 to %s (owner %s)\n",
			    file, owner);
		else
			printf("wrote master key version 1 to %s\n", file);
		return CLI_EXIT_OK;
	}
	if ((o = json_object_new_object()) == NULL ||
	    (r = json_object_new_object()) == NULL) {
		json_object_put(o);
		cli_warnx("out of memory");
		return CLI_EXIT_ERROR;
	}
	json_object_object_add(r, "file", json_object_new_string(file));
	json_object_object_add(r, "key_version", json_object_new_int(1));
	if (owner != NULL)
		json_object_object_add(r, "owner",
		    json_object_new_string(owner));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", r);
	cli_print_json(o);
	json_object_put(o);
	return CLI_EXIT_OK;
}

/* A CURVE key pair: PREFIX.key (secret, 0600) and PREFIX.pub; the public
 * key is printed, the secret one never. */
static int
keygen_curve(struct cli *cli, const char *prefix)
{
	char pub[CURVE_Z85_LEN + 1], file[4200];
	struct tp_err err;
	json_object *o, *r;

	tp_err_clear(&err);
	if (curve_keygen(prefix, pub, &err) == -1)
		return keygen_fail(cli, err.code, err.msg);
	if (!cli->json) {
		printf("%s\n", pub);
		fprintf(stderr, "tradepulse: wrote the secret key to %s.key "
		    "(mode 0600) and the public key to %s.pub\n", prefix,
		    prefix);
		return CLI_EXIT_OK;
	}
	if ((o = json_object_new_object()) == NULL ||
	    (r = json_object_new_object()) == NULL) {
		json_object_put(o);
		cli_warnx("out of memory");
		return CLI_EXIT_ERROR;
	}
	json_object_object_add(r, "public_key", json_object_new_string(pub));
	snprintf(file, sizeof(file), "%s.key", prefix);
	json_object_object_add(r, "secret_file", json_object_new_string(file));
	snprintf(file, sizeof(file), "%s.pub", prefix);
	json_object_object_add(r, "public_file", json_object_new_string(file));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", r);
	cli_print_json(o);
	json_object_put(o);
	return CLI_EXIT_OK;
}

static void
keygen_rotate_print(json_object *result, const void *arg)
{
	json_object *v;

	(void)arg;
	printf("master key version %s; ",
	    cli_text(json_object_object_get_ex(result, "key_version", &v) ?
	    v : NULL));
	printf("re-encrypted %s secrets ",
	    cli_text(json_object_object_get_ex(result, "resealed", &v) ?
	    v : NULL));
	printf("of %s tenants\n",
	    cli_text(json_object_object_get_ex(result, "tenants", &v) ?
	    v : NULL));
}

static int
keygen_rotate(struct cli *cli)
{
	json_object *req;

	/* Re-encrypting every secret of a large store takes a while. */
	if (!cli->timeout_set)
		cli->timeout_ms = KEYGEN_ROTATE_TIMEOUT_MS;
	if ((req = cli_request(API_OP_KEYS_ROTATE, NULL)) == NULL)
		return CLI_EXIT_ERROR;
	return cli_exchange(cli, req, keygen_rotate_print, NULL);
}

static int
keygen_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	const char *output = NULL, *out = NULL;
	bool rotate = false, curve = false;
	int opt, rc;

	cli_args_init(&a, &cmd_keygen, argc, argv);
	while ((opt = cli_args_next(cli, &a, keygen_opts)) > 0) {
		if (opt == KEYGEN_ROTATE)
			rotate = true;
		else if (opt == KEYGEN_CURVE)
			curve = true;
		else if (opt == KEYGEN_OUT)
			out = a.optarg;
		else
			output = a.optarg;
	}
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 0, "")) != 0)
		return rc;
	if (output != NULL && *output == '\0')
		return cli_usage_error(&cmd_keygen, "empty --output file name");
	if (out != NULL && !curve)
		return cli_usage_error(&cmd_keygen, "--out PREFIX is for "
		    "--curve (the master key file is --output FILE)");
	if (curve && (rotate || output != NULL))
		return cli_usage_error(&cmd_keygen, "--curve cannot be used "
		    "with --rotate or --output");
	if (out != NULL && *out == '\0')
		return cli_usage_error(&cmd_keygen, "empty --out prefix");
	if (curve)
		return keygen_curve(cli, out != NULL ? out :
		    KEYGEN_CURVE_PREFIX);
	if (rotate && output != NULL)
		return cli_usage_error(&cmd_keygen, "--output cannot be used "
		    "with --rotate: the daemon rotates its own key file");
	return rotate ? keygen_rotate(cli) : keygen_create(cli, output);
}

const struct cli_command cmd_keygen = {
	.name = "keygen",
	.synopsis = "keygen [--rotate] [--output FILE]\n"
"keygen --curve [--out PREFIX]",
	.summary = "create the master key file, rotate the master key, or "
	    "make a CURVE key pair",
	.description =
"Without --rotate, creates the master key file with which\n"
"tradepulsed encrypts the tenants' secrets: a new file of mode 0600\n"
"holding key version 1, at [secrets] master_key of the\n"
"configuration file or at FILE, and prints \"wrote master key\n"
"version 1 to FILE\". An existing file is never overwritten (exit\n"
"status 1). This does not talk to the daemon: run it once, before\n"
"the first start. Run as root, it gives the file to [daemon] user\n"
"(the daemon reads it as that user) and says \"(owner USER)\"; its\n"
"folder must exist (make install-service makes the default one,\n"
"owned by that user, as keys.rotate writes beside the file).\n"
"\n"
"With --rotate, asks the running daemon to add a new master key\n"
"version to its key file and to re-encrypt every tenant secret\n"
"under it, and prints \"master key version N; re-encrypted M\n"
"secrets of K tenants\". Older versions stay in the file. On a\n"
"large store this takes a while: the reply timeout is 300 seconds\n"
"unless -t is given.\n"
"\n"
"--rotate\n"
"       Rotate the daemon's master key, as above.\n"
"-o FILE, --output FILE\n"
"       Create FILE instead of [secrets] master_key (the\n"
"       configuration file is then not read, and FILE keeps the\n"
"       owner who ran keygen). Not with --rotate.\n"
"--curve\n"
"       Make a CURVE key pair for a tcp:// job API instead: writes\n"
"       PREFIX.key (the secret key, mode 0600) and PREFIX.pub (the\n"
"       public key), and prints the public key. Neither file is ever\n"
"       overwritten; they belong to whoever runs keygen. For the\n"
"       daemon, [auth] curve_server_key names PREFIX.key, which must\n"
"       be the daemon's user's (chown it when made as root); for a\n"
"       client, --curve-key names it and the daemon's [auth]\n"
"       curve_clients lists PREFIX.pub's key with a name and a role.\n"
"       Does not talk to the daemon.\n"
"--out PREFIX\n"
"       With --curve: the files' prefix; the default is \"curve\"\n"
"       (curve.key and curve.pub in the current folder).\n",
	.examples =
"tradepulse keygen\n"
"tradepulse keygen --output /srv/tradepulse/keys/master.key\n"
"tradepulse keygen --rotate\n"
"tradepulse keygen --curve --out /etc/tradepulse/private/api\n",
	.run = keygen_run,
};
