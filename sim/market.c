/* market.c: alpaca-sim's market: every price, trade, bar and clock time follows from the seed. */
#include <config.h>

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/htab.h"
#include "sim/market.h"

#define DAY		86400
#define OPEN_SECS	(14 * 3600 + 30 * 60)	/* 14:30 UTC */
#define CLOSE_SECS	(21 * 3600)		/* 21:00 UTC */
#define NOW_SECS	(15 * 3600 + 30 * 60)	/* the frozen now: 15:30 UTC */
#define FIRST_DAY	1704153600		/* 2024-01-02, a Tuesday */
#define PRICE_MAX_U	((int64_t)1000000000 * MARKET_MICRO)	/* $1e9 */

/* A price set by the control API; unknown marks a symbol left out. */
struct market_override {
	int64_t u;
	bool unknown;
};

struct market {
	uint64_t seed;
	unsigned char key[crypto_generichash_KEYBYTES_MIN];
	int64_t now;
	struct htab *prices;	/* symbol -> struct market_override */
	struct htab *series;	/* symbol -> struct market_series */
};

/* A symbol's daily closes set by the control API, oldest first: its 1Day
 * bars are exactly these, the last one today's. */
struct market_series {
	size_t n;
	int64_t u[];		/* millionths */
};

/* A 64-bit value that depends only on the seed, a tag, a symbol and n. */
static uint64_t
market_hash(const struct market *m, const char *tag, const char *symbol,
    int64_t n)
{
	crypto_generichash_state st;
	unsigned char out[crypto_generichash_BYTES_MIN];
	uint64_t v;

	crypto_generichash_init(&st, m->key, sizeof(m->key), sizeof(out));
	crypto_generichash_update(&st, (const unsigned char *)tag,
	    strlen(tag) + 1);
	crypto_generichash_update(&st, (const unsigned char *)symbol,
	    strlen(symbol) + 1);
	crypto_generichash_update(&st, (const unsigned char *)&n, sizeof(n));
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(&v, out, sizeof(v));
	return v;
}

static bool
market_weekday(int64_t t)
{
	/* 1970-01-01 was a Thursday: day 0 is weekday 4 (Mon = 1). */
	int64_t wd = ((t / DAY) % 7 + 4) % 7;

	return wd >= 1 && wd <= 5;
}

struct market *
market_new(uint64_t seed)
{
	struct market *m;
	int64_t day, n;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->prices = htab_new()) == NULL) {
		free(m);
		return NULL;
	}
	if ((m->series = htab_new()) == NULL) {
		htab_free(m->prices, free);
		free(m);
		return NULL;
	}
	m->seed = seed;
	for (i = 0; i < sizeof(m->key); i++)
		m->key[i] = i < 8 ? (unsigned char)(seed >> (8 * i)) :
		    (unsigned char)("alpacasim"[i - 8]);
	/* The seed picks one of 250 weekdays from 2024-01-02 on. */
	day = FIRST_DAY;
	for (n = (int64_t)(seed % 250); n > 0; n--) {
		day += DAY;
		while (!market_weekday(day))
			day += DAY;
	}
	m->now = day + NOW_SECS;
	return m;
}

void
market_free(struct market *m)
{
	if (m == NULL)
		return;
	htab_free(m->prices, free);
	htab_free(m->series, free);
	free(m);
}

void
market_reset(struct market *m)
{
	struct htab *h;

	if ((h = htab_new()) == NULL)
		return;		/* keeps the old prices; said nowhere worse */
	htab_free(m->prices, free);
	m->prices = h;
	if ((h = htab_new()) == NULL)
		return;
	htab_free(m->series, free);
	m->series = h;
}

int
market_set_closes(struct market *m, const char *symbol, json_object *closes,
    struct tp_err *err)
{
	struct market_series *s;
	json_object *v;
	void *old;
	size_t i, n;

