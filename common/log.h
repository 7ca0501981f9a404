/* log.h: daemon logging in the OpenBSD manner: stderr with -d, syslog otherwise. */
#ifndef TP_LOG_H
#define TP_LOG_H

#include <stdarg.h>

/*
 * log_init(debug, "tradepulsed"): debug != 0 logs to stderr (one line per
 * message, with a timestamp and level), else to syslog(LOG_DAEMON).
 * log_setverbose(1) lets log_debug through. log_warn appends
 * ": strerror(errno)". fatal/fatalx log and exit(1): only for start-up and
 * invariant failures, never on a request path.
 */
void log_init(int debug, const char *procname);
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
