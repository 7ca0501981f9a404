/* tenantlog_parse.c: a tenant log line parsed back strictly, levels, since (a time or a duration), followers' cursors. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/tenantlog_read.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TLR_SINCE_MAX	(100LL * 366 * 86400)	/* a duration's bound */

static const char *const tlr_levels[] = {
	[TLOG_DEBUG] = "DEBUG",
	[TLOG_INFO] = "INFO",
	[TLOG_WARN] = "WARN",
	[TLOG_ERROR] = "ERROR",
};

const char *
tenantlog_level_name(enum tlog_level lvl)
{
	return (unsigned)lvl <= TLOG_ERROR ? tlr_levels[lvl] : "?";
}

int
tenantlog_level_parse(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = TLOG_DEBUG; i <= TLOG_ERROR; i++)
		if (strcasecmp(s, tlr_levels[i]) == 0)
			return i;
	return -1;
}

static bool
tlr_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
tlr_num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" exactly, with fields in range. */
static bool
tlr_valid_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	size_t i;
	int mo, d, h, mi, se;

	for (i = 0; i < TLOG_TIME_LEN; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
		    s[i] != shape[i])
			return false;
	mo = tlr_num(s + 5, 2);
	d = tlr_num(s + 8, 2);
	h = tlr_num(s + 11, 2);
	mi = tlr_num(s + 14, 2);
	se = tlr_num(s + 17, 2);
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
	    mi <= 59 && se <= 60;
}

/* A token of 1..max bytes of [A-Za-z0-9] and extra, up to a space or end. */
static size_t
tlr_token(const char *s, size_t len, size_t max, const char *extra)
{
	size_t i;

	for (i = 0; i < len && s[i] != ' '; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max || !((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(extra, c) != NULL)))
			return 0;
	}
	return i;
}

static int
tlr_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescapes s[0..len) into out (at least 3 * len / 2 + 4 bytes: U+FFFD
 * is 3 bytes for a 4-byte \xHH); -1 on a malformed escape or a raw
 * control character. */
static int
tlr_unescape(const char *s, size_t len, char *out)
{
	size_t i = 0, n = 0;
	int hi, lo;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return -1;
		if (c != '\\') {
			out[n++] = (char)c;
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		switch (s[i + 1]) {
		case '\\': out[n++] = '\\'; i += 2; continue;
		case 'n': out[n++] = '\n'; i += 2; continue;
		case 'r': out[n++] = '\r'; i += 2; continue;
		case 't': out[n++] = '\t'; i += 2; continue;
		case 'x':
			if (i + 4 > len || (hi = tlr_hex(s[i + 2])) == -1 ||
			    (lo = tlr_hex(s[i + 3])) == -1)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0 || c == '\n' || c == '\r' || c == '\t')
				return -1;	/* never written so */
			if (c < 0x20 || c == 0x7f)
				out[n++] = (char)c;
			else if (c >= 0x80) {
				/* a byte that was not UTF-8: U+FFFD */
				out[n++] = (char)0xef;
				out[n++] = (char)0xbf;
				out[n++] = (char)0xbd;
			} else
				return -1;
			i += 4;
			continue;
		case 'u':
			if (i + 6 > len)
				return -1;
			if (memcmp(s + i + 2, "2028", 4) == 0 ||
			    memcmp(s + i + 2, "2029", 4) == 0) {
				out[n++] = (char)0xe2;
				out[n++] = (char)0x80;
				out[n++] = (char)(s[i + 5] == '8' ? 0xa8 :
				    0xa9);
			} else if (memcmp(s + i + 2, "00", 2) == 0 &&
			    (s[i + 4] == '8' || s[i + 4] == '9') &&
			    (lo = tlr_hex(s[i + 5])) != -1) {
				out[n++] = (char)0xc2;
				out[n++] = (char)((s[i + 4] - '0') << 4 | lo);
			} else
				return -1;
			i += 6;
			continue;
		default:
			return -1;
		}
	}
	out[n] = '\0';
	return 0;
}

int
tenantlog_parse(const char *line, size_t len, struct tlog_entry *e,
    struct tp_err *err)
{
	char word[8];
	size_t n, off;
	int lvl;

