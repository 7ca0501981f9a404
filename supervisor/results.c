/* results.c: what workers say about their jobs: JOB_BEGIN, LOG, and RESULT, validated and committed once. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/store.h"
#include "common/tenantlog.h"
#include "common/wire.h"
#include "common/wire_result.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/metrics.h"
#include "supervisor/compose.h"
#include "supervisor/signals.h"
#include "supervisor/engine_int.h"
#include "supervisor/policy.h"
#include "supervisor/pool.h"

/*
 * Everything a worker sends is untrusted: a worker may be compromised by
 * the data of the tenant it serves. Each field read is checked for its
 * type and bounds. A RESULT is all or nothing: one bad write rejects the
 * whole result, and a write outside users/{job uid}/ (or into the
 * documents only the supervisor writes) is a security event that kills
 * the worker and gives the tenant a strike.
 */

#define RESULTS_GROUP_MAX	256		/* results in one transaction */
#define RESULTS_EVENT_MAX	WIRE_LOG_EVENT_MAX
#define RESULTS_LOG_MSG_MAX	WIRE_LOG_MSG_MAX
#define RESULTS_SHOWN		128		/* bytes of worker text in our log */
#define RESULTS_DAEMON_LOGS	100		/* job-less LOG lines per batch */

struct results_commit {
	TAILQ_ENTRY(results_commit) entry;	/* jobs->commits */
	struct jobs		*j;
	struct job		*job;
	struct store_batch	*sb;
	bool			 ok;
	enum tp_code		 wcode;		/* the worker's error, when !ok */
	char			 wmsg[WIRE_ERR_MSG_MAX + 1];
	json_object		*log;		/* the RESULT's "log" lines */
	struct tp_err		 err;
	int			 rc;
};

static void	results_result_log(struct jobs *, struct job *, json_object *,
		    struct tenantlog_batch *);

/*
 * A string field: 1 present and valid (*out), 0 absent or null, -1 of
 * the wrong type, too long, holding NUL or broken UTF-8.
 */
static int
results_str(json_object *o, const char *key, size_t max, const char **out)
{
	json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > max || strlen(s) != len || !json_utf8_valid(s, len))
		return -1;
	*out = s;
	return 1;
}

/* The job named by a payload, if it is one this worker is running. */
static struct job *
results_job(struct batch *b, json_object *p, const char *what, bool *bad_id)
{
	bool quiet = strcmp(what, "RESULT") != 0;
	struct job *job;
	const char *id = NULL;
	char shown[RESULTS_SHOWN + 1];

	*bad_id = false;
	if (results_str(p, "job_id", WIRE_JOB_ID_MAX, &id) != 1 ||
	    !wire_valid_job_id(id)) {
		*bad_id = true;
		return NULL;
	}
	job = jobs_find(b->jobs, id);
	if (job == NULL || job->batch != b || job->state != JOB_RUNNING ||
	    !job->sent) {
		/* a late LOG or JOB_BEGIN is harmless: only said with -v */
		(quiet ? log_debug : log_warnx)("worker pid %ld: %s for job "
		    "%s ignored: %s", (long)b->pid, what, tp_err_shown(id, shown,
		    sizeof(shown)), job == NULL ? "no such job" :
		    job->state == JOB_COMMITTING || job->state == JOB_DONE ||
		    job->state == JOB_FAILED ? "already answered" :
		    "not a job this worker runs");
		return NULL;
	}
	return job;
}

/*
 * The worker broke the rules with this job: kill it (its other jobs are
 * re-queued without a strike, since the culprit is known), strike the
 * tenant, fail the job, and re-run it alone unless that quarantined the
 * tenant. Nothing of the result reaches the store.
 */
