/* config.c: reads and checks the INI configuration file, reporting FILE:LINE: reason. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/config.h"

/* Where `make install` puts the worker program. */
#ifdef LIBEXECDIR
#define TP_LIBEXECDIR LIBEXECDIR
#else
#define TP_LIBEXECDIR "/usr/local/libexec"
#endif

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "common/config_int.h"
#include "common/decimal.h"
#include "common/strategy.h"

/*
 * inih parses the lines; this file feeds it through a reader that counts
 * lines (Debian's inih gives the handler no line number), strips leading
 * blanks (so an indented line is never taken as a continuation of the
 * previous value), and checks section headers itself (inih does not tell
 * the handler about a section that has no keys).
 */

#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_VALUE_SHOWN	64	/* bytes of a bad value quoted back */
#define IPC_PATH_MAX		107	/* sun_path less its NUL */

struct config_key {
	const char		*section;
	const char		*name;
	enum config_kind	 kind;
	size_t			 off;
	bool			 required;	/* strings: empty refused */
	uint64_t		 min, max;	/* numbers, sizes, durations */
};

#define F(field)	offsetof(struct config, field)

static const struct config_key config_keys[] = {
	{ "daemon", "state_dir", KIND_PATH, F(state_dir), true, 0, 0 },
	{ "daemon", "log_dir", KIND_PATH, F(log_dir), true, 0, 0 },
	{ "daemon", "log", KIND_LOGDEST, F(daemon_log), false, 0, 0 },
	{ "daemon", "pidfile", KIND_PATH, F(pidfile), true, 0, 0 },
	{ "daemon", "api", KIND_ENDPOINT, F(api), true, 0, 0 },
	{ "daemon", "events", KIND_ENDPOINT, F(events), false, 0, 0 },
	{ "daemon", "http", KIND_HOSTPORT, F(http), false, 0, 0 },
	{ "daemon", "web_root", KIND_PATH, F(web_root), true, 0, 0 },
	{ "daemon", "api_max_request", KIND_SIZE, F(api_max_request), true,
	    KIB, 64 * MIB },
	{ "daemon", "api_queue", KIND_U32, F(api_queue), true, 1, 1000000 },
	{ "daemon", "max_clients", KIND_U32, F(max_clients), true, 1, 100000 },
	{ "daemon", "api_memory", KIND_SIZE, F(api_memory), true,
	    MIB, 16 * GIB },
	{ "daemon", "tenant_log_size", KIND_SIZE, F(tenant_log_size), true,
	    4 * KIB, GIB },
	{ "daemon", "tenant_log_keep", KIND_U32, F(tenant_log_keep), true,
	    0, 1000 },
	{ "daemon", "core_dumps", KIND_BOOL, F(daemon_core_dumps), true, 0, 0 },
	{ "daemon", "user", KIND_USER, F(daemon_user), true, 0, 0 },

	{ "store", "backend", KIND_BACKEND, F(store_backend), true, 0, 0 },
	{ "store", "path", KIND_PATH, F(store_path), true, 0, 0 },
	{ "store", "synchronous", KIND_SYNC, F(store_sync_full), true, 0, 0 },
	{ "store", "threads", KIND_U32, F(store_threads), true, 1, 64 },
	{ "store", "project_id", KIND_WORD, F(project_id), false, 0, 0 },
	{ "store", "emulator_host", KIND_HOSTPORT, F(emulator_host), false,
	    0, 0 },
	{ "store", "credentials", KIND_PATH, F(credentials), false, 0, 0 },
	{ "store", "token_url", KIND_URL, F(token_url), false, 0, 0 },

	{ "secrets", "master_key", KIND_PATH, F(master_key), true, 0, 0 },

	{ "workers", "user", KIND_USER, F(worker_user), true, 0, 0 },
	{ "workers", "max_workers", KIND_U32, F(max_workers), true, 1, 1024 },
	{ "workers", "batch_size", KIND_U32, F(batch_size), true, 1, 4096 },
	{ "workers", "max_jobs", KIND_U32, F(max_jobs), true, 1, 100000000 },
	{ "workers", "job_timeout", KIND_DURATION, F(job_timeout), true,
	    100, DAY },
	{ "workers", "heartbeat_timeout", KIND_DURATION,
	    F(heartbeat_timeout), true, 100, HOUR },
	{ "workers", "memory_limit", KIND_SIZE, F(memory_limit), true,
	    16 * MIB, 1024 * TIB },
	{ "workers", "cpu_limit", KIND_DURATION, F(cpu_limit), true,
	    SEC, DAY },
	{ "workers", "max_strikes", KIND_U32, F(max_strikes), true, 1, 100 },
	{ "workers", "core_dumps", KIND_BOOL, F(core_dumps), true, 0, 0 },
	{ "workers", "program", KIND_PATH, F(worker_program), true, 0, 0 },
	{ "workers", "max_queue", KIND_U32, F(max_queue), true, 1, 10000000 },
	{ "workers", "backoff_max", KIND_DURATION, F(backoff_max), true,
	    100, HOUR },
	{ "workers", "crash_rate", KIND_U32, F(crash_rate), true, 1, 1000000 },

	{ "pulse", "interval", KIND_DURATION, F(pulse_interval), true,
	    SEC, DAY },
	{ "pulse", "enabled", KIND_BOOL, F(pulse_enabled), true, 0, 0 },

	{ "alpaca", "trading_url", KIND_URL, F(trading_url), true, 0, 0 },
	{ "alpaca", "data_url", KIND_URL, F(data_url), true, 0, 0 },
	{ "alpaca", "requests_per_minute", KIND_U32, F(requests_per_minute),
	    true, 1, 100000 },
	{ "alpaca", "data_key_id", KIND_WORD, F(data_key_id), false, 0, 0 },
	{ "alpaca", "data_secret_file", KIND_PATH, F(data_secret_file), false,
	    0, 0 },

	/* [signals]: the strategy (common/strategy.h, docs/strategy.md)
	 * and the shadow-trade lifecycle's thresholds */
	{ "signals", "fast", KIND_U32, F(signal_fast), true, STRATEGY_FAST_MIN,
	    STRATEGY_SLOW_MAX - 1 },
	{ "signals", "slow", KIND_U32, F(signal_slow), true,
	    STRATEGY_FAST_MIN + 1, STRATEGY_SLOW_MAX },
	{ "signals", "rsi_period", KIND_U32, F(signal_rsi_period), true,
	    STRATEGY_RSI_MIN, STRATEGY_RSI_MAX },
	{ "signals", "bars", KIND_U32, F(signal_bars), true,
	    STRATEGY_FAST_MIN + 2, STRATEGY_BARS_MAX },
	{ "signals", "min_confidence", KIND_DECIMAL, F(signal_min_confidence),
	    true, 0, 1000000 },
	{ "signals", "position_fraction", KIND_DECIMAL,
	    F(signal_position_fraction), true, 1, 1000000 },
	{ "signals", "stop_loss", KIND_DECIMAL, F(signal_stop_loss), true,
	    10000, 99990000 },
	{ "signals", "take_profit", KIND_DECIMAL, F(signal_take_profit), true,
	    10000, 1000000000 },
	{ "auth", "firebase_project_id", KIND_WORD, F(firebase_project_id),
	    false, 0, 0 },
	{ "auth", "certs", KIND_CERTS, F(certs), false, 0, 0 },
	{ "auth", "accept_emulator_tokens", KIND_BOOL,
	    F(accept_emulator_tokens), true, 0, 0 },
	{ "auth", "curve_server_key", KIND_PATH, F(curve_server_key),
	    false, 0, 0 },
	{ "auth", "curve_clients", KIND_PATH, F(curve_clients), false,
	    0, 0 },
	{ "auth", "web_api_key", KIND_WORD, F(web_api_key), false, 0, 0 },
	{ "auth", "web_auth_domain", KIND_WORD, F(web_auth_domain), false,
	    0, 0 },
	{ "auth", "web_auth_emulator", KIND_ORIGIN, F(web_auth_emulator),
	    false, 0, 0 },
};

