/* curve.c: CURVE key files and the allowlist of API clients, read and checked; key pairs made for keygen --curve. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "common/curve.h"

#define CURVE_FILE_MAX		(1024 * 1024)	/* the allowlist, at most */
#define CURVE_LINE_SHOWN	40		/* bytes of a bad word shown */

const char *
curve_role_name(enum curve_role role)
{
	return role == CURVE_ROLE_ADMIN ? "admin" : "service";
}

/* 40 Z85 characters that decode (zmq_z85_decode checks each one). */
static bool
curve_z85_ok(const char *s, size_t len, uint8_t out[CURVE_KEY_BYTES])
{
	char buf[CURVE_Z85_LEN + 1];
	uint8_t tmp[CURVE_KEY_BYTES];
	bool ok;

	if (len != CURVE_Z85_LEN)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	ok = zmq_z85_decode(out != NULL ? out : tmp, buf) != NULL;
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(tmp, sizeof(tmp));
	return ok;
}

/* Reads at most size - 1 bytes of an open file; a longer file fails. */
static int
curve_read_fd(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t r;

	*len = 0;
	for (;;) {
		r = read(fd, buf + *len, size - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		*len += (size_t)r;
		if (*len == size) {
			errno = EFBIG;
			return -1;
		}
	}
	buf[*len] = '\0';
	return 0;
}

int
curve_secret_load(const char *file, const char *what,
    char z85[CURVE_Z85_LEN + 1], struct tp_err *err)
{
	char buf[CURVE_Z85_LEN + 8];
	struct stat st;
	size_t len;
	int fd, rc;

	z85[0] = '\0';
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION, "%s %s", what,
		    file);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s %s must be "
		    "a regular file that only its owner may read (chmod 600)",
		    what, file);
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s %s is owned "
		    "by uid %u, not by uid %u that reads it: chown it", what,
		    file, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	rc = curve_read_fd(fd, buf, sizeof(buf), &len);
	close(fd);
	while (rc == 0 && len > 0 && (buf[len - 1] == '\n' ||
	    buf[len - 1] == '\r'))
		len--;
	if (rc == -1 || !curve_z85_ok(buf, len, NULL)) {
		sodium_memzero(buf, sizeof(buf));
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s %s must hold "
		    "one line of %d Z85 characters (a secret key of "
		    "tradepulse keygen --curve)", what, file, CURVE_Z85_LEN);
	}
	memcpy(z85, buf, CURVE_Z85_LEN);
	z85[CURVE_Z85_LEN] = '\0';
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int
curve_public_get(const char *arg, char z85[CURVE_Z85_LEN + 1],
    struct tp_err *err)
{
	char buf[CURVE_Z85_LEN + 8];
	size_t len;
	int fd, rc;

	z85[0] = '\0';
	/* 40 characters that decode are a key; anything else a file name */
	if (curve_z85_ok(arg, strlen(arg), NULL) && access(arg, F_OK) == -1) {
		memcpy(z85, arg, CURVE_Z85_LEN + 1);
		return 0;
	}
	if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) == -1)
		return tp_err_errno(err, TP_INVALID_ARGUMENT, "server key "
		    "%.64s is neither 40 Z85 characters nor a readable file",
		    arg);
	rc = curve_read_fd(fd, buf, sizeof(buf), &len);
	close(fd);
	while (rc == 0 && len > 0 && (buf[len - 1] == '\n' ||
	    buf[len - 1] == '\r'))
		len--;
	if (rc == -1 || !curve_z85_ok(buf, len, NULL))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "%.64s must hold "
		    "one line of %d Z85 characters (a .pub file of tradepulse "
		    "keygen --curve)", arg, CURVE_Z85_LEN);
	memcpy(z85, buf, CURVE_Z85_LEN);
	z85[CURVE_Z85_LEN] = '\0';
	return 0;
}

int
curve_public_of(const char *secret_z85, char pub_z85[CURVE_Z85_LEN + 1],
    struct tp_err *err)
{
	if (zmq_curve_public(pub_z85, secret_z85) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "cannot derive the "
		    "public key: %s", zmq_strerror(errno));
	return 0;
}

