/* test_config.c: the INI configuration: every key, defaults, relative paths, the example file. */
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

TestSuite(config, .init = config_setup, .fini = config_teardown);

Test(config, defaults)
{
	cr_assert_eq(config_defaults(&cfg, &err), 0);
	cr_assert_null(cfg.file);
	check_defaults(&cfg);
}

Test(config, an_empty_file_gives_the_defaults)
{
	load_ok("");
	cr_assert_str_eq(cfg.file, conf);
	check_defaults(&cfg);
}

Test(config, comments_blank_lines_and_empty_sections_are_fine)
{
	load_ok("# comment\n; another\n\n[daemon]\n\n[store]\n   # indented\n"
	    "[auth]\n");
	check_defaults(&cfg);
}

Test(config, every_key_parsed)
{
	load_ok(
	    "[daemon]\n"
	    "state_dir = /srv/tp/state\n"
	    "log_dir = /srv/tp/log\n"
	    "pidfile = /srv/tp/run/tp.pid\n"
	    "api = ipc:///srv/tp/api.sock\n"
	    "events = ipc:///srv/tp/events.sock\n"
	    "http = [::1]:9090\n"
	    "api_max_request = 128K\n"
	    "api_queue = 77\n"
	    "max_clients = 500\n"
	    "api_memory = 2G\n"
	    "tenant_log_size = 2M\n"
	    "tenant_log_keep = 9\n"
	    "core_dumps = yes\n"
	    "user = tpdaemon\n"
	    "[store]\n"
	    "backend = firestore\n"
	    "path = /srv/tp/other.db\n"
	    "synchronous = full\n"
	    "threads = 8\n"
	    "project_id = my-project\n"
	    "emulator_host = localhost:8080\n"
	    "credentials = /srv/tp/sa.json\n"
	    "[secrets]\n"
	    "master_key = /srv/tp/master.key\n"
	    "[workers]\n"
	    "user = tpworker\n"
	    "max_workers = 16\n"
	    "batch_size = 100\n"
	    "max_jobs = 5000\n"
	    "job_timeout = 1500ms\n"
	    "heartbeat_timeout = 2m\n"
	    "memory_limit = 1G\n"
	    "cpu_limit = 2h\n"
	    "max_strikes = 5\n"
	    "core_dumps = yes\n"
	    "program = bin/worker\n"
	    "max_queue = 77\n"
	    "backoff_max = 90s\n"
	    "crash_rate = 12\n"
	    "[pulse]\n"
	    "interval = 1d\n"
	    "enabled = off\n"
	    "[alpaca]\n"
	    "trading_url = http://127.0.0.1:9100\n"
	    "data_url = http://127.0.0.1:9101/\n"
	    "requests_per_minute = 150\n"
	    "data_key_id = DATAKEY\n"
	    "data_secret_file = /srv/tp/data.secret\n"
	    "[auth]\n"
	    "firebase_project_id = fb-proj\n"
	    "certs = https://www.googleapis.com/robot/v1/metadata/x509/"
	    "securetoken@system.gserviceaccount.com\n"
	    "accept_emulator_tokens = yes\n"
	    "web_api_key = AIzaTest-key_1\n"
	    "web_auth_domain = fb-proj.firebaseapp.com\n"
	    "web_auth_emulator = http://[::1]:9099\n"
	    "curve_server_key =\n"
	    "curve_clients =\n");
	cr_assert_str_eq(cfg.file, conf);
	cr_assert_str_eq(cfg.state_dir, "/srv/tp/state");
	cr_assert_str_eq(cfg.log_dir, "/srv/tp/log");
	cr_assert_str_eq(cfg.pidfile, "/srv/tp/run/tp.pid");
	cr_assert_str_eq(cfg.api, "ipc:///srv/tp/api.sock");
	cr_assert_str_eq(cfg.events, "ipc:///srv/tp/events.sock");
	cr_assert_str_eq(cfg.http, "[::1]:9090");
	cr_assert_eq(cfg.api_max_request, 128 * 1024);
	cr_assert_eq(cfg.api_queue, 77);
	cr_assert_eq(cfg.max_clients, 500);
	cr_assert_eq(cfg.api_memory, UINT64_C(2) << 30);
	cr_assert_eq(cfg.tenant_log_size, 2 * 1024 * 1024);
	cr_assert_eq(cfg.tenant_log_keep, 9);
	cr_assert_eq(cfg.daemon_core_dumps, true);
	cr_assert_str_eq(cfg.daemon_user, "tpdaemon");
	/* the daemon's core_dumps is not the workers' */
	cr_assert_eq(cfg.core_dumps, true);
	cr_assert_str_eq(cfg.store_backend, "firestore");
	cr_assert_str_eq(cfg.store_path, "/srv/tp/other.db");
	cr_assert_eq(cfg.store_sync_full, true);
	cr_assert_eq(cfg.store_threads, 8);
	cr_assert_str_eq(cfg.project_id, "my-project");
	cr_assert_str_eq(cfg.emulator_host, "localhost:8080");
	cr_assert_str_eq(cfg.credentials, "/srv/tp/sa.json");
	cr_assert_str_eq(cfg.master_key, "/srv/tp/master.key");
	cr_assert_str_eq(cfg.worker_user, "tpworker");
	cr_assert_eq(cfg.max_workers, 16);
	cr_assert_eq(cfg.batch_size, 100);
	cr_assert_eq(cfg.max_jobs, 5000);
	cr_assert_eq(cfg.job_timeout, 1500);
	cr_assert_eq(cfg.heartbeat_timeout, 120000);
	cr_assert_eq(cfg.memory_limit, UINT64_C(1) << 30);
	cr_assert_eq(cfg.cpu_limit, 2 * 3600 * 1000);
	cr_assert_eq(cfg.max_strikes, 5);
	cr_assert_eq(cfg.core_dumps, true);
	cr_assert(strlen(cfg.worker_program) > strlen("/bin/worker"));
	cr_assert_eq(cfg.worker_program[0], '/');
	cr_assert(strcmp(cfg.worker_program + strlen(cfg.worker_program) -
	    strlen("/bin/worker"), "/bin/worker") == 0);
	cr_assert_eq(cfg.max_queue, 77);
	cr_assert_eq(cfg.backoff_max, 90000);
	cr_assert_eq(cfg.crash_rate, 12);
	cr_assert_eq(cfg.pulse_interval, 86400000);
	cr_assert_eq(cfg.pulse_enabled, false);
	cr_assert_str_eq(cfg.trading_url, "http://127.0.0.1:9100");
	cr_assert_str_eq(cfg.data_url, "http://127.0.0.1:9101/");
	cr_assert_eq(cfg.requests_per_minute, 150);
	cr_assert_str_eq(cfg.data_key_id, "DATAKEY");
	cr_assert_str_eq(cfg.data_secret_file, "/srv/tp/data.secret");
	cr_assert_str_eq(cfg.firebase_project_id, "fb-proj");
	cr_assert_str_eq(cfg.certs, "https://www.googleapis.com/robot/v1/"
	    "metadata/x509/securetoken@system.gserviceaccount.com");
	cr_assert(cfg.accept_emulator_tokens);
	cr_assert_str_eq(cfg.web_api_key, "AIzaTest-key_1");
	cr_assert_str_eq(cfg.web_auth_domain, "fb-proj.firebaseapp.com");
	cr_assert_str_eq(cfg.web_auth_emulator, "http://[::1]:9099");
	cr_assert_str_eq(cfg.curve_server_key, "");
	cr_assert_str_eq(cfg.curve_clients, "");
}

