/* privdrop.c: tradepulsed giving up root after start-up: the service user's folders, its ids and the three capabilities it keeps, no-new-privs. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/securebits.h>

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "supervisor/daemon.h"
#include "supervisor/privdrop.h"

#define PRIVDROP_GROUPS_MAX	256

static const cap_value_t privdrop_keep[] = { CAP_SETUID, CAP_SETGID,
    CAP_KILL };
/* what a worker needs for its own drop to [workers] user */
static const cap_value_t privdrop_ambient[] = { CAP_SETUID, CAP_SETGID };

/* root's groups while privdrop_become is in force */
static gid_t privdrop_saved_groups[PRIVDROP_GROUPS_MAX];
static int privdrop_nsaved = -1;

void
privdrop_close_fds(void)
{
	/* before anything is opened: a descriptor a parent leaked (a
	 * terminal, a socket, a secret file) must not stay in the daemon
	 * nor reach a worker */
	if (close_range(STDERR_FILENO + 1, ~0U, 0) == -1) {
		int fd, max = (int)sysconf(_SC_OPEN_MAX);

		for (fd = STDERR_FILENO + 1; fd < max && fd < 65536; fd++)
			(void)close(fd);
	}
}

int
privdrop_lookup(const struct config *cfg, struct privdrop_user *u,
    bool warn, struct tp_err *err)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0)
		return 0;
	if (strcmp(cfg->daemon_user, "root") == 0) {
		if (warn)
			log_warnx("[daemon] user = root: tradepulsed keeps every "
			    "privilege of root (meant for tests)");
		return 0;
	}
	if (strlen(cfg->daemon_user) >= sizeof(u->name))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "user name %.32s... is too long", cfg->daemon_user);
	errno = 0;
	if ((pw = getpwnam(cfg->daemon_user)) == NULL)
		return errno != 0 ? tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "user %s", cfg->daemon_user) :
		    tp_err_set(err, TP_FAILED_PRECONDITION, "user %s does not "
		    "exist (make install-service creates it; user = root "
		    "keeps root)", cfg->daemon_user);
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return tp_err_set(err, TP_FAILED_PRECONDITION, "user %s has "
		    "uid or gid 0: name root to keep root", cfg->daemon_user);
	u->drop = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", cfg->daemon_user);
	return 0;
}

/* The user's supplementary groups (its primary group among them). */
static int
privdrop_groups(const struct privdrop_user *u, gid_t *groups, int *n,
    struct tp_err *err)
{
	*n = PRIVDROP_GROUPS_MAX;
	if (getgrouplist(u->name, u->gid, groups, n) == -1)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "user %s is in more than %d groups", u->name,
		    PRIVDROP_GROUPS_MAX);
	return 0;
}

int
privdrop_become(const struct privdrop_user *u, struct tp_err *err)
{
	gid_t groups[PRIVDROP_GROUPS_MAX];
	int n;

	if (!u->drop)
		return 0;
	if ((privdrop_nsaved = getgroups(PRIVDROP_GROUPS_MAX,
	    privdrop_saved_groups)) == -1)
		return tp_err_errno(err, TP_INTERNAL, "getgroups");
	if (privdrop_groups(u, groups, &n, err) == -1)
		return -1;
	if (setgroups((size_t)n, groups) == -1 || setegid(u->gid) == -1 ||
	    seteuid(u->uid) == -1)
		return tp_err_errno(err, TP_INTERNAL, "cannot act as user %s",
		    u->name);
	return 0;
}

int
privdrop_unbecome(const struct privdrop_user *u, struct tp_err *err)
{
	if (!u->drop || privdrop_nsaved < 0)
		return 0;
	if (seteuid(0) == -1 || setegid(getgid()) == -1 ||
	    setgroups((size_t)privdrop_nsaved, privdrop_saved_groups) == -1)
		return tp_err_errno(err, TP_INTERNAL, "cannot act as root "
		    "again");
	privdrop_nsaved = -1;
	return 0;
}

#define PRIVDROP_TREE_DEPTH	4	/* state_dir/run, log_dir/tenants */

/*
 * What root left in a folder of the daemon (a store or logs of a daemon
 * that ran as root) goes to the service user: entries first, the folder
 * last, and only down a chain of root's folders, so that the user cannot
 * change an entry while we look at it (a folder of theirs could have one
 * swapped for a symlink into /etc). Never through a symlink, only root's
 * regular files of a single link (a planted hard link must not give the
 * user a file of the system) and root's folders; the rest is left alone.
 */