	if (!market_valid_symbol(symbol))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid symbol \"%.32s\": 1 to 16 of A-Z 0-9 . / -",
		    symbol);
	if (!json_object_is_type(closes, json_type_array) ||
	    (n = json_object_array_length(closes)) > MARKET_BARS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "closes: a list of "
		    "at most %d prices expected", MARKET_BARS_MAX);
	if ((s = malloc(sizeof(*s) + (n > 0 ? n : 1) * sizeof(s->u[0]))) ==
	    NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	s->n = n;
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(closes, i);
		if ((!json_object_is_type(v, json_type_string) &&
		    !json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_double)) ||
		    market_parse_u(json_object_get_string(v), &s->u[i]) == -1 ||
		    s->u[i] <= 0 || s->u[i] > PRICE_MAX_U) {
			free(s);
			return tp_err_set(err, TP_INVALID_ARGUMENT, "close %zu "
			    "of %s is not a positive decimal with at most 6 "
			    "decimals", i, symbol);
		}
	}
	if (n == 0) {		/* back to the generated bars */
		free(s);
		free(htab_del(m->series, symbol));
		return 0;
	}
	if (htab_put(m->series, symbol, s, &old) == -1) {
		free(s);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	free(old);
	return 0;
}

int64_t
market_now(const struct market *m)
{
	return m->now;
}

