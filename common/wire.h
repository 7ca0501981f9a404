/* wire.h: the worker channel: typed messages between tradepulsed and its workers. */
#ifndef TP_WIRE_H
#define TP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * Transport: the supervisor binds a ZeroMQ ROUTER socket on
 * ipc://<state_dir>/run/workers.sock (its folder 0700, owned by the
 * daemon); each worker connects a DEALER socket before it sandboxes itself,
 * with ZMQ_ROUTING_ID set to wire_routing_id(generation). One message = one
 * frame = a fixed binary header followed by a JSON object (the payload).
 *
 *   offset size
 *   0      4    magic "TPW1"
 *   4      2    version (WIRE_VERSION), big-endian
 *   6      2    type (enum wire_type), big-endian
 *   8      8    generation, big-endian: the spawn this message belongs to
 *   16     4    payload length, big-endian, <= wire_max_payload(type)
 *   20     ...  payload: one JSON object, exactly `length` bytes
 *
 * The generation is a number the supervisor gives each spawn (never
 * reused while the daemon runs); a message whose generation is not that of
 * a live worker on that connection is ignored, so a dead worker's late
 * messages cannot act for its successor. Everything a worker sends is
 * untrusted: wire_decode checks the header, the size bound of the type and
 * that the payload is a JSON object (depth-bounded), and the receiver
 * checks the payload's fields.
 *
 * Payloads (W = worker to supervisor, S = supervisor to worker):
 *   HELLO      W  {"pid": int, "token": hex string}
 *                 token = the per-spawn secret (WIRE_TOKEN_BYTES random
 *                 bytes, hex) that the supervisor wrote into the worker's
 *                 fd 3 pipe at spawn; compared in constant time. After
 *                 the token the pipe holds the worker's session key
 *                 (SEALBOX_KEY_BYTES random bytes, common/sealbox.h),
 *                 which never travels on this channel.
 *   CONFIG     S  {"max_jobs": int, "heartbeat_ms": int, "job_timeout_ms":
 *                 int, "resolve": ["host:port:address", ...],
 *                 "trading_url": str, "data_url": str,
 *                 "requests_per_minute": int}
 *                 sent once in reply to a good HELLO, before any JOB.
 *   JOB        S  {"job_id": str, "uid": str, "kind": "sync",
 *                 "deadline_ms": int, "keys_sealed": base64 str,
 *                 "trades": [{"id": str, "symbol", "side", "qty",
 *                             "entry_price"}, ...],
 *                 "prices": {"SYMBOL": "decimal", ...} (optional)}
 *                 keys_sealed: that tenant's key id and secret only,
 *                 sealed under the worker's session key (sealbox.h:
 *                 base64 of nonce || crypto_secretbox, at most
 *                 SEALBOX_TEXT_MAX - 1 characters): ZeroMQ keeps copies
 *                 of a message in buffers nobody wipes, so clear keys
 *                 never go through it. A JOB whose keys_sealed is absent,
 *                 not base64, of a wrong length or fails its MAC is
 *                 answered with an invalid_argument RESULT.
 *                 trades: the tenant's OPEN shadow trades (at most
 *                 WIRE_TRADES_MAX), their fields as stored, unchecked: the
 *                 worker checks them and fails a bad trade alone. prices:
 *                 present when the pulse fetched the latest prices once for
 *                 every tenant; a symbol missing from it has no price
 *                 (unknown). Absent, the worker fetches its symbols' prices
 *                 with the tenant's keys.
 *              S  {"job_id": str, "kind": "prices", "deadline_ms": int,
 *                 "keys_sealed": ..., "symbols": ["SYMBOL", ...]}
 *                 the pulse's one price fetch, with the operator's data key
 *                 ([alpaca] data_key_id); no uid: it belongs to no tenant.
 *              S  {"job_id": str, "uid": str, "kind": "signal",
 *                 "deadline_ms": int, "keys_sealed": ..., "symbol": str,
 *                 "bars": int, "fast": int, "slow": int, "rsi_period": int}
 *                 one tenant's signal on one symbol: the newest "bars"
 *                 daily bars and the strategy with those parameters
 *                 ([signals]; docs/strategy.md).
 *   JOB_BEGIN  W  {"job_id": str}   optional: for a worker that queues
 *                 jobs, when one starts; tradepulse-worker starts each job
 *                 as it arrives and does not send it
 *   RESULT     W  {"job_id": str, "ok": bool,
 *                 "error": {"code": str, "message": str} (when !ok),
 *                 "result": {...} (when ok: a summary; sync: key_id_last4,
 *                           equity, status, trades_marked, trades_failed,
 *                           unrealized_pnl, requests {kind: n}; prices:
 *                           prices {"SYMBOL": "decimal"}, requests),
 *                 "writes": [{"op": "set"|"merge"|"create"|"delete",
 *                             "path": str, "data": {...} | "data_from":
 *                             K (the data of earlier write K)}, ...],
 *                 "log": [{"level", "event", "message"}, ...] (optional),
 *                 "http": {class: n, "latency_ms": [n, ...], ...} (optional:
 *                 its Alpaca attempts, for the metrics)}
 *                 (each kind's payload in full: common/wire_result.h)
 *                 For "create", path is the collection path. "log": the
 *                 job's lines for its tenant's log (at most 200), written
 *                 as the job ends, with the supervisor's own line: one
 *                 message rather than one per line.
 *   LOG        W  {"job_id": str|null, "level": "debug"|"info"|"warn"|
 *                 "error", "event": str, "message": str}
 *                 a line at once: for the daemon's log (job_id null), or
 *                 for a job's tenant (a job's lines usually come with its
 *                 RESULT instead)
 *   HEARTBEAT  W  {"jobs": int}   (jobs in progress)
 *   SHUTDOWN   S  {"reason": str} finish nothing more; exit now.
 *
 * A worker exits by itself (status 0) after its batch is done and the
 * supervisor sent SHUTDOWN, or after max_jobs jobs.
 */

