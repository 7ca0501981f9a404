/* api.h: the job API's messages: one JSON request frame, one JSON reply frame. */
#ifndef TP_API_H
#define TP_API_H

/*
 * Transport: a ZeroMQ ROUTER socket in the daemon ([daemon] api, default
 * ipc:///run/tradepulse/api.sock in a folder only the daemon's user and
 * group can enter); clients use a DEALER (or REQ) socket. A request is one
 * frame holding one JSON object (after the empty delimiter frame for REQ
 * clients); the reply is one frame.
 *
 * Request:   {"op": "<name>", ...arguments..., "wait": bool?}
 * Success:   {"ok": true, "result": {...}}
 * Failure:   {"ok": false, "error": {"code": "<code>", "message": "..."}}
 *
 * Codes (error.h): invalid_argument (malformed JSON, missing or bad
 * argument, bad uid, unknown op), not_found, already_exists,
 * failed_precondition, permission_denied, unauthenticated,
 * resource_exhausted (request too large, queue full), unavailable (store
 * or daemon shutting down), internal.
 *
 * Operations (arguments -> result):
 *   status        {} -> {version, pid, started_at, uptime_ms, store:
 *                 {backend, pending}, api: {endpoint, in_flight, queue_max,
 *                 requests, errors}, key_version, workers: [], queue: 0,
 *                 throttled: false, last_pulse: doc|null}
 *   tenant.add    {uid, profile?: map} -> {uid, created_at}
 *                 already_exists if users/{uid} exists. Writes users/{uid}
 *                 {created_at, profile...} and status/trading {enabled:
 *                 true, updated_at, reason: "tenant added"} in one batch.
 *   tenant.list   {limit?: >= 1 (100; more than 500 is taken as 500),
 *                 after?: uid} ->
 *                 {tenants: [{uid, trading_enabled, keys_set, quarantined,
 *                  last_outcome: {result: "ok" | "error" | "quarantined",
 *                  code? (error), at}|null (never synced)}],
 *                  next: uid|null}   (next: pass as "after" for the next page)
 *                 Read in bulk: one store read per 200 tenants.
 *   tenant.show   {uid} -> {uid, created_at|null, profile|null,
 *                 trading: {enabled, reason, updated_at}|null,
 *                 keys: {set: bool, key_id_last4?, key_version?, updated_at?,
 *                       error?}  (key_id_last4: from the sealed key id,
 *                       opened by the daemon; error instead when the
 *                       sealed keys do not open, e.g. moved from another
 *                       tenant),
 *                 last_sync_error: doc|null, quarantine: doc|null,
 *                 snapshot: doc|null, trades: {open, more, marked,
 *                 errors, unrealized_pnl: "decimal"|null}}
 *                 trades: the OPEN shadow trades (at most 10000 looked
 *                 at; more: there are others), those the last sync
 *                 marked and could not mark (pnl_error), and the sum of
 *                 their unrealized P&L.
 *                 not_found when the tenant has no document at all.
 *   keys.set      {uid, key_id, secret} -> {uid, key_id_last4, key_version}
 *                 not_found when users/{uid} does not exist. The secret is
 *                 never logged, echoed or stored in clear.
 *   keys.rotate   {} -> {key_version, resealed, tenants}
 *                 adds a new master key version and re-encrypts every
 *                 tenant secret under it.
 *   trading.set   {uid, enabled: bool, reason?: string} ->
 *                 {uid, enabled, reason, updated_at}
 *   sync          {uid, wait?: bool} -> {job_id, uid, state, ...job}
 *                 Queues a sync job for one tenant (run by a sandboxed
 *                 worker). not_found: no tenant; failed_precondition: no
 *                 keys, trading disabled, or quarantined (the message
 *                 names the quarantine and how to release it);
 *                 resource_exhausted: job queue full. With wait, the reply
 *                 comes when the job has ended, with the job as for "job".
 *   job           {id} -> {job_id, uid, kind, state: "queued" | "running"
 *                 | "done" | "failed", attempts, created_at, ended_at|null,
 *                 result: map|null, error: {code, message}|null,
 *                 crash_id: str|null, alone: bool (re-run in a batch of
 *                 one after a crash), retry_of: job id|null, retried_by:
 *                 job id|null (a job failed for a rejected result is
 *                 re-run as a new job: follow retried_by)}
 *                 not_found for an unknown or expired job id.
 *   tenant.release {uid} -> {uid, released: bool}
 *                 Ends a quarantine: deletes users/{uid}/status/quarantine
 *                 and clears the tenant's strikes.
 *   pulse         {wait?: bool} -> {pulse_id, started: bool, ...pulse}
 *                 Starts a pulse now (started: true), or answers with the
 *                 one already running (started: false): pulses never
 *                 overlap. With wait, the reply comes when it has ended,
 *                 with its ops/last_pulse figures. unavailable while the
 *                 daemon stops.
 *   pulse.status  {} -> {running: pulse|null, last: pulse|null}
 *                 pulse: {pulse_id, trigger: "api" | "schedule", phase:
 *                 "planning" | "prices" | "syncing" | "writing" | "done",
 *                 started_at, finished_at?, duration_ms|elapsed_ms,
 *                 users_total, to_sync, ended, synced, errors, failed:
 *                 [{uid, code: an error code, or "quarantined" or
 *                 "interrupted"}] (the first 20 of the errors), crashed,
 *                 quarantined, skipped_disabled, skipped_no_keys,
 *                 skipped_quarantined, interrupted, prices: {source:
 *                 "data_key" | "per_tenant", symbols, found, error?},
 *                 requests: {account, trades_latest, prices, retries}}
 *   trades.list   {uid, open?: bool, limit?: 1..100 (100)} ->
 *                 {uid, trades: [{id, symbol, side, qty, entry_price,
 *                 status, created_at, and when present signal_id,
 *                 current_price, unrealized_pnl, pnl_percent, marked_at,
 *                 take_profit_price, stop_loss_price, exit_price,
 *                 realized_pnl, closed_at, close_reason, pnl_error (its
 *                 message)}]}: users/{uid}/shadowTradeHistory by
 *                 created_at, newest first (a trade without created_at
 *                 is not listed); open: status OPEN only. not_found
 *                 when the tenant has no document.
 *   status        adds: pulse: {running, last} as pulse.status;
 *                 workers: [{pid, generation, uptime_ms, state,
 *                 jobs_sent, jobs_done, batch, rss_kb}], jobs: {queued,
 *                 running, committing, done, failed, submitted, kept,
 *                 tenants_with_strikes, quarantines, security_events},
 *                 spawn_ms: {n, median, p99, max} (fork to HELLO over the
 *                 last 1024 spawns), queue (jobs waiting),
 *                 running (jobs in workers), throttled: bool,
 *                 throttle_reason, retry_ms, crashes (total),
 *                 startup_failures, restarts, spawns,
 *                 worker_peak_rss_kb (the largest VmHWM of a worker,
 *                 taken as its batch ended), recent_crashes: [{id, at,
 *                 pid, signal|exit_code, syscall, uids}] (newest first,
 *                 at most 10).
 *   migrate.legacy {uid, dry_run?: bool} -> {uid, dry_run, kinds:
 *                 {account_snapshot, data_snapshot, signals, shadow_trades:
 *                 {from, to, legacy, copied, skipped_existing, differing,
 *                 failed}}, copied, skipped_existing, differing, failed
 *                 (the sums), errors: ["PATH: message", at most 5]}
 *                 Copies alpacaAccounts/snapshot to users/{uid}/
 *                 alpacaAccounts/snapshot and users/{uid}/data/snapshot,
 *                 tradingSignals/{id} to users/{uid}/signals/{id} and
 *                 shadowTradeHistory/{id} to users/{uid}/
 *                 shadowTradeHistory/{id}, data unchanged. A target that
 *                 exists is never written (skipped_existing; differing:
 *                 those whose data is not the legacy one); the legacy
 *                 documents are only read. dry_run writes nothing and
 *                 counts what would be copied. not_found when the tenant
 *                 has no document; resource_exhausted while another
 *                 migration runs. docs/migration.md.
 *   signal        {uid, symbol, wait?: bool (true)} -> {id, symbol,
 *                 action: "BUY" | "SELL" | "HOLD", confidence, reasoning,
 *                 price, indicators: {sma_fast, sma_slow, rsi}, strategy,
 *                 parameters: {fast, slow, rsi_period, bars}, bar_at,
 *                 job_id, timestamp}: the signal written to
 *                 users/{uid}/signals/{id} (docs/strategy.md), once the
 *                 job has ended. With wait false, the job at once (as
 *                 "job" shows it; its result is the signal). invalid_
 *                 argument: a bad uid or symbol (as the P&L's symbols);
 *                 not_found: no tenant; failed_precondition: no keys,
 *                 quarantined, or too few daily bars; a failed job's
 *                 error otherwise (the message names the job). A tenant
 *                 whose trading is disabled gets a signal too.
 *   signals.list  {uid, limit?: 1..100 (100)} -> {uid, signals: [signal
 *                 with its id, ...]}: newest first by timestamp.
 *                 not_found: no tenant.
 *   logs          {uid, n?: 1..1000 (50), since?: RFC 3339 timestamp or a
 *                 duration before now ("90s", "10m", "2h", "7d"), level?:
 *                 "debug" | "info" | "warn" | "error" (that level and
 *                 above), job?: job id, after?: cursor} -> {uid, lines:
 *                 [{time, level (lower case), job|null, event, message}]
 *                 oldest first, cursor, truncated: bool, malformed: lines
 *                 that did not parse}
 *                 The tenant's log (<log_dir>/tenants/UID.log and its
 *                 rotated files .1 ...): without after, the last n lines
 *                 that pass the filters; with after (a previous reply's
 *                 cursor), the lines written since, across rotations, for
 *                 a follower (n ignored). A request reads at most 4 MiB
 *                 of the files and returns at most ~224 KiB of lines:
 *                 truncated says the bounds left lines out (a follower's
 *                 next call goes on where this one stopped). not_found:
 *                 no tenant (checked without after only). Operators only.
 *   crashes       {uid?, limit?: 1..100 (20)} -> {uid|null, crashes: [{id,
 *                 at, pid, signal|exit_code, core, syscall, uptime_ms,
 *                 reason, startup, batch, uids, jobs: [{job_id, uid}],
 *                 culprit?: {uid, job_id}, stderr_tail}], scanned,
 *                 truncated: the reply's size bound (~224 KiB) left
 *                 reports out}
 *                 The crash reports (ops/crashes/reports), newest first;
 *                 with uid, those naming the tenant among the newest 500
 *                 (scanned says how many were looked at). not_found: no
 *                 tenant.
 *   pause         {reason?: string (at most 256 bytes)} -> {paused:
 *                 {since, reason, by}, changed: bool, warning?}
 *                 The operator's big red button (supervisor/pause.h):
 *                 from now on pulse, sync and signal (and a pulse's
 *                 syncs) fail with failed_precondition "paused since
 *                 TIME by WHO: REASON ..."; queued jobs fail the same
 *                 way; running ones get 5 s, then their workers are
 *                 killed (the jobs end unavailable "interrupted:
 *                 tradepulsed paused", no strike). Kept in
 *                 <state_dir>/paused across restarts. A second pause
 *                 keeps the first (changed: false). warning: the file
 *                 could not be written (the pause ends with the run).
 *                 Operators only: refused to users and CURVE services.
 *   resume        {} -> {changed: bool, was: {since, reason, by}|null}
 *   status        adds: paused: {since, reason, by}|null; events: {sent,
 *                 dropped}|null ([daemon] events off).
 * Events ([daemon] events, a ZeroMQ PUB): docs/events.md.
 */

