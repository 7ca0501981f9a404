/* config_fixture.c: the configuration tests' shared fixture: a config file in a temporary folder, load helpers, the defaults. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/unit/config_fixture.h"

char tmpdir[64];
char conf[128];
struct config cfg;
struct tp_err err;

void
config_setup(void)
{
	strcpy(tmpdir, "/tmp/tp-test-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(conf, sizeof(conf), "%s/tp.conf", tmpdir);
	memset(&cfg, 0, sizeof(cfg));
	tp_err_clear(&err);
}

void
config_teardown(void)
{
	char path[256];

	config_free(&cfg);
	unlink(conf);
	snprintf(path, sizeof(path), "%s/sub/tp.conf", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", tmpdir);
	rmdir(path);
	rmdir(tmpdir);
}


void
write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

void
load_ok(const char *text)
{
	write_file(conf, text, strlen(text));
	cr_assert_eq(config_load(conf, &cfg, &err), 0, "%s\n--\n%s", err.msg,
	    text);
}

/* Loading must fail with exactly "conf:line: " and then reason. */
void
load_fails(const char *text, unsigned line, const char *reason)
{
	char want[512];

	write_file(conf, text, strlen(text));
	cr_assert_eq(config_load(conf, &cfg, &err), -1, "loaded:\n%s", text);
	snprintf(want, sizeof(want), "%s:%u: %s", conf, line, reason);
	cr_assert_eq(strncmp(err.msg, want, strlen(want)), 0,
	    "got  %s\nwant %s...\nfor:\n%s", err.msg, want, text);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	/* A failed load leaves nothing behind. */
	cr_assert_null(cfg.file);
	cr_assert_null(cfg.state_dir);
	cr_assert_null(cfg.api);
	cr_assert_eq(cfg.max_workers, 0);
}

void
check_defaults(const struct config *c)
{
	cr_assert_str_eq(c->state_dir, LOCALSTATEDIR "/lib/tradepulse");
	cr_assert_str_eq(c->log_dir, LOCALSTATEDIR "/log/tradepulse");
	cr_assert_str_eq(c->pidfile, RUNSTATEDIR "/tradepulse/tradepulsed.pid");
	cr_assert_str_eq(c->api, "ipc://" RUNSTATEDIR "/tradepulse/api.sock");
	cr_assert_str_eq(c->events, "ipc://" RUNSTATEDIR "/tradepulse/events.sock");
	cr_assert_str_eq(c->http, "127.0.0.1:8787");
	cr_assert_str_eq(c->daemon_log, "");
	cr_assert_eq(c->api_max_request, 64 * 1024);
	cr_assert_eq(c->api_queue, 1024);
	cr_assert_eq(c->max_clients, 64);
	cr_assert_eq(c->api_memory, 64 * 1024 * 1024);
	cr_assert_eq(c->tenant_log_size, 1024 * 1024);
	cr_assert_eq(c->tenant_log_keep, 5);
	cr_assert_eq(c->daemon_core_dumps, false);
	cr_assert_str_eq(c->daemon_user, "tradepulse");
	cr_assert_str_eq(c->store_backend, "sqlite");
	cr_assert_str_eq(c->store_path, LOCALSTATEDIR "/lib/tradepulse/tradepulse.db");
	cr_assert_eq(c->store_sync_full, false);
	cr_assert_eq(c->store_threads, 4);
	cr_assert_str_eq(c->project_id, "");
	cr_assert_str_eq(c->emulator_host, "");
	cr_assert_str_eq(c->credentials, "");
	cr_assert_str_eq(c->master_key, SYSCONFDIR "/tradepulse/private/master.key");
	cr_assert_str_eq(c->worker_user, "nobody");
	cr_assert_eq(c->max_workers, 4);
	cr_assert_eq(c->batch_size, 32);
	cr_assert_eq(c->max_jobs, 1000);
	cr_assert_eq(c->job_timeout, 30000);
	cr_assert_eq(c->heartbeat_timeout, 10000);
	cr_assert_eq(c->memory_limit, 256 * 1024 * 1024);
	cr_assert_eq(c->cpu_limit, 60000);
	cr_assert_eq(c->max_strikes, 3);
	cr_assert_eq(c->core_dumps, false);
	cr_assert(strstr(c->worker_program, "/tradepulse-worker") != NULL);
	cr_assert_eq(c->max_queue, 100000);
	cr_assert_eq(c->backoff_max, 30000);
	cr_assert_eq(c->crash_rate, 30);
	cr_assert_eq(c->pulse_interval, 60000);
	cr_assert_eq(c->pulse_enabled, true);
	cr_assert_eq(c->accept_emulator_tokens, false);
	cr_assert_str_eq(c->trading_url, "https://paper-api.alpaca.markets");
	cr_assert_str_eq(c->data_url, "https://data.alpaca.markets");
	cr_assert_eq(c->requests_per_minute, 200);
	cr_assert_str_eq(c->data_key_id, "");
	cr_assert_str_eq(c->data_secret_file, "");
	cr_assert_str_eq(c->firebase_project_id, "");
	cr_assert_str_eq(c->certs, "");
	cr_assert_str_eq(c->curve_server_key, "");
	cr_assert_str_eq(c->curve_clients, "");
}