	memset(e, 0, sizeof(*e));
	if (len >= TLOG_LINE_MAX || memchr(line, '\0', len) != NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "line too long "
		    "or holding a NUL");
	if (len < TLOG_TIME_LEN + 1 || line[TLOG_TIME_LEN] != ' ' ||
	    !tlr_valid_time(line))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "bad timestamp");
	memcpy(e->time, line, TLOG_TIME_LEN);
	off = TLOG_TIME_LEN + 1;

	n = tlr_token(line + off, len - off, 5, "");
	if (n == 0 || off + n >= len)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "bad level");
	memcpy(word, line + off, n);
	word[n] = '\0';
	if ((lvl = tenantlog_level_parse(word)) == -1 ||
	    strcmp(word, tlr_levels[lvl]) != 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "bad level");
	e->level = (enum tlog_level)lvl;
	off += n + 1;

	n = tlr_token(line + off, len - off, sizeof(e->job) - 1, "_-.:");
	if (n == 0 || off + n >= len)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "bad job id");
	if (!(n == 1 && line[off] == '-'))
		memcpy(e->job, line + off, n);
	off += n + 1;

	n = tlr_token(line + off, len - off, sizeof(e->event) - 1, "_-.");
	if (n == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "bad event");
	memcpy(e->event, line + off, n);
	off += n;
	/* the writer leaves out the blank before an empty message */
	if (off < len) {
		if (line[off] != ' ' || off + 1 == len)
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "bad message");
		off++;
	}
	if ((e->msg = malloc((len - off) * 3 / 2 + 4)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	if (tlr_unescape(line + off, len - off, e->msg) == -1) {
		free(e->msg);
		e->msg = NULL;
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "bad escape in the message");
	}
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
tlr_days(int64_t y, int m, int d)
{
	static const int before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243,
	    273, 304, 334 };
	int64_t days;

	days = (y - 1970) * 365 + (y - 1969) / 4 - (y - 1901) / 100 +
	    (y - 1601) / 400 + before[m - 1] + d - 1;
	if (m > 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		days++;
	return days;
}

uint64_t
tenantlog_time_us(const char *t)
{
	int64_t secs;

	if (t == NULL || strnlen(t, TLOG_TIME_LEN) < TLOG_TIME_LEN ||
	    !tlr_valid_time(t) || tlr_num(t, 4) < 1970)
		return 0;
	secs = tlr_days(tlr_num(t, 4), tlr_num(t + 5, 2), tlr_num(t + 8, 2)) *
	    86400 + tlr_num(t + 11, 2) * 3600 + tlr_num(t + 14, 2) * 60 +
	    tlr_num(t + 17, 2);
	return (uint64_t)secs * 1000000 + (uint64_t)tlr_num(t + 20, 6);
}

static void
tlr_canonical(int64_t secs, long usec, char *out)
{
	struct tm tm;
	time_t t = (time_t)secs;
	char base[64], full[96];
	size_t n;

	/* before 1970 or past 9999 would not compare as text: clamped */
	if (secs < 0)
		t = 0, usec = 0;
	else if (secs > 253402300799LL)
		t = 253402300799LL, usec = 999999;
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(full, sizeof(full), "%s.%06ldZ", base, usec);
	n = strlen(full) > TLOG_TIME_LEN ? TLOG_TIME_LEN : strlen(full);
	memcpy(out, full, n);
	out[n] = '\0';
}

int
tenantlog_since(const char *s, int64_t now, char *out, struct tp_err *err)
{
	size_t len, i, fr;
	int64_t v, secs;
	long usec = 0;
	int y, mo, d, h, mi, se, oh, om, sign;
	char *end;

	if (s == NULL || (len = strlen(s)) == 0 || len > 40)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "since: empty or "
		    "too long");
	if (tlr_digits(s, len - 1) && strchr("smhd", s[len - 1]) != NULL &&
	    len >= 2 && len <= 12) {
		v = strtoll(s, &end, 10);
		v *= s[len - 1] == 's' ? 1 : s[len - 1] == 'm' ? 60 :
		    s[len - 1] == 'h' ? 3600 : 86400;
		if (v > TLR_SINCE_MAX)
			return tp_err_set(err, TP_INVALID_ARGUMENT, "since: "
			    "duration too long");
		tlr_canonical(now - v, 0, out);
		return 0;
	}
	/* YYYY-MM-DDTHH:MM:SS[.f+](Z|+hh:mm|-hh:mm) */
	if (len < 20 || !tlr_digits(s, 4) || s[4] != '-' ||
	    !tlr_digits(s + 5, 2) || s[7] != '-' || !tlr_digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != 't') || !tlr_digits(s + 11, 2) ||
	    s[13] != ':' || !tlr_digits(s + 14, 2) || s[16] != ':' ||
	    !tlr_digits(s + 17, 2))
		goto bad;
	y = tlr_num(s, 4);
	mo = tlr_num(s + 5, 2);
	d = tlr_num(s + 8, 2);
	h = tlr_num(s + 11, 2);
	mi = tlr_num(s + 14, 2);
	se = tlr_num(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		goto bad;
	i = 19;
	if (s[i] == '.') {
		for (fr = 0, i++; i < len && s[i] >= '0' && s[i] <= '9';
		    i++, fr++)
			if (fr < 6)
				usec = usec * 10 + (s[i] - '0');
		if (fr == 0 || fr > 9)
			goto bad;
		for (; fr < 6; fr++)
			usec *= 10;
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z'))
		oh = om = 0, sign = 1;
	else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
	    tlr_digits(s + i + 1, 2) && s[i + 3] == ':' &&
	    tlr_digits(s + i + 4, 2)) {
		sign = s[i] == '-' ? -1 : 1;
		oh = tlr_num(s + i + 1, 2);
		om = tlr_num(s + i + 4, 2);
		if (oh > 23 || om > 59)
			goto bad;
	} else
		goto bad;
	secs = tlr_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	    sign * (oh * 3600 + om * 60);
	tlr_canonical(secs, usec, out);
	return 0;
bad:
	return tp_err_set(err, TP_INVALID_ARGUMENT, "since: not an RFC 3339 "
	    "timestamp nor a duration such as 10m, 2h, 7d");
}

void
tenantlog_cursor_format(const struct tlog_cursor *c, char *buf, size_t size)
{
	snprintf(buf, size, "1:%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRIu64,
	    c->dev, c->ino, c->off, c->birth);
}

static int
tlr_u64(const char **s, char stop, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != stop)
		return -1;
	*out = v;
	*s = stop == '\0' ? p : p + 1;
	return 0;
}

int
tenantlog_cursor_parse(const char *s, struct tlog_cursor *c)
{
	if (s == NULL || strlen(s) >= TLOG_CURSOR_MAX ||
	    strncmp(s, "1:", 2) != 0)
		return -1;
	s += 2;
	if (tlr_u64(&s, ':', &c->dev) == -1 || tlr_u64(&s, ':', &c->ino) ==
	    -1 || tlr_u64(&s, ':', &c->off) == -1 ||
	    tlr_u64(&s, '\0', &c->birth) == -1)
		return -1;
	return 0;
}
