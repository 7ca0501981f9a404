/* workerharness.c: plays the supervisor for one tradepulse-worker: HELLO, CONFIG, JOBs, prints what comes back. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "common/jsonutil.h"
#include "common/sealbox.h"
#include "common/wire.h"

/*
 * usage: workerharness WORKER CONFIG_JSON JOBS_FILE [TIMEOUT_MS]
 *
 * Binds a ROUTER on ipc://<tmp>/w.sock, starts WORKER with a token and a
 * session key on fd 3 (as tradepulsed does), checks its HELLO, sends
 * CONFIG (CONFIG_JSON
 * merged over {"max_jobs": 100000, "heartbeat_ms": 1500,
 * "job_timeout_ms": 60000}), then every JOB of JOBS_FILE (one JSON object
 * per line, "-" for stdin) at once. A JOB's "keys": {"key_id", "secret"}
 * is sent sealed under the session key, as "keys_sealed" (sealbox.h); a
 * "keys_sealed" of the line goes as it is (a test's bad one), and
 * "keys_clear" goes as "keys", unsealed (a test of the refusal). Prints,
 * one per line:
 *   RESULT <payload>      LOG <payload>
 * and at the end
 *   SUMMARY {"results": n, "jobs": n, "max_heartbeat_gap_ms": n,
 *            "heartbeats": n, "exit": "status N" | "signal NAME",
 *            "worker_cpu_ms": n, "worker_max_rss_kb": n, "ms": n}
 * Sends SHUTDOWN once every job has its RESULT. Exits 0 when every job
 * got a RESULT and the worker exited 0, 1 otherwise (timeout: TIMEOUT_MS,
 * default 60000). Nothing here is a test by itself: scripts check the
 * lines.
 */

#define WH_GEN		1
#define WH_JOBS_MAX	100000
#define WH_LINE_MAX	(WIRE_MAX_JOB + 2)

static uint64_t
wh_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
wh_send(void *sock, const uint8_t rid[8], enum wire_type type,
    json_object *payload)
{
	struct tp_err err;
	uint8_t *buf;
	size_t len;
	int rc = 0;

	if (wire_encode(type, WH_GEN, payload, &buf, &len, &err) == -1) {
		fprintf(stderr, "workerharness: encode %s: %s\n",
		    wire_type_name(type), err.msg);
		return -1;
	}
	if (zmq_send(sock, rid, 8, ZMQ_SNDMORE) == -1 ||
	    zmq_send(sock, buf, len, 0) == -1) {
		fprintf(stderr, "workerharness: send: %s\n",
		    zmq_strerror(errno));
		rc = -1;
	}
	wire_free_wiped(buf, len);
	return rc;
}

/* Copies what the worker wrote on stderr; at EOF closes the pipe. */
static void
wh_copy_err(int *errfd)
{
	char buf[4096];
	ssize_t n;

	if (*errfd == -1)
		return;
	if ((n = read(*errfd, buf, sizeof(buf))) > 0) {
		if (write(STDERR_FILENO, buf, (size_t)n) < 0)
			return;
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(*errfd);
		*errfd = -1;
	}
}

/* One message from the worker, waiting at most ms, copying its stderr
 * meanwhile. 1 got, 0 none, -1. */
static int
wh_recv(void *sock, int *errfd, long ms, uint8_t rid[8], struct wire_msg *m)
{
	zmq_pollitem_t it[2] = {
		{ sock, 0, ZMQ_POLLIN, 0 },
		{ NULL, *errfd, ZMQ_POLLIN, 0 },
	};
	struct tp_err err;
	zmq_msg_t id, f;
	int rc;

	if ((rc = zmq_poll(it, *errfd != -1 ? 2 : 1, ms)) <= 0)
		return rc == -1 && errno != EINTR ? -1 : 0;
	if (*errfd != -1 && it[1].revents != 0)
		wh_copy_err(errfd);
	if (it[0].revents == 0)
		return 0;
	zmq_msg_init(&id);
	zmq_msg_init(&f);
	if (zmq_msg_recv(&id, sock, 0) == -1 || !zmq_msg_more(&id) ||
	    zmq_msg_recv(&f, sock, 0) == -1) {
		zmq_msg_close(&id);
		zmq_msg_close(&f);
		return -1;
	}
	if (zmq_msg_size(&id) == 8)
		memcpy(rid, zmq_msg_data(&id), 8);
	rc = wire_decode(zmq_msg_data(&f), zmq_msg_size(&f), m, &err);
	zmq_msg_close(&id);
	zmq_msg_close(&f);
	if (rc == -1) {
		fprintf(stderr, "workerharness: bad frame: %s\n", err.msg);
		return -1;
	}
	return 1;
}

