/* cmd_watch.c: tradepulse watch [UID]: the daemon's events, live, one a line, until interrupted. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "cli/cli.h"
#include "common/jsonutil.h"
#include "common/path.h"

#define WATCH_TOPIC_MAX		(7 + UID_MAX_LEN)	/* "tenant." + uid */
#define WATCH_BODY_MAX		(64 * 1024)	/* the daemon's own bound */
#define WATCH_HWM		10000

enum { WATCH_COUNT = 1, WATCH_EVENTS };

static const struct cli_opt watch_opts[] = {
	{ "count", 'n', true, WATCH_COUNT },
	{ "events", 0, true, WATCH_EVENTS },
	{ NULL, 0, false, 0 },
};

static volatile sig_atomic_t watch_stop;

static void
watch_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

/* "AT TOPIC TYPE key=value ...": the envelope first, then the fields. */
static void
watch_print_line(const char *topic, json_object *o)
{
	char *safe;

	safe = cli_sanitize(cli_str(o, "at", "-"));
	printf("%s", safe != NULL ? safe : "?");
	free(safe);
	safe = cli_sanitize(topic);
	printf(" %s", safe != NULL ? safe : "?");
	free(safe);
	safe = cli_sanitize(cli_str(o, "type", "?"));
	printf(" %s", safe != NULL ? safe : "?");
	free(safe);
	json_object_object_foreach(o, k, v) {
		if (strcmp(k, "at") == 0 || strcmp(k, "type") == 0 ||
		    strcmp(k, "seq") == 0 || strcmp(k, "uid") == 0)
			continue;
		safe = cli_sanitize(cli_text(v));
		printf(" %s=%s", k, safe != NULL ? safe : "?");
		free(safe);
	}
	putchar('\n');
}

/* One event: the topic must be the one asked for, whole (ZeroMQ matches
 * a prefix: "tenant.al" would also get "tenant.alice"). 1 printed, 0
 * skipped. */
static int
watch_one(struct cli *cli, const char *want, const char *topic,
    const char *body, size_t len)
{
	struct tp_err err;
	json_object *o;

	if (want != NULL && strcmp(topic, want) != 0)
		return 0;
	if ((o = json_parse(body, len, &err)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		cli_warnx("an event on %s is not a JSON object; skipped",
		    topic);
		return 0;
	}
	if (cli->json)
		cli_print_json(o);
	else
		watch_print_line(topic, o);
	fflush(stdout);
	json_object_put(o);
	return 1;
}

/* Receives frames until a signal or count events; an exit status. */
static int
watch_loop(struct cli *cli, void *sock, const char *want, long count)
{
	char topic[WATCH_TOPIC_MAX + 1];
	zmq_msg_t m;
	int more, n;
	size_t mlen = sizeof(more);
	long seen = 0;

	while (!watch_stop && (count == 0 || seen < count)) {
		if ((n = zmq_recv(sock, topic, sizeof(topic) - 1, 0)) == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("events: %s", zmq_strerror(errno));
			return CLI_EXIT_UNREACHABLE;
		}
		/* a topic longer than any of ours is cut: it cannot match */
		topic[n < (int)sizeof(topic) - 1 ? n : (int)sizeof(topic) - 1] =
		    '\0';
		if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &mlen) == -1 ||
		    !more)
			continue;	/* not ours: an event has two frames */
		zmq_msg_init(&m);
		while (zmq_msg_recv(&m, sock, 0) == -1) {
			if (errno != EINTR || watch_stop) {
				zmq_msg_close(&m);
				return watch_stop ? CLI_EXIT_OK :
				    CLI_EXIT_UNREACHABLE;
			}
		}
		seen += watch_one(cli, want, topic, zmq_msg_data(&m),
		    zmq_msg_size(&m));
		/* frames after the second are not ours either */
		while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &mlen) == 0 &&
		    more && zmq_msg_recv(&m, sock, 0) >= 0)
			;
		zmq_msg_close(&m);
	}
	return CLI_EXIT_OK;
}

