/* alpaca.h: the worker's Alpaca client: libcurl multi transfers, limits, retries, reply parsing. */
#ifndef TP_WORKER_ALPACA_H
#define TP_WORKER_ALPACA_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/decimal.h"
#include "common/error.h"
#include "common/wire_result.h"

#define ALPACA_URL_MAX		512	/* trading_url, data_url: bytes */
#define ALPACA_REPLY_MAX	(1024 * 1024)	/* bytes of one reply body */
#define ALPACA_TIMEOUT_MS	10000	/* one request, at most */
#define ALPACA_CONNECT_MS	5000	/* its TCP and TLS set-up, at most */
#define ALPACA_LOW_SPEED_BYTES	512	/* slower than this ... */
#define ALPACA_LOW_SPEED_S	5	/* ... for this long: a drip, abandoned */
#define ALPACA_CONNS_MAX	64	/* connections per host and in all */
#define ALPACA_BACKOFF_MS	200	/* first retry after about this */
#define ALPACA_BACKOFF_MAX_MS	5000
#define ALPACA_ATTEMPTS_MAX	6	/* tries of one request */
#define ALPACA_MIN_LEFT_MS	20	/* less time left: no new attempt */
#define ALPACA_SYMBOLS_PER_REQ	100	/* symbols in one latest-trades GET */
#define ALPACA_SYMBOL_MAX	16	/* bytes (pnl_valid_symbol) */
#define ALPACA_BARS_MAX		10000	/* limit= of a bars request */
#define ALPACA_RPM_DEFAULT	200	/* requests per minute per key */
#define ALPACA_RPM_MAX		1000000

enum alpaca_kind {
	ALPACA_ACCOUNT,
	ALPACA_TRADES_LATEST,
	ALPACA_BARS,
	ALPACA_NKINDS,
};

/* The whole client's settings; strings are copied by alpaca_new. */
struct alpaca_conf {
	const char	*trading_url;	/* "https://paper-api.alpaca.markets"; */
	const char	*data_url;	/* NULL: requests of that API fail */
	json_object	*resolve;	/* ["host:port:address", ...] or NULL */
	const void	*ca;		/* PEM, parsed once by alpaca_new; */
	size_t		 ca_len;	/* NULL: libcurl's default (tests) */
};

/*
 * A token bucket: per_minute tokens at most, refilled continuously at
 * per_minute a minute. Starts full, so a job's first requests (a sync
 * needs 2 to 6) never wait; a job that needs more is spread out.
 */
struct alpaca_bucket {
	double		 tokens;
	double		 cap;
	double		 per_ms;
	uint64_t	 last;		/* monotonic ms of the last refill */
	uint32_t	 per_minute;
};

/* Requests sent (every attempt), by kind, and how many were retries. */
struct alpaca_stats {
	uint32_t	 requests[ALPACA_NKINDS];
	uint32_t	 retries;
	struct wire_http http;		/* each attempt's status class and
					   time, for the RESULT's "http" */
};

typedef void alpaca_log_fn(void *arg, const char *level, const char *event,
    const char *message);

/*
 * What a job gives each of its requests. Everything is borrowed and must
 * outlive the request (alpaca_cancel ends it early). The secret is copied
 * into the request's header list only while an attempt runs; that copy is
 * wiped when the attempt ends.
 */
struct alpaca_call {
	const char		*key_id;
	const char		*secret;
	const char		*uid;		/* for messages; NULL: the
						   operator's data key */
	struct alpaca_bucket	*bucket;
	struct alpaca_stats	*stats;
	uint64_t		 deadline;	/* monotonic ms: no answer by
						   then is an error */
	alpaca_log_fn		*log;		/* retries and failures; may
						   be NULL */
	void			*log_arg;
};

struct alpaca;
struct alpaca_req;

/*
 * A request ended: reply is the parsed JSON object (the callee owns it),
 * or NULL and err says why (its code is the job's error code). Called
 * from alpaca_run only, never from inside libcurl, so the callee may
 * start or cancel other requests; r is freed when it returns.
 */
typedef void alpaca_done_fn(void *arg, struct alpaca_req *r,
    json_object *reply, const struct tp_err *err);

/* "account", "trades_latest", "bars": the RESULT's request counters. */
const char *alpaca_kind_name(enum alpaca_kind k);

/* Checks a base URL: http:// or https://, a host, at most ALPACA_URL_MAX
 * bytes of printable ASCII, no user, query or fragment. The port (default
 * of the scheme) and host go to *port and host (size >= ALPACA_URL_MAX). */
