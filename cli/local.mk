# cli/local.mk: tradepulse, the operator's command line.
bin_PROGRAMS += cli/tradepulse
cli_tradepulse_SOURCES = \
	cli/main.c cli/cli.h \
	cli/args.c \
	cli/call.c \
	cli/client.c \
	cli/output.c \
	cli/table.c \
	cli/cmd_keygen.c \
	cli/cmd_tenant.c \
	cli/cmd_keys.c \
	cli/cmd_trading.c \
	cli/cmd_watch.c cli/cmd_pause.c \
	cli/cmd_status.c \
	cli/cmd_pulse.c \
	cli/cmd_sync.c \
	cli/cmd_signal.c \
	cli/cmd_job.c \
	cli/cmd_migrate.c \
	cli/cmd_trades.c \
	cli/cmd_logs.c \
	cli/cmd_crashes.c
cli_tradepulse_LDADD = $(COMMON_LIBS)