/*
 * The worker's stderr is a pipe, as under tradepulsed: the sandbox's
 * RLIMIT_FSIZE of 0 would make writes to a regular file fail. *errfd is
 * its read end, copied to the harness's stderr.
 */
static pid_t
wh_spawn(const char *worker, const char *endpoint, const uint8_t *token,
    const uint8_t *key, int *errfd)
{
	uint8_t both[WIRE_TOKEN_BYTES + SEALBOX_KEY_BYTES];
	char gen[24];
	int p[2], e[2];
	pid_t pid;
	ssize_t n;

	if (pipe(e) == -1)
		return -1;
	if (pipe(p) == -1)
		return -1;
	memcpy(both, token, WIRE_TOKEN_BYTES);
	memcpy(both + WIRE_TOKEN_BYTES, key, SEALBOX_KEY_BYTES);
	n = write(p[1], both, sizeof(both));
	sodium_memzero(both, sizeof(both));
	if (n != (ssize_t)sizeof(both)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	snprintf(gen, sizeof(gen), "%d", WH_GEN);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(e[0]);
		if (dup2(e[1], STDERR_FILENO) == -1)
			_exit(127);
		close(e[1]);
		if (p[0] != WIRE_TOKEN_FD) {
			if (dup2(p[0], WIRE_TOKEN_FD) == -1)
				_exit(127);
			close(p[0]);
		}
		execl(worker, worker, "--channel", endpoint, "--generation",
		    gen, "--user", "nobody", "--memory-limit", "1073741824",
		    "--cpu-limit", "120", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	close(e[1]);
	*errfd = e[0];
	return pid;
}

static json_object *
wh_config(const char *extra)
{
	json_object *c, *e;
	struct tp_err err;

	c = json_object_new_object();
	json_object_object_add(c, "max_jobs", json_object_new_int(100000));
	json_object_object_add(c, "heartbeat_ms", json_object_new_int(1500));
	json_object_object_add(c, "job_timeout_ms",
	    json_object_new_int(60000));
	if (extra != NULL && *extra != '\0') {
		if ((e = json_parse(extra, strlen(extra), &err)) == NULL ||
		    !json_object_is_type(e, json_type_object)) {
			fprintf(stderr, "workerharness: CONFIG_JSON: %s\n",
			    e == NULL ? err.msg : "not an object");
			exit(2);
		}
		json_merge(c, e);
		json_object_put(e);
	}
	return c;
}

/* Seals a JOB's "keys" as tradepulsed does; renames "keys_clear" to
 * "keys". Exits 2 when the keys cannot be sealed. */
static void
wh_seal(json_object *job, const uint8_t *key)
{
	char sealed[SEALBOX_TEXT_MAX];
	json_object *keys;
	struct tp_err err;

	if ((keys = json_get_obj(job, "keys")) != NULL) {
		if (sealbox_keys_seal(key, json_get_str(keys, "key_id") != NULL ?
		    json_get_str(keys, "key_id") : "",
		    json_get_str(keys, "secret") != NULL ?
		    json_get_str(keys, "secret") : "", sealed, sizeof(sealed),
		    &err) == -1) {
			fprintf(stderr, "workerharness: seal: %s\n", err.msg);
			exit(2);
		}
		json_object_object_del(job, "keys");
		json_object_object_add(job, "keys_sealed",
		    json_object_new_string(sealed));
	}
	if ((keys = json_get_obj(job, "keys_clear")) != NULL) {
		json_object_object_add(job, "keys", json_object_get(keys));
		json_object_object_del(job, "keys_clear");
	}
}

/* The JOBs, one JSON object a line. */
static size_t
wh_jobs(const char *path, json_object **jobs)
{
	struct tp_err err;
	size_t n = 0, len;
	char *line;
	FILE *fp;

	fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (fp == NULL || (line = malloc(WH_LINE_MAX)) == NULL) {
		fprintf(stderr, "workerharness: %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	while (fgets(line, WH_LINE_MAX, fp) != NULL && n < WH_JOBS_MAX) {
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((jobs[n] = json_parse(line, len, &err)) == NULL) {
			fprintf(stderr, "workerharness: job line %zu: %s\n",
			    n + 1, err.msg);
			exit(2);
		}
		n++;
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return n;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/workerharness.XXXXXX", endpoint[128], path[96];
	uint8_t token[WIRE_TOKEN_BYTES], key[SEALBOX_KEY_BYTES], rid[8];
	char hex[WIRE_TOKEN_BYTES * 2 + 1], exitstr[64];
	uint64_t start, timeout = 60000, last_hb = 0, gap = 0, now;
	size_t njobs, i, results = 0, hbs = 0;
	json_object **jobs, *cfg, *sd;
	bool hello = false, shut = false, exited = false;
	struct wire_msg m;
	struct rusage ru;
	const char *tok;
	void *ctx, *sock;
	int rc, status = 0, linger = 0, errfd = -1;
	pid_t pid;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: workerharness WORKER CONFIG_JSON "
		    "JOBS_FILE [TIMEOUT_MS]\n");
		return 2;
	}
	if (argc == 5)
		timeout = strtoull(argv[4], NULL, 10);
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	chmod(dir, 0755);
	if ((jobs = calloc(WH_JOBS_MAX, sizeof(*jobs))) == NULL)
		return 2;
	njobs = wh_jobs(argv[3], jobs);
	snprintf(path, sizeof(path), "%s/w.sock", dir);
	snprintf(endpoint, sizeof(endpoint), "ipc://%s", path);
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_ROUTER);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(sock, endpoint) == -1) {
		fprintf(stderr, "workerharness: bind %s: %s\n", endpoint,
		    zmq_strerror(errno));
		return 2;
	}
	/* the worker, dropped to nobody, connects before its drop */
	chmod(path, 0777);
	randombytes_buf(token, sizeof(token));
	randombytes_buf(key, sizeof(key));
	for (i = 0; i < njobs; i++)
		wh_seal(jobs[i], key);
	sodium_bin2hex(hex, sizeof(hex), token, sizeof(token));
	if ((pid = wh_spawn(argv[1], endpoint, token, key, &errfd)) == -1) {
		fprintf(stderr, "workerharness: spawn: %s\n", strerror(errno));
		return 2;
	}
	memset(&ru, 0, sizeof(ru));
	start = wh_now();
	while (!exited) {
		now = wh_now();
		if (now - start > timeout) {
			fprintf(stderr, "workerharness: timeout after %" PRIu64
			    " ms\n", timeout);
			kill(pid, SIGKILL);
		}
		if (wait4(pid, &status, WNOHANG, &ru) == pid) {
			exited = true;
			break;
		}
		if ((rc = wh_recv(sock, &errfd, 50, rid, &m)) <= 0)
			continue;
		switch (m.type) {
		case WIRE_HELLO:
			tok = json_get_str(m.payload, "token");
			if (hello || tok == NULL || strcmp(tok, hex) != 0) {
				fprintf(stderr, "workerharness: bad HELLO\n");
				kill(pid, SIGKILL);
				break;
			}
			hello = true;
			cfg = wh_config(argv[2]);
			wh_send(sock, rid, WIRE_CONFIG, cfg);
			json_object_put(cfg);
			for (i = 0; i < njobs; i++)
				wh_send(sock, rid, WIRE_JOB, jobs[i]);
			last_hb = wh_now();
			break;
		case WIRE_HEARTBEAT:
			now = wh_now();
			if (last_hb != 0 && now - last_hb > gap)
				gap = now - last_hb;
			last_hb = now;
			hbs++;
			break;
		case WIRE_RESULT:
			results++;
			/* FALLTHROUGH */
		case WIRE_LOG:
			printf("%s %s\n", m.type == WIRE_RESULT ? "RESULT" :
			    "LOG", json_object_to_json_string_ext(m.payload,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			fflush(stdout);
			break;
		default:
			break;
		}
		wire_msg_clear(&m);
		if (hello && !shut && results >= njobs) {
			sd = json_object_new_object();
			json_object_object_add(sd, "reason",
			    json_object_new_string("harness done"));
			wh_send(sock, rid, WIRE_SHUTDOWN, sd);
			json_object_put(sd);
			shut = true;
		}
	}
	/* the rest of its stderr, up to EOF */
	while (errfd != -1)
		wh_copy_err(&errfd);
	if (WIFSIGNALED(status))
		snprintf(exitstr, sizeof(exitstr), "signal %s",
		    strsignal(WTERMSIG(status)));
	else
		snprintf(exitstr, sizeof(exitstr), "status %d",
		    WEXITSTATUS(status));
	printf("SUMMARY {\"results\": %zu, \"jobs\": %zu, "
	    "\"max_heartbeat_gap_ms\": %" PRIu64 ", \"heartbeats\": %zu, "
	    "\"exit\": \"%s\", \"worker_cpu_ms\": %ld, "
	    "\"worker_max_rss_kb\": %ld, \"ms\": %" PRIu64 "}\n", results,
	    njobs, gap, hbs, exitstr, (long)(ru.ru_utime.tv_sec * 1000 +
	    ru.ru_utime.tv_usec / 1000 + ru.ru_stime.tv_sec * 1000 +
	    ru.ru_stime.tv_usec / 1000), ru.ru_maxrss, wh_now() - start);
	for (i = 0; i < njobs; i++)
		json_object_put(jobs[i]);
	free(jobs);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	unlink(path);
	rmdir(dir);
	return results == njobs && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0 ? 0 : 1;
}
