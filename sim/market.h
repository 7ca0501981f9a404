/* market.h: alpaca-sim's deterministic market: clock, prices, latest trades and bars from a seed. */
#ifndef SIM_MARKET_H
#define SIM_MARKET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "common/error.h"

#define MARKET_SYMBOL_MAX	16
#define MARKET_BARS_MAX		10000	/* the spec's maximum limit */
#define MARKET_MICRO		1000000	/* prices are kept in millionths */

struct market;

/* A market whose every figure follows from seed. NULL when out of memory. */
struct market *market_new(uint64_t seed);
void market_free(struct market *m);
/* Forgets the prices set with market_set_price. */
void market_reset(struct market *m);

/* The simulated now (unix seconds): frozen at a weekday 15:30 UTC picked
 * by the seed, so that every reply repeats across runs. */
int64_t market_now(const struct market *m);
/* True for 1..16 characters of [A-Z0-9./-], starting with a letter or digit. */
bool market_valid_symbol(const char *s);
/* Sets a symbol's price ("187.25", at most 6 decimals, > 0), or marks it
 * unknown (text NULL). */
int market_set_price(struct market *m, const char *symbol, const char *text,
    struct tp_err *err);
/* Sets a symbol's daily closes (a list of decimal strings or numbers,
 * oldest first, the last one today's): its 1Day bars become exactly
 * these. An empty list forgets them. */
int market_set_closes(struct market *m, const char *symbol,
    json_object *closes, struct tp_err *err);
/* The latest price of a known symbol in millionths; false when the symbol
 * is unknown (invalid, starting with "ZZ", or marked unknown). */
bool market_price(const struct market *m, const char *symbol, int64_t *u);
/* The previous day's close (for positions' lastday_price). */
int64_t market_lastday_price(const struct market *m, const char *symbol,
    int64_t price_u);
/* A latest-trade object (the spec's stock_trade) of a known symbol. */
json_object *market_trade_json(const struct market *m, const char *symbol,
    int64_t price_u, bool wrong);
/* Formats millionths as the shortest decimal text with at least `min`
 * decimals ("187.25", "-0.5", "3.00"). */
void market_format_u(int64_t u, int min, char *buf, size_t size);
/* Parses a decimal ("187.25", "-3", "0.000001") to millionths. */
int market_parse_u(const char *s, int64_t *u);
/* Formats a unix time as RFC 3339 UTC ("2024-01-02T15:30:00Z"). */
void market_format_time(int64_t t, char *buf, size_t size);
/* Parses RFC 3339 ("2024-01-02T15:30:00Z", "...T10:30:00-05:00", fractions
 * allowed) or a date ("2024-01-02"). */
int market_parse_time(const char *s, int64_t *t);

/* The clock object (the spec's Clock). */
json_object *market_clock_json(const struct market *m, bool wrong);

struct market_bars_query {
	const char *symbol;
	const char *timeframe;	/* "1Min", "5T", "1Hour", "1Day", "1Week", "3Month" */
	const char *start, *end, *page_token;	/* NULL: defaults */
	int64_t limit;		/* 0: the default 1000 */
	bool desc;
};
/* The bars reply (stock_bars_resp_single), or NULL with err for a bad
 * query (TP_INVALID_ARGUMENT, said so the client can fix it). */
json_object *market_bars_json(const struct market *m,
    const struct market_bars_query *q, bool wrong, struct tp_err *err);

#endif
