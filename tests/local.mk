# tests/local.mk: Criterion unit tests (one per module) and integration scripts.
UNIT_TESTS = \
	tests/unit/test_path \
	tests/unit/test_store_docs \
	tests/unit/test_store_query \
	tests/unit/test_store_bulk \
	tests/unit/test_store_batch \
	tests/unit/test_store_async \
	tests/unit/test_store_sqlite \
	tests/unit/test_secrets_keyfile \
	tests/unit/test_secrets_seal \
	tests/unit/test_config \
	tests/unit/test_config_errors \
	tests/unit/test_jsonutil \
	tests/unit/test_log \
	tests/unit/test_tenantlog \
	tests/unit/test_tenantlog_read \
	tests/unit/test_wire \
	tests/unit/test_result \
	tests/unit/test_result_http \
	tests/unit/test_sealbox \
	tests/unit/test_throttle \
	tests/unit/test_prom \
	tests/unit/test_decimal_parse \
	tests/unit/test_decimal_arith \
	tests/unit/test_decimal_json \
	tests/unit/test_pnl \
	tests/unit/test_figures \
	tests/unit/test_strategy \
	tests/unit/test_result_signal \
	tests/unit/test_alpaca \
	tests/unit/test_alpaca_server \
	tests/unit/test_alpaca_parse \
	tests/unit/test_gauth \
	tests/unit/test_fsvalue \
	tests/unit/test_fsnum \
	tests/unit/test_fshttp \
	tests/unit/test_lifecycle \
	tests/unit/test_idtoken

check_PROGRAMS += $(UNIT_TESTS) tests/apiclient tests/speccheck
TESTS += $(UNIT_TESTS)

UNIT_LDADD = $(COMMON_LIBS) $(CRITERION_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)

tests_unit_test_path_SOURCES = tests/unit/test_path.c
tests_unit_test_path_LDADD = $(UNIT_LDADD)
tests_unit_test_path_CFLAGS = $(UNIT_CFLAGS)
# The document store, in five parts sharing one fixture.
JSONTEXT = tests/unit/jsontext.c tests/unit/jsontext.h
STORE_FIXTURE = tests/unit/store_fixture.c tests/unit/store_fixture.h $(JSONTEXT)
tests_unit_test_store_docs_SOURCES = tests/unit/test_store_docs.c $(STORE_FIXTURE)
tests_unit_test_store_docs_LDADD = $(UNIT_LDADD)
tests_unit_test_store_docs_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_query_SOURCES = tests/unit/test_store_query.c $(STORE_FIXTURE)
tests_unit_test_store_query_LDADD = $(UNIT_LDADD)
tests_unit_test_store_query_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_bulk_SOURCES = tests/unit/test_store_bulk.c $(STORE_FIXTURE)
tests_unit_test_store_bulk_LDADD = $(UNIT_LDADD)
tests_unit_test_store_bulk_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_batch_SOURCES = tests/unit/test_store_batch.c $(STORE_FIXTURE)
tests_unit_test_store_batch_LDADD = $(UNIT_LDADD)
tests_unit_test_store_batch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_async_SOURCES = tests/unit/test_store_async.c $(STORE_FIXTURE)
tests_unit_test_store_async_LDADD = $(UNIT_LDADD)
tests_unit_test_store_async_CFLAGS = $(UNIT_CFLAGS)
# The same five suites on the Firestore emulator (store_fixture.c picks the
# backend): a second build of the same sources; without an emulator
# (TP_FS_EMULATOR_HOST empty) each skips, saying why.
FS_UNIT_TESTS = \
	tests/unit/test_store_docs_fs \
	tests/unit/test_store_query_fs \
	tests/unit/test_store_batch_fs \
	tests/unit/test_store_async_fs \
	tests/unit/test_store_bulk_fs
