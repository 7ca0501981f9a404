# common/local.mk: the shared code, in two libraries.
# libtpbase.a: the pure helpers, with no store, SQLite, libevent or inih, so
# the sandboxed worker links only what it runs (tests/integration/linkage.sh).
noinst_LIBRARIES += common/libtpbase.a
common_libtpbase_a_SOURCES = \
	common/error.c common/error.h \
	common/path.c common/path.h \
	common/jsonutil.c common/jsonutil.h \
	common/timefmt.c common/timefmt.h \
	common/api.h \
	common/wire.c common/wire.h \
	common/wire_result.c common/wire_result_enc.c common/wire_result.h \
	common/wire_result_sig.c common/wire_result_http.c \
	common/sealbox.c common/sealbox.h \
	common/decimal.c common/decimal.h \
	common/pnl.c common/pnl.h \
	common/figures.c common/figures.h \
	common/strategy.c common/strategy.h \
	common/clock.c common/clock.h \
	common/htab.c common/htab.h
# libtpcommon.a: the store, secrets, configuration and logs, for the daemon,
# the CLI and the tools; it builds on libtpbase.a.
noinst_LIBRARIES += common/libtpcommon.a
common_libtpcommon_a_SOURCES = \
	common/store.c common/store.h common/store_backend.h common/store_int.h \
	common/store_async.c \
	common/store_sqlite.c common/store_sqlite_conn.c common/store_sqlite_int.h \
	common/secrets.c common/secrets.h common/secrets_int.h \
	common/secrets_keyfile.c \
	common/config.c common/config.h common/config_int.h \
	common/config_value.c \
	common/log.c common/log.h \
	common/tenantlog.c common/tenantlog.h \
	common/tenantlog_parse.c common/tenantlog_read.c common/tenantlog_read.h \
	common/gauth.c common/gauth.h common/gauth_int.h \
	common/url.c common/url.h \
	common/fsvalue.c common/fsvalue.h \
	common/fsnum.c common/fsnum.h \
	common/fshttp.c common/fshttp.h \
	common/store_firestore.c \
	common/idtoken.c common/idtoken.h common/idtoken_int.h \
	common/idtoken_certs.c
# The Firestore backend (store_firestore.c, fshttp.c, fsvalue.c, gauth.c)
# uses libcurl and OpenSSL, so COMMON_LIBS names them.
# CURVE keys and the API's client allowlist (issue 12); uses libzmq.
common_libtpcommon_a_SOURCES += common/curve.c common/curve.h
