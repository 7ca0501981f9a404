/* sync.c: the "sync" job (account snapshot, open trades marked to market) and the "prices" job. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/pnl.h"
#include "common/wire_result.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#define SYNC_FIELD_MAX		64	/* bytes of a trade's text field */
#define SYNC_SHOWN		24	/* bytes of a bad value quoted */
#define SYNC_NAMED		5	/* symbols named in a LOG line */
#define SYNC_MSG_MAX		512

/* One latest-trades request: up to ALPACA_SYMBOLS_PER_REQ symbols. */
struct sync_chunk {
	struct sync		*s;
	struct alpaca_req	*req;
	const char		*syms[ALPACA_SYMBOLS_PER_REQ];	/* keys of
							   s->wanted */
	size_t			 n;
};

struct sync {
	struct worker		*w;
	struct job		*j;
	struct alpaca_bucket	 bucket;
	struct alpaca_stats	 stats;
	struct alpaca_call	 call;
	struct alpaca_req	*account_req;
	json_object		*account;	/* the snapshot's fields */
	struct tp_err		 fail;		/* the job's error, if any */
	bool			 failed;
	json_object		*wanted;	/* symbols to fetch: a set */
	struct sync_chunk	*chunks;
	size_t			 nchunks;
	size_t			 pending;	/* requests not called back */
	json_object		*prices;	/* symbol -> "decimal" */
	json_object		*perr;		/* symbol -> {code, message} */
	bool			 fetched;	/* prices asked for by this job */
};

/* A printable, bounded copy of untrusted text for messages. */
static const char *
sync_show(const char *s, size_t len, char *buf, size_t size)
{
	size_t i, k = 0;

	for (i = 0; i < len && k + 4 < size && i < SYNC_SHOWN; i++)
		buf[k++] = (unsigned char)s[i] >= 0x20 &&
		    (unsigned char)s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
	if (i < len) {
		buf[k++] = '.';
		buf[k++] = '.';
		buf[k++] = '.';
	}
	buf[k] = '\0';
	return buf;
}

static void
sync_log(void *arg, const char *level, const char *event, const char *msg)
{
	struct sync *s = arg;

	result_log(s->j, level, event, msg);
}

/* Ends every request still out; no callback follows. */
static void
sync_cancel(struct sync *s)
{
	size_t i;

	alpaca_cancel(s->account_req);
	s->account_req = NULL;
	for (i = 0; i < s->nchunks; i++) {
		alpaca_cancel(s->chunks[i].req);
		s->chunks[i].req = NULL;
	}
	s->pending = 0;
}

void
sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	sync_cancel(s);
	json_object_put(s->account);
	json_object_put(s->wanted);
	json_object_put(s->prices);
	json_object_put(s->perr);
	free(s->chunks);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

/* The job's RESULT is ready: the keys and requests are no longer needed. */
static void
sync_done(struct sync *s, json_object *result)
{
	struct job *j = s->j;

	if (result != NULL && wire_result_http(result, &s->stats.http) == -1)
		sandbox_oom();
	j->result = result;
	j->done = true;
	sodium_memzero(j->secret, sizeof(j->secret));
	j->run = NULL;
	sync_free(s);
}

/* --- marking trades --- */

/* A trade's text field: a string of 1..SYNC_FIELD_MAX bytes. */
static const char *
sync_text(json_object *t, const char *key, const char *what, char *msg,
    size_t size)
{
	char shown[SYNC_SHOWN + 8];
	json_object *v;
	size_t len;

	if (!json_object_object_get_ex(t, key, &v) || v == NULL) {
		snprintf(msg, size, "trade has no %s", what);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(msg, size, "%s is a %s, not a string", what,
		    json_type_to_name(json_object_get_type(v)));
		return NULL;
	}
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > SYNC_FIELD_MAX) {
		snprintf(msg, size, "%s \"%s\" is not 1..%d bytes", what,
		    sync_show(json_object_get_string(v), len, shown,
		    sizeof(shown)), SYNC_FIELD_MAX);
		return NULL;
	}
	return json_object_get_string(v);
}

