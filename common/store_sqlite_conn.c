/* store_sqlite_conn.c: the SQLite backend's connections: schema and migrations, statements, the pool, open and close. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/store.h"
#include "common/store_backend.h"
#include "common/store_sqlite_int.h"

#define SQLITE_BUSY_MS     5000	/* wait this long for another writer */
#define SQLITE_EXTRA_CONNS 8	/* connections beyond the async threads */

static const char *const sqlite_migrations[] = {
	"CREATE TABLE docs ("
	"  path TEXT PRIMARY KEY NOT NULL,"
	"  parent TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  tenant TEXT,"
	"  data TEXT NOT NULL,"
	"  update_time TEXT NOT NULL"
	") STRICT;"
	"CREATE UNIQUE INDEX docs_parent_id ON docs(parent, id);"
	"CREATE INDEX docs_tenant ON docs(tenant);"
	"CREATE INDEX docs_status_created ON docs(parent,"
	"  json_extract(data, '$.status'), json_extract(data, '$.created_at'),"
	"  id);"
	"CREATE INDEX docs_created ON docs(parent,"
	"  json_extract(data, '$.created_at'), id);"
	"CREATE INDEX docs_timestamp ON docs(parent,"
	"  json_extract(data, '$.timestamp'), id);",

	"DROP INDEX docs_status_created;"
	"DROP INDEX docs_created;"
	"DROP INDEX docs_timestamp;"
	"ALTER TABLE docs ADD COLUMN k_status ANY;"
	"ALTER TABLE docs ADD COLUMN k_created_at ANY;"
	"ALTER TABLE docs ADD COLUMN k_timestamp ANY;"
	"UPDATE docs SET " SQLITE_KEYS_SET
	"  WHERE " SQLITE_TRADES " OR " SQLITE_SIGNALS ";"
	"CREATE INDEX docs_status_created ON docs(parent, k_status,"
	"  k_created_at, id) WHERE " SQLITE_TRADES ";"
	"CREATE INDEX docs_created ON docs(parent, k_created_at, id)"
	"  WHERE " SQLITE_TRADES ";"
	"CREATE INDEX docs_timestamp ON docs(parent, k_timestamp, id)"
	"  WHERE " SQLITE_SIGNALS ";",

	"CREATE INDEX docs_group_status ON docs(k_status, tenant, id)"
	"  WHERE " SQLITE_TRADES ";",
};
#define SQLITE_SCHEMA_VERSION \
	((int)(sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0])))

#define SQLITE_CACHE_KB		"-4096"		/* per connection: 4 MiB */
#define SQLITE_CHECKPOINT_PAGES	"8192"		/* 32 MiB of WAL */

static const char *const sqlite_stmt_sql[STMT_COUNT] = {
	[STMT_GET] = "SELECT data, update_time FROM docs WHERE path = ?1",
	[STMT_UPSERT] = "INSERT INTO docs (path, parent, id, tenant, data, "
	    "update_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (path) DO UPDATE SET data = excluded.data, "
	    "update_time = excluded.update_time",
	[STMT_INSERT] = "INSERT INTO docs (path, parent, id, tenant, data, "
	    "update_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/*
	 * A merge is RFC 7396's JSON merge patch, done by SQLite on the
	 * stored text: no parse into json-c, no serialization, no read
	 * before the write. A document that is not a map (only corruption
	 * makes one) gives NULL, which the NOT NULL constraint turns into an
	 * error instead of a silent replacement. tp_doc_bound enforces
	 * STORE_DOC_MAX on the result (sqlite_doc_bound); it is a function
	 * rather than RETURNING because RETURNING makes every merge open a
	 * statement journal, which costs more than the merge itself.
	 */
	[STMT_MERGE] = "UPDATE docs SET data = tp_doc_bound(json_patch(iif("
	    "substr(data, 1, 1) = '{', data, NULL), ?1)), update_time = ?2 "
	    "WHERE path = ?3",
	/* the stored form is the same as merging into an empty map */
	[STMT_MERGE_NEW] = "INSERT INTO docs (path, parent, id, tenant, data, "
	    "update_time) VALUES (?3, ?4, ?5, ?6, "
	    "tp_doc_bound(json_patch('{}', ?1)), ?2)",
	[STMT_REKEY] = "UPDATE docs SET " SQLITE_KEYS_SET " WHERE path = ?1",
	[STMT_DELETE] = "DELETE FROM docs WHERE path = ?1",
	/* one index probe per tenant, however many documents each has */
	[STMT_TENANT_NEXT] = "SELECT tenant FROM docs WHERE tenant > ?1 "
	    "ORDER BY tenant LIMIT 1",
	[STMT_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[STMT_BEGIN_READ] = "BEGIN",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT batch",
	[STMT_RELEASE] = "RELEASE batch",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO batch",
};

/* Maps a SQLite failure to an error code; the message keeps errmsg. */
int
sqlite_fail(sqlite3 *db, int rc, const char *what, struct tp_err *err)
{
	const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return tp_err_set(err, TP_UNAVAILABLE,
		    "%s: database is locked: %s", what, msg);
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return tp_err_set(err, TP_UNAVAILABLE,
		    "%s: cannot use the database: %s", what, msg);
	case SQLITE_NOMEM:
	case SQLITE_FULL:
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "%s: %s", what,
		    msg);
	default:
		return tp_err_set(err, TP_INTERNAL, "%s: sqlite: %s", what,
		    msg);
	}
}

