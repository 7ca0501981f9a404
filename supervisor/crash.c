/* crash.c: a worker's end: crash reports, strikes, quarantine, re-queueing, the recent crashes. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/store.h"
#include "common/tenantlog.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/metrics.h"
#include "supervisor/engine_int.h"
#include "supervisor/policy.h"
#include "supervisor/pool.h"

/*
 * What happens to a batch's jobs when its worker ends:
 *  - clean exit: jobs not answered (there should be none) are re-queued;
 *  - killed by the daemon's stop: they fail as interrupted (unavailable);
 *  - death before HELLO (start-up failure): a report, and every job is
 *    re-queued as it was, without a strike: no tenant ran yet;
 *  - killed because one job broke the rules (results.c): a report naming
 *    the culprit, who already has its strike; the others are re-queued
 *    as they were;
 *  - any other death (signal, exit code, deadline, heartbeat, channel
 *    loss): a report, and every job in flight (a JOB was sent and no
 *    RESULT came, whether or not its JOB_BEGIN arrived, since a worker
 *    can die on a job before it says it began) is judged by what the
 *    death implicates (crash_implicates): a strike (one per tenant per
 *    crash), its tenant's last_sync_error and a tenant log line only for
 *    a crash while the tenant ran alone or for its own deadline; the
 *    batch-mates of a crash are re-run alone without a strike, so the
 *    culprit is found alone; a SIGKILL the daemon did not send (an
 *    operator, a watchdog, the OOM killer) implicates nobody: a re-run,
 *    bounded by max_strikes such kills in a row while alone (the job then
 *    fails unavailable, no quarantine). At max_strikes the tenant is
 *    quarantined and its job fails. Jobs of the batch not yet sent are
 *    re-queued as they were. docs/crashes.md states the whole policy.
 * A committing job has left its batch: a crash never re-queues it.
 */

#define CRASH_PATH_MAX		(UID_MAX_LEN + 64)
#define CRASH_WHAT_MAX		192
#define CRASH_SUMMARY_UIDS	32

/* Store writes of one event, committed in batches of at most
 * STORE_BATCH_MAX on a store thread. */
struct crash_writes {
	struct jobs_work	 hdr;		/* first: the work's argument */
	struct jobs		*j;
	struct store_batch	**sb;
	size_t			 nsb;
	char			 label[64];
	struct tp_err		 err;
	int			 rc;
};

static struct crash_writes *
crash_writes_new(struct jobs *j, const char *label)
{
	struct crash_writes *cw;

	if ((cw = calloc(1, sizeof(*cw))) == NULL)
		return NULL;
	cw->j = j;
	snprintf(cw->label, sizeof(cw->label), "%s", label);
	return cw;
}

static void
crash_writes_free(struct jobs_work *w)
{
	struct crash_writes *cw = (struct crash_writes *)w;
	size_t i;

	for (i = 0; i < cw->nsb; i++)
		store_batch_free(cw->sb[i]);
	free(cw->sb);
	free(cw);
}

static void
crash_writes_add(struct crash_writes *cw, enum store_write_kind kind,
    const char *path, json_object *data)
{
	struct store_batch **v, *b;

	if (cw == NULL)
		return;
	if (cw->nsb == 0 ||
	    store_batch_len(cw->sb[cw->nsb - 1]) >= STORE_BATCH_MAX) {
		if ((v = reallocarray(cw->sb, cw->nsb + 1, sizeof(*v))) == NULL)
			return;
		cw->sb = v;
		if ((b = store_batch_new()) == NULL)
			return;
		cw->sb[cw->nsb++] = b;
	}
	store_batch_add(cw->sb[cw->nsb - 1], kind, path, data);
}

static void
crash_writes_work(struct store *st, void *arg)
{
	struct crash_writes *cw = arg;
	size_t i;

	for (i = 0; i < cw->nsb; i++)
		if (store_batch_commit(st, cw->sb[i], &cw->err) == -1)
			cw->rc = -1;
}