/* A trade's number: a JSON number or a decimal string, above zero. */
static int
sync_number(json_object *t, const char *key, const char *what,
    struct dec *d, char *msg, size_t size)
{
	static const struct dec zero = { 0, 0 };
	char shown[SYNC_SHOWN + 8];
	struct tp_err e;
	json_object *v;
	size_t len;

	if (!json_object_object_get_ex(t, key, &v) || v == NULL) {
		snprintf(msg, size, "trade has no %s", what);
		return -1;
	}
	if (json_object_is_type(v, json_type_string) &&
	    (len = (size_t)json_object_get_string_len(v)) > SYNC_FIELD_MAX) {
		snprintf(msg, size, "%s \"%s\" is longer than %d bytes", what,
		    sync_show(json_object_get_string(v), len, shown,
		    sizeof(shown)), SYNC_FIELD_MAX);
		return -1;
	}
	tp_err_clear(&e);
	if (dec_from_json(v, d, &e) == -1) {
		if (json_object_is_type(v, json_type_string))
			snprintf(msg, size, "%s \"%s\" is not a number", what,
			    sync_show(json_object_get_string(v),
			    (size_t)json_object_get_string_len(v), shown,
			    sizeof(shown)));
		else
			snprintf(msg, size, "%s is a %s, not a number", what,
			    json_type_to_name(json_object_get_type(v)));
		return -1;
	}
	if (dec_cmp(d, &zero) <= 0) {
		snprintf(msg, size, "%s must be above zero", what);
		return -1;
	}
	return 0;
}

/*
 * Marks one trade: 0 with *pnl, or -1 with *code and msg for its
 * pnl_error.
 */