static void
results_reject(struct batch *b, struct job *job, bool security,
    const char *detail)
{
	struct jobs *j = b->jobs;
	struct tp_err err;
	char reason[160], what[256];
	unsigned strikes, max = j->d->cfg.max_strikes;
	bool quarantined;

	if (b->crash_id[0] == '\0')
		path_auto_id(b->crash_id);
	if (security) {
		j->security_events++;
		log_warnx("security: worker pid %ld (generation %llu) named "
		    "what is not its job's in the result of job %s (tenant "
		    "%s): %s; result rejected, worker killed, crash report %s",
		    (long)b->pid, (unsigned long long)b->generation, job->id,
		    job->uid, detail, b->crash_id);
		snprintf(reason, sizeof(reason), "security: job %s reported "
		    "outside its job", job->id);
		snprintf(what, sizeof(what), "the result of job %s was "
		    "rejected: it reported on what was not its job's "
		    "(security event; worker killed, crash report %s)",
		    job->id, b->crash_id);
	} else {
		log_warnx("worker pid %ld (generation %llu) sent a malformed "
		    "result for job %s (tenant %s): %s; result rejected, "
		    "worker killed, crash report %s", (long)b->pid,
		    (unsigned long long)b->generation, job->id, job->uid,
		    detail, b->crash_id);
		snprintf(reason, sizeof(reason), "protocol: job %s sent a "
		    "malformed result", job->id);
		snprintf(what, sizeof(what), "the result of job %s was "
		    "rejected: it was malformed (worker killed, crash report "
		    "%s)", job->id, b->crash_id);
	}
	snprintf(b->culprit_job, sizeof(b->culprit_job), "%s", job->id);
	snprintf(b->culprit_uid, sizeof(b->culprit_uid), "%s", job->uid);
	dispatch_kill(b, reason, true);
	dispatch_job_left(b, job);
	if (job->kind == JOB_PRICES) {
		/* no tenant to strike: the pulse goes on without the prices */
		tp_err_set(&err, TP_INTERNAL, "%s", what);
		jobs_finish(j, job, &err);
		return;
	}
	quarantined = crash_strike(j, job, b->crash_id, what,
	    security ? TP_PERMISSION_DENIED : TP_INTERNAL, &strikes);
	tp_err_set(&err, security ? TP_PERMISSION_DENIED : TP_INTERNAL,
	    "result rejected: %s (crash report %s); strike %u of %u%s",
	    security ? "a report outside the job's own" :
	    "malformed", b->crash_id, strikes, max, quarantined ?
	    "; tenant quarantined" : "; re-run alone");
	if (!quarantined)
		jobs_retry(j, job);
	jobs_finish(j, job, &err);
}

static void
results_commit_free(struct results_commit *c)
{
	store_batch_free(c->sb);
	json_object_put(c->log);
	free(c);
}

/*
 * Results commit in groups: while one group is on a store thread the
 * next ones queue, and a whole group shares one SQLite transaction (each
 * job's writes in their own savepoint, so each is still all or nothing
 * and one job's failure touches no other). A pulse's thousands of small
 * commits cost a few large ones.
 */
struct results_group {
	struct jobs_work	 hdr;		/* first: the work's argument */
	struct jobs		*j;
	size_t			 n;
	struct results_commit	*c[RESULTS_GROUP_MAX];
	struct store_batch	*sb[RESULTS_GROUP_MAX];
	int			 rcs[RESULTS_GROUP_MAX];
	struct tp_err		 errs[RESULTS_GROUP_MAX];
};

static void
results_group_free(struct jobs_work *w)
{
	struct results_group *g = (struct results_group *)w;
	size_t i;

	for (i = 0; i < g->n; i++)
		results_commit_free(g->c[i]);
	free(g);
}

static void
results_group_work(struct store *st, void *arg)
{
	struct results_group *g = arg;
	size_t i;

	(void)store_batch_commit_many(st, g->sb, g->n, g->rcs, g->errs);
	for (i = 0; i < g->n; i++) {
		g->c[i]->rc = g->rcs[i];
		g->c[i]->err = g->errs[i];
	}
}

/* The daemon's own line about a job, added to its tenant's batch. */
static void __attribute__((format(printf, 5, 6)))
results_tlog(struct jobs *j, struct tenantlog_batch *tb, enum tlog_level lvl,
    const struct job *job, const char *fmt, ...)
{
	char msg[TLOG_LINE_MAX];
	struct tp_err err;
	va_list ap;

	if (job->uid[0] == '\0')	/* a job of no tenant */
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tenantlog_batch_add(j->d->tlog, tb, lvl, job->id,
	    jobs_kind_name(job->kind), msg, &err) == -1)
		log_warnx("tenant log of %s: %s", job->uid, err.msg);
}

