/* alpaca_int.h: what the Alpaca client's files share: its request and client structures. */
#ifndef TP_ALPACA_INT_H
#define TP_ALPACA_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "common/api.h"
#include "worker/alpaca.h"

#define ALPACA_WHAT_MAX		96	/* "GET /v2/stocks/XYZ/bars" */
#define ALPACA_BODY_MIN		4096	/* first body buffer */
#define ALPACA_QUOTE_MAX	120	/* bytes of Alpaca's own message quoted */
#define ALPACA_UA		"tradepulse-worker"
/*
 * Transfers in libcurl at once. The others wait here, without an easy
 * handle (each holds buffers of some 20 KiB): a batch of 500 tenants
 * would otherwise hold 1000 handles while 64 connections serve them.
 */
#define ALPACA_RUNNING_MAX	(2 * ALPACA_CONNS_MAX)
#define ALPACA_KEY_MAX		(API_KEY_ID_MAX > API_SECRET_MAX ? \
				 API_KEY_ID_MAX : API_SECRET_MAX)

enum alpaca_state {
	ALPACA_WAITING,		/* for its start time: token, backoff, 429 */
	ALPACA_RUNNING,		/* an attempt is in libcurl */
	ALPACA_DONE,		/* finished; to be called back */
};

struct alpaca_req {
	TAILQ_ENTRY(alpaca_req) entry;
	struct alpaca		*a;
	enum alpaca_kind	 kind;
	enum alpaca_state	 state;
	char			*url;
	char			 what[ALPACA_WHAT_MAX];	/* for messages */
	struct alpaca_call	 call;
	alpaca_done_fn		*done;
	void			*arg;
	uint64_t		 start_at;	/* WAITING: not before */
	unsigned		 attempt;	/* attempts started */
	/* the attempt in flight */
	CURL			*easy;
	struct curl_slist	*hdrs;
	bool			 clipped;	/* its timeout is the deadline */
	char			 errbuf[CURL_ERROR_SIZE];	/* libcurl's
						   words: no secret in them */
	uint64_t		 timeout_ms;
	char			*body;
	size_t			 len, cap;
	bool			 too_large, oom;
	int64_t			 reset;		/* X-RateLimit-Reset, or -1 */
	/* the outcome */
	json_object		*reply;
	struct tp_err		 err;
};
TAILQ_HEAD(alpaca_reqq, alpaca_req);

struct alpaca_fd {
	curl_socket_t	 fd;
	int		 what;		/* CURL_POLL_IN, _OUT, _INOUT */
};

struct alpaca {
	CURLM			*multi;
	struct curl_slist	*resolve;
	char			*trading_url;
	char			*data_url;
	X509_STORE		*store;		/* the CA certificates, parsed
						   once for every connection */
	struct alpaca_fd	*fds;
	size_t			 nfds, capfds;
	int64_t			 timer;		/* libcurl's, monotonic ms */
	struct alpaca_reqq	 waiting, running, done;
	size_t			 npending;
	size_t			 nrunning;
	CURL			*idle[ALPACA_RUNNING_MAX];	/* easy handles
						   to reuse */
	size_t			 nidle;
};

/* alpaca_curl.c, for alpaca.c: libcurl's callbacks, the CA store, and one
 * request's attempts: started, ended, finished. */
int alpaca_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp);
int alpaca_timer_cb(CURLM *multi, long timeout_ms, void *userp);
int alpaca_store(struct alpaca *a, const void *pem, size_t len,
    struct tp_err *err);
void alpaca_end_attempt(struct alpaca_req *r);
void alpaca_start(struct alpaca_req *r, uint64_t now);
void alpaca_finished(struct alpaca_req *r, CURLcode res);

#endif
