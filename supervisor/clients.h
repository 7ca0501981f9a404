/* clients.h: the job API's connections: counted, capped at max_clients, each with its requests in progress. */
#ifndef TP_SUPERVISOR_CLIENTS_H
#define TP_SUPERVISOR_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*
 * ZeroMQ accepts connections on its own I/O thread and gives a ROUTER
 * no cap on them; at the process's file descriptor limit libzmq 4.3
 * asserts in accept (EMFILE) and the daemon dies. So a thread of ours
 * follows the socket's monitor (ZMQ_EVENT_ACCEPTED, _DISCONNECTED) and
 * keeps the connections at max_clients: past it, the connection idle
 * the longest (no request in progress) is shut down (shutdown(2) only:
 * ZeroMQ still owns the descriptor and closes it), or, when none is
 * idle, the newest. The other threads of the daemon use a reserve of
 * descriptors that the cap leaves free.
 *
 * A request is tied to its connection by the descriptor it came from
 * (ZMQ_SRCFD) and the connection's serial, since descriptor numbers are
 * reused.
 */

struct clients;

struct clients_stats {
	size_t		current;	/* connections open now */
	size_t		peak;
	size_t		max;		/* the cap in force */
	uint64_t	accepted;
	uint64_t	evicted;	/* shut down to make room */
	uint64_t	left;		/* disconnects since clients_take_left */
};

/* Starts following sock (a bound or about to be bound ROUTER of zctx)
 * whose ipc path is path (NULL: abstract or not ipc: no path check). */
struct clients	*clients_open(void *zctx, void *sock, const char *path,
		    size_t max, struct tp_err *err);
/* A tcp:// api: its connections are those accepted on port. */
void		 clients_set_tcp_port(struct clients *c, unsigned port);
/* Stops the thread; sock must still be open. */
void		 clients_close(struct clients *c);

/* The serial of the connection on descriptor fd (from ZMQ_SRCFD), or 0
 * when it is not known (yet): then its requests are not limited. */
uint64_t	 clients_serial(struct clients *c, int fd);
/*
 * A request of that connection is to be worked on: 0, or -1 with err
 * when the connection already has max_inflight requests in progress or
 * their charges would pass max_bytes.
 */
int		 clients_begin(struct clients *c, int fd, uint64_t serial,
		    size_t bytes, size_t max_inflight, size_t max_bytes,
		    struct tp_err *err);
/* The request begun with (fd, serial, bytes) was answered. */
void		 clients_end(struct clients *c, int fd, uint64_t serial,
		    size_t bytes);
/* A reply to (fd, serial) could not be queued: the client does not read.
 * clients_stalled tells it for its next request; a reply that goes
 * through again clears it. */
void		 clients_set_stalled(struct clients *c, int fd,
		    uint64_t serial, bool stalled);
bool		 clients_stalled(struct clients *c, int fd, uint64_t serial);
void		 clients_get_stats(struct clients *c, struct clients_stats *st);
/* Disconnects since the last call (for giving memory back). */
uint64_t	 clients_take_left(struct clients *c);

#endif