/* One job's commit has ended. */
static void
results_commit_ended(struct results_commit *c)
{
	static struct tenantlog_batch tb;	/* the event loop's only */
	struct jobs *j = c->j;
	struct job *job = c->job;
	struct tp_err err;

	/* the worker's lines, then ours: one write of the tenant's log */
	tenantlog_batch_begin(&tb, job->uid);
	results_result_log(j, job, c->log, &tb);
	if (c->rc == -1) {
		log_warnx("job %s of %s: commit failed: %s", job->id, job->uid,
		    c->err.msg);
		results_tlog(j, &tb, TLOG_ERROR, job, "job %s failed: its "
		    "writes could not be committed: %s", job->id, c->err.msg);
	} else if (c->ok)
		results_tlog(j, &tb, TLOG_INFO, job, "committed job %s",
		    job->id);
	else
		results_tlog(j, &tb, TLOG_WARN, job, "job %s failed: %s: %s",
		    job->id, tp_code_name(c->wcode), c->wmsg);
	if (tenantlog_batch_flush(j->d->tlog, &tb, &err) == -1)
		log_warnx("tenant log of %s: %s", job->uid, err.msg);
	if (c->rc == -1) {
		tp_err_set(&err, c->err.code, "commit failed: %s", c->err.msg);
		events_job_ended(j->d->events, job, &err);
		jobs_finish(j, job, &err);
	} else if (c->ok) {
		policy_strikes_clear(j->policy, job->uid);
		events_job_ended(j->d->events, job, NULL);
		jobs_finish(j, job, NULL);
	} else {
		/* an answer, even a failure, shows the tenant did not crash
		 * the worker: its strikes are cleared too */
		policy_strikes_clear(j->policy, job->uid);
		tp_err_set(&err, c->wcode, "%s", c->wmsg);
		events_job_ended(j->d->events, job, &err);
		jobs_finish(j, job, &err);
	}
}

static void	results_flush(struct jobs *j);

static void
results_group_done(void *arg)
{
	struct results_group *g = arg;
	struct jobs *j = g->j;
	size_t i;

	j->commit_running = false;
	for (i = 0; i < g->n; i++)
		results_commit_ended(g->c[i]);
	/* the last: jobs_work_done may find the daemon idle */
	results_flush(j);
	if (j->ncommits < JOBS_COMMITS_MAX && j->nqueued > 0)
		dispatch_kick(j);
	jobs_work_done(j, &g->hdr);
	results_group_free(&g->hdr);
}

/* Sends the queued commits to a store thread, if none is there now. */
static void
results_flush(struct jobs *j)
{
	struct results_group *g;
	struct results_commit *c;
	struct tp_err err;
	size_t i;

	if (j->commit_running || TAILQ_EMPTY(&j->commits))
		return;
	tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory");
	if ((g = calloc(1, sizeof(*g))) != NULL) {
		g->hdr.free = results_group_free;
		g->j = j;
		while (g->n < RESULTS_GROUP_MAX &&
		    (c = TAILQ_FIRST(&j->commits)) != NULL) {
			TAILQ_REMOVE(&j->commits, c, entry);
			j->ncommits--;
			g->sb[g->n] = c->sb;
			g->c[g->n++] = c;
		}
		tp_err_clear(&err);
		if (jobs_work_submit(j, &g->hdr, results_group_work,
		    results_group_done, &err) == 0) {
			j->commit_running = true;
			return;
		}
	}
	/* not the tenants' fault: their jobs fail, nothing is written */
	log_warnx("cannot commit %zu results: %s", g != NULL ? g->n :
	    j->ncommits, err.msg);
	for (i = 0; g != NULL && i < g->n; i++) {
		g->c[i]->rc = -1;
		g->c[i]->err = err;
		results_commit_ended(g->c[i]);
	}
	if (g != NULL)
		results_group_free(&g->hdr);
	else
		while ((c = TAILQ_FIRST(&j->commits)) != NULL) {
			TAILQ_REMOVE(&j->commits, c, entry);
			j->ncommits--;
			c->rc = -1;
			c->err = err;
			results_commit_ended(c);
			results_commit_free(c);
		}
}

