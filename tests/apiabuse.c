/* apiabuse.c: test tool: a hostile job API client: a connection flood, and clients that send but never read. */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#define ABUSE_FRAME_MAX	(1024 * 1024)

static void
abuse_usage(void)
{
	fprintf(stderr,
	    "usage: apiabuse flood SOCKET_PATH ATTEMPTS HOLD_MS\n"
	    "       apiabuse noread ENDPOINT CLIENTS SECONDS REQUEST_FILE\n"
	    "       apiabuse frames ENDPOINT NFRAMES\n"
	    "flood: ATTEMPTS raw connections to the ipc socket (each connect waits\n"
	    "  up to 1 s for the backlog), as many at once as this process's\n"
	    "  descriptor limit allows, each held HOLD_MS;\n"
	    "  prints {\"attempted\",\"connected\",\"failed\"} as JSON.\n"
	    "noread: CLIENTS DEALER sockets that send REQUEST_FILE over and over\n"
	    "  for SECONDS and never read a reply (receive queue of 1, a small\n"
	    "  kernel buffer); prints {\"sent\"} as JSON.\n"
	    "frames: one message of NFRAMES empty frames after a status request;\n"
	    "  prints {\"sent\": NFRAMES}.\n");
}

static double
abuse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
abuse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "apiabuse: bad number %s\n", s);
		exit(2);
	}
	return v;
}

/* As many descriptors as the hard limit gives. */
static size_t
abuse_fd_room(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 256;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < 64)
		return 32;
	return rl.rlim_cur > 100000 ? 100000 : (size_t)rl.rlim_cur - 32;
}

static int
abuse_flood(const char *path, long attempts, long hold_ms)
{
	struct sockaddr_un sun;
	struct timespec ts;
	struct timeval tmo = { 1, 0 };
	size_t room = abuse_fd_room(), n, i;
	long done = 0, connected = 0, failed = 0;
	int *fds;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "apiabuse: path too long\n");
		return 2;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fds = calloc(room, sizeof(*fds))) == NULL)
		return 1;
	while (done < attempts) {
		n = 0;
		while (done < attempts && n < room) {
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			done++;
			if (fd == -1) {
				failed++;
				continue;
			}
			/* a full backlog makes connect wait, up to this */
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo,
			    sizeof(tmo));
			if (connect(fd, (struct sockaddr *)&sun,
			    sizeof(sun)) == -1) {
				failed++;
				close(fd);
				continue;
			}
			connected++;
			fds[n++] = fd;
		}
		ts.tv_sec = hold_ms / 1000;
		ts.tv_nsec = (hold_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
		for (i = 0; i < n; i++)
			close(fds[i]);
	}
	free(fds);
	printf("{\"attempted\":%ld,\"connected\":%ld,\"failed\":%ld}\n",
	    attempts, connected, failed);
	return 0;
}

static int
abuse_read_file(const char *file, char *buf, size_t *len)
{
	FILE *fp = fopen(file, "rb");

	if (fp == NULL) {
		perror(file);
		return -1;
	}
	*len = fread(buf, 1, ABUSE_FRAME_MAX, fp);
	fclose(fp);
	return 0;
}

static int
abuse_noread(const char *ep, long nclients, long seconds, const char *file)
{
	void *ctx, **socks;
	static char buf[ABUSE_FRAME_MAX];
	size_t len;
	int one = 1, small = 4096, hwm = 100000, linger = 0;
	long i, sent = 0;
	double end;

	if (abuse_read_file(file, buf, &len) == -1)
		return 1;
	ctx = zmq_ctx_new();
	if ((socks = calloc((size_t)nclients, sizeof(*socks))) == NULL)
		return 1;
	for (i = 0; i < nclients; i++) {
		socks[i] = zmq_socket(ctx, ZMQ_DEALER);
		zmq_setsockopt(socks[i], ZMQ_RCVHWM, &one, sizeof(one));
		zmq_setsockopt(socks[i], ZMQ_RCVBUF, &small, sizeof(small));
		zmq_setsockopt(socks[i], ZMQ_SNDHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof(linger));
		if (zmq_connect(socks[i], ep) == -1) {
			fprintf(stderr, "apiabuse: connect %s: %s\n", ep,
			    zmq_strerror(errno));
			return 1;
		}
	}
	end = abuse_now() + (double)seconds;
	while (abuse_now() < end) {
		for (i = 0; i < nclients; i++)
			if (zmq_send(socks[i], buf, len, ZMQ_DONTWAIT) != -1)
				sent++;
		usleep(2000);
	}
	for (i = 0; i < nclients; i++)
		zmq_close(socks[i]);
	free(socks);
	zmq_ctx_term(ctx);
	printf("{\"sent\":%ld}\n", sent);
	return 0;
}

static int
abuse_frames(const char *ep, long nframes)
{
	static const char status[] = "{\"op\":\"status\"}";
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 2000;
	long i;

	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(s, ep) == -1)
		return 1;
	if (zmq_send(s, status, sizeof(status) - 1, ZMQ_SNDMORE) == -1)
		return 1;
	for (i = 0; i < nframes; i++)
		if (zmq_send(s, "", 0, i + 1 < nframes ? ZMQ_SNDMORE : 0) ==
		    -1)
			return 1;
	zmq_close(s);
	zmq_ctx_term(ctx);
	printf("{\"sent\":%ld}\n", nframes);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 5 && strcmp(argv[1], "flood") == 0)
		return abuse_flood(argv[2], abuse_num(argv[3], 1, 10000000),
		    abuse_num(argv[4], 0, 600000));
	if (argc == 6 && strcmp(argv[1], "noread") == 0)
		return abuse_noread(argv[2], abuse_num(argv[3], 1, 1000),
		    abuse_num(argv[4], 1, 3600), argv[5]);
	if (argc == 4 && strcmp(argv[1], "frames") == 0)
		return abuse_frames(argv[2], abuse_num(argv[3], 1, 100000000));
	abuse_usage();
	return 2;
}
