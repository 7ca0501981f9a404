/* error.h: the error value every fallible function fills in for its caller. */
#ifndef TP_ERROR_H
#define TP_ERROR_H

#include <stddef.h>

/*
 * Codes follow the seed's callable-function error codes, so an error can
 * travel from the store up to an API reply without being translated twice.
 */
enum tp_code {
	TP_OK = 0,
	TP_INVALID_ARGUMENT,
	TP_UNAUTHENTICATED,
	TP_PERMISSION_DENIED,
	TP_NOT_FOUND,
	TP_ALREADY_EXISTS,
	TP_FAILED_PRECONDITION,
	TP_RESOURCE_EXHAUSTED,
	TP_UNAVAILABLE,
	TP_DEADLINE_EXCEEDED,
	TP_INTERNAL,
};

#define TP_ERR_MSG_MAX 256

struct tp_err {
	enum tp_code code;
	char msg[TP_ERR_MSG_MAX];
};

/* Sets *err (if err is not NULL) and returns -1, so callers can write
 * `return tp_err_set(err, TP_NOT_FOUND, "no document %s", path);`. */
int tp_err_set(struct tp_err *err, enum tp_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like tp_err_set, with ": strerror(errno)" appended. */
int tp_err_errno(struct tp_err *err, enum tp_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tp_err_clear(struct tp_err *err);
/* The wire name of a code: "invalid_argument", "not_found", ... */
const char *tp_code_name(enum tp_code code);
/* Parses a wire name; returns TP_INTERNAL for an unknown one. */
enum tp_code tp_code_parse(const char *name);

/* A copy of text from outside for a message: printable ASCII only ('?'
 * for anything else), cut to fit buf; returns buf. */
const char *tp_err_shown(const char *s, char *buf, size_t size);

#endif
