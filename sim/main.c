/* main.c: alpaca-sim: arguments, the listening socket, signals, the event loop and a clean exit. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "common/config.h"
#include "common/log.h"
#include "common/htab.h"
#include "sim/market.h"
#include "sim/sim.h"

#define SIM_DEFAULT_PORT	18080
#define SIM_BACKLOG		4096

static void
sim_usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-q] [--bind addr] [--port n] [--port-file file] "
	    "[--seed n]\n"
	    "       %*s [--latency duration] [--rate-limit n]\n"
	    "       %s -h | --help\n", SIM_NAME, (int)strlen(SIM_NAME), "",
	    SIM_NAME);
}

static void
sim_help(void)
{
	printf(
"NAME\n"
"     alpaca-sim - a local Alpaca paper broker and market-data server for\n"
"     the tradepulse demo, tests and benchmarks\n"
"\n"
"SYNOPSIS\n"
"     alpaca-sim [-q] [--bind addr] [--port n] [--port-file file] [--seed n]\n"
"                [--latency duration] [--rate-limit n]\n"
"     alpaca-sim -h | --help\n"
"\n"
"DESCRIPTION\n"
"     alpaca-sim serves the parts of Alpaca's Trading API (v2) and Market\n"
"     Data API (v2) that tradepulse uses, on one plain-HTTP port with\n"
"     keep-alive, so trading_url and data_url are both http://ADDR:PORT.\n"
"     Field names and types follow Alpaca's OpenAPI documents: money in\n"
"     the Trading API as decimal strings, market data as JSON numbers.\n"
"     Every figure follows from the seed: two runs with the same seed and\n"
"     the same control calls give the same replies, byte for byte.\n"
"\n"
"     It runs in the foreground with one thread, logs to standard error,\n"
"     and stops cleanly on SIGTERM or SIGINT.\n"
"\n"
"OPTIONS\n"
"     --bind addr\n"
"             Listen on addr (default 127.0.0.1; IPv6 as ::1).\n"
"     --port n\n"
"             Listen on port n (default %d); 0 picks a free port.\n"
"     --port-file file\n"
"             Once listening, write the port (one line) to file, through a\n"
"             temporary file and a rename, so a reader never sees half.\n"
"     --seed n\n"
"             The seed of prices, bars, ids and the clock (default 1).\n"
"     --latency duration\n"
"             Delay every API reply by duration (500ms, 2s; default 0),\n"
"             on a timer: other requests go on meanwhile.\n"
"     --rate-limit n\n"
"             Requests per minute per key (default 200, as Alpaca); 0\n"
"             turns the limit and the X-RateLimit-* headers off.\n"
"     -q      Quiet: no start-up line and no log of control calls.\n"
"     -h, --help\n"
"             Print this help and exit.\n"
"\n"
"API (GET; headers APCA-API-KEY-ID and APCA-API-SECRET-KEY)\n"
"     /v2/account                       the key's account\n"
"     /v2/positions                     its positions, marked to market\n"
"     /v2/clock                         the market clock\n"
"     /v2/stocks/{symbol}/trades/latest the latest trade of a symbol\n"
"     /v2/stocks/trades/latest?symbols=A,B,...\n"
"             the latest trades of up to 2000 symbols; unknown symbols\n"
"             are left out of the \"trades\" map\n"
"     /v2/stocks/{symbol}/bars?timeframe=TF\n"
"             bars, with start, end (RFC 3339 or YYYY-MM-DD), limit (1 to\n"
"             10000, default 1000), sort (asc, desc) and page_token (the\n"
"             next_page_token of the previous page). TF is [1-59]Min,\n"
"             [1-23]Hour, 1Day, 1Week or [1,2,3,4,6,12]Month (T, H, D, W\n"
"             and M too). start defaults to 00:00 UTC of the sim's day,\n"
"             end to its now.\n"
"\n"
"     A missing or wrong key or secret gets 401 {\"code\": 40110000,\n"
"     \"message\": \"request is not authorized\"}. Past the rate limit a\n"
"     key gets 429 {\"code\": 42910000, ...} until its minute is over; the\n"
"     minute starts with the key's first request. Every authenticated\n"
"     reply carries X-RateLimit-Limit, X-RateLimit-Remaining and\n"
"     X-RateLimit-Reset (unix seconds when the minute ends). Errors are\n"
"     {\"code\": STATUS*100000+10000, \"message\": ...}: 400 for a bad query\n"
"     or symbol, 404 for an unknown path or the single latest trade of an\n"
"     unknown symbol, 405 for a method other than GET.\n"
"\n"
"MARKET\n"
"     A symbol is 1 to 16 of A-Z 0-9 . / -, starting with a letter or a\n"
"     digit. Every such symbol is known, with a price of $10.00 to $499.99\n"
"     drawn from the seed, except those starting with ZZ and those set\n"
"     unknown through /_sim/prices. The clock is frozen at 15:30 UTC of a\n"
"     weekday of 2024 picked by the seed; the market is open on weekdays\n"
"     from 14:30 to 21:00 UTC (no holidays, no daylight saving). Bars are\n"
"     aligned to their timeframe in UTC (weeks start on Monday), never\n"
"     later than now, and the same in every query.\n"
"\n"
"CONTROL API (loopback clients only, others get 403; JSON)\n"
"     POST /_sim/accounts\n"
"             {\"key_id\": K, \"secret\": S, ...} or {\"accounts\": [...]}\n"
"             adds or replaces accounts. Optional fields are those of\n"
"             /v2/account (money as decimal strings or numbers, status one\n"
"             of Alpaca's) and \"positions\": [{\"symbol\", \"qty\",\n"
"             \"avg_entry_price\", \"side\"}]. Unknown fields are refused.\n"
"             Only a keyed hash of the secret is kept.\n"
"     POST /_sim/prices\n"
"             {\"AAPL\": \"187.25\", \"ZZZZ\": null}: sets prices (at most\n"
"             6 decimals); null makes a symbol unknown.\n"
"     POST /_sim/bars\n"
"             {\"symbol\": \"AAPL\", \"closes\": [\"101.5\", ...]}: the\n"
"             symbol's 1Day bars become exactly these closes, oldest first,\n"
"             the last one today's and each earlier one a day before (open\n"
"             at the previous close); an empty list forgets them. Reset\n"
"             with {\"all\": true} forgets them too.\n"
"     POST /_sim/behaviour\n"
"             {\"key_id\": K, \"behaviour\": B, \"status\": N, \"latency\": D}\n"
"             makes every API reply to key K (after authentication and the\n"
"             rate limit) behave as B:\n"
"             normal       the normal reply\n"
"             status       HTTP status N with an error body\n"
"             latency      the normal reply after D (\"5s\", or a number of\n"
"                          milliseconds) instead of --latency\n"
"             malformed    a body that is not JSON\n"
"             truncated    Content-Length of the whole body, half of it\n"
"                          sent, then the connection closed\n"
"             huge         a 64 MiB JSON body, streamed\n"
"             deep         JSON nested 100,000 deep\n"
"             wrong_types  spec fields with other types (equity an object,\n"
"                          status a number, bars' close a string, ...)\n"
"             bad_utf8     a string holding bytes that are not UTF-8\n"
"             drip         the normal reply, chunked, one byte a second\n"
"             silent       no reply; the request is held until the client\n"
"                          goes away\n"
"     GET /_sim/stats\n"
"             {\"ok\": true, \"requests\": {\"account\", \"positions\",\n"
"             \"clock\", \"trades_latest\", \"trades_latest_multi\", \"bars\",\n"
"             \"unauthorized\", \"rate_limited\", \"not_found\", \"total\"},\n"
"             \"accounts\", \"pending\"}: requests per endpoint (counted\n"
"             before authentication), refused ones, and all API requests.\n"
"     POST /_sim/reset\n"
"             Zeroes the counters; {\"behaviours\": true} also makes every\n"
"             key normal, {\"all\": true} drops all accounts and prices.\n"
"\n"
"EXIT STATUS\n"
"     0 after SIGTERM or SIGINT, 1 on a start-up error, 2 on bad\n"
"     arguments.\n"
"\n"
"EXAMPLES\n"
"     alpaca-sim --port 0 --port-file /tmp/sim.port --seed 7 &\n"
"     curl -d '{\"key_id\":\"PKDEMO\",\"secret\":\"s3cret\"}' \\\n"
"         http://127.0.0.1:$(cat /tmp/sim.port)/_sim/accounts\n", SIM_DEFAULT_PORT);
}

static void
sim_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sim *s = arg;

	(void)what;
	if (!s->quiet)
		log_info("%s, stopping", strsignal(sig));
	event_base_loopbreak(s->base);
}

static void
sim_on_request(struct evhttp_request *req, void *arg)
{
	struct sim *s = arg;
	const char *path;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path != NULL && strncmp(path, "/_sim/", 6) == 0)
		sim_control_request(s, req);
	else
		sim_api_request(s, req);
}

/* Writes "port\n" to file through a temporary file and a rename. */
static int
sim_write_port(const char *file, int port, struct tp_err *err)
{
	char tmp[PATH_MAX];
	FILE *fp;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", file, (long)getpid()) >=
	    (int)sizeof(tmp))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s: path too long", file);
	if ((fp = fopen(tmp, "w")) == NULL)
		return tp_err_errno(err, TP_UNAVAILABLE, "%s", tmp);
	fprintf(fp, "%d\n", port);
	if (fclose(fp) == EOF) {
		unlink(tmp);
		return tp_err_errno(err, TP_UNAVAILABLE, "%s", tmp);
	}
	if (rename(tmp, file) == -1) {
		unlink(tmp);
		return tp_err_errno(err, TP_UNAVAILABLE, "%s", file);
	}
	return 0;
}

