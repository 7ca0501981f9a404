/* cmd_tenant.c: tradepulse tenant add|list|show|release. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/api.h"
#include "common/jsonutil.h"
#include "common/path.h"

/* Parses "tenant SUB [UID]" with no options of its own. */
static int
tenant_args(struct cli *cli, int argc, char **argv, bool want_uid,
    const char **uid)
{
	struct cli_args a;
	int opt, rc;

	cli_args_init(&a, &cmd_tenant, argc, argv);
	if ((opt = cli_args_next(cli, &a, NULL)) != CLI_ARGS_END)
		return opt == CLI_ARGS_HELP ? -1 : CLI_EXIT_USAGE;
	if ((rc = cli_args_count(&a, want_uid, want_uid, "UID")) != 0)
		return rc;
	if (want_uid) {
		if ((rc = cli_check_uid(&cmd_tenant, a.pos[0])) != 0)
			return rc;
		*uid = a.pos[0];
	}
	return 0;
}

/* arg: the uid asked for. */
static void
tenant_add_print(json_object *result, const void *arg)
{
	printf("added tenant %s\n", cli_str(result, "uid", arg));
}

static int
tenant_add(struct cli *cli, int argc, char **argv)
{
	json_object *req;
	const char *uid;
	int rc;

	if ((rc = tenant_args(cli, argc, argv, true, &uid)) != 0)
		return rc == -1 ? CLI_EXIT_OK : rc;
	if ((req = cli_request(API_OP_TENANT_ADD, uid)) == NULL)
		return CLI_EXIT_ERROR;
	return cli_exchange(cli, req, tenant_add_print, uid);
}

static const char *
tenant_flag(json_object *t, const char *key, const char *yes,
    const char *no)
{
	bool b;

	if (!json_get_bool(t, key, &b))
		return "?";
	return b ? yes : no;
}

/* "ok 2026-12-06T15:04:05Z", "unauthenticated 2026-...", "quarantined
 * 2026-...", or "-" when the tenant never synced. */
static void
tenant_outcome(json_object *o, char *buf, size_t size)
{
	const char *res, *at;

	if (o == NULL || (res = json_get_str(o, "result")) == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	at = cli_str(o, "at", "-");
	if (strcmp(res, "error") == 0)
		res = cli_str(o, "code", "error");
	/* to the second: the column stays narrow */
	snprintf(buf, size, "%s %.19s%s", res, at, strlen(at) > 19 ? "Z" : "");
}

/* Adds one page's tenants to all (for --json) or to the table. */
static int
tenant_list_page(struct cli *cli, json_object *tenants, json_object *all,
    struct table *t)
{
	size_t i, n = json_object_array_length(tenants);

	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(tenants, i);
		const char *row[5];
		char last[128];

		if (cli->json) {
			if (json_object_array_add(all, json_object_get(e)) != 0)
				return -1;
			continue;
		}
		row[0] = cli_str(e, "uid", "?");
		row[1] = tenant_flag(e, "trading_enabled", "enabled",
		    "disabled");
		row[2] = tenant_flag(e, "keys_set", "set", "not set");
		row[3] = tenant_flag(e, "quarantined", "yes", "no");
		tenant_outcome(json_get_obj(e, "last_outcome"), last,
		    sizeof(last));
		row[4] = last;
		if (table_add(t, row) == -1)
			return -1;
	}
	return 0;
}

/* Prints every tenant collected, as one reply object or as a table. */
static int
tenant_list_print(struct cli *cli, json_object *all, struct table *t)
{
	json_object *o, *r;
	size_t n;

	if (!cli->json) {
		n = table_rows(t);
		if (n > 0)
			table_print(t, stdout);
		printf("%zu tenant%s\n", n, n == 1 ? "" : "s");
		return CLI_EXIT_OK;
	}
	if ((o = json_object_new_object()) == NULL ||
	    (r = json_object_new_object()) == NULL) {
		json_object_put(o);
		cli_warnx("out of memory");
		return CLI_EXIT_ERROR;
	}
	json_object_object_add(r, "tenants", json_object_get(all));
	json_object_object_add(r, "next", NULL);
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", r);
	cli_print_json(o);
	json_object_put(o);
	return CLI_EXIT_OK;
}