static void
crash_writes_done(void *arg)
{
	struct crash_writes *cw = arg;

	jobs_work_done(cw->j, &cw->hdr);
	if (cw->rc == -1)
		log_warnx("%s: cannot write it to the store: %s", cw->label,
		    cw->err.msg);
	crash_writes_free(&cw->hdr);
}

static void
crash_writes_submit(struct crash_writes *cw)
{
	struct tp_err err;

	if (cw == NULL)
		return;
	cw->hdr.free = crash_writes_free;
	if (cw->nsb == 0) {
		crash_writes_free(&cw->hdr);
		return;
	}
	if (jobs_work_submit(cw->j, &cw->hdr, crash_writes_work,
	    crash_writes_done, &err) == -1) {
		log_warnx("%s: cannot write it to the store: %s", cw->label,
		    err.msg);
		crash_writes_free(&cw->hdr);
	}
}

/* A name the worker's stderr gave: [a-z0-9_], bounded, or "unknown". */
static void
crash_syscall_name(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			break;
	if (s[i] != '\0' || i == 0) {
		snprintf(buf, size, "unknown");
		return;
	}
	memcpy(buf, s, i);
	buf[i] = '\0';
}

static void
crash_signame(const struct worker_exit *ex, char *buf, size_t size)
{
	size_t i;

	buf[0] = '\0';
	if (ex->signo == 0)
		return;
	if (ex->signame == NULL) {
		snprintf(buf, size, "signal %d", ex->signo);
		return;
	}
	for (i = 0; ex->signame[i] != '\0' && i + 1 < size; i++)
		buf[i] = (ex->signame[i] >= 'A' && ex->signame[i] <= 'Z') ||
		    (ex->signame[i] >= '0' && ex->signame[i] <= '9') ?
		    ex->signame[i] : '?';
	buf[i] = '\0';
}

/* How it ended, for messages: "crashed (SIGSEGV)", "was killed: no
 * heartbeat for 10s (SIGTERM)", "exited with code 3", ... */
static void
crash_describe(const struct worker_exit *ex, char *buf, size_t size)
{
	char sig[16], sc[40], how[48];

	crash_signame(ex, sig, sizeof(sig));
	if (ex->signo != 0)
		snprintf(how, sizeof(how), "%s%s", sig, ex->core ?
		    ", core dumped" : "");
	else
		snprintf(how, sizeof(how), "exit code %d", ex->exit_code);
	if (ex->syscall != NULL) {
		crash_syscall_name(ex->syscall, sc, sizeof(sc));
		snprintf(buf, size, "crashed: forbidden syscall %s (%s)", sc,
		    how);
	} else if (ex->reason != NULL)
		snprintf(buf, size, "was killed: %.120s (%s)", ex->reason, how);
	else if (ex->signo != 0)
		snprintf(buf, size, "crashed (%s)", how);
	else
		snprintf(buf, size, "exited with code %d", ex->exit_code);
}

/*
 * The stderr tail for the report: valid UTF-8 without control characters
 * (but newlines and tabs), and a line shaped like a credential withheld:
 * a worker holds its batch's keys, and the report is not theirs to read.
 */
static char *
crash_stderr(const char *tail)
{
	char *out, *line, *next;
	size_t n, i, o = 0, k;
	unsigned char c;

	if (tail == NULL)
		tail = "";
	n = strnlen(tail, WORKER_STDERR_TAIL);
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; ) {
		c = (unsigned char)tail[i];
		if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (k > 1 && i + k <= n && json_utf8_valid(tail + i, k)) {
			memcpy(out + o, tail + i, k);
			o += k;
			i += k;
		} else {
			out[o++] = '?';
			i++;
		}
	}
	out[o] = '\0';
	for (line = out; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next = '\0';
		if (tenantlog_looks_secret(line))
			memset(line, '#', strlen(line));
		if (next != NULL)
			*next++ = '\n';
	}
	return out;
}

