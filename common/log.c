/* log.c: daemon logging in the OpenBSD manner: stderr lines with -d, syslog or a file otherwise. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/log.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_MSG_MAX   4096	/* one message, before escaping */
#define LOG_LINE_MAX  8192	/* one stderr line, escaped, with its prefix */
#define LOG_NAME_MAX  64

/*
 * The state is tiny and read on every line; the mutex only keeps the
 * procname copy coherent when log_procname runs while other threads log.
 */
static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;
static int log_debug_mode = 1;		/* stderr until log_init says otherwise */
/* With a file, lines go to log_fd; a reopen dup2()s the new file onto the
 * same number, so a line being written goes to one file or the other. */
static int log_fd = -1;
static char log_path[PATH_MAX];
static int log_verbose;
static char log_name[LOG_NAME_MAX] = "tradepulse";
/* openlog() keeps the pointer it is given, so syslog gets its own copy. */
static char log_ident[LOG_NAME_MAX] = "tradepulse";

static const char *log_level_name(int);
static size_t log_escape(char *, size_t, const char *);
static void log_emit(int, const char *);
static void log_errno(int, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));
static void log_strerror(int, char *, size_t);

void
log_init(int debug, const char *procname)
{
	pthread_mutex_lock(&log_mtx);
	log_debug_mode = debug;
	log_path[0] = '\0';		/* the file, if any, stays open, unused */
	if (procname != NULL && *procname != '\0') {
		snprintf(log_name, sizeof(log_name), "%s", procname);
		snprintf(log_ident, sizeof(log_ident), "%s", procname);
	}
	if (!debug) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	pthread_mutex_unlock(&log_mtx);
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

/* A child process (a worker) renames itself so its lines say who wrote them. */
void
log_procname(const char *procname)
{
	if (procname == NULL || *procname == '\0')
		return;
	pthread_mutex_lock(&log_mtx);
	snprintf(log_name, sizeof(log_name), "%s", procname);
	if (!log_debug_mode) {
		/* The old ident may still be referenced by syslog: reopen. */
		closelog();
		snprintf(log_ident, sizeof(log_ident), "%s", procname);
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	pthread_mutex_unlock(&log_mtx);
}

/*
 * Opens path for appending (O_NOFOLLOW: a symlink planted in the log
 * folder must not redirect the daemon's writes; O_NONBLOCK: a FIFO there
 * must not block the open, and is refused) and, as root, gives it its
 * folder's owner and group.
 */
static int
log_open_path(const char *path, struct tp_err *err)
{
	char dir[PATH_MAX];
	struct stat st, dst;
	const char *slash;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd == -1)
		return tp_err_errno(err, TP_INTERNAL, "log file %s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "log file %s: not a regular file", path);
	}
	/* the umask may have taken bits away; never more than 0640 */
	if ((st.st_mode & 07777) != 0640 && fchmod(fd, 0640) == -1) {
		tp_err_errno(err, TP_INTERNAL, "log file %s: chmod", path);
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && (slash = strrchr(path, '/')) != NULL) {
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
		if (stat(dir, &dst) == -1) {
			tp_err_errno(err, TP_INTERNAL, "log folder %s", dir);
			close(fd);
			return -1;
		}
		if ((st.st_uid != dst.st_uid || st.st_gid != dst.st_gid) &&
		    fchown(fd, dst.st_uid, dst.st_gid) == -1) {
			tp_err_errno(err, TP_INTERNAL, "log file %s: chown",
			    path);
			close(fd);
			return -1;
		}
	}
	return fd;
}

int
log_open_file(const char *path, struct tp_err *err)
{
	int fd;

	if (path == NULL || *path != '/' || strlen(path) >= sizeof(log_path))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "log file: an absolute path of at most %zu bytes",
		    sizeof(log_path) - 1);
	if ((fd = log_open_path(path, err)) == -1)
		return -1;
	pthread_mutex_lock(&log_mtx);
	if (log_fd == -1)
		log_fd = fd;
	else {
		/* already open (a second call): the number stays the same */
		(void)dup3(fd, log_fd, O_CLOEXEC);
		close(fd);
	}
	snprintf(log_path, sizeof(log_path), "%s", path);
	log_debug_mode = 0;
	pthread_mutex_unlock(&log_mtx);
	return 0;
}

