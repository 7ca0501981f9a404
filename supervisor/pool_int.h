/* pool_int.h: the worker pool's private state, shared by pool.c, pool_channel.c, pool_status.c, spawn.c, throttle.c and resolve.c. */
#ifndef TP_SUPERVISOR_POOL_INT_H
#define TP_SUPERVISOR_POOL_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "common/config.h"
#include "common/error.h"
#include "common/wire.h"
#include "supervisor/pool.h"
#include "supervisor/router.h"

#define POOL_REAP_GRACE_MS	50	/* late channel messages of a reaped worker */
#define POOL_SPAWN_SAMPLES	1024	/* spawn latencies kept for pool_status */
#define POOL_CHANNEL_BURST	64	/* channel messages read per wake-up */
#define WORKER_LINE_MAX		512	/* one stderr line, logged and parsed */
#define WORKER_REASON_MAX	160
#define WORKER_SYSCALL_MAX	32

#define THROTTLE_WINDOW_S	60	/* the crash-rate window, in seconds */
#define THROTTLE_BACKOFF_MIN_MS	100	/* first restart delay, doubled per crash */
#define THROTTLE_STARTUP_MAX	3	/* start-up failures in a row before the
					   reason says so */
#define THROTTLE_QUIET_MIN_MS	60000	/* crash-free time that resets backoff */
#define THROTTLE_REASON_MAX	256

enum worker_state {
	WORKER_STARTING,	/* spawned, no good HELLO yet */
	WORKER_READY,		/* HELLO checked, CONFIG sent */
	WORKER_STOPPING,	/* told SHUTDOWN */
	WORKER_KILLING,		/* worker_kill: SIGTERM sent, SIGKILL pending */
	WORKER_EXITED,		/* reaped; ev->exited follows */
};

struct worker {
	TAILQ_ENTRY(worker)	 entry;
	struct pool		*pool;
	void			*ctx;		/* the job layer's batch */
	pid_t			 pid;
	uint64_t		 generation;
	uint8_t			 rid[8];	/* its routing id on the channel */
	enum worker_state	 state;
	uint8_t			 token[WIRE_TOKEN_BYTES]; /* wiped after HELLO */
	uint8_t			*session_key;	/* SEALBOX_KEY_BYTES, sodium_malloc'd
						   (guarded, mlocked); seals its
						   JOBs' keys; freed when reaped */

	struct timespec		 t_spawn;
	bool			 hello_ok;
	bool			 configured;	/* a message came after CONFIG */
	bool			 shutdown_sent;
	bool			 killing;
	bool			 reaped;
	int			 wstatus;	/* from waitpid */
	uint64_t		 uptime_ms;	/* fixed when reaped */
	uint64_t		 jobs_sent;
	uint64_t		 jobs_done;
	char			 reason[WORKER_REASON_MAX];	/* "" if none */
	char			 syscall[WORKER_SYSCALL_MAX];	/* "" if none */

	/* stderr: a ring of the last bytes, and the line being assembled */
	int			 errfd;		/* read end, -1 once closed */
	char			 tail[WORKER_STDERR_TAIL];
	size_t			 tail_len;	/* bytes held (<= size) */
	size_t			 tail_pos;	/* next write position */
	char			 line[WORKER_LINE_MAX];
	size_t			 line_len;
	char			 last_line[WORKER_LINE_MAX];

	struct event		*ev_stderr;
	struct event		*ev_heartbeat;	/* silence deadline */
	struct event		*ev_kill;	/* SIGKILL after the grace */
	struct event		*ev_finish;	/* reports the exit */
};

TAILQ_HEAD(worker_list, worker);

/* Restart policy state (throttle.c); all times are CLOCK_MONOTONIC ms. */
struct throttle {
	uint32_t	 consecutive;	/* crashes since the last clean exit or
					   quiet period */
	uint32_t	 startup_row;	/* start-up failures in a row */
	uint64_t	 last_crash_ms;
	bool		 crashed;	/* last_crash_ms is valid */
	uint64_t	 bucket_sec[THROTTLE_WINDOW_S];
	uint32_t	 bucket_n[THROTTLE_WINDOW_S];
	char		 last_crash[THROTTLE_REASON_MAX];	/* what it was */
	char		 startup_what[THROTTLE_REASON_MAX];
};

struct resolver;