#define CONFIG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const config_sections[] = {
	"daemon", "store", "secrets", "workers", "pulse", "alpaca", "signals",
	"auth",
};

/* State of one config_load. */
struct config_parse {
	const char	*file;
	char		 dir[PATH_MAX];	/* absolute folder of file */
	const char	*buf;
	size_t		 len, pos;
	unsigned	 lineno;
	bool		 failed;	/* the first error is recorded */
	unsigned	 err_line;	/* its line, 0 if no one line */
	char		 err_msg[TP_ERR_MSG_MAX];
	unsigned	 seen[CONFIG_NKEYS];	/* line each key was set on */
	struct config	*cfg;
	const char *const *only;	/* config_load_keys: "section.name"s */
};

const char *
config_default_path(void)
{
	const char *env = getenv("TRADEPULSE_CONF");

	return env != NULL && *env != '\0' ? env : CONFIG_DEFAULT_PATH;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->lines);
	for (i = 0; i < CONFIG_NKEYS; i++) {
		switch (config_keys[i].kind) {
		case KIND_U32: case KIND_SIZE: case KIND_DURATION:
		case KIND_BOOL: case KIND_SYNC:
			break;
		default:
			free(*(char **)((char *)cfg + config_keys[i].off));
			break;
		}
	}
	memset(cfg, 0, sizeof(*cfg));
}