Test(config, optional_keys_may_be_emptied)
{
	load_ok("[daemon]\nhttp =\n[auth]\ncerts =\n");
	cr_assert_str_eq(cfg.http, "");
	cr_assert_str_eq(cfg.certs, "");
}

Test(config, store_path_follows_state_dir)
{
	load_ok("[daemon]\nstate_dir = /srv/x\n");
	cr_assert_str_eq(cfg.store_path, "/srv/x/tradepulse.db");
	config_free(&cfg);
	load_ok("[daemon]\nstate_dir = /\n");
	cr_assert_str_eq(cfg.store_path, "/tradepulse.db");
	config_free(&cfg);
	load_ok("[store]\npath = /db/a.db\n[daemon]\nstate_dir = /srv/x\n");
	cr_assert_str_eq(cfg.store_path, "/db/a.db");
}

Test(config, relative_paths_are_taken_from_the_config_folder)
{
	const char *text =
	    "[daemon]\n"
	    "state_dir = state\n"
	    "log_dir = ./logs/../logs2\n"
	    "pidfile = run//tp.pid\n"
	    "api = ipc://api.sock\n"
	    "events = ipc:///abs/events.sock\n"
	    "[secrets]\n"
	    "master_key = ../master.key\n"
	    "[store]\n"
	    "credentials = sa.json\n"
	    "[alpaca]\n"
	    "data_key_id = K\n"
	    "data_secret_file = data.secret\n"
	    "[auth]\n"
	    "certs = certs.pem\n";
	char sub[128], conf2[160], want[256], cwd[PATH_MAX];
	int pass;

	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(conf2, sizeof(conf2), "%s/tp.conf", sub);
	write_file(conf2, text, strlen(text));
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	/* Once by absolute name, once by a name relative to the cwd. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			cr_assert_eq(chdir(tmpdir), 0);
			cr_assert_eq(config_load("sub/tp.conf", &cfg, &err), 0,
			    "%s", err.msg);
			cr_assert_str_eq(cfg.file, "sub/tp.conf");
		} else
			cr_assert_eq(config_load(conf2, &cfg, &err), 0, "%s",
			    err.msg);
#define WANT(field, fmt) do { \
	snprintf(want, sizeof(want), fmt, sub); \
	cr_assert_str_eq(cfg.field, want, "pass %d", pass); \
} while (0)
		WANT(state_dir, "%s/state");
		WANT(store_path, "%s/state/tradepulse.db");
		WANT(log_dir, "%s/logs/../logs2");
		WANT(pidfile, "%s/run/tp.pid");
		WANT(api, "ipc://%s/api.sock");
		WANT(master_key, "%s/../master.key");
		WANT(credentials, "%s/sa.json");
		WANT(data_secret_file, "%s/data.secret");
		WANT(certs, "%s/certs.pem");
#undef WANT
		cr_assert_str_eq(cfg.events, "ipc:///abs/events.sock");
		config_free(&cfg);
	}
	cr_assert_eq(chdir(cwd), 0);
}

Test(config, indented_lines_crlf_and_bom_are_accepted)
{
	const char text[] = "\xEF\xBB\xBF[daemon]\r\n"
	    "state_dir = /a\r\n"
	    "   log_dir = /b\r\n"
	    "\tapi_queue = 12 ; an inline comment\r\n";

	load_ok(text);
	cr_assert_str_eq(cfg.state_dir, "/a");
	cr_assert_str_eq(cfg.log_dir, "/b");
	cr_assert_eq(cfg.api_queue, 12);
}

Test(config, a_section_may_appear_twice)
{
	load_ok("[daemon]\napi_queue = 5\n[store]\nthreads = 2\n[daemon]\n"
	    "tenant_log_keep = 0\n");
	cr_assert_eq(cfg.api_queue, 5);
	cr_assert_eq(cfg.store_threads, 2);
	cr_assert_eq(cfg.tenant_log_keep, 0);
}

/* The example is made at build time (etc/local.mk: the configured paths
 * put in), in the build folder, where make check runs the tests. */
static void
example_path(char *path, size_t size)
{
	const char *build = getenv("TP_BUILDDIR");

	if (build != NULL && *build != '\0')
		snprintf(path, size, "%s/etc/tradepulse.conf.example", build);
	else
		snprintf(path, size, "etc/tradepulse.conf.example");
}

Test(config, the_example_file_loads_and_shows_every_default)
{
	char path[PATH_MAX];

	example_path(path, sizeof(path));
	cr_assert_eq(config_load(path, &cfg, &err), 0, "%s", err.msg);
	check_defaults(&cfg);
}

Test(config, the_example_file_names_every_key)
{
	static const char *const keys[] = {
		"[daemon]", "state_dir", "log_dir", "log", "pidfile", "api", "events",
		"http", "web_root", "api_max_request", "api_queue", "max_clients",
		"api_memory", "tenant_log_size", "tenant_log_keep",
		"core_dumps", "user",
		"[store]", "backend", "path", "synchronous", "threads",
		"project_id", "credentials", "emulator_host", "token_url",
		"[secrets]", "master_key",
		"[workers]", "user", "max_workers", "batch_size", "max_jobs",
		"job_timeout", "heartbeat_timeout", "memory_limit", "cpu_limit",
		"max_strikes", "core_dumps", "program", "max_queue",
		"backoff_max", "crash_rate",
		"[pulse]", "interval", "enabled",
		"[alpaca]", "trading_url", "data_url", "requests_per_minute",
		"data_key_id", "data_secret_file",
		"[signals]", "fast", "slow", "rsi_period", "bars",
		"min_confidence", "position_fraction", "stop_loss",
		"take_profit",
		"[auth]", "firebase_project_id", "certs", "accept_emulator_tokens",
		"web_api_key", "web_auth_domain", "web_auth_emulator",
		"curve_server_key",
		"curve_clients",
	};
	char path[PATH_MAX], line[512], name[128];
	size_t next = 0;
	FILE *f;

	example_path(path, sizeof(path));
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	/* Every section and key appears, uncommented, in this order. */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '[')
			sscanf(line, "%127[^\n]", name);
		else
			cr_assert_eq(sscanf(line, "%127s =", name), 1, "%s", line);
		cr_assert_lt(next, sizeof(keys) / sizeof(keys[0]), "extra %s",
		    name);
		cr_assert_str_eq(name, keys[next], "line %s", line);
		next++;
	}
	fclose(f);
	cr_assert_eq(next, sizeof(keys) / sizeof(keys[0]));
}

