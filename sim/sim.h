/* sim.h: alpaca-sim's shared types: the server, accounts, behaviours, replies and counters. */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <sodium.h>

#include "common/error.h"

#define SIM_NAME		"alpaca-sim"
#define SIM_KEY_ID_MAX		128	/* bytes of an APCA-API-KEY-ID */
#define SIM_SECRET_MAX		256	/* bytes of an APCA-API-SECRET-KEY */
#define SIM_CONTROL_MAX_BODY	(64u << 20)	/* a bulk account load */
#define SIM_HUGE_BYTES		(64u << 20)	/* the "huge" reply */
#define SIM_DEEP_LEVELS		100000	/* nesting of the "deep" reply */

struct market;
struct htab;

/* What a key's replies do (POST /_sim/behaviour). */
enum sim_behaviour {
	SIM_B_NORMAL,
	SIM_B_STATUS,		/* a fixed status code with a JSON error body */
	SIM_B_LATENCY,		/* the normal reply, after the key's latency */
	SIM_B_MALFORMED,	/* a body that is not JSON */
	SIM_B_TRUNCATED,	/* Content-Length says more than is sent; close */
	SIM_B_HUGE,		/* a 64 MiB body */
	SIM_B_DEEP,		/* JSON nested 100,000 deep */
	SIM_B_WRONG_TYPES,	/* the spec's fields with other JSON types */
	SIM_B_BAD_UTF8,		/* a string with bytes that are not UTF-8 */
	SIM_B_DRIP,		/* the reply, one byte a second */
	SIM_B_SILENT,		/* no reply; held until the client goes away */
	SIM_B_COUNT
};

/* The Alpaca endpoints served; the order is that of the stats. */
enum sim_endpoint {
	SIM_EP_ACCOUNT,
	SIM_EP_POSITIONS,
	SIM_EP_CLOCK,
	SIM_EP_TRADES_LATEST,		/* /v2/stocks/{symbol}/trades/latest */
	SIM_EP_TRADES_LATEST_MULTI,	/* /v2/stocks/trades/latest?symbols= */
	SIM_EP_BARS,
	SIM_EP_COUNT
};

struct sim_stats {
	uint64_t ep[SIM_EP_COUNT];
	uint64_t unauthorized;
	uint64_t rate_limited;
	uint64_t not_found;	/* unknown paths, wrong methods */
	uint64_t total;		/* every request outside /_sim/ */
};

/* An open position: quantities and prices in millionths. */
struct sim_position {
	char symbol[24];
	int64_t qty_u;		/* negative for a short position */
	int64_t entry_u;	/* average entry price */
};

/* The text fields of an account, in the order of accounts.c's table. */
enum sim_field {
	SIM_F_ID, SIM_F_ACCOUNT_NUMBER, SIM_F_STATUS, SIM_F_CRYPTO_STATUS,
	SIM_F_CURRENCY, SIM_F_CASH, SIM_F_PORTFOLIO_VALUE, SIM_F_EQUITY,
	SIM_F_LAST_EQUITY, SIM_F_BUYING_POWER, SIM_F_REGT_BUYING_POWER,
	SIM_F_DAYTRADING_BUYING_POWER, SIM_F_NON_MARGINABLE_BUYING_POWER,
	SIM_F_OPTIONS_BUYING_POWER, SIM_F_INITIAL_MARGIN,
	SIM_F_MAINTENANCE_MARGIN, SIM_F_LAST_MAINTENANCE_MARGIN,
	SIM_F_LONG_MARKET_VALUE, SIM_F_SHORT_MARKET_VALUE, SIM_F_SMA,
	SIM_F_MULTIPLIER, SIM_F_ACCRUED_FEES, SIM_F_PENDING_TRANSFER_IN,
	SIM_F_CREATED_AT, SIM_F_BALANCE_ASOF,
	/* booleans */
	SIM_F_PATTERN_DAY_TRADER, SIM_F_TRADING_BLOCKED,
	SIM_F_TRANSFERS_BLOCKED, SIM_F_ACCOUNT_BLOCKED,
	SIM_F_SHORTING_ENABLED, SIM_F_TRADE_SUSPENDED_BY_USER,
	/* integers */
	SIM_F_DAYTRADE_COUNT, SIM_F_OPTIONS_APPROVED_LEVEL,
	SIM_F_OPTIONS_TRADING_LEVEL,
	SIM_F_COUNT
};

