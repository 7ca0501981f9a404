/* worker.h: tradepulse-worker's shared state: options, channel, jobs in flight, faults. */
#ifndef TP_WORKER_WORKER_H
#define TP_WORKER_WORKER_H

#include <sys/queue.h>

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <zmq.h>

#include "common/api.h"
#include "common/error.h"
#include "common/path.h"
#include "common/wire.h"
#include "common/strategy.h"
#include "worker/alpaca.h"

#define WORKER_NAME		"tradepulse-worker"
#define WORKER_USER_MAX		32	/* login name, bytes */
#define WORKER_CHANNEL_MAX	1024
#define WORKER_CONNECT_MS	5000	/* channel connected, before the drop */
#define WORKER_CONFIG_MS	10000	/* CONFIG after HELLO */
#define WORKER_LINGER_MS	2000	/* last RESULTs flushed at exit */
#define WORKER_CHAN_MS		5000	/* a channel send or receive blocks at
					   most this long until CONFIG, then
					   heartbeat_ms: the supervisor gives
					   up on a worker silent that long */
#define WORKER_SILENCE_FACTOR	2	/* idle with no word from the supervisor
					   for this many heartbeat_ms: it is
					   gone (or wedged); exit */
#define WORKER_SILENCE_MIN_MS	60000	/* ... but never sooner: a busy
					   supervisor may be slow to send */
#define WORKER_INFLIGHT_MAX	4096	/* jobs held at once ([workers] batch_size at most) */
#define WORKER_RESOLVE_MAX	64	/* CONFIG resolve entries */
#define WORKER_RESOLVE_LEN	1024	/* "host:port:addr[,addr...]": a host
					   name (253) and up to 8 IPv6 addresses
					   fit */
#define WORKER_MSGS_PER_TURN	64	/* messages read before timers run */
#define WORKER_MARGIN_MS	250	/* a job's RESULT leaves this long (or
					   5% of its deadline, if more) before
					   the deadline */
/* The JOB's bounds (trades, symbols, prices) are common/wire.h's. */

/* The command line: plain numbers and names, never a secret. */
struct worker_opts {
	char		 channel[WORKER_CHANNEL_MAX + 1];
	uint64_t	 generation;
	char		 user[WORKER_USER_MAX + 1];
	uint64_t	 memory_limit;	/* bytes */
	uint64_t	 cpu_limit;	/* seconds */
	bool		 core_dumps;
};

/* CONFIG, sent once by the supervisor after HELLO. */
struct worker_conf {
	uint64_t	 max_jobs;
	uint64_t	 heartbeat_ms;
	uint64_t	 job_timeout_ms;
	json_object	*resolve;	/* ["host:port:address", ...] for
					   libcurl's CURLOPT_RESOLVE */
	uint16_t	 ports[WORKER_RESOLVE_MAX + 2];	/* their ports and
					   those of the two URLs, once each:
					   the only TCP ports a worker may
					   connect to (Landlock) */
	size_t		 nports;
	char		 trading_url[ALPACA_URL_MAX + 1];	/* "" when */
	char		 data_url[ALPACA_URL_MAX + 1];	/* not sent */
	uint32_t	 requests_per_minute;
	char		 url_error[TP_ERR_MSG_MAX];	/* why the URLs cannot
					   be used ("" when they can): every
					   job fails with it */
};

#ifdef TP_FAULT_INJECTION
enum fault {
	FAULT_NONE = 0,
	FAULT_SEGV,
	FAULT_ABORT,
	FAULT_HANG,
	FAULT_SPIN,
	FAULT_OPEN,
	FAULT_EXECVE,
	FAULT_FORK,
	FAULT_PTRACE,
	FAULT_OOM,
	FAULT_FOREIGN,
	FAULT_SLOW,		/* succeeds, after FAULTS_SLOW_MS */
};
#endif

enum job_kind {
	JOB_SYNC,		/* one tenant: account, trades marked */
	JOB_PRICES,		/* no tenant: latest prices of symbols */
	JOB_SIGNAL,		/* one tenant, one symbol: daily bars, the
				   strategy's decision */
};

struct sync;
struct signal_run;

/*
 * One job in flight. The keys are this tenant's only; they are wiped
 * (sodium_memzero) when the job is freed. deadline is on the monotonic
 * clock, in ms: deadline_ms of the JOB counts from its arrival; the
 * RESULT is due by finish_by, a margin earlier.
 */
struct job {
	TAILQ_ENTRY(job) entry;
	enum job_kind	 kind;
	char		 id[WIRE_JOB_ID_MAX + 1];
	char		 uid[UID_MAX_LEN + 1];	/* "" for JOB_PRICES */
	char		 key_id[API_KEY_ID_MAX + 1];
	char		 secret[API_SECRET_MAX + 1];
	uint64_t	 deadline_ms;	/* allowed, from the JOB */
	uint64_t	 deadline;	/* arrival + deadline_ms */
	uint64_t	 finish_by;	/* deadline - margin */
	json_object	*trades;	/* JOB_SYNC: [{id, symbol, side, qty,
					   entry_price}], ids checked */
	json_object	*prices;	/* JOB_SYNC: {symbol: "decimal"} or
					   NULL: fetch them */
	json_object	*symbols;	/* JOB_PRICES: distinct symbols */
	char		 symbol[ALPACA_SYMBOL_MAX + 1];	/* JOB_SIGNAL */
	struct strategy_params strategy;	/* JOB_SIGNAL */
	unsigned	 bars;			/* JOB_SIGNAL: bars asked */
	struct sync	*run;		/* the requests in flight */
	struct signal_run *srun;	/* JOB_SIGNAL: its request */
	bool		 done;
	json_object	*result;	/* RESULT payload once done */
	json_object	*log;		/* its tenant log lines, sent with the
					   RESULT ("log"): NULL until one */
#ifdef TP_FAULT_INJECTION
	enum fault	 fault;
#endif
};
TAILQ_HEAD(jobq, job);