void
curve_clients_free(struct curve_clients *cl)
{
	free(cl->v);
	cl->v = NULL;
	cl->n = 0;
}

const struct curve_client *
curve_clients_by_key(const struct curve_clients *cl,
    const uint8_t pub[CURVE_KEY_BYTES])
{
	size_t i;

	for (i = 0; i < cl->n; i++)
		if (sodium_memcmp(cl->v[i].pub, pub, CURVE_KEY_BYTES) == 0)
			return &cl->v[i];
	return NULL;
}

const struct curve_client *
curve_clients_by_name(const struct curve_clients *cl, const char *name)
{
	size_t i;

	for (i = 0; i < cl->n; i++)
		if (strcmp(cl->v[i].name, name) == 0)
			return &cl->v[i];
	return NULL;
}

static bool
curve_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CURVE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Splits off the next blank-separated word of [*s, end). */
static bool
curve_word(const char **s, const char *end, const char **w, size_t *wlen)
{
	const char *p = *s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*wlen = (size_t)(p - *w);
	*s = p;
	return *wlen > 0;
}

/* One line of the allowlist; -1 with err's message (no file:line yet). */
static int
curve_clients_line(struct curve_clients *cl, const char *line, size_t len,
    struct tp_err *err)
{
	const char *end = line + len, *p = line, *w[4];
	size_t wl[4], n = 0;
	struct curve_client c;

	while (n < 4 && curve_word(&p, end, &w[n], &wl[n]))
		n++;
	if (n == 0)
		return 0;
	if (n != 3)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "expected \"NAME "
		    "ROLE PUBLIC_KEY\" (three words), found %s", n < 3 ?
		    "fewer" : "more");
	memset(&c, 0, sizeof(c));
	if (!curve_name_ok(w[0], wl[0]))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "bad name \"%.*s\": "
		    "1 to %d characters of A-Z, a-z, 0-9, '.', '_' and '-'",
		    (int)(wl[0] > CURVE_LINE_SHOWN ? CURVE_LINE_SHOWN : wl[0]),
		    w[0], CURVE_NAME_MAX);
	memcpy(c.name, w[0], wl[0]);
	if (wl[1] == 5 && memcmp(w[1], "admin", 5) == 0)
		c.role = CURVE_ROLE_ADMIN;
	else if (wl[1] == 7 && memcmp(w[1], "service", 7) == 0)
		c.role = CURVE_ROLE_SERVICE;
	else
		return tp_err_set(err, TP_INVALID_ARGUMENT, "unknown role "
		    "\"%.*s\" (admin or service)", (int)(wl[1] >
		    CURVE_LINE_SHOWN ? CURVE_LINE_SHOWN : wl[1]), w[1]);
	if (!curve_z85_ok(w[2], wl[2], c.pub))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the public key "
		    "is not %d Z85 characters", CURVE_Z85_LEN);
	if (curve_clients_by_name(cl, c.name) != NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "client \"%s\" is "
		    "listed twice", c.name);
	if (curve_clients_by_key(cl, c.pub) != NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "this public key "
		    "is listed twice (each client needs its own key pair)");
	if (cl->n == CURVE_CLIENTS_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "more than %d "
		    "clients", CURVE_CLIENTS_MAX);
	cl->v[cl->n++] = c;
	return 0;
}

/* Opens the allowlist: a regular file that only its owner may write. */
static int
curve_clients_open(const char *file, char **buf, size_t *len,
    struct tp_err *err)
{
	struct stat st;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "%s:0: curve_clients", file);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 022) != 0) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s:0: "
		    "curve_clients must be a regular file that only its owner "
		    "may write (chmod 644 or 600)", file);
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s:0: "
		    "curve_clients is owned by uid %u: it must be owned by "
		    "root or by uid %u that reads it", file,
		    (unsigned)st.st_uid, (unsigned)geteuid());
	}
	if ((*buf = malloc(CURVE_FILE_MAX + 1)) == NULL) {
		close(fd);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (curve_read_fd(fd, *buf, CURVE_FILE_MAX + 1, len) == -1) {
		close(fd);
		free(*buf);
		*buf = NULL;
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s:0: "
		    "curve_clients: %s", file, errno == EFBIG ? "larger than "
		    "1 MiB" : strerror(errno));
	}
	close(fd);
	return 0;
}