bool
market_valid_symbol(const char *s)
{
	size_t i;

	if (s == NULL || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= MARKET_SYMBOL_MAX)
			return false;
		if (!(isupper((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '.' ||
		    s[i] == '/' || s[i] == '-'))
			return false;
	}
	return true;
}

int
market_parse_u(const char *s, int64_t *u)
{
	int64_t ip = 0, fp = 0;
	int neg = 0, digits = 0, decimals = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; isdigit((unsigned char)*s); s++, digits++) {
		if (ip > (INT64_MAX / MARKET_MICRO - 9) / 10)
			return -1;
		ip = ip * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	if (*s == '.') {
		s++;
		for (; isdigit((unsigned char)*s); s++, decimals++) {
			if (decimals >= 6)
				return -1;
			fp = fp * 10 + (*s - '0');
		}
		if (decimals == 0)
			return -1;
	}
	if (*s != '\0')
		return -1;
	for (; decimals < 6; decimals++)
		fp *= 10;
	*u = ip * MARKET_MICRO + fp;
	if (neg)
		*u = -*u;
	return 0;
}

void
market_format_u(int64_t u, int min, char *buf, size_t size)
{
	uint64_t a = u < 0 ? -(uint64_t)u : (uint64_t)u;
	char frac[8];
	int n = 6;

	snprintf(frac, sizeof(frac), "%06" PRIu64, a % MARKET_MICRO);
	while (n > min && frac[n - 1] == '0')
		n--;
	frac[n] = '\0';
	snprintf(buf, size, "%s%" PRIu64 "%s%s", u < 0 ? "-" : "",
	    a / MARKET_MICRO, n > 0 ? "." : "", frac);
}

int
market_set_price(struct market *m, const char *symbol, const char *text,
    struct tp_err *err)
{
	struct market_override *o;
	void *old;
	int64_t u = 0;

	if (!market_valid_symbol(symbol))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid symbol \"%.32s\": 1 to 16 of A-Z 0-9 . / -",
		    symbol);
	if (text != NULL && (market_parse_u(text, &u) == -1 || u <= 0 ||
	    u > PRICE_MAX_U))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "price of %s: \"%.40s\" is not a positive decimal with at "
		    "most 6 decimals", symbol, text);
	if ((o = malloc(sizeof(*o))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	o->u = u;
	o->unknown = text == NULL;
	if (htab_put(m->prices, symbol, o, &old) == -1) {
		free(o);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	free(old);
	return 0;
}

bool
market_price(const struct market *m, const char *symbol, int64_t *u)
{
	const struct market_override *o;

	if (!market_valid_symbol(symbol))
		return false;
	if ((o = htab_get(m->prices, symbol)) != NULL) {
		*u = o->u;
		return !o->unknown;
	}
	if (strncmp(symbol, "ZZ", 2) == 0)
		return false;
	/* $10.00 to $499.99, whole cents */
	*u = (int64_t)(1000 + market_hash(m, "price", symbol, 0) % 49000) *
	    (MARKET_MICRO / 100);
	return true;
}

int64_t
market_lastday_price(const struct market *m, const char *symbol,
    int64_t price_u)
{
	int64_t pct = (int64_t)(market_hash(m, "lastday", symbol, 0) % 201) -
	    100;		/* -1.00% .. +1.00% */

	/* rounded to the cent */
	return (int64_t)((__int128)price_u * (10000 + pct) / 10000 /
	    (MARKET_MICRO / 100)) * (MARKET_MICRO / 100);
}

void
market_format_time(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reads exactly n digits. */
static int
market_digits(const char **s, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!isdigit((unsigned char)**s))
			return -1;
		*v = *v * 10 + (*(*s)++ - '0');
	}
	return 0;
}

int
market_parse_time(const char *s, int64_t *t)
{
	struct tm tm, chk;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, off = 0;
	time_t tt;

	if (s == NULL || market_digits(&s, 4, &y) || *s++ != '-' ||
	    market_digits(&s, 2, &mo) || *s++ != '-' ||
	    market_digits(&s, 2, &d))
		return -1;
	if (*s == 'T') {
		s++;
		if (market_digits(&s, 2, &h) || *s++ != ':' ||
		    market_digits(&s, 2, &mi) || *s++ != ':' ||
		    market_digits(&s, 2, &sec))
			return -1;
		if (*s == '.') {
			s++;
			if (!isdigit((unsigned char)*s))
				return -1;
			while (isdigit((unsigned char)*s))
				s++;	/* fractions of a second are dropped */
		}
		if (*s == 'Z')
			s++;
		else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1;

			if (market_digits(&s, 2, &oh) || *s++ != ':' ||
			    market_digits(&s, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
		} else
			return -1;
	}
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	chk = tm;
	if ((tt = timegm(&tm)) == (time_t)-1 || tm.tm_mday != chk.tm_mday)
		return -1;	/* 2024-02-30 */
	*t = (int64_t)tt - off;
	return 0;
}

/* A JSON number that prints exactly as text. */
static json_object *
market_number(const char *text)
{
	return json_object_new_double_s(strtod(text, NULL), text);
}

static json_object *
market_number_u(int64_t u, int min)
{
	char buf[40];

	market_format_u(u, min, buf, sizeof(buf));
	return market_number(buf);
}

json_object *
market_trade_json(const struct market *m, const char *symbol, int64_t price_u,
    bool wrong)
{
	static const char *const exchanges[] = { "V", "Q", "N", "P", "K" };
	static const char *const tapes[] = { "A", "B", "C" };
	uint64_t h = market_hash(m, "trade", symbol, 0);
	json_object *o, *c;
	char ts[64], t[40], p[40];
	int64_t when = m->now - (int64_t)(h % 60);

	market_format_time(when, t, sizeof(t));
	/* nanoseconds, as Alpaca sends them */
	snprintf(ts, sizeof(ts), "%.19s.%09" PRIu64 "Z", t,
	    (h >> 8) % 1000000000);
	o = json_object_new_object();
	c = json_object_new_array();
	json_object_array_add(c, json_object_new_string("@"));
	market_format_u(price_u, 2, p, sizeof(p));
	if (wrong) {
		json_object *po = json_object_new_object();

		json_object_object_add(po, "amount", json_object_new_string(p));
		json_object_object_add(o, "t", json_object_new_int64(when));
		json_object_object_add(o, "x", json_object_new_int(7));
		json_object_object_add(o, "p", po);
		json_object_object_add(o, "s", json_object_new_string("100"));
		json_object_object_add(o, "c", json_object_new_string("@"));
	} else {
		json_object_object_add(o, "t", json_object_new_string(ts));
		json_object_object_add(o, "x",
		    json_object_new_string(exchanges[h % 5]));
		json_object_object_add(o, "p", market_number(p));
		json_object_object_add(o, "s",
		    json_object_new_int64((int64_t)(1 + (h >> 16) % 500)));
		json_object_object_add(o, "c", c);
		c = NULL;
	}
	json_object_object_add(o, "i",
	    json_object_new_int64((int64_t)((h >> 4) % 10000000000000ULL)));
	json_object_object_add(o, "z", json_object_new_string(tapes[h % 3]));
	json_object_put(c);
	return o;
}

/* --- clock ----------------------------------------------------------------- */

/* The next regular-session open at or after t (weekdays, 14:30 UTC). */
static int64_t
market_next_open(int64_t t)
{
	int64_t day = t - t % DAY;

	if (t > day + OPEN_SECS || !market_weekday(day))
		for (day += DAY; !market_weekday(day); day += DAY)
			;
	else if (t == day + OPEN_SECS)
		return t;
	return day + OPEN_SECS;
}

json_object *
market_clock_json(const struct market *m, bool wrong)
{
	json_object *o = json_object_new_object();
	int64_t day = m->now - m->now % DAY, open, close;
	bool is_open;
	char buf[40];

	is_open = market_weekday(day) && m->now >= day + OPEN_SECS &&
	    m->now < day + CLOSE_SECS;
	open = market_next_open(m->now + 1);
	close = is_open ? day + CLOSE_SECS :
	    open - OPEN_SECS + CLOSE_SECS;
	market_format_time(m->now, buf, sizeof(buf));
	json_object_object_add(o, "timestamp", wrong ?
	    json_object_new_int64(m->now) : json_object_new_string(buf));
	json_object_object_add(o, "is_open", wrong ?
	    json_object_new_string(is_open ? "yes" : "no") :
	    json_object_new_boolean(is_open));
	market_format_time(open, buf, sizeof(buf));
	json_object_object_add(o, "next_open", json_object_new_string(buf));
	market_format_time(close, buf, sizeof(buf));
	json_object_object_add(o, "next_close", wrong ?
	    json_object_new_array() : json_object_new_string(buf));
	return o;
}

/* --- bars ------------------------------------------------------------------ */

enum tf_unit { TF_MIN, TF_HOUR, TF_DAY, TF_WEEK, TF_MONTH };

struct timeframe {
	enum tf_unit unit;
	int n;
	int64_t secs;		/* the length of a bar, but for months */
};

static int
market_parse_timeframe(const char *s, struct timeframe *tf)
{
	static const struct { const char *name; enum tf_unit unit; int max; }
	    units[] = {
		{ "Min", TF_MIN, 59 }, { "T", TF_MIN, 59 },
		{ "Hour", TF_HOUR, 23 }, { "H", TF_HOUR, 23 },
		{ "Day", TF_DAY, 1 }, { "D", TF_DAY, 1 },
		{ "Week", TF_WEEK, 1 }, { "W", TF_WEEK, 1 },
		{ "Month", TF_MONTH, 12 }, { "M", TF_MONTH, 12 },
	};
	int n = 0, digits = 0;
	size_t i;

	if (s == NULL)
		return -1;
	for (; isdigit((unsigned char)*s) && digits < 3; s++, digits++)
		n = n * 10 + (*s - '0');
	if (digits == 0 || n < 1)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].name) != 0)
			continue;
		if (n > units[i].max ||
		    (units[i].unit == TF_MONTH && 12 % n != 0))
			return -1;
		tf->unit = units[i].unit;
		tf->n = n;
		tf->secs = n * (units[i].unit == TF_MIN ? 60 :
		    units[i].unit == TF_HOUR ? 3600 :
		    units[i].unit == TF_DAY ? DAY : 7 * DAY);
		return 0;
	}
	return -1;
}