/* Replaces a string field with a copy of v. */
static int
config_set_str(char **field, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

int
config_defaults(struct config *cfg, struct tp_err *err)
{
	static const struct { size_t off; const char *v; } strs[] = {
		{ F(state_dir), LOCALSTATEDIR "/lib/tradepulse" },
		{ F(log_dir), LOCALSTATEDIR "/log/tradepulse" },
		{ F(pidfile), RUNSTATEDIR "/tradepulse/tradepulsed.pid" },
		{ F(api), "ipc://" RUNSTATEDIR "/tradepulse/api.sock" },
		{ F(events), "ipc://" RUNSTATEDIR "/tradepulse/events.sock" },
		{ F(http), "127.0.0.1:8787" },
		{ F(web_root), DATADIR "/tradepulse/web" },
		{ F(daemon_log), "" },
		{ F(store_backend), "sqlite" },
		{ F(store_path), LOCALSTATEDIR "/lib/tradepulse/tradepulse.db" },
		{ F(project_id), "" },
		{ F(emulator_host), "" },
		{ F(credentials), "" },
		{ F(token_url), "" },
		{ F(master_key), SYSCONFDIR "/tradepulse/private/master.key" },
		{ F(worker_user), "nobody" },
		{ F(daemon_user), "tradepulse" },
		{ F(worker_program), TP_LIBEXECDIR "/tradepulse-worker" },
		{ F(trading_url), "https://paper-api.alpaca.markets" },
		{ F(data_url), "https://data.alpaca.markets" },
		{ F(data_key_id), "" },
		{ F(data_secret_file), "" },
		{ F(firebase_project_id), "" },
		{ F(certs), "" },
		{ F(curve_server_key), "" },
		{ F(curve_clients), "" },
		{ F(web_api_key), "" },
		{ F(web_auth_domain), "" },
		{ F(web_auth_emulator), "" },
		{ F(signal_min_confidence), "0.6" },
		{ F(signal_position_fraction), "0.05" },
		{ F(signal_stop_loss), "5" },
		{ F(signal_take_profit), "10" },
	};
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (config_set_str((char **)((char *)cfg + strs[i].off),
		    strs[i].v) == -1) {
			config_free(cfg);
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		}
	}
	cfg->api_max_request = 64 * KIB;
	cfg->api_queue = 1024;
	cfg->max_clients = 64;
	cfg->api_memory = 64 * MIB;
	cfg->tenant_log_size = MIB;
	cfg->tenant_log_keep = 5;
	cfg->daemon_core_dumps = false;
	cfg->store_sync_full = false;
	cfg->store_threads = 4;
	cfg->max_workers = 4;
	cfg->batch_size = 32;
	cfg->max_jobs = 1000;
	cfg->job_timeout = 30 * SEC;
	cfg->heartbeat_timeout = 10 * SEC;
	cfg->memory_limit = 256 * MIB;
	cfg->cpu_limit = 60 * SEC;
	cfg->max_strikes = 3;
	cfg->core_dumps = false;
	cfg->max_queue = 100000;
	cfg->backoff_max = 30 * SEC;
	cfg->crash_rate = 30;
	cfg->pulse_interval = 60 * SEC;
	cfg->pulse_enabled = true;
	cfg->accept_emulator_tokens = false;
	cfg->requests_per_minute = 200;
	cfg->signal_fast = 10;
	cfg->signal_slow = 30;
	cfg->signal_rsi_period = 14;
	cfg->signal_bars = 100;
	return 0;
}

