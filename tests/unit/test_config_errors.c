/* test_config_errors.c: the INI configuration refused with FILE:LINE and a reason, and the value parsers (durations, sizes, bools). */
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

/* A network endpoint only for the api, and only with CURVE. */
Test(config, tcp_api_needs_curve)
{
	load_fails("[daemon]\napi = tcp://0.0.0.0:5555\n", 2,
	    "api: a tcp:// endpoint needs CURVE: set both curve_server_key "
	    "and curve_clients in [auth], or use ipc:// (the socket's folder "
	    "and group are the access control)");
	load_fails("[daemon]\napi = tcp://127.0.0.1:5555\n[auth]\n"
	    "curve_server_key = /k\n", 2, "api: a tcp:// endpoint needs "
	    "CURVE");
	load_fails("[daemon]\napi = tcp://127.0.0.1:5555\n[auth]\n"
	    "curve_clients = /c\n", 2, "api: a tcp:// endpoint needs CURVE");
	load_fails("[daemon]\n\nevents = tcp://127.0.0.1:5556\n", 3,
	    "events: tcp:// endpoints are refused; use ipc:// (CURVE covers "
	    "the api endpoint only)");
	load_fails("[daemon]\napi = tcp://host\n", 2,
	    "api: \"tcp://host\" is not tcp://HOST:PORT");
	load_fails("[daemon]\napi = tcp://h:0\n", 2,
	    "api: \"tcp://h:0\" is not tcp://HOST:PORT");
	load_fails("[daemon]\napi = tcp://h:65536\n", 2,
	    "api: \"tcp://h:65536\" is not tcp://HOST:PORT");
	load_fails("[daemon]\napi = ws://x:1\n", 2,
	    "api: ws:// endpoints are refused");
	load_fails("[daemon]\napi = pgm://eth0;239.1.1.1:5555\n", 2,
	    "api: pgm:// endpoints are refused");
	load_fails("[daemon]\napi = /run/api.sock\n", 2,
	    "api: \"/run/api.sock\" is not ipc://PATH or tcp://HOST:PORT");
	load_fails("[daemon]\napi = TCP://x:1\n", 2,
	    "api: TCP:// endpoints are refused");
	load_ok("[daemon]\napi = ipc:///run/x/api.sock\n"
	    "events = ipc:///run/x/ev.sock\n");
	cr_assert_str_eq(cfg.api, "ipc:///run/x/api.sock");
	config_free(&cfg);
	load_ok("[daemon]\napi = tcp://127.0.0.1:5555\n[auth]\n"
	    "curve_server_key = /etc/tp/curve.key\ncurve_clients = "
	    "/etc/tp/clients\n");
	cr_assert_str_eq(cfg.api, "tcp://127.0.0.1:5555");
	cr_assert_str_eq(cfg.curve_server_key, "/etc/tp/curve.key");
	cr_assert_str_eq(cfg.curve_clients, "/etc/tp/clients");
}

/* The CURVE keys without a tcp:// api would be unused: refused. */
Test(config, curve_keys_need_a_tcp_api)
{
	load_fails("[auth]\ncurve_server_key = /etc/tradepulse/curve.key\n", 2,
	    "curve_server_key: CURVE is used only with api = tcp://HOST:PORT");
	load_fails("[auth]\n# c\ncurve_clients = /nonexistent/clients\n", 3,
	    "curve_clients: CURVE is used only with api = tcp://");
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
	load_fails("[auth]\nweb_api_key = k\n", 2,
	    "web_api_key: the page signs in to firebase_project_id's users");
	load_fails("[auth]\nfirebase_project_id = p\n"
	    "web_auth_emulator = http://127.0.0.1:9099\n", 3,
	    "web_auth_domain and web_auth_emulator need web_api_key");
}

/* The emulator's origin goes into the page's CSP as it is written. */
Test(config, web_auth_emulator_is_an_origin)
{
	load_fails("[auth]\nweb_auth_emulator = http://127.0.0.1:9099/\n", 2,
	    "web_auth_emulator: \"http://127.0.0.1:9099/\" is not an origin");
	load_fails("[auth]\nweb_auth_emulator = http://a;b:9099\n", 2,
	    "web_auth_emulator: ");
	load_fails("[auth]\nweb_auth_emulator = http://h:x\n", 2,
	    "web_auth_emulator: ");
	load_fails("[auth]\nweb_auth_emulator = http://[::1;]:9\n", 2,
	    "web_auth_emulator: ");
	load_fails("[auth]\nweb_auth_emulator = ftp://h\n", 2,
	    "web_auth_emulator: ");
	load_fails("[auth]\nweb_auth_emulator = http://:9099\n", 2,
	    "web_auth_emulator: ");
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

Test(config, signals)
{
	load_ok("[signals]\nfast = 5\nslow = 20\nbars = 21\n"
	    "min_confidence = 0.75\nstop_loss = 2.5\n");
	cr_expect_eq(cfg.signal_fast, 5);
	cr_expect_str_eq(cfg.signal_min_confidence, "0.75");
	config_free(&cfg);
	load_fails("[signals]\nfast = 30\nslow = 10\n", 2,
	    "fast: the fast SMA period (30) must be shorter than the slow "
	    "one (10)");
	load_fails("[signals]\nbars = 30\n", 2, "bars: 30 daily bars are too "
	    "few");
	load_fails("[signals]\nmin_confidence = 1.5\n", 2,
	    "min_confidence: 1.5 is out of range (0 to 1)");
	load_fails("[signals]\nposition_fraction = 0\n", 2,
	    "position_fraction: 0 is out of range (0.000001 to 1)");
	load_fails("[signals]\nstop_loss = 5%\n", 2,
	    "stop_loss: \"5%\" is not a decimal number");
	load_fails("[signals]\ntake_profit = 0.0000001\n", 2,
	    "take_profit: \"0.0000001\" is not a decimal number with at most "
	    "6 decimals");
	load_fails("[signals]\nrsi_period = 1\n", 2,
	    "rsi_period: 1 is out of range (2 to 100)");
}
