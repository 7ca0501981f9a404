/* wire_result.h: the RESULT message, typed: the worker's encoder and the supervisor's decoder and checker. */
#ifndef TP_WIRE_RESULT_H
#define TP_WIRE_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/decimal.h"
#include "common/error.h"
#include "common/strategy.h"
#include "common/wire.h"

/*
 * A worker reports what it learned, never where to write it: the
 * supervisor composes every store write from the job it sent. The
 * payloads (every other key is refused):
 *
 *   sync, ok:    {"job_id", "ok": true, "account": {ACCOUNT},
 *                 "key_id_last4": str, "marks": [MARK, ...],
 *                 "requests": {"account": n, "trades_latest": n,
 *                 "retries": n}, "log": [LINE, ...]}
 *   prices, ok:  {"job_id", "ok": true, "prices": {"SYMBOL": "decimal"},
 *                 "requests": {"trades_latest": n, "retries": n},
 *                 "log": [LINE, ...]}
 *   signal, ok:  {"job_id", "ok": true, "signal": {SIGNAL},
 *                 "requests": {"bars": n, "retries": n}, "log": [LINE, ...]}
 *   either, !ok: {"job_id", "ok": false, "error": {"code", "message"},
 *                 "log": [LINE, ...]}
 *   and in any of them, optional: "http": {HTTP}
 *
 *   ACCOUNT: the Alpaca account fields a snapshot keeps: money as decimal
 *            strings (equity, cash, ...), texts (status, currency, ...),
 *            flags (booleans), daytrade_count (int); equity and status
 *            present.
 *   MARK:    {"id", "current_price": num, "unrealized_pnl": num,
 *            "pnl_percent": num} or {"id", "pnl_error": {"code",
 *            "message"}}: one per trade of the JOB, in any order. The
 *            marks are JSON numbers, exact decimal text (dec_to_json_number).
 *   SIGNAL:  {"symbol": the JOB's, "action": "BUY"|"SELL"|"HOLD",
 *            "confidence": number 0..1, "reasoning": text (1..
 *            STRATEGY_REASON_MAX bytes, no control characters), "price":
 *            the last close as a decimal string above 0, exactly as
 *            Alpaca sent it, "bar_at": that bar's time (RFC 3339 text),
 *            "bars": closes used (1..STRATEGY_BARS_MAX), "indicators":
 *            {"sma_fast", "sma_slow": finite numbers above 0, "rsi":
 *            0..100}} (wire_result_sig.c)
 *   LINE:    {"level": debug|info|warn|error, "event", "message"}
 *   HTTP:    the job's Alpaca attempts, counted for the supervisor's
 *            metrics: {"2xx": n, "3xx": n, "4xx": n, "5xx": n, "error": n
 *            (no HTTP answer), "latency_ms": [n, ...] (WIRE_HTTP_BUCKETS + 1
 *            counts, not cumulative, of attempts that took at most
 *            wire_http_latency_ms[i] ms, the last one unbounded; they add
 *            up to the classes' total), "latency_ms_sum": n}
 *            (wire_result_http.c)
 */

enum wire_job_kind {
	WIRE_JOB_SYNC,
	WIRE_JOB_PRICES,
	WIRE_JOB_SIGNAL,
};

/* Where the job named by a RESULT stands, as the supervisor sees it. */
enum wire_job_state {
	WIRE_JOB_UNKNOWN,	/* no such job */
	WIRE_JOB_IN_FLIGHT,	/* sent to this worker, not answered */
	WIRE_JOB_ANSWERED,	/* this worker answered it already */
	WIRE_JOB_ELSEWHERE,	/* queued, or running on another worker */
};

/* The job as sent, for the checker. */
struct wire_result_job {
	const char		*id;
	enum wire_job_kind	 kind;
	enum wire_job_state	 state;
	json_object		*trades;	/* sync: the JOB's "trades"
						   (array of maps with "id") */
	json_object		*symbols;	/* prices: the JOB's "symbols" */
	const char		*symbol;	/* signal: the JOB's "symbol" */
};

#define WIRE_BAR_AT_MAX		40	/* bytes of a signal's "bar_at" */

/* A signal job's facts, as the checker accepted them. */
struct wire_signal {
	const char		*symbol;	/* borrowed from the payload */
	enum strategy_action	 action;
	double			 confidence;
	const char		*reasoning;
	const char		*price_text;	/* the last close, exact */
	struct dec		 price;
	const char		*bar_at;
	int64_t			 bars;
	double			 sma_fast, sma_slow, rsi;
};

struct wire_mark {
	const char	*id;		/* borrowed from the payload */
	bool		 ok;
	struct dec	 price, pnl, pct;	/* ok */
	enum tp_code	 code;			/* !ok */
	const char	*message;
};

