/* userapi.c: the users' HTTP API: routes, the ID token, per-user rate limits, bounded bodies and JSON replies; the two writes through the job API. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/clock.h"
#include "common/htab.h"
#include "common/idtoken.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/pnl.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/userapi.h"
#include "supervisor/userapi_int.h"

#define USERAPI_PREFIX		"/api/v1/"
#define USERAPI_REASON_MAX	200

struct userapi_bucket {
	double		 tokens;
	uint64_t	 at_ms;
};

/* The routes after /api/v1/me (or /api/v1/users/{uid}). */
enum userapi_route {
	R_ME, R_TRADES, R_SIGNALS, R_TRADING, R_EVENTS, R_NONE,
};

static const struct {
	const char		*sub;
	enum userapi_route	 route;
	enum evhttp_cmd_type	 cmd;
	const char		*allow;
} userapi_routes[] = {
	{ "",		R_ME,		EVHTTP_REQ_GET,	"GET" },
	{ "/trades",	R_TRADES,	EVHTTP_REQ_GET,	"GET" },
	{ "/signals",	R_SIGNALS,	EVHTTP_REQ_GET,	"GET, POST" },
	{ "/trading",	R_TRADING,	EVHTTP_REQ_POST, "POST" },
	{ "/events",	R_EVENTS,	EVHTTP_REQ_GET,	"GET" },
};

static void
userapi_fail(struct evhttp_request *req, enum tp_code code, const char *msg)
{
	struct tp_err err;

	tp_err_set(&err, code, "%s", msg);
	userapi_reply_error(req, &err);
}

static struct userapi_call *
userapi_call_new(struct userapi *u, struct evhttp_request *req,
    const char *uid)
{
	struct userapi_call *c;

	if (u->ncalls >= USERAPI_PENDING_MAX ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->u = u;
	c->req = req;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	TAILQ_INSERT_TAIL(&u->calls, c, entry);
	u->ncalls++;
	return c;
}

/* --- who asks ------------------------------------------------------------ */

/*
 * The token of Authorization: Bearer, or (the event stream only, since
 * EventSource cannot set a header) of ?access_token=. The reason of a
 * refusal goes to the daemon's log, never the token.
 */
static int
userapi_auth(struct userapi *u, struct evhttp_request *req,
    const struct evkeyvalq *q, bool events, char *uid, size_t size)
{
	const struct config *cfg = &u->d->cfg;
	const char *h, *tok = NULL;
	struct tp_err why;

	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		tok = h + 7;
	else if (h == NULL && events && q != NULL)
		tok = evhttp_find_header(q, "access_token");
	if (tok == NULL || *tok == '\0') {
		userapi_fail(req, TP_UNAUTHENTICATED, "an ID token is required "
		    "(Authorization: Bearer)");
		return -1;
	}
	tp_err_clear(&why);
	if (strlen(tok) > IDTOKEN_MAX ||
	    idtoken_verify(u->d->certs, tok, cfg->firebase_project_id,
	    (int64_t)time(NULL), cfg->accept_emulator_tokens, uid, size,
	    &why) == -1) {
		log_warnx("http: ID token refused: %s", why.msg[0] != '\0' ?
		    why.msg : "too long");
		userapi_fail(req, TP_UNAUTHENTICATED, "invalid ID token");
		return -1;
	}
	return 0;
}

/* A token bucket per user: USERAPI_RATE_PER_S, bursts of
 * USERAPI_RATE_BURST. Bounded: past USERAPI_USERS_MAX users, every
 * bucket starts over full. */
static bool
userapi_rate_ok(struct userapi *u, const char *uid)
{
	struct userapi_bucket *b;
	uint64_t now = clock_mono_ms();
	void *old;

	if ((b = htab_get(u->rate, uid)) == NULL) {
		if (htab_count(u->rate) >= USERAPI_USERS_MAX) {
			htab_free(u->rate, free);
			if ((u->rate = htab_new()) == NULL)
				return false;
		}
		if ((b = calloc(1, sizeof(*b))) == NULL ||
		    htab_put(u->rate, uid, b, &old) == -1) {
			free(b);
			return false;
		}
		b->tokens = USERAPI_RATE_BURST;
		b->at_ms = now;
	}
	b->tokens += (double)(now - b->at_ms) * USERAPI_RATE_PER_S / 1000.0;
	if (b->tokens > USERAPI_RATE_BURST)
		b->tokens = USERAPI_RATE_BURST;
	b->at_ms = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

/* --- the query and the body ------------------------------------------------ */

/* Every name must be one of names (NULL-terminated), at most once. */
static int
userapi_query_check(const struct evkeyvalq *q, const char *const *names,
    struct tp_err *err)
{
	const struct evkeyval *kv, *kv2;
	char shown[40];
	size_t i;

	TAILQ_FOREACH(kv, q, next) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(kv->key, names[i]) == 0)
				break;
		if (names[i] == NULL)
			return tp_err_set(err, TP_INVALID_ARGUMENT, "unknown "
			    "query parameter \"%s\"", tp_err_shown(kv->key,
			    shown, sizeof(shown)));
		for (kv2 = TAILQ_NEXT(kv, next); kv2 != NULL;
		    kv2 = TAILQ_NEXT(kv2, next))
			if (strcmp(kv->key, kv2->key) == 0)
				return tp_err_set(err, TP_INVALID_ARGUMENT,
				    "query parameter \"%s\" given twice",
				    kv->key);
	}
	return 0;
}

