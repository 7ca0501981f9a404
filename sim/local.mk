# sim/local.mk: alpaca-sim, the local Alpaca broker and market-data server.
# A test and demo tool: built with the programs, never installed.
# A test and demo tool: installed only with ./configure --enable-install-sim.
if INSTALL_SIM
bin_PROGRAMS += sim/alpaca-sim
else
noinst_PROGRAMS += sim/alpaca-sim
endif
sim_alpaca_sim_SOURCES = \
	sim/main.c sim/sim.h \
	sim/market.c sim/market.h \
	sim/accounts.c \
	sim/api.c \
	sim/reply.c \
	sim/faults.c \
	sim/control.c
sim_alpaca_sim_LDADD = $(COMMON_LIBS)
