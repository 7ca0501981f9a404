/* tenantlog.c: per-tenant log files, one escaped line per event, rotated by size, refusing secrets. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/tenantlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLOG_UID_MAX     128
#define TLOG_JOB_MAX     64
#define TLOG_EVENT_MAX   32
#define TLOG_KEEP_MAX    1000	/* bounds the rename chain of one rotation */
#define TLOG_DIR_MAX     3000	/* leaves room for "/tenants/<uid>.log.N" */
#define TLOG_FMT_MAX     (64 * 1024)	/* tenantlog_writef formats at most this */
#define TLOG_SECRET_RUN  32
#define TLOG_KEYID_RUN   14
#define TLOG_CUT_MARK    " [truncated]"

/*
 * No cache of open files: a pulse touches every tenant once a minute, so
 * with thousands of tenants any bounded cache would miss on nearly every
 * line. Opening per line also notices a file an operator moved or removed.
 * The mutex serialises the size check, the rotation and the write.
 */
struct tenantlog {
	pthread_mutex_t mtx;
	int dirfd;		/* <log_dir>/tenants */
	char *dir;		/* its path, for tenantlog_path */
	uint64_t max_size;
	unsigned keep;
	/* the last log written, kept open: a job's lines come together,
	 * and one open serves them all */
	int cfd;
	char cuid[TLOG_UID_MAX + 1];
	uint64_t csize;
	dev_t cdev;
	ino_t cino;
};

static const char *const tlog_levels[] = {
	[TLOG_DEBUG] = "DEBUG",
	[TLOG_INFO] = "INFO",
	[TLOG_WARN] = "WARN",
	[TLOG_ERROR] = "ERROR",
};

/* Root collections of the data model: a run starting with one is a path. */
static const char *const tlog_collections[] = {
	"users", "ops", "tradingSignals", "shadowTradeHistory", "alpacaAccounts",
};

static bool tlog_valid_token(const char *, size_t, const char *);
static bool tlog_valid_uid(const char *);
static bool tlog_secret_run(const char *, size_t);
static bool tlog_path_run(const char *, size_t);
static size_t tlog_utf8_len(const unsigned char *);
static size_t tlog_escape(char *, size_t, const char *, bool *);
static int tlog_mkdir(const char *, struct tp_err *);
static int tlog_rotate(struct tenantlog *, const char *, struct tp_err *);
static int tlog_append(struct tenantlog *, const char *, const char *, size_t,
    struct tp_err *);

static int
tlog_mkdir(const char *path, struct tp_err *err)
{
	struct stat st;

	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return tp_err_errno(err, TP_INTERNAL, "mkdir %s", path);
	if (stat(path, &st) == -1)
		return tp_err_errno(err, TP_INTERNAL, "stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s: not a directory", path);
	return 0;
}

struct tenantlog *
tenantlog_open(const char *log_dir, uint64_t max_size, unsigned keep,
    struct tp_err *err)
{
	struct tenantlog *tl;
	size_t len;

