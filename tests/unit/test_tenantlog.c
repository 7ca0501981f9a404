/* test_tenantlog.c: tenant log lines, escaping, rotation, secret refusal, threads. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tenantlog.h"

#define UID "k3JhG8sP2QaZr7XyT1mNb0VwLc9d"	/* 28 characters, like Firebase */

static char tmpdir[64];
static char tenants[128];

static void
setup(void)
{
	umask(022);
	strcpy(tmpdir, "/tmp/tp-test-tlog-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(tenants, sizeof(tenants), "%s/tenants", tmpdir);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
read_file(const char *dir, const char *name, size_t *lenp)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

static bool
file_exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static size_t
count_entries(const char *dir)
{
	char cmd[256];
	FILE *p;
	size_t n = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	cr_assert_not_null(p = popen(cmd, "r"));
	while ((c = fgetc(p)) != EOF)
		n += c == '\n';
	pclose(p);
	return n;
}

static struct tenantlog *
open_log(uint64_t max, unsigned keep)
{
	struct tp_err err = { 0 };
	struct tenantlog *tl = tenantlog_open(tmpdir, max, keep, &err);

	cr_assert_not_null(tl, "tenantlog_open: %s", err.msg);
	return tl;
}

/* The whole file is exactly one line: "<ts> LEVEL JOB EVENT" + rest. */
static void
assert_one_line(const char *text, const char *rest)
{
	regex_t re;
	const char *pat =
	    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z ";

	cr_assert_eq(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&re, text, 0, NULL, 0), 0, "bad line: %s", text);
	regfree(&re);
	cr_assert_str_eq(text + 28, rest);
}

Test(tenantlog, open_creates_folder_0750, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct stat st;

	cr_assert_eq(stat(tenants, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0750, "mode %o", st.st_mode & 07777);
	tenantlog_free(tl);
	/* A second open finds the folder there. */
	tl = open_log(1 << 20, 5);
	tenantlog_free(tl);
}

Test(tenantlog, open_creates_missing_log_dir, .init = setup, .fini = teardown)
{
	struct tp_err err = { 0 };
	struct tenantlog *tl;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/logs/", tmpdir);
	tl = tenantlog_open(dir, 4096, 1, &err);
	cr_assert_not_null(tl, "%s", err.msg);
	snprintf(dir, sizeof(dir), "%s/logs/tenants", tmpdir);
	cr_assert_eq(access(dir, X_OK), 0);
	tenantlog_free(tl);
}

Test(tenantlog, open_refuses_bad_arguments, .init = setup, .fini = teardown)
{
	struct tp_err err = { 0 };
	char file[128];
	int fd;

	cr_assert_null(tenantlog_open(NULL, 4096, 1, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_null(tenantlog_open("", 4096, 1, &err));
	cr_assert_null(tenantlog_open(tmpdir, 0, 1, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_null(tenantlog_open(tmpdir, 4096, 100000, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	/* log_dir is a file: no folder can be made under it. */
	snprintf(file, sizeof(file), "%s/plain", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_null(tenantlog_open(file, 4096, 1, &err));
	cr_assert_neq(err.code, TP_OK);
	/* A NULL err is allowed. */
	cr_assert_null(tenantlog_open(NULL, 4096, 1, NULL));
}

Test(tenantlog, line_format_and_mode, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	struct stat st;
	char path[512], *text;

	cr_assert_eq(tenantlog_write(tl, UID, TLOG_INFO, "job-42", "sync",
	    "synced equity 122011.09751111286868", &err), 0, "%s", err.msg);
	text = read_file(tenants, UID ".log", NULL);
	cr_assert_not_null(text);
	assert_one_line(text, "INFO job-42 sync synced equity 122011.09751111286868\n");
	free(text);

	cr_assert_eq(tenantlog_path(tl, UID, path, sizeof(path)), 0);
	cr_assert_str_eq(path, strcat(strcpy((char[256]){ 0 }, tenants),
	    "/" UID ".log"));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
	tenantlog_free(tl);
}

/* A batch's lines land together, in order, and nothing before the flush. */
Test(tenantlog, batch_writes_its_lines_at_once, .init = setup,
    .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tenantlog_batch *tb = malloc(sizeof(*tb));
	struct tp_err err = { 0 };
	char *text;

	cr_assert_not_null(tb);
	tenantlog_batch_begin(tb, UID);
	cr_assert_eq(tenantlog_batch_add(tl, tb, TLOG_INFO, "j1", "account",
	    "equity 100.5", &err), 0, "%s", err.msg);
	/* a refused line is left out; the others stay */
	cr_assert_eq(tenantlog_batch_add(tl, tb, TLOG_INFO, "j1", "keys",
	    "PKXXXXXXXXXXXXXXXXXX", &err), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	cr_assert_eq(tenantlog_batch_add(tl, tb, TLOG_WARN, "j1", "sync",
	    "committed", &err), 0, "%s", err.msg);
	cr_assert_not(file_exists(tenants, UID ".log"), "written before "
	    "the flush");
	cr_assert_eq(tenantlog_batch_flush(tl, tb, &err), 0, "%s", err.msg);
	text = read_file(tenants, UID ".log", NULL);
	cr_assert_not_null(text);
	cr_assert_not_null(strstr(text, " INFO j1 account equity 100.5\n"),
	    "%s", text);
	cr_assert_not_null(strstr(text, " WARN j1 sync committed\n"), "%s",
	    text);
	cr_assert(strstr(text, "account") < strstr(text, "committed"));
	cr_assert_null(strstr(text, "PKX"));
	free(text);
	/* an empty batch writes nothing, and the flush emptied it */
	cr_assert_eq(tenantlog_batch_flush(tl, tb, &err), 0);
	free(tb);
	tenantlog_free(tl);
}

/* A batch larger than its buffer is written in parts, losing no line;
 * an invalid or too long uid gets no file. */
Test(tenantlog, batch_overflows_in_parts, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tenantlog_batch *tb = malloc(sizeof(*tb));
	struct tp_err err = { 0 };
	char msg[1500], longuid[200], *text, *p;
	size_t lines = 0;
	int i;

	cr_assert_not_null(tb);
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	tenantlog_batch_begin(tb, "u1");
	for (i = 0; i < 40; i++)
		cr_assert_eq(tenantlog_batch_add(tl, tb, TLOG_INFO, "j", "sync",
		    msg, &err), 0, "line %d: %s", i, err.msg);
	cr_assert_eq(tenantlog_batch_flush(tl, tb, &err), 0, "%s", err.msg);
	text = read_file(tenants, "u1.log", NULL);
	cr_assert_not_null(text);
	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	cr_assert_eq(lines, 40);
	free(text);

	memset(longuid, 'a', sizeof(longuid) - 1);
	longuid[sizeof(longuid) - 1] = '\0';
	tenantlog_batch_begin(tb, longuid);
	cr_assert_eq(tenantlog_batch_add(tl, tb, TLOG_INFO, "j", "sync", "hi",
	    &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	tenantlog_batch_begin(tb, "../x");
	cr_assert_eq(tenantlog_batch_add(tl, tb, TLOG_INFO, "j", "sync", "hi",
	    &err), -1);
	cr_assert_eq(tenantlog_batch_flush(tl, tb, &err), 0);
	cr_assert_eq(count_entries(tenants), 1);
	free(tb);
	tenantlog_free(tl);
}

Test(tenantlog, levels_and_empty_job_id, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char *text, *line;

	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_DEBUG, NULL, "a", "one",
	    &err), 0);
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "", "b", "two",
	    &err), 0);
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_WARN, "j", "c", "three",
	    &err), 0);
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_ERROR, "j", "crash", NULL,
	    &err), 0);
	cr_assert_eq(tenantlog_write(tl, "u1", (enum tlog_level)9, "j", "c",
	    "x", &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	text = read_file(tenants, "u1.log", NULL);
	line = text;
	cr_assert_eq(strncmp(line + 28, "DEBUG - a one\n", 14), 0, "%s", text);
	line = strchr(line, '\n') + 1;
	cr_assert_eq(strncmp(line + 28, "INFO - b two\n", 13), 0, "%s", text);
	line = strchr(line, '\n') + 1;
	cr_assert_eq(strncmp(line + 28, "WARN j c three\n", 15), 0, "%s", text);
	line = strchr(line, '\n') + 1;
	cr_assert_str_eq(line + 28, "ERROR j crash\n");
	free(text);
	tenantlog_free(tl);
}

Test(tenantlog, writef_formats, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char *text;

	cr_assert_eq(tenantlog_writef(tl, "u1", TLOG_WARN, "j1", "sync", &err,
	    "alpaca replied %d after %.1f s", 429, 1.5), 0, "%s", err.msg);
	text = read_file(tenants, "u1.log", NULL);
	assert_one_line(text, "WARN j1 sync alpaca replied 429 after 1.5 s\n");
	free(text);
	tenantlog_free(tl);
}

Test(tenantlog, escapes_make_one_line, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char *text;

	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "e",
	    "a\nb\rc\td\\e\x01" "f\x7f" "g", &err), 0);
	/* é is valid UTF-8 and kept; a lone 0xff and a truncated sequence are
	 * not; U+0085 and U+2028 end lines in some viewers. */
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "e",
	    "caf\xc3\xa9 \xff \xe2\x82 \xc2\x85 \xe2\x80\xa8 \xc0\xaf", &err), 0);
	text = read_file(tenants, "u1.log", NULL);
	cr_assert_not_null(strstr(text,
	    " INFO j e a\\nb\\rc\\td\\\\e\\x01f\\x7fg\n"), "%s", text);
	cr_assert_not_null(strstr(text,
	    " INFO j e caf\xc3\xa9 \\xff \\xe2\\x82 \\u0085 \\u2028 \\xc0\\xaf\n"),
	    "%s", text);
	free(text);
	tenantlog_free(tl);
}

Test(tenantlog, long_message_cut_with_marker, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char msg[5000], *text;
	size_t len;

	/* Escapes expand: \x01 becomes four bytes, and none may be split. */
	for (size_t i = 0; i < sizeof(msg) - 1; i++)
		msg[i] = i % 3 == 0 ? '\x01' : 'm';
	msg[sizeof(msg) - 1] = '\0';
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "e", msg, &err),
	    0);
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "e", "next",
	    &err), 0);
	text = read_file(tenants, "u1.log", &len);
	char *nl = strchr(text, '\n');
	cr_assert_leq((size_t)(nl - text) + 1, TLOG_LINE_MAX);
	cr_assert_geq((size_t)(nl - text) + 1, TLOG_LINE_MAX - 8);
	cr_assert_eq(strncmp(nl - strlen(" [truncated]"), " [truncated]",
	    strlen(" [truncated]")), 0);
	/* the last escape before the marker is whole */
	cr_assert_eq(strncmp(nl - strlen(" [truncated]") - 4, "\\x01", 4) == 0 ||
	    nl[-(int)strlen(" [truncated]") - 1] == 'm', 1);
	cr_assert_str_eq(nl + 1 + 28, "INFO j e next\n");
	free(text);
	tenantlog_free(tl);
}

