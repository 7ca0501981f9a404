/* sandbox.c: sandbox_enter: preload, privilege drop, rlimits, no-new-privs, seccomp. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <sodium.h>

#include "common/jsonutil.h"
#include "worker/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
/* From sanitizer/allocator_interface.h, which gcc 12 does not install. */
size_t __sanitizer_get_current_allocated_bytes(void);
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));
#endif

#define SANDBOX_NR_MAX		512	/* syscall numbers named by the table */
#define SANDBOX_NAME_MAX	32

/*
 * The Landlock ABI for network rules (kernel 6.7, ABI 4), spelled out
 * here: the distribution's <linux/landlock.h> may predate it.
 */
#define SANDBOX_LL_VERSION		(1U << 0)
#define SANDBOX_LL_ABI_NET		4
#define SANDBOX_LL_RULE_NET_PORT	2
#define SANDBOX_LL_NET_BIND_TCP		(1ULL << 0)
#define SANDBOX_LL_NET_CONNECT_TCP	(1ULL << 1)

struct sandbox_ll_ruleset {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
};

struct sandbox_ll_port {
	uint64_t	 allowed_access;
	uint64_t	 port;
};

/* What the preload step learns for the later steps. */
struct sandbox_state {
	uid_t		 uid;
	gid_t		 gid;
	bool		 root;		/* may drop: root, or the ambient
					   CAP_SETUID and CAP_SETGID of a
					   supervisor that dropped root */
	size_t		 fds;		/* descriptors open at entry */
	int		 fd_max;	/* highest of them */
	uint64_t	 mapped;	/* address space mapped at entry */
};

static uint8_t		*sandbox_ca_buf;
static size_t		 sandbox_ca_len;

/* Read by the SIGSYS handler: filled before the filter is loaded. */
static char		 sandbox_names[SANDBOX_NR_MAX][SANDBOX_NAME_MAX];
static uint32_t		 sandbox_arch;

#if defined(__SANITIZE_ADDRESS__)
static uint64_t		 sandbox_heap_limit;
#endif

const void *
sandbox_ca(size_t *len)
{
	if (len != NULL)
		*len = sandbox_ca_len;
	return sandbox_ca_buf;
}

void
sandbox_oom(void)
{
	static const char msg[] = "worker: out of memory\n";
	ssize_t n;

	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	abort();
}

/* --- 1. what libcurl will need: the CA certificates, OpenSSL's setup --- */

static int
sandbox_load_ca(const char *path, struct tp_err *err)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return tp_err_errno(err, TP_INTERNAL,
		    "cannot open CA certificates %s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > SANDBOX_CA_MAX) {
		close(fd);
		return tp_err_set(err, TP_INTERNAL, "CA certificates %s: not a "
		    "regular file of 1..%d bytes", path, SANDBOX_CA_MAX);
	}
	if ((sandbox_ca_buf = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "no memory for the CA certificates");
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, sandbox_ca_buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			free(sandbox_ca_buf);
			sandbox_ca_buf = NULL;
			return tp_err_set(err, TP_INTERNAL,
			    "cannot read CA certificates %s: %s", path,
			    n == 0 ? "file shrank" : strerror(errno));
		}
		off += (size_t)n;
	}
	close(fd);
	sandbox_ca_len = off;
	return 0;
}

/* --- 2. everything else that opens files or needs root --- */

/* The capability is in our effective set. */
static bool
sandbox_has_cap(cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps;

	if ((caps = cap_get_proc()) == NULL)
		return false;
	if (cap_get_flag(caps, c, CAP_EFFECTIVE, &v) == -1)
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET;
}

static int
sandbox_user(const char *user, struct sandbox_state *s, struct tp_err *err)
{
	struct passwd *pw;

	s->root = geteuid() == 0 || (sandbox_has_cap(CAP_SETUID) &&
	    sandbox_has_cap(CAP_SETGID));
	if (!s->root)
		return 0;
	errno = 0;
	if (user == NULL || (pw = getpwnam(user)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "unknown worker user \"%s\"",
		    user != NULL ? user : "");
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return tp_err_set(err, TP_INTERNAL, "worker user \"%s\" has uid "
		    "or gid 0: workers never run as root", user);
	s->uid = pw->pw_uid;
	s->gid = pw->pw_gid;
	return 0;
}

/* Counts the open descriptors, for RLIMIT_NOFILE. */
static int
sandbox_count_fds(struct sandbox_state *s, struct tp_err *err)
{
	struct dirent *de;
	DIR *d;
	long fd;
	char *end;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return tp_err_errno(err, TP_INTERNAL, "opendir /proc/self/fd");
	s->fds = 0;
	s->fd_max = 2;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || fd < 0 || fd > INT_MAX || fd == dirfd(d))
			continue;
		s->fds++;
		if (fd > s->fd_max)
			s->fd_max = (int)fd;
	}
	closedir(d);
	return 0;
}