	if (log_dir == NULL || *log_dir == '\0') {
		tp_err_set(err, TP_INVALID_ARGUMENT, "tenant log: no log_dir");
		return NULL;
	}
	if ((len = strlen(log_dir)) > TLOG_DIR_MAX) {
		tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: log_dir longer than %d bytes", TLOG_DIR_MAX);
		return NULL;
	}
	if (max_size == 0) {
		tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: maximum size must be positive");
		return NULL;
	}
	if (keep > TLOG_KEEP_MAX) {
		tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: keep %u exceeds %d", keep, TLOG_KEEP_MAX);
		return NULL;
	}
	if ((tl = calloc(1, sizeof(*tl))) == NULL ||
	    (tl->dir = malloc(len + sizeof("/tenants"))) == NULL) {
		free(tl);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "tenant log: out of memory");
		return NULL;
	}
	memcpy(tl->dir, log_dir, len);
	/* "a/" and "a" name the same folder; avoid "a//tenants". */
	while (len > 1 && tl->dir[len - 1] == '/')
		len--;
	memcpy(tl->dir + len, "/tenants", sizeof("/tenants"));
	tl->dirfd = -1;
	tl->cfd = -1;
	tl->max_size = max_size;
	tl->keep = keep;

	tl->dir[len] = '\0';
	if (tlog_mkdir(tl->dir, err) == -1)
		goto fail;
	tl->dir[len] = '/';
	if (tlog_mkdir(tl->dir, err) == -1)
		goto fail;
	if ((tl->dirfd = open(tl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		tp_err_errno(err, TP_INTERNAL, "open %s", tl->dir);
		goto fail;
	}
	if (pthread_mutex_init(&tl->mtx, NULL) != 0) {
		tp_err_set(err, TP_INTERNAL, "tenant log: mutex");
		goto fail;
	}
	return tl;
fail:
	if (tl->dirfd != -1)
		close(tl->dirfd);
	free(tl->dir);
	free(tl);
	return NULL;
}

void
tenantlog_free(struct tenantlog *tl)
{
	if (tl == NULL)
		return;
	if (tl->cfd != -1)
		close(tl->cfd);
	pthread_mutex_destroy(&tl->mtx);
	close(tl->dirfd);
	free(tl->dir);
	free(tl);
}

/* 1..max characters, each alphanumeric or in extra. */
static bool
tlog_valid_token(const char *s, size_t max, const char *extra)
{
	size_t i;

	if (s == NULL || *s == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return false;
	}
	return true;
}

/* The brief's uid rule, checked here too: a uid names a file. */
static bool
tlog_valid_uid(const char *uid)
{
	return tlog_valid_token(uid, TLOG_UID_MAX, "_-");
}

int
tenantlog_path(const struct tenantlog *tl, const char *uid, char *buf,
    size_t size)
{
	int n;

	if (tl == NULL || buf == NULL || !tlog_valid_uid(uid))
		return -1;
	n = snprintf(buf, size, "%s/%s.log", tl->dir, uid);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return 0;
}

static bool
tlog_secret_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
	    c == '_' || c == '-';
}

/* A long run mixing upper case, lower case and digits: a key, a token. */
static bool
tlog_secret_run(const char *s, size_t len)
{
	bool upper = false, lower = false, digit = false;
	size_t i;

	if (len < TLOG_SECRET_RUN)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		upper |= c >= 'A' && c <= 'Z';
		lower |= c >= 'a' && c <= 'z';
		digit |= c >= '0' && c <= '9';
	}
	return upper && lower && digit;
}

/*
 * A document path ("users/<uid>/data/snapshot") is one run of the secret
 * alphabet because '/' is base64. When the run starts with a collection of
 * the data model it is judged segment by segment instead, so error messages
 * naming a tenant's documents can be logged while a secret-shaped segment
 * is still refused.
 */
static bool
tlog_path_run(const char *s, size_t len)
{
	const char *slash;
	size_t i, n;

	if ((slash = memchr(s, '/', len)) == NULL)
		return false;
	n = (size_t)(slash - s);
	for (i = 0; i < sizeof(tlog_collections) / sizeof(tlog_collections[0]);
	    i++)
		if (strlen(tlog_collections[i]) == n &&
		    memcmp(tlog_collections[i], s, n) == 0)
			return true;
	return false;
}

static bool
tlog_run_looks_secret(const char *s, size_t len)
{
	size_t start, i;

	if (!tlog_path_run(s, len))
		return tlog_secret_run(s, len);
	for (start = 0, i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			if (tlog_secret_run(s + start, i - start))
				return true;
			start = i + 1;
		}
	}
	return false;
}

/* An Alpaca key id: PK, AK or CK and then 14 or more of [A-Z0-9]. */
static bool
tlog_key_id_at(const char *s)
{
	size_t n;

	if (!((s[0] == 'P' || s[0] == 'A' || s[0] == 'C') && s[1] == 'K'))
		return false;
	for (n = 0; (s[2 + n] >= 'A' && s[2 + n] <= 'Z') ||
	    (s[2 + n] >= '0' && s[2 + n] <= '9'); n++)
		if (n + 1 >= TLOG_KEYID_RUN)
			return true;
	return false;
}

