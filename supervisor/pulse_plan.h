/* pulse_plan.h: a pulse's plan: the tenants listed, checked in chunks on the store threads, their trades and symbols. */
#ifndef TP_SUPERVISOR_PULSE_PLAN_H
#define TP_SUPERVISOR_PULSE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "supervisor/jobs.h"

struct pulse_tenant {
	char		*uid;
	char		*trades;	/* JSON text, or NULL: read at dispatch */
	char		*keys_doc;	/* JSON text, or NULL: read at dispatch */
};

/*
 * What the plan found. The plan lists the tenants (one store work), then
 * checks them in chunks on all the store threads at once (a chunk is a
 * pulse_plan of its own, merged into the first as it ends): the pulse's
 * workers wait for the plan, so it is worth both cores.
 */
struct pulse_plan {
	struct jobs_work	 hdr;		/* first: the work's argument */
	struct jobs		*j;
	void			(*done)(struct pulse_plan *, void *);
	void			*arg;		/* NULL once the pulse is gone */
	bool			 listed;	/* the list is in: the pulse's to free */
	unsigned		 threads;	/* store threads to use */
	char			**uids;		/* the list (the first plan) */
	size_t			 nuids;
	size_t			 pending;	/* chunks not ended */
	struct pulse_plan	*master;	/* a chunk's plan */
	size_t			 from, to;	/* a chunk's share of uids */
	struct pulse_tenant	*t;
	size_t			 nt, cap;
	json_object		*symbols;	/* a set: symbol -> null */
	size_t			 users_total;
	size_t			 skipped_disabled;
	size_t			 skipped_no_keys;
	size_t			 skipped_quarantined;
	size_t			 trades;
	size_t			 capped;	/* tenants with too many trades */
	int			 rc;
	struct tp_err		 err;
};

/*
 * Lists the tenants and checks them on up to threads store threads; then
 * done(plan, arg) on the loop, with plan->rc -1 (plan->err) when it
 * failed. NULL (err) when it cannot start.
 */
struct pulse_plan *pulse_plan_start(struct jobs *j, unsigned threads,
		    void (*done)(struct pulse_plan *, void *), void *arg,
		    struct tp_err *err);
/* The store work's free: the plan and what it holds. */
void		 pulse_plan_free(struct jobs_work *w);
/* The pulse is gone: frees the plan, or, while its list is still on a
 * store thread, lets the job layer's work free it. */
void		 pulse_plan_release(struct pulse_plan *pl);

#endif