/* floor division for times before 1970 too */
static int64_t
fdiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The start of the bar that holds t. */
static int64_t
market_bar_align(const struct timeframe *tf, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	switch (tf->unit) {
	case TF_WEEK:		/* weeks start on Monday, 1970-01-05 */
		return fdiv(t - 4 * DAY, tf->secs) * tf->secs + 4 * DAY;
	case TF_MONTH:
		gmtime_r(&tt, &tm);
		tm.tm_mon -= tm.tm_mon % tf->n;
		tm.tm_mday = 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		return (int64_t)timegm(&tm);
	default:
		return fdiv(t, tf->secs) * tf->secs;
	}
}

/* The start of the bar after (dir 1) or before (dir -1) the aligned t. */
static int64_t
market_bar_step(const struct timeframe *tf, int64_t t, int dir)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (tf->unit != TF_MONTH)
		return t + dir * tf->secs;
	gmtime_r(&tt, &tm);
	tm.tm_mon += dir * tf->n;
	return (int64_t)timegm(&tm);
}

/* The close of a bar in cents: the symbol's price moved by -5% .. +5%. */
static int64_t
market_bar_close(const struct market *m, const char *key, int64_t base_c,
    int64_t t)
{
	int64_t pm = (int64_t)(market_hash(m, "close", key, t) % 2001) - 1000;
	int64_t c = base_c * (20000 + pm) / 20000;

	return c > 0 ? c : 1;
}

