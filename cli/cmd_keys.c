/* cmd_keys.c: tradepulse keys set: store a tenant's Alpaca keys, the secret read from stdin. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/secrets.h"

/* Room for a '\r' before the '\n' of a CRLF line. */
#define KEYS_BUF (API_SECRET_MAX + 1)

enum { KEYS_KEY_ID = 1 };

static const struct cli_opt keys_opts[] = {
	{ "key-id", 'k', true, KEYS_KEY_ID },
	{ NULL, 0, false, 0 },
};

/* Signals that must not leave the terminal without echo. */
static const int keys_sigs[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
};
#define KEYS_NSIGS (sizeof(keys_sigs) / sizeof(keys_sigs[0]))

static volatile sig_atomic_t keys_signo;

static void
keys_catch(int sig)
{
	keys_signo = sig;
}

/*
 * Reads one line from fd into buf (cap bytes) a byte at a time, so that
 * nothing after the line is consumed and no stdio buffer keeps a copy.
 * *len is the length without the line end (LF or CRLF); *toolong is set
 * when the line did not fit (with drain, the rest of the line is read and
 * dropped). Returns -1 on a read error or a caught signal.
 */
static int
keys_read_line(int fd, char *buf, size_t cap, size_t *len, bool *toolong,
    bool drain)
{
	size_t n = 0;
	ssize_t r;
	char c = 0;
	int rc = 0;

	*toolong = false;
	for (;;) {
		if (keys_signo != 0) {
			rc = -1;
			break;
		}
		if ((r = read(fd, &c, 1)) == -1) {
			if (errno == EINTR && keys_signo == 0)
				continue;
			rc = -1;
			break;
		}
		if (r == 0 || c == '\n')
			break;
		if (n < cap)
			buf[n++] = c;
		else {
			*toolong = true;
			if (!drain)
				break;
		}
	}
	sodium_memzero(&c, sizeof(c));
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*len = n;
	return rc;
}

/*
 * Prompts on the terminal and reads the secret without echo. The
 * terminal is restored on every path; a signal is re-sent once it is
 * (after a stop, the prompt starts again).
 */
