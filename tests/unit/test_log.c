/* test_log.c: daemon log lines on stderr and in a file: format, errno text, verbosity, fatal exits, reopening. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

static char tmpdir[64];
static char errfile[128];

/* Sends this process's stderr to a fresh file that the test reads back. */
static void
setup(void)
{
	int fd;

	strcpy(tmpdir, "/tmp/tp-test-log-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(errfile, sizeof(errfile), "%s/stderr", tmpdir);
	fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* For tests that end the process: fatal's line goes nowhere. */
static void
quiet(void)
{
	int fd = open("/dev/null", O_WRONLY);

	cr_assert_geq(fd, 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void
teardown(void)
{
	unlink(errfile);
	rmdir(tmpdir);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Checks that line (without its newline) is "<ts> name[pid]: level: msg". */
static void
assert_line(const char *line, const char *name, const char *level,
    const char *msg)
{
	char want[8192], pat[512];
	regex_t re;

	snprintf(pat, sizeof(pat),
	    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
	    "%s\\[%ld\\]: %s: ", name, (long)getpid(), level);
	cr_assert_eq(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&re, line, 0, NULL, 0), 0, "bad line: %s", line);
	regfree(&re);
	snprintf(want, sizeof(want), ": %s: %s", level, msg);
	cr_assert_str_eq(strstr(line, want), want, "line %s", line);
}

Test(log, info_line_format, .init = setup, .fini = teardown)
{
	char *out;

	log_init(1, "tradepulsed");
	log_info("listening on %s with %d workers", "ipc:///x", 4);
	out = read_all(errfile);
	cr_assert_eq(count_lines(out), 1);
	cr_assert_eq(out[strlen(out) - 1], '\n');
	out[strlen(out) - 1] = '\0';
	assert_line(out, "tradepulsed", "info",
	    "listening on ipc:///x with 4 workers");
	free(out);
}

Test(log, warn_appends_strerror_and_keeps_errno, .init = setup,
    .fini = teardown)
{
	char *out, want[256];

	log_init(1, "tp");
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	cr_assert_eq(errno, ENOENT, "log_warn changed errno");
	errno = EACCES;
	log_warnx("plain %d", 7);
	cr_assert_eq(errno, EACCES, "log_warnx changed errno");
	out = read_all(errfile);
	cr_assert_eq(count_lines(out), 2);
	snprintf(want, sizeof(want), "]: warning: open /nonexistent: %s\n",
	    strerror(ENOENT));
	cr_assert_not_null(strstr(out, want), "got %s", out);
	cr_assert_not_null(strstr(out, "]: warning: plain 7\n"), "got %s", out);
	cr_assert_null(strstr(out, strerror(EACCES)),
	    "log_warnx must not add the errno text");
	free(out);
}

Test(log, debug_needs_verbose, .init = setup, .fini = teardown)
{
	char *out;

	log_init(1, "tp");
	cr_assert_eq(log_getverbose(), 0);
	log_debug("hidden %d", 1);
	log_setverbose(1);
	cr_assert_eq(log_getverbose(), 1);
	log_debug("shown %d", 2);
	log_setverbose(0);
	log_debug("hidden %d", 3);
	out = read_all(errfile);
	cr_assert_eq(count_lines(out), 1, "got %s", out);
	out[strlen(out) - 1] = '\0';
	assert_line(out, "tp", "debug", "shown 2");
	free(out);
}

Test(log, control_characters_stay_on_one_line, .init = setup,
    .fini = teardown)
{
	char *out;

	log_init(1, "tp");
	log_info("a\nb\rc\x01" "d");
	out = read_all(errfile);
	cr_assert_eq(count_lines(out), 1, "got %s", out);
	cr_assert_not_null(strstr(out, ": info: a\\nb\\rc\\x01d\n"), "got %s",
	    out);
	free(out);
}

Test(log, long_message_is_one_bounded_line, .init = setup, .fini = teardown)
{
	char *big, *out;

	big = malloc(20000);
	cr_assert_not_null(big);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	log_init(1, "tp");
	log_info("%s", big);
	log_info("after");
	out = read_all(errfile);
	cr_assert_eq(count_lines(out), 2);
	cr_assert_lt(strchr(out, '\n') - out, 8192);
	cr_assert_not_null(strstr(out, "]: info: after\n"));
	free(out);
	free(big);
}

Test(log, procname_changes, .init = setup, .fini = teardown)
{
	char *out;

	log_init(1, "tradepulsed");
	log_procname("worker");
	log_info("hello");
	out = read_all(errfile);
	out[strlen(out) - 1] = '\0';
	assert_line(out, "worker", "info", "hello");
	free(out);
}

Test(log, vlog_levels, .init = setup, .fini = teardown)
{
	char *out;

	log_init(1, "tp");
	log_warnx("w");
	out = read_all(errfile);
	cr_assert_not_null(strstr(out, "]: warning: w\n"));
	free(out);
}

Test(log, syslog_mode_writes_nothing_on_stderr, .init = setup,
    .fini = teardown)
{
	char *out;

	log_init(0, "tp-test");
	errno = EACCES;
	log_info("to syslog");
	cr_assert_eq(errno, EACCES, "syslog path changed errno");
	errno = ENOENT;
	log_warn("to syslog too");
	cr_assert_eq(errno, ENOENT, "syslog path changed errno");
	out = read_all(errfile);
	cr_assert_str_eq(out, "");
	free(out);
}

Test(log, fatalx_exits_1, .init = quiet, .exit_code = 1)
{
	log_init(1, "tp");
	fatalx("invariant broken");
}

Test(log, fatal_exits_1, .init = quiet, .exit_code = 1)
{
	log_init(1, "tp");
	errno = EPERM;
	fatal("setuid");
}

/* fatal's line, read back from a child that really exits. */
Test(log, fatal_line_and_status, .init = setup, .fini = teardown)
{
	char *out, want[256];
	pid_t pid;
	int status;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		log_init(1, "child");
		errno = EPERM;
		fatal("cannot drop to %s", "nobody");
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 1);
	out = read_all(errfile);
	snprintf(want, sizeof(want), "child[%ld]: fatal: cannot drop to nobody: %s\n",
	    (long)pid, strerror(EPERM));
	cr_assert_not_null(strstr(out, want), "got %s", out);
	free(out);

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		log_init(1, "child");
		errno = EPERM;
		fatalx("no errno here");
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	out = read_all(errfile);
	cr_assert_not_null(strstr(out, "]: fatal: no errno here\n"), "got %s",
	    out);
	free(out);
}

#define THREADS 8
#define PER_THREAD 300

static void *
writer(void *arg)
{
	int id = (int)(long)arg, i;

	for (i = 0; i < PER_THREAD; i++)
		log_info("thread %d line %d %s", id, i,
		    "padding padding padding padding padding padding");
	return NULL;
}

Test(log, threads_write_whole_lines, .init = setup, .fini = teardown)
{
	pthread_t t[THREADS];
	char *out, *line, *save;
	static int seen[THREADS][PER_THREAD];
	long i;
	size_t n = 0;

	log_init(1, "tp");
	for (i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	out = read_all(errfile);
	cr_assert_eq(count_lines(out), THREADS * PER_THREAD);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		int id, k;
		const char *m = strstr(line, ": info: thread ");

		cr_assert_not_null(m, "mangled line: %s", line);
		cr_assert_eq(sscanf(m, ": info: thread %d line %d", &id, &k), 2);
		cr_assert(id >= 0 && id < THREADS && k >= 0 && k < PER_THREAD);
		cr_assert_not_null(strstr(m, "padding padding"));
		seen[id][k]++;
		n++;
	}
	cr_assert_eq(n, THREADS * PER_THREAD);
	for (i = 0; i < THREADS; i++)
		for (int k = 0; k < PER_THREAD; k++)
			cr_assert_eq(seen[i][k], 1);
	free(out);
}

/* [daemon] log = FILE: lines go to the file, none to stderr. */
Test(log, file_mode_writes_to_the_file, .init = setup, .fini = teardown)
{
	char path[160], *out;
	struct tp_err err;
	struct stat st;

	snprintf(path, sizeof(path), "%s/tradepulsed.log", tmpdir);
	log_init(1, "tradepulsed");
	umask(077);		/* the file is 0640 whatever the umask */
	cr_assert_eq(log_open_file(path, &err), 0, "%s", err.msg);
	log_info("to the file");
	out = read_all(path);
	cr_assert_eq(count_lines(out), 1);
	out[strlen(out) - 1] = '\0';
	assert_line(out, "tradepulsed", "info", "to the file");
	free(out);
	out = read_all(errfile);
	cr_assert_str_eq(out, "");
	free(out);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640);
	unlink(path);
}

/* SIGUSR1 after logrotate renamed the file: the next line goes to a new
 * file of the same name, the old one keeps what it had. */
Test(log, reopen_after_a_rename_writes_a_new_file, .init = setup,
    .fini = teardown)
{
	char path[160], old[170], *out;
	struct tp_err err;
	struct stat st;

	snprintf(path, sizeof(path), "%s/tradepulsed.log", tmpdir);
	snprintf(old, sizeof(old), "%s.1", path);
	cr_assert_eq(log_open_file(path, &err), 0, "%s", err.msg);
	log_info("before");
	cr_assert_eq(rename(path, old), 0);
	log_info("renamed, not reopened");
	cr_assert_eq(log_reopen(&err), 0, "%s", err.msg);
	log_info("after");
	out = read_all(old);
	cr_assert_eq(count_lines(out), 2, "%s", out);
	cr_assert_null(strstr(out, "after"));
	free(out);
	out = read_all(path);
	cr_assert_eq(count_lines(out), 1, "%s", out);
	cr_assert_not_null(strstr(out, ": info: after"));
	free(out);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640);
	unlink(path);
	unlink(old);
}

/* A relative path, and a symlink planted where the log goes, are refused;
 * the destination stays what it was. */
Test(log, file_refusals_keep_the_destination, .init = setup, .fini = teardown)
{
	char path[160], *out;
	struct tp_err err;

	log_init(1, "tradepulsed");
	cr_assert_eq(log_open_file("relative.log", &err), -1);
	snprintf(path, sizeof(path), "%s/link.log", tmpdir);
	cr_assert_eq(symlink("/dev/null", path), 0);
	cr_assert_eq(log_open_file(path, &err), -1);
	cr_assert_eq(log_reopen(&err), 0);	/* nothing to reopen */
	log_info("still on stderr");
	out = read_all(errfile);
	cr_assert_not_null(strstr(out, "still on stderr"));
	free(out);
	unlink(path);
}