/* Address space mapped now (first field of statm, in pages). */
static int
sandbox_mapped(struct sandbox_state *s, struct tp_err *err)
{
	unsigned long long pages;
	long psz;
	FILE *fp;
	int ok;

	if ((fp = fopen("/proc/self/statm", "re")) == NULL)
		return tp_err_errno(err, TP_INTERNAL, "open /proc/self/statm");
	ok = fscanf(fp, "%llu", &pages) == 1;
	fclose(fp);
	if (!ok || (psz = sysconf(_SC_PAGESIZE)) <= 0)
		return tp_err_set(err, TP_INTERNAL, "cannot read /proc/self/statm");
	s->mapped = pages * (unsigned long long)psz;
	return 0;
}

/* Names of all syscalls, for the SIGSYS handler that may not allocate. */
static void
sandbox_name_table(void)
{
	char *name;
	int nr;

	sandbox_arch = seccomp_arch_native();
	for (nr = 0; nr < SANDBOX_NR_MAX; nr++) {
		if ((name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
		    nr)) == NULL)
			continue;
		snprintf(sandbox_names[nr], sizeof(sandbox_names[nr]), "%s",
		    name);
		free(name);
	}
}

/*
 * Library state that would otherwise be set up lazily, with a file open,
 * on first use inside the sandbox.
 */
static int
sandbox_warm(struct tp_err *err)
{
	json_object *o;
	struct timespec ts;
	struct tm tm;

	if (sodium_init() < 0)
		return tp_err_set(err, TP_INTERNAL, "sodium_init failed");
	/* gmtime_r's first call reads /etc/localtime otherwise */
	tzset();
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* json-c seeds its string hash on the first key it hashes */
	if ((o = json_object_new_object()) == NULL ||
	    json_add(o, "warm", json_object_new_int(1)) == -1) {
		json_object_put(o);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	json_object_put(o);
	/* stdout is unused; unbuffered, stdio never fstat()s it */
	setvbuf(stdout, NULL, _IONBF, 0);
	sandbox_name_table();
	return 0;
}

/* --- 3. privileges --- */

static int
sandbox_bound_clear(struct tp_err *err)
{
	cap_value_t c;

	for (c = 0; c < (cap_value_t)cap_max_bits(); c++)
		if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "dropping capability %d from the bounding set", c);
	return 0;
}

/*
 * After the uid change no capability is left: from root the kernel
 * clears them, but one passed as ambient by a supervisor that dropped
 * root survives a change between two other uids; so ambient, permitted,
 * effective and inheritable are cleared here, and checked.
 */
static int
sandbox_caps_clear(struct tp_err *err)
{
	cap_t none, now;
	int same;

	if (cap_reset_ambient() == -1)
		return tp_err_errno(err, TP_INTERNAL, "clearing the ambient "
		    "capabilities");
	if ((none = cap_init()) == NULL)
		return tp_err_errno(err, TP_RESOURCE_EXHAUSTED, "cap_init");
	if (cap_set_proc(none) == -1) {
		cap_free(none);
		return tp_err_errno(err, TP_INTERNAL, "clearing the "
		    "capabilities");
	}
	if ((now = cap_get_proc()) == NULL) {
		cap_free(none);
		return tp_err_errno(err, TP_INTERNAL, "cap_get_proc");
	}
	same = cap_compare(none, now);
	cap_free(now);
	cap_free(none);
	if (same != 0 || cap_get_ambient(CAP_SETUID) != 0 ||
	    cap_get_ambient(CAP_SETGID) != 0)
		return tp_err_set(err, TP_INTERNAL, "capabilities left after "
		    "the drop");
	return 0;
}

