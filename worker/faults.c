/* faults.c: fault injection for tests (TP_FAULTS); built only with --enable-fault-injection. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/wire_result.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#ifndef TP_FAULT_INJECTION
#error "faults.c belongs to fault-injection builds only"
#endif

#define FAULTS_OOM_CHUNK	(1024 * 1024)
#define FAULTS_FLUSH_MS		50	/* lets RESULTs already queued leave
					   before the worker dies */
#define FAULTS_SLOW_MS		300	/* how long a "slow" job takes */
#define FAULTS_ENTRY_SHOWN	64	/* bytes of a bad entry quoted */
#define FAULTS_BAD_SHOWN	8	/* bad entries named on stderr */

struct fault_entry {
	char		 uid[UID_MAX_LEN + 1];
	enum fault	 fault;
};

static const char *const faults_names[] = {
	[FAULT_NONE] = "none",
	[FAULT_SEGV] = "segv",
	[FAULT_ABORT] = "abort",
	[FAULT_HANG] = "hang",
	[FAULT_SPIN] = "spin",
	[FAULT_OPEN] = "open",
	[FAULT_EXECVE] = "execve",
	[FAULT_FORK] = "fork",
	[FAULT_PTRACE] = "ptrace",
	[FAULT_OOM] = "oom",
	[FAULT_FOREIGN] = "foreign",
	[FAULT_SLOW] = "slow",
};
#define FAULTS_NNAMES	(sizeof(faults_names) / sizeof(faults_names[0]))

static struct fault_entry	*faults;
static size_t			 nfaults;
static size_t			 faults_cap;	/* entries allocated */
static size_t			 faults_nbad;

/* The oom fault's chunks: reachable, so the allocations are not elided. */
struct faults_chunk {
	struct faults_chunk	*next;
};
static struct faults_chunk *volatile faults_hoard;
/* Opaque to the compiler, so the segv fault is a real store to page 0
 * rather than a trap instruction gcc puts in place of a known NULL. */
static int *volatile faults_null;
static volatile unsigned long faults_spins;

/* UBSan would report the store instead of letting it fault. */
__attribute__((no_sanitize_undefined)) static void
faults_segv(void)
{
	*faults_null = 1;
}

const char *
faults_name(enum fault f)
{
	if ((size_t)f >= FAULTS_NNAMES)
		return "unknown";
	return faults_names[f];
}

static enum fault
faults_parse_name(const char *s)
{
	size_t i;

	for (i = FAULT_NONE + 1; i < FAULTS_NNAMES; i++)
		if (strcmp(s, faults_names[i]) == 0)
			return (enum fault)i;
	return FAULT_NONE;
}

/* The first few bad entries are named; the rest only counted. */
static void
faults_bad(size_t n, const char *entry, const char *why)
{
	if (faults_nbad++ < FAULTS_BAD_SHOWN)
		fprintf(stderr, "worker: TP_FAULTS entry %zu \"%.*s\" "
		    "ignored: %s\n", n, FAULTS_ENTRY_SHOWN, entry, why);
}

/* One "uid=fault" entry; entry is modified. */
static void
faults_add(size_t n, char *entry)
{
	char *eq;
	enum fault f;

	if ((eq = strchr(entry, '=')) == NULL) {
		faults_bad(n, entry, "not uid=fault");
		return;
	}
	*eq = '\0';
	if (!path_valid_uid(entry)) {
		*eq = '=';
		faults_bad(n, entry, "not a valid uid");
		return;
	}
	if ((f = faults_parse_name(eq + 1)) == FAULT_NONE) {
		*eq = '=';
		faults_bad(n, entry, "unknown fault (segv, abort, hang, spin, "
		    "open, execve, fork, ptrace, oom, foreign, slow)");
		return;
	}
	if (faults_lookup(entry) != FAULT_NONE) {
		*eq = '=';
		faults_bad(n, entry, "uid already has a fault");
		return;
	}
	if (nfaults >= faults_cap) {
		*eq = '=';
		faults_bad(n, entry, "too many entries");
		return;
	}
	memcpy(faults[nfaults].uid, entry, strlen(entry) + 1);
	faults[nfaults].fault = f;
	nfaults++;
}

