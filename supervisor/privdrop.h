/* privdrop.h: tradepulsed giving up root: inherited descriptors, the service user, capabilities, no-new-privs and its own seccomp filter. */
#ifndef TP_PRIVDROP_H
#define TP_PRIVDROP_H

#include <sys/types.h>

#include <stdbool.h>

#include "common/config.h"
#include "common/error.h"

/* The only capabilities the daemon keeps after the drop (docs/security.md):
 * CAP_SETUID and CAP_SETGID, also ambient so that a worker it spawns can
 * drop to [workers] user, and CAP_KILL to stop workers of another uid. */
#define PRIVDROP_CAPS_TEXT	"cap_setuid,cap_setgid,cap_kill"

struct privdrop_user {
	bool	 drop;		/* started as root, [daemon] user not root */
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
};

/* Closes every descriptor above 2 (whatever the caller left open). */
void	privdrop_close_fds(void);

/* Who to drop to: u->drop is false when not root or [daemon] user = root
 * (then warned about once when warn is set). Fails on an unknown user or
 * one with uid or gid 0. */
int	privdrop_lookup(const struct config *cfg, struct privdrop_user *u,
	    bool warn, struct tp_err *err);

/* For the checks of tradepulsed -n: the effective ids (and groups) of u
 * for a while, then root's again. No-ops when u->drop is false. */
int	privdrop_become(const struct privdrop_user *u, struct tp_err *err);
int	privdrop_unbecome(const struct privdrop_user *u, struct tp_err *err);

/* As root, before the drop: creates state_dir, log_dir, the api socket's
 * folder (and the pidfile's folder unless foreground) and gives them (and
 * what root left in the first two) to the service user. */
int	privdrop_own_dirs(const struct config *cfg, const struct privdrop_user *u,
	    bool foreground, struct tp_err *err);

/* The drop itself: bounding set cut to the three, the user's ids and
 * groups, permitted = effective = inheritable = the three, ambient
 * CAP_SETUID/CAP_SETGID for the workers, then no-new-privs. Without a
 * drop only no-new-privs. dumpable: PR_SET_DUMPABLE after the uid change
 * (which resets it). */
int	privdrop_drop(const struct privdrop_user *u, bool dumpable,
	    struct tp_err *err);

/* After the drop: warns when the configuration file cannot be read any
 * more (a reload would be refused). */
void	privdrop_check_reload(const struct config *cfg);

/* privdrop_seccomp.c: the supervisor's deny-list, for all its threads;
 * inherited by the workers, whose own filter is stricter. */
int	privdrop_seccomp(struct tp_err *err);

#endif