sqlite3_stmt *
sqlite_stmt(struct sqlite_conn *c, enum sqlite_stmt_id id, struct tp_err *err)
{
	int rc;

	if (c->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(c->db, sqlite_stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			sqlite_fail(c->db, rc, "prepare", err);
			c->stmt[id] = NULL;
			return NULL;
		}
	}
	return c->stmt[id];
}

void
sqlite_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Runs a statement without results (BEGIN, COMMIT, ...). */
int
sqlite_run(struct sqlite_conn *c, enum sqlite_stmt_id id, struct tp_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = sqlite_stmt(c, id, err)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sqlite_fail(c->db, rc, sqlite_stmt_sql[id], err);
	return 0;
}

void
sqlite_rollback(struct sqlite_conn *c)
{
	if (!sqlite3_get_autocommit(c->db))
		(void)sqlite_run(c, STMT_ROLLBACK, NULL);
}

/* Runs a PRAGMA returning one text value into out (may be NULL). */
static int
sqlite_pragma(sqlite3 *db, const char *sql, char *out, size_t size,
    struct tp_err *err)
{
	sqlite3_stmt *s;
	const unsigned char *v;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL)) != SQLITE_OK)
		return sqlite_fail(db, rc, sql, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && out != NULL) {
		v = sqlite3_column_text(s, 0);
		snprintf(out, size, "%s", v != NULL ? (const char *)v : "");
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sqlite_fail(db, rc, sql, err);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static void
sqlite_conn_close(struct sqlite_conn *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	for (i = 0; i < SQLITE_QUERY_CACHE; i++) {
		sqlite3_finalize(c->queries[i].s);
		free(c->queries[i].sql);
	}
	sqlite3_close_v2(c->db);
	free(c);
}

/* The prepared statement of a query's sql, from c's cache or prepared
 * into it in place of the least recently used. Reset it after use. */
sqlite3_stmt *
sqlite_query_stmt(struct sqlite_conn *c, const char *sql,
    struct tp_err *err)
{
	struct sqlite_cached *q, *lru = &c->queries[0];
	sqlite3_stmt *s;
	char *copy;
	size_t i;
	int rc;

	for (i = 0; i < SQLITE_QUERY_CACHE; i++) {
		q = &c->queries[i];
		if (q->sql != NULL && strcmp(q->sql, sql) == 0) {
			q->used = ++c->uses;
			return q->s;
		}
		if (q->used < lru->used)
			lru = q;
	}
	if ((copy = strdup(sql)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory"), NULL;
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s, NULL);
	if (rc != SQLITE_OK) {
		free(copy);
		sqlite_fail(c->db, rc, "query", err);
		return NULL;
	}
	sqlite3_finalize(lru->s);
	free(lru->sql);
	lru->sql = copy;
	lru->s = s;
	lru->used = ++c->uses;
	return s;
}

/*
 * tp_doc_bound(doc): doc, or the error SQLITE_TOOBIG when it is more than
 * STORE_DOC_MAX bytes (the size goes to the connection's toobig for the
 * message). The error comes before the row is written, so the write needs
 * no statement journal to be undone.
 */
static void
sqlite_doc_bound(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sqlite_conn *c = sqlite3_user_data(ctx);
	sqlite3_int64 n;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	n = sqlite3_value_bytes(argv[0]);
	if (n > STORE_DOC_MAX) {
		c->toobig = n;
		sqlite3_result_error_toobig(ctx);
		return;
	}
	sqlite3_result_value(ctx, argv[0]);
}

/*
 * SQLite keeps allocation statistics under one global mutex by default:
 * every allocation of every connection took it, and the store threads
 * planning a pulse spent more time waking each other on it than reading.
 * Nothing here reads those statistics. sqlite3_config must come before
 * SQLite initializes; a process that initialized it already (a test
 * harness) keeps its setting.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void
sqlite_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static struct sqlite_conn *
sqlite_conn_open(struct sqlite_be *be, struct tp_err *err)
{
	struct sqlite_conn *c;
	char mode[16], sql[64];
	int rc;

	(void)pthread_once(&sqlite_once, sqlite_configure);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of memory"), NULL;
	/* the file exists (sqlite_create_file): never let SQLite create it */
	rc = sqlite3_open_v2(be->path, &c->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (c->db != NULL)
			sqlite_fail(c->db, rc, be->path, err);
		else
			tp_err_set(err, TP_UNAVAILABLE, "%s: %s", be->path,
			    sqlite3_errstr(rc));
		sqlite_conn_close(c);
		return NULL;
	}
	sqlite3_extended_result_codes(c->db, 1);
	rc = sqlite3_create_function_v2(c->db, "tp_doc_bound", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, c,
	    sqlite_doc_bound, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite_fail(c->db, rc, "tp_doc_bound", err);
		sqlite_conn_close(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, SQLITE_BUSY_MS);
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s",
	    be->sync_full ? "FULL" : "NORMAL");
	if (sqlite_pragma(c->db, "PRAGMA journal_mode = WAL", mode,
	    sizeof(mode), err) == -1 ||
	    sqlite_pragma(c->db, sql, NULL, 0, err) == -1) {
		/* the first statement is what finds a non-database file */
		if (err != NULL && err->code == TP_INTERNAL)
			err->code = TP_UNAVAILABLE;
		sqlite_conn_close(c);
		return NULL;
	}
	if (strcmp(mode, "wal") != 0) {
		tp_err_set(err, TP_UNAVAILABLE,
		    "%s: cannot switch to WAL mode (journal mode %s)",
		    be->path, mode);
		sqlite_conn_close(c);
		return NULL;
	}
	/*
	 * A pulse's group commits touch thousands of pages: a page cache
	 * that holds them spares spilling to the WAL mid-transaction, and
	 * fewer checkpoints write each page back fewer times. Each batch of
	 * a group commit is a savepoint, and a savepoint journals the
	 * original of every page it changes: temp_store=MEMORY keeps that
	 * sub-journal in memory instead of a temporary file (a pwrite per
	 * page, per batch).
	 */
	if (sqlite_pragma(c->db, "PRAGMA cache_size = " SQLITE_CACHE_KB,
	    NULL, 0, err) == -1 ||
	    sqlite_pragma(c->db, "PRAGMA wal_autocheckpoint = "
	    SQLITE_CHECKPOINT_PAGES, NULL, 0, err) == -1 ||
	    sqlite_pragma(c->db, "PRAGMA temp_store = MEMORY", NULL, 0,
	    err) == -1) {
		sqlite_conn_close(c);
		return NULL;
	}
	return c;
}

static int
sqlite_migrate(struct sqlite_be *be, struct sqlite_conn *c,
    struct tp_err *err)
{
	char v[32], sql[64];
	char *msg = NULL;
	long version;
	int rc;

	if (sqlite_run(c, STMT_BEGIN_WRITE, err) == -1)
		return -1;
	if (sqlite_pragma(c->db, "PRAGMA user_version", v, sizeof(v),
	    err) == -1)
		goto fail;
	version = strtol(v, NULL, 10);
	if (version < 0 || version > SQLITE_SCHEMA_VERSION) {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s: schema version %ld is not one this program knows "
		    "(up to %d)", be->path, version, SQLITE_SCHEMA_VERSION);
		goto fail;
	}
	for (; version < SQLITE_SCHEMA_VERSION; version++) {
		rc = sqlite3_exec(c->db, sqlite_migrations[version], NULL,
		    NULL, &msg);
		if (rc != SQLITE_OK) {
			tp_err_set(err, TP_INTERNAL,
			    "%s: schema migration %ld: %s", be->path,
			    version + 1, msg != NULL ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			goto fail;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SQLITE_SCHEMA_VERSION);
	if (sqlite_pragma(c->db, sql, NULL, 0, err) == -1 ||
	    sqlite_run(c, STMT_COMMIT, err) == -1)
		goto fail;
	return 0;
fail:
	sqlite_rollback(c);
	return -1;
}

/* Creates the file 0600 before SQLite sees it, and keeps it 0600. */
static int
sqlite_create_file(const char *path, struct tp_err *err)
{
	static const char *const sidecars[] = { "-wal", "-shm" };
	struct stat sb;
	char side[4096];
	size_t i;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return tp_err_errno(err, TP_UNAVAILABLE, "%s", path);
	if (fstat(fd, &sb) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE, "%s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return tp_err_set(err, TP_UNAVAILABLE,
		    "%s: not a regular file", path);
	}
	if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE,
		    "%s: cannot make the store private (mode 0600)", path);
		close(fd);
		return -1;
	}
	close(fd);
	/* SQLite gives new -wal/-shm files the database's mode; fix old ones */
	for (i = 0; i < sizeof(sidecars) / sizeof(sidecars[0]); i++) {
		if ((size_t)snprintf(side, sizeof(side), "%s%s", path,
		    sidecars[i]) >= sizeof(side))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "store path too long");
		if (lstat(side, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (sb.st_mode & 077) != 0 && chmod(side, 0600) == -1)
			return tp_err_errno(err, TP_UNAVAILABLE, "%s", side);
	}
	return 0;
}