int alpaca_url_check(const char *url, char *host, uint16_t *port,
    struct tp_err *err);

struct alpaca *alpaca_new(const struct alpaca_conf *c, struct tp_err *err);
/* Ends every request without calling back, then the multi handle. */
void alpaca_free(struct alpaca *a);

/* GET {trading_url}/v2/account */
struct alpaca_req *alpaca_account(struct alpaca *a,
    const struct alpaca_call *call, alpaca_done_fn *done, void *arg,
    struct tp_err *err);
/* GET {data_url}/v2/stocks/trades/latest?symbols=A,B (1..100 symbols) */
struct alpaca_req *alpaca_trades_latest(struct alpaca *a,
    const struct alpaca_call *call, const char *const *symbols, size_t n,
    alpaca_done_fn *done, void *arg, struct tp_err *err);
/* GET {data_url}/v2/stocks/{symbol}/bars?timeframe=T&limit=N */
struct alpaca_req *alpaca_bars(struct alpaca *a, const struct alpaca_call *call,
    const char *symbol, const char *timeframe, unsigned limit,
    alpaca_done_fn *done, void *arg, struct tp_err *err);
/* GET {data_url}/v2/stocks/{symbol}/bars?timeframe=1Day&start=
 * ALPACA_BARS_START&limit=N&sort=desc: the newest N daily bars, newest
 * first (the signal job). */
#define ALPACA_BARS_START	"2000-01-03"
struct alpaca_req *alpaca_daily_bars(struct alpaca *a,
    const struct alpaca_call *call, const char *symbol, unsigned limit,
    alpaca_done_fn *done, void *arg, struct tp_err *err);
/* Ends a request that has not called back yet; no callback follows. */
void alpaca_cancel(struct alpaca_req *r);

/*
 * The event loop's side. alpaca_pollfds copies at most max descriptors
 * libcurl waits on (POLLIN/POLLOUT) and returns how many there are (call
 * again with more room if that is > max); alpaca_ready passes on what
 * poll saw on one of them; alpaca_timeout is the ms until alpaca_run is
 * due (-1: nothing to do); alpaca_run handles libcurl's timers, starts
 * requests whose wait is over and calls back the finished ones.
 */
size_t alpaca_pollfds(struct alpaca *a, struct pollfd *fds, size_t max);
void alpaca_ready(struct alpaca *a, int fd, short revents);
int64_t alpaca_timeout(struct alpaca *a, uint64_t now);
void alpaca_run(struct alpaca *a);
/* Requests not yet called back. */
size_t alpaca_pending(const struct alpaca *a);

/* The token bucket (exposed for tests). take returns 0 when a token was
 * taken, else the ms until one will be there. */
void alpaca_bucket_init(struct alpaca_bucket *b, uint32_t per_minute,
    uint64_t now);
uint64_t alpaca_bucket_take(struct alpaca_bucket *b, uint64_t now);
/* The wait before retry n (0-based): ALPACA_BACKOFF_MS * 2^n, +-50%. */
uint64_t alpaca_backoff_ms(unsigned n);

/* --- replies --- */

/* The account fields a snapshot keeps, copied from GET /v2/account into
 * out (a map): money as decimal strings, booleans, daytrade_count as an
 * integer. Missing equity or status, or a field of the wrong type, is an
 * error (TP_UNAVAILABLE) naming the field. */
int alpaca_parse_account(json_object *reply, json_object *out,
    struct tp_err *err);

/*
 * The latest trades reply: for each of the n symbols asked for, either
 * prices[symbol] = decimal string of "p" (> 0), or errors[symbol] =
 * {"code", "message"} saying why not: not_found "no latest trade for
 * symbol XYZ" when Alpaca left it out, unavailable when its entry is
 * malformed. A reply without a "trades" map is an error (TP_UNAVAILABLE).
 */
int alpaca_parse_trades(json_object *reply, const char *const *symbols,
    size_t n, json_object *prices, json_object *errors, struct tp_err *err);

struct alpaca_bar {
	char		 t[40];		/* RFC 3339 */
	struct dec	 o, h, l, c, vw;
	int64_t		 v, n;
};

/* The bars reply of one symbol: *bars (malloc'd, *n of them; NULL when
 * 0). The reply's "symbol", when present, must be symbol. */
int alpaca_parse_bars(json_object *reply, const char *symbol,
    struct alpaca_bar **bars, size_t *n, struct tp_err *err);

#endif