#define WIRE_MAGIC		"TPW1"
#define WIRE_VERSION		1
#define WIRE_HEADER_LEN		20
#define WIRE_TOKEN_BYTES	32
#define WIRE_TOKEN_FD		3	/* the pipe the token and the session
					   key are read from */
#define WIRE_JOB_ID_MAX		64

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_CONFIG,
	WIRE_JOB,
	WIRE_JOB_BEGIN,
	WIRE_RESULT,
	WIRE_LOG,
	WIRE_HEARTBEAT,
	WIRE_SHUTDOWN,
	WIRE_TYPE_MAX = WIRE_SHUTDOWN,
};

/* Size bounds of each type's payload, in bytes. */
#define WIRE_MAX_SMALL		4096		/* HELLO, JOB_BEGIN, HEARTBEAT, SHUTDOWN */
#define WIRE_MAX_LOG		8192
#define WIRE_MAX_CONFIG		65536
#define WIRE_MAX_JOB		(1024 * 1024)	/* a prices job's symbols */
#define WIRE_TRADES_MAX		500	/* open trades sent in one sync JOB */
#define WIRE_SYMBOLS_MAX	10000	/* symbols of one prices JOB */
#define WIRE_PRICES_MAX		10000	/* prices handed to one sync JOB */
/* A RESULT (common/wire_result.h) holds what a worker learned, every part
 * bounded: a prices job's 10,000 prices are its largest (under 1 MiB). */
#define WIRE_MAX_RESULT		(1024 * 1024)
#define WIRE_LOG_LINES_MAX	200	/* lines in a RESULT's "log" */
#define WIRE_LOG_EVENT_MAX	32
#define WIRE_LOG_MSG_MAX	1024
#define WIRE_ERR_CODE_MAX	32
#define WIRE_ERR_MSG_MAX	512	/* a job's or a trade's error message */
#define WIRE_TRADE_ID_MAX	128	/* a document id: one path segment */
#define WIRE_MARK_DIGITS	24	/* integer digits of a mark, at most */
#define WIRE_COUNT_MAX		1000000	/* a request counter */

struct wire_msg {
	enum wire_type	 type;
	uint64_t	 generation;
	json_object	*payload;	/* a map; owned by the message */
};

const char *wire_type_name(enum wire_type type);
size_t wire_max_payload(enum wire_type type);
/* The routing id a worker of this generation sets (8 bytes, big-endian
 * generation), so the supervisor can tell connections apart. */
void wire_routing_id(uint64_t generation, uint8_t id[8]);

/*
 * Encodes a message into a malloc'd buffer (*buf, *len). Fails with
 * TP_INVALID_ARGUMENT when the payload is not a map or exceeds the type's
 * bound. For a JOB carrying keys the caller wipes the buffer after sending
 * (wire_free_wiped).
 */
int wire_encode(enum wire_type type, uint64_t generation, json_object *payload,
    uint8_t **buf, size_t *len, struct tp_err *err);
void wire_free_wiped(uint8_t *buf, size_t len);
/* Decodes and checks one frame. On success m->payload is owned by m. */
int wire_decode(const uint8_t *buf, size_t len, struct wire_msg *m,
    struct tp_err *err);
void wire_msg_clear(struct wire_msg *m);

/* Payload checks shared by both ends: a job id is 1..WIRE_JOB_ID_MAX of
 * [A-Za-z0-9_-]. */
bool wire_valid_job_id(const char *s);

#endif