int
curve_clients_load(const char *file, struct curve_clients *out,
    struct tp_err *err)
{
	struct curve_clients cl = { NULL, 0 };
	struct tp_err why;
	char *buf = NULL, *line, *nl, *hash;
	size_t len, lines = 0, i;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	if (curve_clients_open(file, &buf, &len, err) == -1)
		return -1;
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	if ((cl.v = calloc(lines + 1, sizeof(*cl.v))) == NULL) {
		free(buf);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	tp_err_clear(&why);
	for (line = buf; line < buf + len; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) ==
		    NULL)
			nl = buf + len;
		if (memchr(line, '\0', (size_t)(nl - line)) != NULL) {
			tp_err_set(&why, TP_INVALID_ARGUMENT, "NUL byte in the "
			    "line");
			goto fail;
		}
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		/* a comment is a whole line: Z85 keys may hold '#' */
		hash = line + strspn(line, " \t");
		if (*hash == '#')
			*hash = '\0';
		for (i = 0; line[i] != '\0'; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
				break;
		if (line[i] != '\0') {
			tp_err_set(&why, TP_INVALID_ARGUMENT, "control "
			    "character in the line");
			goto fail;
		}
		if (curve_clients_line(&cl, line, strlen(line), &why) == -1)
			goto fail;
	}
	free(buf);
	if (cl.n == 0) {
		curve_clients_free(&cl);
		return tp_err_set(err, TP_FAILED_PRECONDITION, "%s:0: "
		    "curve_clients lists no client: no one could connect",
		    file);
	}
	*out = cl;
	return 0;
fail:
	free(buf);
	curve_clients_free(&cl);
	return tp_err_set(err, why.code, "%s:%u: %s", file, lineno, why.msg);
}

/* Writes text to a new file of the given mode (never replacing one). */
static int
curve_write_new(const char *file, const char *text, mode_t mode,
    struct tp_err *err)
{
	size_t len = strlen(text), off = 0;
	ssize_t w;
	int fd;

	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1)
		return tp_err_errno(err, errno == EEXIST ? TP_ALREADY_EXISTS :
		    TP_FAILED_PRECONDITION, "cannot create %s", file);
	/* the umask may have taken bits away; never added any */
	(void)fchmod(fd, mode);
	while (off < len) {
		if ((w = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			tp_err_errno(err, TP_FAILED_PRECONDITION, "write %s",
			    file);
			close(fd);
			unlink(file);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		tp_err_errno(err, TP_FAILED_PRECONDITION, "write %s", file);
		unlink(file);
		return -1;
	}
	return 0;
}

int
curve_keygen(const char *prefix, char pub_z85[CURVE_Z85_LEN + 1],
    struct tp_err *err)
{
	char sec[CURVE_Z85_LEN + 2], pubtext[CURVE_Z85_LEN + 2];
	char keyfile[4096], pubfile[4096];
	int rc = -1;

	if ((size_t)snprintf(keyfile, sizeof(keyfile), "%s.key", prefix) >=
	    sizeof(keyfile) || (size_t)snprintf(pubfile, sizeof(pubfile),
	    "%s.pub", prefix) >= sizeof(pubfile))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "prefix too long");
	if (access(pubfile, F_OK) == 0)
		return tp_err_set(err, TP_ALREADY_EXISTS, "%s already exists: "
		    "refusing to overwrite it", pubfile);
	if (zmq_curve_keypair(pub_z85, sec) == -1)
		return tp_err_set(err, TP_INTERNAL, "zmq_curve_keypair: %s "
		    "(is libzmq built with CURVE?)", zmq_strerror(errno));
	sec[CURVE_Z85_LEN] = '\n';
	sec[CURVE_Z85_LEN + 1] = '\0';
	snprintf(pubtext, sizeof(pubtext), "%s\n", pub_z85);
	if (curve_write_new(keyfile, sec, 0600, err) == 0) {
		if (curve_write_new(pubfile, pubtext, 0644, err) == 0)
			rc = 0;
		else
			unlink(keyfile);
	}
	sodium_memzero(sec, sizeof(sec));
	return rc;
}
