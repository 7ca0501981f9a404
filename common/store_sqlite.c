/* store_sqlite.c: the embedded SQLite backend of the document store. */
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

#include "common/jsonutil.h"
#include "common/path.h"
#include "common/store.h"
#include "common/store_backend.h"

#define SQLITE_BUSY_MS     5000	/* wait this long for another writer */
#define SQLITE_EXTRA_CONNS 8	/* connections beyond the async threads */

/*
 * Schema migrations: entry i takes user_version i to i + 1. Later issues
 * append entries; existing ones never change.
 *
 * docs.parent is the collection path and docs.tenant the uid of paths
 * under users/{uid}. The expression indexes serve the seed's composite
 * queries (shadowTradeHistory by status + created_at, signals by
 * timestamp) and the dashboard's trades by created_at; queries spell
 * json_extract exactly as here so that SQLite matches them. id ends each
 * index so ties are ordered without a temporary b-tree.
 *
 * Version 2 takes those indexes off the write path of every other
 * document: they were kept for all rows, and a merge rewrote each one's
 * entries (two json_extract parses of the old and the new text) even when
 * the indexed fields did not change. Now the indexed values live in key
 * columns, k_status, k_created_at and k_timestamp, kept only for the
 * documents of the keyed collections (last segment shadowTradeHistory or
 * signals, SQLITE_TRADES / SQLITE_SIGNALS) and rewritten only by a write
 * that can change them (STMT_REKEY, after a set or create, or a merge
 * whose data names one of those fields); the indexes are partial, over
 * their collections only. store_sqlite_query_sql reads those fields from
 * the key columns on a keyed collection and adds the identical GLOB term,
 * which is what lets the planner use a partial index. A key column holds
 * exactly json_extract(data, '$.field'), so results do not change.
 */
#define SQLITE_TRADES	"parent GLOB '*/shadowTradeHistory'"
#define SQLITE_SIGNALS	"parent GLOB '*/signals'"
#define SQLITE_KEYS_SET	"k_status = json_extract(data, '$.status'), " \
	"k_created_at = json_extract(data, '$.created_at'), " \
	"k_timestamp = json_extract(data, '$.timestamp')"

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
};
#define SQLITE_SCHEMA_VERSION \
	((int)(sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0])))

#define SQLITE_CACHE_KB		"-4096"		/* per connection: 4 MiB */
#define SQLITE_CHECKPOINT_PAGES	"8192"		/* 32 MiB of WAL */

/* Statements prepared once per connection. */
enum sqlite_stmt_id {
	STMT_GET,
	STMT_UPSERT,
	STMT_INSERT,
	STMT_MERGE,
	STMT_MERGE_NEW,
	STMT_REKEY,
	STMT_DELETE,
	STMT_TENANT_NEXT,
	STMT_BEGIN_WRITE,
	STMT_BEGIN_READ,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_COUNT
};

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

/* A query statement kept prepared, by its SQL (store_sqlite_query_sql
 * gives a handful of distinct texts: the app's queries repeat). */
struct sqlite_cached {
	char *sql;
	sqlite3_stmt *s;
	unsigned long used;		/* for evicting the least recent */
};

#define SQLITE_QUERY_CACHE 16	/* query statements per connection */

struct sqlite_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	struct sqlite_cached queries[SQLITE_QUERY_CACHE];
	unsigned long uses;
	sqlite3_int64 toobig;		/* size tp_doc_bound refused last */
	struct sqlite_conn *next;	/* idle list */
};

struct sqlite_be {
	char *path;
	bool sync_full;
	/* connection pool: sync calls may come from any thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sqlite_conn *idle;
	int nconns;
	int maxconns;
	/* one writer at a time inside this process, so writers queue here
	 * instead of sleeping in SQLite's busy handler */
	pthread_mutex_t wlock;
};

/* Which key columns a collection's documents keep (see the migrations). */
enum sqlite_keyed {
	SQLITE_KEYED_NONE,
	SQLITE_KEYED_TRADES,	/* SQLITE_TRADES */
	SQLITE_KEYED_SIGNALS,	/* SQLITE_SIGNALS */
};

