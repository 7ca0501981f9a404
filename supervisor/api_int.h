/* api_int.h: the job API's state, shared by api.c (requests, replies, routing) and api_open.c (the socket). */
#ifndef TP_API_INT_H
#define TP_API_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "supervisor/api.h"
#include "supervisor/router.h"

struct clients;
struct daemon;
struct zap;

#define API_BURST	64	/* requests read per wake-up before yielding */
#define API_LINGER_MS	500	/* how long replies may still drain at close */
#define API_HANDSHAKE_MS 5000	/* a connection that says nothing is closed */
#define API_HWM_MAX	64	/* messages queued per peer, at most */
#define API_REQ_COST	4096	/* a request's own memory besides its text */
#define API_REQ_FACTOR	4	/* its parsed tree against its text */
#define API_CLIENT_INFLIGHT 32	/* requests in progress per connection */
#define API_TRIM_MS	2000	/* memory goes back this long after clients left */
#define API_NAME_SHOWN	64	/* bytes of a client-supplied name we echo */

struct api {
	struct daemon		*d;
	void			*zctx;		/* the daemon's */
	struct router		 rt;		/* the socket */
	struct event		*ev;
	struct event		*ev_trim;
	struct clients		*clients;
	struct zap		*zap;		/* tcp:// only: CURVE's allowlist */
	char			*endpoint;
	TAILQ_HEAD(, api_req)	 reqs;		/* not yet answered */
	size_t			 in_flight;
	size_t			 bytes;		/* charged by requests in progress */
	size_t			 max_clients;	/* the cap in force */
	size_t			 reply_budget;	/* for queued replies, all peers */
	int			 sndhwm, rcvhwm;
	uint64_t		 replies_dropped; /* a peer that does not read */
	uint64_t		 requests;
	uint64_t		 errors;
	bool			 stopping;
	void			(*idle)(void *);	/* told when stopping and */
	void			*idle_arg;		/* nothing is in progress */
};

/* api.c: the socket has something to read. */
void	api_readable(evutil_socket_t fd, short what, void *arg);

#endif