static void
privdrop_own_at(int dfd, const char *name, const char *top,
    const struct privdrop_user *u, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == -1 || st.st_uid != 0 || (dir = fdopendir(fd)) ==
	    NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0
		    || fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    st.st_uid != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < PRIVDROP_TREE_DEPTH)
			privdrop_own_at(fd, de->d_name, top, u, depth + 1);
		else if (S_ISREG(st.st_mode) && st.st_nlink == 1 &&
		    fchownat(fd, de->d_name, u->uid, u->gid,
		    AT_SYMLINK_NOFOLLOW) == -1)
			log_warnx("chown %s/.../%s: %s", top, de->d_name,
			    strerror(errno));
	}
	if (fchown(fd, u->uid, u->gid) == -1)
		log_warnx("chown a folder under %s: %s", top, strerror(errno));
	closedir(dir);
}

static int
privdrop_own_tree(const char *dir, mode_t mode, const struct privdrop_user *u,
    struct tp_err *err)
{
	struct stat st;

	if (files_mkdir(dir, mode, err) == -1)
		return -1;
	if (stat(dir, &st) == -1)
		return tp_err_errno(err, TP_INTERNAL, "stat %s", dir);
	/* a folder others may enter could be a system one (/var/log): the
	 * daemon's own are 0700 and 0750 */
	if (st.st_uid == 0 && (st.st_mode & 007) != 0) {
		log_warnx("%s can be entered by other users (mode %04o): not "
		    "given to user %s; make it a folder of its own, 0750",
		    dir, (unsigned)(st.st_mode & 07777), u->name);
		return 0;
	}
	privdrop_own_at(AT_FDCWD, dir, dir, u, 0);
	return 0;
}

/*
 * The folder of the api socket or of the pidfile: created (0750, the
 * user's group) when missing. An existing one is given to the user (the
 * owner only: its group is the operators' access to the socket) when
 * nobody else can enter it; a shared folder such as /run is left alone
 * (the socket's own check then refuses it, a pidfile is created there
 * before the drop).
 */
static int
privdrop_own_parent(const char *path, const struct privdrop_user *u,
    struct tp_err *err)
{
	char dir[PATH_MAX];
	struct stat st;
	bool made;

	if (path_fs_dirname(path, dir, sizeof(dir)) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "path too long: "
		    "%.64s", path);
	made = stat(dir, &st) == -1 && errno == ENOENT;
	if (files_mkdir(dir, 0750, err) == -1)
		return -1;
	if (stat(dir, &st) == -1)
		return tp_err_errno(err, TP_INTERNAL, "stat %s", dir);
	if (!made && (st.st_mode & 007) != 0)
		return 0;
	if (st.st_uid != u->uid && chown(dir, u->uid, made ? u->gid :
	    (gid_t)-1) == -1)
		return tp_err_errno(err, TP_INTERNAL, "chown %s", dir);
	return 0;
}

int
privdrop_own_dirs(const struct config *cfg, const struct privdrop_user *u,
    bool foreground, struct tp_err *err)
{
	if (!u->drop)
		return 0;
	if (privdrop_own_tree(cfg->state_dir, 0700, u, err) == -1 ||
	    privdrop_own_tree(cfg->log_dir, 0750, u, err) == -1)
		return -1;
	if (strncmp(cfg->api, "ipc://", 6) == 0 && cfg->api[6] != '@' &&
	    privdrop_own_parent(cfg->api + 6, u, err) == -1)
		return -1;
	if (!foreground && privdrop_own_parent(cfg->pidfile, u, err) == -1)
		return -1;
	return 0;
}

/* Every capability but the three leaves the bounding set (for good). */
static int
privdrop_bound(struct tp_err *err)
{
	cap_value_t c;
	size_t i;
	bool keep;

	for (c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		keep = false;
		for (i = 0; i < sizeof(privdrop_keep) / sizeof(*privdrop_keep);
		    i++)
			keep |= privdrop_keep[i] == c;
		if (!keep && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "dropping capability %d from the bounding set", c);
	}
	return 0;
}

/* permitted = effective = inheritable = the three (inheritable because an
 * ambient capability must be both permitted and inheritable). */
