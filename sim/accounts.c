/* accounts.c: alpaca-sim's accounts: the table, their JSON, authentication and the per-key rate limit. */
#include <config.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

#include "common/jsonutil.h"
#include "common/htab.h"
#include "sim/market.h"
#include "sim/sim.h"

#define SIM_POSITIONS_MAX	100
#define SIM_MONEY_TEXT_MAX	40

enum field_kind { K_ID, K_TEXT, K_CURRENCY, K_STATUS, K_MONEY, K_TIME,
    K_DATE, K_BOOL, K_INT, K_LEVEL };

static const struct sim_field_def {
	const char *name;
	enum field_kind kind;
	const char *def;	/* NULL: made from the seed and the key id */
} sim_fields[SIM_F_COUNT] = {
	[SIM_F_ID] = { "id", K_ID, NULL },
	[SIM_F_ACCOUNT_NUMBER] = { "account_number", K_TEXT, NULL },
	[SIM_F_STATUS] = { "status", K_STATUS, "ACTIVE" },
	[SIM_F_CRYPTO_STATUS] = { "crypto_status", K_STATUS, "ACTIVE" },
	[SIM_F_CURRENCY] = { "currency", K_CURRENCY, "USD" },
	[SIM_F_CASH] = { "cash", K_MONEY, "100000" },
	[SIM_F_PORTFOLIO_VALUE] = { "portfolio_value", K_MONEY, "100000" },
	[SIM_F_EQUITY] = { "equity", K_MONEY, "100000" },
	[SIM_F_LAST_EQUITY] = { "last_equity", K_MONEY, "100000" },
	[SIM_F_BUYING_POWER] = { "buying_power", K_MONEY, "200000" },
	[SIM_F_REGT_BUYING_POWER] = { "regt_buying_power", K_MONEY, "200000" },
	[SIM_F_DAYTRADING_BUYING_POWER] = { "daytrading_buying_power",
	    K_MONEY, "0" },
	[SIM_F_NON_MARGINABLE_BUYING_POWER] = {
	    "non_marginable_buying_power", K_MONEY, "100000" },
	[SIM_F_OPTIONS_BUYING_POWER] = { "options_buying_power", K_MONEY,
	    "100000" },
	[SIM_F_INITIAL_MARGIN] = { "initial_margin", K_MONEY, "0" },
	[SIM_F_MAINTENANCE_MARGIN] = { "maintenance_margin", K_MONEY, "0" },
	[SIM_F_LAST_MAINTENANCE_MARGIN] = { "last_maintenance_margin",
	    K_MONEY, "0" },
	[SIM_F_LONG_MARKET_VALUE] = { "long_market_value", K_MONEY, "0" },
	[SIM_F_SHORT_MARKET_VALUE] = { "short_market_value", K_MONEY, "0" },
	[SIM_F_SMA] = { "sma", K_MONEY, "0" },
	[SIM_F_MULTIPLIER] = { "multiplier", K_MONEY, "2" },
	[SIM_F_ACCRUED_FEES] = { "accrued_fees", K_MONEY, "0" },
	[SIM_F_PENDING_TRANSFER_IN] = { "pending_transfer_in", K_MONEY, "0" },
	[SIM_F_CREATED_AT] = { "created_at", K_TIME, NULL },
	[SIM_F_BALANCE_ASOF] = { "balance_asof", K_DATE, NULL },
	[SIM_F_PATTERN_DAY_TRADER] = { "pattern_day_trader", K_BOOL, "false" },
	[SIM_F_TRADING_BLOCKED] = { "trading_blocked", K_BOOL, "false" },
	[SIM_F_TRANSFERS_BLOCKED] = { "transfers_blocked", K_BOOL, "false" },
	[SIM_F_ACCOUNT_BLOCKED] = { "account_blocked", K_BOOL, "false" },
	[SIM_F_SHORTING_ENABLED] = { "shorting_enabled", K_BOOL, "true" },
	[SIM_F_TRADE_SUSPENDED_BY_USER] = { "trade_suspended_by_user", K_BOOL,
	    "false" },
	[SIM_F_DAYTRADE_COUNT] = { "daytrade_count", K_INT, "0" },
	[SIM_F_OPTIONS_APPROVED_LEVEL] = { "options_approved_level", K_LEVEL,
	    "0" },
	[SIM_F_OPTIONS_TRADING_LEVEL] = { "options_trading_level", K_LEVEL,
	    "0" },
};