/* Pages through tenant.list until "next" is null. */
static int
tenant_list(struct cli *cli, int argc, char **argv)
{
	static const char *const head[] = { "UID", "TRADING", "KEYS",
	    "QUARANTINED", "LAST OUTCOME" };
	json_object *all = NULL, *req = NULL, *reply = NULL, *result, *tenants;
	struct table *t = NULL;
	char after[UID_MAX_LEN + 1];
	const char *next;
	int rc;

	if ((rc = tenant_args(cli, argc, argv, false, NULL)) != 0)
		return rc == -1 ? CLI_EXIT_OK : rc;
	after[0] = '\0';
	if ((all = json_object_new_array()) == NULL ||
	    (t = table_new(5, head)) == NULL)
		goto nomem;
	for (;;) {
		if ((req = cli_request(API_OP_TENANT_LIST, NULL)) == NULL) {
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		json_object_object_add(req, "limit",
		    json_object_new_int(API_LIST_MAX));
		if (after[0] != '\0')
			json_object_object_add(req, "after",
			    json_object_new_string(after));
		rc = cli_call(cli, req, &reply, &result);
		json_object_put(req);
		req = NULL;
		if (rc != CLI_EXIT_OK)
			goto out;
		if (!json_object_object_get_ex(result, "tenants", &tenants) ||
		    !json_object_is_type(tenants, json_type_array)) {
			cli_warnx("malformed reply from the daemon: no "
			    "\"tenants\" array");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		if (tenant_list_page(cli, tenants, all, t) == -1)
			goto nomem;
		if ((next = json_get_str(result, "next")) == NULL)
			break;
		/* A page that does not advance would loop for ever. */
		if (json_object_array_length(tenants) == 0 ||
		    strcmp(next, after) == 0 || strlen(next) >= sizeof(after)) {
			cli_warnx("malformed reply from the daemon: bad "
			    "\"next\"");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		snprintf(after, sizeof(after), "%s", next);
		json_object_put(reply);
		reply = NULL;
	}
	rc = tenant_list_print(cli, all, t);
	goto out;
nomem:
	cli_warnx("out of memory");
	rc = CLI_EXIT_ERROR;
out:
	json_object_put(reply);
	json_object_put(all);
	table_free(t);
	return rc;
}

/* The map field key of o, or NULL when absent, null or not a map. */
static json_object *
tenant_map(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* The text of a field, or NULL when absent or null. */
static const char *
tenant_field(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return cli_text(v);
}

/* " (a, b, c)" of the parts that are there, into buf. */
static void
tenant_paren(char *buf, size_t size, const char *const *parts, size_t n)
{
	size_t i, len = 0;
	bool first = true;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++) {
		if (parts[i] == NULL)
			continue;
		len += snprintf(buf + len, size - len, "%s%s",
		    first ? " (" : ", ", parts[i]);
		first = false;
	}
	if (!first && len < size)
		snprintf(buf + len, size - len, ")");
}

static void
tenant_show_trading(struct table *t, json_object *trading)
{
	char reason[API_REASON_MAX + 64], since[128], paren[1024];
	const char *parts[2] = { NULL, NULL };
	const char *s;
	bool enabled;

	if (trading == NULL || !json_get_bool(trading, "enabled", &enabled)) {
		table_kv(t, "trading", "not set");
		return;
	}
	if ((s = tenant_field(trading, "reason")) != NULL && *s != '\0') {
		snprintf(reason, sizeof(reason), "reason: %s", s);
		parts[0] = reason;
	}
	if ((s = tenant_field(trading, "updated_at")) != NULL) {
		snprintf(since, sizeof(since), "since %s", s);
		parts[1] = since;
	}
	tenant_paren(paren, sizeof(paren), parts, 2);
	table_kv(t, "trading", "%s%s", enabled ? "enabled" : "disabled",
	    paren);
}

static void
tenant_show_keys(struct table *t, json_object *keys)
{
	char id[64], ver[64], upd[128], paren[512];
	const char *parts[3] = { NULL, NULL, NULL };
	const char *s;
	bool set;

	if (keys == NULL || !json_get_bool(keys, "set", &set) || !set) {
		table_kv(t, "keys", "not set");
		return;
	}
	if ((s = tenant_field(keys, "key_id_last4")) != NULL) {
		snprintf(id, sizeof(id), "key id \xe2\x80\xa6%s", s);
		parts[0] = id;
	} else if ((s = tenant_field(keys, "error")) != NULL) {
		/* the daemon could not open them: no key id to show */
		table_kv(t, "keys", "set, unreadable: %s", s);
		return;
	}
	if ((s = tenant_field(keys, "key_version")) != NULL) {
		snprintf(ver, sizeof(ver), "key version %s", s);
		parts[1] = ver;
	}
	if ((s = tenant_field(keys, "updated_at")) != NULL) {
		snprintf(upd, sizeof(upd), "updated %s", s);
		parts[2] = upd;
	}
	tenant_paren(paren, sizeof(paren), parts, 3);
	table_kv(t, "keys", "set%s", paren);
}

static void
tenant_show_error(struct table *t, json_object *e)
{
	char at[128], job[128], paren[512];
	const char *parts[3] = { NULL, NULL, NULL };
	const char *s;

	if (e == NULL) {
		table_kv(t, "last sync error", "none");
		return;
	}
	if ((s = tenant_field(e, "at")) != NULL) {
		snprintf(at, sizeof(at), "at %s", s);
		parts[0] = at;
	}
	if ((s = tenant_field(e, "job_id")) != NULL) {
		snprintf(job, sizeof(job), "job %s", s);
		parts[1] = job;
	}
	if (json_object_object_get_ex(e, "crash", NULL))
		parts[2] = "crash";
	tenant_paren(paren, sizeof(paren), parts, 3);
	table_kv(t, "last sync error", "%s: %s%s", cli_str(e, "code", "?"),
	    cli_str(e, "message", "?"), paren);
}

static void
tenant_show_quarantine(struct table *t, json_object *q)
{
	char strikes[64], crash[128], paren[512];
	const char *parts[2] = { NULL, NULL };
	const char *s;

	if (q == NULL) {
		table_kv(t, "quarantine", "no");
		return;
	}
	if ((s = tenant_field(q, "strikes")) != NULL) {
		snprintf(strikes, sizeof(strikes), "%s strikes", s);
		parts[0] = strikes;
	}
	if ((s = tenant_field(q, "crash_id")) != NULL) {
		snprintf(crash, sizeof(crash), "crash %s", s);
		parts[1] = crash;
	}
	tenant_paren(paren, sizeof(paren), parts, 2);
	table_kv(t, "quarantine", "yes, since %s: %s%s",
	    cli_str(q, "since", "?"), cli_str(q, "reason", "?"), paren);
}

/* arg: the uid asked for. */
static void
tenant_show_print(json_object *r, const void *arg)
{
	const char *uid = arg;
	struct table *t;
	json_object *v, *snap;

	if ((t = table_new(2, NULL)) == NULL) {
		cli_warnx("out of memory");
		return;
	}
	table_kv(t, "uid", "%s", cli_str(r, "uid", uid));
	table_kv(t, "created", "%s", cli_str(r, "created_at", "unknown"));
	/* An empty profile is no profile. */
	if (json_object_object_get_ex(r, "profile", &v) && v != NULL &&
	    !(json_object_is_type(v, json_type_object) &&
	    json_object_object_length(v) == 0))
		table_kv(t, "profile", "%s", cli_text(v));
	tenant_show_trading(t, tenant_map(r, "trading"));
	tenant_show_keys(t, tenant_map(r, "keys"));
	tenant_show_error(t, tenant_map(r, "last_sync_error"));
	tenant_show_quarantine(t, tenant_map(r, "quarantine"));
	if ((snap = tenant_map(r, "snapshot")) == NULL)
		table_kv(t, "snapshot", "none");
	else {
		table_kv(t, "snapshot", "synced %s",
		    cli_str(snap, "synced_at", "?"));
		table_kv(t, "account", "%s, equity %s %s, cash %s",
		    cli_str(snap, "status", "?"), cli_str(snap, "equity", "?"),
		    cli_str(snap, "currency", ""), cli_str(snap, "cash", "?"));
	}
	if ((v = tenant_map(r, "trades")) != NULL)
		table_kv(t, "open trades", "%s%s, unrealized P&L %s%s%s%s",
		    cli_text(json_object_object_get(v, "open")),
		    json_object_get_boolean(json_object_object_get(v,
		    "more")) ? "+" : "",
		    cli_str(v, "unrealized_pnl", "-"),
		    json_object_get_int(json_object_object_get(v, "errors")) >
		    0 ? " (" : "",
		    json_object_get_int(json_object_object_get(v, "errors")) >
		    0 ? cli_text(json_object_object_get(v, "errors")) : "",
		    json_object_get_int(json_object_object_get(v, "errors")) >
		    0 ? " could not be marked)" : "");
	table_print(t, stdout);
	table_free(t);
}

static int
tenant_show(struct cli *cli, int argc, char **argv)
{
	json_object *req;
	const char *uid;
	int rc;

	if ((rc = tenant_args(cli, argc, argv, true, &uid)) != 0)
		return rc == -1 ? CLI_EXIT_OK : rc;
	if ((req = cli_request(API_OP_TENANT_SHOW, uid)) == NULL)
		return CLI_EXIT_ERROR;
	return cli_exchange(cli, req, tenant_show_print, uid);
}

/* arg: the uid asked for. */
static void
tenant_release_print(json_object *result, const void *arg)
{
	const char *uid = cli_str(result, "uid", arg);
	bool released = false;

	json_get_bool(result, "released", &released);
	if (released)
		printf("released tenant %s\n", uid);
	else
		printf("tenant %s was not quarantined\n", uid);
}

static int
tenant_release(struct cli *cli, int argc, char **argv)
{
	json_object *req;
	const char *uid;
	int rc;

	if ((rc = tenant_args(cli, argc, argv, true, &uid)) != 0)
		return rc == -1 ? CLI_EXIT_OK : rc;
	if ((req = cli_request(API_OP_TENANT_RELEASE, uid)) == NULL)
		return CLI_EXIT_ERROR;
	return cli_exchange(cli, req, tenant_release_print, uid);
}

static const struct cli_sub tenant_subs[] = {
	{ "add", tenant_add },
	{ "list", tenant_list },
	{ "show", tenant_show },
	{ "release", tenant_release },
	{ NULL, NULL },
};

static int
tenant_run(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, &cmd_tenant, tenant_subs, argc, argv);
}

const struct cli_command cmd_tenant = {
	.name = "tenant",
	.synopsis =
"tenant add UID\n"
"tenant list\n"
"tenant show UID\n"
"tenant release UID",
	.summary = "add, list, show and release tenants",
	.description =
"A tenant is one customer of the service, named by its Firebase\n"
"Auth uid: 1 to 128 characters of A-Z, a-z, 0-9, '_' and '-'.\n"
"\n"
"add UID\n"
"       Create the tenant (users/UID), with trading enabled and\n"
"       no keys, and print \"added tenant UID\". Fails with\n"
"       already_exists when the tenant exists.\n"
"list\n"
"       List every tenant, in uid order, as a table of UID,\n"
"       TRADING (enabled or disabled), KEYS (set or not set),\n"
"       QUARANTINED (yes or no) and LAST OUTCOME (of its last sync:\n"
"       \"ok\", the error code, or \"quarantined\", and when, to the\n"
"       second; \"-\" when it never synced), then the number of\n"
"       tenants. The daemon is asked for 500 tenants at a time. With\n"
"       --json, one reply object holds all of them:\n"
"       {\"ok\":true,\"result\":{\"tenants\":[{\"uid\":...,\n"
"       \"trading_enabled\":...,\"keys_set\":...,\n"
"       \"quarantined\":...,\"last_outcome\":{\"result\":\"ok\"|\n"
"       \"error\"|\"quarantined\",\"code\":...,\"at\":...}|null},\n"
"       ...],\"next\":null}}.\n"
"show UID\n"
"       Show one tenant as \"key: value\" lines: uid, when it was\n"
"       created, its trading kill-switch with the reason, whether\n"
"       its Alpaca keys are set (with the last four characters of\n"
"       the key id and the master key version; never the\n"
"       secret), its last sync error or \"none\", whether it is\n"
"       quarantined, and its last account snapshot. Fails with\n"
"       not_found for an unknown tenant.\n"
"release UID\n"
"       End the tenant's quarantine: a tenant whose jobs crashed\n"
"       max_strikes workers in a row ([workers] max_strikes) is\n"
"       quarantined (users/UID/status/quarantine) and skipped by\n"
"       pulses and sync jobs until released. Deletes the quarantine\n"
"       document, clears the tenant's strikes and prints \"released\n"
"       tenant UID\", or \"tenant UID was not quarantined\" when\n"
"       there was nothing to release (exit 0 in both cases). Look at\n"
"       the crash report named by tenant show first: a tenant that\n"
"       still crashes workers is quarantined again.\n",
	.examples =
"tradepulse tenant add user_42\n"
"tradepulse tenant list\n"
"tradepulse --json tenant show user_42\n"
"tradepulse tenant release user_42\n",
	.run = tenant_run,
};