static int
sandbox_drop(const char *user, const struct sandbox_state *s,
    struct tp_err *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (!s->root) {
		fprintf(stderr, "worker: not running as root: privileges not "
		    "dropped (user %s not used)\n", user);
		return 0;
	}
	/* the bounding set can only be cut with CAP_SETPCAP, which root has;
	 * a supervisor that dropped root already cut it to three */
	if (sandbox_has_cap(CAP_SETPCAP) && sandbox_bound_clear(err) == -1)
		return -1;
	if (setgroups(0, NULL) == -1)
		return tp_err_errno(err, TP_INTERNAL, "setgroups");
	if (setresgid(s->gid, s->gid, s->gid) == -1)
		return tp_err_errno(err, TP_INTERNAL, "setresgid %u",
		    (unsigned)s->gid);
	if (setresuid(s->uid, s->uid, s->uid) == -1)
		return tp_err_errno(err, TP_INTERNAL, "setresuid %u",
		    (unsigned)s->uid);
	if (sandbox_caps_clear(err) == -1)
		return -1;
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    setegid(0) != -1)
		return tp_err_set(err, TP_INTERNAL,
		    "root could be regained after the privilege drop");
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != s->uid || eu != s->uid || su != s->uid ||
	    rg != s->gid || eg != s->gid || sg != s->gid ||
	    getgroups(0, NULL) != 0)
		return tp_err_set(err, TP_INTERNAL,
		    "ids are not those of user %s after the drop", user);
	return 0;
}

/* --- 4. rlimits --- */

/* Lowers a limit; never raises the hard limit (not root any more). */
static int
sandbox_rlimit(int res, const char *name, rlim_t soft, rlim_t hard,
    struct tp_err *err)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) == -1)
		return tp_err_errno(err, TP_INTERNAL, "getrlimit %s", name);
	if (hard > rl.rlim_max)
		hard = rl.rlim_max;
	if (soft > hard)
		soft = hard;
	rl.rlim_cur = soft;
	rl.rlim_max = hard;
	if (setrlimit(res, &rl) == -1)
		return tp_err_errno(err, TP_INTERNAL, "setrlimit %s", name);
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer reserves terabytes of address space, so RLIMIT_AS
 * cannot apply; the heap is bounded here instead, on every allocation. */
static void
sandbox_heap_hook(const volatile void *ptr, size_t size)
{
	(void)ptr;
	(void)size;
	if (__sanitizer_get_current_allocated_bytes() > sandbox_heap_limit)
		sandbox_oom();
}

/* The runtime installs hooks only in pairs. */
static void
sandbox_free_hook(const volatile void *ptr)
{
	(void)ptr;
}
#endif

static int
sandbox_limits(const struct sandbox_params *p, const struct sandbox_state *s,
    struct tp_err *err)
{
	rlim_t core, nofile;

#if defined(__SANITIZE_ADDRESS__)
	sandbox_heap_limit = p->memory_limit;
	if (__sanitizer_install_malloc_and_free_hooks(sandbox_heap_hook,
	    sandbox_free_hook) == 0)
		return tp_err_set(err, TP_INTERNAL,
		    "cannot install the heap limit hook");
	fprintf(stderr, "worker: AddressSanitizer build: heap bounded to %llu "
	    "bytes by an allocator hook instead of RLIMIT_AS\n",
	    (unsigned long long)p->memory_limit);
	(void)s;
#else
	if (p->memory_limit < s->mapped + SANDBOX_AS_HEADROOM)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "memory limit %llu "
		    "bytes is too small: the worker maps %llu bytes before any "
		    "job; allow at least %llu", (unsigned long long)
		    p->memory_limit, (unsigned long long)s->mapped,
		    (unsigned long long)(s->mapped + SANDBOX_AS_HEADROOM));
	if (sandbox_rlimit(RLIMIT_AS, "RLIMIT_AS", p->memory_limit,
	    p->memory_limit, err) == -1)
		return -1;
#endif
	/* SIGXCPU at the soft limit names the cause; SIGKILL a second later */
	if (sandbox_rlimit(RLIMIT_CPU, "RLIMIT_CPU", p->cpu_limit,
	    p->cpu_limit + 1, err) == -1)
		return -1;
	/*
	 * RLIMIT_FSIZE bounds core files too: with core dumps it must allow
	 * them. The filter forbids every open, so the core is still the only
	 * file a worker can write.
	 */
	core = p->core_dumps ? RLIM_INFINITY : 0;
	/* a write to a regular-file stderr past FSIZE then fails, not kills */
	signal(SIGXFSZ, SIG_IGN);
	if (sandbox_rlimit(RLIMIT_CORE, "RLIMIT_CORE", core, core, err) == -1 ||
	    sandbox_rlimit(RLIMIT_FSIZE, "RLIMIT_FSIZE", core, core, err) == -1)
		return -1;
	nofile = (rlim_t)(s->fd_max + 1) > s->fds ? (rlim_t)s->fd_max + 1 :
	    s->fds;
	nofile += SANDBOX_NOFILE_MARGIN;
	if (sandbox_rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", nofile, nofile,
	    err) == -1)
		return -1;
	/*
	 * No RLIMIT_NPROC: it counts every process and thread of the user
	 * (all workers and anything else running as nobody), so no fixed
	 * value is both safe and meaningful; the seccomp filter already
	 * refuses every clone that is not a thread.
	 */
	return 0;
}

