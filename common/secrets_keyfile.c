/* secrets_keyfile.c: the master key file: its checks, keygen, rotation, loading. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/path.h"
#include "common/secrets.h"
#include "common/secrets_int.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

/*
 * Key file format (text, one key version per line, newest last):
 *
 *   # tradepulse master key file ...
 *   v1 <base64 of 32 bytes>
 *   v2 <base64 of 32 bytes>
 *
 * Lines starting with '#' and empty lines are ignored; every other line
 * must be exactly "v<N> <key>" with N in 1..SECRETS_VERSION_MAX, strictly
 * increasing (gaps are allowed, so retired versions can be removed once
 * nothing is sealed with them any more).
 */

#define SECRETS_FILE_MAX	16384	/* far above 64 versions of ~60 bytes */
#define SECRETS_HEADER \
	"# tradepulse master key file: one key version per line, newest last.\n" \
	"# Keep it mode 0600 and never share it. Created by tradepulse keygen.\n"
#define SECRETS_B64_LEN \
	sodium_base64_ENCODED_LEN(SECRETS_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)

/* A key file read into guarded memory, before it becomes a struct secrets. */
struct keyfile {
	unsigned	 nkeys;
	unsigned	 versions[SECRETS_MAX_VERSIONS];
	uint8_t		*keys;		/* SECRETS_MAX_VERSIONS * KEY_BYTES */
	struct stat	 st;
};

int
secrets_init(struct tp_err *err)
{
	if (sodium_init() < 0)
		return tp_err_set(err, TP_INTERNAL, "libsodium cannot start");
	return 0;
}