/* Records the first error, at the current line. Returns 0 for inih. */
static int
config_fail(struct config_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
config_fail(struct config_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return 0;
	p->failed = true;
	p->err_line = p->lineno;
	va_start(ap, fmt);
	vsnprintf(p->err_msg, sizeof(p->err_msg), fmt, ap);
	va_end(ap);
	return 0;
}

static bool
config_section_known(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(config_sections) / sizeof(config_sections[0]);
	    i++)
		if (strlen(config_sections[i]) == len &&
		    strncmp(config_sections[i], name, len) == 0)
			return true;
	return false;
}

/* Checks a "[section]" line; inih reads it again for itself. */
static void
config_check_section(struct config_parse *p, const char *line, size_t len)
{
	const char *end = memchr(line, ']', len);
	size_t i;

	if (end == NULL) {
		config_fail(p, "unterminated section header (no \"]\")");
		return;
	}
	for (i = (size_t)(end - line) + 1; i < len; i++) {
		if (line[i] == ';' || line[i] == '#')
			break;
		if (!isspace((unsigned char)line[i])) {
			config_fail(p, "text after the section header");
			return;
		}
	}
	/* config_load_keys: a section the caller does not read is skipped */
	if (p->only == NULL &&
	    !config_section_known(line + 1, (size_t)(end - line) - 1))
		config_fail(p, "unknown section [%.*s]",
		    (int)((end - line) - 1 > CONFIG_VALUE_SHOWN ?
		    CONFIG_VALUE_SHOWN : (end - line) - 1), line + 1);
}

/* inih's reader: hands over one line per call, so p->lineno is the line
 * the handler is being called for. Stops at the first error. */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	const char *line, *nl;
	size_t len, next;

	if (p->failed || p->pos >= p->len)
		return NULL;
	line = p->buf + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	len = nl != NULL ? (size_t)(nl - line) : p->len - p->pos;
	next = p->pos + len + (nl != NULL);
	p->lineno++;
	p->pos = next;
	if (memchr(line, '\0', len) != NULL) {
		config_fail(p, "NUL byte in the line");
		return NULL;
	}
	if (p->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;		/* UTF-8 byte order mark */
		len -= 3;
	}
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (num < 3 || len > (size_t)num - 2) {
		config_fail(p, "line is longer than %d characters", num - 2);
		return NULL;
	}
	if (len > 0 && line[0] == '[')
		config_check_section(p, line, len);
	if (p->failed)
		return NULL;
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static const struct config_key *
config_find_key(const char *section, const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			*idx = i;
			return &config_keys[i];
		}
	}
	return NULL;
}

static int
config_value_path(struct config_parse *p, const struct config_key *k,
    const char *v, char **field)
{
	char abs[PATH_MAX];

	if (!config_printable(v, true))
		return config_fail(p, "%s: control or non-ASCII characters in "
		    "the path", k->name);
	if (config_abspath(p->dir, v, abs, sizeof(abs)) == -1)
		return config_fail(p, "%s: path is too long", k->name);
	return config_set_str(field, abs) == -1 ?
	    config_fail(p, "out of memory") : 1;
}

/*
 * ipc:// everywhere: the socket's folder and group are the access
 * control. The job API may also listen on tcp://HOST:PORT, but only with
 * CURVE (config_finish checks that [auth] has both keys); the events
 * endpoint stays ipc:// (CURVE covers the job API only). Any other scheme
 * is refused without parsing the rest of it.
 */
static int
config_value_endpoint(struct config_parse *p, const struct config_key *k,
    const char *v, char **field)
{
	char abs[PATH_MAX + 6];
	const char *sep;
	bool api = k->off == F(api);

	if (!config_printable(v, false))
		return config_fail(p, "%s: spaces, control or non-ASCII "
		    "characters in the endpoint", k->name);
	if (api && strncmp(v, "tcp://", 6) == 0) {
		if (!config_hostport(v + 6))
			return config_fail(p, "%s: \"%.*s\" is not "
			    "tcp://HOST:PORT with a port from 1 to 65535",
			    k->name, CONFIG_VALUE_SHOWN, v);
		return config_set_str(field, v) == -1 ?
		    config_fail(p, "out of memory") : 1;
	}
	if (strncmp(v, "ipc://", 6) != 0) {
		sep = strstr(v, "://");
		if (sep != NULL && sep != v && sep - v <= 16)
			return config_fail(p, "%s: %.*s:// endpoints are "
			    "refused; use %s (the socket's folder and group "
			    "are the access control)", k->name,
			    (int)(sep - v), v, api ? "ipc://, or tcp:// with "
			    "CURVE ([auth] curve_server_key and curve_clients)"
			    : "ipc:// (CURVE covers the api endpoint only)");
		return config_fail(p, "%s: \"%.*s\" is not ipc://PATH%s",
		    k->name, CONFIG_VALUE_SHOWN, v, api ?
		    " or tcp://HOST:PORT" : "");
	}
	if (v[6] == '\0')
		return config_fail(p, "%s: the ipc socket path is empty",
		    k->name);
	memcpy(abs, "ipc://", 6);
	if (config_abspath(p->dir, v + 6, abs + 6, sizeof(abs) - 6) == -1 ||
	    strlen(abs + 6) > IPC_PATH_MAX)
		return config_fail(p, "%s: the ipc socket path is longer than "
		    "%d bytes", k->name, IPC_PATH_MAX);
	return config_set_str(field, abs) == -1 ?
	    config_fail(p, "out of memory") : 1;
}