static int
sync_mark(struct sync *s, json_object *t, struct pnl *out, enum tp_code *code,
    char *msg, size_t size)
{
	char shown[SYNC_SHOWN + 8];
	const char *sym, *side_s, *ps, *m;
	json_object *pv, *ev;
	enum pnl_side side;
	struct dec qty, entry, price;
	struct tp_err e;

	*code = TP_INVALID_ARGUMENT;
	if ((sym = sync_text(t, "symbol", "symbol", msg, size)) == NULL)
		return -1;
	if (!pnl_valid_symbol(sym)) {
		snprintf(msg, size, "symbol \"%s\" is not a symbol (1..%d of "
		    "A-Z 0-9 . / -)", sync_show(sym, strlen(sym), shown,
		    sizeof(shown)), PNL_SYMBOL_MAX);
		return -1;
	}
	if ((side_s = sync_text(t, "side", "side", msg, size)) == NULL)
		return -1;
	if (pnl_side_parse(side_s, &side) == -1) {
		snprintf(msg, size, "side \"%s\" is not long, short, buy or "
		    "sell", sync_show(side_s, strlen(side_s), shown,
		    sizeof(shown)));
		return -1;
	}
	if (sync_number(t, "qty", "qty", &qty, msg, size) == -1 ||
	    sync_number(t, "entry_price", "entry_price", &entry, msg,
	    size) == -1)
		return -1;
	if (!json_object_object_get_ex(s->prices, sym, &pv)) {
		if (json_object_object_get_ex(s->perr, sym, &ev) &&
		    (m = json_get_str(ev, "message")) != NULL) {
			*code = tp_code_parse(json_get_str(ev, "code"));
			snprintf(msg, size, "%s", m);
		} else {
			*code = TP_NOT_FOUND;
			snprintf(msg, size, "no latest trade for symbol %s",
			    sym);
		}
		return -1;
	}
	ps = json_object_get_string(pv);
	tp_err_clear(&e);
	if (dec_parse(ps, strlen(ps), &price, &e) == -1) {
		*code = TP_INTERNAL;
		snprintf(msg, size, "price of %s: %s", sym, e.msg);
		return -1;
	}
	if (pnl_mark(side, &qty, &entry, &price, out, &e) == -1) {
		snprintf(msg, size, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* Appends "SYM, SYM, ... (N more)" of a map's keys to buf. */
static void
sync_name_keys(json_object *map, char *buf, size_t size)
{
	struct json_object_iterator it, end;
	size_t n = 0, off = strlen(buf), total;

	total = (size_t)json_object_object_length(map);
	it = json_object_iter_begin(map);
	end = json_object_iter_end(map);
	for (; !json_object_iter_equal(&it, &end) && n < SYNC_NAMED;
	    json_object_iter_next(&it), n++) {
		snprintf(buf + off, size - off, "%s%s", n > 0 ? ", " : "",
		    json_object_iter_peek_name(&it));
		off = strnlen(buf, size);
	}
	if (total > n)
		snprintf(buf + off, size - off, " and %zu more", total - n);
}

/* The account is in and every price known: the RESULT of a good sync.
 * It says what was learned; the supervisor composes the writes. */
static void
sync_finish(struct sync *s)
{
	struct job *j = s->j;
	json_object *r, *trade;
	char msg[SYNC_MSG_MAX], first[SYNC_MSG_MAX], last4[8],
	    sum_s[DEC_TEXT_MAX + 1];
	const char *status, *equity, *currency, *id;
	struct dec sum = { 0, 0 };
	struct tp_err e;
	enum tp_code code;
	struct pnl p;
	size_t i, n, marked = 0, failed = 0, known;

	status = json_get_str(s->account, "status");
	equity = json_get_str(s->account, "equity");
	currency = json_get_str(s->account, "currency");
	snprintf(msg, sizeof(msg), "account %s, equity %s%s%s",
	    status != NULL ? status : "?", equity != NULL ? equity : "?",
	    currency != NULL ? " " : "", currency != NULL ? currency : "");
	result_log(j, "info", "account", msg);

	n = j->trades != NULL ? json_object_array_length(j->trades) : 0;
	/* prices the pulse fetched for everyone are no step of this
	 * tenant's: a line only when it fetched them or some were missing */
	if (n > 0 && (s->fetched || json_object_object_length(s->perr) > 0)) {
		known = (size_t)json_object_object_length(s->prices);
		if (s->fetched)
			snprintf(msg, sizeof(msg), "latest prices of %zu "
			    "symbol%s from Alpaca (%" PRIu32 " request%s)",
			    known, known == 1 ? "" : "s",
			    s->stats.requests[ALPACA_TRADES_LATEST],
			    s->stats.requests[ALPACA_TRADES_LATEST] == 1 ? "" :
			    "s");
		else
			snprintf(msg, sizeof(msg), "prices of %zu symbol%s "
			    "from the pulse", known, known == 1 ? "" : "s");
		if (json_object_object_length(s->perr) > 0) {
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			    "; none for ");
			sync_name_keys(s->perr, msg, sizeof(msg));
		}
		result_log(j, json_object_object_length(s->perr) > 0 ?
		    "warn" : "info", "prices", msg);
	}

	result_last4(j, last4);
	if ((r = wire_result_sync_new(j->id, s->account, last4)) == NULL)
		sandbox_oom();
	first[0] = '\0';
	for (i = 0; i < n; i++) {
		trade = json_object_array_get_idx(j->trades, i);
		id = json_get_str(trade, "id");
		if (sync_mark(s, trade, &p, &code, msg, sizeof(msg)) == 0) {
			if (wire_result_mark(r, id, &p.price, &p.pnl,
			    &p.pct) == -1)
				sandbox_oom();
			/* the sum of what the trades show; 500 trades of
			 * at most 10^36 each cannot leave the range */
			tp_err_clear(&e);
			(void)dec_add(&sum, &p.pnl, &sum, &e);
			marked++;
		} else {
			if (wire_result_mark_error(r, id, code, msg) == -1)
				sandbox_oom();
			if (failed++ == 0)
				snprintf(first, sizeof(first), "trade %s: %s",
				    id, msg);
		}
	}
	dec_round(&sum, PNL_PLACES, &sum);
	if (dec_format(&sum, sum_s, sizeof(sum_s)) == -1)
		snprintf(sum_s, sizeof(sum_s), "0.00");
	if (n == 0)
		snprintf(msg, sizeof(msg), "no open trades to mark");
	else
		snprintf(msg, sizeof(msg), "marked %zu open trade%s, "
		    "unrealized P&L %s%s%zu failed%s%s", marked,
		    marked == 1 ? "" : "s", sum_s, failed > 0 ? "; " : "",
		    failed, failed > 0 ? ": " : "", first);
	/* "0 failed" reads badly after a clean run */
	if (n > 0 && failed == 0)
		snprintf(msg, sizeof(msg), "marked %zu open trade%s, "
		    "unrealized P&L %s", marked, marked == 1 ? "" : "s", sum_s);
	result_log(j, failed > 0 ? "warn" : "info", "pnl", msg);

	if (wire_result_requests(r, s->stats.requests[ALPACA_ACCOUNT],
	    s->stats.requests[ALPACA_TRADES_LATEST], s->stats.retries) == -1)
		sandbox_oom();
#ifdef TP_FAULT_INJECTION
	if (j->fault == FAULT_FOREIGN)
		faults_foreign(j, r);
#endif
	sync_done(s, r);
}

/* Every chunk is in: the RESULT of a good prices job. */
static void
sync_prices_finish(struct sync *s)
{
	json_object *r;
	char msg[SYNC_MSG_MAX];
	size_t asked, known;

	asked = json_object_array_length(s->j->symbols);
	known = (size_t)json_object_object_length(s->prices);
	snprintf(msg, sizeof(msg), "latest prices of %zu of %zu symbol%s (%"
	    PRIu32 " request%s, %" PRIu32 " retr%s)", known, asked,
	    asked == 1 ? "" : "s", s->stats.requests[ALPACA_TRADES_LATEST],
	    s->stats.requests[ALPACA_TRADES_LATEST] == 1 ? "" : "s",
	    s->stats.retries, s->stats.retries == 1 ? "y" : "ies");
	if (known < asked) {
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
		    "; none for ");
		sync_name_keys(s->perr, msg, sizeof(msg));
	}
	result_log(s->j, known < asked ? "warn" : "info", "prices",
	    msg);
	if ((r = wire_result_prices_new(s->j->id, s->prices)) == NULL ||
	    wire_result_requests(r, -1,
	    s->stats.requests[ALPACA_TRADES_LATEST], s->stats.retries) == -1)
		sandbox_oom();
	sync_done(s, r);
}

/* One request called back: the job ends when it was the last, or at
 * once when it failed. */
static void
sync_settle(struct sync *s)
{
	if (s->failed) {
		sync_cancel(s);
		sync_done(s, result_error(s->j->id, s->fail.code,
		    s->fail.msg));
	} else if (s->pending == 0) {
		if (s->j->kind == JOB_SYNC)
			sync_finish(s);
		else
			sync_prices_finish(s);
	}
}

static void
sync_account_done(void *arg, struct alpaca_req *r, json_object *reply,
    const struct tp_err *err)
{
	struct sync *s = arg;
	struct tp_err e;

	(void)r;
	s->account_req = NULL;
	s->pending--;
	tp_err_clear(&e);
	if (reply == NULL) {
		s->fail = *err;
		s->failed = true;
	} else {
		s->account = result_obj();
		if (alpaca_parse_account(reply, s->account, &e) == -1) {
			result_log(s->j, "error", "alpaca", e.msg);
			s->fail = e;
			s->failed = true;
		}
		json_object_put(reply);
	}
	sync_settle(s);
}

static void
sync_chunk_done(void *arg, struct alpaca_req *r, json_object *reply,
    const struct tp_err *err)
{
	struct sync_chunk *c = arg;
	struct sync *s = c->s;
	json_object *eo;
	struct tp_err e;
	size_t i;

	(void)r;
	c->req = NULL;
	s->pending--;
	tp_err_clear(&e);
	if (reply != NULL) {
		if (alpaca_parse_trades(reply, c->syms, c->n, s->prices,
		    s->perr, &e) == -1) {
			result_log(s->j, "error", "alpaca", e.msg);
			err = &e;
		}
		json_object_put(reply);
	}
	if (err != NULL) {
		/* a prices job is all or nothing; a sync fails the trades
		 * of these symbols only */
		if (s->j->kind == JOB_PRICES) {
			s->fail = *err;
			s->failed = true;
		} else {
			for (i = 0; i < c->n; i++) {
				eo = result_obj();
				result_add(eo, "code", result_str(
				    tp_code_name(err->code)));
				result_add(eo, "message", result_str(
				    err->msg));
				result_add(s->perr, c->syms[i], eo);
			}
		}
	}
	sync_settle(s);
}

/* Splits s->wanted into requests of ALPACA_SYMBOLS_PER_REQ symbols. */
static int
sync_fetch(struct sync *s, struct tp_err *err)
{
	struct json_object_iterator it, end;
	struct sync_chunk *c;
	size_t total, i;

	total = (size_t)json_object_object_length(s->wanted);
	if (total == 0)
		return 0;
	s->nchunks = (total + ALPACA_SYMBOLS_PER_REQ - 1) /
	    ALPACA_SYMBOLS_PER_REQ;
	if ((s->chunks = calloc(s->nchunks, sizeof(*s->chunks))) == NULL)
		sandbox_oom();
	it = json_object_iter_begin(s->wanted);
	end = json_object_iter_end(s->wanted);
	for (i = 0; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it), i++) {
		c = &s->chunks[i / ALPACA_SYMBOLS_PER_REQ];
		c->s = s;
		c->syms[c->n++] = json_object_iter_peek_name(&it);
	}
	s->fetched = true;
	for (i = 0; i < s->nchunks; i++) {
		c = &s->chunks[i];
		if ((c->req = alpaca_trades_latest(s->w->alpaca, &s->call,
		    c->syms, c->n, sync_chunk_done, c, err)) == NULL)
			return -1;
		s->pending++;
	}
	return 0;
}

