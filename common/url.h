/* url.h: the URLs the daemon and its tools fetch from: https://, or plain http:// on a loopback address only. */
#ifndef TP_URL_H
#define TP_URL_H

#include <stddef.h>

enum url_kind {
	URL_BAD,		/* anything else */
	URL_HTTPS,		/* https://HOST... */
	URL_LOOPBACK_HTTP,	/* http://127.0.0.1, localhost or [::1], then
				   ":PORT", "/..." or nothing */
};

/*
 * What url is: at most max bytes, no byte a header or a log line could be
 * cut with (controls, spaces, non-ASCII), https:// with a host, or plain
 * http:// to a loopback address (a test's server, the emulator).
 */
enum url_kind url_check(const char *url, size_t max);

#endif
