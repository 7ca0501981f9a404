/* events.h: the event feed: a ZeroMQ PUB on [daemon] events, topics "tenant.<uid>" and "ops", one JSON body each. */
#ifndef TP_SUPERVISOR_EVENTS_H
#define TP_SUPERVISOR_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * Each event is two frames: the topic ("ops", or "tenant." and the uid)
 * and one JSON object, {"type", "at", "seq", "uid" (tenant topics), ...}
 * (docs/events.md has every type). ZeroMQ matches subscriptions by
 * prefix, so a subscriber to "tenant.al" also gets "tenant.alice": a
 * reader wanting one tenant compares the topic frame whole.
 *
 * Publishing never blocks the loop: a slow or absent subscriber loses
 * events (ZMQ_SNDHWM, ZMQ_DONTWAIT), counted in `dropped`. No event
 * carries a secret: bodies are built from what the API already shows.
 * Every function takes a NULL feed ([daemon] events empty: off) and
 * does nothing then; the body passed is always consumed.
 */

#define EVENTS_TOPIC_OPS	"ops"
#define EVENTS_TOPIC_TENANT	"tenant."
#define EVENTS_HWM		1000	/* events queued per subscriber */
#define EVENTS_BODY_MAX		(64 * 1024)	/* larger ones are dropped */

struct events;
struct job;

/* Binds endpoint in zctx; the ipc socket file is 0660 in a folder like
 * the api socket's. "" : a feed without a socket, for the in-process
 * listeners alone (events_status is NULL for it: the feed is off). */
int	 events_open(void *zctx, const char *endpoint, struct events **out,
	    struct tp_err *err);
/* Closes the socket (before the context ends) and removes its file. */
void	 events_close(struct events *ev);
/* Publishes type with body's fields (body may be NULL; consumed). */
void	 events_ops(struct events *ev, const char *type, json_object *body);
void	 events_tenant(struct events *ev, const char *uid, const char *type,
	    json_object *body);
/*
 * An in-process listener (the HTTP user API's event stream): called on
 * the loop, after the socket's send, with every tenant event: the uid,
 * its type and seq, and the whole body as compact JSON text (valid only
 * during the call). At most EVENTS_LISTENERS; -1 when full.
 */
#define EVENTS_LISTENERS	4
typedef void (*events_listen_fn)(void *arg, const char *uid,
    const char *type, uint64_t seq, const char *json, size_t len);
int	 events_listen(struct events *ev, events_listen_fn fn, void *arg);
void	 events_unlisten(struct events *ev, events_listen_fn fn, void *arg);
/* Counters for status: sent, dropped. */
json_object *events_status(const struct events *ev);

/* events_job.c: the events of the job layer's facts. */
/* A job's result committed (err NULL) or failed: snapshot, signal and
 * trade events, or error. */
void	 events_job_ended(struct events *ev, const struct job *job,
	    const struct tp_err *err);
/* The tenant of job was struck for a worker's death (or a security
 * event): its crash event. Tenants whose jobs were re-run without a
 * strike (others' crash) get none: it was not theirs. */
void	 events_crash(struct events *ev, const struct job *job,
	    const char *crash_id, const char *what, unsigned strikes);
void	 events_quarantine(struct events *ev, const char *uid,
	    const char *crash_id, unsigned strikes, const char *reason);

#endif