/* A bound for a message: "0.01", not "0.010000". */
static void
config_dec_text(const struct dec *d, char *buf, size_t size)
{
	size_t n;

	if (dec_format(d, buf, size) == -1) {
		snprintf(buf, size, "?");
		return;
	}
	n = strlen(buf);
	while (strchr(buf, '.') != NULL && n > 0 &&
	    (buf[n - 1] == '0' || buf[n - 1] == '.'))
		if (buf[--n] == '.') {
			buf[n] = '\0';
			break;
		} else
			buf[n] = '\0';
}

/* A decimal within [min, max] millionths, kept as the text written. */
static int
config_value_decimal(struct config_parse *p, const struct config_key *k,
    const char *v, char **field)
{
	struct dec d, lo, hi;
	char los[32], his[32];

	lo.m = (__int128)k->min;
	lo.scale = 6;
	hi.m = (__int128)k->max;
	hi.scale = 6;
	config_dec_text(&lo, los, sizeof(los));
	config_dec_text(&hi, his, sizeof(his));
	if (dec_parse(v, strlen(v), &d, NULL) == -1 || d.scale > 6)
		return config_fail(p, "%s: \"%.*s\" is not a decimal number "
		    "with at most 6 decimals", k->name, CONFIG_VALUE_SHOWN, v);
	if (dec_cmp(&d, &lo) < 0 || dec_cmp(&d, &hi) > 0)
		return config_fail(p, "%s: %.*s is out of range (%s to %s)",
		    k->name, CONFIG_VALUE_SHOWN, v, los, his);
	return config_set_str(field, v) == -1 ?
	    config_fail(p, "out of memory") : 1;
}

/* String kinds: checks v and stores it in the field. */
static int
config_value_str(struct config_parse *p, const struct config_key *k,
    const char *v, char **field)
{
	switch (k->kind) {
	case KIND_PATH:
		return config_value_path(p, k, v, field);
	case KIND_ENDPOINT:
		return config_value_endpoint(p, k, v, field);
	case KIND_DECIMAL:
		return config_value_decimal(p, k, v, field);
	case KIND_LOGDEST:
		if (strcmp(v, "syslog") != 0 && strcmp(v, "stderr") != 0)
			return config_value_path(p, k, v, field);
		break;
	case KIND_CERTS:
		if (strncmp(v, "http://", 7) == 0)
			return config_fail(p, "%s: fetch the certificates over "
			    "https://, or give a file", k->name);
		if (strncmp(v, "https://", 8) != 0)
			return config_value_path(p, k, v, field);
		if (!config_url(v))
			return config_fail(p, "%s: \"%.*s\" is not a URL",
			    k->name, CONFIG_VALUE_SHOWN, v);
		break;
	case KIND_HOSTPORT:
		if (!config_hostport(v))
			return config_fail(p, "%s: \"%.*s\" is not host:port "
			    "with a port from 1 to 65535", k->name,
			    CONFIG_VALUE_SHOWN, v);
		break;
	case KIND_ORIGIN:
		if (!config_origin(v))
			return config_fail(p, "%s: \"%.*s\" is not an origin "
			    "(http:// or https://, a host, an optional :port, "
			    "no path)", k->name, CONFIG_VALUE_SHOWN, v);
		break;
	case KIND_URL:
		if (!config_url(v))
			return config_fail(p, "%s: \"%.*s\" is not an http:// "
			    "or https:// URL", k->name, CONFIG_VALUE_SHOWN, v);
		break;
	case KIND_WORD:
		if (!config_printable(v, false) || strlen(v) > 256)
			return config_fail(p, "%s: must be up to 256 printable "
			    "ASCII characters without spaces", k->name);
		break;
	case KIND_USER:
		if (!config_user(v))
			return config_fail(p, "%s: \"%.*s\" is not a user name",
			    k->name, CONFIG_VALUE_SHOWN, v);
		break;
	case KIND_BACKEND:
		if (strcmp(v, "sqlite") != 0 && strcmp(v, "firestore") != 0)
			return config_fail(p, "%s: \"%.*s\" is not sqlite or "
			    "firestore", k->name, CONFIG_VALUE_SHOWN, v);
		break;
	default:
		return config_fail(p, "%s: internal error: not a string",
		    k->name);
	}
	return config_set_str(field, v) == -1 ?
	    config_fail(p, "out of memory") : 1;
}

