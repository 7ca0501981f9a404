/* preflight.c: the start's checks of the configured files, made without side effects, for tradepulsed -n and the start alike. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include <sodium.h>

#include "common/curve.h"
#include "common/gauth.h"
#include "common/idtoken.h"
#include "common/secrets.h"
#include "common/store.h"
#include "common/path.h"
#include "supervisor/daemon.h"
#include "supervisor/datakey.h"
#include "supervisor/privdrop.h"

/*
 * tradepulsed -n must refuse whatever the start would refuse, or an
 * operator who checked a file finds out at the restart. So the start runs
 * this too, before it detaches, and these checks stay free of side
 * effects: nothing is created, locked, bound or removed. What only the
 * start can know (a live daemon holding the pidfile or the socket) is left
 * to the start itself: -n is run next to a running daemon, before a
 * reload or a restart.
 */

/* Fails with "FILE:LINE: why", LINE being that of the key at fault (0
 * when the key keeps its default). */
static int
preflight_fail(const struct config *cfg, const char *section,
    const char *name, const struct tp_err *why, struct tp_err *err)
{
	unsigned line = config_key_line(cfg, section, name);

	return tp_err_set(err, why->code, "%s:%u: %s", cfg->file != NULL ?
	    cfg->file : "(defaults)", line, why->msg);
}

/*
 * What files_mkdir at the start needs: path is a folder we may write in,
 * or it is missing and its nearest existing ancestor is a folder we may
 * create it in. Only the folder itself must be writable when it exists
 * (the start writes in it); a missing one is created by us.
 */
static int
preflight_dir(const char *path, const char *what, struct tp_err *err)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len;
	char *slash;

	if ((len = strlen(path)) == 0 || len >= sizeof(buf))
		return tp_err_set(err, TP_INVALID_ARGUMENT, "%s: bad folder "
		    "name \"%.64s\"", what, path);
	memcpy(buf, path, len + 1);
	for (;;) {
		if (stat(buf, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return tp_err_set(err, TP_FAILED_PRECONDITION,
				    "%s: %s exists and is not a folder", what,
				    buf);
			if (euidaccess(buf, W_OK | X_OK) == 0)
				return 0;
			if (strcmp(buf, path) == 0)
				return tp_err_errno(err,
				    TP_FAILED_PRECONDITION, "%s: %s is not "
				    "writable", what, path);
			return tp_err_errno(err, TP_FAILED_PRECONDITION,
			    "%s: cannot create %s in %s", what, path, buf);
		}
		/* ENOTDIR: a file is on the way; the walk up finds it */
		if (errno != ENOENT && errno != ENOTDIR)
			return tp_err_errno(err, TP_FAILED_PRECONDITION,
			    "%s: %s", what, buf);
		if ((slash = strrchr(buf, '/')) == NULL) {
			/* a relative name: its parent is the cwd */
			snprintf(buf, sizeof(buf), ".");
			continue;
		}
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* The master key file as keyring_load reads it: mode, owner, contents. */
static int
preflight_master_key(const struct config *cfg, struct tp_err *err)
{
	struct secrets *s;

	if (secrets_init(err) == -1)
		return -1;
	if ((s = secrets_load(cfg->master_key, err)) == NULL)
		return -1;
	secrets_free(s);
	return 0;
}

/* The store: a backend this build has, a SQLite file that is a regular
 * file or can be created (its folder exists, or is made with state_dir). */
static int
preflight_store(const struct config *cfg, unsigned *line_key,
    struct tp_err *err)
{
	char dir[PATH_MAX];
	struct stat st;
	size_t n;

	*line_key = 0;
	if (store_backend_available(strcmp(cfg->store_backend, "firestore") ==
	    0 ? STORE_FIRESTORE : STORE_SQLITE, err) == -1)
		return -1;
	if (strcmp(cfg->store_backend, "firestore") == 0) {
		struct gauth_opts go;
		struct gauth *g;

		/* the emulator needs no key; a key file is checked as the
		 * start loads it (mode, owner, members, the RSA key) */
		if (*cfg->emulator_host != '\0')
			return 0;
		*line_key = 2;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return tp_err_set(err, TP_INTERNAL,
			    "cannot initialize libcurl");
		memset(&go, 0, sizeof(go));
		if (gauth_load(cfg->credentials, &go, &g, err) == -1)
			return -1;
		gauth_free(g);
		return 0;
	}
	*line_key = 1;
	if (stat(cfg->store_path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return tp_err_set(err, TP_FAILED_PRECONDITION,
			    "store path %s is not a regular file",
			    cfg->store_path);
		return 0;
	}
	if (errno != ENOENT)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "store path %s", cfg->store_path);
	if (path_fs_dirname(cfg->store_path, dir, sizeof(dir)) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "store path too long");
	/* state_dir and its parents are created before the store opens */
	n = strlen(dir);
	if (strncmp(cfg->state_dir, dir, n) == 0 &&
	    (cfg->state_dir[n] == '\0' || cfg->state_dir[n] == '/' ||
	    strcmp(dir, "/") == 0))
		return 0;
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "the folder of store path %s does not exist (only "
		    "state_dir is created)", cfg->store_path);
	if (euidaccess(dir, W_OK | X_OK) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "the folder of store path %s is not writable",
		    cfg->store_path);
	return 0;
}

/* [workers] program: a regular file we may execute. */
static int
preflight_program(const char *prog, struct tp_err *err)
{
	struct stat st;

	if (stat(prog, &st) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "worker program %s", prog);
	if (!S_ISREG(st.st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "worker program %s is not a regular file", prog);
	if (euidaccess(prog, X_OK) == -1)
		return tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "worker program %s is not executable", prog);
	return 0;
}

/* [workers] user: the workers drop to it, which happens only as root;
 * never the daemon's own user, whose files (the master key, the store)
 * a worker must not reach. */
static int
preflight_user(const char *user, const struct privdrop_user *pu,
    struct tp_err *err)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return errno != 0 ? tp_err_errno(err, TP_FAILED_PRECONDITION,
		    "worker user %s", user) :
		    tp_err_set(err, TP_FAILED_PRECONDITION,
		    "worker user %s does not exist", user);
	if (pu->drop && pw->pw_uid == pu->uid)
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "worker user %s is [daemon] user too: a worker could read "
		    "the master key and the store; use another user (nobody)",
		    user);
	return 0;
}

