/* cmd_status.c: tradepulse status: the daemon's state at a glance. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"

/* The text of field key of o ("?" when absent). */
static const char *
status_field(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return "?";
	return cli_text(v);
}

static void
status_last_pulse(struct table *t, json_object *p)
{
	char dur[64] = "";
	int64_t ms;

	if (p == NULL || !json_object_is_type(p, json_type_object)) {
		table_kv(t, "last pulse", "never");
		return;
	}
	if (json_get_int(p, "duration_ms", &ms))
		snprintf(dur, sizeof(dur), " in %lld ms", (long long)ms);
	table_kv(t, "last pulse", "%s%s: %s synced of %s tenants, %s errors, "
	    "%s crashed, %s quarantined, %s disabled, %s without keys",
	    status_field(p, "finished_at"), dur, status_field(p, "synced"),
	    status_field(p, "users_total"), status_field(p, "errors"),
	    status_field(p, "crashed"), status_field(p, "quarantined"),
	    status_field(p, "skipped_disabled"),
	    status_field(p, "skipped_no_keys"));
}

static void
status_print(json_object *r, const void *arg)
{
	struct table *t;
	json_object *store, *api, *workers, *pulse = NULL;
	char up[64];
	int64_t ms;
	bool throttled;

	(void)arg;
	if ((t = table_new(2, NULL)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	store = json_get_obj(r, "store");
	api = json_get_obj(r, "api");
	table_kv(t, "daemon", "tradepulsed %s, pid %s",
	    status_field(r, "version"), status_field(r, "pid"));
	if (json_get_int(r, "uptime_ms", &ms)) {
		cli_duration(up, sizeof(up), ms);
		table_kv(t, "uptime", "%s (since %s)", up,
		    status_field(r, "started_at"));
	} else
		table_kv(t, "uptime", "? (since %s)",
		    status_field(r, "started_at"));
	table_kv(t, "store", "%s, %s pending", status_field(store, "backend"),
	    status_field(store, "pending"));
	table_kv(t, "api", "%s: %s in flight (queue max %s), %s requests, "
	    "%s errors", status_field(api, "endpoint"),
	    status_field(api, "in_flight"), status_field(api, "queue_max"),
	    status_field(api, "requests"), status_field(api, "errors"));
	table_kv(t, "master key", "version %s", status_field(r, "key_version"));
	if (json_object_object_get_ex(r, "workers", &workers) &&
	    json_object_is_type(workers, json_type_array))
		table_kv(t, "workers", "%zu",
		    json_object_array_length(workers));
	else
		table_kv(t, "workers", "%s", status_field(r, "workers"));
	table_kv(t, "queue", "%s jobs", status_field(r, "queue"));
	if (json_get_bool(r, "throttled", &throttled))
		table_kv(t, "throttled", "%s", throttled ? "yes" : "no");
	else
		table_kv(t, "throttled", "%s", status_field(r, "throttled"));
	json_object_object_get_ex(r, "last_pulse", &pulse);
	status_last_pulse(t, pulse);
	table_print(t, stdout);
	table_free(t);
}

static int
status_run(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	json_object *req;
	int opt, rc;

	cli_args_init(&a, &cmd_status, argc, argv);
	if ((opt = cli_args_next(cli, &a, NULL)) != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, 0, 0, "")) != 0)
		return rc;
	if ((req = cli_request(API_OP_STATUS, NULL)) == NULL)
		return CLI_EXIT_ERROR;
	return cli_exchange(cli, req, status_print, NULL);
}

const struct cli_command cmd_status = {
	.name = "status",
	.synopsis = "status",
	.summary = "show the daemon's state",
	.description =
"Shows the daemon's version, process id and uptime; the store\n"
"backend and its requests in progress; the job API's endpoint,\n"
"requests in flight, queue bound and request and error counts; the\n"
"master key version in use; the number of workers; the job queue;\n"
"whether worker spawning is throttled; and the last pulse, or\n"
"\"never\" before the first. With --json, the daemon's whole status\n"
"reply.\n",
	.examples =
"tradepulse status\n"
"tradepulse --json status\n",
	.run = status_run,
};
