/* tenantlog_read.h: reading tenant logs back: one line parsed strictly, the last lines, the lines after a cursor across rotations. */
#ifndef TP_TENANTLOG_READ_H
#define TP_TENANTLOG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/tenantlog.h"

#define TLOG_TIME_LEN	27	/* "2026-11-29T18:41:50.123456Z" */

/* One line of a tenant log, as tenantlog.c wrote it. */
struct tlog_entry {
	char		 time[TLOG_TIME_LEN + 1];
	enum tlog_level	 level;
	char		 job[65];	/* "" for the file's "-" */
	char		 event[33];
	char		*msg;		/* unescaped, malloc'd; see
					   tenantlog_parse */
};

/*
 * Parses one line (without its newline; len bytes, no NUL needed) into e.
 * Strict: the timestamp as written (UTC, microseconds), one of the four
 * level words, a job id and an event as tenantlog_write accepts them, and
 * then nothing or one space and the escaped message. The message is
 * unescaped (\\ \n \r \t, \xHH of a control character, \u00HH of a C1
 * control, \u2028, \u2029); \xHH of a byte that was not UTF-8 becomes
 * U+FFFD, so the message is always valid UTF-8. 0, or -1 with
 * TP_INVALID_ARGUMENT (e->msg is then NULL).
 */
int	tenantlog_parse(const char *line, size_t len, struct tlog_entry *e,
	    struct tp_err *err);
/* A line's timestamp in microseconds since 1970; 0 when it is not one. */
uint64_t tenantlog_time_us(const char *t);
/* "DEBUG".."ERROR" and their lower-case forms; -1 for anything else. */
int	tenantlog_level_parse(const char *s);
const char *tenantlog_level_name(enum tlog_level lvl);

/*
 * A timestamp (RFC 3339: "2026-12-06T15:04:05Z", fractions and a
 * "+02:00" offset allowed) or a duration before now ("90s", "10m",
 * "2h", "7d") as the canonical UTC form the log writes, into out
 * (TLOG_TIME_LEN + 1 bytes). 0, or -1 with TP_INVALID_ARGUMENT.
 */
int	tenantlog_since(const char *s, int64_t now, char *out,
	    struct tp_err *err);

/* Which lines a read returns. */
struct tlog_filter {
	enum tlog_level	 min_level;	/* this level and above */
	const char	*job;		/* NULL: every job */
	const char	*since;		/* canonical timestamp, or NULL */
};

/*
 * Where a follower stands: a file (by device and inode, which a rotation
 * keeps, as it renames, and the time of its first line, as an inode is
 * reused once a rotation drops the file) and the offset after the last
 * whole line read. ino 0: the start of whatever the current file will
 * be; birth 0: the file was empty.
 */
struct tlog_cursor {
	uint64_t	dev;
	uint64_t	ino;
	uint64_t	off;
	uint64_t	birth;	/* microseconds since 1970 */
};

#define TLOG_CURSOR_MAX	80
void	tenantlog_cursor_format(const struct tlog_cursor *c, char *buf,
	    size_t size);
/* The text tenantlog_cursor_format made; -1 for anything else. */
int	tenantlog_cursor_parse(const char *s, struct tlog_cursor *c);

/* What a read may cost, and what it found. */
struct tlog_read {
	/* in */
	const char		*dir;		/* <log_dir>/tenants */
	const char		*uid;
	unsigned		 keep;		/* rotated files kept */
	struct tlog_filter	 filter;
	size_t			 scan_max;	/* bytes read from files */
	size_t			 budget;	/* bytes of lines returned
						   (a reply's bound) */
	/* out: oldest first */
	struct tlog_entry	*lines;
	size_t			 n;
	struct tlog_cursor	 cursor;	/* where a follower goes on */
	bool			 truncated;	/* the bounds left lines out */
	size_t			 malformed;	/* lines that did not parse */
};

/*
 * The last n lines that pass the filter, from the current file back into
 * the rotated ones, reading at most scan_max bytes; truncated when the
 * bounds stopped the search before n lines were found or the start of
 * the oldest file was reached. The cursor is the end of the current file.
 * A tenant without a log file has no lines. 0, or -1 (r->lines empty).
 */
int	tenantlog_read_tail(struct tlog_read *r, size_t n, struct tp_err *err);
/*
 * The lines written after the cursor, in the order written: the rest of
 * the cursor's file, which may have been rotated since (to .1, .2, ...),
 * then each newer file. A cursor whose file is no longer kept starts at
 * the oldest file kept (truncated: lines were lost). When a bound is
 * reached the cursor stops after the last line returned, truncated, and
 * the next read goes on from there. 0, or -1.
 */
int	tenantlog_read_after(struct tlog_read *r, const struct tlog_cursor *from,
	    struct tp_err *err);
void	tenantlog_read_free(struct tlog_read *r);

#endif