/* [alpaca] data_secret_file, read as a prices job reads it, then wiped. */
static int
preflight_data_key(const struct config *cfg, struct tp_err *err)
{
	struct alpaca_creds c;
	int rc;

	if (*cfg->data_secret_file == '\0')
		return 0;
	memset(&c, 0, sizeof(c));
	rc = datakey_read(cfg->data_key_id, cfg->data_secret_file, &c,
	    err);
	secrets_alpaca_wipe(&c);
	return rc;
}

/* The api socket's folder: private when it exists, creatable when not;
 * whatever is at the socket's path must be a socket. */
static int
preflight_api(const char *ep, struct tp_err *err)
{
	char dir[PATH_MAX];
	struct stat st;
	const char *path = ep + 6;

	if (strncmp(ep, "ipc://", 6) != 0 || path[0] == '@')
		return 0;
	if (path_fs_dirname(path, dir, sizeof(dir)) == -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "api socket path too long");
	if (stat(dir, &st) == -1 && errno == ENOENT)
		return preflight_dir(dir, "api socket folder", err);
	if (files_check_private_dir(dir, "api socket", err) == -1)
		return -1;
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return tp_err_set(err, TP_FAILED_PRECONDITION,
		    "%s exists and is not a socket", path);
	return 0;
}

/* [auth] curve_server_key and curve_clients, read as a tcp:// api's start
 * reads them; the secret is wiped at once. *key tells which failed. */
static int
preflight_curve(const struct config *cfg, const char **key,
    struct tp_err *err)
{
	struct curve_clients cl;
	char sec[CURVE_Z85_LEN + 1];

	*key = "curve_server_key";
	if (*cfg->curve_server_key == '\0')
		return 0;
	if (curve_secret_load(cfg->curve_server_key, "curve_server_key", sec,
	    err) == -1)
		return -1;
	sodium_memzero(sec, sizeof(sec));
	*key = "curve_clients";
	if (curve_clients_load(cfg->curve_clients, &cl, err) == -1)
		return -1;
	curve_clients_free(&cl);
	return 0;
}

/* [auth] certs as a file: the start reads it and refuses a bad one. A URL
 * is fetched after the start, on a thread: not looked at here. */
