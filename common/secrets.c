/* secrets.c: the versioned master key file and tenant secrets sealed with XChaCha20-Poly1305. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/path.h"
#include "common/secrets.h"

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
 *
 * Error codes: a key file that is missing or unreadable is TP_UNAVAILABLE;
 * one with a bad mode, bad contents or an unknown key version is
 * TP_FAILED_PRECONDITION (the operator must fix something first). A sealed
 * map that does not decrypt is TP_PERMISSION_DENIED: with a sound key file
 * the usual cause is a ciphertext copied under another tenant's path, which
 * is exactly the access that must be refused. A malformed sealed map or bad
 * input is TP_INVALID_ARGUMENT.
 */

#define SECRETS_FILE_MAX	16384	/* far above 64 versions of ~60 bytes */
#define SECRETS_VERSION_MAX	1000000u
#define SECRETS_ALG		"xchacha20poly1305"
#define SECRETS_HEADER \
	"# tradepulse master key file: one key version per line, newest last.\n" \
	"# Keep it mode 0600 and never share it. Created by tradepulse keygen.\n"
#define SECRETS_B64_LEN \
	sodium_base64_ENCODED_LEN(SECRETS_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)
#define SECRETS_NONCE_BYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SECRETS_TAG_BYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SECRETS_CT_MAX		(SECRETS_PLAINTEXT_MAX + SECRETS_TAG_BYTES)

/* Encoding of Alpaca credentials inside the seal: a format byte, then the
 * key id and the secret, each as one length byte and that many bytes. */
#define ALPACA_FORMAT		1
#define ALPACA_FIELD_MAX	128
#define ALPACA_PT_MAX		(1 + 2 * (1 + ALPACA_FIELD_MAX))
#define ALPACA_PATH_MAX		(sizeof("users//secrets/alpaca") + 128)

struct secrets {
	unsigned	 nkeys;
	unsigned	 versions[SECRETS_MAX_VERSIONS];
	uint8_t		*keys;		/* nkeys * SECRETS_KEY_BYTES, read-only */
};

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

static const uint8_t *
secrets_key(const struct secrets *s, unsigned version)
{
	unsigned i;

	for (i = 0; i < s->nkeys; i++)
		if (s->versions[i] == version)
			return s->keys + (size_t)i * SECRETS_KEY_BYTES;
	return NULL;
}

