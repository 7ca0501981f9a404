/* cmd_pulse.c: tradepulse pulse [--wait]: run a pulse now, and follow it to its summary. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/api.h"
#include "common/jsonutil.h"

#define PULSE_POLL_MS		250
#define PULSE_LINE_MS		1000	/* progress lines when not a terminal */
#define PULSE_WAIT_MS		(3600 * 1000)	/* unless -t is given */

enum { PULSE_OPT_WAIT = 1 };

static const struct cli_opt pulse_opts[] = {
	{ "wait", 'w', false, PULSE_OPT_WAIT },
	{ NULL, 0, false, 0 },
};

static long long
pulse_int(json_object *o, const char *key)
{
	int64_t v;

	return json_get_int(o, key, &v) ? (long long)v : 0;
}

/* "pulse pID: 1234/10000 tenants done, 3 errors (12.3s)" */
static void
pulse_progress(json_object *p, bool tty, bool final)
{
	char dur[64];
	long long ms = pulse_int(p, json_get_str(p, "finished_at") != NULL ?
	    "duration_ms" : "elapsed_ms");

	cli_duration(dur, sizeof(dur), ms);
	fprintf(stderr, "%spulse %s: %lld/%lld tenants done, %lld errors, "
	    "%s (%s)%s", tty ? "\r" : "", cli_str(p, "pulse_id", "?"),
	    pulse_int(p, "ended"), pulse_int(p, "to_sync"),
	    pulse_int(p, "errors"), cli_str(p, "phase", "done"), dur,
	    tty && !final ? "\033[K" : "\n");
	if (tty && final)
		fputs("\033[K", stderr);
	fflush(stderr);
}

/* "failed: u1 (unauthenticated), u2 (quarantined), and 3 more" */
static void
pulse_failed(struct table *t, json_object *p)
{
	json_object *fl, *f;
	char buf[2048];
	size_t i, n, len = 0;
	long long more;

	if (!json_object_object_get_ex(p, "failed", &fl) ||
	    !json_object_is_type(fl, json_type_array) ||
	    (n = json_object_array_length(fl)) == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < n && len < sizeof(buf); i++) {
		f = json_object_array_get_idx(fl, i);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s (%s)",
		    i > 0 ? ", " : "", cli_str(f, "uid", "?"),
		    cli_str(f, "code", "?"));
	}
	more = pulse_int(p, "errors") - (long long)n;
	if (more > 0)
		table_kv(t, "failed", "%s, and %lld more", buf, more);
	else
		table_kv(t, "failed", "%s", buf);
}

static void
pulse_summary(json_object *p)
{
	struct table *t;
	json_object *pr, *rq;
	char dur[64];
	bool interrupted = false;

	if ((t = table_new(2, NULL)) == NULL)
		return;
	cli_duration(dur, sizeof(dur), pulse_int(p, "duration_ms"));
	pr = json_get_obj(p, "prices");
	rq = json_get_obj(p, "requests");
	table_kv(t, "pulse", "%s (%s)", cli_str(p, "pulse_id", "?"),
	    cli_str(p, "trigger", "?"));
	table_kv(t, "started", "%s", cli_str(p, "started_at", "-"));
	table_kv(t, "duration", "%s (%lld ms)", dur,
	    pulse_int(p, "duration_ms"));
	table_kv(t, "tenants", "%lld", pulse_int(p, "users_total"));
	table_kv(t, "synced", "%lld", pulse_int(p, "synced"));
	table_kv(t, "errors", "%lld (%lld crashed, %lld quarantined)",
	    pulse_int(p, "errors"), pulse_int(p, "crashed"),
	    pulse_int(p, "quarantined"));
	pulse_failed(t, p);
	table_kv(t, "skipped", "%lld disabled, %lld without keys, %lld "
	    "quarantined", pulse_int(p, "skipped_disabled"),
	    pulse_int(p, "skipped_no_keys"),
	    pulse_int(p, "skipped_quarantined"));
	if (pr != NULL && strcmp(cli_str(pr, "source", ""), "data_key") == 0)
		table_kv(t, "prices", "%lld of %lld symbols, fetched once with "
		    "the data key", pulse_int(pr, "found"),
		    pulse_int(pr, "symbols"));
	else if (pr != NULL)
		table_kv(t, "prices", "%lld symbols, fetched by each tenant's "
		    "job%s%s%s", pulse_int(pr, "symbols"),
		    json_get_str(pr, "error") != NULL ?
		    " (the one fetch with the data key failed: " : "",
		    cli_str(pr, "error", ""),
		    json_get_str(pr, "error") != NULL ? ")" : "");
	if (rq != NULL)
		table_kv(t, "requests", "%lld account, %lld latest trades, "
		    "%lld price fetch, %lld retries", pulse_int(rq, "account"),
		    pulse_int(rq, "trades_latest"), pulse_int(rq, "prices"),
		    pulse_int(rq, "retries"));
	if (json_get_str(p, "error") != NULL)
		table_kv(t, "error", "%s", cli_str(p, "error", ""));
	if (json_get_bool(p, "interrupted", &interrupted) && interrupted)
		table_kv(t, "interrupted", "yes: tradepulsed was stopping");
	table_print(t, stdout);
	table_free(t);
}

/* Polls pulse.status until the pulse id has ended; *done gets its
 * figures (owned by the caller). */