/* The spec's AccountStatus values. */
static const char *const sim_statuses[] = {
	"INACTIVE", "PAPER_ONLY", "ONBOARDING", "SUBMISSION_FAILED",
	"SUBMITTED", "ACCOUNT_UPDATED", "APPROVAL_PENDING", "ACTIVE",
	"REJECTED", "ACCOUNT_CLOSED", "APPROVED", "ACCOUNT_CLOSED_PENDING",
	"ACTION_REQUIRED", "LIMITED",
};

static void
sim_account_free(void *p)
{
	struct sim_account *a = p;
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < SIM_F_COUNT; i++)
		free(a->fields[i]);
	free(a->positions);
	free(a->key_id);
	sodium_memzero(a->secret_mac, sizeof(a->secret_mac));
	free(a);
}

int
sim_accounts_init(struct sim *s, struct tp_err *err)
{
	if ((s->accounts = htab_new()) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	randombytes_buf(s->mac_key, sizeof(s->mac_key));
	return 0;
}

void
sim_accounts_free(struct sim *s)
{
	htab_free(s->accounts, sim_account_free);
	s->accounts = NULL;
	sodium_memzero(s->mac_key, sizeof(s->mac_key));
}

void
sim_accounts_clear(struct sim *s)
{
	struct htab *h;

	if ((h = htab_new()) == NULL)
		return;
	htab_free(s->accounts, sim_account_free);
	s->accounts = h;
}

static void
sim_reset_one(const char *key, void *value, void *arg)
{
	struct sim_account *a = value;

	(void)key;
	(void)arg;
	a->behaviour = SIM_B_NORMAL;
	a->b_status = 0;
	a->b_latency_ms = 0;
}

void
sim_accounts_reset_behaviours(struct sim *s)
{
	htab_walk(s->accounts, sim_reset_one, NULL);
}

struct sim_account *
sim_account_find(struct sim *s, const char *key_id)
{
	return htab_get(s->accounts, key_id);
}

/* Printable ASCII without spaces: what a header value can carry intact. */
static bool
sim_token_ok(const char *v, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] > '~')
			return false;
	return true;
}

static bool
sim_decimal_ok(const char *v)
{
	size_t i = 0, n;

	if (strlen(v) > SIM_MONEY_TEXT_MAX)
		return false;
	if (v[i] == '-')
		i++;
	for (n = 0; isdigit((unsigned char)v[i]); i++, n++)
		;
	if (n == 0)
		return false;
	if (v[i] == '.') {
		for (i++, n = 0; isdigit((unsigned char)v[i]); i++, n++)
			;
		if (n == 0)
			return false;
	}
	return v[i] == '\0';
}

/* Checks one field of the control API against its kind; *text gets the
 * value's text (allocated). */
static int
sim_field_parse(const struct sim_field_def *f, json_object *v, char **text,
    struct tp_err *err)
{
	const char *t;
	int64_t n;
	size_t i;
	int64_t when;

