# web/local.mk: the dashboard page's files (served by tradepulsed at /, installed under $(datadir)/tradepulse/web).
TP_WEB_FILES = web/index.html web/app.js web/app.css

# Firebase Auth's web SDK (optional; never in git): when FIREBASE_SDK is the
# folder of the npm package firebase 12.x (by default the one the tests
# install), `make install` copies its browser modules, rewritten to import each
# other (web/vendor.sh), to $(webdir)/vendor, served as /assets/vendor/. Without
# it the page offers the ID token field alone. No network is used here.
FIREBASE_SDK = $(abs_top_builddir)/tests/node/node_modules/firebase
EXTRA_DIST += web/vendor.sh
install-data-hook: install-web-vendor
install-web-vendor:
	@if test -f '$(FIREBASE_SDK)/firebase-auth.js'; then \
	  $(SHELL) '$(srcdir)/web/vendor.sh' '$(FIREBASE_SDK)' '$(DESTDIR)$(webdir)/vendor' && \
	  echo "Firebase Auth's web SDK installed in $(DESTDIR)$(webdir)/vendor"; \
	else \
	  echo "note: no Firebase SDK at $(FIREBASE_SDK) (npm install firebase@12, then make install FIREBASE_SDK=DIR/node_modules/firebase): the page offers the ID token field only"; \
	fi
uninstall-hook:
	rm -rf '$(DESTDIR)$(webdir)/vendor'
.PHONY: install-web-vendor