check_PROGRAMS += $(FS_UNIT_TESTS)
TESTS += $(FS_UNIT_TESTS)
UNIT_FS_CFLAGS = $(UNIT_CFLAGS) -DTP_STORE_TEST_FIRESTORE
tests_unit_test_store_docs_fs_SOURCES = $(tests_unit_test_store_docs_SOURCES)
tests_unit_test_store_docs_fs_LDADD = $(UNIT_LDADD)
tests_unit_test_store_docs_fs_CFLAGS = $(UNIT_FS_CFLAGS)
tests_unit_test_store_query_fs_SOURCES = $(tests_unit_test_store_query_SOURCES)
tests_unit_test_store_query_fs_LDADD = $(UNIT_LDADD)
tests_unit_test_store_query_fs_CFLAGS = $(UNIT_FS_CFLAGS)
tests_unit_test_store_batch_fs_SOURCES = $(tests_unit_test_store_batch_SOURCES)
tests_unit_test_store_batch_fs_LDADD = $(UNIT_LDADD)
tests_unit_test_store_batch_fs_CFLAGS = $(UNIT_FS_CFLAGS)
tests_unit_test_store_async_fs_SOURCES = $(tests_unit_test_store_async_SOURCES)
tests_unit_test_store_async_fs_LDADD = $(UNIT_LDADD)
tests_unit_test_store_async_fs_CFLAGS = $(UNIT_FS_CFLAGS)
tests_unit_test_store_bulk_fs_SOURCES = $(tests_unit_test_store_bulk_SOURCES)
tests_unit_test_store_bulk_fs_LDADD = $(UNIT_LDADD)
tests_unit_test_store_bulk_fs_CFLAGS = $(UNIT_FS_CFLAGS)
tests_unit_test_store_sqlite_SOURCES = tests/unit/test_store_sqlite.c $(STORE_FIXTURE)
tests_unit_test_store_sqlite_LDADD = $(UNIT_LDADD)
tests_unit_test_store_sqlite_CFLAGS = $(UNIT_CFLAGS)
SECRETS_FIXTURE = tests/unit/secrets_fixture.c tests/unit/secrets_fixture.h
tests_unit_test_secrets_keyfile_SOURCES = tests/unit/test_secrets_keyfile.c \
	$(SECRETS_FIXTURE)
tests_unit_test_secrets_keyfile_LDADD = $(UNIT_LDADD)
tests_unit_test_secrets_keyfile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_secrets_seal_SOURCES = tests/unit/test_secrets_seal.c \
	$(SECRETS_FIXTURE)
tests_unit_test_secrets_seal_LDADD = $(UNIT_LDADD)
tests_unit_test_secrets_seal_CFLAGS = $(UNIT_CFLAGS)
CONFIG_FIXTURE = tests/unit/config_fixture.c tests/unit/config_fixture.h
tests_unit_test_config_SOURCES = tests/unit/test_config.c $(CONFIG_FIXTURE)
tests_unit_test_config_errors_SOURCES = tests/unit/test_config_errors.c \
	$(CONFIG_FIXTURE)
tests_unit_test_config_errors_LDADD = $(UNIT_LDADD)
tests_unit_test_config_errors_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jsonutil_SOURCES = tests/unit/test_jsonutil.c $(JSONTEXT)
tests_unit_test_jsonutil_LDADD = $(UNIT_LDADD)
tests_unit_test_jsonutil_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_LDADD = $(UNIT_LDADD)
tests_unit_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tenantlog_SOURCES = tests/unit/test_tenantlog.c
tests_unit_test_tenantlog_LDADD = $(UNIT_LDADD)
tests_unit_test_tenantlog_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tenantlog_read_SOURCES = tests/unit/test_tenantlog_read.c
tests_unit_test_tenantlog_read_LDADD = $(UNIT_LDADD)
tests_unit_test_tenantlog_read_CFLAGS = $(UNIT_CFLAGS)

tests_unit_test_wire_SOURCES = tests/unit/test_wire.c
tests_unit_test_wire_LDADD = $(UNIT_LDADD)
tests_unit_test_wire_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_result_SOURCES = tests/unit/test_result.c
tests_unit_test_result_LDADD = $(UNIT_LDADD)
tests_unit_test_result_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_result_http_SOURCES = tests/unit/test_result_http.c
tests_unit_test_result_http_LDADD = $(UNIT_LDADD)
tests_unit_test_result_http_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sealbox_SOURCES = tests/unit/test_sealbox.c
tests_unit_test_sealbox_LDADD = $(UNIT_LDADD)
tests_unit_test_sealbox_CFLAGS = $(UNIT_CFLAGS)