static int
secrets_open_dir(const char *keyfile, struct tp_err *err)
{
	char dir[PATH_MAX];
	int dfd;

	if (path_fs_dirname(keyfile, dir, sizeof(dir)) == -1) {
		tp_err_set(err, TP_INVALID_ARGUMENT,
		    "master key file path is too long");
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		tp_err_errno(err, TP_UNAVAILABLE, "cannot open folder %s", dir);
	return dfd;
}

/*
 * Refuses anything but a regular file that only its owner can access and,
 * when owned is set, one that another user owns: that user could read
 * the keys, or swap them for keys of their own. A rotation (run as root
 * on the daemon user's file) does not ask for it; loading does.
 */
static int
secrets_check_mode(const char *keyfile, const struct stat *st, bool owned,
    struct tp_err *err)
{
	if (!S_ISREG(st->st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s is not a regular file", keyfile);
	if ((st->st_mode & 077) != 0)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s has mode %04o; it must not be "
		    "readable or writable by group or others: chmod 600 %s",
		    keyfile, (unsigned)(st->st_mode & 07777), keyfile);
	if (owned && st->st_uid != geteuid())
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s is owned by uid %u, not by uid %u "
		    "that reads it: chown it to that user", keyfile,
		    (unsigned)st->st_uid, (unsigned)geteuid());
	return 0;
}

/* Reads the whole file (bounded) into sodium_malloc'd memory. */
static int
secrets_read_file(const char *keyfile, struct keyfile *kf, bool owned,
    char **buf, size_t *len, struct tp_err *err)
{
	ssize_t n;
	size_t off = 0;
	int fd;

	*buf = NULL;
	fd = open(keyfile, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return tp_err_errno(err, TP_UNAVAILABLE,
		    "cannot open master key file %s", keyfile);
	/* Check the file that was opened, not the name: no race. */
	if (fstat(fd, &kf->st) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE, "cannot stat %s", keyfile);
		goto fail;
	}
	if (secrets_check_mode(keyfile, &kf->st, owned, err) == -1)
		goto fail;
	if (kf->st.st_size > SECRETS_FILE_MAX) {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s is larger than %d bytes", keyfile,
		    SECRETS_FILE_MAX);
		goto fail;
	}
	if ((*buf = sodium_malloc(SECRETS_FILE_MAX + 1)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of guarded memory");
		goto fail;
	}
	for (;;) {
		n = read(fd, *buf + off, SECRETS_FILE_MAX + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tp_err_errno(err, TP_UNAVAILABLE, "cannot read %s",
			    keyfile);
			goto fail;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off > SECRETS_FILE_MAX) {
			tp_err_set(err, TP_FAILED_PRECONDITION,
			    "master key file %s is larger than %d bytes",
			    keyfile, SECRETS_FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	(*buf)[off] = '\0';
	*len = off;
	return 0;
fail:
	if (*buf != NULL) {
		sodium_memzero(*buf, SECRETS_FILE_MAX + 1);
		sodium_free(*buf);
		*buf = NULL;
	}
	close(fd);
	return -1;
}

/* Parses "v<N>" into *version; returns the length used or 0. */
static size_t
secrets_parse_version(const char *s, size_t len, unsigned *version)
{
	unsigned long v = 0;
	size_t i;

	if (len < 2 || s[0] != 'v' || s[1] < '1' || s[1] > '9')
		return 0;
	for (i = 1; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > SECRETS_VERSION_MAX)
			return 0;
	}
	*version = (unsigned)v;
	return i;
}

/* Parses one "v<N> <base64>" line into the next slot of kf. */
static int
secrets_parse_line(const char *keyfile, unsigned lineno, const char *line,
    size_t len, struct keyfile *kf, struct tp_err *err)
{
	unsigned version = 0;
	size_t vlen, keylen = 0;
	uint8_t *slot;

	vlen = secrets_parse_version(line, len, &version);
	if (vlen == 0 || vlen >= len || line[vlen] != ' ')
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s:%u: expected \"v<N> <base64 key>\" "
		    "with N from 1 to %u", keyfile, lineno, SECRETS_VERSION_MAX);
	if (kf->nkeys > 0 && version <= kf->versions[kf->nkeys - 1])
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s:%u: key version %u is not above the "
		    "previous version %u", keyfile, lineno, version,
		    kf->versions[kf->nkeys - 1]);
	if (kf->nkeys == SECRETS_MAX_VERSIONS)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s:%u: more than %d key versions",
		    keyfile, lineno, SECRETS_MAX_VERSIONS);
	slot = kf->keys + (size_t)kf->nkeys * SECRETS_KEY_BYTES;
	if (sodium_base642bin(slot, SECRETS_KEY_BYTES, line + vlen + 1,
	    len - vlen - 1, NULL, &keylen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    keylen != SECRETS_KEY_BYTES) {
		sodium_memzero(slot, SECRETS_KEY_BYTES);
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s:%u: the key is not %d bytes of "
		    "base64", keyfile, lineno, SECRETS_KEY_BYTES);
	}
	kf->versions[kf->nkeys++] = version;
	return 0;
}

static void
secrets_keyfile_wipe(struct keyfile *kf)
{
	if (kf->keys != NULL)
		sodium_free(kf->keys);	/* zeroes the memory first */
	kf->keys = NULL;
	kf->nkeys = 0;
}

/* Reads and strictly parses a key file, refusing a bad mode first. */
static int
secrets_keyfile_read(const char *keyfile, struct keyfile *kf, bool owned,
    struct tp_err *err)
{
	char *buf = NULL, *line, *nl;
	size_t len = 0, linelen;
	unsigned lineno = 0;
	int rc = -1;

	memset(kf, 0, sizeof(*kf));
	kf->keys = sodium_malloc(SECRETS_MAX_VERSIONS * SECRETS_KEY_BYTES);
	if (kf->keys == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	if (secrets_read_file(keyfile, kf, owned, &buf, &len, err) == -1)
		goto done;
	if (memchr(buf, '\0', len) != NULL) {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s contains a NUL byte", keyfile);
		goto done;
	}
	if (len > 0 && buf[len - 1] != '\n') {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s: the last line has no newline",
		    keyfile);
		goto done;
	}
	for (line = buf; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		linelen = (size_t)(nl - line);
		lineno++;
		if (linelen == 0 || line[0] == '#')
			continue;
		if (secrets_parse_line(keyfile, lineno, line, linelen, kf,
		    err) == -1)
			goto done;
	}
	if (kf->nkeys == 0) {
		tp_err_set(err, TP_FAILED_PRECONDITION,
		    "master key file %s has no key (make one with "
		    "tradepulse keygen)", keyfile);
		goto done;
	}
	rc = 0;
done:
	if (buf != NULL) {
		sodium_memzero(buf, SECRETS_FILE_MAX + 1);
		sodium_free(buf);
	}
	if (rc == -1)
		secrets_keyfile_wipe(kf);
	return rc;
}

