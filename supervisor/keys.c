/* keys.c: keys.set (seal and store a tenant's Alpaca keys) and keys.rotate. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/queue.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/secrets.h"
#include "common/store.h"
#include "supervisor/api.h"
#include "supervisor/daemon.h"
#include "supervisor/keyring.h"
#include "supervisor/keys.h"
#include "supervisor/tenant_store.h"

#define KEYS_PATH_MAX		(UID_MAX_LEN + 32)
#define KEYS_KEY_ID_MIN		8	/* so the last 4 never are the whole id */
#define KEYS_ROTATE_PAGE	500	/* tenants listed per store call */

struct keys_ctx {
	TAILQ_ENTRY(keys_ctx)	 entry;
	struct api_req		*req;
	struct daemon		*d;
	bool			 queued;	/* in the gate's queue */
	bool			 rotate;

	/* keys.set */
	char			 uid[UID_MAX_LEN + 1];
	struct alpaca_creds	*creds;		/* guarded memory */
	struct keyring		*ring;		/* a reference */
	char			 last4[8];
	unsigned		 version;

	/* keys.rotate */
	char			*keyfile;
	struct secrets		*fresh;		/* the rotated ring, to swap in */
	size_t			 tenants;
	size_t			 resealed;
	size_t			 failed;
	bool			 rotated;
	atomic_bool		 cancel;	/* set on the loop, read by work */

	struct tp_err		 err;
	int			 rc;
};

TAILQ_HEAD(keys_queue, keys_ctx);

struct keys_gate {
	unsigned		 writers;	/* keys.set in the store */
	bool			 rotating;
	struct keys_ctx		*rotation;	/* the one running */
	struct keys_queue	 queue;
};

struct keys_gate *
keys_gate_new(struct tp_err *err)
{
	struct keys_gate *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	TAILQ_INIT(&g->queue);
	return g;
}

/* The queued requests belong to the API, which frees them first. */
void
keys_gate_free(struct keys_gate *g)
{
	free(g);
}

static void
keys_ctx_free(void *arg)
{
	struct keys_ctx *c = arg;

	if (c->queued)
		TAILQ_REMOVE(&c->d->gate->queue, c, entry);
	if (c->creds != NULL) {
		secrets_alpaca_wipe(c->creds);
		sodium_free(c->creds);
	}
	keyring_unref(c->ring);
	free(c->keyfile);
	/* only left here when the daemon stopped before the swap */
	secrets_free(c->fresh);
	free(c);
}

static struct keys_ctx *
keys_ctx_new(struct api_req *req, struct tp_err *err)
{
	struct keys_ctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	c->req = req;
	c->d = req->d;
	req->ctx = c;
	req->ctx_free = keys_ctx_free;
	return c;
}

static void	keys_pump(struct daemon *);

/* keys.set */

static void
keys_set_work(struct store *st, void *arg)
{
	struct keys_ctx *c = ((struct api_req *)arg)->ctx;
	json_object *doc;
	char path[KEYS_PATH_MAX];
	const char *last4;
	int rc;

	snprintf(path, sizeof(path), "users/%s", c->uid);
	rc = tenant_doc_get(st, path, NULL, &c->err);
	if (rc != 1) {
		secrets_alpaca_wipe(c->creds);
		c->rc = rc == -1 ? -1 : tp_err_set(&c->err, TP_NOT_FOUND,
		    "no tenant %s (add it first)", c->uid);
		return;
	}
	doc = secrets_alpaca_doc(keyring_secrets(c->ring), c->uid, c->creds,
	    &c->err);
	secrets_alpaca_wipe(c->creds);
	if (doc == NULL) {
		c->rc = -1;
		return;
	}
	snprintf(path, sizeof(path), "users/%s/secrets/alpaca", c->uid);
	if (store_set(st, path, doc, false, &c->err) == -1) {
		c->rc = -1;
		json_object_put(doc);
		return;
	}
	if ((last4 = json_get_str(doc, "key_id_last4")) != NULL)
		snprintf(c->last4, sizeof(c->last4), "%s", last4);
	c->version = secrets_sealed_version(json_get_obj(doc, "sealed"));
	json_object_put(doc);
}

