/* storebench.c: the SQLite store's write path as a pulse drives it: per-tenant batches of 9 writes, committed 256 batches at a time. */
#include <config.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/jsonutil.h"
#include "common/store.h"

/*
 * Usage: bench/storebench [-n TENANTS] [-g GROUP] [-t TRADES] [-r ROUNDS]
 *            [-d DIR] [-f]
 *
 * Seeds a new database in a temporary folder under DIR (default $TMPDIR or
 * /tmp) with TENANTS tenants (default 10000), each with TRADES open shadow
 * trades (default 5), an account snapshot in data/ and alpacaAccounts/,
 * status docs and a few signals. Then, ROUNDS times (default 3), builds
 * one batch per tenant as a pulse's results give them (merges of
 * data/snapshot, alpacaAccounts/snapshot, status/last_sync and of each
 * trade's marks, and the delete of status/last_sync_error) and commits
 * them with store_batch_commit_many, GROUP batches at a time (default
 * 256), on this thread: the writer. Building the batches is not timed.
 * -f opens the store with synchronous=FULL. Prints one JSON line a round:
 * wall and writer-CPU milliseconds per 1000 batches. Exit status 1 when a
 * batch failed.
 */

#define BENCH_ACCOUNT \
	"{\"id\":\"8f1c2a6e-4b8d-4f3e-9a51-%06d\",\"account_number\":" \
	"\"PA3%06d\",\"status\":\"ACTIVE\",\"currency\":\"USD\"," \
	"\"cash\":\"%d.27\",\"equity\":\"%d.09751111286868\"," \
	"\"last_equity\":\"99012.11\",\"buying_power\":\"198024.22\"," \
	"\"portfolio_value\":\"100211.50\",\"long_market_value\":\"1200.25\"," \
	"\"short_market_value\":\"-20.0020\",\"initial_margin\":\"600.12\"," \
	"\"maintenance_margin\":\"360.07\",\"daytrade_count\":%d," \
	"\"pattern_day_trader\":false,\"trading_blocked\":false," \
	"\"account_blocked\":false,\"created_at\":" \
	"\"2024-03-01T14:02:11.123456Z\",\"synced_at\":\"%s\"}"

struct bench {
	struct store *st;
	int tenants, group, trades, rounds;
};

static double
bench_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static json_object *
bench_json(const char *text)
{
	struct tp_err err;
	json_object *o;

	if ((o = json_parse(text, strlen(text), &err)) == NULL) {
		fprintf(stderr, "storebench: bad JSON %s: %s\n", text, err.msg);
		exit(2);
	}
	return o;
}

static void
bench_add(struct store_batch *b, enum store_write_kind kind,
    const char *path, const char *text)
{
	json_object *o = text != NULL ? bench_json(text) : NULL;

	store_batch_add_ref(b, kind, path, o);
	json_object_put(o);
}

/* Commits the batches group by group; returns the failures. */
static size_t
bench_commit(struct bench *bn, struct store_batch **b, size_t nb)
{
	struct tp_err *errs;
	size_t i, k, n, failed = 0;
	int *rcs;

	rcs = calloc((size_t)bn->group, sizeof(*rcs));
	errs = calloc((size_t)bn->group, sizeof(*errs));
	if (rcs == NULL || errs == NULL) {
		fprintf(stderr, "storebench: out of memory\n");
		exit(2);
	}
	for (i = 0; i < nb; i += n) {
		n = nb - i < (size_t)bn->group ? nb - i : (size_t)bn->group;
		if (store_batch_commit_many(bn->st, b + i, n, rcs, errs) == -1) {
			fprintf(stderr, "storebench: commit: %s\n", errs[0].msg);
			exit(1);
		}
		for (k = 0; k < n; k++)
			if (rcs[k] == -1 && failed++ < 3)
				fprintf(stderr, "storebench: batch %zu: %s\n",
				    i + k, errs[k].msg);
	}
	free(errs);
	free(rcs);
	return failed;
}