void
faults_init(const char *env)
{
	char *copy, *rest, *entry;
	size_t n = 0, cap = 1;
	const char *p;

	if (env == NULL || *env == '\0')
		return;
	if (strnlen(env, FAULTS_ENV_MAX + 1) > FAULTS_ENV_MAX) {
		fprintf(stderr, "worker: TP_FAULTS is longer than %d bytes: "
		    "ignored\n", FAULTS_ENV_MAX);
		return;
	}
	for (p = env; *p != '\0' && cap < FAULTS_MAX; p++)
		if (*p == ',')
			cap++;
	if ((copy = strdup(env)) == NULL ||
	    (faults = calloc(cap, sizeof(*faults))) == NULL)
		sandbox_oom();
	faults_cap = cap;
	rest = copy;
	while ((entry = strsep(&rest, ",")) != NULL) {
		n++;
		if (*entry == '\0') {
			faults_bad(n, entry, "empty");
			continue;
		}
		faults_add(n, entry);
	}
	free(copy);
	if (faults_nbad > FAULTS_BAD_SHOWN)
		fprintf(stderr, "worker: TP_FAULTS: %zu more bad entries "
		    "ignored\n", faults_nbad - FAULTS_BAD_SHOWN);
}

enum fault
faults_lookup(const char *uid)
{
	size_t i;

	for (i = 0; i < nfaults; i++)
		if (strcmp(faults[i].uid, uid) == 0)
			return faults[i].fault;
	return FAULT_NONE;
}

static void
faults_oom(void)
{
	struct faults_chunk *c;

	for (;;) {
		if ((c = malloc(FAULTS_OOM_CHUNK)) == NULL)
			sandbox_oom();
		memset(c, 0xa5, FAULTS_OOM_CHUNK);
		c->next = faults_hoard;
		faults_hoard = c;
	}
}

/*
 * The forbidden syscalls go through syscall(2), so that no glibc wrapper
 * substitutes another call (fork() is clone, open() is openat). Each must
 * die by SIGSYS in the sandbox; one that returns is reported and aborts.
 */
static void
faults_syscall(enum fault f)
{
	static char *const argv[] = { (char *)"true", NULL };
	static char *const envp[] = { NULL };
	long rc = -1;

	switch (f) {
	case FAULT_OPEN:
#ifdef SYS_open
		rc = syscall(SYS_open, "/etc/passwd", O_RDONLY);
#else
		rc = syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
#endif
		break;
	case FAULT_EXECVE:
		rc = syscall(SYS_execve, "/bin/true", argv, envp);
		break;
	case FAULT_FORK:
#ifdef SYS_fork
		rc = syscall(SYS_fork);
#else
		rc = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
		if (rc == 0)
			_exit(1);
		break;
	case FAULT_PTRACE:
		rc = syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
		break;
	default:
		break;
	}
	fprintf(stderr, "worker: fault %s: the syscall was not stopped "
	    "(returned %ld)\n", faults_name(f), rc);
	abort();
}

void
faults_trigger(const struct job *j)
{
	struct timespec ts = { 0, FAULTS_FLUSH_MS * 1000000L };

	if (j->fault == FAULT_NONE || j->fault == FAULT_FOREIGN)
		return;
	if (j->fault == FAULT_SLOW) {
		/* a long job, well under the heartbeat period: lets tests
		 * kill workers while jobs are in flight */
		struct timespec slow = { 0, FAULTS_SLOW_MS * 1000000L };

		nanosleep(&slow, NULL);
		return;
	}
	nanosleep(&ts, NULL);
	switch (j->fault) {
	case FAULT_SEGV:
		faults_segv();
		abort();
	case FAULT_ABORT:
		abort();
	case FAULT_HANG:
		/* no more heartbeats: the supervisor must notice */
		for (;;)
			sleep(3600);
	case FAULT_SPIN:
		for (;;)
			faults_spins++;
	case FAULT_OOM:
		faults_oom();
		break;
	case FAULT_OPEN:
	case FAULT_EXECVE:
	case FAULT_FORK:
	case FAULT_PTRACE:
		faults_syscall(j->fault);
		break;
	default:
		break;
	}
	abort();
}

void
faults_foreign(const struct job *j, json_object *result)
{
	static const struct dec one = { 100, 2 };
	char id[WIRE_TRADE_ID_MAX + 1];

	/* a worker can no longer name a document: the nearest it has to a
	 * foreign write is a trade of someone else's, here a batch-mate's */
	snprintf(id, sizeof(id), "%s-trade-of-%s", j->id,
	    strcmp(j->uid, "victim") != 0 ? "victim" : "victim-2");
	if (wire_result_mark(result, id, &one, &one, &one) == -1)
		sandbox_oom();
}