/* Whether the collection path c (n bytes) is a subcollection whose last
 * segment is seg: exactly the parents the GLOB of SQLITE_TRADES (resp.
 * SQLITE_SIGNALS) matches. */
static bool
sqlite_coll_is(const char *c, size_t n, const char *seg)
{
	size_t k = strlen(seg);

	return n > k && c[n - k - 1] == '/' &&
	    memcmp(c + n - k, seg, k) == 0;
}

static enum sqlite_keyed
sqlite_keyed(const char *collection, size_t n)
{
	if (sqlite_coll_is(collection, n, "shadowTradeHistory"))
		return SQLITE_KEYED_TRADES;
	if (sqlite_coll_is(collection, n, "signals"))
		return SQLITE_KEYED_SIGNALS;
	return SQLITE_KEYED_NONE;
}

/* The top-level fields that have a key column (SQLITE_KEYS_SET). */
static const char *const sqlite_key_fields[] = {
	"status", "created_at", "timestamp",
};

/*
 * The SQL for the value of field in a document of a collection that is
 * keyed or not: its key column where it has one, else json_extract.
 * (Both give the same value; only the column is indexed.)
 */
static int
sqlite_field_value(enum sqlite_keyed keyed, const char *field, char *buf,
    size_t size)
{
	size_t i;
	int n;

	for (i = 0; keyed != SQLITE_KEYED_NONE &&
	    i < sizeof(sqlite_key_fields) / sizeof(sqlite_key_fields[0]); i++)
		if (strcmp(field, sqlite_key_fields[i]) == 0) {
			n = snprintf(buf, size, "k_%s", field);
			return n < 0 || (size_t)n >= size ? -1 : 0;
		}
	n = snprintf(buf, size, "json_extract(data, '$.%s')", field);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Maps a SQLite failure to an error code; the message keeps errmsg. */
static int
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

static sqlite3_stmt *
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

static void
sqlite_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Runs a statement without results (BEGIN, COMMIT, ...). */
static int
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

static void
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
static sqlite3_stmt *
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

static struct sqlite_conn *
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

static void
sqlite_release(struct sqlite_be *be, struct sqlite_conn *c)
{
	sqlite_rollback(c);
	pthread_mutex_lock(&be->mu);
	c->next = be->idle;
	be->idle = c;
	pthread_cond_signal(&be->cv);
	pthread_mutex_unlock(&be->mu);
}

static void
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

static int
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

/* Parses a stored document; anything but a map means corruption. */
static json_object *
sqlite_parse(const char *text, int len, const char *path, struct tp_err *err)
{
	struct tp_err perr;
	json_object *o;

	if (text == NULL || len < 0)
		return tp_err_set(err, TP_INTERNAL,
		    "document %s has no data in the database", path), NULL;
	if ((o = json_parse(text, (size_t)len, &perr)) == NULL)
		return tp_err_set(err, TP_INTERNAL,
		    "document %s is corrupt in the database: %s", path,
		    perr.msg), NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return tp_err_set(err, TP_INTERNAL,
		    "document %s is corrupt in the database: not a map",
		    path), NULL;
	}
	return o;
}

/* Reads the row of path in c: data parsed into *data, update_time copied.
 * Returns 1 found, 0 missing, -1 error. */
