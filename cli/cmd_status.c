/* cmd_status.c: tradepulse status: the daemon's state at a glance. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
	/* older daemons do not count them */
	if (json_object_object_get_ex(p, "store_requests", NULL))
		table_kv(t, "last pulse store", "%s requests, %s per synced "
		    "tenant", status_field(p, "store_requests"),
		    status_field(p, "store_requests_per_synced_tenant"));
}

/* The integer field key of o, or -1. */
static long long
status_int(json_object *o, const char *key)
{
	int64_t v;

	return json_get_int(o, key, &v) ? (long long)v : -1;
}

/* A short duration: "850 ms", "2.5 s", or cli_duration's "3m 4s". */
static void
status_ms(char *buf, size_t size, long long ms)
{
	if (ms < 0)
		snprintf(buf, size, "?");
	else if (ms < 1000)
		snprintf(buf, size, "%lld ms", ms);
	else if (ms < 60 * 1000)
		snprintf(buf, size, "%.1f s", (double)ms / 1000.0);
	else
		cli_duration(buf, size, ms);
}

/* A size in KiB as "812 KiB" or "12.4 MiB". */
static void
status_kib(char *buf, size_t size, long long kib)
{
	if (kib < 0)
		snprintf(buf, size, "-");
	else if (kib < 10 * 1024)
		snprintf(buf, size, "%lld KiB", kib);
	else
		snprintf(buf, size, "%.1f MiB", (double)kib / 1024.0);
}

/*
 * A worker's resident set in KiB: the daemon's rss_kb when it gives one;
 * else, when the daemon is on this machine (an ipc:// endpoint), VmRSS of
 * /proc/PID/status; else -1.
 */
