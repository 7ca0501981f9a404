# worker/local.mk: tradepulse-worker, one sandboxed process per tenant batch.
libexec_PROGRAMS += worker/tradepulse-worker
worker_tradepulse_worker_SOURCES = \
	worker/main.c worker/main_int.h worker/worker.h \
	worker/token.c worker/chan.c worker/conf.c worker/loop.c \
	worker/sandbox.c worker/sandbox.h \
	worker/jobs.c worker/result.c worker/sync.c worker/signal.c \
	worker/alpaca.c worker/alpaca.h worker/alpaca_int.h \
	worker/alpaca_curl.c worker/alpaca_parse.c
# Fault injection exists only in builds configured for it.
if FAULT_INJECTION
worker_tradepulse_worker_SOURCES += worker/faults.c
endif
# Sanitizer builds tell the sanitizers not to need what the sandbox forbids.
if SANITIZERS
WORKER_SAN_CFLAGS = -DTP_SANITIZERS
else
WORKER_SAN_CFLAGS =
endif
worker_tradepulse_worker_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS) $(CURL_CFLAGS) $(OPENSSL_CFLAGS) \
	$(WORKER_SAN_CFLAGS)
worker_tradepulse_worker_LDADD = $(BASE_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS) $(CURL_LIBS) $(OPENSSL_LIBS)
