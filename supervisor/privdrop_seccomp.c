/* privdrop_seccomp.c: the supervisor's own seccomp filter: a deny-list of what a daemon never does, and no way back to uid or gid 0. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <seccomp.h>

#include "supervisor/privdrop.h"

/*
 * A deny-list, not the workers' allow-list: the supervisor runs libevent,
 * libzmq, libcurl, SQLite and OpenSSL on several threads, and spawns the
 * workers, whose own (strict) filter comes only after their exec and
 * drop; so nothing a worker does before that may be denied here (execve,
 * prctl, setgroups, setresuid/setresgid to its user, seccomp, landlock).
 * Denied calls fail with EPERM rather than kill: a library probing for a
 * feature gets an error it handles. Names this kernel's architecture
 * lacks are skipped.
 */
static const char *const privdrop_denied[] = {
	/* debugging and reading other processes */
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	/* the system's state */
	"mount", "umount2", "umount", "mount_setattr", "fsopen", "fsmount",
	"fsconfig", "fspick", "open_tree", "move_mount", "pivot_root",
	"chroot", "swapon", "swapoff", "reboot", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module",
	"acct", "quotactl", "sethostname", "setdomainname", "syslog",
	"vhangup", "iopl", "ioperm", "uselib", "_sysctl", "nfsservctl",
	"lookup_dcookie",
	/* time */
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	/* kernel interfaces a daemon never needs (and frequent exploits) */
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
	"request_key", "open_by_handle_at", "name_to_handle_at",
	"fanotify_init", "io_uring_setup", "io_uring_enter",
	"io_uring_register",
	/* namespaces */
	"unshare", "setns",
};

/* The id calls: denied when an argument is 0 (uid or gid root); -1 (keep)
 * and the workers' user pass. argn: how many id arguments. */
static const struct {
	const char	*name;
	unsigned	 argn;
} privdrop_ids[] = {
	{ "setuid", 1 }, { "setgid", 1 }, { "setfsuid", 1 }, { "setfsgid", 1 },
	{ "setreuid", 2 }, { "setregid", 2 }, { "setresuid", 3 },
	{ "setresgid", 3 },
};

#define PRIVDROP_ID_MASK	0xffffffffULL	/* uid_t is 32 bits */
#define PRIVDROP_PERSONALITY_QUERY 0xffffffffULL

static int
privdrop_rules(scmp_filter_ctx ctx)
{
	size_t i;
	unsigned a;
	int nr, rc;

	for (i = 0; i < sizeof(privdrop_denied) / sizeof(*privdrop_denied);
	    i++) {
#if defined(__SANITIZE_ADDRESS__)
		/* LeakSanitizer stops the threads with ptrace at exit: a
		 * sanitizer build (for the tests) keeps it */
		if (strcmp(privdrop_denied[i], "ptrace") == 0)
			continue;
#endif
		if ((nr = seccomp_syscall_resolve_name(privdrop_denied[i])) ==
		    __NR_SCMP_ERROR || nr < 0)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr,
		    0)) < 0)
			return rc;
	}
	for (i = 0; i < sizeof(privdrop_ids) / sizeof(*privdrop_ids); i++) {
		if ((nr = seccomp_syscall_resolve_name(privdrop_ids[i].name)) ==
		    __NR_SCMP_ERROR || nr < 0)
			continue;
		for (a = 0; a < privdrop_ids[i].argn; a++)
			if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
			    nr, 1, SCMP_CMP(a, SCMP_CMP_MASKED_EQ,
			    PRIVDROP_ID_MASK, 0))) < 0)
				return rc;
	}
	/* personality: only the query (0xffffffff), which sanitizer
	 * runtimes make at start, in a worker too */
	if ((nr = seccomp_syscall_resolve_name("personality")) !=
	    __NR_SCMP_ERROR && nr >= 0 &&
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
	    SCMP_A0(SCMP_CMP_NE, PRIVDROP_PERSONALITY_QUERY))) < 0)
		return rc;
	return 0;
}

int
privdrop_seccomp(struct tp_err *err)
{
	scmp_filter_ctx ctx;
	int rc;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return tp_err_set(err, TP_INTERNAL, "seccomp_init failed");
	/* every thread: the store's, libzmq's and libcurl's run already */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
	    (rc = privdrop_rules(ctx)) < 0 || (rc = seccomp_load(ctx)) < 0) {
		seccomp_release(ctx);
		return tp_err_set(err, TP_INTERNAL, "cannot install the seccomp "
		    "filter: error %d", -rc);
	}
	seccomp_release(ctx);
	return 0;
}
