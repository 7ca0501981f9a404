/* test_config.c: the INI configuration: every key, defaults, value parsers, errors with FILE:LINE. */
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

static char tmpdir[64];
static char conf[128];
static struct config cfg;
static struct tp_err err;

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/tp-test-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(conf, sizeof(conf), "%s/tp.conf", tmpdir);
	memset(&cfg, 0, sizeof(cfg));
	tp_err_clear(&err);
}

static void
teardown(void)
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

TestSuite(config, .init = setup, .fini = teardown);

static void
write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void
load_ok(const char *text)
{
	write_file(conf, text, strlen(text));
	cr_assert_eq(config_load(conf, &cfg, &err), 0, "%s\n--\n%s", err.msg,
	    text);
}

/* Loading must fail with exactly "conf:line: " and then reason. */
static void
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

static void
check_defaults(const struct config *c)
{
	cr_assert_str_eq(c->state_dir, "/var/lib/tradepulse");
	cr_assert_str_eq(c->log_dir, "/var/log/tradepulse");
	cr_assert_str_eq(c->pidfile, "/run/tradepulse/tradepulsed.pid");
	cr_assert_str_eq(c->api, "ipc:///run/tradepulse/api.sock");
	cr_assert_str_eq(c->events, "ipc:///run/tradepulse/events.sock");
	cr_assert_str_eq(c->http, "127.0.0.1:8787");
	cr_assert_eq(c->api_max_request, 64 * 1024);
	cr_assert_eq(c->api_queue, 1024);
	cr_assert_eq(c->max_clients, 64);
	cr_assert_eq(c->api_memory, 64 * 1024 * 1024);
	cr_assert_eq(c->tenant_log_size, 1024 * 1024);
	cr_assert_eq(c->tenant_log_keep, 5);
	cr_assert_eq(c->daemon_core_dumps, false);
	cr_assert_str_eq(c->store_backend, "sqlite");
	cr_assert_str_eq(c->store_path, "/var/lib/tradepulse/tradepulse.db");
	cr_assert_eq(c->store_sync_full, false);
	cr_assert_eq(c->store_threads, 4);
	cr_assert_str_eq(c->project_id, "");
	cr_assert_str_eq(c->emulator_host, "");
	cr_assert_str_eq(c->credentials, "");
	cr_assert_str_eq(c->master_key, "/etc/tradepulse/master.key");
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

Test(config, unknown_key)
{
	load_fails("[daemon]\nstate_dir = /x\nbogus = 1\n", 3,
	    "unknown key \"bogus\" in [daemon]");
	load_fails("[store]\nState_dir = /x\n", 2,
	    "unknown key \"State_dir\" in [store]");
	/* A key of another section is unknown here. */
	load_fails("[daemon]\n\n\nthreads = 4\n", 4,
	    "unknown key \"threads\" in [daemon]");
}

Test(config, unknown_section)
{
	load_fails("[daemon]\napi_queue = 5\n[bogus]\n", 3,
	    "unknown section [bogus]");
	load_fails("[Daemon]\napi_queue = 5\n", 1, "unknown section [Daemon]");
	load_fails("\n[]\n", 2, "unknown section []");
	load_fails("[daemon] junk\n", 1, "text after the section header");
	load_fails("[daemon\n", 1, "unterminated section header");
}

Test(config, bad_duration)
{
	load_fails("[workers]\njob_timeout = 5x\n", 2,
	    "job_timeout: \"5x\" is not a duration");
	load_fails("[pulse]\n\ninterval = 1.5s\n", 3,
	    "interval: \"1.5s\" is not a duration");
	load_fails("[workers]\nheartbeat_timeout = 99999999999999999999ms\n",
	    2, "heartbeat_timeout: \"99999999999999999999ms\" is not a "
	    "duration");
	load_fails("[workers]\ncpu_limit = -5s\n", 2, "cpu_limit: ");
}

Test(config, bad_size)
{
	load_fails("[workers]\nmemory_limit = 12Q\n", 2,
	    "memory_limit: \"12Q\" is not a size");
	load_fails("[daemon]\ntenant_log_size = 1MB\n", 2,
	    "tenant_log_size: \"1MB\" is not a size");
	load_fails("[daemon]\napi_max_request = 17179869184G\n", 2,
	    "api_max_request: \"17179869184G\" is not a size");
}

Test(config, bad_bool)
{
	load_fails("[pulse]\nenabled = maybe\n", 2,
	    "enabled: \"maybe\" is not yes or no");
	load_fails("[workers]\ncore_dumps = 2\n", 2,
	    "core_dumps: \"2\" is not yes or no");
}

Test(config, bad_number)
{
	load_fails("[workers]\nmax_workers = four\n", 2,
	    "max_workers: \"four\" is not a whole number");
	load_fails("[workers]\nmax_workers = -1\n", 2,
	    "max_workers: \"-1\" is not a whole number");
	load_fails("[workers]\nmax_workers = 1.5\n", 2,
	    "max_workers: \"1.5\" is not a whole number");
	load_fails("[workers]\nmax_workers = 99999999999999999999999\n", 2,
	    "max_workers: \"99999999999999999999999\" is not a whole number");
}

Test(config, out_of_range)
{
	const struct { const char *text; const char *reason; } cases[] = {
		{ "[workers]\nmax_workers = 0\n",
		    "max_workers: 0 is out of range (1 to 1024)" },
		{ "[workers]\nmax_workers = 1025\n",
		    "max_workers: 1025 is out of range (1 to 1024)" },
		{ "[workers]\nbatch_size = 4097\n",
		    "batch_size: 4097 is out of range (1 to 4096)" },
		{ "[workers]\nmax_jobs = 0\n", "max_jobs: 0 is out of range" },
		{ "[workers]\nmax_strikes = 101\n",
		    "max_strikes: 101 is out of range (1 to 100)" },
		{ "[workers]\njob_timeout = 0\n",
		    "job_timeout: 0 is out of range (100ms to 1d)" },
		{ "[workers]\nheartbeat_timeout = 2h\n",
		    "heartbeat_timeout: 2h is out of range (100ms to 1h)" },
		{ "[workers]\ncpu_limit = 500ms\n",
		    "cpu_limit: 500ms is out of range (1s to 1d)" },
		{ "[workers]\nmemory_limit = 1M\n",
		    "memory_limit: 1M is out of range (16M to 1024T)" },
		{ "[pulse]\ninterval = 2d\n",
		    "interval: 2d is out of range (1s to 1d)" },
		{ "[alpaca]\nrequests_per_minute = 100001\n",
		    "requests_per_minute: 100001 is out of range (1 to 100000)" },
		{ "[daemon]\napi_queue = 1000001\n",
		    "api_queue: 1000001 is out of range (1 to 1000000)" },
		{ "[daemon]\napi_max_request = 100\n",
		    "api_max_request: 100 is out of range (1K to 64M)" },
		{ "[daemon]\ntenant_log_size = 2G\n",
		    "tenant_log_size: 2G is out of range (4K to 1G)" },
		{ "[daemon]\ntenant_log_keep = 1001\n",
		    "tenant_log_keep: 1001 is out of range (0 to 1000)" },
		{ "[store]\nthreads = 65\n",
		    "threads: 65 is out of range (1 to 64)" },
		{ "[daemon]\nmax_clients = 0\n",
		    "max_clients: 0 is out of range (1 to 100000)" },
		{ "[daemon]\nmax_clients = 100001\n",
		    "max_clients: 100001 is out of range (1 to 100000)" },
		{ "[daemon]\napi_memory = 1023K\n",
		    "api_memory: 1023K is out of range (1M to 16G)" },
		{ "[daemon]\napi_memory = 17G\n",
		    "api_memory: 17G is out of range (1M to 16G)" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		load_fails(cases[i].text, 2, cases[i].reason);
}

Test(config, new_api_limits_at_their_bounds)
{
	load_ok("[daemon]\nmax_clients = 1\napi_memory = 1M\n"
	    "core_dumps = no\n");
	cr_assert_eq(cfg.max_clients, 1);
	cr_assert_eq(cfg.api_memory, 1024 * 1024);
	cr_assert_eq(cfg.daemon_core_dumps, false);
	config_free(&cfg);
	load_ok("[daemon]\nmax_clients = 100000\napi_memory = 16G\n"
	    "core_dumps = on\n");
	cr_assert_eq(cfg.max_clients, 100000);
	cr_assert_eq(cfg.api_memory, UINT64_C(16) << 30);
	cr_assert_eq(cfg.daemon_core_dumps, true);
	cr_assert_eq(cfg.core_dumps, false);
	config_free(&cfg);
	load_fails("[daemon]\ncore_dumps = maybe\n", 2,
	    "core_dumps: \"maybe\" is not yes or no");
}

/* No network endpoint until CURVE exists: the reason says why. */
Test(config, only_ipc_endpoints)
{
	load_fails("[daemon]\napi = tcp://0.0.0.0:5555\n", 2,
	    "api: tcp:// endpoints are refused until CURVE authentication "
	    "exists; use ipc:// (the socket's folder and group are the access "
	    "control)");
	load_fails("[daemon]\n\nevents = tcp://127.0.0.1:5556\n", 3,
	    "events: tcp:// endpoints are refused until CURVE");
	/* Bad tcp syntax is refused for the same reason, not parsed. */
	load_fails("[daemon]\napi = tcp://host\n", 2,
	    "api: tcp:// endpoints are refused");
	load_fails("[daemon]\napi = ws://x:1\n", 2,
	    "api: ws:// endpoints are refused");
	load_fails("[daemon]\napi = pgm://eth0;239.1.1.1:5555\n", 2,
	    "api: pgm:// endpoints are refused");
	load_fails("[daemon]\napi = /run/api.sock\n", 2,
	    "api: \"/run/api.sock\" is not ipc://PATH");
	load_fails("[daemon]\napi = TCP://x:1\n", 2,
	    "api: TCP:// endpoints are refused");
	load_ok("[daemon]\napi = ipc:///run/x/api.sock\n"
	    "events = ipc:///run/x/ev.sock\n");
	cr_assert_str_eq(cfg.api, "ipc:///run/x/api.sock");
}

/* Nothing reads the CURVE keys yet: a value must not look accepted. */
Test(config, curve_keys_are_refused_until_curve_exists)
{
	load_fails("[auth]\ncurve_server_key = /etc/tradepulse/curve.key\n", 2,
	    "curve_server_key: CURVE authentication is not built yet");
	load_fails("[auth]\n# c\ncurve_clients = /nonexistent/clients\n", 3,
	    "curve_clients: CURVE authentication is not built yet");
	load_ok("[auth]\ncurve_server_key =\ncurve_clients =\n");
	cr_assert_str_eq(cfg.curve_server_key, "");
	cr_assert_str_eq(cfg.curve_clients, "");
}

Test(config, key_lines_are_kept)
{
	load_ok("# c\n[secrets]\nmaster_key = /k\n\n[alpaca]\n"
	    "data_key_id = K\ndata_secret_file = /s\n");
	cr_assert_eq(config_key_line(&cfg, "secrets", "master_key"), 3);
	cr_assert_eq(config_key_line(&cfg, "alpaca", "data_secret_file"), 7);
	cr_assert_eq(config_key_line(&cfg, "workers", "program"), 0);
	cr_assert_eq(config_key_line(&cfg, "nope", "master_key"), 0);
	config_free(&cfg);
	cr_assert_null(cfg.lines);
	cr_assert_eq(config_defaults(&cfg, &err), 0);
	cr_assert_eq(config_key_line(&cfg, "secrets", "master_key"), 0);
}

Test(config, duplicate_key)
{
	load_fails("[daemon]\napi_queue = 5\n# c\napi_queue = 6\n", 4,
	    "api_queue: duplicate key in [daemon] (first set on line 2)");
	load_fails("[daemon]\napi_queue = 5\n[store]\nthreads = 2\n[daemon]\n"
	    "api_queue = 5\n", 6, "api_queue: duplicate key in [daemon] "
	    "(first set on line 2)");
	load_fails("[auth]\ncerts =\ncerts =\n", 3,
	    "certs: duplicate key in [auth]");
}

Test(config, key_outside_a_section)
{
	load_fails("state_dir = /x\n[daemon]\n", 1,
	    "state_dir: key outside a section");
	load_fails("# comment\n\napi = ipc:///x\n", 3,
	    "api: key outside a section");
}

Test(config, syntax_error_line)
{
	load_fails("[daemon]\nstate_dir = /x\nthis is not a key\n", 3,
	    "syntax error");
	load_fails("[daemon]\n\n\n\nstate_dir\n", 5, "syntax error");
	/* The first error in the file is the one reported. */
	load_fails("[daemon]\nnot a key\nbogus = 1\n", 2, "syntax error");
	load_fails("[daemon]\nbogus = 1\nnot a key\n", 2, "unknown key");
}

Test(config, empty_where_required)
{
	load_fails("[daemon]\nstate_dir =\n", 2, "state_dir: must not be empty");
	load_fails("[store]\nbackend =\n", 2, "backend: must not be empty");
	load_fails("[workers]\nmax_workers =\n", 2,
	    "max_workers: must not be empty");
	load_fails("[secrets]\nmaster_key =\n", 2,
	    "master_key: must not be empty");
}

Test(config, bad_strings)
{
	load_fails("[store]\nbackend = mysql\n", 2,
	    "backend: \"mysql\" is not sqlite or firestore");
	load_fails("[store]\nsynchronous = off\n", 2,
	    "synchronous: \"off\" is not normal or full");
	load_fails("[daemon]\nevents = ipc://\n", 2,
	    "events: the ipc socket path is empty");
	load_fails("[daemon]\napi = ipc:///aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaa.sock\n", 2, "api: the ipc socket path is longer than 107");
	load_fails("[daemon]\nhttp = 127.0.0.1:70000\n", 2,
	    "http: \"127.0.0.1:70000\" is not host:port");
	load_fails("[daemon]\nhttp = 8787\n", 2, "http: \"8787\" is not host");
	load_fails("[daemon]\nhttp = ::1:8787\n", 2, "http: ");
	load_fails("[store]\nemulator_host = localhost\n", 2,
	    "emulator_host: ");
	load_fails("[alpaca]\ntrading_url = ftp://x\n", 2,
	    "trading_url: \"ftp://x\" is not an http:// or https:// URL");
	load_fails("[alpaca]\ndata_url = https://\n", 2, "data_url: ");
	load_fails("[workers]\nuser = -root\n", 2,
	    "user: \"-root\" is not a user name");
	load_fails("[workers]\nuser = a b\n", 2, "user: ");
	load_fails("[store]\nproject_id = a b\n", 2, "project_id: ");
	load_fails("[auth]\ncerts = http://example.com/certs\n", 2,
	    "certs: fetch the certificates over https://");
	load_fails("[auth]\ncerts = https://\n", 2,
	    "certs: \"https://\" is not a URL");
	load_fails("[daemon]\nstate_dir = /a\x01\n", 2, "state_dir: control");
}

Test(config, checks_between_keys)
{
	load_fails("[store]\n\nbackend = firestore\n", 3,
	    "backend: firestore needs project_id in [store]");
	load_fails("[alpaca]\ndata_key_id = K\n", 2,
	    "data_key_id and data_secret_file must be set together");
	load_fails("[alpaca]\n\ndata_secret_file = /x\n", 3,
	    "data_key_id and data_secret_file must be set together");
}

Test(config, long_lines_and_nul_bytes_are_refused)
{
	char text[512];
	const char nul[] = "[daemon]\nstate_dir = /a\0b\n";

	memset(text, 0, sizeof(text));
	strcpy(text, "[daemon]\n# ");
	memset(text + strlen(text), 'x', 300);
	strcat(text, "\n");
	load_fails(text, 2, "line is longer than");
	write_file(conf, nul, sizeof(nul) - 1);
	cr_assert_eq(config_load(conf, &cfg, &err), -1);
	cr_assert_not_null(strstr(err.msg, ":2: NUL byte"), "%s", err.msg);
}

Test(config, unreadable_files_report_line_0)
{
	char want[256];

	cr_assert_eq(config_load(conf, &cfg, &err), -1);
	snprintf(want, sizeof(want), "%s:0: cannot open: ", conf);
	cr_assert_eq(strncmp(err.msg, want, strlen(want)), 0, "%s", err.msg);
	cr_assert_null(cfg.state_dir);
	cr_assert_eq(config_load(tmpdir, &cfg, &err), -1);
	cr_assert_not_null(strstr(err.msg, ":0: not a regular file"), "%s",
	    err.msg);
}

Test(config, default_path)
{
	unsetenv("TRADEPULSE_CONF");
	cr_assert_str_eq(config_default_path(), CONFIG_DEFAULT_PATH);
	setenv("TRADEPULSE_CONF", "", 1);
	cr_assert_str_eq(config_default_path(), CONFIG_DEFAULT_PATH);
	setenv("TRADEPULSE_CONF", "/tmp/x.conf", 1);
	cr_assert_str_eq(config_default_path(), "/tmp/x.conf");
}

Test(config, durations)
{
	const struct { const char *s; int rc; uint64_t ms; } cases[] = {
		{ "500ms", 0, 500 }, { "30s", 0, 30000 }, { "5m", 0, 300000 },
		{ "2h", 0, 7200000 }, { "1d", 0, 86400000 },
		{ "10", 0, 10000 }, { "0", 0, 0 }, { "0ms", 0, 0 },
		{ "007s", 0, 7000 },
		{ "18446744073709551615ms", 0, UINT64_MAX },
		{ "18446744073709551s", 0, UINT64_C(18446744073709551000) },
		{ "213503982334d", 0, UINT64_C(213503982334) * 86400000 },
		{ "18446744073709551616ms", -1, 0 },
		{ "18446744073709552s", -1, 0 },
		{ "213503982335d", -1, 0 },
		{ "18446744073709552", -1, 0 },
		{ "", -1, 0 }, { "s", -1, 0 }, { "ms", -1, 0 },
		{ "5 s", -1, 0 }, { " 5s", -1, 0 }, { "5s ", -1, 0 },
		{ "5S", -1, 0 }, { "5sec", -1, 0 }, { "-5s", -1, 0 },
		{ "+5s", -1, 0 }, { "5.5s", -1, 0 }, { "5ms5", -1, 0 },
		{ "1e3", -1, 0 }, { "5mm", -1, 0 }, { "0x10", -1, 0 },
		{ "5w", -1, 0 }, { "5us", -1, 0 },
	};
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = 12345;
		cr_assert_eq(config_parse_duration(cases[i].s, &ms),
		    cases[i].rc, "\"%s\"", cases[i].s);
		if (cases[i].rc == 0)
			cr_assert_eq(ms, cases[i].ms, "\"%s\" gave %llu",
			    cases[i].s, (unsigned long long)ms);
	}
	cr_assert_eq(config_parse_duration(NULL, &ms), -1);
}

Test(config, sizes)
{
	const struct { const char *s; int rc; uint64_t bytes; } cases[] = {
		{ "512", 0, 512 }, { "0", 0, 0 }, { "64K", 0, 65536 },
		{ "64k", 0, 65536 }, { "256M", 0, 268435456 },
		{ "1G", 0, 1073741824 }, { "3g", 0, UINT64_C(3) << 30 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "17179869183G", 0, UINT64_C(17179869183) << 30 },
		{ "18014398509481983K", 0, UINT64_C(18014398509481983) << 10 },
		{ "17179869184G", -1, 0 }, { "18014398509481984K", -1, 0 },
		{ "18446744073709551616", -1, 0 },
		{ "", -1, 0 }, { "K", -1, 0 }, { "1KB", -1, 0 },
		{ "1 K", -1, 0 }, { "-1", -1, 0 }, { "1.5M", -1, 0 },
		{ "1T", -1, 0 }, { "1Ki", -1, 0 }, { " 1", -1, 0 },
		{ "1 ", -1, 0 }, { "+1", -1, 0 },
	};
	uint64_t bytes;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bytes = 12345;
		cr_assert_eq(config_parse_size(cases[i].s, &bytes),
		    cases[i].rc, "\"%s\"", cases[i].s);
		if (cases[i].rc == 0)
			cr_assert_eq(bytes, cases[i].bytes, "\"%s\" gave %llu",
			    cases[i].s, (unsigned long long)bytes);
	}
}

Test(config, bools)
{
	const struct { const char *s; int rc; bool b; } cases[] = {
		{ "yes", 0, true }, { "no", 0, false }, { "true", 0, true },
		{ "false", 0, false }, { "on", 0, true }, { "off", 0, false },
		{ "1", 0, true }, { "0", 0, false }, { "YES", 0, true },
		{ "False", 0, false },
		{ "", -1, false }, { "y", -1, false }, { "2", -1, false },
		{ "yess", -1, false }, { "nope", -1, false },
		{ " yes", -1, false },
	};
	size_t i;
	bool b;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = !cases[i].b;
		cr_assert_eq(config_parse_bool(cases[i].s, &b), cases[i].rc,
		    "\"%s\"", cases[i].s);
		if (cases[i].rc == 0)
			cr_assert_eq(b, cases[i].b, "\"%s\"", cases[i].s);
	}
}