tests_unit_test_throttle_SOURCES = tests/unit/test_throttle.c supervisor/throttle.c
tests_unit_test_throttle_LDADD = $(UNIT_LDADD)
tests_unit_test_throttle_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_prom_SOURCES = tests/unit/test_prom.c supervisor/prom.c
tests_unit_test_prom_LDADD = $(UNIT_LDADD)
tests_unit_test_prom_CFLAGS = $(UNIT_CFLAGS)
# Fixed-point decimals, in three parts sharing their helpers.
DECIMAL_FIXTURE = tests/unit/decimal_fixture.c tests/unit/decimal_fixture.h
tests_unit_test_decimal_parse_SOURCES = tests/unit/test_decimal_parse.c $(DECIMAL_FIXTURE)
tests_unit_test_decimal_parse_LDADD = $(UNIT_LDADD)
tests_unit_test_decimal_parse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_decimal_arith_SOURCES = tests/unit/test_decimal_arith.c $(DECIMAL_FIXTURE) tests/unit/decimal_cases.h
tests_unit_test_decimal_arith_LDADD = $(UNIT_LDADD)
tests_unit_test_decimal_arith_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_decimal_json_SOURCES = tests/unit/test_decimal_json.c $(DECIMAL_FIXTURE)
tests_unit_test_decimal_json_LDADD = $(UNIT_LDADD)
tests_unit_test_decimal_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lifecycle_SOURCES = tests/unit/test_lifecycle.c supervisor/lifecycle.c $(STORE_FIXTURE)
tests_unit_test_lifecycle_LDADD = $(UNIT_LDADD)
tests_unit_test_lifecycle_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pnl_SOURCES = tests/unit/test_pnl.c
tests_unit_test_pnl_LDADD = $(UNIT_LDADD)
tests_unit_test_pnl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_figures_SOURCES = tests/unit/test_figures.c
tests_unit_test_figures_LDADD = $(UNIT_LDADD)
tests_unit_test_figures_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_strategy_SOURCES = tests/unit/test_strategy.c
tests_unit_test_strategy_LDADD = $(UNIT_LDADD)
tests_unit_test_strategy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_result_signal_SOURCES = tests/unit/test_result_signal.c
tests_unit_test_result_signal_LDADD = $(UNIT_LDADD)
tests_unit_test_result_signal_CFLAGS = $(UNIT_CFLAGS)

# The Alpaca client's reply parsing alone: no libcurl, no server.
tests_unit_test_alpaca_parse_SOURCES = tests/unit/test_alpaca_parse.c worker/alpaca_parse.c \
	$(JSONTEXT)
tests_unit_test_alpaca_parse_LDADD = $(UNIT_LDADD)
tests_unit_test_alpaca_parse_CFLAGS = $(UNIT_CFLAGS)

# The worker's Alpaca client without a server: URLs, limits, replies.
tests_unit_test_alpaca_SOURCES = tests/unit/test_alpaca.c \
	tests/unit/alpaca_fixture.c tests/unit/alpaca_fixture.h worker/alpaca.c \
	worker/alpaca_curl.c worker/alpaca_parse.c
tests_unit_test_alpaca_LDADD = $(UNIT_LDADD) $(CURL_LIBS) $(OPENSSL_LIBS)
tests_unit_test_alpaca_CFLAGS = $(UNIT_CFLAGS) $(CURL_CFLAGS) $(OPENSSL_CFLAGS)

# The worker's Alpaca client, against a scripted server in the test.
tests_unit_test_alpaca_server_SOURCES = tests/unit/test_alpaca_server.c \
	tests/unit/alpaca_fixture.c tests/unit/alpaca_fixture.h \
	worker/alpaca.c worker/alpaca_curl.c worker/alpaca_parse.c
