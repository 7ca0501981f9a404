# man/local.mk: the manual pages, with the configured paths, and their lint.
TP_MAN_INSTALLED = man/tradepulsed.8 man/tradepulse.1 man/tradepulse.conf.5
# alpaca-sim is a test and demo tool, installed with its page only by
# ./configure --enable-install-sim (otherwise man -l man/alpaca-sim.1
# reads it in the build folder).
TP_MAN = $(TP_MAN_INSTALLED) man/alpaca-sim.1
if INSTALL_SIM
man_MANS = $(TP_MAN_INSTALLED) man/alpaca-sim.1
else
man_MANS = $(TP_MAN_INSTALLED)
noinst_DATA += man/alpaca-sim.1
endif
man/tradepulsed.8: $(srcdir)/man/tradepulsed.8.in Makefile
	$(TP_EDIT_RULE)
man/tradepulse.1: $(srcdir)/man/tradepulse.1.in Makefile
	$(TP_EDIT_RULE)
man/tradepulse.conf.5: $(srcdir)/man/tradepulse.conf.5.in Makefile
	$(TP_EDIT_RULE)
man/alpaca-sim.1: $(srcdir)/man/alpaca-sim.1.in Makefile
	$(TP_EDIT_RULE)
CLEANFILES += $(TP_MAN)
EXTRA_DIST += man/tradepulsed.8.in man/tradepulse.1.in \
	man/tradepulse.conf.5.in man/alpaca-sim.1.in