#define WIRE_HTTP_CLASSES	5	/* 2xx 3xx 4xx 5xx error */
#define WIRE_HTTP_BUCKETS	8	/* bounded latency buckets */
#define WIRE_HTTP_ATTEMPT_MAX_MS 3600000	/* bounds latency_ms_sum */

/* Class names on the wire, in order, and the latency buckets' upper
 * bounds in ms (shared by the worker and the supervisor's histogram). */
extern const char *const wire_http_class_names[WIRE_HTTP_CLASSES];
extern const int64_t wire_http_latency_ms[WIRE_HTTP_BUCKETS];

/* A job's Alpaca attempts: counts by class and latency. */
struct wire_http {
	bool		 present;	/* the checker saw "http" */
	int64_t		 classes[WIRE_HTTP_CLASSES];
	int64_t		 latency[WIRE_HTTP_BUCKETS + 1];
	int64_t		 latency_ms_sum;
};

/* A RESULT the checker accepted; strings and maps borrow from the
 * payload, which must outlive it. */
struct wire_result {
	const char	*job_id;
	bool		 ok;
	enum tp_code	 code;		/* !ok: the job's error */
	const char	*message;
	json_object	*account;	/* sync */
	const char	*key_id_last4;
	struct wire_mark *marks;	/* sync: malloc'd, nmarks */
	size_t		 nmarks;
	int64_t		 req_account, req_trades, retries;
	json_object	*prices;	/* prices */
	struct wire_signal signal;	/* signal */
	int64_t		 req_bars;	/* signal */
	json_object	*log;		/* NULL or checked lines */
	struct wire_http http;		/* any kind, ok or not */
};

enum wire_verdict {
	WIRE_ACCEPT,
	WIRE_REJECT_MALFORMED,	/* shape, types, bounds */
	WIRE_REJECT_FOREIGN,	/* names what is not its job's: a security
				   event */
	WIRE_REJECT_STRAY,	/* no job in flight on this worker by that id */
};

/* The job id of a RESULT, or NULL when it has none valid. */
const char *wire_result_job_id(json_object *payload);

/*
 * The checker: pure (no I/O, no allocation but r->marks). Takes the job
 * as sent (job->id must be the payload's job id; job->state says where it
 * stands) and the RESULT's payload. WIRE_ACCEPT fills r (release with
 * wire_result_clear); otherwise why says the first reason.
 */
enum wire_verdict wire_result_check(const struct wire_result_job *job,
    json_object *payload, struct wire_result *r, char *why, size_t whysize);
void wire_result_clear(struct wire_result *r);

/* The sum of a sync's marked P&L, rounded to the cent, as the summary
 * shows it. */
/* Is name one of the account's money fields (a decimal string on the wire)? */
bool wire_result_money(const char *name);
void wire_result_pnl_sum(const struct wire_result *r, char *buf, size_t size);

/*
 * Encoders (the worker). Each returns NULL or -1 on allocation failure
 * only: the worker's values are its own.
 */
json_object *wire_result_sync_new(const char *job_id, json_object *account,
    const char *key_id_last4);
int wire_result_mark(json_object *r, const char *trade_id,
    const struct dec *price, const struct dec *pnl, const struct dec *pct);
int wire_result_mark_error(json_object *r, const char *trade_id,
    enum tp_code code, const char *message);
json_object *wire_result_prices_new(const char *job_id, json_object *prices);
/* A signal's RESULT: the decision on the closes, the last close's exact
 * text and time, the closes used, and the requests made. */
json_object *wire_result_signal_new(const char *job_id, const char *symbol,
    const struct strategy_decision *d, const char *price_text,
    const char *bar_at, int64_t bars, int64_t requests, int64_t retries);

/* wire_result_sig.c: the checker's part for a signal's "signal" and
 * "requests" (called by wire_result_check). */
enum wire_verdict wire_result_signal_check(const struct wire_result_job *job,
    json_object *payload, struct wire_result *r, char *why, size_t size);
/* account < 0: not a count of this job (a prices job). */
int wire_result_requests(json_object *r, int64_t account, int64_t trades,
    int64_t retries);
json_object *wire_result_error_new(const char *job_id, enum tp_code code,
    const char *message);

/* wire_result_http.c. The worker counts one attempt (status 0: no HTTP
 * answer) ... */
void wire_http_count(struct wire_http *h, long status, uint64_t ms);
/* ... and adds "http" to any RESULT; -1 on allocation failure. */
int wire_result_http(json_object *r, const struct wire_http *h);
/* The checker's part: q is the payload's "http" or NULL (absent: h->present
 * false). Every number an int of 0..WIRE_COUNT_MAX, the latency counts
 * adding up to the classes' total, the sum at most
 * WIRE_HTTP_ATTEMPT_MAX_MS per attempt. */
enum wire_verdict wire_result_http_check(json_object *q, struct wire_http *h,
    char *why, size_t size);

#endif
