/* jsontext.c: J(), test JSON from text, for the unit tests that build documents. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "tests/unit/jsontext.h"

#include <criterion/criterion.h>

#include <string.h>

#include "common/jsonutil.h"

json_object *
J(const char *text)
{
	struct tp_err e;
	json_object *o = json_parse(text, strlen(text), &e);

	cr_assert_not_null(o, "bad test JSON %s: %s", text, e.msg);
	return o;
}