void
results_free_pending(struct jobs *j)
{
	struct results_commit *c;

	while ((c = TAILQ_FIRST(&j->commits)) != NULL) {
		TAILQ_REMOVE(&j->commits, c, entry);
		j->ncommits--;
		results_commit_free(c);
	}
}

/* Where the job a RESULT names stands, for the checker. */
static struct job *
results_job_state(struct batch *b, const char *id, enum wire_job_state *st)
{
	struct job *job;

	*st = WIRE_JOB_UNKNOWN;
	if (id == NULL || (job = jobs_find(b->jobs, id)) == NULL)
		return NULL;
	if (job->batch == b && job->state == JOB_RUNNING && job->sent)
		*st = WIRE_JOB_IN_FLIGHT;
	else if (job->state == JOB_COMMITTING || ((job->state == JOB_DONE ||
	    job->state == JOB_FAILED) && job->batch == NULL))
		*st = WIRE_JOB_ANSWERED;
	else
		*st = WIRE_JOB_ELSEWHERE;
	return job;
}

void
results_result(struct batch *b, json_object *p)
{
	struct jobs *j = b->jobs;
	struct wire_result_job wj;
	struct wire_result r;
	struct compose_outcome out;
	struct results_commit *c;
	enum wire_verdict v;
	struct job *job;
	struct tp_err err;
	json_object *trades = NULL;
	size_t closed = 0;
	const char *id;
	char why[256], shown[RESULTS_SHOWN + 1], reason[160];

	memset(&wj, 0, sizeof(wj));
	id = wire_result_job_id(p);
	job = results_job_state(b, id, &wj.state);
	wj.id = id != NULL ? id : "";
	if (job != NULL) {
		wj.kind = job->kind == JOB_PRICES ? WIRE_JOB_PRICES :
		    job->kind == JOB_SIGNAL ? WIRE_JOB_SIGNAL : WIRE_JOB_SYNC;
		wj.symbol = job->symbol;
		if (job->kind == JOB_SYNC && job->trades != NULL &&
		    wj.state == WIRE_JOB_IN_FLIGHT)
			trades = json_parse(job->trades, strlen(job->trades),
			    &err);
		wj.trades = trades;
		wj.symbols = job->symbols;
	}
	v = wire_result_check(&wj, p, &r, why, sizeof(why));
	if (v != WIRE_ACCEPT) {
		json_object_put(trades);
		trades = NULL;
	}
	if (v != WIRE_ACCEPT && wj.state != WIRE_JOB_IN_FLIGHT) {
		/* no job of its own to blame: the worker goes, and the jobs
		 * it held are re-run as after any crash */
		log_warnx("worker pid %ld: %s; killing it", (long)b->pid,
		    tp_err_shown(why, shown, sizeof(shown)));
		snprintf(reason, sizeof(reason), "protocol: %.120s", why);
		dispatch_kill(b, reason, false);
		wire_result_clear(&r);
		return;
	}
	if (v != WIRE_ACCEPT) {
		wire_result_clear(&r);
		results_reject(b, job, v == WIRE_REJECT_FOREIGN, why);
		return;
	}
	metrics_alpaca(j->d->metrics, &r.http);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->sb = store_batch_new()) == NULL) {
		free(c);
		wire_result_clear(&r);
		json_object_put(trades);
		log_warnx("job %s: out of memory taking its result", job->id);
		dispatch_kill(b, "out of memory taking a result", true);
		dispatch_job_left(b, job);
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory taking "
		    "the result");
		jobs_finish(j, job, &err);
		return;
	}
	c->j = j;
	c->job = job;
	c->ok = r.ok;
	if (!r.ok) {
		c->wcode = r.code;
		compose_safe_msg(r.message, c->wmsg, sizeof(c->wmsg));
	}
	json_object_put(job->result);
	job->result = NULL;
	out.ok = c->ok;
	out.wcode = c->wcode;
	out.wmsg = c->wmsg;
	out.sb = c->sb;
	/* the trades as sent: a mark that reaches an exit level closes
	 * its trade (lifecycle.h) */
	out.trades = trades;
	out.closed = &closed;
	if ((r.ok && job->kind != JOB_SIGNAL &&
	    (job->result = compose_summary(job, &r)) == NULL) ||
	    (job->kind == JOB_SYNC && compose_sync(job, &r, &out) == -1) ||
	    (job->result != NULL && job->kind == JOB_SYNC && json_add(
	    job->result, "trades_closed", json_object_new_int64(
	    (int64_t)closed)) == -1) ||
	    (job->kind == JOB_SIGNAL && signals_compose(job, &r, &out,
	    &j->d->cfg, &job->result) == -1)) {
		/* ours, not the worker's: the job fails, nothing written */
		c->ok = false;
		c->wcode = TP_RESOURCE_EXHAUSTED;
		snprintf(c->wmsg, sizeof(c->wmsg), "out of memory composing "
		    "the result");
		store_batch_free(c->sb);
		c->sb = store_batch_new();
		json_object_put(job->result);
		job->result = NULL;
	}
	c->log = json_object_get(r.log);
	wire_result_clear(&r);
	json_object_put(trades);
	if (job->kind == JOB_PRICES) {
		results_result_log(j, job, c->log, NULL);
		/* nothing to commit: the pulse takes the prices */
		dispatch_job_left(b, job);
		if (c->ok)
			jobs_finish(j, job, NULL);
		else {
			tp_err_set(&err, c->wcode, "%s", c->wmsg);
			jobs_finish(j, job, &err);
		}
		results_commit_free(c);
		return;
	}
	if (c->sb == NULL) {
		/* ours: store_batch_new failed after a failed compose */
		log_warnx("job %s: out of memory taking its result", job->id);
		dispatch_kill(b, "out of memory taking a result", true);
		dispatch_job_left(b, job);
		tp_err_set(&err, TP_RESOURCE_EXHAUSTED, "out of memory taking "
		    "the result");
		jobs_finish(j, job, &err);
		results_commit_free(c);
		return;
	}
	jobs_set_committing(j, job);
	dispatch_job_left(b, job);
	TAILQ_INSERT_TAIL(&j->commits, c, entry);
	j->ncommits++;
	results_flush(j);
}