static void
bench_seed(struct bench *bn)
{
	struct store_batch **b;
	char path[160], text[2048], ts[32];
	int u, t;

	store_timestamp(ts, sizeof(ts));
	if ((b = calloc((size_t)bn->tenants, sizeof(*b))) == NULL) {
		fprintf(stderr, "storebench: out of memory\n");
		exit(2);
	}
	for (u = 0; u < bn->tenants; u++) {
		b[u] = store_batch_new();
		snprintf(text, sizeof(text), BENCH_ACCOUNT, u, u, 1000 + u,
		    100000 + u, u % 4, ts);
		snprintf(path, sizeof(path), "users/bench%06d/data/snapshot",
		    u);
		bench_add(b[u], STORE_W_SET, path, text);
		snprintf(path, sizeof(path),
		    "users/bench%06d/alpacaAccounts/snapshot", u);
		bench_add(b[u], STORE_W_SET, path, text);
		snprintf(path, sizeof(path), "users/bench%06d/status/trading",
		    u);
		bench_add(b[u], STORE_W_SET, path, "{\"enabled\":true,"
		    "\"updated_at\":\"2024-03-01T14:02:11.123456Z\"}");
		snprintf(path, sizeof(path),
		    "users/bench%06d/status/last_sync_error", u);
		bench_add(b[u], STORE_W_SET, path, "{\"code\":\"unavailable\","
		    "\"message\":\"Alpaca did not answer GET /v2/account\","
		    "\"at\":\"2024-03-01T14:02:11.123456Z\",\"job_id\":\"j1\"}");
		snprintf(path, sizeof(path), "users/bench%06d/secrets/alpaca",
		    u);
		bench_add(b[u], STORE_W_SET, path, "{\"sealed\":{\"v\":1,"
		    "\"nonce\":\"bm9uY2Vub25jZW5vbmNlbm9uY2Vub25j\",\"ciphertext\":"
		    "\"Y2lwaGVydGV4dGNpcGhlcnRleHRjaXBoZXJ0ZXh0Y2lwaGVydGV4"
		    "dGNpcGhlcnRleHQ=\"},\"key_id\":\"PKTESTKEY0000000WXYZ\","
		    "\"updated_at\":\"2024-03-01T14:02:11.123456Z\"}");
		for (t = 0; t < bn->trades; t++) {
			snprintf(path, sizeof(path),
			    "users/bench%06d/shadowTradeHistory/trade%02d", u, t);
			snprintf(text, sizeof(text), "{\"symbol\":\"%s\","
			    "\"side\":\"%s\",\"qty\":%d,\"entry_price\":%d.25,"
			    "\"status\":\"OPEN\",\"created_at\":\"2024-03-%02dT"
			    "14:02:11.123456Z\",\"signal_id\":\"sig%d\","
			    "\"notes\":\"opened by the shadow strategy\"}",
			    t % 2 ? "AAPL" : "MSFT", t % 3 ? "long" : "short",
			    1 + t, 100 + t, 1 + t, t);
			bench_add(b[u], STORE_W_SET, path, text);
		}
		for (t = 0; t < 2; t++) {
			snprintf(path, sizeof(path),
			    "users/bench%06d/signals/sig%d", u, t);
			snprintf(text, sizeof(text), "{\"symbol\":\"AAPL\","
			    "\"action\":\"buy\",\"confidence\":0.73,"
			    "\"timestamp\":\"2024-03-%02dT14:02:11.123456Z\"}",
			    1 + t);
			bench_add(b[u], STORE_W_SET, path, text);
		}
	}
	if (bench_commit(bn, b, (size_t)bn->tenants) > 0)
		exit(1);
	for (u = 0; u < bn->tenants; u++)
		store_batch_free(b[u]);
	free(b);
}

/* One pulse's batches: what results.c builds from the workers' writes. */
static struct store_batch **
bench_batches(struct bench *bn, int round)
{
	struct store_batch **b;
	char path[160], text[2048], ts[32];
	int u, t;

	store_timestamp(ts, sizeof(ts));
	if ((b = calloc((size_t)bn->tenants, sizeof(*b))) == NULL) {
		fprintf(stderr, "storebench: out of memory\n");
		exit(2);
	}
	for (u = 0; u < bn->tenants; u++) {
		b[u] = store_batch_new();
		snprintf(text, sizeof(text), BENCH_ACCOUNT, u, u,
		    1000 + u + round, 100000 + u + round, u % 4, ts);
		snprintf(path, sizeof(path), "users/bench%06d/data/snapshot",
		    u);
		bench_add(b[u], STORE_W_MERGE, path, text);
		snprintf(path, sizeof(path),
		    "users/bench%06d/alpacaAccounts/snapshot", u);
		bench_add(b[u], STORE_W_MERGE, path, text);
		snprintf(path, sizeof(path), "users/bench%06d/status/last_sync",
		    u);
		snprintf(text, sizeof(text), "{\"at\":\"%s\",\"job_id\":"
		    "\"job%06d-%d\",\"key_id_last4\":\"WXYZ\"}", ts, u, round);
		bench_add(b[u], STORE_W_MERGE, path, text);
		for (t = 0; t < bn->trades; t++) {
			snprintf(path, sizeof(path),
			    "users/bench%06d/shadowTradeHistory/trade%02d", u, t);
			snprintf(text, sizeof(text), "{\"current_price\":"
			    "%d.%02d,\"unrealized_pnl\":-%d.%02d,"
			    "\"pnl_percent\":-0.%04d,\"marked_at\":\"%s\","
			    "\"pnl_error\":null}", 370 + round, t,
			    20 + t, round % 100, 20 + t, ts);
			bench_add(b[u], STORE_W_MERGE, path, text);
		}
		snprintf(path, sizeof(path),
		    "users/bench%06d/status/last_sync_error", u);
		bench_add(b[u], STORE_W_DELETE, path, NULL);
	}
	return b;
}