/* The example file: found through TP_SRCDIR (make check) or, when the
 * test is run by hand, through the path this file was compiled from. */
static void
example_path(char *path, size_t size)
{
	const char *src = getenv("TP_SRCDIR"), *suffix = "tests/unit/test_config.c";
	size_t n = strlen(__FILE__) - strlen(suffix);

	if (src != NULL && *src != '\0')
		snprintf(path, size, "%s/etc/tradepulse.conf.example", src);
	else
		snprintf(path, size, "%.*setc/tradepulse.conf.example", (int)n,
		    __FILE__);
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
		"[daemon]", "state_dir", "log_dir", "pidfile", "api", "events",
		"http", "api_max_request", "api_queue", "max_clients",
		"api_memory", "tenant_log_size", "tenant_log_keep",
		"core_dumps",
		"[store]", "backend", "path", "synchronous", "threads",
		"project_id", "emulator_host", "credentials",
		"[secrets]", "master_key",
		"[workers]", "user", "max_workers", "batch_size", "max_jobs",
		"job_timeout", "heartbeat_timeout", "memory_limit", "cpu_limit",
		"max_strikes", "core_dumps", "program", "max_queue",
		"backoff_max", "crash_rate",
		"[pulse]", "interval", "enabled",
		"[alpaca]", "trading_url", "data_url", "requests_per_minute",
		"data_key_id", "data_secret_file",
		"[auth]", "firebase_project_id", "certs", "curve_server_key",
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