static int
config_value_number(struct config_parse *p, const struct config_key *k,
    const char *v, void *field)
{
	const char *s = v, *what;
	char lo[32], hi[32];
	uint64_t n = 0;
	int rc;

	switch (k->kind) {
	case KIND_SIZE:
		rc = config_parse_size(v, &n);
		what = "a size (like 512, 64K, 256M or 1G)";
		break;
	case KIND_DURATION:
		rc = config_parse_duration(v, &n);
		what = "a duration (like 500ms, 30s, 5m, 2h or 1d)";
		break;
	default:
		rc = config_parse_digits(&s, &n) == -1 || *s != '\0' ? -1 : 0;
		what = "a whole number";
		break;
	}
	if (rc == -1)
		return config_fail(p, "%s: \"%.*s\" is not %s", k->name,
		    CONFIG_VALUE_SHOWN, v, what);
	if (n < k->min || n > k->max) {
		config_fmt(k->kind, k->min, lo, sizeof(lo));
		config_fmt(k->kind, k->max, hi, sizeof(hi));
		return config_fail(p, "%s: %.*s is out of range (%s to %s)",
		    k->name, CONFIG_VALUE_SHOWN, v, lo, hi);
	}
	if (k->kind == KIND_U32)
		*(uint32_t *)field = (uint32_t)n;
	else
		*(uint64_t *)field = n;
	return 1;
}

/* The inih handler: one key = value of the line just read. */
/* section.name is one of the keys config_load_keys was asked for. */
static bool
config_wanted(const char *const *only, const char *section, const char *name)
{
	size_t n = strlen(section);

	for (; *only != NULL; only++)
		if (strncmp(*only, section, n) == 0 && (*only)[n] == '.' &&
		    strcmp(*only + n + 1, name) == 0)
			return true;
	return false;
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *p = user;
	const struct config_key *k;
	void *field;
	size_t i = 0;

	if (p->failed)
		return 0;
	if (p->only != NULL && !config_wanted(p->only, section, name))
		return 1;
	if (*section == '\0')
		return config_fail(p, "%s: key outside a section", name);
	if (!config_section_known(section, strlen(section)))
		return config_fail(p, "unknown section [%s]", section);
	if ((k = config_find_key(section, name, &i)) == NULL)
		return config_fail(p, "unknown key \"%.*s\" in [%s]",
		    CONFIG_VALUE_SHOWN, name, section);
	if (p->seen[i] != 0)
		return config_fail(p, "%s: duplicate key in [%s] (first set on "
		    "line %u)", name, section, p->seen[i]);
	p->seen[i] = p->lineno;
	field = (char *)p->cfg + k->off;
	if (*value == '\0') {
		if (k->required)
			return config_fail(p, "%s: must not be empty", name);
		return config_set_str(field, "") == -1 ?
		    config_fail(p, "out of memory") : 1;
	}
	switch (k->kind) {
	case KIND_U32: case KIND_SIZE: case KIND_DURATION:
		return config_value_number(p, k, value, field);
	case KIND_BOOL:
		if (config_parse_bool(value, field) == -1)
			return config_fail(p, "%s: \"%.*s\" is not yes or no",
			    name, CONFIG_VALUE_SHOWN, value);
		return 1;
	case KIND_SYNC:
		if (strcmp(value, "normal") != 0 && strcmp(value, "full") != 0)
			return config_fail(p, "%s: \"%.*s\" is not normal or "
			    "full", name, CONFIG_VALUE_SHOWN, value);
		*(bool *)field = strcmp(value, "full") == 0;
		return 1;
	default:
		return config_value_str(p, k, value, field);
	}
}