static int
secrets_b64_add(json_object *o, const char *key, const uint8_t *bin,
    size_t len)
{
	size_t size = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	json_object *v;
	char *b64;

	if ((b64 = malloc(size)) == NULL)
		return -1;
	sodium_bin2base64(b64, size, bin, len, sodium_base64_VARIANT_ORIGINAL);
	v = json_object_new_string(b64);
	free(b64);
	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

json_object *
secrets_seal(const struct secrets *s, const char *path, const uint8_t *pt,
    size_t ptlen, struct tp_err *err)
{
	uint8_t nonce[SECRETS_NONCE_BYTES];
	unsigned version = secrets_current_version(s);
	unsigned long long ctlen = 0;
	json_object *o = NULL, *v;
	uint8_t *ct;

	if (path == NULL || *path == '\0') {
		tp_err_set(err, TP_INVALID_ARGUMENT, "no document path to seal "
		    "under");
		return NULL;
	}
	if (ptlen > SECRETS_PLAINTEXT_MAX) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "secret of %zu bytes is "
		    "larger than %d", ptlen, SECRETS_PLAINTEXT_MAX);
		return NULL;
	}
	if ((ct = malloc(ptlen + SECRETS_TAG_BYTES)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	randombytes_buf(nonce, sizeof(nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, pt, ptlen,
	    (const uint8_t *)path, strlen(path), NULL, nonce,
	    secrets_key(s, version));
	if ((o = json_object_new_object()) == NULL ||
	    (v = json_object_new_string(SECRETS_ALG)) == NULL ||
	    json_object_object_add(o, "alg", v) != 0 ||
	    (v = json_object_new_int64(version)) == NULL ||
	    json_object_object_add(o, "key_version", v) != 0 ||
	    secrets_b64_add(o, "nonce", nonce, sizeof(nonce)) == -1 ||
	    secrets_b64_add(o, "ciphertext", ct, (size_t)ctlen) == -1) {
		json_object_put(o);
		o = NULL;
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	free(ct);
	return o;
}

unsigned
secrets_sealed_version(json_object *sealed)
{
	json_object *v;
	int64_t n;

	if (!json_object_is_type(sealed, json_type_object) ||
	    !json_object_object_get_ex(sealed, "key_version", &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	if (n < 1 || n > SECRETS_VERSION_MAX)
		return 0;
	return (unsigned)n;
}

/* Decodes the base64 string member key of o into bin (exactly want bytes,
 * or at most max bytes when want is 0). */
static int
secrets_b64_get(json_object *o, const char *key, uint8_t *bin, size_t want,
    size_t max, size_t *len, struct tp_err *err)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret has no %s string", key);
	s = json_object_get_string(v);
	if (sodium_base642bin(bin, want ? want : max, s,
	    (size_t)json_object_get_string_len(v), NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    (want != 0 && *len != want))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret has a bad %s", key);
	return 0;
}

/*
 * Opens a sealed map into out (size bytes, enough for the plaintext; the
 * caller wipes it): the work of secrets_open without an allocation, so
 * a pulse's thousands of openings cost no guarded-page syscalls.
 */
static int
secrets_open_into(const struct secrets *s, const char *path,
    json_object *sealed, uint8_t *out, size_t size, size_t *ptlen,
    struct tp_err *err)
{
	uint8_t nonce[SECRETS_NONCE_BYTES];
	uint8_t ct[SECRETS_CT_MAX];
	unsigned long long mlen = 0;
	const uint8_t *key;
	json_object *v;
	unsigned version;
	size_t ctlen = 0, noncelen = 0;

	*ptlen = 0;
	if (path == NULL || *path == '\0')
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "no document path to open the secret under");
	if (!json_object_is_type(sealed, json_type_object) ||
	    !json_object_object_get_ex(sealed, "alg", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), SECRETS_ALG) != 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret at %s is not a %s map", path, SECRETS_ALG);
	if ((version = secrets_sealed_version(sealed)) == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret at %s has no valid key_version", path);
	if ((key = secrets_key(s, version)) == NULL)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "sealed with key version %u, which the key file does not "
		    "have", version);
	if (secrets_b64_get(sealed, "nonce", nonce, sizeof(nonce), 0,
	    &noncelen, err) == -1)
		return -1;
	/* the ciphertext is not secret: no wiping needed */
	if (secrets_b64_get(sealed, "ciphertext", ct, 0, SECRETS_CT_MAX,
	    &ctlen, err) == -1)
		return -1;
	if (ctlen < SECRETS_TAG_BYTES)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "sealed secret has a bad ciphertext");
	if (ctlen - SECRETS_TAG_BYTES > size)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "the sealed secret "
		    "at %s is longer than expected", path);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct,
	    ctlen, (const uint8_t *)path, strlen(path), nonce, key) != 0)
		return tp_err_set(err, TP_PERMISSION_DENIED, "cannot decrypt "
		    "the secret at %s: wrong key or document path, or tampered "
		    "data", path);
	*ptlen = (size_t)mlen;
	return 0;
}

