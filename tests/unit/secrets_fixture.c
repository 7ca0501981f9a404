/* secrets_fixture.c: the secrets tests' shared fixture: a temporary folder with a key file, and helpers. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/secrets.h"
#include "tests/unit/secrets_fixture.h"

char tmpdir[64];
char keyfile[128];
struct tp_err err;

void
secrets_setup(void)
{
	strcpy(tmpdir, "/tmp/tp-test-secrets-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(keyfile, sizeof(keyfile), "%s/master.key", tmpdir);
	tp_err_clear(&err);
	cr_assert_eq(secrets_init(&err), 0);
}

void
secrets_teardown(void)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(tmpdir);

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir,
			    de->d_name);
			if (unlink(path) == -1)
				rmdir(path);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}


/* Writes text as the key file with the given mode. */
void
write_keyfile(const char *text, mode_t mode)
{
	int fd;

	unlink(keyfile);
	fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(chmod(keyfile, mode), 0);
}

char *
read_text(const char *path)
{
	static char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* A base64 line for a key of 32 bytes all equal to b. */
void
key_line(char *buf, size_t size, unsigned version, uint8_t b)
{
	uint8_t key[SECRETS_KEY_BYTES];
	char b64[64];

	memset(key, b, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(buf, size, "v%u %s\n", version, b64);
}

/* Entries of tmpdir other than . and .. */
int
count_entries(void)
{
	struct dirent *de;
	DIR *d = opendir(tmpdir);
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

struct secrets *
fresh_secrets(void)
{
	struct secrets *s;

	cr_assert_eq(secrets_keygen(keyfile, &err), 0, "%s", err.msg);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	return s;
}

void
creds_set(struct alpaca_creds *c, const char *id, const char *secret)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->key_id, id);
	strcpy(c->secret, secret);
}