static int
keys_read_tty(const char *uid, char *buf, size_t cap, size_t *len,
    bool *toolong, struct tp_err *err)
{
	struct termios saved, quiet;
	struct sigaction sa, old[KEYS_NSIGS];
	bool caught[KEYS_NSIGS];
	char prompt[UID_MAX_LEN + 64];
	int out, rc, sig, saved_errno;
	size_t i;

	snprintf(prompt, sizeof(prompt), "Alpaca secret key for %s: ", uid);
	if ((out = open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		out = STDERR_FILENO;
again:
	keys_signo = 0;
	if (tcgetattr(STDIN_FILENO, &saved) == -1) {
		rc = tp_err_errno(err, TP_INTERNAL, "tcgetattr");
		goto done;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = keys_catch;	/* no SA_RESTART: read() must stop */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < KEYS_NSIGS; i++) {
		/* A signal ignored before (nohup) stays ignored. */
		caught[i] = sigaction(keys_sigs[i], NULL, &old[i]) == 0 &&
		    old[i].sa_handler != SIG_IGN &&
		    sigaction(keys_sigs[i], &sa, NULL) == 0;
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1) {
		saved_errno = errno;
		rc = -1;
	} else {
		(void)!write(out, prompt, strlen(prompt));
		rc = keys_read_line(STDIN_FILENO, buf, cap, len, toolong, true);
		saved_errno = errno;
		(void)!write(out, "\n", 1);	/* the Enter was not echoed */
		/* TCSAFLUSH also drops anything typed and not read. */
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	}
	for (i = 0; i < KEYS_NSIGS; i++)
		if (caught[i])
			sigaction(keys_sigs[i], &old[i], NULL);
	if ((sig = keys_signo) != 0) {
		sodium_memzero(buf, cap);
		kill(getpid(), sig);	/* now with its usual effect */
		if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			goto again;	/* continued after a stop */
		rc = tp_err_set(err, TP_FAILED_PRECONDITION, "interrupted by "
		    "signal %d", sig);
		goto done;
	}
	if (rc == -1) {
		errno = saved_errno;
		rc = tp_err_errno(err, TP_INTERNAL, "cannot read the secret "
		    "from the terminal");
	}
done:
	if (out != STDERR_FILENO)
		close(out);
	return rc;
}

/* Reads the secret into buf (KEYS_BUF bytes); returns an exit status. */
static int
keys_read_secret(const char *uid, char *buf, size_t *len)
{
	struct tp_err err;
	bool toolong;
	size_t i;

	tp_err_clear(&err);
	if (isatty(STDIN_FILENO)) {
		if (keys_read_tty(uid, buf, KEYS_BUF, len, &toolong,
		    &err) == -1) {
			cli_warnx("%s", err.msg);
			return CLI_EXIT_ERROR;
		}
	} else if (keys_read_line(STDIN_FILENO, buf, KEYS_BUF, len, &toolong,
	    false) == -1) {
		cli_warnx("cannot read the secret from standard input: %s",
		    strerror(errno));
		return CLI_EXIT_ERROR;
	}
	if (toolong || *len > API_SECRET_MAX)
		return cli_usage_error(&cmd_keys, "the secret is longer than "
		    "%d bytes", API_SECRET_MAX);
	if (*len == 0) {
		cli_warnx("empty secret: nothing was stored");
		return CLI_EXIT_ERROR;
	}
	for (i = 0; i < *len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return cli_usage_error(&cmd_keys, "the secret must be "
			    "printable ASCII (byte %zu is not)", i + 1);
	return CLI_EXIT_OK;
}

/*
 * Serializes the keys.set request into guarded memory (the caller
 * sodium_free()s it): json-c writes the other fields; the secret is
 * escaped straight into the buffer, so json-c never holds a copy.
 */
static char *
keys_request(const char *uid, const char *key_id, const char *secret,
    size_t slen, size_t *outlen)
{
	static const char field[] = ",\"secret\":\"";
	json_object *req;
	const char *head;
	size_t hlen, i;
	char *buf = NULL, *p;

	if ((req = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(req, "op",
	    json_object_new_string(API_OP_KEYS_SET));
	json_object_object_add(req, "uid", json_object_new_string(uid));
	json_object_object_add(req, "key_id", json_object_new_string(key_id));
	head = json_compact(req, &hlen);
	if (head == NULL || hlen < 2 || head[hlen - 1] != '}')
		goto out;
	/* Each secret byte takes at most two (a backslash escape). */
	if ((buf = sodium_malloc(hlen - 1 + sizeof(field) - 1 + 2 * slen +
	    2)) == NULL)
		goto out;
	p = buf;
	memcpy(p, head, hlen - 1);
	p += hlen - 1;
	memcpy(p, field, sizeof(field) - 1);
	p += sizeof(field) - 1;
	/* Printable ASCII (checked): only '"' and '\\' need escaping. */
	for (i = 0; i < slen; i++) {
		if (secret[i] == '"' || secret[i] == '\\')
			*p++ = '\\';
		*p++ = secret[i];
	}
	*p++ = '"';
	*p++ = '}';
	*outlen = (size_t)(p - buf);
out:
	json_object_put(req);
	return buf;
}

static int
keys_check_key_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > API_KEY_ID_MAX)
		return cli_usage_error(&cmd_keys, "the key id must be 1 to %d "
		    "bytes", API_KEY_ID_MAX);
	for (i = 0; i < n; i++)
		if (id[i] <= 0x20 || id[i] > 0x7e)
			return cli_usage_error(&cmd_keys, "the key id must be "
			    "printable ASCII without spaces");
	return 0;
}

static void
keys_print(json_object *result, const char *uid)
{
	json_object *v;

	printf("keys set for %s (key id \xe2\x80\xa6%s, key version %s)\n",
	    cli_str(result, "uid", uid), cli_str(result, "key_id_last4", "?"),
	    cli_text(json_object_object_get_ex(result, "key_version", &v) ?
	    v : NULL));
}

static int
keys_set(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	struct tp_err err;
	json_object *reply, *result;
	const char *key_id = NULL, *uid;
	char *secret, *req;
	size_t slen = 0, rlen = 0;
	int opt, rc;

	cli_args_init(&a, &cmd_keys, argc, argv);
	while ((opt = cli_args_next(cli, &a, keys_opts)) > 0)
		key_id = a.optarg;
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 1, 1, "UID")) != 0)
		return rc;
	uid = a.pos[0];
	if ((rc = cli_check_uid(&cmd_keys, uid)) != 0)
		return rc;
	if (key_id == NULL)
		return cli_usage_error(&cmd_keys, "missing --key-id ID");
	if ((rc = keys_check_key_id(key_id)) != 0)
		return rc;

	tp_err_clear(&err);
	if (secrets_init(&err) == -1) {
		cli_warnx("%s", err.msg);
		return CLI_EXIT_ERROR;
	}
	/* Fail before asking for a secret that could not be sent. */
	if ((rc = cli_connect(cli)) != CLI_EXIT_OK)
		return rc;
	if ((secret = sodium_malloc(KEYS_BUF)) == NULL) {
		cli_warnx("cannot allocate guarded memory");
		return CLI_EXIT_ERROR;
	}
	if ((rc = keys_read_secret(uid, secret, &slen)) != CLI_EXIT_OK) {
		sodium_free(secret);	/* sodium_free wipes */
		return rc;
	}
	req = keys_request(uid, key_id, secret, slen, &rlen);
	sodium_free(secret);
	if (req == NULL) {
		cli_warnx("cannot build the request");
		return CLI_EXIT_ERROR;
	}
	/* ZeroMQ sends from req itself; it lets go of it at disconnect. */
	rc = cli_call_raw(cli, req, rlen, true, &reply, &result);
	cli_disconnect(cli);
	sodium_free(req);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(reply);
	else
		keys_print(result, uid);
	json_object_put(reply);
	return CLI_EXIT_OK;
}

