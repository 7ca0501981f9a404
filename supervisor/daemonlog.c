/* daemonlog.c: where tradepulsed's own messages go ([daemon] log), and SIGUSR1's reopen of the log files. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tenantlog.h"
#include "supervisor/daemon.h"

#define DAEMONLOG_FILE	"tradepulsed.log"	/* in log_dir, by default */
#define DAEMONLOG_DEVLOG "/dev/log"

/* syslog's socket: where there is none (a container, a minimal system
 * without rsyslog or journald) syslog(3) drops every message silently. */
static bool
daemonlog_have_syslog(void)
{
	struct stat st;

	return stat(DAEMONLOG_DEVLOG, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Creates the file's folder when missing, as the log_dir is (0750). */
static int
daemonlog_open_file(const char *path, struct tp_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash != NULL && slash != path) {
		if ((size_t)(slash - path) >= sizeof(dir))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "[daemon] log: path too long");
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (files_mkdir(dir, 0750, err) == -1)
			return -1;
	}
	return log_open_file(path, err);
}

/* The file the start would open, or NULL when it logs elsewhere. */
static const char *
daemonlog_file(const struct config *cfg, bool foreground, char *buf,
    size_t size)
{
	const char *dest = cfg->daemon_log != NULL ? cfg->daemon_log : "";

	if (strcmp(dest, "stderr") == 0 || strcmp(dest, "syslog") == 0 ||
	    (*dest == '\0' && (foreground || daemonlog_have_syslog())))
		return NULL;
	if (*dest != '\0')
		return dest;
	if (snprintf(buf, size, "%s/%s", cfg->log_dir, DAEMONLOG_FILE) >=
	    (int)size)
		return "";
	return buf;
}

/*
 * tradepulsed -n: what the start's daemonlog_open needs: the file is a
 * regular file (not a link) it may append to, or it is missing and its
 * folder, or the folder's nearest existing ancestor, is writable.
 */
int
daemonlog_check(const struct config *cfg, bool foreground, struct tp_err *err)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	const char *path = daemonlog_file(cfg, foreground, buf, sizeof(buf));
	unsigned line = config_key_line(cfg, "daemon", "log");
	const char *file = cfg->file != NULL ? cfg->file : "(defaults)";
	struct stat st;
	char *slash;

	if (path == NULL)
		return 0;
	if (*path != '/' || strlen(path) >= sizeof(dir))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "%s:%u: [daemon] "
		    "log: not an absolute path of at most %zu bytes", file,
		    line, sizeof(dir) - 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return tp_err_set(err, TP_FAILED_PRECONDITION, "%s:%u: "
			    "[daemon] log: %s is not a regular file", file,
			    line, path);
		if (euidaccess(path, W_OK) == -1)
			return tp_err_errno(err, TP_FAILED_PRECONDITION,
			    "%s:%u: [daemon] log: %s", file, line, path);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) == -1)
			continue;
		if (!S_ISDIR(st.st_mode) || euidaccess(dir, W_OK | X_OK) == -1)
			return tp_err_set(err, TP_FAILED_PRECONDITION, "%s:%u: "
			    "[daemon] log: cannot create %s in %s", file, line,
			    path, dir);
		return 0;
	}
	return 0;
}

/*
 * After the configuration is checked (and after detaching): an explicit
 * [daemon] log wins; without it -d logs to stderr, and a daemon to syslog
 * when syslog listens, else to <log_dir>/tradepulsed.log, so that no
 * message (a refused reload, a start-up failure) is lost. The file is
 * opened here, as root, before any privilege is given up.
 */
int
daemonlog_open(const struct config *cfg, bool foreground, struct tp_err *err)
{
	const char *dest = cfg->daemon_log != NULL ? cfg->daemon_log : "";
	char buf[PATH_MAX];

	if (strcmp(dest, "stderr") == 0 || (*dest == '\0' && foreground)) {
		log_init(1, DAEMON_NAME);
		return 0;
	}
	if ((dest = daemonlog_file(cfg, foreground, buf, sizeof(buf))) ==
	    NULL) {
		log_init(0, DAEMON_NAME);
		return 0;
	}
	if (*dest == '\0')
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "[daemon] log_dir: path too long");
	if (daemonlog_open_file(dest, err) == -1)
		return -1;
	log_info("logging to %s%s", dest, *cfg->daemon_log == '\0' ?
	    " (no syslog at " DAEMONLOG_DEVLOG ")" : "");
	return 0;
}

/* SIGUSR1: the daemon's log file (after logrotate renamed it) and the
 * tenant log held open are reopened by name. */
void
daemonlog_reopen(struct daemon *d)
{
	struct tp_err err;

	if (log_reopen(&err) == -1) {
		log_warnx("SIGUSR1: %s; still writing to the old file",
		    err.msg);
		return;
	}
	if (d->tlog != NULL)
		tenantlog_reopen(d->tlog);
	log_info("SIGUSR1: log files reopened");
}
