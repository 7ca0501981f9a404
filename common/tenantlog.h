/* tenantlog.h: one log file per tenant, rotated by size, never holding a secret. */
#ifndef TP_TENANTLOG_H
#define TP_TENANTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*
 * Files are <log_dir>/tenants/<uid>.log (mode 0640), rotated when a write
 * would take a file past max_size: <uid>.log.1 is the newest old file, and
 * at most keep old files are kept. A line is
 *   2026-11-29T18:41:50.123456Z LEVEL JOB_ID EVENT message
 * with "-" for an empty job id; control characters in the message are
 * escaped so one event is one line. Writes are safe from several threads.
 */

enum tlog_level {
	TLOG_DEBUG,
	TLOG_INFO,
	TLOG_WARN,
	TLOG_ERROR,
};

#define TLOG_LINE_MAX 2048	/* a longer message is cut, saying so */

struct tenantlog;

/* Creates <log_dir>/tenants if needed. */
struct tenantlog *tenantlog_open(const char *log_dir, uint64_t max_size,
    unsigned keep, struct tp_err *err);
void tenantlog_free(struct tenantlog *tl);
/* Closes the file held open for the last tenant written (SIGUSR1). */
void tenantlog_reopen(struct tenantlog *tl);

/*
 * Appends one line. Refuses (returns -1, TP_PERMISSION_DENIED, writes
 * nothing) a message that looks like a stored secret: see
 * tenantlog_looks_secret. event is a short word such as "sync" or "crash".
 */
int tenantlog_write(struct tenantlog *tl, const char *uid, enum tlog_level lvl,
    const char *job_id, const char *event, const char *msg, struct tp_err *err);
int tenantlog_writef(struct tenantlog *tl, const char *uid, enum tlog_level lvl,
    const char *job_id, const char *event, struct tp_err *err,
    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/*
 * A job's lines gathered for one write: they stay together in the file,
 * and a pulse makes one write per tenant instead of one per line. Each
 * line is checked (and refused) as tenantlog_write would; a batch that
 * fills up is written and goes on. Lines are timed when added.
 */
#define TLOG_BATCH_MAX	(8 * TLOG_LINE_MAX)

struct tenantlog_batch {
	char	 uid[129];
	size_t	 len;
	char	 buf[TLOG_BATCH_MAX];
};

void tenantlog_batch_begin(struct tenantlog_batch *tb, const char *uid);
int tenantlog_batch_add(struct tenantlog *tl, struct tenantlog_batch *tb,
    enum tlog_level lvl, const char *job_id, const char *event,
    const char *msg, struct tp_err *err);
/* Writes what the batch holds (nothing when empty). */
int tenantlog_batch_flush(struct tenantlog *tl, struct tenantlog_batch *tb,
    struct tp_err *err);

/*
 * True when s holds something shaped like a credential: an Alpaca key id
 * (PK/AK/CK followed by 14+ upper-case letters or digits), a run of 32+
 * characters of [A-Za-z0-9+/=_-] mixing upper case, lower case and digits
 * (an Alpaca secret is 40 such), or a sealed-secret field name
 * ("ciphertext", "secret_key"). A 28-character Firebase uid passes.
 */
bool tenantlog_looks_secret(const char *s);
/*
 * A message escaped as a log line holds it (one line, unambiguous), into
 * dst (room bytes, NUL included); stops before an escape that does not
 * fit, *all saying whether src was used up. For readers showing lines.
 */
size_t tenantlog_escape(char *dst, size_t room, const char *src, bool *all);
/* The path of a tenant's current log file (for `tradepulse logs`). */
int tenantlog_path(const struct tenantlog *tl, const char *uid, char *buf,
    size_t size);

#endif