/* --- 5. no new privileges, dumpability --- */

static int
sandbox_prctl(const struct sandbox_params *p, struct tp_err *err)
{
	/*
	 * The uid change cleared any parent-death signal set before it, so
	 * it is set here, after the drop; the supervisor may have died
	 * already (the worker then has another parent), so that is checked
	 * after setting it.
	 */
	if (p->parent > 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "PR_SET_PDEATHSIG");
		if (getppid() != p->parent)
			return tp_err_set(err, TP_UNAVAILABLE, "the supervisor "
			    "(pid %ld) is gone", (long)p->parent);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return tp_err_errno(err, TP_INTERNAL, "PR_SET_NO_NEW_PRIVS");
	/* the uid change already cleared it; with core dumps it is wanted */
	if (prctl(PR_SET_DUMPABLE, p->core_dumps ? 1 : 0, 0, 0, 0) == -1)
		return tp_err_errno(err, TP_INTERNAL, "PR_SET_DUMPABLE");
	return 0;
}

/* --- 6. seccomp --- */

static size_t
sandbox_append(char *buf, size_t off, size_t size, const char *s)
{
	while (*s != '\0' && off < size)
		buf[off++] = *s++;
	return off;
}

/* Async-signal-safe: the table was filled before the filter existed. */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *uctx)
{
	struct sigaction sa;
	char line[128], num[16];
	const char *name = "unknown";
	size_t off = 0, n = 0;
	unsigned int nr;
	ssize_t w;

	(void)uctx;
	nr = (unsigned int)si->si_syscall;
	if ((uint32_t)si->si_arch == sandbox_arch && nr < SANDBOX_NR_MAX &&
	    sandbox_names[nr][0] != '\0')
		name = sandbox_names[nr];
	do {
		num[n++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr != 0 && n < sizeof(num));
	off = sandbox_append(line, off, sizeof(line), "seccomp: forbidden "
	    "syscall ");
	off = sandbox_append(line, off, sizeof(line), name);
	off = sandbox_append(line, off, sizeof(line), " (");
	while (n > 0 && off < sizeof(line))
		line[off++] = num[--n];
	off = sandbox_append(line, off, sizeof(line), ")\n");
	w = write(STDERR_FILENO, line, off);
	(void)w;
	/* die by SIGSYS itself: pending until the handler returns */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	raise(sig);
}

/* Allowed without condition on their arguments. */
static const int sandbox_allow[] = {
	/* I/O on descriptors already open or made by socket() below */
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(shutdown),
	SCMP_SYS(connect), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* waiting: zmq_poll, ZeroMQ's I/O thread, libcurl */
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_create1), SCMP_SYS(eventfd2),
	SCMP_SYS(futex), SCMP_SYS(sched_yield),
	/* time */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(restart_syscall),
	/* memory (mmap and mprotect: below, never executable) */
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise),
	/* signals: handlers, masks, abort() and raise() on ourselves */
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack),
	/* identity and randomness */
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(getrandom),
	SCMP_SYS(getrlimit),
	/* Landlock can only narrow what is allowed (sandbox_restrict_tcp) */
	SCMP_SYS(landlock_create_ruleset), SCMP_SYS(landlock_add_rule),
	SCMP_SYS(landlock_restrict_self),
	/* threads (clone itself: below) and their end */
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/*
 * The allowlist. Everything not listed traps (SCMP_ACT_TRAP), among them:
 * open, openat, openat2, creat, stat and friends, execve, execveat, fork,
 * vfork, clone without CLONE_THREAD, ptrace, mount, umount2, kill, bind,
 * listen, accept, socket of any family but AF_UNIX/AF_INET/AF_INET6,
 * setrlimit (prlimit64 with a new limit), setuid and every other id
 * change, prctl, mmap/mprotect with PROT_EXEC.
 */
