/* jsontext.h: J(), test JSON from text, for the unit tests that build documents. */
#ifndef TP_TESTS_JSONTEXT_H
#define TP_TESTS_JSONTEXT_H

#include <json-c/json.h>

/* text parsed with json_parse; a parse failure fails the test. */
json_object *J(const char *text);

#endif