int
secrets_open(const struct secrets *s, const char *path, json_object *sealed,
    uint8_t **pt, size_t *ptlen, struct tp_err *err)
{
	uint8_t *m;

	*pt = NULL;
	*ptlen = 0;
	/* One byte more so that an empty secret still gets a buffer. */
	if ((m = sodium_malloc(SECRETS_PLAINTEXT_MAX + 1)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	if (secrets_open_into(s, path, sealed, m, SECRETS_PLAINTEXT_MAX,
	    ptlen, err) == -1) {
		sodium_free(m);
		return -1;
	}
	*pt = m;
	return 0;
}

void
secrets_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	sodium_free(p);
}

/* uid rule of the brief, checked here so this module stands alone. */
static int
secrets_check_uid(const char *uid, struct tp_err *err)
{
	size_t i;

	if (uid == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "no uid");
	for (i = 0; uid[i] != '\0'; i++) {
		if (i == 128 || !((uid[i] >= 'a' && uid[i] <= 'z') ||
		    (uid[i] >= 'A' && uid[i] <= 'Z') ||
		    (uid[i] >= '0' && uid[i] <= '9') ||
		    uid[i] == '_' || uid[i] == '-'))
			return tp_err_set(err, TP_INVALID_ARGUMENT,
			    "invalid uid: 1 to 128 characters of "
			    "[A-Za-z0-9_-] expected");
	}
	if (i == 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "invalid uid: 1 to 128 characters of [A-Za-z0-9_-] "
		    "expected");
	return 0;
}

/* Length of a credential field, or 0 if it is not 1..128 printable ASCII
 * characters without spaces, NUL-terminated inside its array. */
static size_t
secrets_field_len(const char *f, size_t size)
{
	size_t i, n = strnlen(f, size);

	if (n == 0 || n == size || n > ALPACA_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x21 || (unsigned char)f[i] > 0x7e)
			return 0;
	return n;
}

static int
secrets_alpaca_path(const char *uid, char *path, size_t size,
    struct tp_err *err)
{
	if (secrets_check_uid(uid, err) == -1)
		return -1;
	snprintf(path, size, "users/%s/secrets/alpaca", uid);
	return 0;
}

/* Canonical timestamp "YYYY-MM-DDTHH:MM:SS.ffffffZ" of now, in UTC. */
static void
secrets_timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static int
secrets_add_str(json_object *o, const char *key, const char *s)
{
	json_object *v = json_object_new_string(s);

	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* The last four characters of a key id: enough to recognize it. Not
 * authenticated in the document: readers derive it from the sealed key id
 * (secrets_alpaca_last4); it stays for older readers and the store's eye. */
static int
secrets_add_last4(json_object *o, const char *key_id, size_t n)
{
	return secrets_add_str(o, "key_id_last4", key_id + (n > 4 ? n - 4 : 0));
}

json_object *
secrets_alpaca_doc(const struct secrets *s, const char *uid,
    const struct alpaca_creds *c, struct tp_err *err)
{
	char path[ALPACA_PATH_MAX], now[96];	/* 28 used; room for any tm */
	size_t idlen, seclen, len = 0;
	json_object *doc = NULL, *sealed;
	uint8_t *pt;

	if (secrets_alpaca_path(uid, path, sizeof(path), err) == -1)
		return NULL;
	idlen = secrets_field_len(c->key_id, sizeof(c->key_id));
	seclen = secrets_field_len(c->secret, sizeof(c->secret));
	if (idlen == 0 || seclen == 0) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "the Alpaca %s must be "
		    "1 to %d printable ASCII characters without spaces",
		    idlen == 0 ? "key id" : "secret", ALPACA_FIELD_MAX);
		return NULL;
	}
	if ((pt = sodium_malloc(ALPACA_PT_MAX)) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of guarded memory");
		return NULL;
	}
	pt[len++] = ALPACA_FORMAT;
	pt[len++] = (uint8_t)idlen;
	memcpy(pt + len, c->key_id, idlen);
	len += idlen;
	pt[len++] = (uint8_t)seclen;
	memcpy(pt + len, c->secret, seclen);
	len += seclen;
	sealed = secrets_seal(s, path, pt, len, err);
	secrets_wipe_free(pt, ALPACA_PT_MAX);
	if (sealed == NULL)
		return NULL;
	secrets_timestamp(now, sizeof(now));
	if ((doc = json_object_new_object()) == NULL ||
	    json_object_object_add(doc, "sealed", sealed) != 0) {
		json_object_put(sealed);
		goto oom;
	}
	if (secrets_add_last4(doc, c->key_id, idlen) == -1 ||
	    secrets_add_str(doc, "updated_at", now) == -1)
		goto oom;
	return doc;
oom:
	json_object_put(doc);
	tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	return NULL;
}

