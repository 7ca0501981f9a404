/* policy.h: tenant policy: strikes, outside kills in a row, quarantine, and whether a tenant may run a job. */
#ifndef TP_SUPERVISOR_POLICY_H
#define TP_SUPERVISOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/path.h"
#include "common/store.h"

/*
 * What the daemon remembers of a tenant between jobs (in memory, on the
 * loop thread; the quarantine document persists a quarantine), and the
 * store-side gate the sync op and the pulse ask before queuing a job.
 * The job table owns one (jobs->policy); docs/crashes.md states the rules.
 */

/* Why a tenant's job may not run (policy_tenant_blocked). */
enum policy_block {
	POLICY_RUNNABLE = 0,
	POLICY_MISSING,
	POLICY_QUARANTINED,
	POLICY_NO_KEYS,
	POLICY_DISABLED,
};

struct policy;

/* NULL when out of memory. */
struct policy	*policy_new(void);
void		 policy_free(struct policy *p);

/* One more strike; returns the count (0: not counted, out of memory). */
unsigned	 policy_strike(struct policy *p, const char *uid);
unsigned	 policy_strikes(const struct policy *p, const char *uid);
/* A job answered: strikes and outside kills in a row start again. */
void		 policy_strikes_clear(struct policy *p, const char *uid);
/* One more SIGKILL from outside the daemon while the tenant ran alone;
 * returns how many in a row (0: not counted, out of memory). */
unsigned	 policy_outside_kill(struct policy *p, const char *uid);
void		 policy_outside_kills_clear(struct policy *p, const char *uid);
/* The tenant is quarantined from now on (its document is written by the
 * caller); counted in policy_quarantines. */
void		 policy_quarantine(struct policy *p, const char *uid,
		    const char *crash_id, const char *since);
/* The operator's release: no quarantine, no strikes. Returns the strikes
 * cleared; *was gets whether it was quarantined in memory. */
unsigned	 policy_release(struct policy *p, const char *uid, bool *was);
/* True (with err naming the quarantine) when the tenant was quarantined
 * since the daemon started and not released. */
bool		 policy_quarantined(const struct policy *p, const char *uid,
		    struct tp_err *err);
/* Tenants remembered (strikes, outside kills or a quarantine). */
size_t		 policy_tenants(const struct policy *p);
/* Quarantines since the daemon started. */
uint64_t	 policy_quarantines(const struct policy *p);

/* The message of a quarantine's failed_precondition. */
void		 policy_quarantine_error(struct tp_err *err, const char *uid,
		    const char *crash_id, unsigned strikes, const char *since);

/*
 * Store side, for the sync op and the pulse: whether a tenant may run a
 * job now. Returns 1 when it may not (*why and err say why, err with the
 * code an API reply uses: not_found, failed_precondition), 0 when it may,
 * -1 on a store error. With keys_doc, a runnable tenant's sealed keys
 * document comes back too (JSON text, the caller frees it), so its job
 * need not read it again.
 */
int		 policy_tenant_blocked(struct store *st, const char *uid,
		    enum policy_block *why, char **keys_doc, struct tp_err *err);

/* The documents that decide (policy_doc_path gives each one's path). */
enum policy_doc {
	POLICY_DOC_QUARANTINE,
	POLICY_DOC_TRADING,
	POLICY_DOC_KEYS,
	POLICY_DOCS
};
#define POLICY_PATH_MAX	(UID_MAX_LEN + 64)
void		 policy_doc_path(char *buf, size_t size, const char *uid,
		    enum policy_doc which);
/*
 * policy_tenant_blocked's decision from the documents read (each NULL
 * when missing): exists matters only when all three are missing (then it
 * is tenant_exists's answer). Returns 1 or 0 as policy_tenant_blocked.
 */
int		 policy_tenant_decide(const char *uid, json_object *quarantine,
		    json_object *trading, json_object *sealed, bool exists,
		    enum policy_block *why, char **keys_doc, struct tp_err *err);
/* Store side of a release: deletes the quarantine document (*existed:
 * there was one). 0, or -1 (err: not_found for no such tenant). */
int		 policy_release_doc(struct store *st, const char *uid,
		    bool *existed, struct tp_err *err);

#endif
