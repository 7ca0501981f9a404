/* config_value.c: the configuration's value syntax: durations, sizes, booleans, paths, host:port, URLs, user names. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/config_int.h"

/* Parses 1..20 decimal digits at *s, advancing it; -1 on overflow. */
int
config_parse_digits(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*v = n;
	return 0;
}

static int
config_mul(uint64_t v, uint64_t m, uint64_t *out)
{
	if (m != 0 && v > UINT64_MAX / m)
		return -1;
	*out = v * m;
	return 0;
}

int
config_parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "", SEC }, { "ms", 1 }, { "s", SEC }, { "m", MINUTE },
		{ "h", HOUR }, { "d", DAY },
	};
	uint64_t v;
	size_t i;

	if (s == NULL || config_parse_digits(&s, &v) == -1)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s, units[i].unit) == 0)
			return config_mul(v, units[i].ms, ms);
	return -1;
}

int
config_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v, m;

	if (s == NULL || config_parse_digits(&s, &v) == -1)
		return -1;
	switch (s[0]) {
	case '\0':
		*bytes = v;
		return 0;
	case 'k': case 'K':
		m = KIB;
		break;
	case 'm': case 'M':
		m = MIB;
		break;
	case 'g': case 'G':
		m = GIB;
		break;
	default:
		return -1;
	}
	if (s[1] != '\0')
		return -1;
	return config_mul(v, m, bytes);
}

int
config_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

/* Joins a relative path to the config file's folder, dropping "." and
 * empty segments; ".." is kept, since it cannot be resolved lexically. */
int
config_abspath(const char *dir, const char *rel, char *out, size_t size)
{
	const char *seg, *end;
	size_t len, n;

	if (rel[0] == '/') {
		n = (size_t)snprintf(out, size, "%s", rel);
		return n < size ? 0 : -1;
	}
	len = (size_t)snprintf(out, size, "%s", strcmp(dir, "/") ? dir : "");
	if (len >= size)
		return -1;
	for (seg = rel; *seg != '\0'; seg = *end ? end + 1 : end) {
		end = strchrnul(seg, '/');
		n = (size_t)(end - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (len + 1 + n >= size)
			return -1;
		out[len++] = '/';
		memcpy(out + len, seg, n);
		len += n;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return 0;
}

bool
config_printable(const char *v, bool spaces)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < (spaces ? 0x20 : 0x21) ||
		    (unsigned char)*v > 0x7e)
			return false;
	return true;
}

/* host:port with a port of 1..65535; an IPv6 host in brackets. */
bool
config_hostport(const char *v)
{
	const char *colon;
	uint64_t port;

	if (v[0] == '[') {
		if ((colon = strstr(v, "]:")) == NULL || colon == v + 1)
			return false;
		colon++;
	} else if ((colon = strrchr(v, ':')) == NULL || colon == v ||
	    memchr(v, ':', (size_t)(colon - v)) != NULL)
		return false;
	colon++;
	if (config_parse_digits(&colon, &port) == -1 || *colon != '\0')
		return false;
	return port >= 1 && port <= 65535 && config_printable(v, false);
}

bool
config_url(const char *v)
{
	const char *host;

	if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return false;
	return *host != '\0' && *host != '/' && config_printable(v, false);
}

bool
config_origin(const char *v)
{
	const char *h;
	size_t i;

	if (!config_url(v) || strlen(v) > 255)
		return false;
	h = strstr(v, "://") + 3;
	if (h[0] == '[') {
		for (i = 1; h[i] != '\0' && h[i] != ']'; i++)
			if (!(isxdigit((unsigned char)h[i]) || h[i] == ':'))
				return false;
		return h[i] == ']' && (h[i + 1] == '\0' ||
		    (h[i + 1] == ':' && config_hostport(h)));
	}
	for (i = 0; h[i] != '\0' && h[i] != ':'; i++)
		if (!(isalnum((unsigned char)h[i]) || h[i] == '.' ||
		    h[i] == '-'))
			return false;
	return i > 0 && (h[i] == '\0' || config_hostport(h));
}

bool
config_user(const char *v)
{
	size_t i;

	if (v[0] == '-')
		return false;
	for (i = 0; v[i] != '\0'; i++)
		if (i == 32 || !(isalnum((unsigned char)v[i]) ||
		    v[i] == '_' || v[i] == '-' || v[i] == '.'))
			return false;
	return true;
}

/* A limit written the way the file would write it: 64M, 30s, 1000. */
void
config_fmt(enum config_kind kind, uint64_t v, char *buf, size_t size)
{
	static const struct { uint64_t m; const char *unit; } sizes[] = {
		{ TIB, "T" }, { GIB, "G" }, { MIB, "M" }, { KIB, "K" },
	}, durations[] = {
		{ DAY, "d" }, { HOUR, "h" }, { MINUTE, "m" }, { SEC, "s" },
	};
	const char *unit = kind == KIND_DURATION ? "ms" : "";
	size_t i;

	for (i = 0; i < 4 && v != 0 && kind != KIND_U32; i++) {
		uint64_t m = kind == KIND_SIZE ? sizes[i].m : durations[i].m;

		if (v % m == 0) {
			v /= m;
			unit = kind == KIND_SIZE ? sizes[i].unit :
			    durations[i].unit;
			break;
		}
	}
	snprintf(buf, size, "%llu%s", (unsigned long long)v, unit);
}