struct pool {
	struct daemon		*d;
	struct pool_events	 ev;
	void			*arg;
	/* spawn.c tells pool.c a worker was reaped (before its report) */
	void			(*reaped)(struct pool *p, struct worker *w);

	/* the channel */
	struct router		 rt;		/* its socket, in the daemon's context */
	struct event		*ev_chan;
	char			*endpoint;	/* ipc://<state_dir>/run/workers.sock */

	struct worker_list	 workers;	/* spawned, exit not yet reported */
	size_t			 nworkers;
	uint64_t		 next_generation;
	int			 devnull;	/* the children's stdin */
	struct event		*ev_sigchld;
	struct event		*ev_throttle;	/* calls ev->spawnable */
	bool			 stopping;
	bool			 in_free;
	bool			 throttle_noted;	/* logged as throttled */

	struct throttle		 thr;
	struct resolver		*resolver;

	/* counters for pool_status */
	uint64_t		 spawns;
	uint64_t		 restarts;
	uint64_t		 crashes;
	uint64_t		 startup_failures;
	uint64_t		 unreplaced;	/* crashes not yet followed by a spawn */
	uint64_t		 worker_maxrss_kb;	/* largest VmHWM of a
							   worker done with its
							   batch */
	double			 spawn_ms[POOL_SPAWN_SAMPLES];	/* to HELLO */
	size_t			 spawn_n;
	double			 ready_ms[POOL_SPAWN_SAMPLES];	/* to the first
						   message after CONFIG */
	size_t			 ready_n;
};

/* pool.c */
/* The exit has been reaped and the grace has passed: report and free. */
void		 pool_worker_finish(struct worker *w);
void		 pool_throttle_arm(struct pool *p);

/* pool_channel.c: the worker channel. */
/* Binds ipc://<state_dir>/run/workers.sock (a ROUTER of zctx) and
 * watches it on the daemon's loop. */
int		 pool_channel_open(struct pool *p, void *zctx, struct tp_err *err);
/* Reads whatever is waiting on the channel (also before an exit is
 * reported, so a dying worker's last messages are not lost). */
void		 pool_channel_drain(struct pool *p);
struct worker	*pool_find(struct pool *p, uint64_t generation);
/* (Re)starts the worker's silence deadline: heartbeat_timeout. */
void		 pool_heartbeat_arm(struct worker *w);
/* ev_heartbeat's callback: the worker said nothing in time; killed. */
void		 pool_heartbeat_cb(evutil_socket_t fd, short what, void *arg);


/* spawn.c */
int		 spawn_worker(struct pool *p, struct worker *w, struct tp_err *err);
void		 spawn_sigchld(evutil_socket_t, short, void *);
void		 spawn_reap_all(struct pool *p);	/* pool_free: SIGKILL, wait */
void		 spawn_read_stderr(struct worker *w, bool drain);
/* A NUL-terminated copy of the stderr tail, whole lines where it wrapped. */
void		 spawn_stderr_tail(const struct worker *w, char *buf, size_t size);
void		 spawn_worker_release(struct worker *w);	/* frees its events, fds */
const char	*spawn_signame(int signo, char *buf, size_t size);
/* A "Vm...:" figure (kB) of /proc/PID/status, or -1. */
int64_t		 spawn_status_kb(pid_t pid, const char *field);

/* throttle.c */
void		 throttle_init(struct throttle *t);
void		 throttle_crash(struct throttle *t, const struct config *cfg,
		    uint64_t now_ms, bool startup, const char *what);
void		 throttle_clean(struct throttle *t);
void		 throttle_hello(struct throttle *t);
/* 0 when a spawn may happen now; reason (if not NULL) says why not. */
uint64_t	 throttle_retry_ms(const struct throttle *t,
		    const struct config *cfg, uint64_t now_ms, char *reason,
		    size_t size);
uint32_t	 throttle_window_crashes(const struct throttle *t, uint64_t now_ms);

/* resolve.c: the Alpaca hosts, resolved here so workers need no resolver. */
struct resolver	*resolver_new(struct event_base *base, const struct config *cfg,
		    struct tp_err *err);
/* A new array of "host:port:address[,address]" strings (CURLOPT_RESOLVE). */
json_object	*resolver_list(const struct resolver *r);
void		 resolver_free(struct resolver *r);

#endif