static int
pulse_follow(struct cli *cli, const char *id, json_object **done)
{
	json_object *req, *reply, *result, *run, *last;
	long long deadline, next_line = 0;
	bool tty = isatty(STDERR_FILENO) == 1;
	int rc;

	*done = NULL;
	deadline = (long long)clock_mono_ms() + (cli->timeout_set ? cli->timeout_ms :
	    PULSE_WAIT_MS);
	for (;;) {
		if ((req = cli_request(API_OP_PULSE_STATUS, NULL)) == NULL)
			return CLI_EXIT_ERROR;
		rc = cli_call(cli, req, &reply, &result);
		json_object_put(req);
		if (rc != CLI_EXIT_OK)
			return rc;
		run = json_get_obj(result, "running");
		last = json_get_obj(result, "last");
		if (last != NULL &&
		    strcmp(cli_str(last, "pulse_id", ""), id) == 0) {
			*done = json_object_get(last);
			json_object_put(reply);
			if (!cli->json)
				pulse_progress(*done, tty, true);
			return CLI_EXIT_OK;
		}
		if (run == NULL ||
		    strcmp(cli_str(run, "pulse_id", ""), id) != 0) {
			json_object_put(reply);
			cli_warnx("pulse %s is neither running nor the last "
			    "one: its figures are gone", id);
			return CLI_EXIT_ERROR;
		}
		if (!cli->json && (tty || (long long)clock_mono_ms() >= next_line)) {
			pulse_progress(run, tty, false);
			next_line = (long long)clock_mono_ms() + PULSE_LINE_MS;
		}
		json_object_put(reply);
		if ((long long)clock_mono_ms() >= deadline) {
			if (tty && !cli->json)
				fputc('\n', stderr);
			cli_warnx("pulse %s has not ended in time; follow it "
			    "with tradepulse status", id);
			return CLI_EXIT_ERROR;
		}
		usleep(PULSE_POLL_MS * 1000);
	}
}

static int
pulse_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req, *reply, *result, *done;
	char id[64];
	bool wait = false, started;
	int opt, rc;

	cli_args_init(&a, &cmd_pulse, argc, argv);
	while ((opt = cli_args_next(cli, &a, pulse_opts)) > 0)
		wait = true;
	if (opt != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 0, NULL)) != 0)
		return rc;

	if ((req = cli_request(API_OP_PULSE, NULL)) == NULL)
		return CLI_EXIT_ERROR;
	rc = cli_call(cli, req, &reply, &result);
	json_object_put(req);
	if (rc != CLI_EXIT_OK)
		return rc;
	snprintf(id, sizeof(id), "%s", cli_str(result, "pulse_id", "?"));
	started = json_get_bool(result, "started", &started) && started;
	if (!wait) {
		if (cli->json)
			cli_print_json(reply);
		else if (started)
			printf("started pulse %s\n", id);
		else
			printf("pulse %s is already running (%s, %lld/%lld "
			    "tenants done)\n", id, cli_str(result, "phase", "?"),
			    pulse_int(result, "ended"),
			    pulse_int(result, "to_sync"));
		json_object_put(reply);
		return CLI_EXIT_OK;
	}
	json_object_put(reply);
	if (!cli->json && !started)
		fprintf(stderr, "pulse %s was already running; following it\n",
		    id);
	if ((rc = pulse_follow(cli, id, &done)) != CLI_EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(done);
	else
		pulse_summary(done);
	rc = pulse_int(done, "errors") > 0 || json_get_str(done, "error") !=
	    NULL ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	json_object_put(done);
	return rc;
}

const struct cli_command cmd_pulse = {
	.name = "pulse",
	.synopsis = "pulse [--wait]",
	.summary = "sync every tenant now, as the schedule does",
	.description =
"Starts a pulse now: the daemon lists the tenants, skips (and counts)\n"
"those with trading disabled, without keys or in quarantine, fetches\n"
"the latest price of every symbol of the others' open shadow trades\n"
"once (with [alpaca] data_key_id, when set), and runs one sync job per\n"
"tenant in the sandboxed workers: account snapshot, P&L of every open\n"
"shadow trade, last_sync_error written or cleared. The figures go to\n"
"ops/last_pulse. Pulses never overlap: while one runs, this prints\n"
"\"pulse ID is already running\" and starts nothing.\n"
"\n"
"-w, --wait\n"
"       Follow the pulse to its end: a progress line on standard error\n"
"       (\"pulse ID: DONE/TOTAL tenants done, N errors\"; rewritten in\n"
"       place on a terminal, once a second otherwise), then a summary\n"
"       table: tenants, synced, errors (crashed, quarantined), failed\n"
"       (the first 20 tenants that failed, each with its error code or\n"
"       \"quarantined\"), skipped, prices and requests. Exits 1 when any\n"
"       tenant failed; tradepulse logs UID tells what happened to it,\n"
"       and its last_sync_error (tenant show) says why. Waits\n"
"       up to an hour unless -t is given. With --json, prints the\n"
"       pulse's ops/last_pulse figures as one JSON object.\n",
	.examples =
"tradepulse pulse\n"
"tradepulse pulse --wait\n"
"tradepulse --json pulse --wait | jq -r '.failed[].uid'\n",
	.run = pulse_run,
};
