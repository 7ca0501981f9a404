/* tenantlog_read.c: tenant log lines read back from the files: the last N lines, and those after a follower's cursor across rotations. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/tenantlog_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLR_FILES_MAX	1001	/* the current file and TLOG_KEEP_MAX */
#define TLR_LINE_COST	96	/* a returned line's JSON beyond its text */

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
	char t[TLOG_TIME_LEN + 1];
	ssize_t n;

	do
		n = pread(fd, t, TLOG_TIME_LEN, 0);
	while (n == -1 && errno == EINTR);
	if (n != TLOG_TIME_LEN)
		return 0;
	t[TLOG_TIME_LEN] = '\0';
	return tenantlog_time_us(t);
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
	dev_t prev_dev = 0;
	ino_t prev_ino = 0;
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
		/* a rotation between two opens shows a file twice */
		if (i > 0 && st.st_dev == prev_dev && st.st_ino == prev_ino) {
			close(fd);
			continue;
		}
		prev_dev = st.st_dev;
		prev_ino = st.st_ino;
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
