/* sandbox.h: the worker's confinement, entered once, in a fixed order, before any job. */
#ifndef TP_WORKER_SANDBOX_H
#define TP_WORKER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "common/error.h"

#define SANDBOX_CA_FILE		"/etc/ssl/certs/ca-certificates.crt"
#define SANDBOX_CA_MAX		(16 * 1024 * 1024)	/* bytes */
#define SANDBOX_NOFILE_MARGIN	256	/* descriptors beyond those open at
					   entry: sockets of issue 4's TCP
					   connections, curl's wake-up pair */
#define SANDBOX_AS_HEADROOM	(32 * 1024 * 1024)	/* memory_limit must
					   exceed what is mapped at entry by
					   at least this much */

struct sandbox_params {
	const char	*user;		/* [workers] user, the drop target */
	uint64_t	 memory_limit;	/* bytes: RLIMIT_AS */
	uint64_t	 cpu_limit;	/* seconds: RLIMIT_CPU */
	bool		 core_dumps;	/* keep RLIMIT_CORE and dumpability */
	const char	*ca_file;	/* NULL: SANDBOX_CA_FILE */
	pid_t		 parent;	/* the supervisor: the worker dies with
					   it (0: no parent-death signal) */
};

/*
 * Confines the calling process, in this order, each step fatal (returns
 * -1 with err; the caller exits 1):
 *  1. loads the CA certificates into memory (sandbox_ca) and runs
 *     curl_global_init, which reads OpenSSL's configuration;
 *  2. everything else that opens files or needs privileges: the user's
 *     ids (getpwnam), sodium_init, the time zone, json-c's hash seed, the
 *     syscall name table of the SIGSYS handler;
 *  3. when root: setgroups(0), setresgid, setresuid to the user, then
 *     checks that uid/gid 0 cannot be regained; when not root, says so on
 *     stderr and keeps the ids (developers running tests);
 *  4. rlimits: AS = memory_limit (AddressSanitizer builds bound the heap
 *     with an allocator hook instead), CPU = cpu_limit, CORE and FSIZE
 *     = 0 (unlimited with core dumps: FSIZE bounds cores too), NOFILE =
 *     open descriptors + a margin;
 *  5. PR_SET_PDEATHSIG SIGKILL (after the drop, which clears it), then
 *     getppid() must still be parent; PR_SET_NO_NEW_PRIVS;
 *     PR_SET_DUMPABLE 0 (1 with core dumps);
 *  6. the seccomp allowlist on every thread (TSYNC); any other syscall
 *     traps to a handler that writes "seccomp: forbidden syscall NAME
 *     (NR)" to stderr and dies by SIGSYS.
 * Must be called while the process is still single-purpose: ZeroMQ's
 * threads may exist (they get the filter too), nothing else.
 */
int sandbox_enter(const struct sandbox_params *p, struct tp_err *err);

/*
 * Where the kernel has Landlock with network rules (ABI >= 4), limits the
 * TCP connections of the calling thread, and of threads it creates later,
 * to the given ports, and forbids binding TCP ports. Called once, after
 * CONFIG brought the ports (the main thread runs every transfer; ZeroMQ's
 * threads only use the Unix socket). Returns 1 when applied, 0 when the
 * kernel cannot (skipped silently), -1 on failure.
 */
int sandbox_restrict_tcp(const uint16_t *ports, size_t n, struct tp_err *err);

/* The CA certificates loaded by sandbox_enter (PEM), for libcurl's
 * CURLOPT_CAINFO_BLOB; NULL before sandbox_enter. */
const void *sandbox_ca(size_t *len);

/* The out-of-memory path: one line on stderr, then abort(). Safe to call
 * from anywhere (write(2) and abort only). */
void sandbox_oom(void) __attribute__((noreturn));

#endif