static int
watch_open(const char *ep, const char *want, void **ctx, void **sock)
{
	struct tp_err err;
	int64_t maxsize = WATCH_TOPIC_MAX + WATCH_BODY_MAX;
	int hwm = WATCH_HWM;

	tp_err_clear(&err);
	if (strncmp(ep, "ipc://", 6) != 0) {
		cli_warnx("events endpoint %s: only ipc:// is served", ep);
		return CLI_EXIT_ERROR;
	}
	if (ep[6] != '@' && client_ipc_reachable(ep + 6, &err) == -1) {
		cli_warnx("cannot reach the daemon's events at %s: %s", ep,
		    err.msg);
		return CLI_EXIT_UNREACHABLE;
	}
	if ((*ctx = zmq_ctx_new()) == NULL ||
	    (*sock = zmq_socket(*ctx, ZMQ_SUB)) == NULL ||
	    zmq_setsockopt(*sock, ZMQ_MAXMSGSIZE, &maxsize,
	    sizeof(maxsize)) == -1 ||
	    zmq_setsockopt(*sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) == -1 ||
	    zmq_setsockopt(*sock, ZMQ_SUBSCRIBE, want != NULL ? want : "",
	    want != NULL ? strlen(want) : 0) == -1 ||
	    zmq_connect(*sock, ep) == -1) {
		cli_warnx("events: %s", zmq_strerror(errno));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

static int
watch_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	struct sigaction sa;
	const struct config *cfg;
	const char *ep = NULL;
	char want[WATCH_TOPIC_MAX + 1], *end;
	void *ctx = NULL, *sock = NULL;
	long count = 0;
	int opt, rc, linger = 0;

	cli_args_init(&a, &cmd_watch, argc, argv);
	while ((opt = cli_args_next(cli, &a, watch_opts)) > 0) {
		if (opt == WATCH_EVENTS) {
			ep = a.optarg;
			continue;
		}
		errno = 0;
		count = strtol(a.optarg, &end, 10);
		if (errno != 0 || end == a.optarg || *end != '\0' ||
		    count < 1 || count > 1000000000L)
			return cli_usage_error(&cmd_watch, "--count: \"%.40s\" "
			    "is not a number from 1 to 1000000000", a.optarg);
	}
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 1, "UID")) != 0)
		return rc;
	if (a.npos == 1 && (rc = cli_check_uid(&cmd_watch, a.pos[0])) != 0)
		return rc;
	if (a.npos == 1)
		snprintf(want, sizeof(want), "tenant.%s", a.pos[0]);
	if (ep == NULL) {
		if ((rc = cli_config(cli, &cfg)) != CLI_EXIT_OK)
			return rc;
		if (cfg->events == NULL || *cfg->events == '\0') {
			cli_warnx("%s: [daemon] events is empty: the daemon "
			    "publishes no events", cli->cfg_path);
			return CLI_EXIT_ERROR;
		}
		ep = cfg->events;
	}
	/* no SA_RESTART: the receive returns, and the loop ends */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = watch_open(ep, a.npos == 1 ? want : NULL, &ctx, &sock);
	if (rc == CLI_EXIT_OK)
		rc = watch_loop(cli, sock, a.npos == 1 ? want : NULL, count);
	if (sock != NULL) {
		zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_close(sock);
	}
	if (ctx != NULL)
		zmq_ctx_term(ctx);
	return rc;
}

const struct cli_command cmd_watch = {
	.name = "watch",
	.synopsis = "watch [UID] [-n N] [--events ENDPOINT]",
	.summary = "print the daemon's events as they happen",
	.description =
"Subscribes to the daemon's event feed ([daemon] events, a ZeroMQ PUB\n"
"socket; docs/events.md) and prints each event as it comes, one a line,\n"
"until interrupted (SIGINT or SIGTERM; exit 0). With UID, only that\n"
"tenant's events (topic \"tenant.UID\", matched whole: watching \"al\"\n"
"never shows \"alice\"); without, every event: the ops topic (pulse\n"
"started and finished, throttling, pause and resume) and every\n"
"tenant's (snapshot, trade, signal, error, crash, quarantine).\n"
"\n"
"A line is \"AT TOPIC TYPE key=value ...\", values as JSON (strings\n"
"bare); with --json, the event's JSON object as the daemon sent it.\n"
"Events are live only: nothing from before the subscription is shown,\n"
"and a subscriber that falls far behind loses events (the daemon never\n"
"waits for one). Reconnects by itself when the daemon restarts. No\n"
"event carries a secret. Works for members of the socket's group, as\n"
"the other commands do.\n"
"\n"
"-n N, --count N\n"
"       Exit after N events have been printed.\n"
"--events ENDPOINT\n"
"       Subscribe to ENDPOINT (ipc://PATH) instead of [daemon] events.\n",
	.examples =
"tradepulse watch\n"
"tradepulse watch user_42\n"
"tradepulse --json watch user_42 | jq -c 'select(.type == \"snapshot\")'\n",
	.run = watch_run,
};