Test(tenantlog, rotation_keeps_n_files, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1024, 3);
	struct tp_err err = { 0 };
	const char *names[] = { UID ".log.3", UID ".log.2", UID ".log.1",
	    UID ".log" };
	int i, next = -1;

	for (i = 0; i < 500; i++)
		cr_assert_eq(tenantlog_writef(tl, UID, TLOG_INFO, "job", "sync",
		    &err, "line %04d %s", i, "some text to fill the file"), 0,
		    "%s", err.msg);
	cr_assert_eq(count_entries(tenants), 4, "exactly uid.log and 3 old");
	cr_assert_not(file_exists(tenants, UID ".log.4"));
	/* Oldest to newest: sizes bounded, whole lines, numbers contiguous. */
	for (size_t f = 0; f < 4; f++) {
		size_t len;
		char *text = read_file(tenants, names[f], &len), *p;

		cr_assert_not_null(text, "missing %s", names[f]);
		cr_assert_gt(len, 0);
		cr_assert_leq(len, 1024, "%s is %zu bytes", names[f], len);
		cr_assert_eq(text[len - 1], '\n');
		for (p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
			int k;

			cr_assert_eq(sscanf(p + 28, "INFO job sync line %d", &k), 1);
			if (next != -1)
				cr_assert_eq(k, next, "gap in %s", names[f]);
			next = k + 1;
		}
		free(text);
	}
	cr_assert_eq(next, 500, "the newest line is in uid.log");
	tenantlog_free(tl);
}

