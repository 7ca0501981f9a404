/* router.h: a ROUTER socket bound on a private ipc socket (the job API, the worker channel), in the daemon's one ZeroMQ context. */
#ifndef TP_SUPERVISOR_ROUTER_H
#define TP_SUPERVISOR_ROUTER_H

#include <sys/types.h>

#include <stddef.h>

#include "common/error.h"

/* One socket option: zmq_setsockopt's arguments and a name for errors. */
struct router_opt {
	int		 opt;
	const void	*val;
	size_t		 len;
	const char	*name;		/* "ZMQ_LINGER" */
};

/* How the folder of an ipc socket is made private. */
enum router_dir {
	ROUTER_DIR_CHECKED,	/* made with dir_mode if missing, else the
				   operator's: refused if others can enter it */
	ROUTER_DIR_OWNED,	/* the daemon's own: made with dir_mode, owned
				   by its user, tightened to dir_mode */
};

struct router_params {
	const char		*what;		/* "api socket": for errors */
	enum router_dir		 dir;
	mode_t			 dir_mode;
	mode_t			 sock_mode;	/* of the socket file, after the bind */
	const struct router_opt	*opts;
	size_t			 nopts;
	/* Called after the options, before the bind (the API's connection
	 * monitor counts from the first connection); may be NULL. */
	int			(*before_bind)(void *sock, void *arg,
				    struct tp_err *err);
	void			*arg;
	int			 type;		/* 0: ZMQ_ROUTER; ZMQ_PUB for the
						   event feed */
};

struct router {
	void		*sock;		/* the ROUTER */
	int		 fd;		/* its ZMQ_FD, edge-triggered */
	char		*path;		/* the ipc socket file we bound, or NULL */
};

/*
 * Opens a ROUTER of zctx on endpoint. For ipc://PATH (not an abstract
 * @name) the folder is made private first, a stale socket file is
 * removed, a live one (another daemon) refused, and the file gets
 * sock_mode after the bind. On failure r keeps what was made: the caller
 * calls router_close (it may have attached a monitor in before_bind).
 */
int	router_open(struct router *r, void *zctx, const char *endpoint,
	    const struct router_params *p, struct tp_err *err);
/* Closes the socket (LINGER applies) and removes the socket file unless
 * another daemon answers there now. The context is the daemon's to end. */
void	router_close(struct router *r);

#endif
