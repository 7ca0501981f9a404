/* keys.h: keys.set and keys.rotate, and the gate that keeps them apart. */
#ifndef TP_KEYS_H
#define TP_KEYS_H

#include "common/error.h"

struct api_req;
struct daemon;

/*
 * A rotation re-encrypts every users/{uid}/secrets/alpaca document by
 * read-then-write; a keys.set running at the same time could be
 * overwritten with the older credentials. The gate lets keys.set requests
 * run together, but a rotation only alone: requests that arrive while one
 * is waiting or running queue behind it, in order.
 */
struct keys_gate	*keys_gate_new(struct tp_err *err);
void			 keys_gate_free(struct keys_gate *g);
/* At shutdown: answers `unavailable` to the requests still queued. */
void			 keys_gate_stop(struct daemon *d);
/* When the daemon stops waiting: a running rotation stops after the
 * tenant it is on (what is done stays valid: old key versions are kept),
 * so the exit is not held up by a long re-encryption. */
void			 keys_gate_cancel(struct daemon *d);

int	keys_set_start(struct api_req *req, struct tp_err *err);
int	keys_rotate_start(struct api_req *req, struct tp_err *err);

#endif
