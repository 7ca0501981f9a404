/* log.h: daemon logging in the OpenBSD manner: stderr with -d, syslog or a file otherwise. */
#ifndef TP_LOG_H
#define TP_LOG_H

#include <stdarg.h>

#include "common/error.h"

/*
 * log_init(debug, "tradepulsed"): debug != 0 logs to stderr (one line per
 * message, with a timestamp and level), else to syslog(LOG_DAEMON).
 * log_setverbose(1) lets log_debug through. log_warn appends
 * ": strerror(errno)". fatal/fatalx log and exit(1): only for start-up and
 * invariant failures, never on a request path.
 */
void log_init(int debug, const char *procname);
/*
 * log_open_file(path): from now on every line goes to path (the stderr
 * format, appended with one write(2) each), opened or created mode 0640;
 * as root the file is given the owner and group of its folder, so that a
 * daemon that later runs as that folder's user can still reopen it.
 * log_reopen: the same path opened anew and put in place of the old file
 * (after a rotation renamed it: SIGUSR1); a no-op for stderr and syslog.
 * Both leave the current destination as it was when they fail.
 */
int log_open_file(const char *path, struct tp_err *err);
int log_reopen(struct tp_err *err);
void log_setverbose(int verbose);
int log_getverbose(void);
void log_procname(const char *procname);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Our own structures are inconsistent (a job finished twice, a counter
 * below zero): log it as such and abort, in every build. Never for bad
 * input from outside, which is reported and survived. */
void panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void vlog(int pri, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