static int
userapi_limit(const struct evkeyvalq *q, size_t *out, struct tp_err *err)
{
	const char *s = evhttp_find_header(q, "limit");
	size_t i, v = 0;

	*out = USERAPI_LIST_DEFAULT;
	if (s == NULL)
		return 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 4; i++)
		v = v * 10 + (size_t)(s[i] - '0');
	if (i == 0 || s[i] != '\0' || v < 1 || v > USERAPI_LIST_MAX)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "limit must be an "
		    "integer from 1 to %d", USERAPI_LIST_MAX);
	*out = v;
	return 0;
}

/* The body: one JSON object of at most USERAPI_BODY_MAX bytes. */
static json_object *
userapi_body(struct evhttp_request *req, struct tp_err *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char buf[USERAPI_BODY_MAX];
	json_object *o;

	if (len > sizeof(buf)) {
		tp_err_set(err, TP_INVALID_ARGUMENT, "the body is larger than "
		    "%d bytes", USERAPI_BODY_MAX);
		return NULL;
	}
	if (evbuffer_remove(in, buf, len) != (int)len) {
		tp_err_set(err, TP_INTERNAL, "the body could not be read");
		return NULL;
	}
	if ((o = json_parse(buf, len, err)) == NULL)
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		tp_err_set(err, TP_INVALID_ARGUMENT, "the body must be a JSON "
		    "object");
		return NULL;
	}
	return o;
}

/* Only the names listed. */
static int
userapi_body_check(json_object *o, const char *const *names,
    struct tp_err *err)
{
	char shown[40];
	size_t i;

	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] == NULL)
			return tp_err_set(err, TP_INVALID_ARGUMENT, "unknown "
			    "field \"%s\"", tp_err_shown(k, shown,
			    sizeof(shown)));
	}
	return 0;
}

/* --- the writes, through the job API ----------------------------------------- */