static json_object *
market_cents(int64_t c)
{
	return market_number_u(c * (MARKET_MICRO / 100), 2);
}

static json_object *
market_bar_json(const struct market *m, const char *key,
    const struct timeframe *tf, int64_t base_c, int64_t t, bool wrong)
{
	json_object *o = json_object_new_object();
	int64_t c, op, hi, lo, v, n, vw;
	uint64_t h = market_hash(m, "bar", key, t);
	char buf[40];

	c = market_bar_close(m, key, base_c, t);
	op = market_bar_close(m, key, base_c, market_bar_step(tf, t, -1));
	hi = (op > c ? op : c) + (int64_t)(h % (uint64_t)((op > c ? op : c) /
	    200 + 1));
	lo = (op < c ? op : c) - (int64_t)((h >> 20) %
	    (uint64_t)((op < c ? op : c) / 200 + 1));
	if (lo < 1)
		lo = 1;
	v = 100 + (int64_t)((h >> 40) % 100000);
	n = 1 + v / 100;
	vw = (op + hi + lo + c + 2) / 4;
	market_format_time(t, buf, sizeof(buf));
	json_object_object_add(o, "t", json_object_new_string(buf));
	json_object_object_add(o, "o", market_cents(op));
	json_object_object_add(o, "h", market_cents(hi));
	json_object_object_add(o, "l", market_cents(lo));
	json_object_object_add(o, "c", wrong ?
	    json_object_new_string("close") : market_cents(c));
	json_object_object_add(o, "v", json_object_new_int64(v));
	json_object_object_add(o, "n", json_object_new_int64(n));
	json_object_object_add(o, "vw", market_cents(vw));
	return o;
}

/* A bar of a set series: open at the close before, high and low the
 * larger and smaller of the two. */
static json_object *
market_series_bar(const struct market_series *s, size_t i, int64_t t,
    bool wrong)
{
	json_object *o = json_object_new_object();
	int64_t c = s->u[i], op = i > 0 ? s->u[i - 1] : s->u[i];
	char buf[40];

	market_format_time(t, buf, sizeof(buf));
	json_object_object_add(o, "t", json_object_new_string(buf));
	json_object_object_add(o, "o", market_number_u(op, 2));
	json_object_object_add(o, "h", market_number_u(op > c ? op : c, 2));
	json_object_object_add(o, "l", market_number_u(op < c ? op : c, 2));
	json_object_object_add(o, "c", wrong ?
	    json_object_new_string("close") : market_number_u(c, 2));
	json_object_object_add(o, "v", json_object_new_int64(1000));
	json_object_object_add(o, "n", json_object_new_int64(10));
	json_object_object_add(o, "vw", market_number_u(c, 2));
	return o;
}

/* The bars of a set series between start and end: the last close is
 * today's bar, each one before it a day earlier. */