#define API_VERSION 1

/* Bounds on arguments. */
#define API_KEY_ID_MAX   128
#define API_SECRET_MAX   128
#define API_REASON_MAX   256
#define API_PROFILE_MAX  (16 * 1024)
#define API_LIST_DEFAULT 100
#define API_LIST_MAX     500	/* a larger limit is capped: page with next */

/* A reply larger than this is not sent (the client gets `internal`): the
 * bound on what one queued reply may hold. */
#define API_REPLY_MAX (256 * 1024)

/* Frames larger than this are dropped by ZeroMQ itself (the peer is
 * disconnected); frames between [daemon] api_max_request and this get a
 * resource_exhausted reply. */
#define API_HARD_MAX_FRAME (16 * 1024 * 1024)

/* Operation names. */
#define API_OP_STATUS      "status"
#define API_OP_TENANT_ADD  "tenant.add"
#define API_OP_TENANT_LIST "tenant.list"
#define API_OP_TENANT_SHOW "tenant.show"
#define API_OP_KEYS_SET    "keys.set"
#define API_OP_KEYS_ROTATE "keys.rotate"
#define API_OP_TRADING_SET "trading.set"
#define API_OP_SYNC        "sync"
#define API_OP_JOB         "job"
#define API_OP_TENANT_RELEASE "tenant.release"
#define API_OP_PULSE       "pulse"
#define API_OP_PULSE_STATUS "pulse.status"
#define API_OP_MIGRATE_LEGACY "migrate.legacy"
#define API_OP_TRADES_LIST "trades.list"
#define API_OP_SIGNAL      "signal"
#define API_OP_SIGNALS_LIST "signals.list"
#define API_OP_LOGS        "logs"
#define API_OP_CRASHES     "crashes"
#define API_OP_PAUSE       "pause"
#define API_OP_RESUME      "resume"

#endif