tests_unit_test_alpaca_server_LDADD = $(UNIT_LDADD) $(CURL_LIBS) \
	$(OPENSSL_LIBS) -lpthread
tests_unit_test_alpaca_server_CFLAGS = $(UNIT_CFLAGS) $(CURL_CFLAGS) \
	$(OPENSSL_CFLAGS)

# Service-account credentials against a token endpoint in the test that
# checks the JWT.
tests_unit_test_gauth_SOURCES = tests/unit/test_gauth.c
tests_unit_test_gauth_LDADD = $(UNIT_LDADD) $(CURL_LIBS) $(OPENSSL_LIBS) \
	-lpthread
tests_unit_test_gauth_CFLAGS = $(UNIT_CFLAGS)

# Firebase ID tokens: keys, certificates and tokens made in the test, and a
# certificates server on loopback in a thread of the test.
tests_unit_test_idtoken_SOURCES = tests/unit/test_idtoken.c
tests_unit_test_idtoken_LDADD = $(UNIT_LDADD) $(CURL_LIBS) $(OPENSSL_LIBS) \
	-lpthread
tests_unit_test_idtoken_CFLAGS = $(UNIT_CFLAGS)

# Firestore's typed values both ways; with TP_FS_EMULATOR_HOST set, also
# against the emulator (libcurl).
tests_unit_test_fsvalue_SOURCES = tests/unit/test_fsvalue.c $(JSONTEXT)
tests_unit_test_fsvalue_LDADD = $(UNIT_LDADD) $(CURL_LIBS)
tests_unit_test_fsvalue_CFLAGS = $(UNIT_CFLAGS)

# Numbers' texts beside their doubles; with TP_FS_EMULATOR_HOST set, also
# through the store against the emulator.
tests_unit_test_fsnum_SOURCES = tests/unit/test_fsnum.c $(JSONTEXT)
tests_unit_test_fsnum_LDADD = $(UNIT_LDADD) $(CURL_LIBS)
tests_unit_test_fsnum_CFLAGS = $(UNIT_CFLAGS)

# The Firestore transport against an HTTP server in the test, and against
# the emulator when TP_FS_EMULATOR_HOST is set.
tests_unit_test_fshttp_SOURCES = tests/unit/test_fshttp.c
tests_unit_test_fshttp_LDADD = $(UNIT_LDADD) $(CURL_LIBS) $(OPENSSL_LIBS) \
	-lpthread
tests_unit_test_fshttp_CFLAGS = $(UNIT_CFLAGS)

# Plays the supervisor for one worker: HELLO, CONFIG, JOBs; prints RESULTs and LOGs.
check_PROGRAMS += tests/workerharness
tests_workerharness_SOURCES = tests/workerharness.c
tests_workerharness_LDADD = $(COMMON_LIBS)

# A hostile job API client: a connection flood, clients that never read.
check_PROGRAMS += tests/apiabuse
tests_apiabuse_SOURCES = tests/apiabuse.c
tests_apiabuse_LDADD = $(COMMON_LIBS)

# A raw job API client: sends one frame from a file or stdin, prints the reply.
tests_apiclient_SOURCES = tests/apiclient.c
tests_apiclient_LDADD = $(COMMON_LIBS)

# Checks a JSON reply against an OpenAPI response schema (alpaca-sim's tests).
tests_speccheck_SOURCES = tests/speccheck.c
tests_speccheck_LDADD = $(COMMON_LIBS)

# Writes documents (shadow trades) into a SQLite store, for tests, the
# demo and the benchmark; built with the programs, not installed.
noinst_PROGRAMS += tests/storetool
tests_storetool_SOURCES = tests/storetool.c
tests_storetool_LDADD = $(COMMON_LIBS)

