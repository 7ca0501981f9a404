/* config.h: the INI configuration file (brief section 10). */
#ifndef TP_CONFIG_H
#define TP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* The folders configure chose (Makefile.am passes them); the fallbacks
 * are the system layout ./quickstart build configures. */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/tradepulse/tradepulse.conf"

/*
 * Every string is malloc'd and owned by the struct (config_free). Paths
 * that are relative in the file are made absolute against the folder of
 * the config file. Durations are in milliseconds, sizes in bytes.
 * An empty string means "not set" for optional keys.
 */
struct config {
	char *file;			/* the file this was loaded from */
	unsigned *lines;		/* line each key was set on, 0 if not
					   set (config_key_line); NULL for
					   config_defaults */

	/* [daemon] */
	char *state_dir;		/* /var/lib/tradepulse */
	char *log_dir;			/* /var/log/tradepulse */
	char *pidfile;			/* /run/tradepulse/tradepulsed.pid */
	char *api;			/* ipc:///run/tradepulse/api.sock, or
					   tcp://HOST:PORT with CURVE */
	char *events;			/* ipc:///run/tradepulse/events.sock;
					   ipc:// only */
	char *http;			/* 127.0.0.1:8787, "" disables */
	char *web_root;			/* the dashboard's files, served at /
					   on http (DATADIR/tradepulse/web) */
	char *daemon_log;		/* [daemon] log: "syslog", "stderr",
					   a file, or "" (stderr with -d,
					   else syslog if /dev/log exists,
					   else <log_dir>/tradepulsed.log) */
	uint64_t api_max_request;	/* 64K: largest request frame */
	uint32_t api_queue;		/* 1024: requests in progress at once */
	uint32_t max_clients;		/* 64: API connections held at once */
	uint64_t api_memory;		/* 64M: bytes of queued replies and
					   requests in progress, all clients */
	uint64_t tenant_log_size;	/* 1M: rotate a tenant log past this */
	uint32_t tenant_log_keep;	/* 5: rotated tenant logs kept */
	char *daemon_user;		/* tradepulse: the service user a daemon
					   started as root drops to; "root"
					   keeps root (tests) */
	bool daemon_core_dumps;		/* no: the daemon's own core limit is
					   0 unless yes */

	/* [store] */
	char *store_backend;		/* "sqlite" | "firestore" */
	char *store_path;		/* <state_dir>/tradepulse.db */
	bool store_sync_full;		/* synchronous = normal | full */
	uint32_t store_threads;		/* 4 */
	char *project_id;
	char *emulator_host;
	char *credentials;
	char *token_url;		/* "": the credentials' token_uri */

	/* [secrets] */
	char *master_key;		/* /etc/tradepulse/private/master.key */

	/* [workers] */
	char *worker_user;		/* nobody */
	uint32_t max_workers;		/* 4 */
	uint32_t batch_size;		/* 32 */
	uint32_t max_jobs;		/* 1000 */
	uint64_t job_timeout;		/* 30s */
	uint64_t heartbeat_timeout;	/* 10s */
	uint64_t memory_limit;		/* 256M */
	uint64_t cpu_limit;		/* 60s */
	uint32_t max_strikes;		/* 3 */
	bool core_dumps;		/* no */
	char *worker_program;		/* <libexecdir>/tradepulse-worker */
	uint32_t max_queue;		/* 100000: jobs waiting at most */
	uint64_t backoff_max;		/* 30s: cap of the restart backoff */
	uint32_t crash_rate;		/* 30: crashes per minute before spawning
					   is throttled */

	/* [pulse] */
	uint64_t pulse_interval;	/* 60s */
	bool pulse_enabled;		/* yes */

	/* [alpaca] */
	char *trading_url;		/* https://paper-api.alpaca.markets */
	char *data_url;			/* https://data.alpaca.markets */
	uint32_t requests_per_minute;	/* 200 */
	char *data_key_id;
	char *data_secret_file;

	/* [signals]: the strategy (docs/strategy.md) and the shadow-trade
	 * lifecycle's thresholds; decimals are kept as their text */
	uint32_t signal_fast;		/* 10: fast SMA period, < slow */
	uint32_t signal_slow;		/* 30: slow SMA period */
	uint32_t signal_rsi_period;	/* 14: Wilder's RSI period */
	uint32_t signal_bars;		/* 100: daily bars fetched; more than
					   slow and rsi_period */
	char *signal_min_confidence;	/* "0.6": BUY/SELL at or above it open
					   a shadow trade (0 to 1) */
	char *signal_position_fraction;	/* "0.05": of equity per trade
					   (0.000001 to 1) */
	char *signal_stop_loss;		/* "5": per cent of entry (0.01 to
					   99.99) */
	char *signal_take_profit;	/* "10": per cent of entry (0.01 to
					   1000) */

	/* [auth] */
	char *firebase_project_id;
	char *certs;
	bool accept_emulator_tokens;	/* no: unsigned tokens refused */
	char *curve_server_key;		/* the api's CURVE secret key file;
					   set with tcp:// api only */
	char *curve_clients;		/* NAME ROLE PUBLIC_KEY lines */
	char *web_api_key;		/* the page's Firebase web config; */
	char *web_auth_domain;		/*   empty: token field only */
	char *web_auth_emulator;	/* an Auth emulator's origin */
};

/* $TRADEPULSE_CONF if set, else the compiled-in default. */
const char *config_default_path(void);
/* Fills cfg with every default (file = NULL). */
int config_defaults(struct config *cfg, struct tp_err *err);
/*
 * Loads defaults, then the file. On error returns -1 with err->msg of the
 * form "FILE:LINE: reason" (LINE 0 when no single line is at fault, e.g.
 * the file cannot be read) and cfg left empty.
 */
int config_load(const char *file, struct config *cfg, struct tp_err *err);
/* The same for the keys named in only ("section.name", NULL-terminated):
 * the others are skipped unchecked (their defaults stay), so an error in
 * a key the caller does not use (the CLI: a daemon setting) is no error.
 * A syntax error still is. */
int config_load_keys(const char *file, struct config *cfg,
    const char *const *only, struct tp_err *err);
void config_free(struct config *cfg);
/* The line of cfg->file that set [section] name, or 0 when the key was
 * not in the file (or is unknown), for checks made after loading. */
unsigned config_key_line(const struct config *cfg, const char *section,
    const char *name);

/* "500ms", "30s", "5m", "2h", "1d"; a bare number is seconds. */
int config_parse_duration(const char *s, uint64_t *ms);
/* "512", "64K", "256M", "1G" (powers of 1024). */
int config_parse_size(const char *s, uint64_t *bytes);
/* yes/no, true/false, on/off, 1/0. */
int config_parse_bool(const char *s, bool *b);

#endif