	switch (f->kind) {
	case K_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: a boolean expected", f->name);
		t = json_object_get_boolean(v) ? "true" : "false";
		break;
	case K_INT:
	case K_LEVEL:
		if (!json_object_is_type(v, json_type_int) ||
		    (n = json_object_get_int64(v)) < 0 || n > 1000000 ||
		    (f->kind == K_LEVEL && n > 3))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: a whole number from 0 to %d expected",
			    f->name, f->kind == K_LEVEL ? 3 : 1000000);
		t = json_object_get_string(v);
		break;
	case K_MONEY:
		/* a decimal string, or a number taken as its text */
		if (!json_object_is_type(v, json_type_string) &&
		    !json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_double))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: a decimal string expected", f->name);
		t = json_object_get_string(v);
		if (!sim_decimal_ok(t))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: \"%.48s\" is not a decimal (like \"-12.50\", "
			    "at most %d characters)", f->name, t,
			    SIM_MONEY_TEXT_MAX);
		break;
	default:
		if (!json_object_is_type(v, json_type_string))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: a string expected", f->name);
		t = json_object_get_string(v);
		if (!sim_token_ok(t, strlen(t), 64))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: 1 to 64 printable characters without spaces",
			    f->name);
		if (f->kind == K_STATUS) {
			for (i = 0; i < sizeof(sim_statuses) /
			    sizeof(sim_statuses[0]); i++)
				if (strcmp(t, sim_statuses[i]) == 0)
					break;
			if (i == sizeof(sim_statuses) / sizeof(sim_statuses[0]))
				return tp_err_set(err, TP_INVALID_ARGUMENT,
				    "%s: \"%s\" is not an Alpaca account "
				    "status (ACTIVE, ACCOUNT_CLOSED, ...)",
				    f->name, t);
		} else if (f->kind == K_CURRENCY && (strlen(t) != 3 ||
		    !isupper((unsigned char)t[0]) ||
		    !isupper((unsigned char)t[1]) ||
		    !isupper((unsigned char)t[2])))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: three capital letters expected", f->name);
		else if ((f->kind == K_TIME || f->kind == K_DATE) &&
		    market_parse_time(t, &when) == -1)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "%s: an RFC 3339 time expected", f->name);
		break;
	}
	if ((*text = strdup(t)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

static int
sim_positions_parse(struct sim_account *a, json_object *arr,
    struct tp_err *err)
{
	size_t i, n;

	if (!json_object_is_type(arr, json_type_array))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "positions: an array expected");
	if ((n = json_object_array_length(arr)) > SIM_POSITIONS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "positions: at most %d", SIM_POSITIONS_MAX);
	if (n == 0)
		return 0;
	if ((a->positions = calloc(n, sizeof(*a->positions))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(arr, i), *v;
		struct sim_position *pos = &a->positions[i];
		const char *sym, *side;

		sym = json_get_str(p, "symbol");
		if (sym == NULL || !market_valid_symbol(sym))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "positions[%zu].symbol: 1 to 16 of A-Z 0-9 . / -",
			    i);
		snprintf(pos->symbol, sizeof(pos->symbol), "%s", sym);
		if (!json_object_object_get_ex(p, "qty", &v) ||
		    market_parse_u(json_object_get_string(v), &pos->qty_u) ==
		    -1 || pos->qty_u == 0 ||
		    pos->qty_u > (int64_t)1e9 * MARKET_MICRO ||
		    pos->qty_u < -(int64_t)1e9 * MARKET_MICRO)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "positions[%zu].qty: a decimal other than 0 "
			    "expected", i);
		if (!json_object_object_get_ex(p, "avg_entry_price", &v) ||
		    market_parse_u(json_object_get_string(v), &pos->entry_u) ==
		    -1 || pos->entry_u <= 0 ||
		    pos->entry_u > (int64_t)1e9 * MARKET_MICRO)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "positions[%zu].avg_entry_price: a positive decimal "
			    "expected", i);
		if ((side = json_get_str(p, "side")) != NULL) {
			if (strcmp(side, "short") == 0 && pos->qty_u > 0)
				pos->qty_u = -pos->qty_u;
			else if (strcmp(side, "long") != 0 &&
			    strcmp(side, "short") != 0)
				return tp_err_set(err, TP_INVALID_ARGUMENT,
				    "positions[%zu].side: long or short", i);
		}
		a->npositions++;
	}
	return 0;
}