static int
sim_listen(struct sim *s, const char *bind_addr, int port, int *bound,
    struct tp_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct evconnlistener *lev;
	char spec[300];
	int len = (int)sizeof(ss);

	/* libevent refuses port 0 here: parse with 1, then set the port */
	snprintf(spec, sizeof(spec), strchr(bind_addr, ':') != NULL ?
	    "[%s]:1" : "%s:1", bind_addr);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &len) ==
	    -1)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "--bind %s: not an IP address", bind_addr);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	snprintf(spec, sizeof(spec), strchr(bind_addr, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", bind_addr, port);
	lev = evconnlistener_new_bind(s->base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    SIM_BACKLOG, (struct sockaddr *)&ss, len);
	if (lev == NULL)
		return tp_err_errno(err, TP_UNAVAILABLE, "cannot listen on %s",
		    spec);
	if ((s->sock = evhttp_bind_listener(s->http, lev)) == NULL) {
		evconnlistener_free(lev);
		return tp_err_set(err, TP_INTERNAL, "evhttp_bind_listener");
	}
	if (getsockname(evhttp_bound_socket_get_fd(s->sock),
	    (struct sockaddr *)&ss, &sl) == -1)
		return tp_err_errno(err, TP_INTERNAL, "getsockname");
	*bound = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static int
sim_parse_u64(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	if (*v < '0' || *v > '9' || ((n = strtoull(v, &end, 10)), errno != 0) ||
	    *end != '\0' || n > max) {
		fprintf(stderr, "%s: %s \"%s\": a whole number from 0 to %" PRIu64
		    " expected\n", SIM_NAME, opt, v, max);
		return -1;
	}
	*out = n;
	return 0;
}

static void
sim_free(struct sim *s)
{
	/* Freeing the server closes every connection; the close callbacks
	 * release the replies that were still pending. */
	if (s->http != NULL)
		evhttp_free(s->http);
	sim_pending_free_all(s);
	if (s->sigterm != NULL)
		event_free(s->sigterm);
	if (s->sigint != NULL)
		event_free(s->sigint);
	if (s->accounts != NULL)
		sim_accounts_free(s);
	market_free(s->market);
	if (s->base != NULL)
		event_base_free(s->base);
	libevent_global_shutdown();
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "seed", required_argument, NULL, 's' },
		{ "latency", required_argument, NULL, 'l' },
		{ "rate-limit", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim s;
	struct tp_err err;
	const char *bind_addr = "127.0.0.1", *port_file = NULL;
	struct event_config *cfg = NULL;
	uint64_t port = SIM_DEFAULT_PORT, v;
	int ch, bound = 0, rc = 1;

	memset(&s, 0, sizeof(s));
	s.seed = 1;
	s.rate_limit = 200;
	while ((ch = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bind_addr = optarg;
			break;
		case 'p':
			if (sim_parse_u64("--port", optarg, 65535, &port) == -1)
				return 2;
			break;
		case 'P':
			port_file = optarg;
			break;
		case 's':
			if (sim_parse_u64("--seed", optarg, UINT64_MAX,
			    &s.seed) == -1)
				return 2;
			break;
		case 'l':
			if (config_parse_duration(optarg, &s.latency_ms) == -1 ||
			    s.latency_ms > 3600 * 1000) {
				fprintf(stderr, "%s: --latency \"%s\": a duration "
				    "like 20ms, 2s or 0, at most 1h, expected\n",
				    SIM_NAME, optarg);
				return 2;
			}
			break;
		case 'r':
			if (sim_parse_u64("--rate-limit", optarg, 1000000000,
			    &v) == -1)
				return 2;
			s.rate_limit = (uint32_t)v;
			break;
		case 'q':
			s.quiet = true;
			break;
		case 'h':
			sim_help();
			return 0;
		default:
			sim_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", SIM_NAME,
		    argv[optind]);
		sim_usage(stderr);
		return 2;
	}
	log_init(1, SIM_NAME);
	if (sodium_init() == -1) {
		log_warnx("libsodium cannot start");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	tp_err_clear(&err);
	/* The changelist folds the epoll_ctl calls of evhttp's per-request
	 * read/write toggling into one per loop: about a fifth of the CPU. */
	if ((cfg = event_config_new()) == NULL ||
	    event_config_set_flag(cfg,
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == -1 ||
	    (s.base = event_base_new_with_config(cfg)) == NULL ||
	    (s.http = evhttp_new(s.base)) == NULL ||
	    (s.market = market_new(s.seed)) == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	if (sim_accounts_init(&s, &err) == -1) {
		log_warnx("%s", err.msg);
		goto out;
	}
	evhttp_set_max_body_size(s.http, SIM_CONTROL_MAX_BODY);
	evhttp_set_gencb(s.http, sim_on_request, &s);
	if ((s.sigterm = evsignal_new(s.base, SIGTERM, sim_on_signal, &s)) ==
	    NULL || (s.sigint = evsignal_new(s.base, SIGINT, sim_on_signal,
	    &s)) == NULL || evsignal_add(s.sigterm, NULL) == -1 ||
	    evsignal_add(s.sigint, NULL) == -1) {
		log_warnx("cannot handle signals");
		goto out;
	}
	if (sim_listen(&s, bind_addr, (int)port, &bound, &err) == -1 ||
	    (port_file != NULL && sim_write_port(port_file, bound, &err) == -1)) {
		log_warnx("%s", err.msg);
		goto out;
	}
	if (!s.quiet)
		log_info("listening on %s port %d (seed %" PRIu64 ", latency "
		    "%" PRIu64 "ms, rate limit %" PRIu32 "/min%s)", bind_addr,
		    bound, s.seed, s.latency_ms, s.rate_limit,
		    s.rate_limit == 0 ? ": off" : "");
	if (event_base_dispatch(s.base) == -1)
		log_warnx("event loop failed");
	else
		rc = 0;
out:
	if (cfg != NULL)
		event_config_free(cfg);
	sim_free(&s);
	return rc;
}