bool
tenantlog_looks_secret(const char *s)
{
	size_t i, start;

	if (s == NULL)
		return false;
	if (strcasestr(s, "ciphertext") != NULL ||
	    strcasestr(s, "secret_key") != NULL)
		return true;
	for (i = 0; s[i] != '\0'; i++)
		if (tlog_key_id_at(s + i))
			return true;
	for (start = 0, i = 0;; i++) {
		if (s[i] == '\0' || !tlog_secret_char((unsigned char)s[i])) {
			if (tlog_run_looks_secret(s + start, i - start))
				return true;
			if (s[i] == '\0')
				break;
			start = i + 1;
		}
	}
	return false;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t
tlog_utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Escapes src into dst (room bytes, NUL included): backslash, control
 * characters, C1 controls, U+2028/2029 and bytes that are not UTF-8, so
 * a message is one line that can be read back unambiguously. Stops before
 * an escape that does not fit; *all says whether src was used up.
 */
static size_t
tlog_escape(char *dst, size_t room, const char *src, bool *all)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0;

	*all = false;
	if (room == 0)
		return 0;
	while (*s != '\0') {
		char e[8];
		size_t elen, used = 1, u;

		if (*s == '\\' || *s == '\n' || *s == '\r' || *s == '\t') {
			e[0] = '\\';
			e[1] = *s == '\\' ? '\\' : *s == '\n' ? 'n' :
			    *s == '\r' ? 'r' : 't';
			elen = 2;
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(e, sizeof(e), "\\x%c%c", hex[*s >> 4],
			    hex[*s & 0xf]);
			elen = 4;
		} else if (*s < 0x80) {
			e[0] = (char)*s;
			elen = 1;
		} else if ((u = tlog_utf8_len(s)) == 0) {
			snprintf(e, sizeof(e), "\\x%c%c", hex[*s >> 4],
			    hex[*s & 0xf]);
			elen = 4;
		} else if (u == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
			/* C1 control U+0080..U+009F */
			snprintf(e, sizeof(e), "\\u00%c%c", hex[s[1] >> 4],
			    hex[s[1] & 0xf]);
			elen = 6;
			used = 2;
		} else if (u == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
		    (s[2] == 0xa8 || s[2] == 0xa9)) {
			/* LINE and PARAGRAPH SEPARATOR end lines in some viewers */
			snprintf(e, sizeof(e), "\\u%s",
			    s[2] == 0xa8 ? "2028" : "2029");
			elen = 6;
			used = 3;
		} else {
			memcpy(e, s, u);
			elen = u;
			used = u;
		}
		if (n + elen >= room)
			break;
		memcpy(dst + n, e, elen);
		n += elen;
		s += used;
	}
	dst[n] = '\0';
	*all = *s == '\0';
	return n;
}

size_t
tenantlog_escape(char *dst, size_t room, const char *src, bool *all)
{
	return tlog_escape(dst, room, src, all);
}

/* uid.log -> uid.log.1 -> ... -> uid.log.keep; the oldest is dropped. */
static int
tlog_rotate(struct tenantlog *tl, const char *uid, struct tp_err *err)
{
	char from[TLOG_UID_MAX + 32], to[TLOG_UID_MAX + 32];
	unsigned i;

	if (tl->keep == 0) {
		snprintf(from, sizeof(from), "%s.log", uid);
		if (unlinkat(tl->dirfd, from, 0) == -1 && errno != ENOENT)
			return tp_err_errno(err, TP_INTERNAL,
			    "tenant log %s: unlink", uid);
		return 0;
	}
	for (i = tl->keep - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.log.%u", uid, i);
		snprintf(to, sizeof(to), "%s.log.%u", uid, i + 1);
		if (renameat(tl->dirfd, from, tl->dirfd, to) == -1 &&
		    errno != ENOENT)
			return tp_err_errno(err, TP_INTERNAL,
			    "tenant log %s: rotate %s", uid, from);
	}
	snprintf(from, sizeof(from), "%s.log", uid);
	snprintf(to, sizeof(to), "%s.log.1", uid);
	if (renameat(tl->dirfd, from, tl->dirfd, to) == -1 && errno != ENOENT)
		return tp_err_errno(err, TP_INTERNAL, "tenant log %s: rotate",
		    uid);
	return 0;
}

