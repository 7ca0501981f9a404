/* main_int.h: between the pieces of the worker's process: main.c, token.c, chan.c, conf.c and loop.c. */
#ifndef TP_WORKER_MAIN_INT_H
#define TP_WORKER_MAIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/wire.h"
#include "worker/worker.h"

/* token.c */
/* The token, then the session key, both read from fd 3 before the
 * sandbox; 0 or -1 (err says why). */
int token_read(struct tp_err *err);
/* Wipes the token and the session key: at every exit. */
void token_wipe(void);
/* The token in hex for the HELLO (size >= WIRE_TOKEN_BYTES * 2 + 1),
 * wiped here: it is sent once. */
void token_hex(char *hex, size_t size);
/* The session key the JOBs' keys are sealed under (SEALBOX_KEY_BYTES). */
const uint8_t *token_session_key(void);

/* chan.c */
/* How reading the channel went. */
enum chan_rx {
	CHAN_RX_NONE,		/* nothing waiting */
	CHAN_RX_SKIP,		/* a message was dropped; read on */
	CHAN_RX_MSG,		/* a checked message of our generation */
	CHAN_RX_FAIL,		/* the channel is broken */
};
/* The DEALER to the supervisor and its monitor, connecting. */
int chan_open(struct worker *w, struct tp_err *err);
/* Waits (bounded) until connected: before the privilege drop. */
int chan_wait_connected(struct worker *w, struct tp_err *err);
/* Bounds every send and receive on the channel to ms. */
int chan_timeouts(struct worker *w, int ms);
/* Drains the monitor; -1 when the channel is gone. */
int chan_monitor(struct worker *w, bool *connected);
/* Reads one message without waiting. */
enum chan_rx chan_recv(struct worker *w, struct wire_msg *m);
/* Sends one message; the encoded buffer is wiped when ZeroMQ is done. A
 * failure to send means the channel is broken: the caller exits 1. */
int chan_send(struct worker *w, enum wire_type type, json_object *payload,
    struct tp_err *err);
int chan_hello(struct worker *w, struct tp_err *err);
/* One LOG line of a job (job_id NULL: of the worker); never a secret. */
void chan_log(struct worker *w, const char *job_id, const char *level,
    const char *event, const char *message);
void chan_heartbeat(struct worker *w);
/* Closes the sockets and the ZeroMQ context. */
void chan_close(struct worker *w);

/* conf.c */
/* Waits (bounded) for the CONFIG that answers a good HELLO. Returns the
 * exit status to end with, or -1 to go on. */
int conf_wait(struct worker *w);
/* The Alpaca client of every job, from CONFIG. */
int conf_alpaca(struct worker *w, struct tp_err *err);

/* loop.c */
/* The job loop, until SHUTDOWN, max_jobs or a lost channel: the exit
 * status. */
int loop_run(struct worker *w);
/* Frees every job, wiping its keys. */
void loop_wipe_jobs(struct worker *w);

#endif