static int
preflight_certs(const struct config *cfg, struct tp_err *err)
{
	struct idtoken_certs *c;

	if (*cfg->certs == '\0' || strncmp(cfg->certs, "https://", 8) == 0)
		return 0;
	if (idtoken_certs_open(cfg->certs, NULL, &c, err) == -1)
		return -1;
	idtoken_certs_free(c);
	return 0;
}

/*
 * The files the daemon reads after it gave up root, checked with the
 * service user's effective ids: a master key root can read but the user
 * cannot is refused now, not at the start.
 */
static int
preflight_as_user(const struct config *cfg, const struct privdrop_user *pu,
    struct tp_err *err)
{
	struct tp_err why;
	unsigned store_key;
	const char *curve_key;

	tp_err_clear(&why);
	if (preflight_master_key(cfg, &why) == -1) {
		/* root made it (sudo tradepulse keygen): say whose it must be */
		if (pu->drop) {
			char msg[TP_ERR_MSG_MAX];

			memcpy(msg, why.msg, sizeof(msg));
			tp_err_set(&why, why.code, "%.*s (the daemon reads it "
			    "as user %s: chown %s it)", TP_ERR_MSG_MAX / 2,
			    msg, pu->name, pu->name);
		}
		return preflight_fail(cfg, "secrets", "master_key", &why, err);
	}
	if (strcmp(cfg->store_backend, "firestore") == 0 &&
	    preflight_store(cfg, &store_key, &why) == -1)
		return preflight_fail(cfg, "store", store_key == 2 ?
		    "credentials" : store_key ? "path" : "backend", &why, err);
	if (preflight_program(cfg->worker_program, &why) == -1)
		return preflight_fail(cfg, "workers", "program", &why, err);
	if (preflight_data_key(cfg, &why) == -1)
		return preflight_fail(cfg, "alpaca", "data_secret_file", &why,
		    err);
	if (preflight_curve(cfg, &curve_key, &why) == -1) {
		/* the allowlist's errors name their own file and line */
		if (strcmp(curve_key, "curve_clients") == 0) {
			*err = why;
			return -1;
		}
		return preflight_fail(cfg, "auth", curve_key, &why, err);
	}
	if (preflight_certs(cfg, &why) == -1)
		return preflight_fail(cfg, "auth", "certs", &why, err);
	return 0;
}

int
daemon_preflight(const struct config *cfg, bool foreground,
    struct tp_err *err)
{
	struct privdrop_user pu;
	struct tp_err why;
	char dir[PATH_MAX];
	unsigned store_key;
	int rc;

	tp_err_clear(&why);
	if (privdrop_lookup(cfg, &pu, false, &why) == -1)
		return preflight_fail(cfg, "daemon", "user", &why, err);
	if (preflight_dir(cfg->state_dir, "state_dir", &why) == -1)
		return preflight_fail(cfg, "daemon", "state_dir", &why, err);
	if (preflight_dir(cfg->log_dir, "log_dir", &why) == -1)
		return preflight_fail(cfg, "daemon", "log_dir", &why, err);
	if (!foreground) {
		if (path_fs_dirname(cfg->pidfile, dir, sizeof(dir)) == -1 ||
		    preflight_dir(dir, "pidfile folder", &why) == -1) {
			if (why.msg[0] == '\0')
				tp_err_set(&why, TP_INVALID_ARGUMENT,
				    "pidfile: path too long");
			return preflight_fail(cfg, "daemon", "pidfile", &why,
			    err);
		}
	}
	/* the folders and the SQLite file: root creates them and gives them
	 * to the service user before the drop */
	if (strcmp(cfg->store_backend, "firestore") != 0 &&
	    preflight_store(cfg, &store_key, &why) == -1)
		return preflight_fail(cfg, "store", store_key ? "path" :
		    "backend", &why, err);
	if (preflight_user(cfg->worker_user, &pu, &why) == -1)
		return preflight_fail(cfg, "workers", "user", &why, err);
	if (preflight_api(cfg->api, &why) == -1)
		return preflight_fail(cfg, "daemon", "api", &why, err);
	if (*cfg->events != '\0' && preflight_api(cfg->events, &why) == -1)
		return preflight_fail(cfg, "daemon", "events", &why, err);
	if (privdrop_become(&pu, &why) == -1)
		return preflight_fail(cfg, "daemon", "user", &why, err);
	rc = preflight_as_user(cfg, &pu, err);
	if (privdrop_unbecome(&pu, &why) == -1) {
		/* a -n or a start cannot go on as half root */
		*err = why;
		return -1;
	}
	return rc;
}