int
sim_account_load(struct sim *s, json_object *o, struct tp_err *err)
{
	struct sim_account *a;
	json_object *kid = NULL, *sec = NULL;
	const char *secret;
	void *old;
	size_t i;

	if (!json_object_is_type(o, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "an account must be a JSON object");
	if (!json_object_object_get_ex(o, "key_id", &kid) ||
	    !json_object_is_type(kid, json_type_string) ||
	    !sim_token_ok(json_object_get_string(kid),
	    (size_t)json_object_get_string_len(kid), SIM_KEY_ID_MAX))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "key_id: 1 to %d printable characters without spaces",
		    SIM_KEY_ID_MAX);
	if (!json_object_object_get_ex(o, "secret", &sec) ||
	    !json_object_is_type(sec, json_type_string) ||
	    !sim_token_ok(json_object_get_string(sec),
	    (size_t)json_object_get_string_len(sec), SIM_SECRET_MAX))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "secret: 1 to %d printable characters without spaces",
		    SIM_SECRET_MAX);
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->key_id = strdup(json_object_get_string(kid))) == NULL) {
		free(a);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	secret = json_object_get_string(sec);
	crypto_generichash(a->secret_mac, sizeof(a->secret_mac),
	    (const unsigned char *)secret, strlen(secret), s->mac_key,
	    sizeof(s->mac_key));
	json_wipe_string(sec);
	json_object_object_foreach(o, k, v) {
		if (strcmp(k, "key_id") == 0 || strcmp(k, "secret") == 0)
			continue;
		if (strcmp(k, "positions") == 0) {
			if (sim_positions_parse(a, v, err) == -1)
				goto fail;
			continue;
		}
		for (i = 0; i < SIM_F_COUNT; i++)
			if (strcmp(k, sim_fields[i].name) == 0)
				break;
		if (i == SIM_F_COUNT) {
			tp_err_set(err, TP_INVALID_ARGUMENT,
			    "unknown account field \"%.40s\"", k);
			goto fail;
		}
		free(a->fields[i]);
		a->fields[i] = NULL;
		if (sim_field_parse(&sim_fields[i], v, &a->fields[i], err) ==
		    -1)
			goto fail;
	}
	if (htab_put(s->accounts, a->key_id, a, &old) == -1) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	sim_account_free(old);
	return 0;
fail:
	sim_account_free(a);
	return -1;
}

struct sim_account *
sim_auth(struct sim *s, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *kid, *secret;
	struct sim_account *a = NULL;
	unsigned char mac[crypto_generichash_BYTES];
	size_t len;

	kid = evhttp_find_header(h, "APCA-API-KEY-ID");
	secret = evhttp_find_header(h, "APCA-API-SECRET-KEY");
	if (secret == NULL)
		return NULL;
	len = strlen(secret);
	if (kid != NULL && sim_token_ok(secret, len, SIM_SECRET_MAX) &&
	    (a = htab_get(s->accounts, kid)) != NULL) {
		crypto_generichash(mac, sizeof(mac),
		    (const unsigned char *)secret, len, s->mac_key,
		    sizeof(s->mac_key));
		if (sodium_memcmp(mac, a->secret_mac, sizeof(mac)) != 0)
			a = NULL;
		sodium_memzero(mac, sizeof(mac));
	}
	/* The header's copy of the secret is ours to wipe: libevent owns
	 * the memory but nothing reads it after this. */
	sodium_memzero((void *)(uintptr_t)secret, len);
	return a;
}

bool
sim_rate_take(struct sim *s, struct sim_account *a, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct timeval tv;
	char buf[32];
	int64_t now;
	bool ok;

	if (s->rate_limit == 0)
		return true;
	event_base_gettimeofday_cached(s->base, &tv);
	now = (int64_t)tv.tv_sec;
	if (now >= a->rl_window + 60 || now < a->rl_window) {
		a->rl_window = now;
		a->rl_count = 0;
	}
	ok = a->rl_count < s->rate_limit;
	if (ok)
		a->rl_count++;
	snprintf(buf, sizeof(buf), "%" PRIu32, s->rate_limit);
	evhttp_add_header(h, "X-RateLimit-Limit", buf);
	snprintf(buf, sizeof(buf), "%" PRIu32, s->rate_limit - a->rl_count);
	evhttp_add_header(h, "X-RateLimit-Remaining", buf);
	snprintf(buf, sizeof(buf), "%" PRId64, a->rl_window + 60);
	evhttp_add_header(h, "X-RateLimit-Reset", buf);
	return ok;
}