Test(tenantlog, rotation_with_keep_zero, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(300, 0);
	struct tp_err err = { 0 };
	size_t len;
	char *text;

	for (int i = 0; i < 50; i++)
		cr_assert_eq(tenantlog_writef(tl, "u1", TLOG_INFO, "j", "e",
		    &err, "line %d", i), 0);
	cr_assert_eq(count_entries(tenants), 1);
	text = read_file(tenants, "u1.log", &len);
	cr_assert_leq(len, 300);
	cr_assert_not_null(strstr(text, " line 49\n"));
	free(text);
	tenantlog_free(tl);
}

Test(tenantlog, line_larger_than_max_size_gets_own_file, .init = setup,
    .fini = teardown)
{
	struct tenantlog *tl = open_log(10, 2);
	struct tp_err err = { 0 };
	char *text;

	for (int i = 0; i < 5; i++) {
		cr_assert_eq(tenantlog_writef(tl, "u1", TLOG_INFO, "j", "e",
		    &err, "line %d", i), 0);
		/* An empty file takes the line without rotating first. */
		if (i == 0)
			cr_assert_eq(count_entries(tenants), 1);
	}
	cr_assert_eq(count_entries(tenants), 3);
	text = read_file(tenants, "u1.log", NULL);
	cr_assert_str_eq(text + 28, "INFO j e line 4\n");
	free(text);
	text = read_file(tenants, "u1.log.2", NULL);
	cr_assert_str_eq(text + 28, "INFO j e line 2\n");
	free(text);
	tenantlog_free(tl);
}

