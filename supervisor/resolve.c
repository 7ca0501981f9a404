/* resolve.c: the Alpaca hosts resolved in the supervisor (evdns), handed to workers for CURLOPT_RESOLVE. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "common/clock.h"
#include "common/log.h"
#include "supervisor/pool_int.h"

/*
 * A sandboxed worker opens no files, so it cannot read /etc/hosts or
 * /etc/resolv.conf, and it must not be able to send DNS queries (a way to
 * leak data). The supervisor resolves the hosts of [alpaca] trading_url
 * and data_url with libevent's asynchronous resolver (never blocking the
 * loop), again every few minutes, and keeps "host:port:address,..." lines
 * that each CONFIG carries. A failed lookup keeps the last good answer
 * and is retried; an IP address in a URL needs no lookup at all.
 */

#define RESOLVE_HOSTS		2	/* trading_url, data_url */
#define RESOLVE_REFRESH_S	300
#define RESOLVE_RETRY_S		60
#define RESOLVE_ADDRS_MAX	8
#define RESOLVE_HOST_MAX	253
#define RESOLVE_ENTRY_MAX	(RESOLVE_HOST_MAX + 8 + \
				    RESOLVE_ADDRS_MAX * (INET6_ADDRSTRLEN + 3))

struct resolver;

struct resolve_host {
	struct resolver		*r;
	char			 host[RESOLVE_HOST_MAX + 1];
	int			 port;
	char			 entry[RESOLVE_ENTRY_MAX];	/* "" until known */
	bool			 failing;	/* logged once until it works */
	/* the lookup in progress: A and AAAA queries */
	int			 pending;
	bool			 stale;		/* the host changed meanwhile */
	char			 addrs[RESOLVE_ADDRS_MAX][INET6_ADDRSTRLEN + 2];
	size_t			 naddrs;
	int			 error;		/* a DNS_ERR_* of the lookup */
};

struct resolver {
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct config	*cfg;	/* the daemon's: reloads show here */
	struct resolve_host	 hosts[RESOLVE_HOSTS];
	size_t			 nhosts;
	struct event		*ev_refresh;
};

static void	resolver_lookup(struct resolver *, struct resolve_host *);
static void
resolver_log(int is_warning, const char *msg)
{
	log_debug("evdns: %s", msg);
}

/*
 * scheme://[user@]host[:port][/...] -> host and port (443 for https, 80
 * for http when absent). Returns -1 for what is no usable URL.
 */
