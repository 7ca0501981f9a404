# supervisor/local.mk: tradepulsed, the daemon.
sbin_PROGRAMS += supervisor/tradepulsed
supervisor_tradepulsed_SOURCES = \
	supervisor/main.c supervisor/daemon.h \
	supervisor/files.c \
	supervisor/daemonlog.c \
	supervisor/preflight.c \
	supervisor/privdrop.c supervisor/privdrop.h supervisor/privdrop_seccomp.c \
	supervisor/usage.c \
	supervisor/keyring.c supervisor/keyring.h \
	supervisor/api.c supervisor/api_args.c supervisor/api.h \
	supervisor/api_open.c supervisor/api_int.h \
	supervisor/api_auth.c \
	supervisor/clients.c supervisor/clients.h \
	supervisor/zap.c supervisor/zap.h \
	supervisor/datakey.c supervisor/datakey.h \
	supervisor/tenant.c supervisor/tenant.h \
	supervisor/tenant_store.c supervisor/tenant_store.h \
	supervisor/keys.c supervisor/keys.h \
	supervisor/status.c supervisor/status.h \
	supervisor/events.c supervisor/events_job.c supervisor/events.h \
	supervisor/userapi.c supervisor/userapi_reply.c supervisor/userapi.h supervisor/userapi_int.h \
	supervisor/userapi_me.c supervisor/userapi_sse.c supervisor/webroot.c \
	supervisor/webconfig.c \
	supervisor/pause.c supervisor/pause.h \
	supervisor/pool.c supervisor/pool.h supervisor/pool_int.h \
	supervisor/pool_channel.c supervisor/pool_status.c \
	supervisor/spawn.c \
	supervisor/throttle.c \
	supervisor/resolve.c \
	supervisor/jobs.c supervisor/jobs.h \
	supervisor/policy.c supervisor/policy.h \
	supervisor/engine.c supervisor/engine.h supervisor/engine_int.h \
	supervisor/dispatch.c \
	supervisor/compose.c supervisor/compose.h \
	supervisor/results.c \
	supervisor/crash.c \
	supervisor/logs.h supervisor/logs_op.c supervisor/crashes_op.c \
	supervisor/sync.c supervisor/sync.h \
	supervisor/signals.c supervisor/signals.h supervisor/signals_trade.c \
	supervisor/pulse.c supervisor/pulse.h \
	supervisor/pulse_plan.c supervisor/pulse_plan.h \
	supervisor/pulse_op.c \
	supervisor/pulse_json.c supervisor/pulse_int.h \
	supervisor/trades.c supervisor/trades.h \
	supervisor/lifecycle.c supervisor/lifecycle.h \
	supervisor/trades_op.c \
	supervisor/zframes.c supervisor/zframes.h \
	supervisor/router.c supervisor/router.h \
	supervisor/migrate.c supervisor/migrate.h \
	supervisor/prom.c supervisor/prom.h \
	supervisor/metrics.c supervisor/metrics.h \
	supervisor/http.c supervisor/http.h
supervisor_tradepulsed_LDADD = $(COMMON_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS)
supervisor_tradepulsed_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS)
