/* datakey.c: the operator's market-data key ([alpaca] data_key_id, data_secret_file), read and checked. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/api.h"
#include "common/secrets.h"
#include "supervisor/daemon.h"
#include "supervisor/datakey.h"

/*
 * The operator's market-data key for a prices job: the id from the
 * configuration, the secret from its file (one line, at most
 * API_SECRET_MAX bytes; a file others may read, or another user owns,
 * is refused).
 * The prices job and the preflight read it here.
 */
int
datakey_read(const char *key_id, const char *file,
    struct alpaca_creds *c, struct tp_err *err)
{
	struct stat sb;
	ssize_t r;
	size_t len = 0;
	int fd;

	if (key_id == NULL || file == NULL || strlen(key_id) >=
	    sizeof(c->key_id))
		return tp_err_set(err, TP_FAILED_PRECONDITION, "no usable "
		    "[alpaca] data_key_id and data_secret_file");
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return tp_err_set(err, TP_FAILED_PRECONDITION, "[alpaca] "
		    "data_secret_file %s: %s", file, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "[alpaca] "
		    "data_secret_file %s must be a regular file that only its "
		    "owner may read (chmod 600)", file);
	}
	if (sb.st_uid != geteuid()) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "[alpaca] "
		    "data_secret_file %s is owned by uid %u, not by uid %u "
		    "that %s runs as: chown it to that user", file,
		    (unsigned)sb.st_uid, (unsigned)geteuid(), DAEMON_NAME);
	}
	while (len < sizeof(c->secret) - 1 && (r = read(fd, c->secret + len,
	    sizeof(c->secret) - 1 - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			sodium_memzero(c->secret, sizeof(c->secret));
			return tp_err_set(err, TP_FAILED_PRECONDITION,
			    "[alpaca] data_secret_file %s: %s", file,
			    strerror(errno));
		}
		len += (size_t)r;
	}
	close(fd);
	while (len > 0 && (c->secret[len - 1] == '\n' ||
	    c->secret[len - 1] == '\r'))
		len--;
	c->secret[len] = '\0';
	if (len == 0 || len > API_SECRET_MAX || memchr(c->secret, '\n', len)) {
		sodium_memzero(c->secret, sizeof(c->secret));
		return tp_err_set(err, TP_FAILED_PRECONDITION, "[alpaca] "
		    "data_secret_file %s must hold one line of 1..%d "
		    "characters", file, API_SECRET_MAX);
	}
	snprintf(c->key_id, sizeof(c->key_id), "%s", key_id);
	return 0;
}
