/* apiclient.c: test tool: sends raw bytes as one job API frame (or N, or one request a line) and prints the replies. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#define APICLIENT_MAX		(32 * 1024 * 1024)	/* largest payload */
#define APICLIENT_MAX_FRAMES	1000
#define APICLIENT_TIMEOUT_MS	10000

#define EXIT_USAGE	2
#define EXIT_TIMEOUT	3

static void
apiclient_usage(void)
{
	fprintf(stderr, "usage: apiclient [-t SECONDS] [--req] [--frames N | "
	    "--lines] ENDPOINT [FILE]\n"
	    "Sends FILE (or standard input) as one frame, or as N frames of "
	    "one message,\nto a DEALER (or REQ) socket connected to ENDPOINT "
	    "and prints each frame of\nthe reply followed by a newline. "
	    "With --lines, each non-empty line is one\nrequest, sent once "
	    "the previous one was answered, over the one connection.\n"
	    "Exit 0 on a reply (to every line), 3 on timeout.\n");
	exit(EXIT_USAGE);
}

/* Reads all of fd (binary-safe) up to APICLIENT_MAX bytes. */
static char *
apiclient_slurp(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	if (buf == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap > APICLIENT_MAX) {
				fprintf(stderr, "apiclient: input larger than "
				    "%d bytes\n", APICLIENT_MAX);
				free(buf);
				return NULL;
			}
			/* One byte past the limit is enough to see it. */
			cap = cap * 2 > APICLIENT_MAX + 1 ? APICLIENT_MAX + 1 :
			    cap * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			perror("apiclient: read");
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > APICLIENT_MAX) {
		fprintf(stderr, "apiclient: input larger than %d bytes\n",
		    APICLIENT_MAX);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int
apiclient_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 86400)
		return -1;
	*ms = (int)(v * 1000.0);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

static int64_t
apiclient_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends the payload as frames parts of one message. */
static int
apiclient_send(void *sock, const char *buf, size_t len, long frames)
{
	long i;

	for (i = 0; i < frames; i++) {
		int flags = i + 1 < frames ? ZMQ_SNDMORE : 0;

		if (zmq_send(sock, buf, len, flags) == -1) {
			if (errno == EAGAIN)
				return 1;
			fprintf(stderr, "apiclient: zmq_send: %s\n",
			    zmq_strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Waits for the reply and prints every frame of it. */
static int
apiclient_reply(void *sock, int timeout_ms)
{
	int64_t deadline = apiclient_now_ms() + timeout_ms, left;
	zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
	zmq_msg_t m;
	int more;

	for (;;) {
		if ((left = deadline - apiclient_now_ms()) <= 0) {
			fprintf(stderr, "apiclient: no reply within %d ms\n",
			    timeout_ms);
			return EXIT_TIMEOUT;
		}
		if (zmq_poll(&item, 1, (long)left) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "apiclient: zmq_poll: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
		if (item.revents & ZMQ_POLLIN)
			break;
	}
	zmq_msg_init(&m);
	do {
		if (zmq_msg_recv(&m, sock, 0) == -1) {
			fprintf(stderr, "apiclient: zmq_msg_recv: %s\n",
			    zmq_strerror(errno));
			zmq_msg_close(&m);
			return 1;
		}
		fwrite(zmq_msg_data(&m), 1, zmq_msg_size(&m), stdout);
		fputc('\n', stdout);
		more = zmq_msg_more(&m);
	} while (more);
	zmq_msg_close(&m);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * --lines: each non-empty line of buf is one request, sent after the
 * reply to the one before (so a test can make a thousand calls without
 * starting a thousand processes). Stops at the first failure.
 */
static int
apiclient_lines(void *sock, const char *buf, size_t len, int timeout_ms)
{
	const char *p = buf, *end = buf + len, *nl;
	int rc;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p)
			continue;
		if ((rc = apiclient_send(sock, p, (size_t)(nl - p), 1)) != 0) {
			if (rc == -1)
				return 1;
			fprintf(stderr, "apiclient: could not send within %d "
			    "ms\n", timeout_ms);
			return EXIT_TIMEOUT;
		}
		if ((rc = apiclient_reply(sock, timeout_ms)) != 0)
			return rc;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *endpoint, *file = NULL;
	int timeout_ms = APICLIENT_TIMEOUT_MS, type = ZMQ_DEALER, fd = 0;
	int i, zero = 0, rc;
	long frames = 1;
	bool lines = false;
	char *buf, *end;
	size_t len = 0;
	void *ctx, *sock;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--req") == 0)
			type = ZMQ_REQ;
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			if (apiclient_seconds(argv[++i], &timeout_ms) == -1)
				apiclient_usage();
		} else if (strcmp(argv[i], "--lines") == 0)
			lines = true;
		else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
			frames = strtol(argv[++i], &end, 10);
			if (*end != '\0' || frames < 1 ||
			    frames > APICLIENT_MAX_FRAMES)
				apiclient_usage();
		} else
			apiclient_usage();
	}
	if (i >= argc || argc - i > 2 || (lines && frames != 1))
		apiclient_usage();
	endpoint = argv[i];
	if (i + 1 < argc && strcmp(argv[i + 1], "-") != 0)
		file = argv[i + 1];
	if (file != NULL && (fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "apiclient: %s: %s\n", file, strerror(errno));
		return 1;
	}
	buf = apiclient_slurp(fd, &len);
	if (fd != 0)
		close(fd);
	if (buf == NULL)
		return 1;

	if ((ctx = zmq_ctx_new()) == NULL ||
	    (sock = zmq_socket(ctx, type)) == NULL) {
		fprintf(stderr, "apiclient: zmq: %s\n", zmq_strerror(errno));
		return 1;
	}
	zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
	if (zmq_connect(sock, endpoint) == -1) {
		fprintf(stderr, "apiclient: %s: %s\n", endpoint,
		    zmq_strerror(errno));
		return 1;
	}
	if (lines) {
		rc = apiclient_lines(sock, buf, len, timeout_ms);
		free(buf);
		zmq_close(sock);
		zmq_ctx_term(ctx);
		return rc;
	}
	rc = apiclient_send(sock, buf, len, frames);
	free(buf);
	if (rc == 1) {
		fprintf(stderr, "apiclient: could not send within %d ms\n",
		    timeout_ms);
		rc = EXIT_TIMEOUT;
	} else if (rc == 0)
		rc = apiclient_reply(sock, timeout_ms);
	else
		rc = 1;
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return rc;
}