void
results_job_begin(struct batch *b, json_object *p)
{
	struct job *job;
	bool bad_id;

	if ((job = results_job(b, p, "JOB_BEGIN", &bad_id)) != NULL)
		job->begun = true;
	else if (bad_id)
		log_warnx("worker pid %ld sent a JOB_BEGIN without a valid "
		    "job id; ignored", (long)b->pid);
}

static bool
results_event_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return false;
	return i > 0;
}

static void
results_bad_log(struct batch *b, const char *why)
{
	if (b->log_warned)
		return;
	b->log_warned = true;
	log_warnx("worker pid %ld sent a bad LOG message (%s); this and "
	    "later bad ones are ignored", (long)b->pid, why);
}

/*
 * Checks one log line {level, event, message} of a worker (a LOG message
 * has a job_id too, which the caller checks). 0, or -1 with *why.
 */
static int
results_line(json_object *p, const char *const *keys, enum tlog_level *lvl,
    const char **event, const char **msg, const char **why)
{
	static const char *const levels[] = { "debug", "info", "warn",
	    "error" };
	const char *level = NULL, *bad;
	size_t i;

	if (!json_object_is_type(p, json_type_object) ||
	    (bad = json_unknown_key(p, keys)) != NULL) {
		*why = "unknown field";
		return -1;
	}
	if (results_str(p, "level", 8, &level) != 1 ||
	    results_str(p, "event", RESULTS_EVENT_MAX, event) != 1 ||
	    !results_event_valid(*event) ||
	    results_str(p, "message", RESULTS_LOG_MSG_MAX, msg) != 1) {
		*why = "bad level, event or message";
		return -1;
	}
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(level, levels[i]) == 0)
			break;
	if (i == sizeof(levels) / sizeof(levels[0])) {
		*why = "unknown level";
		return -1;
	}
	*lvl = (enum tlog_level)i;
	return 0;
}