/* The job API's reply ({"ok", "result"|"error"}) as the HTTP reply. */
static void
userapi_local_done(void *arg, json_object *reply)
{
	struct userapi_call *c = arg;
	json_object *r = NULL, *e, *t;
	struct tp_err err;
	const char *code;
	bool ok = false;
	int i;

	if (reply != NULL && json_get_bool(reply, "ok", &ok) && ok &&
	    json_object_object_get_ex(reply, "result", &r) && r != NULL) {
		if (c->what == R_TRADING) {
			/* {"trading": {enabled, reason, by}} */
			t = json_object_new_object();
			if ((c->result = json_object_new_object()) != NULL &&
			    t != NULL) {
				json_add(t, "enabled", json_object_new_boolean(0));
				json_add(t, "reason", json_copy(
				    json_object_object_get(r, "reason")));
				json_add(t, "by", json_copy(
				    json_object_object_get(r, "by")));
				json_add(c->result, "trading", t);
				t = NULL;
			}
			json_object_put(t);
		} else if ((c->result = json_copy(r)) != NULL) {
			/* as GET /me/signals lists it */
			json_object_object_del(c->result, "shadow_trades");
			json_add(c->result, "price", userapi_money(r, "price"));
		}
		if (c->result != NULL)
			userapi_reply_json(c->req, HTTP_OK, c->result);
		else
			userapi_fail(c->req, TP_INTERNAL, "out of memory");
	} else {
		tp_err_set(&err, TP_INTERNAL, "%s", "the operation failed");
		e = reply != NULL ? json_object_object_get(reply, "error") :
		    NULL;
		code = json_get_str(e, "code");
		for (i = TP_OK; code != NULL && i <= TP_INTERNAL; i++)
			if (strcmp(code, tp_code_name((enum tp_code)i)) == 0)
				err.code = (enum tp_code)i;
		if (json_get_str(e, "message") != NULL)
			snprintf(err.msg, sizeof(err.msg), "%s",
			    json_get_str(e, "message"));
		userapi_reply_error(c->req, &err);
	}
	userapi_call_free(c);
}

static void
userapi_local(struct userapi *u, struct evhttp_request *req,
    const char *uid, int what, json_object *args)
{
	struct userapi_call *c;
	struct tp_err err;

	if ((c = userapi_call_new(u, req, uid)) == NULL) {
		json_object_put(args);
		userapi_fail(req, TP_RESOURCE_EXHAUSTED, "too many requests "
		    "in progress; retry later");
		return;
	}
	c->what = what;
	json_add(args, "uid", json_object_new_string(uid));
	if (u->d->api == NULL || api_local(u->d->api, uid, args,
	    userapi_local_done, c, &err) == -1) {
		if (u->d->api == NULL)
			tp_err_set(&err, TP_UNAVAILABLE, "not ready");
		userapi_reply_error(req, &err);
		userapi_call_free(c);
	}
}

/* POST /me/trading: {"enabled": false, "reason"?}. A user may stop their
 * own trading, never start it (docs/dashboard.md says why). */
