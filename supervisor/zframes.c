/* zframes.c: receiving one multipart ZeroMQ message into a bounded set of frames. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>

#include <sodium.h>

#include "common/log.h"
#include "supervisor/zframes.h"

void
zframes_close(zmq_msg_t *m)
{
	if (zmq_msg_size(m) > 0 && zmq_msg_data(m) != NULL)
		sodium_memzero(zmq_msg_data(m), zmq_msg_size(m));
	zmq_msg_close(m);
}

int
zframes_recv(void *sock, zmq_msg_t *f, size_t max, size_t *nf, bool *extra,
    const char *what)
{
	zmq_msg_t x;
	bool more = false;
	int e;

	*nf = 0;
	*extra = false;
	while (*nf < max) {
		zmq_msg_init(&f[*nf]);
		/* only the first frame may be absent: the rest of a message
		 * arrives with it */
		if (zmq_msg_recv(&f[*nf], sock, *nf == 0 ? ZMQ_DONTWAIT : 0) ==
		    -1) {
			e = errno;
			zmq_msg_close(&f[*nf]);
			if (e != EAGAIN && e != EINTR)
				log_warnx("%s: receive: %s", what,
				    zmq_strerror(e));
			return *nf == 0 ? 0 : -1;
		}
		more = zmq_msg_more(&f[*nf]);
		(*nf)++;
		if (!more)
			return 1;
	}
	while (more) {
		zmq_msg_init(&x);
		if (zmq_msg_recv(&x, sock, 0) == -1) {
			zmq_msg_close(&x);
			return -1;
		}
		more = zmq_msg_more(&x);
		zframes_close(&x);
		*extra = true;
	}
	return 1;
}