/* Writes every key of kf to fd in the file format. */
static int
secrets_keyfile_write(int fd, const struct keyfile *kf, struct tp_err *err)
{
	enum { KEYLINE_MAX = sizeof("v1000000 ") + SECRETS_B64_LEN + 1 };
	char *out;
	size_t len, off = 0, size;
	ssize_t n;
	unsigned i;
	int rc = -1;

	size = sizeof(SECRETS_HEADER) + (size_t)kf->nkeys * KEYLINE_MAX;
	if ((out = sodium_malloc(size)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	len = (size_t)snprintf(out, size, "%s", SECRETS_HEADER);
	for (i = 0; i < kf->nkeys; i++) {
		len += (size_t)snprintf(out + len, size - len, "v%u ",
		    kf->versions[i]);
		sodium_bin2base64(out + len, size - len,
		    kf->keys + (size_t)i * SECRETS_KEY_BYTES, SECRETS_KEY_BYTES,
		    sodium_base64_VARIANT_ORIGINAL);
		len += strlen(out + len);
		out[len++] = '\n';
	}
	while (off < len) {
		n = write(fd, out + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tp_err_errno(err, TP_UNAVAILABLE,
			    "cannot write master key file");
			goto done;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE,
		    "cannot sync master key file");
		goto done;
	}
	rc = 0;
done:
	sodium_memzero(out, size);
	sodium_free(out);
	return rc;
}

/* Puts a fresh random key as the next version of kf. */
static int
secrets_keyfile_add(struct keyfile *kf, unsigned *version, struct tp_err *err)
{
	unsigned v = kf->nkeys == 0 ? 1 : kf->versions[kf->nkeys - 1] + 1;

	if (kf->nkeys == SECRETS_MAX_VERSIONS)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "the master key file already holds %d versions; remove "
		    "retired ones first", SECRETS_MAX_VERSIONS);
	if (v > SECRETS_VERSION_MAX)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "key version %u would pass the highest version %u", v,
		    SECRETS_VERSION_MAX);
	randombytes_buf(kf->keys + (size_t)kf->nkeys * SECRETS_KEY_BYTES,
	    SECRETS_KEY_BYTES);
	kf->versions[kf->nkeys++] = v;
	if (version != NULL)
		*version = v;
	return 0;
}

int
secrets_keygen(const char *keyfile, struct tp_err *err)
{
	struct keyfile kf;
	int fd, dfd, rc = -1;

	memset(&kf, 0, sizeof(kf));
	if ((kf.keys = sodium_malloc(SECRETS_KEY_BYTES)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	if ((dfd = secrets_open_dir(keyfile, err)) == -1) {
		secrets_keyfile_wipe(&kf);
		return -1;
	}
	fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == EEXIST)
			tp_err_set(err, TP_ALREADY_EXISTS, "master key file %s "
			    "already exists; use --rotate to add a version",
			    keyfile);
		else
			tp_err_errno(err, TP_UNAVAILABLE,
			    "cannot create master key file %s", keyfile);
		goto done;
	}
	if (fchmod(fd, 0600) == -1)
		tp_err_errno(err, TP_UNAVAILABLE, "cannot chmod %s", keyfile);
	else if (secrets_keyfile_add(&kf, NULL, err) == 0 &&
	    secrets_keyfile_write(fd, &kf, err) == 0) {
		if (fsync(dfd) == -1)
			tp_err_errno(err, TP_UNAVAILABLE,
			    "cannot sync the folder of %s", keyfile);
		else
			rc = 0;
	}
	close(fd);
	if (rc == -1)
		unlink(keyfile);
done:
	close(dfd);
	secrets_keyfile_wipe(&kf);
	return rc;
}

