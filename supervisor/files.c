/* files.c: the folders the daemon creates and its locked pidfile. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/daemon.h"

struct pidfile {
	char	*path;
	int	 fd;
	dev_t	 dev;
	ino_t	 ino;
};

/* mkdir that accepts an existing folder (but nothing else in its place). */
static int
files_mkdir_one(const char *path, mode_t mode, struct tp_err *err)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return tp_err_errno(err, TP_INTERNAL, "mkdir %s", path);
	if (stat(path, &st) == -1)
		return tp_err_errno(err, TP_INTERNAL, "stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s exists and is not a folder", path);
	return 0;
}

/*
 * Creates path and its missing parents. The parents get 0755 (they are
 * usually system folders such as /run); the folder itself gets mode. An
 * existing folder is left as it is.
 */
int
files_mkdir(const char *path, mode_t mode, struct tp_err *err)
{
	char buf[PATH_MAX];
	size_t len, i;

	len = strlen(path);
	if (len == 0 || len >= sizeof(buf))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "bad folder name \"%.64s\"", path);
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (i = 1; i < len; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (files_mkdir_one(buf, 0755, err) == -1)
			return -1;
		buf[i] = '/';
	}
	return files_mkdir_one(buf, mode, err);
}

/* Refuses a folder that users other than owner and group can enter. */
int
files_check_private_dir(const char *path, const char *what,
    struct tp_err *err)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION, "%s folder %s",
		    what, path);
	if (!S_ISDIR(st.st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s folder %s is not a folder", what, path);
	if ((st.st_mode & 007) != 0)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s folder %s can be entered by other users (mode %04o); "
		    "make it 0750 or 0700", what, path,
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

static long
pidfile_read(int fd)
{
	char buf[32];
	ssize_t n;
	long pid;
	char *end;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0)
		return 0;
	return pid;
}

/*
 * The pidfile is locked (flock) for the daemon's whole life, so whether a
 * daemon is running does not depend on a pid that may have been reused:
 * a locked file means a live daemon (refused), an unlocked one is stale
 * and is taken over. The file may be unlinked by an exiting daemon between
 * our open and our lock; then the lock is on a dead inode and we retry.
 */
struct pidfile *
pidfile_acquire(const char *path, struct tp_err *err)
{
	struct pidfile *pf;
	struct stat st, st2;
	char buf[32];
	long old;
	int fd, tries, len;

	for (tries = 0; tries < 5; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0644);
		if (fd == -1) {
			tp_err_errno(err, TP_FAILED_PRECONDITION,
			    "pidfile %s", path);
			return NULL;
		}
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
			close(fd);
			tp_err_set(err, TP_FAILED_PRECONDITION,
			    "pidfile %s is not a regular file", path);
			return NULL;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno == EWOULDBLOCK) {
				old = pidfile_read(fd);
				close(fd);
				tp_err_set(err, TP_FAILED_PRECONDITION,
				    "%s is already running (pid %ld, "
				    "pidfile %s)", DAEMON_NAME, old, path);
				return NULL;
			}
			tp_err_errno(err, TP_INTERNAL, "flock %s", path);
			close(fd);
			return NULL;
		}
		if (stat(path, &st2) == -1 || st2.st_dev != st.st_dev ||
		    st2.st_ino != st.st_ino) {
			close(fd);
			continue;
		}
		if ((old = pidfile_read(fd)) > 0 && old != (long)getpid())
			log_info("replacing stale pidfile %s (pid %ld is not "
			    "running it)", path, old);
		len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) == -1 ||
		    pwrite(fd, buf, (size_t)len, 0) != len) {
			tp_err_errno(err, TP_INTERNAL, "write %s", path);
			close(fd);
			return NULL;
		}
		if ((pf = calloc(1, sizeof(*pf))) == NULL ||
		    (pf->path = strdup(path)) == NULL) {
			free(pf);
			unlink(path);
			close(fd);
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			return NULL;
		}
		pf->fd = fd;
		pf->dev = st.st_dev;
		pf->ino = st.st_ino;
		return pf;
	}
	tp_err_set(err, TP_UNAVAILABLE, "pidfile %s keeps changing under us",
	    path);
	return NULL;
}

/* Removes the file (if it still is ours) before dropping the lock. */
void
pidfile_release(struct pidfile *pf)
{
	struct stat st;

	if (pf == NULL)
		return;
	if (stat(pf->path, &st) == 0 && st.st_dev == pf->dev &&
	    st.st_ino == pf->ino && unlink(pf->path) == -1)
		log_warn("unlink %s", pf->path);
	close(pf->fd);
	free(pf->path);
	free(pf);
}

/* Whether a daemon answers on the unix socket path: 1 yes, 0 no (a stale
 * file), -1 cannot tell (errno set). */
int
files_socket_live(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (rc == 0)
		return 1;
	errno = saved;
	return saved == ECONNREFUSED ? 0 : -1;
}
