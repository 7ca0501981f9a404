/* store_sqlite_int.h: what the SQLite backend's files share: its connection, pool and statement structures. */
#ifndef TP_STORE_SQLITE_INT_H
#define TP_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/error.h"
#include "common/store.h"
#include "common/store_backend.h"

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
 *
 * Version 3 adds docs_group_status for the pulse's group query of every
 * tenant's OPEN trades (store_query_group on shadowTradeHistory, status
 * ==, ordered by tenant and id): without it that query reads every
 * document of every tenant it passes, closed trades included.
 */
#define SQLITE_TRADES	"parent GLOB '*/shadowTradeHistory'"
#define SQLITE_SIGNALS	"parent GLOB '*/signals'"
#define SQLITE_KEYS_SET	"k_status = json_extract(data, '$.status'), " \
	"k_created_at = json_extract(data, '$.created_at'), " \
	"k_timestamp = json_extract(data, '$.timestamp')"

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
	atomic_uint_fast64_t requests;	/* primitive calls (store_requests) */
};

/* Which key columns a collection's documents keep (see the migrations). */
enum sqlite_keyed {
	SQLITE_KEYED_NONE,
	SQLITE_KEYED_TRADES,	/* SQLITE_TRADES */
	SQLITE_KEYED_SIGNALS,	/* SQLITE_SIGNALS */
};

/*
 * The SQL store_sqlite runs for a group query q (as the backend receives
 * it), for tests of its plan. Parameters: ?1 from_uid ("" for none), ?2
 * to_uid, ?3 where value, ?4 limit, ?5 collection_id, ?6 and ?7 the uid
 * and id of start_after.
 */
int store_sqlite_group_sql(const struct store_group_query *q, char *buf,
    size_t size, struct tp_err *err);

/* store_sqlite_conn.c, for store_sqlite.c: errors, statements, the pool,
 * open and close. */
int sqlite_fail(sqlite3 *db, int rc, const char *what, struct tp_err *err);
sqlite3_stmt *sqlite_stmt(struct sqlite_conn *c, enum sqlite_stmt_id id,
    struct tp_err *err);
void sqlite_done(sqlite3_stmt *s);
int sqlite_run(struct sqlite_conn *c, enum sqlite_stmt_id id,
    struct tp_err *err);
void sqlite_rollback(struct sqlite_conn *c);
sqlite3_stmt *sqlite_query_stmt(struct sqlite_conn *c, const char *sql,
    struct tp_err *err);
struct sqlite_conn *sqlite_acquire(struct sqlite_be *be, struct tp_err *err);
void sqlite_release(struct sqlite_be *be, struct sqlite_conn *c);
void sqlite_close(void *arg);
int sqlite_open(const struct store_params *params, int threads, void **out,
    struct tp_err *err);

#endif