/* Creates the temporary file of a rotation, owned like the key file. */
static int
secrets_rotate_tmp(const char *keyfile, const struct stat *st, char *tmp,
    size_t size, struct tp_err *err)
{
	int fd;

	if ((size_t)snprintf(tmp, size, "%s.tmp.XXXXXX", keyfile) >= size) {
		tp_err_set(err, TP_INVALID_ARGUMENT,
		    "master key file path is too long");
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE, "cannot create %s", tmp);
		return -1;
	}
	if (fchmod(fd, 0600) == -1 || ((st->st_uid != geteuid() ||
	    st->st_gid != getegid()) &&
	    fchown(fd, st->st_uid, st->st_gid) == -1)) {
		tp_err_errno(err, TP_UNAVAILABLE,
		    "cannot give %s the owner and mode of %s", tmp, keyfile);
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

int
secrets_keygen_rotate(const char *keyfile, unsigned *version,
    struct tp_err *err)
{
	struct keyfile kf;
	char tmp[PATH_MAX];
	int fd = -1, dfd, rc = -1;

	memset(&kf, 0, sizeof(kf));
	if ((dfd = secrets_open_dir(keyfile, err)) == -1)
		return -1;
	/* The folder lock keeps two rotations from losing a version: the
	 * file itself is replaced, so a lock on it would not hold. */
	if (flock(dfd, LOCK_EX) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE,
		    "cannot lock the folder of %s", keyfile);
		goto done;
	}
	if (secrets_keyfile_read(keyfile, &kf, false, err) == -1 ||
	    secrets_keyfile_add(&kf, version, err) == -1)
		goto done;
	fd = secrets_rotate_tmp(keyfile, &kf.st, tmp, sizeof(tmp), err);
	if (fd == -1)
		goto done;
	if (secrets_keyfile_write(fd, &kf, err) == -1) {
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, keyfile) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE, "cannot rename %s to %s",
		    tmp, keyfile);
		unlink(tmp);
		goto done;
	}
	if (fsync(dfd) == -1) {
		tp_err_errno(err, TP_UNAVAILABLE,
		    "cannot sync the folder of %s", keyfile);
		goto done;
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	close(dfd);		/* releases the lock */
	secrets_keyfile_wipe(&kf);
	return rc;
}

struct secrets *
secrets_load(const char *keyfile, struct tp_err *err)
{
	struct keyfile kf;
	struct secrets *s;
	size_t size;

	if (secrets_keyfile_read(keyfile, &kf, true, err) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		secrets_keyfile_wipe(&kf);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	size = (size_t)kf.nkeys * SECRETS_KEY_BYTES;
	if ((s->keys = sodium_malloc(size)) == NULL) {
		secrets_keyfile_wipe(&kf);
		free(s);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of guarded memory");
		return NULL;
	}
	memcpy(s->keys, kf.keys, size);
	memcpy(s->versions, kf.versions, sizeof(s->versions));
	s->nkeys = kf.nkeys;
	secrets_keyfile_wipe(&kf);
	/* Read-only from here on: a stray write faults instead of
	 * silently corrupting a key. */
	sodium_mprotect_readonly(s->keys);
	return s;
}

void
secrets_free(struct secrets *s)
{
	if (s == NULL)
		return;
	if (s->keys != NULL) {
		sodium_mprotect_readwrite(s->keys);
		sodium_free(s->keys);	/* zeroes the memory first */
	}
	free(s);
}

unsigned
secrets_current_version(const struct secrets *s)
{
	return s->versions[s->nkeys - 1];
}

const uint8_t *
secrets_key(const struct secrets *s, unsigned version)
{
	unsigned i;

	for (i = 0; i < s->nkeys; i++)
		if (s->versions[i] == version)
			return s->keys + (size_t)i * SECRETS_KEY_BYTES;
	return NULL;
}