unsigned
config_key_line(const struct config *cfg, const char *section,
    const char *name)
{
	size_t i = 0;

	if (cfg->lines == NULL || config_find_key(section, name, &i) == NULL)
		return 0;
	return cfg->lines[i];
}

static unsigned
config_seen(const struct config_parse *p, const char *section,
    const char *name)
{
	size_t i = 0;

	return config_find_key(section, name, &i) != NULL ? p->seen[i] : 0;
}

/*
 * CURVE and the api endpoint go together: tcp:// needs both [auth] keys
 * (an unauthenticated network endpoint would give every admin operation
 * to whoever connects), and the keys without tcp:// would be unused.
 */
static int
config_finish_curve(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	bool tcp = strncmp(cfg->api, "tcp://", 6) == 0;
	bool key = *cfg->curve_server_key != '\0';
	bool clients = *cfg->curve_clients != '\0';

	if (tcp && (!key || !clients)) {
		p->lineno = config_seen(p, "daemon", "api");
		return config_fail(p, "api: a tcp:// endpoint needs CURVE: set "
		    "both curve_server_key and curve_clients in [auth], or use "
		    "ipc:// (the socket's folder and group are the access "
		    "control)");
	}
	if (!tcp && (key || clients)) {
		p->lineno = config_seen(p, "auth", key ? "curve_server_key" :
		    "curve_clients");
		return config_fail(p, "%s: CURVE is used only with api = "
		    "tcp://HOST:PORT; with an ipc:// api nothing would use "
		    "it, so leave it empty", key ? "curve_server_key" :
		    "curve_clients");
	}
	return 1;
}

/* Checks between keys, after the whole file is read. */
static int
config_finish(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	char db[PATH_MAX];
	unsigned id_line, file_line;

	if (config_seen(p, "store", "path") == 0) {
		if ((size_t)snprintf(db, sizeof(db), "%s/tradepulse.db",
		    strcmp(cfg->state_dir, "/") ? cfg->state_dir : "") >=
		    sizeof(db)) {
			p->lineno = config_seen(p, "daemon", "state_dir");
			return config_fail(p, "state_dir: path is too long");
		}
		if (config_set_str(&cfg->store_path, db) == -1)
			return config_fail(p, "out of memory");
	}
	if (strcmp(cfg->store_backend, "firestore") == 0 &&
	    *cfg->project_id == '\0') {
		p->lineno = config_seen(p, "store", "backend");
		return config_fail(p, "backend: firestore needs project_id in "
		    "[store]");
	}
	if (strcmp(cfg->store_backend, "firestore") == 0 &&
	    *cfg->emulator_host == '\0' && *cfg->credentials == '\0') {
		p->lineno = config_seen(p, "store", "backend");
		return config_fail(p, "backend: firestore needs credentials (a "
		    "service-account key file) or emulator_host in [store]");
	}
	if (cfg->signal_fast >= cfg->signal_slow) {
		p->lineno = config_seen(p, "signals", "fast") != 0 ?
		    config_seen(p, "signals", "fast") :
		    config_seen(p, "signals", "slow");
		return config_fail(p, "fast: the fast SMA period (%u) must be "
		    "shorter than the slow one (%u)", cfg->signal_fast,
		    cfg->signal_slow);
	}
	if (cfg->signal_bars < cfg->signal_slow + 1 ||
	    cfg->signal_bars < cfg->signal_rsi_period + 1) {
		p->lineno = config_seen(p, "signals", "bars");
		return config_fail(p, "bars: %u daily bars are too few for "
		    "slow = %u and rsi_period = %u (at least one more than "
		    "either)", cfg->signal_bars, cfg->signal_slow,
		    cfg->signal_rsi_period);
	}
	if (config_finish_curve(p) == 0)
		return 0;
	/* the page's Firebase sign-in: a web config of the accepted project */
	if ((*cfg->web_auth_domain != '\0' || *cfg->web_auth_emulator != '\0')
	    && *cfg->web_api_key == '\0') {
		p->lineno = config_seen(p, "auth", *cfg->web_auth_domain ?
		    "web_auth_domain" : "web_auth_emulator");
		return config_fail(p, "web_auth_domain and web_auth_emulator "
		    "need web_api_key");
	}
	if (*cfg->web_api_key != '\0' && *cfg->firebase_project_id == '\0') {
		p->lineno = config_seen(p, "auth", "web_api_key");
		return config_fail(p, "web_api_key: the page signs in to "
		    "firebase_project_id's users: set it too");
	}
	id_line = config_seen(p, "alpaca", "data_key_id");
	file_line = config_seen(p, "alpaca", "data_secret_file");
	if ((*cfg->data_key_id == '\0') != (*cfg->data_secret_file == '\0')) {
		p->lineno = *cfg->data_key_id != '\0' ? id_line : file_line;
		return config_fail(p, "data_key_id and data_secret_file must "
		    "be set together");
	}
	return 1;
}