int
log_reopen(struct tp_err *err)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	pthread_mutex_lock(&log_mtx);
	snprintf(path, sizeof(path), "%s", log_path);
	pthread_mutex_unlock(&log_mtx);
	if (path[0] == '\0')
		return 0;
	if ((fd = log_open_path(path, err)) == -1)
		return -1;
	pthread_mutex_lock(&log_mtx);
	if (dup3(fd, log_fd, O_CLOEXEC) == -1)
		rc = tp_err_errno(err, TP_INTERNAL, "log file %s: dup3", path);
	pthread_mutex_unlock(&log_mtx);
	close(fd);
	return rc;
}

static const char *
log_level_name(int pri)
{
	switch (pri & LOG_PRIMASK) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "fatal";
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/*
 * Control characters become visible escapes so one message is one line,
 * and a string that came from outside cannot forge a log line.
 */
static size_t
log_escape(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0;

	for (; *s != '\0'; s++) {
		char esc[4];
		size_t len;

		if (*s == '\n') {
			memcpy(esc, "\\n", 2);
			len = 2;
		} else if (*s == '\r') {
			memcpy(esc, "\\r", 2);
			len = 2;
		} else if (*s == '\t') {
			esc[0] = '\t';
			len = 1;
		} else if (*s < 0x20 || *s == 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*s >> 4];
			esc[3] = hex[*s & 0xf];
			len = 4;
		} else {
			esc[0] = (char)*s;
			len = 1;
		}
		if (n + len >= size)
			break;
		memcpy(dst + n, esc, len);
		n += len;
	}
	dst[n] = '\0';
	return n;
}

/* Writes one finished message: a single write(2) per line on stderr. */
static void
log_emit(int pri, const char *msg)
{
	char esc[LOG_LINE_MAX], line[LOG_LINE_MAX], ts[32], name[LOG_NAME_MAX];
	struct timespec now;
	struct tm tm;
	size_t off;
	ssize_t w;
	int n, debug, fd;

	log_escape(esc, sizeof(esc), msg);

	pthread_mutex_lock(&log_mtx);
	debug = log_debug_mode;
	fd = log_path[0] != '\0' ? log_fd : STDERR_FILENO;
	memcpy(name, log_name, sizeof(name));
	pthread_mutex_unlock(&log_mtx);

	if (!debug && fd == STDERR_FILENO) {
		syslog(pri, "%s", esc);
		return;
	}

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%ld]: %s: %s\n", ts,
	    now.tv_nsec / 1000000L, name, (long)getpid(), log_level_name(pri),
	    esc);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		/* Cut, but keep the newline so the next line starts clean. */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	for (off = 0; off < (size_t)n; off += (size_t)w) {
		w = write(fd, line + off, (size_t)n - off);
		if (w == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			return;
		}
	}
}

static void
log_strerror(int errnum, char *buf, size_t size)
{
	/* GNU strerror_r (we build with _GNU_SOURCE): may return a static string. */
	const char *s = strerror_r(errnum, buf, size);

	if (s != buf)
		snprintf(buf, size, "%s", s);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(pri, msg);
	errno = saved;
}

/* The message, then ": strerror(errnum)"; without a format just the error. */
static void
log_errno(int pri, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], ebuf[128];
	size_t n = 0;

	log_strerror(errnum, ebuf, sizeof(ebuf));
	if (fmt != NULL && *fmt != '\0') {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", ebuf);
	} else
		snprintf(msg, sizeof(msg), "%s", ebuf);
	log_emit(pri, msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_errno(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* fatal: with the errno text (when errno is set); fatalx: without. */
void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	if (saved != 0)
		log_errno(LOG_CRIT, saved, fmt, ap);
	else
		vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("panic: an inconsistency in our own structures: %s", msg);
	abort();
}