/* The timed part, on its own so that a profiler can single it out
 * (valgrind --tool=callgrind --toggle-collect=bench_pulse). */
static __attribute__((noinline)) size_t
bench_pulse(struct bench *bn, struct store_batch **b)
{
	return bench_commit(bn, b, (size_t)bn->tenants);
}

static void
bench_usage(void)
{
	fprintf(stderr, "usage: storebench [-n TENANTS] [-g GROUP] "
	    "[-t TRADES] [-r ROUNDS] [-d DIR] [-f]\n");
	exit(2);
}

static int
bench_int(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		bench_usage();
	return (int)v;
}

int
main(int argc, char **argv)
{
	struct bench bn = { NULL, 10000, 256, 5, 3 };
	struct store_params p;
	struct store_batch **b;
	struct tp_err err;
	const char *dir = getenv("TMPDIR");
	char tmp[4096], db[4200], side[4300];
	double w0, c0, wall, cpu;
	size_t failed = 0;
	bool full = false;
	int ch, r, u;

	while ((ch = getopt(argc, argv, "n:g:t:r:d:f")) != -1) {
		switch (ch) {
		case 'n': bn.tenants = bench_int(optarg, 1, 1000000); break;
		case 'g': bn.group = bench_int(optarg, 1, 100000); break;
		case 't': bn.trades = bench_int(optarg, 0, 99); break;
		case 'r': bn.rounds = bench_int(optarg, 1, 1000); break;
		case 'd': dir = optarg; break;
		case 'f': full = true; break;
		default: bench_usage();
		}
	}
	if (optind != argc)
		bench_usage();
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/storebench-XXXXXX", dir) >=
	    sizeof(tmp) || mkdtemp(tmp) == NULL) {
		perror("storebench: mkdtemp");
		return 2;
	}
	snprintf(db, sizeof(db), "%s/store.db", tmp);
	memset(&p, 0, sizeof(p));
	p.backend = STORE_SQLITE;
	p.path = db;
	p.sync_full = full;
	p.threads = 1;
	if ((bn.st = store_open(&p, NULL, &err)) == NULL) {
		fprintf(stderr, "storebench: %s\n", err.msg);
		return 2;
	}
	w0 = bench_ms(CLOCK_MONOTONIC);
	bench_seed(&bn);
	fprintf(stderr, "storebench: seeded %d tenants in %.0f ms\n",
	    bn.tenants, bench_ms(CLOCK_MONOTONIC) - w0);
	for (r = 1; r <= bn.rounds; r++) {
		b = bench_batches(&bn, r);
		w0 = bench_ms(CLOCK_MONOTONIC);
		c0 = bench_ms(CLOCK_THREAD_CPUTIME_ID);
		failed += bench_pulse(&bn, b);
		wall = bench_ms(CLOCK_MONOTONIC) - w0;
		cpu = bench_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
		printf("{\"round\":%d,\"batches\":%d,\"writes_per_batch\":%d,"
		    "\"group\":%d,\"wall_ms\":%.1f,\"cpu_ms\":%.1f,"
		    "\"wall_ms_per_1000\":%.2f,\"cpu_ms_per_1000\":%.2f,"
		    "\"synchronous\":\"%s\"}\n", r, bn.tenants, 4 + bn.trades,
		    bn.group, wall, cpu, wall * 1000 / bn.tenants,
		    cpu * 1000 / bn.tenants, full ? "full" : "normal");
		fflush(stdout);
		for (u = 0; u < bn.tenants; u++)
			store_batch_free(b[u]);
		free(b);
	}
	store_free(bn.st);
	unlink(db);
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
	rmdir(tmp);
	return failed > 0 ? 1 : 0;
}
