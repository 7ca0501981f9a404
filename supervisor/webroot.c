/* webroot.c: the dashboard's static files from [daemon] web_root: / and /assets/NAME, regular files under the root only, a fixed type table, ETags. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "common/log.h"
#include "supervisor/daemon.h"
#include "supervisor/userapi.h"
#include "supervisor/userapi_int.h"

#define WEBROOT_NAME_MAX	128		/* /assets/ NAME, bytes */
#define WEBROOT_FILE_MAX	(4 * 1024 * 1024)	/* a file, bytes */

/* The types served; a file of any other kind is not (404). */
static const struct {
	const char	*ext;
	const char	*type;
} webroot_types[] = {
	{ ".html",	"text/html; charset=utf-8" },
	{ ".js",	"text/javascript; charset=utf-8" },
	{ ".mjs",	"text/javascript; charset=utf-8" },
	{ ".css",	"text/css; charset=utf-8" },
	{ ".json",	"application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".svg",	"image/svg+xml" },
	{ ".png",	"image/png" },
	{ ".ico",	"image/x-icon" },
	{ ".woff2",	"font/woff2" },
	{ ".txt",	"text/plain; charset=utf-8" },
};

static const char *
webroot_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot != NULL &&
	    i < sizeof(webroot_types) / sizeof(webroot_types[0]); i++)
		if (strcmp(dot, webroot_types[i].ext) == 0)
			return webroot_types[i].type;
	return NULL;
}

/* Segments of [A-Za-z0-9_.-], none starting with '.', joined by '/'. The
 * path is not percent-decoded, so "%2e%2e" is refused here too. */
static bool
webroot_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > WEBROOT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (ch == '/') {
			if (i == 0 || name[i - 1] == '/' || i + 1 == n)
				return false;
			continue;
		}
		if (ch == '.' && (i == 0 || name[i - 1] == '/'))
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    ch == '.'))
			return false;
	}
	return true;
}

static void
webroot_reply(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *b = evbuffer_new();

	userapi_headers(req, false);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	if (b != NULL)
		evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/*
 * The file's real path must lie under the root's (no symbolic link out
 * of it, whatever the name), be a regular file, and be small. It is
 * opened with O_NOFOLLOW, after the check, so a link swapped in between
 * is refused too.
 */
static int
webroot_open(const char *root, const char *name, struct stat *st)
{
	char rroot[PATH_MAX], rfile[PATH_MAX], path[PATH_MAX];
	size_t n;
	int fd;

	if (realpath(root, rroot) == NULL)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", rroot, name) >=
	    sizeof(path) || realpath(path, rfile) == NULL)
		return -1;
	n = strlen(rroot);
	if (strncmp(rfile, rroot, n) != 0 || rfile[n] != '/')
		return -1;
	if ((fd = open(rfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_size > WEBROOT_FILE_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

bool
webroot_serve(struct daemon *d, struct evhttp_request *req, const char *path)
{
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *name, *type, *inm;
	struct evbuffer *b;
	struct stat st;
	char etag[64];
	int fd;

	if (strcmp(path, "/") == 0)
		name = "index.html";
	else if (strncmp(path, "/assets/", 8) == 0)
		name = path + 8;
	else
		return false;	/* http.c's: /healthz, /metrics, 404 */
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(hd, "Allow", "GET, HEAD");
		webroot_reply(req, 405, "Method Not Allowed",
		    "method not allowed");
		return true;
	}
	if (!webroot_name_ok(name) || (type = webroot_type(name)) == NULL ||
	    (fd = webroot_open(d->cfg.web_root, name, &st)) == -1) {
		webroot_reply(req, HTTP_NOTFOUND, "Not Found", "not found");
		return true;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"",
	    (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	userapi_headers(req, false);
	evhttp_add_header(hd, "ETag", etag);
	/* revalidated each time: a new install shows at once */
	evhttp_add_header(hd, "Cache-Control", "no-cache");
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return true;
	}
	evhttp_add_header(hd, "Content-Type", type);
	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add_file(b, fd, 0, st.st_size) == -1) {
		if (b == NULL)
			close(fd);
		evbuffer_free(b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return true;
	}
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
	return true;
}