struct sqlite_conn *
sqlite_acquire(struct sqlite_be *be, struct tp_err *err)
{
	struct sqlite_conn *c;

	pthread_mutex_lock(&be->mu);
	while (be->idle == NULL && be->nconns >= be->maxconns)
		pthread_cond_wait(&be->cv, &be->mu);
	if ((c = be->idle) != NULL) {
		be->idle = c->next;
		pthread_mutex_unlock(&be->mu);
		return c;
	}
	be->nconns++;
	pthread_mutex_unlock(&be->mu);
	if ((c = sqlite_conn_open(be, err)) == NULL) {
		pthread_mutex_lock(&be->mu);
		be->nconns--;
		pthread_cond_signal(&be->cv);
		pthread_mutex_unlock(&be->mu);
	}
	return c;
}

void
sqlite_release(struct sqlite_be *be, struct sqlite_conn *c)
{
	sqlite_rollback(c);
	pthread_mutex_lock(&be->mu);
	c->next = be->idle;
	be->idle = c;
	pthread_cond_signal(&be->cv);
	pthread_mutex_unlock(&be->mu);
}

void
sqlite_close(void *arg)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c, *next;

	if (be == NULL)
		return;
	for (c = be->idle; c != NULL; c = next) {
		next = c->next;
		sqlite_conn_close(c);
	}
	pthread_mutex_destroy(&be->wlock);
	pthread_cond_destroy(&be->cv);
	pthread_mutex_destroy(&be->mu);
	free(be->path);
	free(be);
}

