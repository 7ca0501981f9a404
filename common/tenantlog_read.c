/* tenantlog_read.c: tenant log lines read back: strict parsing, the last N lines, following after a cursor across rotations. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/tenantlog_read.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLR_FILES_MAX	1001	/* the current file and TLOG_KEEP_MAX */
#define TLR_SINCE_MAX	(100LL * 366 * 86400)	/* a duration's bound */
#define TLR_LINE_COST	96	/* a returned line's JSON beyond its text */

static int64_t tlr_days(int64_t, int, int);

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

void
tenantlog_read_free(struct tlog_read *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->lines[i].msg);
	free(r->lines);
	r->lines = NULL;
	r->n = 0;
}

static bool
tlr_match(const struct tlog_filter *f, const struct tlog_entry *e)
{
	if (e->level < f->min_level)
		return false;
	if (f->job != NULL && strcmp(f->job, e->job) != 0)
		return false;
	if (f->since != NULL && strcmp(e->time, f->since) < 0)
		return false;
	return true;
}

/* file i of the chain: 0 the current one, then the rotated ones */
static int
tlr_open(int dirfd, const char *uid, unsigned i, struct stat *st,
    struct tp_err *err)
{
	char name[160];
	int fd;

	if (i == 0)
		snprintf(name, sizeof(name), "%s.log", uid);
	else
		snprintf(name, sizeof(name), "%s.log.%u", uid, i);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			return -2;
		return tp_err_errno(err, TP_INTERNAL, "tenant log %s: open",
		    name);
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		close(fd);
		return tp_err_set(err, TP_INTERNAL, "tenant log %s: not a "
		    "regular file", name);
	}
	return fd;
}

/* The time of a file's first line in microseconds, 0 when it has none. */
static uint64_t
tlr_birth(int fd)
{
	char t[TLOG_TIME_LEN];
	ssize_t n;
	int64_t secs;

	do
		n = pread(fd, t, sizeof(t), 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(t) || !tlr_valid_time(t) ||
	    tlr_num(t, 4) < 1970)
		return 0;
	secs = tlr_days(tlr_num(t, 4), tlr_num(t + 5, 2), tlr_num(t + 8, 2)) *
	    86400 + tlr_num(t + 11, 2) * 3600 + tlr_num(t + 14, 2) * 60 +
	    tlr_num(t + 17, 2);
	return (uint64_t)secs * 1000000 + (uint64_t)tlr_num(t + 20, 6);
}

static int
tlr_pread(int fd, char *buf, size_t len, uint64_t off, size_t *got,
    struct tp_err *err)
{
	ssize_t r;