static void
keys_set_done(void *arg)
{
	struct api_req *req = arg;
	struct keys_ctx *c = req->ctx;
	struct daemon *d = req->d;
	json_object *r;

	d->gate->writers--;
	if (c->rc == -1)
		api_reply_error(req, &c->err);
	else {
		tenant_log(d, c->uid, TLOG_INFO, "keys", "Alpaca API keys set "
		    "(key id ending %s, master key version %u)", c->last4,
		    c->version);
		if ((r = json_object_new_object()) != NULL) {
			json_add(r, "uid", json_object_new_string(c->uid));
			json_add(r, "key_id_last4",
			    json_object_new_string(c->last4));
			json_add(r, "key_version",
			    json_object_new_int64(c->version));
		}
		api_reply(req, r);
	}
	keys_pump(d);
}

static int
keys_set_run(struct keys_ctx *c, struct tp_err *err)
{
	struct daemon *d = c->d;

	c->ring = keyring_ref(d->keys);
	if (api_submit(c->req, keys_set_work, keys_set_done, err) == -1)
		return -1;
	d->gate->writers++;
	return 0;
}

int
keys_set_start(struct api_req *req, struct tp_err *err)
{
	struct keys_ctx *c;
	const char *uid, *key_id, *secret;
	int rc;

	if (api_arg_uid(req, "uid", true, &uid, err) == -1 ||
	    api_arg_token(req, "key_id", true, KEYS_KEY_ID_MIN,
	    API_KEY_ID_MAX, &key_id, err) == -1 ||
	    api_arg_token(req, "secret", true, 1, API_SECRET_MAX, &secret,
	    err) == -1)
		rc = -1;
	else if ((c = keys_ctx_new(req, err)) == NULL)
		rc = -1;
	else if ((c->creds = sodium_malloc(sizeof(*c->creds))) == NULL)
		rc = tp_err_set(err, TP_RESOURCE_EXHAUSTED,
		    "out of guarded memory");
	else {
		memset(c->creds, 0, sizeof(*c->creds));
		snprintf(c->uid, sizeof(c->uid), "%s", uid);
		memcpy(c->creds->key_id, key_id, strlen(key_id) + 1);
		memcpy(c->creds->secret, secret, strlen(secret) + 1);
		rc = 0;
	}
	/* From here on the only clear copy is c->creds. */
	json_wipe_string(req->args);
	if (rc == -1)
		return -1;
	TAILQ_INSERT_TAIL(&req->d->gate->queue, c, entry);
	c->queued = true;
	keys_pump(req->d);
	return 0;
}

/* keys.rotate */

/* Re-encrypts one tenant's keys under the fresh ring. */
static void
keys_reseal_one(struct store *st, struct keys_ctx *c, const char *uid)
{
	json_object *doc = NULL, *out = NULL;
	char path[KEYS_PATH_MAX];
	struct tp_err err;
	int rc;

	snprintf(path, sizeof(path), "users/%s/secrets/alpaca", uid);
	if ((rc = tenant_doc_get(st, path, &doc, &err)) == 0)
		return;
	if (rc == 1 && (rc = secrets_alpaca_reseal(c->fresh, uid, doc, &out,
	    &err)) == 1 && (rc = store_set(st, path, out, false, &err)) == 0)
		c->resealed++;
	if (rc == -1) {
		c->failed++;
		log_warnx("keys.rotate: the keys of %s stay under their old "
		    "master key version: %s", uid, err.msg);
	}
	json_object_put(out);
	json_object_put(doc);
}

static void
keys_rotate_work(struct store *st, void *arg)
{
	struct keys_ctx *c = ((struct api_req *)arg)->ctx;
	char after[UID_MAX_LEN + 1] = "", **uids;
	size_t n, i;

	if (secrets_keygen_rotate(c->keyfile, &c->version, &c->err) == -1) {
		c->rc = -1;
		return;
	}
	c->rotated = true;
	if ((c->fresh = secrets_load(c->keyfile, &c->err)) == NULL) {
		c->rc = -1;
		return;
	}
	do {
		uids = NULL;
		n = 0;
		if (store_list_tenants(st, KEYS_ROTATE_PAGE,
		    after[0] != '\0' ? after : NULL, &uids, &n,
		    &c->err) == -1) {
			c->rc = -1;
			return;
		}
		for (i = 0; i < n && !atomic_load(&c->cancel); i++)
			keys_reseal_one(st, c, uids[i]);
		c->tenants += i;
		if (n > 0)
			snprintf(after, sizeof(after), "%s", uids[n - 1]);
		store_strings_free(uids, n);
		if (atomic_load(&c->cancel)) {
			c->rc = tp_err_set(&c->err, TP_UNAVAILABLE,
			    "%s is shutting down", DAEMON_NAME);
			return;
		}
	} while (n == KEYS_ROTATE_PAGE);
}