/* The CLI's view (config_load_keys): only the keys it names are read. */
Test(config, load_keys_skips_the_other_keys)
{
	static const char *const only[] = { "daemon.api", NULL };
	static const char text[] =
	    "[daemon]\n"
	    "api = ipc:///srv/tp/api.sock\n"
	    "max_clients = many\n"
	    "[workers]\n"
	    "max_workers = lots\n"
	    "no_such_key = 1\n"
	    "[nosection]\n"
	    "x = y\n"
	    "[signals]\n"
	    "fast = 30\n"
	    "slow = 10\n";

	write_file(conf, text, strlen(text));
	cr_assert_eq(config_load(conf, &cfg, &err), -1);
	cr_assert_eq(config_load_keys(conf, &cfg, only, &err), 0, "%s",
	    err.msg);
	cr_assert_str_eq(cfg.api, "ipc:///srv/tp/api.sock");
	/* the skipped keys keep their defaults */
	cr_assert_eq(cfg.max_clients, 64);
	cr_assert_eq(cfg.max_workers, 4);
}

Test(config, load_keys_checks_the_keys_it_reads)
{
	static const char *const only[] = { "daemon.api", NULL };
	static const char text[] =
	    "[workers]\n"
	    "max_workers = lots\n"
	    "[daemon]\n"
	    "api = http://example.com\n";
	char want[256];

	write_file(conf, text, strlen(text));
	cr_assert_eq(config_load_keys(conf, &cfg, only, &err), -1);
	snprintf(want, sizeof(want), "%s:4: api", conf);
	cr_assert_eq(strncmp(err.msg, want, strlen(want)), 0, "%s", err.msg);
	/* a syntax error is one whatever the key */
	write_file(conf, "[workers]\nthis is not a key\n", 28);
	cr_assert_eq(config_load_keys(conf, &cfg, only, &err), -1);
}