	*got = 0;
	while (*got < len) {
		r = pread(fd, buf + *got, len - *got, (off_t)(off + *got));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return tp_err_errno(err, TP_INTERNAL, "tenant log: "
			    "read");
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

/* Opens the tenants folder and checks the uid names a file there. */
static int
tlr_dir(const struct tlog_read *r, struct tp_err *err)
{
	size_t i, len = r->uid != NULL ? strlen(r->uid) : 0;
	int fd;

	if (len == 0 || len > 128)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "bad uid");
	for (i = 0; i < len; i++) {
		char c = r->uid[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return tp_err_set(err, TP_INVALID_ARGUMENT, "bad uid");
	}
	if (r->keep >= TLR_FILES_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "keep too large");
	if ((fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return -2;
		return tp_err_errno(err, TP_INTERNAL, "open %s", r->dir);
	}
	return fd;
}

/* A gathered line: parsed, not yet returned. */
struct tlr_vec {
	struct tlog_entry	*v;
	size_t			 n, cap;
	size_t			 cost;
};

static void
tlr_vec_free(struct tlr_vec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i].msg);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

static int
tlr_vec_push(struct tlr_vec *v, struct tlog_entry *e, struct tp_err *err)
{
	struct tlog_entry *nv;
	size_t cap;

	if (v->n == v->cap) {
		cap = v->cap == 0 ? 64 : v->cap * 2;
		if ((nv = reallocarray(v->v, cap, sizeof(*nv))) == NULL) {
			free(e->msg);
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = *e;
	return 0;
}

/* What the line costs in a JSON reply: a control character is 6 bytes
 * there ("\u001b"), a quote, a backslash or a slash 2. */
static size_t
tlr_cost(const struct tlog_entry *e)
{
	const unsigned char *p;
	size_t n = TLR_LINE_COST + strlen(e->job) + strlen(e->event);

	for (p = (const unsigned char *)e->msg; *p != '\0'; p++)
		n += *p < 0x20 ? 6 : (*p == '"' || *p == '\\' || *p == '/') ?
		    2 : 1;
	return n;
}

/*
 * Parses the whole lines of buf[0..len) (a partial last line is left),
 * calling keep for those that pass the filter; *used gets the bytes of
 * whole lines. keep returns 0 to go on, 1 to stop before this line, -1.
 */
static int
tlr_lines(struct tlog_read *r, const char *buf, size_t len, size_t *used,
    int (*keep)(struct tlog_read *, struct tlog_entry *, void *,
    struct tp_err *), void *arg, struct tp_err *err)
{
	struct tlog_entry e;
	struct tp_err perr;
	const char *p = buf, *nl;
	int rc;

	*used = 0;
	while ((nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL) {
		if (tenantlog_parse(p, (size_t)(nl - p), &e, &perr) == -1)
			r->malformed++;
		else if (!tlr_match(&r->filter, &e))
			free(e.msg);
		else if ((rc = keep(r, &e, arg, err)) != 0) {
			/* on -1 the line was freed by keep */
			if (rc == 1)
				free(e.msg);
			return rc;
		}
		p = nl + 1;
		*used = (size_t)(p - buf);
	}
	return 0;
}

static int
tlr_keep_all(struct tlog_read *r, struct tlog_entry *e, void *arg,
    struct tp_err *err)
{
	(void)r;
	return tlr_vec_push(arg, e, err);
}

/* Whether the first line of buf is older than since. */
static bool
tlr_starts_before(const char *buf, size_t len, const char *since)
{
	struct tlog_entry e;
	struct tp_err err;
	const char *nl = memchr(buf, '\n', len);
	bool older;

	if (nl == NULL || tenantlog_parse(buf, (size_t)(nl - buf), &e, &err) ==
	    -1)
		return false;
	older = strcmp(e.time, since) < 0;
	free(e.msg);
	return older;
}

/* Puts the newest lines of v (oldest first) before what r holds, as
 * many as n and the budget allow. */
static int
tlr_prepend(struct tlog_read *r, struct tlr_vec *v, size_t n, size_t *cost,
    bool *full, struct tp_err *err)
{
	struct tlog_entry *nl;
	size_t take = 0, i, c;

	while (take < v->n && r->n + take < n) {
		c = tlr_cost(&v->v[v->n - 1 - take]);
		if (*cost + c > r->budget) {
			*full = true;
			r->truncated = true;
			break;
		}
		*cost += c;
		take++;
	}
	if (r->n + take >= n)
		*full = true;
	if (take == 0)
		return 0;
	if ((nl = calloc(r->n + take, sizeof(*nl))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	memcpy(nl, v->v + v->n - take, take * sizeof(*nl));
	if (r->n > 0)
		memcpy(nl + take, r->lines, r->n * sizeof(*nl));
	/* the lines taken now belong to r */
	for (i = v->n - take; i < v->n; i++)
		v->v[i].msg = NULL;
	free(r->lines);
	r->lines = nl;
	r->n += take;
	return 0;
}

int
tenantlog_read_tail(struct tlog_read *r, size_t n, struct tp_err *err)
{
	struct tlr_vec v = { NULL, 0, 0, 0 };
	struct stat st;
	char *buf = NULL;
	size_t scanned = 0, cost = 0, chunk, got, used, skip;
	uint64_t start;
	unsigned i;
	bool full = false;
	int dirfd, fd, rc = -1;

	r->lines = NULL;
	r->n = 0;
	r->truncated = false;
	r->malformed = 0;
	memset(&r->cursor, 0, sizeof(r->cursor));
	if ((dirfd = tlr_dir(r, err)) == -2)
		return 0;
	if (dirfd == -1)
		return -1;
	for (i = 0; i <= r->keep && n > 0; i++) {
		if ((fd = tlr_open(dirfd, r->uid, i, &st, err)) == -2)
			break;
		if (fd == -1)
			goto out;
		if (scanned >= r->scan_max) {
			/* an older file left unread */
			close(fd);
			r->truncated = true;
			break;
		}
		chunk = (uint64_t)st.st_size < r->scan_max - scanned ?
		    (size_t)st.st_size : r->scan_max - scanned;
		start = (uint64_t)st.st_size - chunk;
		free(buf);
		if ((buf = malloc(chunk + 1)) == NULL) {
			close(fd);
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		if (tlr_pread(fd, buf, chunk, start, &got, err) == -1) {
			close(fd);
			goto out;
		}
		if (i == 0)
			r->cursor.birth = tlr_birth(fd);
		close(fd);
		scanned += got;
		/* a chunk starting mid-file starts mid-line */
		skip = 0;
		if (start > 0) {
			char *nl = memchr(buf, '\n', got);

			skip = nl == NULL ? got : (size_t)(nl - buf) + 1;
		}
		tlr_vec_free(&v);
		if (tlr_lines(r, buf + skip, got - skip, &used, tlr_keep_all,
		    &v, err) == -1)
			goto out;
		if (i == 0) {
			r->cursor.dev = (uint64_t)st.st_dev;
			r->cursor.ino = (uint64_t)st.st_ino;
			r->cursor.off = start + skip + used;
		}
		if (tlr_prepend(r, &v, n, &cost, &full, err) == -1)
			goto out;
		if (full)
			break;
		if (start > 0) {
			/* the scan bound cut this file */
			r->truncated = true;
			break;
		}
		/* lines are in time order: an older file has nothing at or
		 * after since when this one starts before it */
		if (r->filter.since != NULL && tlr_starts_before(buf, got,
		    r->filter.since))
			break;
	}
	rc = 0;
out:
	tlr_vec_free(&v);
	free(buf);
	close(dirfd);
	if (rc == -1)
		tenantlog_read_free(r);
	return rc;
}

/* follow: lines go to r in order until a bound */
struct tlr_follow {
	struct tlr_vec	v;
	size_t		cost;
};

static int
tlr_keep_follow(struct tlog_read *r, struct tlog_entry *e, void *arg,
    struct tp_err *err)
{
	struct tlr_follow *f = arg;
	size_t c = tlr_cost(e);

	if (f->cost + c > r->budget)
		return 1;
	f->cost += c;
	return tlr_vec_push(&f->v, e, err);
}

int
tenantlog_read_after(struct tlog_read *r, const struct tlog_cursor *from,
    struct tp_err *err)
{
	struct tlr_follow f;
	struct stat *st = NULL, cst;
	int *fds = NULL;
	char *buf = NULL;
	size_t nf = 0, k, j, scanned = 0, chunk, got, used;
	uint64_t off;
	unsigned i;
	int dirfd, fd, rc = -1, at = -1, lr;
	bool dup;

	memset(&f, 0, sizeof(f));
	r->lines = NULL;
	r->n = 0;
	r->truncated = false;
	r->malformed = 0;
	r->cursor = *from;
	if ((dirfd = tlr_dir(r, err)) == -2) {
		memset(&r->cursor, 0, sizeof(r->cursor));
		return 0;
	}
	if (dirfd == -1)
		return -1;
	if ((st = calloc(r->keep + 1, sizeof(*st))) == NULL ||
	    (fds = calloc(r->keep + 1, sizeof(*fds))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	/* newest first, until the cursor's file; a file seen twice (a
	 * rotation while opening) is kept once */
	for (i = 0; i <= r->keep; i++) {
		if ((fd = tlr_open(dirfd, r->uid, i, &cst, err)) == -2)
			break;
		if (fd == -1)
			goto out;
		for (dup = false, j = 0; j < nf; j++)
			dup |= st[j].st_dev == cst.st_dev &&
			    st[j].st_ino == cst.st_ino;
		if (dup) {
			close(fd);
			continue;
		}
		fds[nf] = fd;
		st[nf++] = cst;
		if (from->ino == 0 ||
		    ((uint64_t)cst.st_dev == from->dev &&
		    (uint64_t)cst.st_ino == from->ino && (from->birth == 0 ||
		    tlr_birth(fd) == from->birth))) {
			at = (int)nf - 1;
			break;
		}
	}
	if (nf == 0) {
		/* no log yet: start at whatever file comes */
		memset(&r->cursor, 0, sizeof(r->cursor));
		rc = 0;
		goto out;
	}
	if (at == -1) {
		/* the cursor's file is no longer kept: the oldest one */
		at = (int)nf - 1;
		off = 0;
		r->truncated = true;
	} else if (from->ino == 0 || from->off > (uint64_t)st[at].st_size)
		off = 0;	/* a new file, or one cut and rewritten */
	else
		off = from->off;
	for (k = (size_t)at + 1; k-- > 0; off = 0) {
		r->cursor.dev = (uint64_t)st[k].st_dev;
		r->cursor.ino = (uint64_t)st[k].st_ino;
		r->cursor.off = off;
		r->cursor.birth = tlr_birth(fds[k]);
		/* the size now: the file may have grown since the fstat */
		if (fstat(fds[k], &cst) == -1) {
			tp_err_errno(err, TP_INTERNAL, "tenant log: fstat");
			goto out;
		}
		if ((uint64_t)cst.st_size <= off)
			continue;
		if (scanned >= r->scan_max) {
			r->truncated = true;
			break;
		}
		chunk = (uint64_t)cst.st_size - off < r->scan_max - scanned ?
		    (size_t)((uint64_t)cst.st_size - off) :
		    r->scan_max - scanned;
		free(buf);
		if ((buf = malloc(chunk + 1)) == NULL) {
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		if (tlr_pread(fds[k], buf, chunk, off, &got, err) == -1)
			goto out;
		scanned += got;
		if ((lr = tlr_lines(r, buf, got, &used, tlr_keep_follow, &f,
		    err)) == -1)
			goto out;
		r->cursor.off = off + used;
		/* a bound: the next read goes on from the cursor */
		if (lr == 1 || off + got < (uint64_t)cst.st_size) {
			r->truncated = true;
			break;
		}
	}
	r->lines = f.v.v;
	r->n = f.v.n;
	f.v.v = NULL;
	f.v.n = 0;
	rc = 0;
out:
	tlr_vec_free(&f.v);
	for (j = 0; j < nf; j++)
		close(fds[j]);
	free(st);
	free(fds);
	free(buf);
	close(dirfd);
	return rc;
}