static void
crash_summary_add(struct jobs *j, const char *id, const char *at,
    const struct worker_exit *ex, json_object *uids)
{
	struct jobs_crash_summary *s;

	if (j->nrecent == JOBS_RECENT_CRASHES)
		json_object_put(j->recent[--j->nrecent].uids);
	memmove(&j->recent[1], &j->recent[0], j->nrecent * sizeof(j->recent[0]));
	j->nrecent++;
	s = &j->recent[0];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->at, sizeof(s->at), "%s", at);
	s->pid = ex->pid;
	crash_signame(ex, s->signame, sizeof(s->signame));
	s->exit_code = ex->exit_code;
	if (ex->syscall != NULL)
		crash_syscall_name(ex->syscall, s->syscall, sizeof(s->syscall));
	if (ex->reason != NULL)
		snprintf(s->reason, sizeof(s->reason), "%s", ex->reason);
	s->startup = ex->startup;
	s->uids = uids;
}

void
crash_summaries_free(struct jobs *j)
{
	size_t i;

	for (i = 0; i < j->nrecent; i++)
		json_object_put(j->recent[i].uids);
	j->nrecent = 0;
}

json_object *
crash_recent_json(const struct jobs *j)
{
	const struct jobs_crash_summary *s;
	json_object *a, *o;
	size_t i;

	if ((a = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < j->nrecent; i++) {
		s = &j->recent[i];
		if ((o = json_object_new_object()) == NULL)
			continue;
		json_add(o, "id", json_object_new_string(s->id));
		json_add(o, "at", json_object_new_string(s->at));
		json_add(o, "pid", json_object_new_int64(s->pid));
		if (s->signame[0] != '\0')
			json_add(o, "signal",
			    json_object_new_string(s->signame));
		else
			json_add(o, "exit_code",
			    json_object_new_int(s->exit_code));
		json_add(o, "syscall", s->syscall[0] != '\0' ?
		    json_object_new_string(s->syscall) : NULL);
		json_add(o, "reason", s->reason[0] != '\0' ?
		    json_object_new_string(s->reason) : NULL);
		json_add(o, "startup", json_object_new_boolean(s->startup));
		json_add(o, "uids", s->uids != NULL ?
		    json_copy(s->uids) : json_object_new_array());
		if (json_object_array_add(a, o) != 0)
			json_object_put(o);
	}
	return a;
}

/* The document ops/crashes/reports/{id}. */
static json_object *
crash_report(struct batch *b, const struct worker_exit *ex, const char *at,
    json_object *jobs_arr)
{
	json_object *r, *cul;
	char sig[16], sc[40], *tail;

	if ((r = json_object_new_object()) == NULL)
		return NULL;
	crash_signame(ex, sig, sizeof(sig));
	json_add(r, "at", json_object_new_string(at));
	json_add(r, "pid", json_object_new_int64(ex->pid));
	json_add(r, "generation", json_object_new_int64(
	    (int64_t)ex->generation));
	if (ex->signo != 0)
		json_add(r, "signal", json_object_new_string(sig));
	else
		json_add(r, "exit_code", json_object_new_int(
		    ex->exit_code));
	json_add(r, "core", json_object_new_boolean(ex->core));
	if (ex->syscall != NULL) {
		crash_syscall_name(ex->syscall, sc, sizeof(sc));
		json_add(r, "syscall", json_object_new_string(sc));
	} else
		json_add(r, "syscall", NULL);
	json_add(r, "uptime_ms", json_object_new_int64(
	    (int64_t)ex->uptime_ms));
	json_add(r, "jobs", jobs_arr);
	tail = crash_stderr(ex->stderr_tail);
	json_add(r, "stderr_tail", json_object_new_string(
	    tail != NULL ? tail : ""));
	free(tail);
	json_add(r, "reason", ex->reason != NULL ?
	    json_object_new_string(ex->reason) : ex->startup ?
	    json_object_new_string("start-up failure: the worker died "
	    "before its HELLO") : NULL);
	json_add(r, "startup", json_object_new_boolean(ex->startup));
	json_add(r, "batch", json_object_new_int64((int64_t)b->id));
	if (b->culprit_job[0] != '\0' &&
	    (cul = json_object_new_object()) != NULL) {
		json_add(cul, "job_id",
		    json_object_new_string(b->culprit_job));
		json_add(cul, "uid", json_object_new_string(b->culprit_uid));
		json_add(r, "culprit", cul);
	}
	return r;
}

/* One strike for the tenant of job, with what it leads to. */
static bool
crash_tenant_fault(struct crash_writes *cw, struct jobs *j, struct job *job,
    const char *crash_id, const char *what, enum tp_code code,
    const char *event, unsigned *strikes_out)
{
	unsigned strikes, max = j->d->cfg.max_strikes;
	json_object *e, *q;
	char path[CRASH_PATH_MAX], at[32], reason[CRASH_WHAT_MAX + 32];
	bool quarantined;

	strikes = policy_strike(j->policy, job->uid);
	quarantined = strikes >= max;
	*strikes_out = strikes;
	/* a security event's text may name another tenant's path */
	events_crash(j->d->events, job, crash_id, code == TP_PERMISSION_DENIED ?
	    "security event: a result outside the tenant's own documents" :
	    what, strikes);
	store_timestamp(at, sizeof(at));
	snprintf(job->crash_id, sizeof(job->crash_id), "%s", crash_id);
	if ((e = json_object_new_object()) != NULL) {
		json_add(e, "code", json_object_new_string(tp_code_name(
		    quarantined ? TP_FAILED_PRECONDITION : code)));
		json_add(e, "message", json_object_new_string(what));
		json_add(e, "at", json_object_new_string(at));
		json_add(e, "job_id", json_object_new_string(job->id));
		json_add(e, "crash", json_object_new_string(crash_id));
		json_add(e, "strikes", json_object_new_int64(strikes));
		if (quarantined)
			json_add(e, "quarantined",
			    json_object_new_boolean(1));
		snprintf(path, sizeof(path), "users/%s/status/last_sync_error",
		    job->uid);
		crash_writes_add(cw, STORE_W_SET, path, e);
		json_object_put(e);
	}
	if (quarantined) {
		policy_quarantine(j->policy, job->uid, crash_id, at);
		snprintf(reason, sizeof(reason), "%u strikes; the last: %s",
		    strikes, what);
		events_quarantine(j->d->events, job->uid, crash_id, strikes,
		    reason);
		if ((q = json_object_new_object()) != NULL) {
			json_add(q, "since", json_object_new_string(at));
			json_add(q, "reason", json_object_new_string(reason));
			json_add(q, "crash_id",
			    json_object_new_string(crash_id));
			json_add(q, "strikes", json_object_new_int64(strikes));
			snprintf(path, sizeof(path),
			    "users/%s/status/quarantine", job->uid);
			crash_writes_add(cw, STORE_W_SET, path, q);
			json_object_put(q);
		}
		log_warnx("tenant %s quarantined after %u strikes (crash report "
		    "%s); release it with `tradepulse tenant release %s`",
		    job->uid, strikes, crash_id, job->uid);
		jobs_tlog(j, job->uid, TLOG_ERROR, job->id, event, "%s; strike "
		    "%u of %u: tenant quarantined; release it with "
		    "`tradepulse tenant release %s`", what, strikes, max,
		    job->uid);
		/* an event of its own, so `tradepulse logs` shows it as such */
		jobs_tlog(j, job->uid, TLOG_ERROR, job->id, "quarantine",
		    "tenant quarantined after %u strikes (crash report %s); "
		    "pulses skip it until `tradepulse tenant release %s`",
		    strikes, crash_id, job->uid);
	} else
		jobs_tlog(j, job->uid, TLOG_ERROR, job->id, event, "%s; strike "
		    "%u of %u: re-run alone", what, strikes, max);
	return quarantined;
}

bool
crash_strike(struct jobs *j, struct job *job, const char *crash_id,
    const char *what, enum tp_code code, unsigned *strikes)
{
	struct crash_writes *cw;
	char label[64];
	bool q;

	snprintf(label, sizeof(label), "the fault of job %s", job->id);
	cw = crash_writes_new(j, label);
	q = crash_tenant_fault(cw, j, job, crash_id, what, code,
	    code == TP_PERMISSION_DENIED ? "security" : "crash", strikes);
	crash_writes_submit(cw);
	return q;
}

/* Takes every job out of the dead batch, sent ones first in *inflight. */
static size_t
crash_collect(struct batch *b, struct job **inflight, struct job **unsent,
    size_t *nunsent)
{
	struct job *job;
	size_t i, n = 0;

	*nunsent = 0;
	for (i = 0; i < b->n; i++) {
		if ((job = b->job[i]) == NULL)
			continue;
		b->job[i] = NULL;
		job->batch = NULL;
		if (job->deadline != NULL) {
			event_free(job->deadline);
			job->deadline = NULL;
		}
		if (job->sent)
			inflight[n++] = job;
		else
			unsent[(*nunsent)++] = job;
	}
	b->unanswered = 0;
	return n;
}

static bool
crash_uid_seen(struct job **v, size_t i)
{
	size_t k;

	for (k = 0; k < i; k++)
		if (strcmp(v[k]->uid, v[i]->uid) == 0)
			return true;
	return false;
}

/* What a death says of one tenant in flight. */
enum crash_verdict {
	CRASH_STRIKE,		/* alone, or its own deadline */
	CRASH_RERUN_ALONE,	/* a batch-mate's crash, maybe: find out alone */
	CRASH_OUTSIDE,		/* a SIGKILL the daemon did not send */
};

/* The distinct tenants of the jobs in flight (a price fetch has none). */
static size_t
crash_tenants(struct job **inflight, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (inflight[i]->kind != JOB_PRICES &&
		    !crash_uid_seen(inflight, i))
			k++;
	return k;
}

/*
 * A strike only for what implicates the tenant: the daemon's every kill
 * names its reason (worker_kill), so a SIGKILL without one came from
 * outside: it says nothing of the tenant. A CPU limit ends the worker
 * with SIGXCPU at the soft limit, before the hard limit's SIGKILL.
 */
static enum crash_verdict
crash_implicates(const struct batch *b, const struct worker_exit *ex,
    const struct job *job, size_t ntenants)
{
	if (ex->signo == SIGKILL && ex->reason == NULL)
		return CRASH_OUTSIDE;
	if (b->deadline_uid[0] != '\0')
		return strcmp(b->deadline_uid, job->uid) == 0 ? CRASH_STRIKE :
		    CRASH_RERUN_ALONE;
	return ntenants == 1 ? CRASH_STRIKE : CRASH_RERUN_ALONE;
}

/* A SIGKILL from outside: a re-run as it was, but a tenant killed alone
 * max_strikes times in a row fails unavailable, neither struck nor
 * quarantined, so a watchdog that always kills it cannot loop forever. */
static void
crash_outside(struct jobs *j, struct job *job, size_t ntenants,
    const char *id, const char *how)
{
	unsigned max = j->d->cfg.max_strikes, kills;
	struct tp_err err;

	if (ntenants != 1) {
		jobs_tlog(j, job->uid, TLOG_WARN, job->id, "crash", "worker %s "
		    "(a SIGKILL not sent by %s) while running job %s; crash "
		    "report %s; no strike: re-run", how, DAEMON_NAME, job->id,
		    id);
		jobs_requeue(j, job, false);
		return;
	}
	kills = policy_outside_kill(j->policy, job->uid);
	if (kills >= max) {
		policy_outside_kills_clear(j->policy, job->uid);
		jobs_tlog(j, job->uid, TLOG_ERROR, job->id, "crash", "worker %s "
		    "(a SIGKILL not sent by %s) while running job %s alone, "
		    "%u times in a row; crash report %s; no strike: job "
		    "failed, the next sync tries again", how, DAEMON_NAME,
		    job->id, kills, id);
		tp_err_set(&err, TP_UNAVAILABLE, "the worker of job %s was "
		    "SIGKILLed from outside %s %u times in a row (last crash "
		    "report %s); not a strike: try again", job->id, DAEMON_NAME,
		    kills, id);
		jobs_finish(j, job, &err);
		return;
	}
	jobs_tlog(j, job->uid, TLOG_WARN, job->id, "crash", "worker %s (a "
	    "SIGKILL not sent by %s) while running job %s alone; crash report "
	    "%s; no strike: re-run (%u of %u such kills in a row)", how,
	    DAEMON_NAME, job->id, id, kills, max);
	jobs_requeue(j, job, false);
}

/* The crash case proper: strikes, alone re-runs, quarantines. */
static void
crash_strikes(struct jobs *j, struct batch *b, const struct worker_exit *ex,
    struct crash_writes *cw, struct job **inflight, size_t n,
    const char *id, const char *how)
{
	struct tp_err err;
	struct job *job;
	char what[CRASH_WHAT_MAX + 96];
	unsigned strikes;
	size_t i, ntenants = crash_tenants(inflight, n);

	for (i = 0; i < n; i++) {
		job = inflight[i];
		snprintf(job->crash_id, sizeof(job->crash_id), "%s", id);
		if (job->kind == JOB_PRICES) {
			/* no tenant to strike; not re-run: the pulse's
			 * tenants fetch their own prices instead */
			tp_err_set(&err, TP_INTERNAL, "the price fetch's "
			    "worker %s; crash report %s", how, id);
			jobs_finish(j, job, &err);
			continue;
		}
		switch (crash_implicates(b, ex, job, ntenants)) {
		case CRASH_OUTSIDE:
			crash_outside(j, job, ntenants, id, how);
			continue;
		case CRASH_RERUN_ALONE:
			jobs_tlog(j, job->uid, TLOG_WARN, job->id, "crash",
			    "worker %s while running job %s with %zu other "
			    "tenants; crash report %s; no strike: re-run "
			    "alone", how, job->id, ntenants - 1, id);
			jobs_requeue(j, job, true);
			continue;
		case CRASH_STRIKE:
			break;
		}
		if (!crash_uid_seen(inflight, i)) {
			snprintf(what, sizeof(what), "worker %s while running "
			    "job %s; crash report %s", how, job->id, id);
			(void)crash_tenant_fault(cw, j, job, id, what,
			    TP_INTERNAL, "crash", &strikes);
		}
		if (policy_quarantined(j->policy, job->uid, &err)) {
			tp_err_set(&err, TP_FAILED_PRECONDITION, "tenant %s is "
			    "quarantined after %u strikes (last crash report "
			    "%s): worker %s; release it with `tradepulse "
			    "tenant release %s`", job->uid,
			    policy_strikes(j->policy, job->uid), id, how, job->uid);
			jobs_finish(j, job, &err);
		} else
			jobs_requeue(j, job, true);
	}
}

void
crash_exited(struct jobs *j, struct batch *b, const struct worker_exit *ex)
{
	struct job **inflight = NULL, **unsent = NULL;
	struct crash_writes *cw;
	struct tp_err err;
	json_object *arr, *uids, *e, *report;
	char id[AUTO_ID_LEN + 1], at[32], how[CRASH_WHAT_MAX], label[64];
	char path[CRASH_PATH_MAX];
	size_t i, n, nunsent;

	if ((inflight = calloc(b->n + 1, sizeof(*inflight))) == NULL ||
	    (unsent = calloc(b->n + 1, sizeof(*unsent))) == NULL) {
		/* cannot even list them: the jobs stay lost in the batch,
		 * failed below so none waits forever */
		free(inflight);
		tp_err_set(&err, TP_INTERNAL, "out of memory handling the end "
		    "of worker pid %ld", (long)ex->pid);
		for (i = 0; i < b->n; i++)
			if (b->job[i] != NULL) {
				b->job[i]->batch = NULL;
				jobs_finish(j, b->job[i], &err);
				b->job[i] = NULL;
			}
		return;
	}
	n = crash_collect(b, inflight, unsent, &nunsent);

	if (ex->clean) {
		if (n > 0)
			log_warnx("worker pid %ld exited cleanly with %zu jobs "
			    "unanswered; they are re-queued", (long)ex->pid, n);
		for (i = 0; i < n; i++)
			jobs_requeue(j, inflight[i], false);
		for (i = 0; i < nunsent; i++)
			jobs_requeue(j, unsent[i], false);
		goto out;
	}
	if (b->drain_killed) {
		for (i = 0; i < n; i++) {
			jobs_tlog(j, inflight[i]->uid, TLOG_WARN,
			    inflight[i]->id, "sync", "job %s interrupted: %s "
			    "%s", inflight[i]->id, DAEMON_NAME, j->stopping ?
			    "stopping" : "paused");
			jobs_interrupt(j, inflight[i]);
		}
		for (i = 0; i < nunsent; i++)
			jobs_interrupt(j, unsent[i]);
		goto out;
	}

	j->crashes++;
	metrics_crash(j->d->metrics, ex->signo != 0 ? ex->signame : NULL);
	if (b->crash_id[0] != '\0')
		snprintf(id, sizeof(id), "%s", b->crash_id);
	else
		path_auto_id(id);
	store_timestamp(at, sizeof(at));
	crash_describe(ex, how, sizeof(how));
	arr = json_object_new_array();
	uids = json_object_new_array();
	for (i = 0; i < n; i++) {
		if ((e = json_object_new_object()) != NULL) {
			json_add(e, "job_id",
			    json_object_new_string(inflight[i]->id));
			json_add(e, "uid",
			    json_object_new_string(inflight[i]->uid));
			if (arr == NULL || json_object_array_add(arr, e) != 0)
				json_object_put(e);
		}
		if (uids != NULL && i < CRASH_SUMMARY_UIDS &&
		    !crash_uid_seen(inflight, i))
			json_object_array_add(uids,
			    json_object_new_string(inflight[i]->uid));
	}
	if (b->culprit_uid[0] != '\0' && uids != NULL)
		json_object_array_add(uids,
		    json_object_new_string(b->culprit_uid));
	crash_summary_add(j, id, at, ex, uids);

	snprintf(label, sizeof(label), "crash report %s", id);
	cw = crash_writes_new(j, label);
	if ((report = crash_report(b, ex, at, arr)) != NULL) {
		snprintf(path, sizeof(path), "ops/crashes/reports/%s", id);
		crash_writes_add(cw, STORE_W_SET, path, report);
		json_object_put(report);
	} else
		json_object_put(arr);

	if (ex->startup) {
		log_warnx("worker pid %ld failed at start-up: it %s before "
		    "its HELLO; crash report %s", (long)ex->pid, how, id);
		for (i = 0; i < n; i++)
			jobs_requeue(j, inflight[i], false);
	} else if (b->culprit_known) {
		log_warnx("worker pid %ld (batch %llu) %s; crash report %s; "
		    "%zu jobs in flight re-queued", (long)ex->pid,
		    (unsigned long long)b->id, how, id, n);
		for (i = 0; i < n; i++) {
			snprintf(inflight[i]->crash_id,
			    sizeof(inflight[i]->crash_id), "%s", id);
			jobs_tlog(j, inflight[i]->uid, TLOG_WARN,
			    inflight[i]->id, "crash", "the worker running job "
			    "%s was stopped because of another job of its "
			    "batch (crash report %s); job re-queued",
			    inflight[i]->id, id);
			jobs_requeue(j, inflight[i], false);
		}
	} else {
		log_warnx("worker pid %ld (batch %llu) %s with %zu jobs in "
		    "flight; crash report %s", (long)ex->pid,
		    (unsigned long long)b->id, how, n, id);
		crash_strikes(j, b, ex, cw, inflight, n, id, how);
	}
	for (i = 0; i < nunsent; i++)
		jobs_requeue(j, unsent[i], false);
	crash_writes_submit(cw);
out:
	free(inflight);
	free(unsent);
}
