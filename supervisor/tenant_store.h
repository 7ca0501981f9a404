/* tenant_store.h: a tenant's documents and log as the operations, the pulse and the job layer reach them. */
#ifndef TP_SUPERVISOR_TENANT_STORE_H
#define TP_SUPERVISOR_TENANT_STORE_H

#include <stdarg.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/store.h"
#include "common/tenantlog.h"

struct daemon;

/*
 * For store work functions: fetches a document's data (*data may be NULL
 * when only existence matters). Returns 1 when found, 0 when missing, -1
 * on a store error.
 */
int	tenant_doc_get(struct store *st, const char *path, json_object **data,
	    struct tp_err *err);
/* Whether the tenant has any document at all (1, 0 or -1). */
int	tenant_exists(struct store *st, const char *uid, struct tp_err *err);
/* The documents users/<uid><subs[i]>, i < n, into docs[i] (NULL when
 * missing; the caller puts them): how many were found, or -1. */
int	tenant_docs_get(struct store *st, const char *uid,
	    const char *const *subs, size_t n, json_object **docs,
	    struct tp_err *err);
/* The tenant's newest signals (users/<uid>/signals by timestamp, newest
 * first), at most limit. */
int	tenant_signals_newest(struct store *st, const char *uid, size_t limit,
	    struct store_doclist *list, struct tp_err *err);

/* One line in the tenant's log, from the loop thread; a failure is
 * reported in the daemon log and otherwise ignored. */
int	tenant_log(struct daemon *d, const char *uid, enum tlog_level lvl,
	    const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* The same with a job id (NULL: none) and a va_list. */
int	tenant_vlog(struct daemon *d, const char *uid, enum tlog_level lvl,
	    const char *job_id, const char *event, const char *fmt, va_list ap)
	    __attribute__((format(printf, 6, 0)));

#endif
