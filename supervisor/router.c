/* router.c: the ROUTER-on-a-private-ipc-socket set-up shared by the job API and the worker channel. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "common/log.h"
#include "supervisor/daemon.h"
#include "supervisor/router.h"

/* The folder an ipc socket is made in, private per p->dir. */
static int
router_dir(const char *path, const struct router_params *p,
    struct tp_err *err)
{
	struct stat st;
	char dir[PATH_MAX];
	const char *slash;

	if ((slash = strrchr(path, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s path too long", p->what);
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);

	if (p->dir == ROUTER_DIR_CHECKED) {
		if (stat(dir, &st) == -1) {
			if (errno != ENOENT)
				return tp_err_errno(err, TP_FAILED_PRECONDITION,
				    "%s folder %s", p->what, dir);
			if (files_mkdir(dir, p->dir_mode, err) == -1)
				return -1;
		}
		return files_check_private_dir(dir, p->what, err);
	}
	if (files_mkdir(dir, p->dir_mode, err) == -1)
		return -1;
	if (lstat(dir, &st) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION, "%s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s must be a folder owned by the daemon's user", dir);
	if ((st.st_mode & 07777 & ~p->dir_mode) != 0 &&
	    chmod(dir, p->dir_mode) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "chmod %04o %s", (unsigned)p->dir_mode, dir);
	return 0;
}

/* A stale socket file is removed; a live one (another daemon) refused. */
static int
router_stale(const char *path, struct tp_err *err)
{
	struct stat st;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return tp_err_errno(err, TP_FAILED_PRECONDITION, "%s", path);
	}
	if (!S_ISSOCK(st.st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s exists and is not a socket", path);
	switch (files_socket_live(path)) {
	case 1:
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "another daemon is serving %s", path);
	case -1:
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "cannot tell whether %s is in use", path);
	}
	if (unlink(path) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "cannot remove the stale socket %s", path);
	log_info("removed the stale socket %s", path);
	return 0;
}

int
router_open(struct router *r, void *zctx, const char *endpoint,
    const struct router_params *p, struct tp_err *err)
{
	const char *path = NULL;
	char *bound = NULL;
	size_t i, fdlen = sizeof(r->fd);

	r->sock = NULL;
	r->fd = -1;
	r->path = NULL;
	if (strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6] != '@') {
		path = endpoint + 6;
		if (router_dir(path, p, err) == -1 ||
		    router_stale(path, err) == -1)
			return -1;
		if ((bound = strdup(path)) == NULL)
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
	}
	if ((r->sock = zmq_socket(zctx, p->type != 0 ? p->type :
	    ZMQ_ROUTER)) == NULL) {
		free(bound);
		return tp_err_set(err, TP_INTERNAL, "zmq: %s",
		    zmq_strerror(errno));
	}
	for (i = 0; i < p->nopts; i++)
		if (zmq_setsockopt(r->sock, p->opts[i].opt, p->opts[i].val,
		    p->opts[i].len) == -1) {
			free(bound);
			return tp_err_set(err, TP_INTERNAL,
			    "zmq_setsockopt %s: %s", p->opts[i].name,
			    zmq_strerror(errno));
		}
	if (p->before_bind != NULL && p->before_bind(r->sock, p->arg, err) == -1) {
		free(bound);
		return -1;
	}
	if (zmq_bind(r->sock, endpoint) == -1) {
		free(bound);
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "cannot bind %s: %s", endpoint, zmq_strerror(errno));
	}
	if ((r->path = bound) != NULL && chmod(r->path, p->sock_mode) == -1)
		log_warn("chmod %s", r->path);
	if (zmq_getsockopt(r->sock, ZMQ_FD, &r->fd, &fdlen) == -1)
		return tp_err_set(err, TP_INTERNAL, "ZMQ_FD: %s",
		    zmq_strerror(errno));
	return 0;
}

void
router_close(struct router *r)
{
	if (r->sock != NULL)
		zmq_close(r->sock);
	r->sock = NULL;
	r->fd = -1;
	/* zmq leaves the socket file; remove it unless someone else (a
	 * daemon started since) answers there now */
	if (r->path != NULL && files_socket_live(r->path) == 0 &&
	    unlink(r->path) == -1)
		log_warn("unlink %s", r->path);
	free(r->path);
	r->path = NULL;
}
