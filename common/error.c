/* error.c: filling in and naming error values. */
#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
	[TP_OK] = "ok",
	[TP_INVALID_ARGUMENT] = "invalid_argument",
	[TP_UNAUTHENTICATED] = "unauthenticated",
	[TP_PERMISSION_DENIED] = "permission_denied",
	[TP_NOT_FOUND] = "not_found",
	[TP_ALREADY_EXISTS] = "already_exists",
	[TP_FAILED_PRECONDITION] = "failed_precondition",
	[TP_RESOURCE_EXHAUSTED] = "resource_exhausted",
	[TP_UNAVAILABLE] = "unavailable",
	[TP_DEADLINE_EXCEEDED] = "deadline_exceeded",
	[TP_INTERNAL] = "internal",
};

int
tp_err_set(struct tp_err *err, enum tp_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
tp_err_errno(struct tp_err *err, enum tp_code code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t n;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

void
tp_err_clear(struct tp_err *err)
{
	if (err == NULL)
		return;
	err->code = TP_OK;
	err->msg[0] = '\0';
}

const char *
tp_code_name(enum tp_code code)
{
	if ((size_t)code >= sizeof(code_names) / sizeof(code_names[0]) ||
	    code_names[code] == NULL)
		return "internal";
	return code_names[code];
}

enum tp_code
tp_code_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++)
		if (code_names[i] != NULL && strcmp(code_names[i], name) == 0)
			return (enum tp_code)i;
	return TP_INTERNAL;
}

const char *
tp_err_shown(const char *s, char *buf, size_t size)
{
	size_t i;

	if (size == 0)
		return buf;
	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}