static void
keys_rotate_done(void *arg)
{
	struct api_req *req = arg;
	struct keys_ctx *c = req->ctx;
	struct daemon *d = req->d;
	struct keyring *k;
	struct tp_err err;
	json_object *r;

	/*
	 * The file now has the new version and some documents may already
	 * be sealed with it: the daemon needs the fresh ring even when the
	 * re-encryption stopped half-way. Work holding the old ring keeps
	 * its reference until it is done.
	 */
	if (c->fresh != NULL) {
		k = keyring_wrap(c->fresh, &err);
		c->fresh = NULL;
		if (k == NULL)
			log_warnx("keys.rotate: %s; restart %s to use key "
			    "version %u", err.msg, DAEMON_NAME, c->version);
		else {
			keyring_unref(d->keys);
			d->keys = k;
		}
	}
	d->gate->rotating = false;
	d->gate->rotation = NULL;
	if (c->rotated)
		log_info("master key rotated to version %u: %zu tenants, %zu "
		    "keys re-encrypted, %zu failed%s", c->version, c->tenants,
		    c->resealed, c->failed, c->rc == -1 ? " (stopped early)" :
		    "");
	if (c->rc == -1) {
		if (c->rotated)
			tp_err_set(&err, c->err.code, "key version %u was "
			    "added, but re-encryption stopped after %zu "
			    "tenants: %s", c->version, c->tenants, c->err.msg);
		else
			err = c->err;
		api_reply_error(req, &err);
	} else {
		if ((r = json_object_new_object()) != NULL) {
			json_add(r, "key_version",
			    json_object_new_int64(c->version));
			json_add(r, "resealed",
			    json_object_new_int64((int64_t)c->resealed));
			json_add(r, "tenants",
			    json_object_new_int64((int64_t)c->tenants));
			json_add(r, "failed",
			    json_object_new_int64((int64_t)c->failed));
		}
		api_reply(req, r);
	}
	keys_pump(d);
}

static int
keys_rotate_run(struct keys_ctx *c, struct tp_err *err)
{
	if (api_submit(c->req, keys_rotate_work, keys_rotate_done, err) == -1)
		return -1;
	c->d->gate->rotating = true;
	c->d->gate->rotation = c;
	return 0;
}

int
keys_rotate_start(struct api_req *req, struct tp_err *err)
{
	struct keys_ctx *c;

	if ((c = keys_ctx_new(req, err)) == NULL)
		return -1;
	c->rotate = true;
	if ((c->keyfile = strdup(req->d->cfg.master_key)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	TAILQ_INSERT_TAIL(&req->d->gate->queue, c, entry);
	c->queued = true;
	keys_pump(req->d);
	return 0;
}

/* The gate */

/* Starts queued requests in order while the gate allows. */
static void
keys_pump(struct daemon *d)
{
	struct keys_gate *g = d->gate;
	struct keys_ctx *c;
	struct tp_err err;
	int rc;

	while (!g->rotating && (c = TAILQ_FIRST(&g->queue)) != NULL) {
		if (c->rotate && g->writers > 0)
			return;		/* after the keys.set in progress */
		TAILQ_REMOVE(&g->queue, c, entry);
		c->queued = false;
		tp_err_clear(&err);
		rc = c->rotate ? keys_rotate_run(c, &err) :
		    keys_set_run(c, &err);
		if (rc == -1)
			api_reply_error(c->req, &err);
	}
}

void
keys_gate_cancel(struct daemon *d)
{
	if (d->gate != NULL && d->gate->rotation != NULL)
		atomic_store(&d->gate->rotation->cancel, true);
}

void
keys_gate_stop(struct daemon *d)
{
	struct keys_ctx *c;
	struct tp_err err;

	tp_err_set(&err, TP_UNAVAILABLE, "%s is shutting down", DAEMON_NAME);
	while ((c = TAILQ_FIRST(&d->gate->queue)) != NULL) {
		TAILQ_REMOVE(&d->gate->queue, c, entry);
		c->queued = false;
		api_reply_error(c->req, &err);
	}
}