static int
sandbox_rules(scmp_filter_ctx ctx)
{
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sandbox_allow) / sizeof(sandbox_allow[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    sandbox_allow[i], 0)) < 0)
			return rc;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
		    1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]))) < 0)
			return rc;
	}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0)
		return rc;
	/* threads only: a clone without CLONE_THREAD is a fork */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) < 0)
		return rc;
	/* clone3's flags sit in memory a filter cannot read: glibc falls
	 * back to clone on ENOSYS */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) < 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return rc;
	/* reading a limit (glibc's getrlimit), never setting one */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
	    SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0))) < 0)
		return rc;
	/* prctl fails rather than kills: runtimes call it for what they
	 * can do without (ASan names its mappings with PR_SET_VMA as it
	 * grows), and nothing may change what the sandbox set */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(prctl), 0)) < 0)
		return rc;
	/* raise() and abort(): signals to this process's own threads */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))) < 0)
		return rc;
	return 0;
}

static int
sandbox_seccomp(struct tp_err *err)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		return tp_err_errno(err, TP_INTERNAL, "sigaction SIGSYS");
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "seccomp_init failed");
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_TRAP)) < 0 ||
	    (rc = sandbox_rules(ctx)) < 0) {
		seccomp_release(ctx);
		return tp_err_set(err, TP_INTERNAL, "seccomp filter: %s",
		    strerror(-rc));
	}
#if defined(__SANITIZE_ADDRESS__)
	/* lets the sanitizer cache what its reports read from /proc */
	__sanitizer_sandbox_on_notify(NULL);
#endif
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return tp_err_set(err, TP_INTERNAL, "seccomp_load: %s",
		    strerror(-rc));
	return 0;
}

/* --- Landlock, after CONFIG --- */

int
sandbox_restrict_tcp(const uint16_t *ports, size_t n, struct tp_err *err)
{
#if defined(SYS_landlock_create_ruleset) && defined(SYS_landlock_add_rule) && \
    defined(SYS_landlock_restrict_self)
	struct sandbox_ll_ruleset rs;
	struct sandbox_ll_port rule;
	long abi;
	size_t i;
	int fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, SANDBOX_LL_VERSION);
	if (abi < SANDBOX_LL_ABI_NET)
		return 0;
	memset(&rs, 0, sizeof(rs));
	rs.handled_access_net = SANDBOX_LL_NET_BIND_TCP |
	    SANDBOX_LL_NET_CONNECT_TCP;
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &rs, sizeof(rs),
	    0)) == -1)
		return tp_err_errno(err, TP_INTERNAL,
		    "landlock_create_ruleset");
	for (i = 0; i < n; i++) {
		memset(&rule, 0, sizeof(rule));
		rule.allowed_access = SANDBOX_LL_NET_CONNECT_TCP;
		rule.port = ports[i];
		if (syscall(SYS_landlock_add_rule, fd, SANDBOX_LL_RULE_NET_PORT,
		    &rule, 0) == -1) {
			tp_err_errno(err, TP_INTERNAL, "landlock_add_rule port "
			    "%u", (unsigned)ports[i]);
			close(fd);
			return -1;
		}
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		tp_err_errno(err, TP_INTERNAL, "landlock_restrict_self");
		close(fd);
		return -1;
	}
	close(fd);
	return 1;
#else
	(void)ports;
	(void)n;
	(void)err;
	return 0;
#endif
}

/* --- the fixed order --- */

int
sandbox_enter(const struct sandbox_params *p, struct tp_err *err)
{
	struct sandbox_state s;

	memset(&s, 0, sizeof(s));
	/* 1 */
	if (sandbox_load_ca(p->ca_file != NULL ? p->ca_file : SANDBOX_CA_FILE,
	    err) == -1)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tp_err_set(err, TP_INTERNAL, "curl_global_init failed");
	/* 2 */
	if (sandbox_user(p->user, &s, err) == -1 ||
	    sandbox_warm(err) == -1 ||
	    sandbox_count_fds(&s, err) == -1 ||
	    sandbox_mapped(&s, err) == -1)
		return -1;
	/* 3 */
	if (sandbox_drop(p->user, &s, err) == -1)
		return -1;
	/* 4 */
	if (sandbox_limits(p, &s, err) == -1)
		return -1;
	/* 5 */
	if (sandbox_prctl(p, err) == -1)
		return -1;
	/* 6 */
	return sandbox_seccomp(err);
}
