# etc/local.mk: the files an install adds around the programs, with the configured paths.

# The init script, the unit, the example configuration and the logrotate
# file name installed paths; they are made from their .in at `make` time
# (not by configure), as the GNU Coding Standards ask, so that
# `make prefix=...` gives the right paths too.
TP_EDIT = $(SED) \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@libexecdir[@]|$(libexecdir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@runstatedir[@]|$(runstatedir)|g' \
	-e 's|@docdir[@]|$(docdir)|g' \
	-e 's|@datadir[@]|$(datadir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'
TP_EDITED = etc/tradepulse.conf.example etc/tradepulsed.init \
	etc/tradepulsed.service etc/logrotate.d/tradepulse
# $@.in from the source tree; a token left unreplaced is an error.
TP_EDIT_RULE = $(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	$(TP_EDIT) '$(srcdir)/$@.in' >$@.tmp && \
	if grep -n '@[a-zA-Z_]*[@]' $@.tmp | grep -v 'gserviceaccount' >&2; then \
	  echo "$@: a token is not replaced" >&2; rm -f $@.tmp; exit 1; \
	fi && mv $@.tmp $@
etc/tradepulse.conf.example: $(srcdir)/etc/tradepulse.conf.example.in Makefile
	$(TP_EDIT_RULE)
etc/tradepulsed.init: $(srcdir)/etc/tradepulsed.init.in Makefile
	$(TP_EDIT_RULE)
	chmod +x $@
etc/tradepulsed.service: $(srcdir)/etc/tradepulsed.service.in Makefile
	$(TP_EDIT_RULE)
etc/logrotate.d/tradepulse: $(srcdir)/etc/logrotate.d/tradepulse.in Makefile
	$(TP_EDIT_RULE)
noinst_DATA = $(TP_EDITED)
CLEANFILES += $(TP_EDITED)
EXTRA_DIST += etc/tradepulse.conf.example.in etc/tradepulsed.init.in \
	etc/tradepulsed.service.in etc/logrotate.d/tradepulse.in

# make install: the example configuration beside where the real one goes,
# the unit, the logrotate file, the init script (renamed, executable: see
# install-data-local), and the documentation.
tpconfdir = $(sysconfdir)/tradepulse
tpconf_DATA = etc/tradepulse.conf.example
systemdsystemunit_DATA = etc/tradepulsed.service
logrotatedir = $(sysconfdir)/logrotate.d
logrotate_DATA = etc/logrotate.d/tradepulse
dist_doc_DATA = README.md docs/firestore-rules.md docs/firestore.md docs/pnl.md \
	docs/migration.md docs/strategy.md docs/security.md docs/crashes.md \
	docs/events.md docs/metrics.md
# A sample for Prometheus (docs/metrics.md): copied into its rule_files.
promexampledir = $(docdir)/examples/prometheus
dist_promexample_DATA = etc/prometheus/tradepulse-alerts.yml
initddir = $(sysconfdir)/init.d
install-data-local: etc/tradepulsed.init
	$(MKDIR_P) '$(DESTDIR)$(initddir)'
	$(INSTALL_SCRIPT) etc/tradepulsed.init '$(DESTDIR)$(initddir)/tradepulsed'
uninstall-local:
	rm -f '$(DESTDIR)$(initddir)/tradepulsed'

# make install-service, once, as root, after make install: the service
# user and group, and the folders the daemon writes, with their owners and
# modes. DESTDIR prefixes the folders (a package's staging tree); the user
# and group are created only on the real system (DESTDIR empty), and the
# folders get owners only when that user exists and this runs as root.
# The configuration folder stays root's (a daemon that could rewrite its
# configuration could name root as its user for the next start); the
# master key lives in private/, the service user's, since keys.rotate
# writes the new key file beside the old one.
# `make uninstall` leaves all of these (they hold the data and the logs).
TP_SERVICE_USER = tradepulse
install-service:
	@set -e; u='$(TP_SERVICE_USER)'; \
	$(MKDIR_P) '$(DESTDIR)$(localstatedir)/lib/tradepulse'; \
	if [ -z '$(DESTDIR)' ]; then \
	  if ! getent group "$$u" >/dev/null; then \
	    if command -v addgroup >/dev/null; then addgroup --system "$$u"; \
	    else groupadd --system "$$u"; fi; \
	  fi; \
	  if ! getent passwd "$$u" >/dev/null; then \
	    if command -v adduser >/dev/null; then \
	      adduser --system --ingroup "$$u" --no-create-home \
	        --home '$(localstatedir)/lib/tradepulse' --shell /usr/sbin/nologin \
	        --comment 'tradepulse daemon' "$$u"; \
	    else \
	      useradd --system --gid "$$u" --no-create-home \
	        --home-dir '$(localstatedir)/lib/tradepulse' \
	        --shell /usr/sbin/nologin --comment 'tradepulse daemon' "$$u"; \
	    fi; \
	  fi; \
	fi; \
	svc= root=; \
	if [ "$$(id -u)" = 0 ] && getent passwd "$$u" >/dev/null; then \
	  svc="-o $$u -g $$u"; root="-o root -g $$u"; \
	else \
	  echo "install-service: not root, or no user $$u: the folders keep their owner"; \
	fi; \
	echo "  $(DESTDIR)$(localstatedir)/lib/tradepulse  0750 $$u:$$u (state)"; \
	$(INSTALL) -d -m 0750 $$svc '$(DESTDIR)$(localstatedir)/lib/tradepulse'; \
	echo "  $(DESTDIR)$(localstatedir)/log/tradepulse  0750 $$u:$$u (logs)"; \
	$(INSTALL) -d -m 0750 $$svc '$(DESTDIR)$(localstatedir)/log/tradepulse'; \
	echo "  $(DESTDIR)$(runstatedir)/tradepulse  0750 $$u:$$u (sockets, pidfile)"; \
	$(INSTALL) -d -m 0750 $$svc '$(DESTDIR)$(runstatedir)/tradepulse'; \
	echo "  $(DESTDIR)$(sysconfdir)/tradepulse  0750 root:$$u (configuration)"; \
	$(INSTALL) -d -m 0750 $$root '$(DESTDIR)$(sysconfdir)/tradepulse'; \
	echo "  $(DESTDIR)$(sysconfdir)/tradepulse/private  0700 $$u:$$u (the master key)"; \
	$(INSTALL) -d -m 0700 $$svc '$(DESTDIR)$(sysconfdir)/tradepulse/private'
.PHONY: install-service

# The dashboard's files (web/local.mk lists them, no wildcard), served by
# tradepulsed at / from [daemon] web_root.
webdir = $(datadir)/tradepulse/web
dist_web_DATA = $(TP_WEB_FILES)
dist_doc_DATA += docs/dashboard.md