/* Splits the sealed plaintext into c; 0 or -1 if it is malformed. */
static int
secrets_alpaca_decode(const uint8_t *pt, size_t len, struct alpaca_creds *c)
{
	size_t idlen, seclen;

	if (len < 3 || pt[0] != ALPACA_FORMAT)
		return -1;
	idlen = pt[1];
	if (idlen == 0 || idlen > ALPACA_FIELD_MAX || len < 2 + idlen + 1)
		return -1;
	seclen = pt[2 + idlen];
	if (seclen == 0 || seclen > ALPACA_FIELD_MAX ||
	    len != 3 + idlen + seclen)
		return -1;
	memcpy(c->key_id, pt + 2, idlen);
	c->key_id[idlen] = '\0';
	memcpy(c->secret, pt + 3 + idlen, seclen);
	c->secret[seclen] = '\0';
	if (secrets_field_len(c->key_id, sizeof(c->key_id)) != idlen ||
	    secrets_field_len(c->secret, sizeof(c->secret)) != seclen)
		return -1;
	return 0;
}

int
secrets_alpaca_open(const struct secrets *s, const char *uid,
    json_object *doc, struct alpaca_creds *c, struct tp_err *err)
{
	char path[ALPACA_PATH_MAX];
	json_object *sealed;
	uint8_t pt[ALPACA_PT_MAX];	/* wiped before returning */
	size_t ptlen = 0;
	int rc;

	if (secrets_alpaca_path(uid, path, sizeof(path), err) == -1)
		return -1;
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "sealed", &sealed))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s has no sealed secret", path);
	rc = secrets_open_into(s, path, sealed, pt, sizeof(pt), &ptlen, err);
	if (rc == 0)
		rc = secrets_alpaca_decode(pt, ptlen, c);
	sodium_memzero(pt, sizeof(pt));
	if (rc == -1 && ptlen == 0)
		return -1;		/* err says why */
	if (rc == -1) {
		secrets_alpaca_wipe(c);
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "the sealed secret at %s does not hold Alpaca credentials",
		    path);
	}
	return 0;
}

int
secrets_alpaca_last4(const struct secrets *s, const char *uid,
    json_object *doc, char *out, size_t size, struct tp_err *err)
{
	struct alpaca_creds c;	/* wiped before returning */
	size_t n;
	int rc;

	if (size < 5)
		return tp_err_set(err, TP_INTERNAL, "no room for a key id end");
	out[0] = '\0';
	if ((rc = secrets_alpaca_open(s, uid, doc, &c, err)) == 0) {
		n = strlen(c.key_id);
		memcpy(out, c.key_id + (n > 4 ? n - 4 : 0), (n > 4 ? 4 : n) + 1);
	}
	secrets_alpaca_wipe(&c);
	return rc;
}

void
secrets_alpaca_wipe(struct alpaca_creds *c)
{
	if (c != NULL)
		sodium_memzero(c, sizeof(*c));
}

int
secrets_alpaca_reseal(const struct secrets *s, const char *uid,
    json_object *doc, json_object **out, struct tp_err *err)
{
	struct alpaca_creds *c;
	json_object *fresh = NULL, *copy = NULL, *v;
	int rc = -1;

	*out = NULL;
	if (secrets_check_uid(uid, err) == -1)
		return -1;
	if (json_object_is_type(doc, json_type_object) &&
	    json_object_object_get_ex(doc, "sealed", &v) &&
	    secrets_sealed_version(v) == secrets_current_version(s))
		return 0;
	if ((c = sodium_malloc(sizeof(*c))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	if (secrets_alpaca_open(s, uid, doc, c, err) == -1)
		goto done;
	if ((fresh = secrets_alpaca_doc(s, uid, c, err)) == NULL)
		goto done;
	/* Keep the other fields (updated_at is when the tenant set the
	 * keys, which a rotation does not change). */
	if (json_object_deep_copy(doc, &copy, NULL) != 0) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	json_object_object_foreach(fresh, key, val) {
		if (strcmp(key, "updated_at") == 0 &&
		    json_object_object_get_ex(copy, key, NULL))
			continue;
		if (json_object_object_add(copy, key,
		    json_object_get(val)) != 0) {
			json_object_put(val);
			tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
			goto done;
		}
	}
	*out = copy;
	copy = NULL;
	rc = 1;
done:
	json_object_put(copy);
	json_object_put(fresh);
	secrets_alpaca_wipe(c);
	sodium_free(c);
	return rc;
}
