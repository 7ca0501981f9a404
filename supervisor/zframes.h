/* zframes.h: receiving one multipart ZeroMQ message into a bounded set of frames. */
#ifndef TP_SUPERVISOR_ZFRAMES_H
#define TP_SUPERVISOR_ZFRAMES_H

#include <stdbool.h>
#include <stddef.h>

#include <zmq.h>

/*
 * Receives the first max frames of the next message into f and counts them
 * in *nf; frames past max are received, wiped and dropped (*extra set).
 * Returns 0 when nothing was waiting (nothing to close), 1 when a whole
 * message was read, -1 when a receive failed part-way (logged, prefixed
 * with what). In both of the last cases the caller closes f[0 .. *nf).
 */
int	zframes_recv(void *sock, zmq_msg_t *f, size_t max, size_t *nf,
	    bool *extra, const char *what);
/* Wipes a frame (it may hold a secret or a tenant's data), then closes it. */
void	zframes_close(zmq_msg_t *m);

#endif