static struct sync *
sync_new(struct worker *w, struct job *j)
{
	struct sync *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		sandbox_oom();
	s->w = w;
	s->j = j;
	alpaca_bucket_init(&s->bucket, w->conf.requests_per_minute,
	    clock_mono_ms());
	s->call.key_id = j->key_id;
	s->call.secret = j->secret;
	s->call.uid = j->kind == JOB_SYNC ? j->uid : NULL;
	s->call.bucket = &s->bucket;
	s->call.stats = &s->stats;
	s->call.deadline = j->finish_by;
	s->call.log = sync_log;
	s->call.log_arg = s;
	s->wanted = result_obj();
	s->prices = result_obj();
	s->perr = result_obj();
	j->run = s;
	return s;
}

/* A request could not even start: the job fails at once. */
static void
sync_abort(struct sync *s, const struct tp_err *err)
{
	result_log(s->j, "error", "alpaca", err->msg);
	sync_cancel(s);
	sync_done(s, result_error(s->j->id, err->code, err->msg));
}

void
sync_start(struct worker *w, struct job *j)
{
	struct tp_err err;
	struct sync *s;
	const char *sym;
	size_t i, n;

	s = sync_new(w, j);
	tp_err_clear(&err);
	if ((s->account_req = alpaca_account(w->alpaca, &s->call,
	    sync_account_done, s, &err)) == NULL) {
		sync_abort(s, &err);
		return;
	}
	s->pending++;
	if (j->prices != NULL) {
		/* the pulse's prices, checked by job_parse: a symbol they
		 * lack has none */
		json_object_put(s->prices);
		s->prices = json_object_get(j->prices);
		return;
	}
	n = j->trades != NULL ? json_object_array_length(j->trades) : 0;
	for (i = 0; i < n; i++) {
		sym = json_get_str(json_object_array_get_idx(j->trades, i),
		    "symbol");
		/* a bad symbol is that trade's error, later */
		if (sym != NULL && pnl_valid_symbol(sym) &&
		    !json_object_object_get_ex(s->wanted, sym, NULL))
			result_add(s->wanted, sym, json_object_new_boolean(1));
	}
	if (sync_fetch(s, &err) == -1)
		sync_abort(s, &err);
}

void
sync_prices_start(struct worker *w, struct job *j)
{
	struct tp_err err;
	struct sync *s;
	size_t i, n;

	s = sync_new(w, j);
	n = json_object_array_length(j->symbols);
	for (i = 0; i < n; i++)
		result_add(s->wanted, json_object_get_string(
		    json_object_array_get_idx(j->symbols, i)),
		    json_object_new_boolean(1));
	tp_err_clear(&err);
	if (sync_fetch(s, &err) == -1) {
		sync_abort(s, &err);
		return;
	}
	/* no symbols: nothing to ask */
	if (s->pending == 0)
		sync_settle(s);
}