/* Each must be refused, and nothing written. */
static const char *const secret_like[] = {
	"abcDEF123ghiJKL456mnoPQR789stuVWX012yzAB",	/* 40, Alpaca-like */
	"secret is abcDEF123ghiJKL456mnoPQR789stuVWX012yzAB, oops",
	"PKXXXXXXXXXXXXXXXXXX",
	"key id=PKA1B2C3D4E5F6G7H8I9",
	"AKZZZZZZZZZZZZZZ",
	"CK0123456789ABCD",
	"ciphertext",
	"field Ciphertext missing",
	"secret_key",
	"the alpaca_secret_key was wrong",
	"q8Zx/3Lm+Rt7Wv2Np/9Kd4Hs1Bc6Yf0Ue5Ga=",	/* base64 */
	"users/u1/secrets/abcDEF123ghiJKL456mnoPQR789stuVWX012yzAB",
	"eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ1MSJ9",	/* a JWT */
};

/* Each must pass. */
static const char *const plain[] = {
	UID,
	"users/" UID "/data/snapshot",
	"cannot write users/" UID "/status/last_sync_error: busy",
	"sync failed: alpaca returned 401 unauthorized",
	"equity 122011.09751111286868 cash 1000.00 buying_power 2000",
	"2026-11-29T18:41:50.123456Z",
	"aB3dE5gH7jK9mN1pQ3sT",				/* 20-char auto id */
	"order 550e8400-e29b-41d4-a716-446655440000 filled",
	"sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	"PKG update ACKNOWLEDGEMENTS",
	"keys set; key id ends in WXYZ",
	"",
	"12345678901234567890123456789012345678901234567890",
};