static const struct cli_sub keys_subs[] = {
	{ "set", keys_set },
	{ NULL, NULL },
};

static int
keys_run(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, &cmd_keys, keys_subs, argc, argv);
}

const struct cli_command cmd_keys = {
	.name = "keys",
	.synopsis = "keys set UID --key-id ID",
	.summary = "store a tenant's Alpaca API keys",
	.description =
"Stores the Alpaca API key id ID and its secret key for tenant\n"
"UID, replacing any keys it had, and prints \"keys set for UID (key\n"
"id ...WXYZ, key version N)\". The daemon encrypts the secret under\n"
"the current master key version; it is never stored, logged or\n"
"shown in clear. Fails with not_found for an unknown tenant.\n"
"\n"
"The secret is read from standard input, never from the command\n"
"line, where every user of the machine could read it. When\n"
"standard input is a terminal, tradepulse prompts for it on the\n"
"terminal and reads it without echo. Otherwise it reads one line\n"
"and drops its line end (LF or CRLF). The secret is 1 to 128\n"
"printable ASCII characters: a longer one is a usage error (2), an\n"
"empty one an error (1). It is kept in locked memory and wiped\n"
"once sent.\n"
"\n"
"-k ID, --key-id ID\n"
"       The Alpaca API key id (required): at most 128 printable\n"
"       ASCII characters without spaces.\n",
	.examples =
"tradepulse keys set user_42 --key-id PKTEST1234WXYZ\n"
"tradepulse keys set user_42 --key-id PKTEST1234WXYZ < secret.txt\n"
"printf '%s\\n' \"$SECRET\" | tradepulse keys set user_42 -k PKTEST1234WXYZ\n",
	.run = keys_run,
};