static int
sqlite_read(struct sqlite_conn *c, const char *path, json_object **data,
    char *update_time, size_t utsize, struct tp_err *err)
{
	sqlite3_stmt *s;
	const char *text, *ut;
	int rc, found = 0;

	if ((s = sqlite_stmt(c, STMT_GET, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		text = (const char *)sqlite3_column_text(s, 0);
		ut = (const char *)sqlite3_column_text(s, 1);
		if ((*data = sqlite_parse(text, sqlite3_column_bytes(s, 0),
		    path, err)) == NULL) {
			found = -1;
		} else {
			if (update_time != NULL)
				snprintf(update_time, utsize, "%s",
				    ut != NULL ? ut : "");
			found = 1;
		}
	} else if (rc != SQLITE_DONE)
		found = sqlite_fail(c->db, rc, path, err);
	sqlite_done(s);
	return found;
}

static int
sqlite_get(void *arg, const char *path, struct store_doc *out,
    struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	const char *slash;
	int found;

	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	found = sqlite_read(c, path, &out->data, out->update_time,
	    sizeof(out->update_time), err);
	sqlite_release(be, c);
	if (found == -1)
		return -1;
	if (found == 0)
		return tp_err_set(err, TP_NOT_FOUND, "no document %s", path);
	slash = strrchr(path, '/');
	out->path = strdup(path);
	out->id = strdup(slash != NULL ? slash + 1 : path);
	if (out->path == NULL || out->id == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

/* Binds a document's parent, id and tenant (NULL outside users/) from
 * index first on; uid must outlive the statement's step. */
static void
sqlite_bind_place(sqlite3_stmt *s, int first, const char *path,
    char *uid, size_t uidsize)
{
	const char *slash = strrchr(path, '/');

	/* store.c validated path: it has a slash */
	sqlite3_bind_text(s, first, path, (int)(slash - path), SQLITE_STATIC);
	sqlite3_bind_text(s, first + 1, slash + 1, -1, SQLITE_STATIC);
	if (path_tenant(path, uid, uidsize))
		sqlite3_bind_text(s, first + 2, uid, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, first + 2);
}

/* Stores json as the content of path (insert, or replace when upsert). */
static int
sqlite_put(struct sqlite_conn *c, const char *path, const char *json,
    size_t len, bool upsert, const char *now, struct tp_err *err)
{
	sqlite3_stmt *s;
	char uid[UID_MAX_LEN + 1];
	int rc;

	if ((s = sqlite_stmt(c, upsert ? STMT_UPSERT : STMT_INSERT,
	    err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite_bind_place(s, 2, path, uid, sizeof(uid));
	sqlite3_bind_text(s, 5, json, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite_done(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return tp_err_set(err, TP_ALREADY_EXISTS,
		    "document %s already exists", path);
	if (rc != SQLITE_DONE)
		return sqlite_fail(c->db, rc, path, err);
	return 0;
}

/*
 * Runs STMT_MERGE or STMT_MERGE_NEW for w. Returns 1 when a row was
 * written, 0 when none was (the update of a missing document), -1 on
 * error.
 */
static int
sqlite_merge_step(struct sqlite_conn *c, enum sqlite_stmt_id id,
    const struct store_write *w, const char *now, struct tp_err *err)
{
	sqlite3_stmt *s;
	char uid[UID_MAX_LEN + 1];
	int rc;

	if ((s = sqlite_stmt(c, id, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, w->json, (int)w->json_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, w->path, -1, SQLITE_STATIC);
	if (id == STMT_MERGE_NEW)
		sqlite_bind_place(s, 4, w->path, uid, sizeof(uid));
	c->toobig = 0;
	rc = sqlite3_step(s);
	sqlite_done(s);
	switch (rc) {
	case SQLITE_DONE:
		/* the statement changes at most one row: the one at path */
		return sqlite3_changes(c->db) > 0 ? 1 : 0;
	case SQLITE_TOOBIG:
		if (c->toobig > STORE_DOC_MAX)
			return store_check_size(w->path, (size_t)c->toobig,
			    err);
		break;
	case SQLITE_CONSTRAINT_NOTNULL:
		return tp_err_set(err, TP_INTERNAL,
		    "document %s is corrupt in the database: not a map",
		    w->path);
	}
	return sqlite_fail(c->db, rc, w->path, err);
}

/*
 * A merge in SQL (STMT_MERGE), or the document's creation when it is
 * missing. A result past STORE_DOC_MAX fails the write before anything
 * is written (tp_doc_bound); the caller rolls back the rest.
 */
static int
sqlite_merge(struct sqlite_conn *c, const struct store_write *w,
    const char *now, struct tp_err *err)
{
	int found;

	if ((found = sqlite_merge_step(c, STMT_MERGE, w, now, err)) == 0)
		found = sqlite_merge_step(c, STMT_MERGE_NEW, w, now, err);
	if (found == -1)
		return -1;
	if (found == 0)
		return tp_err_set(err, TP_INTERNAL,
		    "document %s: the merge wrote nothing", w->path);
	return 0;
}

/* Runs a statement whose one parameter is a document path. */
static int
sqlite_run_path(struct sqlite_conn *c, enum sqlite_stmt_id id,
    const char *path, struct tp_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = sqlite_stmt(c, id, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite_done(s);
	if (rc != SQLITE_DONE)
		return sqlite_fail(c->db, rc, path, err);
	return 0;
}

static int
sqlite_delete(struct sqlite_conn *c, const char *path, struct tp_err *err)
{
	return sqlite_run_path(c, STMT_DELETE, path, err);
}

/* Sets the key columns of the document at path from its data. */
static int
sqlite_rekey(struct sqlite_conn *c, const char *path, struct tp_err *err)
{
	return sqlite_run_path(c, STMT_REKEY, path, err);
}

/*
 * Whether write w may change the key columns of its document: any set or
 * create in a keyed collection, a merge there only when its data names a
 * key field (a pulse's marks do not, so they leave the indexes alone).
 */
static bool
sqlite_rekeys(const struct store_write *w)
{
	const char *slash = strrchr(w->path, '/');
	size_t i;

	if (w->kind == STORE_W_DELETE ||
	    sqlite_keyed(w->path, (size_t)(slash - w->path)) ==
	    SQLITE_KEYED_NONE)
		return false;
	if (w->kind != STORE_W_MERGE)
		return true;
	for (i = 0; i < sizeof(sqlite_key_fields) /
	    sizeof(sqlite_key_fields[0]); i++)
		if (json_object_object_get_ex(w->data, sqlite_key_fields[i],
		    NULL))
			return true;
	return false;
}

static int
sqlite_apply(struct sqlite_conn *c, const struct store_write *w,
    const char *now, struct tp_err *err)
{
	int rc;

	switch (w->kind) {
	case STORE_W_SET:
		rc = sqlite_put(c, w->path, w->json, w->json_len, true, now,
		    err);
		break;
	case STORE_W_CREATE:
		rc = sqlite_put(c, w->path, w->json, w->json_len, false, now,
		    err);
		break;
	case STORE_W_MERGE:
		rc = sqlite_merge(c, w, now, err);
		break;
	case STORE_W_DELETE:
		return sqlite_delete(c, w->path, err);
	default:
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "unknown write kind");
	}
	if (rc == 0 && sqlite_rekeys(w))
		rc = sqlite_rekey(c, w->path, err);
	return rc;
}

/* Applies one batch's writes in order; err names the write that failed. */
static int
sqlite_apply_all(struct sqlite_conn *c, const struct store_write *w, size_t n,
    const char *now, struct tp_err *err)
{
	struct tp_err e;
	size_t i;

	for (i = 0; i < n; i++) {
		if (sqlite_apply(c, &w[i], now, &e) == -1) {
			if (n > 1)
				return tp_err_set(err, e.code, "batch write "
				    "%zu: %s", i, e.msg);
			return tp_err_set(err, e.code, "%s", e.msg);
		}
	}
	return 0;
}

static int
sqlite_commit(void *arg, const struct store_write *w, size_t n,
    const char *now, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	int rc = -1;

	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	pthread_mutex_lock(&be->wlock);
	/* IMMEDIATE takes the write lock now (waiting up to the busy
	 * timeout for other processes), so no statement inside fails busy */
	if (sqlite_run(c, STMT_BEGIN_WRITE, err) == -1)
		goto out;
	if (sqlite_apply_all(c, w, n, now, err) == -1) {
		sqlite_rollback(c);
		goto out;
	}
	if (sqlite_run(c, STMT_COMMIT, err) == -1) {
		sqlite_rollback(c);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&be->wlock);
	sqlite_release(be, c);
	return rc;
}

/*
 * Several batches in one transaction, each inside its own savepoint: a
 * batch that fails is rolled back alone, and the one commit (its WAL
 * frames, its checkpoint) is shared by all.
 */
static int
sqlite_commit_many(void *arg, const struct store_write *const *w,
    const size_t *n, size_t nb, const char *now, int *rcs,
    struct tp_err *errs, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	size_t b;
	int rc = -1;

	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	pthread_mutex_lock(&be->wlock);
	if (sqlite_run(c, STMT_BEGIN_WRITE, err) == -1)
		goto out;
	for (b = 0; b < nb; b++) {
		if (w[b] == NULL)	/* refused by store.c already */
			continue;
		if (sqlite_run(c, STMT_SAVEPOINT, err) == -1) {
			sqlite_rollback(c);
			goto out;
		}
		rcs[b] = sqlite_apply_all(c, w[b], n[b], now, &errs[b]);
		if ((rcs[b] == -1 && sqlite_run(c, STMT_ROLLBACK_TO,
		    err) == -1) || sqlite_run(c, STMT_RELEASE, err) == -1) {
			sqlite_rollback(c);
			goto out;
		}
	}
	if (sqlite_run(c, STMT_COMMIT, err) == -1) {
		sqlite_rollback(c);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&be->wlock);
	sqlite_release(be, c);
	return rc;
}

int
store_sqlite_query_sql(const struct store_query *q, char *buf, size_t size,
    struct tp_err *err)
{
	const char *dir = q->order == STORE_ORDER_DESC ? "DESC" : "ASC";
	const char *wf = q->where_field, *of = q->order_field;
	char wv[PATH_MAX_LEN + 32], ov[PATH_MAX_LEN + 32];
	enum sqlite_keyed keyed;
	size_t off = 0;
	int n;

/* appends to buf, failing when it is full */
#define SQL_ADD(...) do {						\
	n = snprintf(buf + off, size - off, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= size - off)				\
		return tp_err_set(err, TP_INTERNAL, "query too long");	\
	off += (size_t)n;						\
} while (0)

	if (size == 0)
		return tp_err_set(err, TP_INTERNAL, "no query buffer");
	buf[0] = '\0';
	keyed = sqlite_keyed(q->collection, strlen(q->collection));
	if ((wf != NULL && sqlite_field_value(keyed, wf, wv, sizeof(wv)) ==
	    -1) || (of != NULL && sqlite_field_value(keyed, of, ov,
	    sizeof(ov)) == -1))
		return tp_err_set(err, TP_INTERNAL, "query too long");
	SQL_ADD("SELECT path, data, update_time FROM docs WHERE parent = ?1");
	/* redundant for the rows, but the planner needs the very term of a
	 * partial index's WHERE to use the index */
	if (keyed == SQLITE_KEYED_TRADES)
		SQL_ADD(" AND " SQLITE_TRADES);
	else if (keyed == SQLITE_KEYED_SIGNALS)
		SQL_ADD(" AND " SQLITE_SIGNALS);
	if (q->start_after != NULL)
		SQL_ADD(" AND id %s ?2",
		    q->order == STORE_ORDER_DESC ? "<" : ">");
	/* field names were checked by path_check_field: [A-Za-z0-9_.] */
	if (wf != NULL) {
		switch (json_object_get_type(q->where_value)) {
		case json_type_null:
			SQL_ADD(" AND json_type(data, '$.%s') = 'null'", wf);
			break;
		case json_type_boolean:
			SQL_ADD(" AND %s = ?3"
			    " AND json_type(data, '$.%s') IN ('true', 'false')",
			    wv, wf);
			break;
		case json_type_int:
		case json_type_double:
			SQL_ADD(" AND %s = ?3"
			    " AND json_type(data, '$.%s') IN ('integer', 'real')",
			    wv, wf);
			break;
		case json_type_string:
			SQL_ADD(" AND %s = ?3"
			    " AND json_type(data, '$.%s') = 'text'", wv, wf);
			break;
		default:
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "query value must be a scalar");
		}
	}
	if (of != NULL)
		/* as in Firestore, ordering by a field skips documents
		 * that lack it */
		SQL_ADD(" AND json_type(data, '$.%s') IS NOT NULL"
		    " ORDER BY %s %s, id %s", of, ov, dir, dir);
	else
		SQL_ADD(" ORDER BY id %s", dir);
	SQL_ADD(" LIMIT ?4");
#undef SQL_ADD
	return 0;
}

static void
sqlite_bind_value(sqlite3_stmt *s, int idx, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		sqlite3_bind_int(s, idx, json_object_get_boolean(v) ? 1 : 0);
		break;
	case json_type_int:
		sqlite3_bind_int64(s, idx, json_object_get_int64(v));
		break;
	case json_type_double:
		sqlite3_bind_double(s, idx, json_object_get_double(v));
		break;
	case json_type_string:
		sqlite3_bind_text(s, idx, json_object_get_string(v),
		    json_object_get_string_len(v), SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(s, idx);
		break;
	}
}

static int
sqlite_query(void *arg, const struct store_query *q,
    struct store_doclist *out, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	sqlite3_stmt *s = NULL;
	json_object *data;
	const char *path, *text, *ut;
	char sql[1024];
	int rc, ret = -1;

	if (store_sqlite_query_sql(q, sql, sizeof(sql), err) == -1)
		return -1;
	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	if ((s = sqlite_query_stmt(c, sql, err)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, q->collection, -1, SQLITE_STATIC);
	if (q->start_after != NULL)
		sqlite3_bind_text(s, 2, q->start_after, -1, SQLITE_STATIC);
	if (q->where_field != NULL)
		sqlite_bind_value(s, 3, q->where_value);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)q->limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		path = (const char *)sqlite3_column_text(s, 0);
		text = (const char *)sqlite3_column_text(s, 1);
		ut = (const char *)sqlite3_column_text(s, 2);
		if (path == NULL) {
			tp_err_set(err, TP_INTERNAL, "row without a path");
			goto out;
		}
		if ((data = sqlite_parse(text, sqlite3_column_bytes(s, 1),
		    path, err)) == NULL)
			goto out;
		if (store_doclist_push(out, path, data, ut, err) == -1)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		sqlite_fail(c->db, rc, "query", err);
		goto out;
	}
	ret = 0;
out:
	if (s != NULL)		/* cached: reset for the next query */
		sqlite_done(s);
	sqlite_release(be, c);
	return ret;
}

static int
sqlite_list_tenants(void *arg, size_t limit, const char *start_after,
    char ***uids, size_t *n, struct tp_err *err)
{
	struct sqlite_be *be = arg;
	struct sqlite_conn *c;
	sqlite3_stmt *s;
	const char *uid, *cur = start_after != NULL ? start_after : "";
	char **v, *copy;
	size_t cap = 0;
	int rc, ret = -1;

	if ((c = sqlite_acquire(be, err)) == NULL)
		return -1;
	/* one read transaction: every probe sees the same snapshot */
	if (sqlite_run(c, STMT_BEGIN_READ, err) == -1 ||
	    (s = sqlite_stmt(c, STMT_TENANT_NEXT, err)) == NULL)
		goto out;
	while (*n < limit) {
		sqlite3_bind_text(s, 1, cur, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			sqlite_done(s);
			break;
		}
		if (rc != SQLITE_ROW) {
			sqlite_fail(c->db, rc, "list tenants", err);
			sqlite_done(s);
			goto out;
		}
		uid = (const char *)sqlite3_column_text(s, 0);
		copy = uid != NULL ? strdup(uid) : NULL;
		sqlite_done(s);
		if (copy == NULL) {
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((v = reallocarray(*uids, cap, sizeof(*v))) ==
			    NULL) {
				free(copy);
				tp_err_set(err, TP_RESOURCE_EXHAUSTED,
				    "out of memory");
				goto out;
			}
			*uids = v;
		}
		(*uids)[(*n)++] = copy;
		cur = copy;
	}
	ret = 0;
out:
	sqlite_rollback(c);
	sqlite_release(be, c);
	return ret;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.get = sqlite_get,
	.commit = sqlite_commit,
	.commit_many = sqlite_commit_many,
	.query = sqlite_query,
	.list_tenants = sqlite_list_tenants,
};
