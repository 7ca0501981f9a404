/* config_int.h: what config.c and config_value.c share: the kinds of value, units, the value checks. */
#ifndef TP_CONFIG_INT_H
#define TP_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIB	UINT64_C(1024)
#define MIB	(KIB * 1024)
#define GIB	(MIB * 1024)
#define TIB	(GIB * 1024)
#define SEC	UINT64_C(1000)
#define MINUTE	(SEC * 60)
#define HOUR	(MINUTE * 60)
#define DAY	(HOUR * 24)

enum config_kind {
	KIND_PATH,		/* file or folder; relative to the config file */
	KIND_ENDPOINT,		/* ipc://path; for api also tcp://host:port
				   (with CURVE, config_finish_curve) */
	KIND_HOSTPORT,		/* host:port */
	KIND_URL,		/* http:// or https:// */
	KIND_CERTS,		/* https:// URL or a path */
	KIND_WORD,		/* printable ASCII, no spaces */
	KIND_USER,		/* a user name */
	KIND_BACKEND,		/* sqlite | firestore */
	KIND_SYNC,		/* normal | full, stored as a bool */
	KIND_U32,
	KIND_SIZE,
	KIND_DURATION,
	KIND_BOOL,
	KIND_DECIMAL,		/* a decimal number kept as its text; min
				   and max in millionths */
	KIND_ORIGIN,		/* http(s)://host[:port], nothing after */
	KIND_LOGDEST,		/* syslog | stderr | a file's path */
};

/* Parses 1..20 decimal digits at *s, advancing it; -1 on overflow. */
int config_parse_digits(const char **s, uint64_t *v);
/* Joins a relative path to the config file's folder, dropping "." and
 * empty segments; ".." is kept, since it cannot be resolved lexically. */
int config_abspath(const char *dir, const char *rel, char *out, size_t size);
bool config_printable(const char *v, bool spaces);
/* host:port with a port of 1..65535; an IPv6 host in brackets. */
bool config_hostport(const char *v);
bool config_url(const char *v);
/* http:// or https:// then a host of [A-Za-z0-9.-] (or [IPv6]) and an
 * optional :port; no path, so it can go into a CSP source list as is. */
bool config_origin(const char *v);
bool config_user(const char *v);
/* A limit written the way the file would write it: 64M, 30s, 1000. */
void config_fmt(enum config_kind kind, uint64_t v, char *buf, size_t size);

#endif
