/* url.c: the URLs the daemon and its tools fetch from: https://, or plain http:// on a loopback address only. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <string.h>

#include "common/url.h"

enum url_kind
url_check(const char *url, size_t max)
{
	static const char *const loop[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]", NULL
	};
	size_t i, n;

	if (url == NULL || strlen(url) > max)
		return URL_BAD;
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return URL_BAD;
	if (strncmp(url, "https://", 8) == 0)
		return url[8] != '\0' && url[8] != '/' ? URL_HTTPS : URL_BAD;
	for (i = 0; loop[i] != NULL; i++) {
		n = strlen(loop[i]);
		if (strncmp(url, loop[i], n) == 0 &&
		    (url[n] == ':' || url[n] == '/' || url[n] == '\0'))
			return URL_LOOPBACK_HTTP;
	}
	return URL_BAD;
}