Test(tenantlog, looks_secret_classifies, .init = setup, .fini = teardown)
{
	for (size_t i = 0; i < sizeof(secret_like) / sizeof(*secret_like); i++)
		cr_assert(tenantlog_looks_secret(secret_like[i]),
		    "should look secret: %s", secret_like[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		cr_assert_not(tenantlog_looks_secret(plain[i]),
		    "should pass: %s", plain[i]);
	cr_assert_not(tenantlog_looks_secret(NULL));
	/* 31 mixed characters pass; 32 do not. */
	cr_assert_not(tenantlog_looks_secret("abcDEF123ghiJKL456mnoPQR789stuV"));
	cr_assert(tenantlog_looks_secret("abcDEF123ghiJKL456mnoPQR789stuVW"));
	/* PK and 13 more pass; 14 do not. */
	cr_assert_not(tenantlog_looks_secret("PK0123456789ABC"));
	cr_assert(tenantlog_looks_secret("PK0123456789ABCD"));
}

Test(tenantlog, refuses_secrets_writing_nothing, .init = setup,
    .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	size_t before, after;
	char *text;

	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "keys",
	    "keys set", &err), 0);
	text = read_file(tenants, "u1.log", &before);
	free(text);
	for (size_t i = 0; i < sizeof(secret_like) / sizeof(*secret_like); i++) {
		tp_err_clear(&err);
		cr_assert_eq(tenantlog_write(tl, "u1", TLOG_ERROR, "j", "keys",
		    secret_like[i], &err), -1, "wrote %s", secret_like[i]);
		cr_assert_eq(err.code, TP_PERMISSION_DENIED);
		/* The refusal itself must not carry the secret. */
		cr_assert_null(strstr(err.msg, secret_like[i]));
		tp_err_clear(&err);
		cr_assert_eq(tenantlog_writef(tl, "u1", TLOG_ERROR, "j", "keys",
		    &err, "bad keys: %s", secret_like[i]), -1);
		cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	}
	/* In the job id too. */
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO,
	    "PKXXXXXXXXXXXXXXXXXX", "keys", "ok", &err), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	/* No file for a tenant whose only line was refused. */
	cr_assert_eq(tenantlog_write(tl, "u2", TLOG_INFO, "j", "keys",
	    "PKXXXXXXXXXXXXXXXXXX", &err), -1);
	cr_assert_not(file_exists(tenants, "u2.log"));

	text = read_file(tenants, "u1.log", &after);
	cr_assert_eq(after, before, "a refused line was written: %s", text);
	free(text);

	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "sync",
		    plain[i], &err), 0, "refused %s: %s", plain[i], err.msg);
	tenantlog_free(tl);
}

Test(tenantlog, secret_past_the_cut_is_refused, .init = setup,
    .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char pad[3000];

	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	cr_assert_eq(tenantlog_writef(tl, "u1", TLOG_INFO, "j", "e", &err,
	    "%s %s", pad, "abcDEF123ghiJKL456mnoPQR789stuVWX012yzAB"), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	cr_assert_not(file_exists(tenants, "u1.log"));
	tenantlog_free(tl);
}

Test(tenantlog, bad_uids_refused, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char long_uid[130], path[512];
	const char *bad[] = { "", "../x", "a/b", "..", ".", "a b", "caf\xc3\xa9",
	    "a.b", "x\n", long_uid, NULL };

	memset(long_uid, 'a', 129);
	long_uid[129] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		tp_err_clear(&err);
		cr_assert_eq(tenantlog_write(tl, bad[i], TLOG_INFO, "j", "e",
		    "m", &err), -1, "accepted %s", bad[i] ? bad[i] : "NULL");
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		cr_assert_eq(tenantlog_path(tl, bad[i], path, sizeof(path)), -1);
	}
	cr_assert_eq(count_entries(tenants), 0);
	cr_assert_eq(count_entries(tmpdir), 1, "only tenants/ in log_dir");
	/* 128 characters is the limit, and fine. */
	long_uid[128] = '\0';
	cr_assert_eq(tenantlog_write(tl, long_uid, TLOG_INFO, "j", "e", "m",
	    &err), 0, "%s", err.msg);
	cr_assert_eq(tenantlog_write(tl, "A-z_0", TLOG_INFO, "j", "e", "m",
	    &err), 0, "%s", err.msg);
	/* tenantlog_path wants room for the whole path. */
	cr_assert_eq(tenantlog_path(tl, "u1", path, 10), -1);
	tenantlog_free(tl);
}

Test(tenantlog, bad_events_and_job_ids_refused, .init = setup,
    .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char longer[70];
	const char *bad_events[] = { NULL, "", "two words", "x/y", "e\n",
	    "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */ };
	const char *bad_jobs[] = { "a b", "j\n", "j/k", longer };

	memset(longer, 'j', 65);
	longer[65] = '\0';
	for (size_t i = 0; i < sizeof(bad_events) / sizeof(*bad_events); i++) {
		cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j",
		    bad_events[i], "m", &err), -1);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	}
	for (size_t i = 0; i < sizeof(bad_jobs) / sizeof(*bad_jobs); i++) {
		cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, bad_jobs[i],
		    "e", "m", &err), -1);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	}
	cr_assert_not(file_exists(tenants, "u1.log"));
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO,
	    "job.2026-11-29:abc_1-2", "pulse.sync", "m", &err), 0, "%s",
	    err.msg);
	cr_assert_eq(tenantlog_write(NULL, "u1", TLOG_INFO, "j", "e", "m",
	    &err), -1);
	tenantlog_free(tl);
	tenantlog_free(NULL);
}

