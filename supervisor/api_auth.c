/* api_auth.c: who may ask what: a request's "id_token" verified and what the user may then ask; a CURVE client's role. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/api.h"
#include "common/curve.h"
#include "common/idtoken.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"

/*
 * What a request carrying an ID token (acting for a user) may do with an
 * operation; a request without one is the operator's (docs/security.md).
 */
enum api_user {
	API_USER_NO = 0,	/* operators only: permission_denied */
	API_USER_OWN_UID,	/* when its "uid" argument is the token's uid */
	API_USER_OP_CHECKS,	/* the start function checks req->user_uid
				   (api_auth_owns) */
};

/* The operations a user may ask for; every other one is the operator's.
 * A new user operation is one more line. */
static const struct {
	const char	*op;
	enum api_user	 user;
} api_user_ops[] = {
	{ API_OP_SYNC,	API_USER_OWN_UID },
	{ "signal",	API_USER_OWN_UID },
	{ API_OP_JOB,	API_USER_OP_CHECKS },
};

static enum api_user
api_user_rule(const char *op)
{
	size_t i;

	for (i = 0; i < sizeof(api_user_ops) / sizeof(api_user_ops[0]); i++)
		if (strcmp(api_user_ops[i].op, op) == 0)
			return api_user_ops[i].user;
	return API_USER_NO;
}

/*
 * A request without "id_token" is the operator's: whoever reaches the ipc
 * socket (its folder and group) may do everything. With one, the token
 * must verify, and the request then acts for its uid alone. The client
 * hears only "invalid ID token"; the reason goes to the daemon's log,
 * without the token.
 */
int
api_auth(struct api_req *req, struct tp_err *err)
{
	const struct config *cfg = &req->d->cfg;
	const struct api_op *op = req->op;
	struct tp_err why;
	json_object *v;
	const char *uid;

	if (!json_object_object_get_ex(req->args, "id_token", &v))
		return 0;
	tp_err_clear(&why);
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		tp_err_set(&why, TP_UNAUTHENTICATED, "not a string");
	else
		(void)idtoken_verify(req->d->certs, json_object_get_string(v),
		    cfg->firebase_project_id, (int64_t)time(NULL),
		    cfg->accept_emulator_tokens, req->user_uid,
		    sizeof(req->user_uid), &why);
	/* a bearer credential: not left in the request's memory */
	if (json_object_is_type(v, json_type_string))
		json_wipe_string(v);
	if (why.code != TP_OK) {
		log_warnx("api: %s: ID token refused: %s", op->name, why.msg);
		memset(req->user_uid, 0, sizeof(req->user_uid));
		return tp_err_set(err, TP_UNAUTHENTICATED, "invalid ID token");
	}
	req->as_user = true;
	snprintf(req->uid, sizeof(req->uid), "%s", req->user_uid);
	switch (api_user_rule(op->name)) {
	case API_USER_OWN_UID:
		/* the op checks its argument's form later: compare the text */
		if (!json_object_object_get_ex(req->args, "uid", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), req->user_uid) != 0 ||
		    strlen(json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v)) {
			log_info("api: %s for user %s: another uid refused",
			    op->name, req->user_uid);
			return tp_err_set(err, TP_PERMISSION_DENIED, "a user "
			    "may ask %s for their own uid only", op->name);
		}
		return 0;
	case API_USER_OP_CHECKS:
		return 0;
	case API_USER_NO:
	default:
		uid = req->user_uid;
		log_info("api: %s for user %s: an operator's operation, refused",
		    op->name, uid);
		return tp_err_set(err, TP_PERMISSION_DENIED, "%s is an "
		    "operator's operation; it is not done on a user's behalf",
		    op->name);
	}
}

int
api_auth_owns(const struct api_req *req, const char *uid, struct tp_err *err)
{
	if (!req->as_user || strcmp(uid, req->user_uid) == 0)
		return 0;
	return tp_err_set(err, TP_PERMISSION_DENIED, "a user may ask %s for "
	    "their own uid only", req->op->name);
}

/*
 * What a CURVE client of role "service" may ask (an admin may ask
 * everything; so may an ipc:// client, whose access control is the
 * socket's folder and group): running and following work for any
 * tenant, never tenant or key administration. A new operation open to
 * services is one more name here.
 */
static const char *const api_service_ops[] = {
	API_OP_STATUS,
	API_OP_PULSE,
	API_OP_PULSE_STATUS,
	API_OP_SYNC,
	API_OP_JOB,
	API_OP_SIGNAL,
	NULL,
};

/* The role table: a service client gets only api_service_ops. */
int
api_permit(const struct api_req *req, struct tp_err *err)
{
	size_t i;

	if (req->client == NULL || req->client->role == CURVE_ROLE_ADMIN)
		return 0;
	for (i = 0; api_service_ops[i] != NULL; i++)
		if (strcmp(api_service_ops[i], req->op->name) == 0)
			return 0;
	log_warnx("api: %s refused to client %s (role %s)", req->op->name,
	    req->client->name, curve_role_name(req->client->role));
	return tp_err_set(err, TP_PERMISSION_DENIED, "client %s has role %s, "
	    "which may not %s (tenant and key administration need role "
	    "admin)", req->client->name, curve_role_name(req->client->role),
	    req->op->name);
}