struct sim_account {
	char *key_id;
	/* Keyed BLAKE2b of the secret: the plaintext is never kept. */
	unsigned char secret_mac[crypto_generichash_BYTES];
	/* Values given by the control API, as text ("12.5", "true", "3",
	 * checked against the field's kind); NULL: the default. */
	char *fields[SIM_F_COUNT];
	struct sim_position *positions;
	size_t npositions;
	/* behaviour */
	enum sim_behaviour behaviour;
	int b_status;
	uint64_t b_latency_ms;
	/* rate limit: a fixed window of a minute from its first request */
	int64_t rl_window;
	uint32_t rl_count;
};

struct sim_pending;

struct sim {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct event *sigterm, *sigint;
	struct market *market;
	struct htab *accounts;		/* key_id -> struct sim_account */
	unsigned char mac_key[crypto_generichash_KEYBYTES];
	uint64_t seed;
	uint64_t latency_ms;		/* every API reply */
	uint32_t rate_limit;		/* per key per minute; 0: none */
	bool quiet;
	struct sim_stats stats;
	struct sim_pending *pending;	/* replies not sent yet */
	size_t npending;
};

/* accounts.c */
int sim_accounts_init(struct sim *s, struct tp_err *err);
void sim_accounts_free(struct sim *s);
/* Adds or replaces the account described by o (the control API's
 * object: key_id, secret and optional fields). */
int sim_account_load(struct sim *s, json_object *o, struct tp_err *err);
struct sim_account *sim_account_find(struct sim *s, const char *key_id);
/* The account whose key id and secret these are, or NULL. Wipes the
 * secret header's bytes. */
struct sim_account *sim_auth(struct sim *s, struct evhttp_request *req);
/* Counts a request of a; false when past the limit. Adds the
 * X-RateLimit-* headers to the reply either way. */
bool sim_rate_take(struct sim *s, struct sim_account *a,
    struct evhttp_request *req);
/* The JSON of an account (/v2/account); wrong: with wrong types. */
json_object *sim_account_json(struct sim *s, const struct sim_account *a,
    bool wrong);
json_object *sim_positions_json(struct sim *s, const struct sim_account *a,
    bool wrong);
void sim_accounts_reset_behaviours(struct sim *s);
void sim_accounts_clear(struct sim *s);

/* api.c: the Alpaca endpoints. */
void sim_api_request(struct sim *s, struct evhttp_request *req);

/* control.c: /_sim/... */
void sim_control_request(struct sim *s, struct evhttp_request *req);

/* faults.c: behaviours */
const char *sim_behaviour_name(enum sim_behaviour b);
int sim_behaviour_parse(const char *name, enum sim_behaviour *b);
/* Sends the reply of a misbehaving key: body is the normal reply (taken). */
void sim_fault_reply(struct sim *s, struct evhttp_request *req,
    const struct sim_account *a, struct evbuffer *body);

/* reply.c: sending, now or later. */
enum sim_pend_kind {
	SIM_PEND_REPLY,		/* the body, with code */
	SIM_PEND_TRUNCATED,	/* half the body, Content-Length of all; close */
	SIM_PEND_HUGE,		/* SIM_HUGE_BYTES of JSON, streamed */
	SIM_PEND_DRIP,		/* the body, a byte a second, chunked */
	SIM_PEND_SILENT		/* nothing */
};
/* Sends body (taken; NULL: empty) with code after delay_ms. */
void sim_send(struct sim *s, struct evhttp_request *req, int code,
    struct evbuffer *body, uint64_t delay_ms);
void sim_send_kind(struct sim *s, struct evhttp_request *req,
    enum sim_pend_kind kind, int code, struct evbuffer *body,
    uint64_t delay_ms);
/* A JSON reply now (o is released). */
void sim_send_json(struct sim *s, struct evhttp_request *req, int code,
    json_object *o, uint64_t delay_ms);
/* {"code": alpaca_code, "message": msg} with status code. */
void sim_send_error(struct sim *s, struct evhttp_request *req, int code,
    uint64_t delay_ms, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An error body as a buffer (for behaviours). */
struct evbuffer *sim_error_body(int code, const char *msg);
/* Releases what the replies still hold (at exit, after evhttp_free). */
void sim_pending_free_all(struct sim *s);

#endif