static int
resolver_parse_url(const char *url, char *host, size_t size, int *port)
{
	const char *a, *end, *at, *h, *he, *pp = NULL;
	size_t hl;
	long v;
	char *ep;

	if ((a = strstr(url, "://")) == NULL)
		return -1;
	if ((size_t)(a - url) == 5 && strncasecmp(url, "https", 5) == 0)
		*port = 443;
	else if ((size_t)(a - url) == 4 && strncasecmp(url, "http", 4) == 0)
		*port = 80;
	else
		return -1;
	a += 3;
	end = a + strcspn(a, "/?#");
	for (at = end; at > a && at[-1] != '@'; at--)
		;
	if (at > a)
		a = at;
	if (*a == '[') {
		h = a + 1;
		if ((he = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		if (he + 1 < end) {
			if (he[1] != ':')
				return -1;
			pp = he + 2;
		}
	} else {
		h = a;
		if ((he = memchr(h, ':', (size_t)(end - h))) != NULL)
			pp = he + 1;
		else
			he = end;
	}
	hl = (size_t)(he - h);
	if (hl == 0 || hl >= size || hl > RESOLVE_HOST_MAX)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (pp != NULL && pp < end) {
		if (!isdigit((unsigned char)*pp))
			return -1;
		v = strtol(pp, &ep, 10);
		if (ep != end || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
	}
	return 0;
}

static bool
resolver_is_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

static bool
resolver_host_valid(const char *host)
{
	const char *s;

	for (s = host; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' &&
		    *s != '_')
			return false;
	return s != host;
}

static void
resolver_arm(struct resolver *r, int seconds)
{
	struct timeval tv = clock_tv((uint64_t)seconds * 1000);

	evtimer_add(r->ev_refresh, &tv);
}

/* Adds one address unless it is there already. */
static void
resolver_add_addr(struct resolve_host *h, int family, const void *src)
{
	char addr[INET6_ADDRSTRLEN], one[INET6_ADDRSTRLEN + 2];
	size_t i;

	if (h->naddrs >= RESOLVE_ADDRS_MAX ||
	    evutil_inet_ntop(family, src, addr, sizeof(addr)) == NULL)
		return;
	/* curl wants an IPv6 address in brackets */
	snprintf(one, sizeof(one), family == AF_INET6 ? "[%s]" : "%s", addr);
	for (i = 0; i < h->naddrs; i++)
		if (strcmp(h->addrs[i], one) == 0)
			return;
	memcpy(h->addrs[h->naddrs++], one, strlen(one) + 1);
}

/* The lookup is over: keep its answer, or the last good one. */
static void
resolver_finish(struct resolve_host *h)
{
	char entry[RESOLVE_ENTRY_MAX];
	size_t i, len;

	if (h->stale) {		/* a reload changed the host: start over */
		h->stale = false;
		resolver_lookup(h->r, h);
		return;
	}
	if (h->naddrs == 0) {
		if (!h->failing)
			log_info("cannot resolve %s: %s; workers get %s; "
			    "retrying every %d s", h->host,
			    evdns_err_to_string(h->error != DNS_ERR_NONE ?
			    h->error : DNS_ERR_NOTEXIST),
			    h->entry[0] != '\0' ? "the last addresses known" :
			    "no address for it", RESOLVE_RETRY_S);
		else
			log_debug("cannot resolve %s: %s", h->host,
			    evdns_err_to_string(h->error));
		h->failing = true;
		resolver_arm(h->r, RESOLVE_RETRY_S);
		return;
	}
	len = (size_t)snprintf(entry, sizeof(entry), "%s:%d:", h->host,
	    h->port);
	for (i = 0; i < h->naddrs && len < sizeof(entry); i++)
		len += (size_t)snprintf(entry + len, sizeof(entry) - len,
		    "%s%s", i > 0 ? "," : "", h->addrs[i]);
	if (len >= sizeof(entry))
		return;		/* cannot happen: the buffer fits them all */
	if (h->failing || strcmp(entry, h->entry) != 0)
		log_info("resolved %s", entry);
	h->failing = false;
	memcpy(h->entry, entry, len + 1);
}

static void
resolver_answer(int result, char type, int count, int ttl, void *addresses,
    void *arg)
{
	struct resolve_host *h = arg;
	int i;

	if (result == DNS_ERR_NONE && addresses != NULL) {
		for (i = 0; i < count; i++) {
			if (type == DNS_IPv4_A)
				resolver_add_addr(h, AF_INET,
				    (const uint32_t *)addresses + i);
			else if (type == DNS_IPv6_AAAA)
				resolver_add_addr(h, AF_INET6,
				    (const struct in6_addr *)addresses + i);
		}
	} else if (result != DNS_ERR_NONE && h->error == DNS_ERR_NONE)
		h->error = result;
	if (--h->pending == 0)
		resolver_finish(h);
}

/*
 * /etc/hosts first, read now (so an edit applies at the next refresh),
 * as the system's resolver would; 1 when it named the host.
 */
static int
resolver_from_hosts(struct resolve_host *h)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char line[1024], *s, *addr, *name, *save;
	int lines = 0, family;
	FILE *fp;

	if ((fp = fopen("/etc/hosts", "re")) == NULL)
		return 0;
	while (lines++ < 10000 && fgets(line, sizeof(line), fp) != NULL) {
		if ((s = strchr(line, '#')) != NULL)
			*s = '\0';
		if ((addr = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		if (inet_pton(AF_INET, addr, bin) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, addr, bin) == 1)
			family = AF_INET6;
		else
			continue;
		while ((name = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			if (strcasecmp(name, h->host) == 0) {
				resolver_add_addr(h, family, bin);
				break;
			}
	}
	fclose(fp);
	return h->naddrs > 0;
}

static void
resolver_lookup(struct resolver *r, struct resolve_host *h)
{
	struct evdns_request *q;

	if (h->pending > 0 || h->host[0] == '\0' ||
	    resolver_is_literal(h->host))
		return;
	h->naddrs = 0;
	h->error = DNS_ERR_NONE;
	if (resolver_from_hosts(h)) {
		resolver_finish(h);
		return;
	}
	/*
	 * The plain A and AAAA queries rather than evdns_getaddrinfo: at
	 * exit evdns_base_free discards them whole, where a getaddrinfo
	 * request still in flight would be leaked.
	 */
	h->pending = 2;
	if ((q = evdns_base_resolve_ipv4(r->dns, h->host, 0, resolver_answer,
	    h)) == NULL)
		resolver_answer(DNS_ERR_UNKNOWN, DNS_IPv4_A, 0, 0, NULL, h);
	if ((q = evdns_base_resolve_ipv6(r->dns, h->host, 0, resolver_answer,
	    h)) == NULL)
		resolver_answer(DNS_ERR_UNKNOWN, DNS_IPv6_AAAA, 0, 0, NULL, h);
}

static void
resolver_forget(struct resolve_host *h)
{
	memset(h->entry, 0, sizeof(h->entry));
	h->failing = false;
	/* a lookup in flight is for the old host: redo it when it ends */
	if (h->pending > 0)
		h->stale = true;
}

/* Takes the hosts from the configuration as it is now. */
static void
resolver_hosts(struct resolver *r)
{
	const char *urls[RESOLVE_HOSTS] = { r->cfg->trading_url,
	    r->cfg->data_url };
	char host[RESOLVE_HOST_MAX + 1];
	struct resolve_host *h;
	size_t i, j, n = 0;
	int port;

	for (i = 0; i < RESOLVE_HOSTS; i++) {
		if (urls[i] == NULL || urls[i][0] == '\0')
			continue;
		if (resolver_parse_url(urls[i], host, sizeof(host),
		    &port) == -1 || (!resolver_is_literal(host) &&
		    !resolver_host_valid(host))) {
			log_warnx("[alpaca] %s: cannot tell its host; workers "
			    "get no address for it", urls[i]);
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcasecmp(r->hosts[j].host, host) == 0 &&
			    r->hosts[j].port == port)
				break;
		if (j < n)
			continue;
		h = &r->hosts[n++];
		if (strcmp(h->host, host) != 0 || h->port != port) {
			resolver_forget(h);
			snprintf(h->host, sizeof(h->host), "%s", host);
			h->port = port;
		}
	}
	for (i = n; i < RESOLVE_HOSTS; i++) {
		resolver_forget(&r->hosts[i]);
		r->hosts[i].host[0] = '\0';
		r->hosts[i].port = 0;
	}
	r->nhosts = n;
}

static void
resolver_refresh(struct resolver *r)
{
	size_t i;

	resolver_hosts(r);
	resolver_arm(r, RESOLVE_REFRESH_S);
	for (i = 0; i < r->nhosts; i++)
		resolver_lookup(r, &r->hosts[i]);
}

static void
resolver_refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	resolver_refresh(arg);
}

struct resolver *
resolver_new(struct event_base *base, const struct config *cfg,
    struct tp_err *err)
{
	struct resolver *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	r->base = base;
	r->cfg = cfg;
	for (i = 0; i < RESOLVE_HOSTS; i++)
		r->hosts[i].r = r;
	evdns_set_log_fn(resolver_log);
	/* the loop must not stay alive for DNS alone */
	if ((r->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "cannot start the DNS resolver "
		    "(/etc/resolv.conf)");
		goto fail;
	}
	/* short, so a dead name server costs little; nothing waits anyway */
	evdns_base_set_option(r->dns, "timeout:", "3");
	evdns_base_set_option(r->dns, "attempts:", "2");
	if ((r->ev_refresh = evtimer_new(base, resolver_refresh_cb,
	    r)) == NULL) {
		tp_err_set(err, TP_INTERNAL, "cannot create the resolver's "
		    "timer");
		goto fail;
	}
	resolver_refresh(r);
	return r;
fail:
	resolver_free(r);
	return NULL;
}

json_object *
resolver_list(const struct resolver *r)
{
	json_object *a, *s;
	size_t i;

	if ((a = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < r->nhosts; i++) {
		if (r->hosts[i].entry[0] == '\0')
			continue;
		if ((s = json_object_new_string(r->hosts[i].entry)) == NULL ||
		    json_object_array_add(a, s) != 0)
			json_object_put(s);
	}
	return a;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	if (r->ev_refresh != NULL)
		event_free(r->ev_refresh);
	/* queries in flight go without their callbacks */
	if (r->dns != NULL)
		evdns_base_free(r->dns, 0);
	evdns_set_log_fn(NULL);
	free(r);
}