static void
userapi_trading(struct userapi *u, struct evhttp_request *req,
    const char *uid, json_object *body)
{
	static const char *const names[] = { "enabled", "reason", NULL };
	const char *reason = NULL;
	json_object *args, *v;
	struct tp_err err;
	bool enabled;

	tp_err_clear(&err);
	if (userapi_body_check(body, names, &err) == -1) {
		userapi_reply_error(req, &err);
		return;
	}
	if (!json_object_object_get_ex(body, "enabled", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		userapi_fail(req, TP_INVALID_ARGUMENT, "\"enabled\" (a boolean) "
		    "is required");
		return;
	}
	enabled = json_object_get_boolean(v);
	if (json_object_object_get_ex(body, "reason", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > USERAPI_REASON_MAX) {
			userapi_fail(req, TP_INVALID_ARGUMENT, "\"reason\" must "
			    "be a string of at most 200 bytes");
			return;
		}
		reason = json_object_get_string(v);
	}
	if (enabled) {
		log_info("http: user %s asked to enable trading: refused", uid);
		userapi_fail(req, TP_PERMISSION_DENIED, "a user may stop "
		    "trading; only an operator turns it back on");
		return;
	}
	if ((args = json_object_new_object()) == NULL) {
		userapi_fail(req, TP_INTERNAL, "out of memory");
		return;
	}
	json_add(args, "op", json_object_new_string(API_OP_TRADING_SET));
	json_add(args, "enabled", json_object_new_boolean(0));
	if (reason != NULL && *reason != '\0')
		json_add(args, "reason", json_object_new_string(reason));
	userapi_local(u, req, uid, R_TRADING, args);
}

/* POST /me/signals: {"symbol"}: the signal operation, waited for. */
static void
userapi_signal(struct userapi *u, struct evhttp_request *req,
    const char *uid, json_object *body)
{
	static const char *const names[] = { "symbol", NULL };
	const char *symbol;
	json_object *args;
	struct tp_err err;

	tp_err_clear(&err);
	if (userapi_body_check(body, names, &err) == -1) {
		userapi_reply_error(req, &err);
		return;
	}
	if ((symbol = json_get_str(body, "symbol")) == NULL ||
	    !pnl_valid_symbol(symbol)) {
		userapi_fail(req, TP_INVALID_ARGUMENT, "\"symbol\" must be a "
		    "symbol (1 to 16 of A-Z 0-9 . / -)");
		return;
	}
	if ((args = json_object_new_object()) == NULL) {
		userapi_fail(req, TP_INTERNAL, "out of memory");
		return;
	}
	json_add(args, "op", json_object_new_string(API_OP_SIGNAL));
	json_add(args, "symbol", json_object_new_string(symbol));
	userapi_local(u, req, uid, R_SIGNALS, args);
}

/* --- routing ------------------------------------------------------------- */

/* The route of path (below /api/v1/), and the uid it addresses ("" for
 * /me). R_NONE: no such route. */
static enum userapi_route
userapi_route(const char *path, char *uid, size_t size, size_t *idx)
{
	const char *rest, *slash;
	size_t i, n;

	uid[0] = '\0';
	if (strncmp(path, "me", 2) == 0)
		rest = path + 2;
	else if (strncmp(path, "users/", 6) == 0) {
		path += 6;
		slash = strchr(path, '/');
		n = slash != NULL ? (size_t)(slash - path) : strlen(path);
		if (n == 0 || n >= size)
			return R_NONE;
		memcpy(uid, path, n);
		uid[n] = '\0';
		rest = path + n;
	} else
		return R_NONE;
	for (i = 0; i < sizeof(userapi_routes) / sizeof(userapi_routes[0]);
	    i++)
		if (strcmp(rest, userapi_routes[i].sub) == 0) {
			*idx = i;
			return userapi_routes[i].route;
		}
	return R_NONE;
}

static void
userapi_dispatch(struct userapi *u, struct evhttp_request *req,
    const char *path, const struct evkeyvalq *q)
{
	static const char *const trades_q[] = { "status", "limit", "cursor",
	    NULL };
	static const char *const signals_q[] = { "limit", NULL };
	static const char *const events_q[] = { "access_token",
	    "last_event_id", NULL };
	static const char *const none_q[] = { NULL };
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char uid[UID_MAX_LEN + 1], asked[UID_MAX_LEN + 1];
	enum userapi_route r;
	struct userapi_call *c;
	json_object *body;
	struct tp_err err;
	const char *s;
	size_t idx = 0;

	tp_err_clear(&err);
	if ((r = userapi_route(path, asked, sizeof(asked), &idx)) == R_NONE) {
		userapi_fail(req, TP_NOT_FOUND, "no such route; the API is "
		    "/api/v1/me[/trades|/signals|/trading|/events]");
		return;
	}
	if (userapi_auth(u, req, q, r == R_EVENTS, uid, sizeof(uid)) == -1)
		return;
	if (!userapi_rate_ok(u, uid)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		userapi_fail(req, TP_RESOURCE_EXHAUSTED, "too many requests; "
		    "slow down");
		return;
	}
	if (asked[0] != '\0' && strcmp(asked, uid) != 0) {
		log_info("http: user %s asked for another uid: refused", uid);
		userapi_fail(req, TP_PERMISSION_DENIED, "a user may see and "
		    "change only their own data");
		return;
	}
	if (cmd != userapi_routes[idx].cmd && !(r == R_SIGNALS &&
	    cmd == EVHTTP_REQ_POST)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", userapi_routes[idx].allow);
		tp_err_set(&err, TP_INVALID_ARGUMENT, "method not allowed; "
		    "allowed: %s", userapi_routes[idx].allow);
		/* 405, in the contract's error form */
		userapi_reply_error_as(req, 405, &err);
		return;
	}
	if (cmd == EVHTTP_REQ_POST) {
		if (userapi_query_check(q, none_q, &err) == -1 ||
		    (body = userapi_body(req, &err)) == NULL) {
			userapi_reply_error(req, &err);
			return;
		}
		if (r == R_TRADING)
			userapi_trading(u, req, uid, body);
		else
			userapi_signal(u, req, uid, body);
		json_object_put(body);
		return;
	}
	if (r == R_EVENTS) {
		if (userapi_query_check(q, events_q, &err) == -1) {
			userapi_reply_error(req, &err);
			return;
		}
		s = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Last-Event-ID");
		if (s == NULL)
			s = evhttp_find_header(q, "last_event_id");
		sse_start(u->sse, req, uid, s);
		return;
	}
	if ((c = userapi_call_new(u, req, uid)) == NULL) {
		userapi_fail(req, TP_RESOURCE_EXHAUSTED, "too many requests in "
		    "progress; retry later");
		return;
	}
	c->what = r == R_ME ? USERAPI_ME : r == R_TRADES ? USERAPI_TRADES :
	    USERAPI_SIGNALS;
	if (userapi_query_check(q, r == R_ME ? none_q : r == R_TRADES ?
	    trades_q : signals_q, &err) == -1 ||
	    (r != R_ME && userapi_limit(q, &c->limit, &err) == -1))
		goto fail;
	if (r == R_TRADES) {
		s = evhttp_find_header(q, "status");
		if (s == NULL || strcmp(s, "all") == 0)
			c->status[0] = '\0';
		else if (strcmp(s, "open") == 0)
			snprintf(c->status, sizeof(c->status), "OPEN");
		else if (strcmp(s, "closed") == 0)
			snprintf(c->status, sizeof(c->status), "CLOSED");
		else {
			tp_err_set(&err, TP_INVALID_ARGUMENT, "status must be "
			    "open, closed or all");
			goto fail;
		}
		if ((s = evhttp_find_header(q, "cursor")) != NULL) {
			if (!userapi_cursor_valid(s)) {
				tp_err_set(&err, TP_INVALID_ARGUMENT, "cursor "
				    "is not one this API gave");
				goto fail;
			}
			snprintf(c->cursor, sizeof(c->cursor), "%s", s);
		}
	}
	if (userapi_me_submit(c, &err) == 0)
		return;
fail:
	userapi_reply_error(req, &err);
	userapi_call_free(c);
}

bool
userapi_handle(struct userapi *u, struct evhttp_request *req,
    const char *path)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;

	if (strncmp(path, "/api/", 5) != 0)
		return webroot_serve(u->d, req, path);
	if (strcmp(path, USERAPI_PREFIX "config") == 0) {
		webconfig_serve(u->d, req);	/* no token: the sign-in's */
		return true;
	}
	TAILQ_INIT(&q);
	if (strncmp(path, USERAPI_PREFIX, strlen(USERAPI_PREFIX)) != 0)
		userapi_fail(req, TP_NOT_FOUND, "no such route; the API is "
		    "/api/v1/");
	else if (u->d->stopping)
		userapi_fail(req, TP_UNAVAILABLE, "tradepulsed is stopping");
	else if (query != NULL && evhttp_parse_query_str(query, &q) == -1)
		userapi_fail(req, TP_INVALID_ARGUMENT, "malformed query");
	else
		userapi_dispatch(u, req, path + strlen(USERAPI_PREFIX), &q);
	evhttp_clear_headers(&q);
	return true;
}

int
userapi_new(struct daemon *d, struct userapi **out, struct tp_err *err)
{
	struct userapi *u;
	char csp[USERAPI_CSP_MAX];

	*out = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->rate = htab_new()) == NULL) {
		free(u);
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	}
	u->d = d;
	TAILQ_INIT(&u->calls);
	if (webconfig_csp(&d->cfg, csp, sizeof(csp)) == -1) {
		userapi_free(u);
		return tp_err_set(err, TP_INVALID_ARGUMENT, "[auth] "
		    "web_auth_emulator is too long for the page's CSP");
	}
	userapi_set_csp(csp);
	if (sse_new(u, &u->sse, err) == -1) {
		userapi_free(u);
		return -1;
	}
	*out = u;
	return 0;
}

void
userapi_close_streams(struct userapi *u)
{
	if (u != NULL)
		sse_close_all(u->sse);
}

void
userapi_free(struct userapi *u)
{
	if (u == NULL)
		return;
	/* unanswered: evhttp_free frees their requests */
	while (!TAILQ_EMPTY(&u->calls))
		userapi_call_free(TAILQ_FIRST(&u->calls));
	sse_free(u->sse);
	htab_free(u->rate, free);
	free(u);
}