static long long
status_rss(const struct cli *cli, json_object *w)
{
	char path[64], line[256];
	long long kib = status_int(w, "rss_kb"), pid;
	FILE *fp;

	if (kib >= 0)
		return kib;
	if (!cli->cfg_loaded || cli->cfg.api == NULL ||
	    strncmp(cli->cfg.api, "ipc://", 6) != 0 ||
	    (pid = status_int(w, "pid")) <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%lld/status", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %lld kB", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

/* The table of live workers: PID, GEN, UPTIME, STATE, JOBS, RSS. */
static void
status_workers(const struct cli *cli, json_object *workers)
{
	static const char *const head[] = { "PID", "GEN", "UPTIME", "STATE",
	    "JOBS", "RSS" };
	char up[64], jobs[64], rss[64];
	const char *row[6];
	struct table *t;
	size_t i, n;

	if (workers == NULL || !json_object_is_type(workers, json_type_array) ||
	    (n = json_object_array_length(workers)) == 0)
		return;
	if ((t = table_new(6, head)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		json_object *w = json_object_array_get_idx(workers, i);

		row[0] = status_field(w, "pid");
		row[1] = status_field(w, "generation");
		status_ms(up, sizeof(up), status_int(w, "uptime_ms"));
		row[2] = up;
		row[3] = status_field(w, "state");
		/* Done of sent, and the batch's size when known. */
		if (status_int(w, "batch") >= 0)
			snprintf(jobs, sizeof(jobs), "%s/%s of %s",
			    status_field(w, "jobs_done"),
			    status_field(w, "jobs_sent"),
			    status_field(w, "batch"));
		else
			snprintf(jobs, sizeof(jobs), "%s/%s",
			    status_field(w, "jobs_done"),
			    status_field(w, "jobs_sent"));
		row[4] = jobs;
		status_kib(rss, sizeof(rss), status_rss(cli, w));
		row[5] = rss;
		if (table_add(t, row) == -1) {
			cli_warnx("out of memory");
			break;
		}
	}
	printf("\nworkers:\n");
	table_print(t, stdout);
	table_free(t);
}

/* "u1, u2, u3 and 29 more" of a crash's tenants, into buf. */
static void
status_uids(char *buf, size_t size, json_object *uids)
{
	size_t i, n, len = 0;

	buf[0] = '\0';
	if (uids == NULL || !json_object_is_type(uids, json_type_array) ||
	    (n = json_object_array_length(uids)) == 0) {
		snprintf(buf, size, "-");
		return;
	}
	for (i = 0; i < n && i < 3 && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " :
		    "", cli_text(json_object_array_get_idx(uids, i)));
	if (n > 3 && len < size)
		snprintf(buf + len, size - len, " and %zu more", n - 3);
}

/* The table of recent crashes: TIME, PID, SIGNAL/EXIT, SYSCALL, TENANTS. */
static void
status_crashes(json_object *crashes)
{
	static const char *const head[] = { "TIME", "PID", "SIGNAL/EXIT",
	    "SYSCALL", "TENANTS" };
	char how[64], uids[512];
	const char *row[5], *sig;
	json_object *v;
	struct table *t;
	size_t i, n;

	if (crashes == NULL || !json_object_is_type(crashes, json_type_array) ||
	    (n = json_object_array_length(crashes)) == 0)
		return;
	if ((t = table_new(5, head)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(crashes, i);

		row[0] = status_field(c, "at");
		row[1] = status_field(c, "pid");
		if ((sig = json_get_str(c, "signal")) != NULL)
			snprintf(how, sizeof(how), "%s", sig);
		else if (json_object_object_get_ex(c, "exit_code", &v) &&
		    v != NULL)
			snprintf(how, sizeof(how), "exit %s", cli_text(v));
		else
			snprintf(how, sizeof(how), "?");
		row[2] = how;
		row[3] = json_get_str(c, "syscall") != NULL ?
		    json_get_str(c, "syscall") : "-";
		if (!json_object_object_get_ex(c, "uids", &v))
			v = NULL;
		status_uids(uids, sizeof(uids), v);
		row[4] = uids;
		if (table_add(t, row) == -1) {
			cli_warnx("out of memory");
			break;
		}
	}
	printf("\nrecent crashes (newest first):\n");
	table_print(t, stdout);
	table_free(t);
}

static void
status_throttle(struct table *t, json_object *r)
{
	char retry[64];
	const char *reason;
	bool throttled;

	if (!json_get_bool(r, "throttled", &throttled)) {
		table_kv(t, "throttled", "%s", status_field(r, "throttled"));
		return;
	}
	if (!throttled) {
		table_kv(t, "throttled", "no");
		return;
	}
	reason = json_get_str(r, "throttle_reason");
	status_ms(retry, sizeof(retry), status_int(r, "retry_ms"));
	table_kv(t, "throttled", "yes: %s (next spawn in %s)",
	    reason != NULL ? reason : "no reason given", retry);
}

/* spawn_ms {n, median, p99, max}: fork+exec+sandbox to HELLO. */
static void
status_spawn(struct table *t, json_object *r)
{
	json_object *s = json_get_obj(r, "spawn_ms");

	if (s == NULL)
		return;
	table_kv(t, "spawn time", "median %s ms, p99 %s ms, max %s ms over %s "
	    "spawns", status_field(s, "median"), status_field(s, "p99"),
	    status_field(s, "max"), status_field(s, "n"));
}

/* The queue, and the job layer's counters when the daemon gives them. */
static void
status_jobs(struct table *t, json_object *r)
{
	json_object *j = json_get_obj(r, "jobs");

	if (json_object_object_get_ex(r, "running", NULL))
		table_kv(t, "jobs", "%s queued, %s running",
		    status_field(r, "queue"), status_field(r, "running"));
	else
		table_kv(t, "jobs", "%s queued", status_field(r, "queue"));
	if (j == NULL)
		return;
	table_kv(t, "jobs ended", "%s done, %s failed of %s submitted",
	    status_field(j, "done"), status_field(j, "failed"),
	    status_field(j, "submitted"));
	table_kv(t, "tenants", "%s with strikes, %s quarantines, %s security "
	    "events", status_field(j, "tenants_with_strikes"),
	    status_field(j, "quarantines"), status_field(j, "security_events"));
}

/* "paused": {since, reason, by} or null (absent: an older daemon). */
static void
status_pause(struct table *t, json_object *r)
{
	json_object *p;

	if (!json_object_object_get_ex(r, "paused", &p))
		return;
	if (p == NULL) {
		table_kv(t, "paused", "no");
		return;
	}
	table_kv(t, "paused", "YES since %s by %s: %s (`tradepulse resume` "
	    "ends it)", status_field(p, "since"), status_field(p, "by"),
	    status_field(p, "reason"));
}

static void
status_print(json_object *r, const void *arg)
{
	const struct cli *cli = arg;
	struct table *t;
	json_object *store, *api, *workers = NULL, *crashes = NULL;
	json_object *pulse = NULL;
	char up[64];
	int64_t ms;

	if ((t = table_new(2, NULL)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	store = json_get_obj(r, "store");
	api = json_get_obj(r, "api");
	table_kv(t, "daemon", "tradepulsed %s, pid %s",
	    status_field(r, "version"), status_field(r, "pid"));
	status_pause(t, r);
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
		table_kv(t, "workers", "%zu running",
		    json_object_array_length(workers));
	else
		table_kv(t, "workers", "%s", status_field(r, "workers"));
	status_jobs(t, r);
	status_throttle(t, r);
	if (json_object_object_get_ex(r, "crashes", NULL))
		table_kv(t, "crashes", "%s (%s start-up failures), %s restarts",
		    status_field(r, "crashes"),
		    status_field(r, "startup_failures"),
		    status_field(r, "restarts"));
	status_spawn(t, r);
	json_object_object_get_ex(r, "last_pulse", &pulse);
	status_last_pulse(t, pulse);
	table_print(t, stdout);
	table_free(t);
	status_workers(cli, workers);
	if (json_object_object_get_ex(r, "recent_crashes", &crashes))
		status_crashes(crashes);
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
	return cli_exchange(cli, req, status_print, cli);
}

const struct cli_command cmd_status = {
	.name = "status",
	.synopsis = "status",
	.summary = "show the daemon's state",
	.description =
"Shows the daemon's version, process id and uptime; the store\n"
"backend and its requests in progress; the job API's endpoint,\n"
"requests in flight, queue bound and request and error counts; the\n"
"master key version in use; the number of worker processes; the jobs\n"
"waiting in the queue and running in workers, and those done and\n"
"failed since the daemon started; the tenants that have strikes\n"
"(their jobs were in flight when a worker crashed), the quarantines\n"
"and the security events (a worker that wrote outside its tenant);\n"
"whether spawning new workers is throttled (after a crash loop or\n"
"repeated start-up failures), why, and when the next spawn may be\n"
"tried; the worker crashes, start-up failures and restarts since the\n"
"daemon started; the time from fork to a worker's hello, when the\n"
"daemon measures it; and the last pulse, or \"never\" before the\n"
"first. \"paused\" says whether an operator paused the daemon\n"
"(tradepulse pause): since when, by whom and why.\n"
"\n"
"Then, when there are any, a table of the live workers: PID, GEN\n"
"(the spawn's generation number), UPTIME, STATE, JOBS (jobs done /\n"
"jobs sent, of the batch's size) and RSS (resident memory, as the\n"
"daemon reports it or, for a daemon on this machine, as\n"
"/proc/PID/status shows it; \"-\" when unknown); and a table of the\n"
"recent crashes, newest first (at most 10): TIME, PID, SIGNAL/EXIT\n"
"(the signal that killed the worker, or its exit status), SYSCALL\n"
"(the forbidden system call that the sandbox trapped, or \"-\") and\n"
"TENANTS (the tenants whose jobs were in flight). The whole report is\n"
"under ops/crashes/reports/ID in the store.\n"
"\n"
"With --json, the daemon's whole status reply.\n",
	.examples =
"tradepulse status\n"
"tradepulse --json status\n",
	.run = status_run,
};