# Integration tests start the real programs; each prints "N passed, N failed".
INTEGRATION_TESTS = \
	tests/integration/cli.sh \
	tests/integration/api.sh \
	tests/integration/apilimits.sh \
	tests/integration/config.sh \
	tests/integration/curve.sh \
	tests/integration/crash.sh \
	tests/integration/sandbox.sh \
	tests/integration/privdrop.sh \
	tests/integration/unit_security.sh \
	tests/integration/foreign.sh \
	tests/integration/crashloop.sh \
	tests/integration/poison.sh \
	tests/integration/killstorm.sh \
	tests/integration/orphan.sh \
	tests/integration/outsidekill.sh \
	tests/integration/chaos.sh \
	tests/integration/drain.sh \
	tests/integration/pulse.sh \
	tests/integration/events.sh \
	tests/integration/pause.sh \
	tests/integration/pulse_fs.sh \
	tests/integration/signal.sh \
	tests/integration/signal_fs.sh \
	tests/integration/signal_trade.sh \
	tests/integration/signal_trade_fs.sh \
	tests/integration/dashboard_fs.sh \
	tests/integration/dashboard_page.sh \
	tests/integration/dashboard_page_fs.sh \
	tests/integration/dashboard_sdk.sh \
	tests/integration/userapi.sh \
	tests/integration/userapi_fs.sh \
	tests/integration/sim.sh \
	tests/integration/misbehave.sh \
	tests/integration/worker.sh \
	tests/integration/linkage.sh \
	tests/integration/coresecrets.sh \
	tests/integration/firebase.sh \
	tests/integration/idtoken.sh \
	tests/integration/rules.sh \
	tests/integration/demo.sh \
	tests/integration/migrate.sh \
	tests/integration/migrate_fs.sh \
	tests/integration/lifecycle.sh \
	tests/integration/lifecycle_fs.sh \
	tests/integration/logs.sh \
	tests/integration/logs_fs.sh \
	tests/integration/metrics.sh \
	tests/integration/alerts.sh \
	tests/integration/manpages.sh \
	tests/integration/install.sh
TESTS += $(INTEGRATION_TESTS)
dist_noinst_SCRIPTS += $(INTEGRATION_TESTS) tests/integration/lib.sh tests/integration/lib_daemon.sh tests/summary tests/demo
dist_noinst_SCRIPTS += tests/integration/promparse.py tests/integration/alerts_gen.py
EXTRA_DIST += tests/contracts/alpaca/README.md \
	tests/contracts/alpaca/trading-api.json \
	tests/contracts/alpaca/market-data-api.json

TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(BASH)
AM_TESTS_ENVIRONMENT = \
	TP_BUILDDIR='$(abs_top_builddir)'; TP_SRCDIR='$(abs_top_srcdir)'; \
	TP_FS_EMULATOR_HOST=`cat '$(TP_FS_HOSTFILE)' 2>/dev/null`; \
	export TP_BUILDDIR TP_SRCDIR TP_FS_EMULATOR_HOST;

# One Firestore emulator for the whole run, shared by the tests on
# Firestore (each in projects of its own): tests/emulator.sh starts it
# before the tests, and its watchdog stops it (its java too) when the make
# running them exits, passed or failed or interrupted. Where the emulator
# or java is missing, none is started and those tests skip.
TP_FS_HOSTFILE = $(abs_top_builddir)/tests/emulator.host
tests/emulator-up:
	@$(MKDIR_P) tests
	@$(BASH) '$(abs_top_srcdir)/tests/emulator.sh' start '$(TP_FS_HOSTFILE)' "$$PPID"
check-TESTS recheck: tests/emulator-up
.PHONY: tests/emulator-up
CLEANFILES = tests/emulator.host tests/emulator.host.pgid tests/emulator.host.log
dist_noinst_SCRIPTS += tests/emulator.sh

# The dashboard's browser test: its driver, and what it leaves in the build tree
# (playwright-core from npm, the screenshots).
EXTRA_DIST += tests/integration/dashboard_page.mjs
clean-local: tp-dashboard-clean
tp-dashboard-clean:
	-rm -rf tests/node tests/integration/dashboard_page-shots tests/integration/dashboard_page_fs-shots tests/integration/dashboard_sdk-shots
.PHONY: tp-dashboard-clean