struct worker {
	struct worker_opts opts;
	struct worker_conf conf;
	void		*zctx;
	void		*sock;		/* DEALER to the supervisor */
	void		*mon;		/* PAIR: the DEALER's monitor events */
	struct alpaca	*alpaca;	/* every job's transfers */
	zmq_pollitem_t	*items;		/* the poll set: channel, monitor, */
	struct pollfd	*pfds;		/* and libcurl's sockets */
	size_t		 nitems;	/* allocated, of each */
	struct jobq	 jobs;		/* in flight */
	size_t		 njobs;
	uint64_t	 taken;		/* jobs accepted so far (max_jobs) */
	uint64_t	 next_heartbeat;
	uint64_t	 last_heard;	/* ms: the supervisor's last message */
	bool		 lost;		/* the channel is broken: exit 1 */
};

/* result.c: building a RESULT. Allocation failures take sandbox_oom();
 * result_add takes v, which may be NULL (then out of memory). */
json_object *result_obj(void);
json_object *result_str(const char *s);
void result_add(json_object *o, const char *key, json_object *v);
void result_append(json_object *a, json_object *v);
/* The RESULT's "key_id_last4" (out: 5 bytes); a key id is at least
 * JOB_KEY_ID_MIN bytes (job_parse checks). */
#define JOB_KEY_ID_MIN		4
void result_last4(const struct job *j, char *out);
/*
 * One line for the tenant's log, sent with the job's RESULT (at most
 * JOB_LOG_LINES; one RESULT makes one write of the tenant's log rather
 * than a message and a write per line). A worker that crashes loses
 * them; its stderr tail and the crash report say what happened.
 */
#define JOB_LOG_LINES		32
void result_log(struct job *j, const char *level, const char *event,
    const char *message);
/* A failed job's RESULT payload {job_id, ok: false, error {code,
 * message}}. */
json_object *result_error(const char *job_id, enum tp_code code,
    const char *message);

/* jobs.c */
/*
 * Checks every field of a JOB payload into j (job id, kind "sync",
 * "prices" or "signal", uid, deadline_ms, keys_sealed, trades, prices,
 * symbols; a signal's symbol, bars, fast, slow and rsi_period).
 * keys_sealed is opened under session_key (sealbox.h) straight into j's
 * key_id and secret, which job_free wipes; a bad one (not base64, wrong
 * length, failed MAC) is a job error. trades,
 * prices and symbols are detached from the payload (whose strings are
 * wiped afterwards) and kept by j. On failure j->id is set when the job
 * id itself was valid, so the error can be answered with a RESULT.
 */
int job_parse(json_object *payload, uint64_t max_deadline_ms,
    const uint8_t *session_key, struct job *j, struct tp_err *err);
/* Starts a job: its requests go to w->alpaca; j->done and j->result are
 * set when it has finished (at once when it fails to start). Out of
 * memory takes sandbox_oom(). */
void job_start(struct worker *w, struct job *j);
/* finish_by came first: ends the job's requests and sets its RESULT to
 * the error "Alpaca did not answer within the job's deadline". */
void job_expire(struct job *j);
/* Ends its requests, wipes the keys and frees the job and its result. */
void job_free(struct job *j);

/* sync.c */
/* Start the requests of a JOB_SYNC or JOB_PRICES job (see job_start). */
void sync_start(struct worker *w, struct job *j);
void sync_prices_start(struct worker *w, struct job *j);
/* Ends a job's requests without a RESULT (job_free, job_expire). */
void sync_free(struct sync *s);

/* signal.c */
/* Starts a JOB_SIGNAL: one bars request, then the strategy (see
 * job_start). */
void signal_start(struct worker *w, struct job *j);
/* Ends its request without a RESULT (job_free, job_expire). */
void signal_free(struct signal_run *s);

#ifdef TP_FAULT_INJECTION
/* faults.c */
#define FAULTS_ENV_MAX		(256 * 1024)	/* bytes of TP_FAULTS */
#define FAULTS_MAX		4096		/* entries */
/* Parses TP_FAULTS ("uid=fault[,uid=fault...]"); bad entries get a line
 * on stderr and are ignored. NULL or "" means no faults. */
void faults_init(const char *env);
enum fault faults_lookup(const char *uid);
const char *faults_name(enum fault f);
/* Faults that end the process (every one but FAULT_FOREIGN); returns
 * only for FAULT_NONE and FAULT_FOREIGN. */
void faults_trigger(const struct job *j);
/* FAULT_FOREIGN: adds to writes a set of users/<other>/data/snapshot,
 * <other> being "victim" (or "victim-2" when j's uid is "victim"). */
/* Makes a good sync RESULT hostile: a mark of a trade not in the job. */
void faults_foreign(const struct job *j, json_object *result);
#endif

#endif
