/* output.c: messages, JSON output and the human text of reply values. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/jsonutil.h"

char *
cli_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *q;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (q = out; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			*q++ = '?';
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls (CSI and friends). */
			*q++ = '?';
			p++;
		} else
			*q++ = (char)*p;
	}
	*q = '\0';
	return out;
}

void
cli_warnx(const char *fmt, ...)
{
	char msg[2048], *safe;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	safe = cli_sanitize(msg);
	fprintf(stderr, "tradepulse: %s\n", safe != NULL ? safe : msg);
	free(safe);
}

void
cli_print_json(json_object *o)
{
	size_t len;
	const char *s = json_compact(o, &len);

	if (s == NULL) {
		cli_warnx("cannot serialize the reply");
		return;
	}
	fwrite(s, 1, len, stdout);
	fputc('\n', stdout);
}

const char *
cli_text(json_object *o)
{
	if (o == NULL)
		return "-";
	if (json_object_is_type(o, json_type_string))
		return json_object_get_string(o);
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *
cli_str(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	/* a number as its text: money is a number in the snapshot */
	if (json_object_object_get_ex(o, key, &v) && (json_object_is_type(v,
	    json_type_string) || json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int)))
		return json_object_get_string(v);
	return dflt;
}

void
cli_duration(char *buf, size_t size, long long ms)
{
	long long s = ms / 1000;

	if (ms < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, size, "%lldd %lldh %lldm %llds", s / 86400,
		    s / 3600 % 24, s / 60 % 60, s % 60);
	else if (s >= 3600)
		snprintf(buf, size, "%lldh %lldm %llds", s / 3600, s / 60 % 60,
		    s % 60);
	else if (s >= 60)
		snprintf(buf, size, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, size, "%llds", s);
}