int
sqlite_open(const struct store_params *params, int threads, void **out,
    struct tp_err *err)
{
	struct sqlite_be *be;
	struct sqlite_conn *c;

	*out = NULL;
	if (params->path == NULL || params->path[0] == '\0')
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sqlite store: no database path");
	if (sqlite3_threadsafe() == 0)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "sqlite store: libsqlite3 was built without threads");
	if ((be = calloc(1, sizeof(*be))) == NULL ||
	    (be->path = strdup(params->path)) == NULL) {
		free(be);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	be->sync_full = params->sync_full;
	be->maxconns = threads + SQLITE_EXTRA_CONNS;
	pthread_mutex_init(&be->mu, NULL);
	pthread_cond_init(&be->cv, NULL);
	pthread_mutex_init(&be->wlock, NULL);
	if (sqlite_create_file(be->path, err) == -1 ||
	    (c = sqlite_acquire(be, err)) == NULL) {
		sqlite_close(be);
		return -1;
	}
	pthread_mutex_lock(&be->wlock);
	if (sqlite_migrate(be, c, err) == -1) {
		pthread_mutex_unlock(&be->wlock);
		sqlite_release(be, c);
		sqlite_close(be);
		return -1;
	}
	pthread_mutex_unlock(&be->wlock);
	sqlite_release(be, c);
	*out = be;
	return 0;
}