/* --- JSON ------------------------------------------------------------------ */

static void
sim_account_hash(const struct sim *s, const char *tag, const char *key_id,
    unsigned char *out, size_t outlen)
{
	crypto_generichash_state st;
	unsigned char key[16];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = i < 8 ? (unsigned char)(s->seed >> (8 * i)) : 'a';
	crypto_generichash_init(&st, key, sizeof(key), outlen);
	crypto_generichash_update(&st, (const unsigned char *)tag,
	    strlen(tag) + 1);
	crypto_generichash_update(&st, (const unsigned char *)key_id,
	    strlen(key_id));
	crypto_generichash_final(&st, out, outlen);
}

/* A version 4 UUID made from the seed, a tag and a name. */
static void
sim_uuid(const struct sim *s, const char *tag, const char *name, char *buf,
    size_t size)
{
	unsigned char b[16];

	sim_account_hash(s, tag, name, b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The default of a field made from the seed and the key id. */
static void
sim_generated(const struct sim *s, const struct sim_account *a,
    enum sim_field f, char *buf, size_t size)
{
	unsigned char b[16];
	uint64_t v;
	int64_t t, now = market_now(s->market);

	switch (f) {
	case SIM_F_ID:
		sim_uuid(s, "account", a->key_id, buf, size);
		break;
	case SIM_F_ACCOUNT_NUMBER:
		sim_account_hash(s, "number", a->key_id, b, sizeof(b));
		memcpy(&v, b, sizeof(v));
		snprintf(buf, size, "PA%010" PRIu64,
		    (uint64_t)(v % 10000000000ULL));
		break;
	case SIM_F_CREATED_AT:
		sim_account_hash(s, "created", a->key_id, b, sizeof(b));
		memcpy(&v, b, sizeof(v));
		/* up to three years before now, with microseconds */
		t = now - 86400 - (int64_t)(v % (uint64_t)(3 * 365 * 86400));
		market_format_time(t, buf, size);
		if (size > 28)
			snprintf(buf + 19, size - 19, ".%06" PRIu64 "Z",
			    (uint64_t)((v >> 32) % 1000000));
		break;
	case SIM_F_BALANCE_ASOF:
		market_format_time(now - 86400, buf, size);
		if (size > 10)
			buf[10] = '\0';
		break;
	default:
		snprintf(buf, size, "%s", "");
		break;
	}
}

json_object *
sim_account_json(struct sim *s, const struct sim_account *a, bool wrong)
{
	json_object *o = json_object_new_object(), *v;
	char buf[64];
	const char *t;
	size_t i;

	for (i = 0; i < SIM_F_COUNT; i++) {
		const struct sim_field_def *f = &sim_fields[i];

		if ((t = a->fields[i]) == NULL && (t = f->def) == NULL) {
			sim_generated(s, a, (enum sim_field)i, buf,
			    sizeof(buf));
			t = buf;
		}
		switch (f->kind) {
		case K_BOOL:
			v = json_object_new_boolean(strcmp(t, "true") == 0);
			break;
		case K_INT:
		case K_LEVEL:
			v = json_object_new_int64(strtoll(t, NULL, 10));
			break;
		default:
			v = json_object_new_string(t);
			break;
		}
		if (wrong) {
			/* the kinds of mistakes a broken upstream makes */
			switch ((enum sim_field)i) {
			case SIM_F_EQUITY:
				json_object_put(v);
				v = json_object_new_object();
				json_object_object_add(v, "amount",
				    json_object_new_string(t));
				break;
			case SIM_F_STATUS:
				json_object_put(v);
				v = json_object_new_int(1);
				break;
			case SIM_F_CASH:
				json_object_put(v);
				v = json_object_new_boolean(1);
				break;
			case SIM_F_DAYTRADE_COUNT:
				json_object_put(v);
				v = json_object_new_string(t);
				break;
			case SIM_F_TRADING_BLOCKED:
				json_object_put(v);
				v = json_object_new_string("no");
				break;
			case SIM_F_ID:
				json_object_put(v);
				v = json_object_new_array();
				break;
			default:
				break;
			}
		}
		json_object_object_add(o, f->name, v);
	}
	return o;
}

static json_object *
sim_money(int64_t u)
{
	char buf[48];

	market_format_u(u, 0, buf, sizeof(buf));
	return json_object_new_string(buf);
}

/* a * b / c on millionths, without overflow for the bounded inputs */
static int64_t
sim_muldiv(int64_t a, int64_t b, int64_t c)
{
	return c == 0 ? 0 : (int64_t)((__int128)a * b / c);
}

json_object *
sim_positions_json(struct sim *s, const struct sim_account *a, bool wrong)
{
	json_object *arr, *o;
	char uuid[40];
	size_t i;

	if (wrong) {
		/* a map where the spec has an array */
		arr = json_object_new_object();
		json_object_object_add(arr, "count",
		    json_object_new_string("many"));
		return arr;
	}
	arr = json_object_new_array();
	for (i = 0; i < a->npositions; i++) {
		const struct sim_position *p = &a->positions[i];
		int64_t price, last, mv, cost, pl, ipl, absq;

		if (!market_price(s->market, p->symbol, &price))
			price = p->entry_u;	/* no market: marked at cost */
		last = market_lastday_price(s->market, p->symbol, price);
		absq = p->qty_u < 0 ? -p->qty_u : p->qty_u;
		mv = sim_muldiv(p->qty_u, price, MARKET_MICRO);
		cost = sim_muldiv(p->qty_u, p->entry_u, MARKET_MICRO);
		pl = mv - cost;
		ipl = mv - sim_muldiv(p->qty_u, last, MARKET_MICRO);
		o = json_object_new_object();
		sim_uuid(s, "asset", p->symbol, uuid, sizeof(uuid));
		json_object_object_add(o, "asset_id",
		    json_object_new_string(uuid));
		json_object_object_add(o, "symbol",
		    json_object_new_string(p->symbol));
		json_object_object_add(o, "exchange",
		    json_object_new_string("NASDAQ"));
		json_object_object_add(o, "asset_class",
		    json_object_new_string("us_equity"));
		json_object_object_add(o, "asset_marginable",
		    json_object_new_boolean(1));
		json_object_object_add(o, "qty", sim_money(p->qty_u));
		json_object_object_add(o, "qty_available", sim_money(p->qty_u));
		json_object_object_add(o, "avg_entry_price",
		    sim_money(p->entry_u));
		json_object_object_add(o, "side",
		    json_object_new_string(p->qty_u < 0 ? "short" : "long"));
		json_object_object_add(o, "market_value", sim_money(mv));
		json_object_object_add(o, "cost_basis", sim_money(cost));
		json_object_object_add(o, "unrealized_pl", sim_money(pl));
		json_object_object_add(o, "unrealized_plpc", sim_money(
		    sim_muldiv(pl, MARKET_MICRO, cost < 0 ? -cost : cost)));
		json_object_object_add(o, "unrealized_intraday_pl",
		    sim_money(ipl));
		json_object_object_add(o, "unrealized_intraday_plpc",
		    sim_money(sim_muldiv(ipl, MARKET_MICRO,
		    sim_muldiv(absq, last, MARKET_MICRO))));
		json_object_object_add(o, "current_price", sim_money(price));
		json_object_object_add(o, "lastday_price", sim_money(last));
		json_object_object_add(o, "change_today", sim_money(
		    sim_muldiv(price - last, MARKET_MICRO, last)));
		json_object_array_add(arr, o);
	}
	return arr;
}