/* A line of a job of no tenant (a prices job) goes to the daemon log. */
static void
results_daemon_line(const struct job *job, enum tlog_level lvl,
    const char *event, const char *msg)
{
	char shown[RESULTS_SHOWN + 1];

	if (tenantlog_looks_secret(msg))
		return;
	if (lvl >= TLOG_WARN)
		log_warnx("job %s: %s: %s", job->id, event,
		    tp_err_shown(msg, shown, sizeof(shown)));
	else
		log_debug("job %s: %s: %s", job->id, event,
		    tp_err_shown(msg, shown, sizeof(shown)));
}

/* The RESULT's "log" lines, written to the tenant's log as the job ends
 * (bad lines are skipped, said once in the daemon log). */
static void
results_result_log(struct jobs *j, struct job *job, json_object *log,
    struct tenantlog_batch *tb)
{
	static const char *const keys[] = { "level", "event", "message",
	    NULL };
	struct tp_err err;
	enum tlog_level lvl;
	const char *event, *msg, *why;
	size_t i, n;
	bool warned = false;

	n = log != NULL && json_object_is_type(log, json_type_array) ?
	    json_object_array_length(log) : 0;
	for (i = 0; i < n && i < JOBS_LOG_LINES; i++) {
		if (results_line(json_object_array_get_idx(log, i), keys, &lvl,
		    &event, &msg, &why) == -1) {
			if (!warned)
				log_warnx("job %s: a bad log line in its "
				    "result (%s); skipped", job->id, why);
			warned = true;
			continue;
		}
		if (job->uid[0] == '\0')
			results_daemon_line(job, lvl, event, msg);
		else if ((tb != NULL ? tenantlog_batch_add(j->d->tlog, tb,
		    lvl, job->id, event, msg, &err) :
		    tenantlog_write(j->d->tlog, job->uid, lvl, job->id, event,
		    msg, &err)) == -1)
			log_debug("job %s: a log line was refused: %s",
			    job->id, err.msg);
	}
}

void
results_log(struct batch *b, json_object *p)
{
	static const char *const keys[] = { "job_id", "level", "event",
	    "message", NULL };
	struct jobs *j = b->jobs;
	struct job *job = NULL;
	struct tp_err err;
	json_object *v;
	const char *event = NULL, *msg = NULL, *why;
	char shown[RESULTS_SHOWN + 1];
	enum tlog_level lvl;
	bool bad_id;

	if (results_line(p, keys, &lvl, &event, &msg, &why) == -1) {
		results_bad_log(b, why);
		return;
	}
	if (json_object_object_get_ex(p, "job_id", &v) && v != NULL) {
		/* a line for a tenant only through a job of this worker */
		if ((job = results_job(b, p, "LOG", &bad_id)) == NULL) {
			if (bad_id)
				results_bad_log(b, "bad job id");
			return;
		}
		if (++job->log_lines > JOBS_LOG_LINES) {
			if (job->log_lines == JOBS_LOG_LINES + 1)
				jobs_tlog(j, job->uid, TLOG_WARN, job->id,
				    "log", "job %s wrote more than %d lines; "
				    "the rest are dropped", job->id,
				    JOBS_LOG_LINES);
			return;
		}
		if (job->uid[0] == '\0') {	/* a prices job: no tenant */
			results_daemon_line(job, lvl, event, msg);
			return;
		}
		if (tenantlog_write(j->d->tlog, job->uid, lvl, job->id, event,
		    msg, &err) == -1)
			log_debug("worker pid %ld: a log line of job %s was "
			    "refused: %s", (long)b->pid, job->id, err.msg);
		return;
	}
	if (++b->daemon_logs > RESULTS_DAEMON_LOGS ||
	    tenantlog_looks_secret(msg))
		return;
	if (lvl >= TLOG_WARN)
		log_warnx("worker pid %ld: %s: %s", (long)b->pid, event,
		    tp_err_shown(msg, shown, sizeof(shown)));
	else
		log_debug("worker pid %ld: %s: %s", (long)b->pid, event,
		    tp_err_shown(msg, shown, sizeof(shown)));
}