static int
tlog_openfile(struct tenantlog *tl, const char *name, struct stat *st,
    const char *uid, struct tp_err *err)
{
	int fd;

	/* O_NOFOLLOW: a symlink planted at <uid>.log must not redirect us. */
	fd = openat(tl->dirfd, name,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
	    0640);
	if (fd == -1)
		return tp_err_errno(err, TP_INTERNAL, "tenant log %s: open",
		    uid);
	if (fstat(fd, st) == -1) {
		tp_err_errno(err, TP_INTERNAL, "tenant log %s: fstat", uid);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return tp_err_set(err, TP_INTERNAL,
		    "tenant log %s: not a regular file", uid);
	}
	return fd;
}

/* Forgets the open log (before a rotation, or for another tenant). */
static void
tlog_uncache(struct tenantlog *tl)
{
	if (tl->cfd != -1)
		close(tl->cfd);
	tl->cfd = -1;
	tl->cuid[0] = '\0';
}

/* Rotates if this line would pass max_size, then appends it. */
static int
tlog_append(struct tenantlog *tl, const char *uid, const char *line,
    size_t len, struct tp_err *err)
{
	char name[TLOG_UID_MAX + 8];
	struct stat st;
	size_t off;
	ssize_t w;
	int rc = 0;

	snprintf(name, sizeof(name), "%s.log", uid);
	pthread_mutex_lock(&tl->mtx);
	/* the open file must still be the one the name shows: an operator
	 * (or logrotate) may have removed or moved it */
	if (tl->cfd != -1 && strcmp(tl->cuid, uid) == 0 &&
	    (fstatat(tl->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_dev != tl->cdev || st.st_ino != tl->cino))
		tlog_uncache(tl);
	if (tl->cfd == -1 || strcmp(tl->cuid, uid) != 0) {
		tlog_uncache(tl);
		if ((tl->cfd = tlog_openfile(tl, name, &st, uid, err)) == -1) {
			rc = -1;
			goto out;
		}
		snprintf(tl->cuid, sizeof(tl->cuid), "%s", uid);
		tl->csize = (uint64_t)st.st_size;
		tl->cdev = st.st_dev;
		tl->cino = st.st_ino;
	}
	if (tl->csize > 0 && tl->csize + len > tl->max_size) {
		tlog_uncache(tl);
		if (tlog_rotate(tl, uid, err) == -1 ||
		    (tl->cfd = tlog_openfile(tl, name, &st, uid, err)) == -1) {
			rc = -1;
			goto out;
		}
		snprintf(tl->cuid, sizeof(tl->cuid), "%s", uid);
		tl->csize = (uint64_t)st.st_size;
		tl->cdev = st.st_dev;
		tl->cino = st.st_ino;
	}
	for (off = 0; off < len; off += (size_t)w) {
		if ((w = write(tl->cfd, line + off, len - off)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			rc = tp_err_errno(err, TP_UNAVAILABLE,
			    "tenant log %s: write", uid);
			tlog_uncache(tl);
			goto out;
		}
		tl->csize += (uint64_t)w;
	}
out:
	pthread_mutex_unlock(&tl->mtx);
	return rc;
}

/* Checks one line and formats it into line (TLOG_LINE_MAX bytes);
 * *len gets its length, newline included. */
static int
tlog_format(struct tenantlog *tl, const char *uid, enum tlog_level lvl,
    const char *job_id, const char *event, const char *msg, char *line,
    size_t *len, struct tp_err *err)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	size_t n, room;
	bool all;
	int p;

	if (tl == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no tenant log");
	if (!tlog_valid_uid(uid))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: invalid uid");
	if ((unsigned)lvl > TLOG_ERROR)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: invalid level");
	if (job_id == NULL || *job_id == '\0')
		job_id = "-";
	if (!tlog_valid_token(job_id, TLOG_JOB_MAX, "_-.:"))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: invalid job id");
	if (!tlog_valid_token(event, TLOG_EVENT_MAX, "_-."))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: invalid event");
	if (msg == NULL)
		msg = "";
	/* The refusal names no part of the message: it may be the secret. */
	if (tenantlog_looks_secret(msg) || tenantlog_looks_secret(job_id) ||
	    tenantlog_looks_secret(event))
		return tp_err_set(err, TP_PERMISSION_DENIED,
		    "tenant log %s: refused a %s line that looks like a secret",
		    uid, event);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	p = snprintf(line, TLOG_LINE_MAX, "%s.%06ldZ %s %s %s ", ts,
	    now.tv_nsec / 1000L, tlog_levels[lvl], job_id, event);
	if (p < 0 || (size_t)p >= TLOG_LINE_MAX)
		return tp_err_set(err, TP_INTERNAL, "tenant log: line prefix");
	n = (size_t)p;

	/* The message gets what is left, less the newline. */
	room = TLOG_LINE_MAX - n - 1;
	n += tlog_escape(line + n, room, msg, &all);
	if (!all) {
		n = (size_t)p;
		n += tlog_escape(line + n, room - strlen(TLOG_CUT_MARK), msg,
		    &all);
		memcpy(line + n, TLOG_CUT_MARK, strlen(TLOG_CUT_MARK));
		n += strlen(TLOG_CUT_MARK);
	}
	if (*msg == '\0')
		n--;		/* no trailing blank after the event */
	line[n++] = '\n';
	*len = n;
	return 0;
}

int
tenantlog_write(struct tenantlog *tl, const char *uid, enum tlog_level lvl,
    const char *job_id, const char *event, const char *msg, struct tp_err *err)
{
	char line[TLOG_LINE_MAX];
	size_t n;

	if (tlog_format(tl, uid, lvl, job_id, event, msg, line, &n, err) == -1)
		return -1;
	return tlog_append(tl, uid, line, n, err);
}

_Static_assert(sizeof(((struct tenantlog_batch *)0)->uid) == TLOG_UID_MAX + 1,
    "a batch holds any valid uid");

void
tenantlog_batch_begin(struct tenantlog_batch *tb, const char *uid)
{
	size_t n = strlen(uid);

	/* too long for a uid: left empty, so every line is refused */
	if (n >= sizeof(tb->uid))
		n = 0;
	memcpy(tb->uid, uid, n);
	tb->uid[n] = '\0';
	tb->len = 0;
}

int
tenantlog_batch_add(struct tenantlog *tl, struct tenantlog_batch *tb,
    enum tlog_level lvl, const char *job_id, const char *event,
    const char *msg, struct tp_err *err)
{
	size_t n;

	if (tb->len + TLOG_LINE_MAX > sizeof(tb->buf) &&
	    tenantlog_batch_flush(tl, tb, err) == -1)
		return -1;
	if (tlog_format(tl, tb->uid, lvl, job_id, event, msg,
	    tb->buf + tb->len, &n, err) == -1)
		return -1;
	tb->len += n;
	return 0;
}

int
tenantlog_batch_flush(struct tenantlog *tl, struct tenantlog_batch *tb,
    struct tp_err *err)
{
	size_t len = tb->len;

	if (len == 0)
		return 0;
	tb->len = 0;
	return tlog_append(tl, tb->uid, tb->buf, len, err);
}

int
tenantlog_writef(struct tenantlog *tl, const char *uid, enum tlog_level lvl,
    const char *job_id, const char *event, struct tp_err *err,
    const char *fmt, ...)
{
	va_list ap;
	char small[TLOG_LINE_MAX], *buf = small;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "tenant log: bad format");
	/*
	 * The whole message is formatted (up to TLOG_FMT_MAX) before it is
	 * cut, so the secret check sees what lies past the cut too.
	 */
	if ((size_t)n >= sizeof(small)) {
		size_t size = (size_t)n + 1 > TLOG_FMT_MAX ? TLOG_FMT_MAX :
		    (size_t)n + 1;

		if ((buf = malloc(size)) == NULL)
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "tenant log: out of memory");
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	rc = tenantlog_write(tl, uid, lvl, job_id, event, buf, err);
	if (buf != small)
		free(buf);
	return rc;
}

/* SIGUSR1: the file held open is closed; the next line opens it by name. */
void
tenantlog_reopen(struct tenantlog *tl)
{
	pthread_mutex_lock(&tl->mtx);
	tlog_uncache(tl);
	pthread_mutex_unlock(&tl->mtx);
}
