# common/local.mk: the shared code, linked into every program.
noinst_LIBRARIES += common/libtpcommon.a
common_libtpcommon_a_SOURCES = \
	common/error.c common/error.h \
	common/path.c common/path.h \
	common/store.c common/store.h common/store_backend.h \
	common/store_sqlite.c \
	common/jsonutil.c common/jsonutil.h \
	common/secrets.c common/secrets.h \
	common/config.c common/config.h \
	common/log.c common/log.h \
	common/tenantlog.c common/tenantlog.h \
	common/api.h \
	common/wire.c common/wire.h \
	common/wire_result.c common/wire_result.h \
	common/sealbox.c common/sealbox.h \
	common/decimal.c common/decimal.h \
	common/pnl.c common/pnl.h \
	common/clock.c common/clock.h \
	common/htab.c common/htab.h
