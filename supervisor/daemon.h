/* daemon.h: the daemon's state, shared by the files of tradepulsed. */
#ifndef TP_DAEMON_H
#define TP_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#include "common/config.h"
#include "common/error.h"

#define DAEMON_NAME	"tradepulsed"
#define DAEMON_DRAIN_MS	5000	/* bounded wait for in-flight work at exit */
#define DAEMON_KILL_GRACE_MS 1000	/* SIGTERM to SIGKILL of a worker */

struct api;
struct events;
struct jobs;
struct keyring;
struct keys_gate;
struct http;
struct metrics;
struct pidfile;
struct pause;
struct pool;
struct pulser;
struct idtoken_certs;
struct store;
struct tenantlog;

/*
 * Everything lives on the one event loop thread, except what a store work
 * function is handed explicitly (copies of its arguments and a reference
 * to the key ring): work functions never read struct daemon, so a reload
 * may replace these fields between two callbacks.
 */
struct daemon {
	struct config		 cfg;		/* current configuration */
	struct event_base	*base;
	void			*zctx;		/* the one ZeroMQ context: the job
						   API (and its connection monitor)
						   and the worker channel; made in
						   daemon_start, ended in teardown
						   once both are closed */
	struct store		*store;
	struct tenantlog	*tlog;
	struct keyring		*keys;		/* current master key ring */
	struct keys_gate	*gate;		/* keys.set vs keys.rotate */
	struct api		*api;
	struct pool		*pool;		/* the worker processes */
	struct jobs		*jobs;		/* what they run */
	struct pulser		*pulser;	/* the pulse and its schedule */
	struct pidfile		*pidfile;	/* NULL in the foreground */
	struct idtoken_certs	*certs;		/* [auth] certs; NULL: none */
	struct metrics		*metrics;	/* counted from the start */
	struct http		*http;		/* [daemon] http; NULL: off */
	struct events		*events;	/* [daemon] events; NULL: off */
	struct pause		*pause;		/* the operator's pause */

	struct event		*ev_sigterm;
	struct event		*ev_sigint;
	struct event		*ev_sighup;
	struct event		*ev_sigusr1;	/* reopen the log files */
	struct event		*ev_drain;	/* bounds the wait at exit */

	bool			 foreground;
	bool			 stopping;
	size_t			 nofile;	/* RLIMIT_NOFILE, raised at start */
	pid_t			 pid;
	char			 started_at[32];
	struct timespec		 started_mono;
};

/* usage.c: the usage line (to fp) and --help (to stdout). */
void		 daemon_usage(FILE *fp);
void		 daemon_help(void);

/* main.c */
uint64_t	 daemon_uptime_ms(const struct daemon *d);

/* preflight.c: the start's checks of the configured files and folders,
 * without side effects (tradepulsed -n runs them too); -1 with
 * "FILE:LINE: reason", LINE that of the key at fault or 0. */
int		 daemon_preflight(const struct config *cfg, bool foreground,
		    struct tp_err *err);

/* daemonlog.c: [daemon] log chosen, checked (-n) and opened; SIGUSR1's
 * reopen. */
int		 daemonlog_open(const struct config *cfg, bool foreground,
		    struct tp_err *err);
int		 daemonlog_check(const struct config *cfg, bool foreground,
		    struct tp_err *err);
void		 daemonlog_reopen(struct daemon *d);

/* files.c: the folders and the pidfile the daemon owns. */
int		 files_mkdir(const char *path, mode_t mode, struct tp_err *err);
int		 files_check_private_dir(const char *path, const char *what,
		    struct tp_err *err);
struct pidfile	*pidfile_acquire(const char *path, struct tp_err *err);
void		 pidfile_release(struct pidfile *pf);
int		 files_socket_live(const char *path);

#endif