static int
privdrop_caps(struct tp_err *err)
{
	cap_t caps, want;
	size_t i;
	int n = (int)(sizeof(privdrop_keep) / sizeof(*privdrop_keep)), same;

	if ((caps = cap_init()) == NULL)
		return tp_err_errno(err, TP_RESOURCE_EXHAUSTED, "cap_init");
	if (cap_set_flag(caps, CAP_PERMITTED, n, privdrop_keep, CAP_SET) ==
	    -1 || cap_set_flag(caps, CAP_EFFECTIVE, n, privdrop_keep,
	    CAP_SET) == -1 || cap_set_flag(caps, CAP_INHERITABLE, n,
	    privdrop_keep, CAP_SET) == -1 || cap_set_proc(caps) == -1) {
		cap_free(caps);
		return tp_err_errno(err, TP_INTERNAL, "cannot set the "
		    "capabilities %s", PRIVDROP_CAPS_TEXT);
	}
	for (i = 0; i < sizeof(privdrop_ambient) / sizeof(*privdrop_ambient);
	    i++)
		if (cap_set_ambient(privdrop_ambient[i], CAP_SET) == -1) {
			cap_free(caps);
			return tp_err_errno(err, TP_INTERNAL,
			    "cannot raise ambient capability %d",
			    privdrop_ambient[i]);
		}
	/* what is in force is exactly what was asked for */
	if ((want = cap_get_proc()) == NULL) {
		cap_free(caps);
		return tp_err_errno(err, TP_INTERNAL, "cap_get_proc");
	}
	same = cap_compare(caps, want);
	cap_free(want);
	cap_free(caps);
	if (same != 0)
		return tp_err_set(err, TP_INTERNAL, "capabilities other than "
		    "%s after the drop", PRIVDROP_CAPS_TEXT);
	return 0;
}

/*
 * Started without root but with ambient capabilities (systemd's
 * AmbientCapabilities=CAP_SETUID CAP_SETGID CAP_KILL): only the two a
 * worker needs stay ambient, so no worker starts with CAP_KILL. Lowering
 * needs no privilege.
 */
static int
privdrop_ambient_trim(struct tp_err *err)
{
	cap_value_t c;
	size_t i;
	bool keep;

	for (c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		keep = false;
		for (i = 0; i < sizeof(privdrop_ambient) /
		    sizeof(*privdrop_ambient); i++)
			keep |= privdrop_ambient[i] == c;
		if (!keep && cap_get_ambient(c) == 1 &&
		    cap_set_ambient(c, CAP_CLEAR) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "lowering ambient capability %d", c);
	}
	return 0;
}

int
privdrop_drop(const struct privdrop_user *u, bool dumpable,
    struct tp_err *err)
{
	gid_t groups[PRIVDROP_GROUPS_MAX];
	uid_t ru, eu, su;
	int n;

	if (u->drop) {
		if (privdrop_groups(u, groups, &n, err) == -1)
			return -1;
		/*
		 * uid 0 never means full capabilities again (an execve by a
		 * process that set its uid back to 0 would otherwise get
		 * them); locked, so it cannot be undone. The capabilities
		 * survive the uid change (KEEP_CAPS) to be cut to three.
		 */
		if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT |
		    SECBIT_NOROOT_LOCKED | SECBIT_KEEP_CAPS, 0, 0, 0) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "PR_SET_SECUREBITS");
		if (privdrop_bound(err) == -1)
			return -1;
		if (setgroups((size_t)n, groups) == -1)
			return tp_err_errno(err, TP_INTERNAL, "setgroups");
		if (setresgid(u->gid, u->gid, u->gid) == -1)
			return tp_err_errno(err, TP_INTERNAL, "setresgid %u",
			    (unsigned)u->gid);
		if (setresuid(u->uid, u->uid, u->uid) == -1)
			return tp_err_errno(err, TP_INTERNAL, "setresuid %u",
			    (unsigned)u->uid);
		if (privdrop_caps(err) == -1)
			return -1;
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "PR_SET_KEEPCAPS");
		if (getresuid(&ru, &eu, &su) == -1 || ru != u->uid ||
		    eu != u->uid || su != u->uid)
			return tp_err_set(err, TP_INTERNAL, "ids are not those "
			    "of user %s after the drop", u->name);
		/* the uid change reset it */
		if (prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0, 0, 0, 0) == -1)
			return tp_err_errno(err, TP_INTERNAL,
			    "PR_SET_DUMPABLE");
		log_info("running as user %s (uid %u, gid %u) with %s",
		    u->name, (unsigned)u->uid, (unsigned)u->gid,
		    PRIVDROP_CAPS_TEXT);
	}
	if (!u->drop && privdrop_ambient_trim(err) == -1)
		return -1;
	/* no execve of ours may gain a privilege (setuid files, file
	 * capabilities); the workers inherit it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return tp_err_errno(err, TP_INTERNAL, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

void
privdrop_check_reload(const struct config *cfg)
{
	/* a SIGHUP reads the file again, as the user we run as now */
	if (cfg->file != NULL && access(cfg->file, R_OK) == -1)
		log_warnx("%s cannot be read by uid %u (%s): a reload "
		    "(SIGHUP) will be refused; make it readable to the "
		    "daemon's group (0640)", cfg->file, (unsigned)geteuid(),
		    strerror(errno));
}