static void
market_series_bars(const struct market *m, const struct market_series *s,
    int64_t start, int64_t end, int64_t limit, bool desc, bool wrong,
    json_object *bars)
{
	int64_t today = m->now - m->now % DAY, t, count = 0;
	size_t k, i;

	for (k = 0; k < s->n && count < limit; k++) {
		i = desc ? s->n - 1 - k : k;
		t = today - (int64_t)(s->n - 1 - i) * DAY;
		if (t < start || t > end)
			continue;
		json_object_array_add(bars, market_series_bar(s, i, t, wrong));
		count++;
	}
}

json_object *
market_bars_json(const struct market *m, const struct market_bars_query *q,
    bool wrong, struct tp_err *err)
{
	const struct market_series *series;
	struct timeframe tf;
	json_object *o, *bars;
	int64_t start, end, t, limit, base_u = 0, count = 0, tok;
	bool known;
	char key[MARKET_SYMBOL_MAX + 24], buf[40];
	const char *p;

	if (market_parse_timeframe(q->timeframe, &tf) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid timeframe \"%.20s\": [1-59]Min, [1-23]Hour, "
		    "1Day, 1Week or [1,2,3,4,6,12]Month",
		    q->timeframe != NULL ? q->timeframe : ""), NULL;
	/* an unknown symbol has no bars, as with Alpaca: an empty list */
	known = market_price(m, q->symbol, &base_u);
	limit = q->limit != 0 ? q->limit : 1000;
	if (limit < 1 || limit > MARKET_BARS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid limit: 1 to %d", MARKET_BARS_MAX), NULL;
	end = m->now;
	start = m->now - m->now % DAY;
	if (q->end != NULL && market_parse_time(q->end, &end) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid end \"%.40s\": RFC 3339 or YYYY-MM-DD", q->end),
		    NULL;
	if (q->start != NULL && market_parse_time(q->start, &start) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid start \"%.40s\": RFC 3339 or YYYY-MM-DD",
		    q->start), NULL;
	if (end > m->now)
		end = m->now;	/* no bars from the future */
	if (q->page_token != NULL) {
		tok = 0;
		for (p = q->page_token; *p >= '0' && *p <= '9' &&
		    tok < INT64_MAX / 10 - 10; p++)
			tok = tok * 10 + (*p - '0');
		if (*p != '\0' || p == q->page_token)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "invalid page_token"), NULL;
		if (q->desc)
			end = tok;
		else
			start = tok;
	}
	/* The bars of one symbol and timeframe are the same in every query. */
	snprintf(key, sizeof(key), "%s/%d/%d", q->symbol, (int)tf.unit, tf.n);
	base_u /= MARKET_MICRO / 100;
	bars = json_object_new_array();
	series = tf.unit == TF_DAY ? htab_get(m->series, q->symbol) : NULL;
	if (series != NULL) {
		/* the control API's closes, in one page */
		market_series_bars(m, series, start, end, limit, q->desc, wrong,
		    bars);
		t = -1;
	} else if (!known)
		t = -1;
	else if (q->desc) {
		for (t = market_bar_align(&tf, end); t >= start && count < limit;
		    t = market_bar_step(&tf, t, -1), count++)
			json_object_array_add(bars, market_bar_json(m, key,
			    &tf, base_u, t, wrong));
		if (t < start)
			t = -1;
	} else {
		t = market_bar_align(&tf, start);
		if (t < start)
			t = market_bar_step(&tf, t, 1);
		for (; t <= end && count < limit;
		    t = market_bar_step(&tf, t, 1), count++)
			json_object_array_add(bars, market_bar_json(m, key,
			    &tf, base_u, t, wrong));
		if (t > end)
			t = -1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "bars", bars);
	json_object_object_add(o, "symbol", json_object_new_string(q->symbol));
	if (t >= 0) {
		snprintf(buf, sizeof(buf), "%" PRId64, t);
		json_object_object_add(o, "next_page_token",
		    json_object_new_string(buf));
	} else
		json_object_object_add(o, "next_page_token", NULL);
	return o;
}