Test(tenantlog, symlink_is_not_followed, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char target[256], link[256];

	snprintf(target, sizeof(target), "%s/elsewhere", tmpdir);
	snprintf(link, sizeof(link), "%s/u1.log", tenants);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "e", "m", &err),
	    -1);
	cr_assert_eq(err.code, TP_INTERNAL);
	cr_assert_eq(access(target, F_OK), -1);
	tenantlog_free(tl);
}

Test(tenantlog, reopens_a_removed_file, .init = setup, .fini = teardown)
{
	struct tenantlog *tl = open_log(1 << 20, 5);
	struct tp_err err = { 0 };
	char path[512], *text;

	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "e", "one", &err),
	    0);
	cr_assert_eq(tenantlog_path(tl, "u1", path, sizeof(path)), 0);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(tenantlog_write(tl, "u1", TLOG_INFO, "j", "e", "two", &err),
	    0);
	text = read_file(tenants, "u1.log", NULL);
	cr_assert_str_eq(text + 28, "INFO j e two\n");
	free(text);
	tenantlog_free(tl);
}

#define THREADS 8
#define PER_THREAD 400

struct writer_arg {
	struct tenantlog *tl;
	int id;
	int failures;
};

static void *
writer(void *p)
{
	struct writer_arg *a = p;
	struct tp_err err;
	char job[16];

	snprintf(job, sizeof(job), "t%d", a->id);
	for (int i = 0; i < PER_THREAD; i++)
		if (tenantlog_writef(a->tl, "shared", TLOG_INFO, job, "burst",
		    &err, "thread %d line %d %s", a->id, i,
		    "with enough text that lines of different threads could "
		    "interleave if a write were split") == -1)
			a->failures++;
	return NULL;
}

/* Reads every file of "shared" and checks each line is whole. */
static size_t
check_whole_lines(const char *name, int seen[THREADS][PER_THREAD])
{
	char *text = read_file(tenants, name, NULL), *line, *save;
	size_t n = 0;

	if (text == NULL)
		return 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		int id, k, id2;

		cr_assert_eq(sscanf(line + 28, "INFO t%d burst thread %d line %d",
		    &id, &id2, &k), 3, "mangled: %s", line);
		cr_assert_eq(id, id2);
		cr_assert(id >= 0 && id < THREADS && k >= 0 && k < PER_THREAD);
		cr_assert_not_null(strstr(line, "if a write were split"),
		    "cut: %s", line);
		seen[id][k]++;
		n++;
	}
	free(text);
	return n;
}

static void
run_threads(uint64_t max_size, unsigned keep)
{
	struct tenantlog *tl = open_log(max_size, keep);
	struct writer_arg args[THREADS];
	pthread_t t[THREADS];
	static int seen[THREADS][PER_THREAD];
	size_t total = 0;
	char name[64];

	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct writer_arg){ .tl = tl, .id = i };
		cr_assert_eq(pthread_create(&t[i], NULL, writer, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(args[i].failures, 0);
	}
	total += check_whole_lines("shared.log", seen);
	for (unsigned k = 1; k <= keep; k++) {
		snprintf(name, sizeof(name), "shared.log.%u", k);
		total += check_whole_lines(name, seen);
	}
	cr_assert_eq(total, THREADS * PER_THREAD);
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < PER_THREAD; k++)
			cr_assert_eq(seen[i][k], 1, "line %d/%d seen %d times",
			    i, k, seen[i][k]);
	tenantlog_free(tl);
}

Test(tenantlog, threads_write_whole_lines, .init = setup, .fini = teardown)
{
	run_threads(16 << 20, 2);
	cr_assert_eq(count_entries(tenants), 1, "no rotation expected");
}

Test(tenantlog, threads_while_rotating, .init = setup, .fini = teardown)
{
	/* 3200 lines of ~150 bytes in 16K files: about 30 rotations. */
	run_threads(16 * 1024, 100);
	cr_assert_gt(count_entries(tenants), 20);
}