/* Reads the file whole (bounded) into *buf. */
static int
config_read(const char *file, char **buf, size_t *len, struct tp_err *err)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd;

	*buf = NULL;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return tp_err_errno(err, TP_INVALID_ARGUMENT, "%s:0: cannot "
		    "open", file);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tp_err_set(err, TP_INVALID_ARGUMENT, "%s:0: not a "
		    "regular file", file);
	}
	if (st.st_size > CONFIG_FILE_MAX ||
	    (*buf = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		close(fd);
		return tp_err_set(err, TP_INVALID_ARGUMENT, "%s:0: larger "
		    "than %d bytes", file, CONFIG_FILE_MAX);
	}
	while ((n = read(fd, *buf + off, CONFIG_FILE_MAX + 1 - off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || (off += (size_t)n) > CONFIG_FILE_MAX) {
			if (n == -1)
				tp_err_errno(err, TP_INVALID_ARGUMENT,
				    "%s:0: cannot read", file);
			else
				tp_err_set(err, TP_INVALID_ARGUMENT,
				    "%s:0: larger than %d bytes", file,
				    CONFIG_FILE_MAX);
			free(*buf);
			*buf = NULL;
			close(fd);
			return -1;
		}
	}
	close(fd);
	*len = off;
	return 0;
}

/* The absolute folder of file, for relative paths inside it. */
static int
config_dir(const char *file, char *dir, size_t size)
{
	char cwd[PATH_MAX];
	const char *slash = strrchr(file, '/');
	size_t n;

	if (file[0] == '/') {
		n = (size_t)snprintf(dir, size, "%.*s",
		    slash == file ? 1 : (int)(slash - file), file);
		return n < size ? 0 : -1;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	if (slash == NULL)
		n = (size_t)snprintf(dir, size, "%s", cwd);
	else
		n = (size_t)snprintf(dir, size, "%s/%.*s",
		    strcmp(cwd, "/") ? cwd : "", (int)(slash - file), file);
	return n < size ? 0 : -1;
}

int
config_load(const char *file, struct config *cfg, struct tp_err *err)
{
	return config_load_keys(file, cfg, NULL, err);
}

int
config_load_keys(const char *file, struct config *cfg,
    const char *const *only, struct tp_err *err)
{
	struct config_parse *p;
	char *buf = NULL;
	int rc;

	if (file == NULL)
		file = config_default_path();
	if (config_defaults(cfg, err) == -1)
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		config_free(cfg);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	p->file = file;
	p->cfg = cfg;
	p->only = only;
	if (config_dir(file, p->dir, sizeof(p->dir)) == -1) {
		tp_err_errno(err, TP_INVALID_ARGUMENT, "%s:0: cannot find its "
		    "folder", file);
		goto fail;
	}
	if (config_read(file, &buf, &p->len, err) == -1)
		goto fail;
	p->buf = buf;
	rc = ini_parse_stream(config_reader, p, config_handler, p);
	/* inih reports the first line it could not parse; our own first
	 * error wins unless inih's is on an earlier line. */
	if (rc > 0 && (!p->failed || (unsigned)rc < p->err_line)) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "%s:%d: syntax error: "
		    "expected [section] or key = value", file, rc);
		goto fail;
	}
	if (rc < 0 && !p->failed) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "%s:0: out of memory",
		    file);
		goto fail;
	}
	/* the checks across keys are the daemon's */
	if (!p->failed && only == NULL)
		config_finish(p);
	if (p->failed) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "%s:%u: %s", file,
		    p->err_line, p->err_msg);
		goto fail;
	}
	if ((cfg->file = strdup(file)) == NULL ||
	    (cfg->lines = malloc(sizeof(p->seen))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	memcpy(cfg->lines, p->seen, sizeof(p->seen));
	free(buf);
	free(p);
	return 0;
fail:
	free(buf);
	free(p);
	config_free(cfg);
	return -1;
}
