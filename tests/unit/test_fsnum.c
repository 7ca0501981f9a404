/* test_fsnum.c: numbers' exact texts kept beside their Firestore doubles: split, patch and join, through the codec and the real emulator. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/fsnum.h"
#include "common/fsvalue.h"
#include "common/jsonutil.h"
#include "common/store.h"
#include "tests/unit/jsontext.h"

#define DOC "tenants/t1/trades/x1"

static struct tp_err err;

/* compact text of o; the string lives as long as o */
static const char *
text(json_object *o)
{
	return json_compact(o, NULL);
}

/* Numbers that need an entry, and ones that do not, in maps and arrays. */
static const char *const mixed =
	"{\"pnl_percent\":-20.0020,\"unrealized_pnl\":370.01,\"qty\":10,"
	"\"m\":{\"x\":0.10,\"y\":12.5,\"z\":{\"e\":1e3,\"w\":1000.0,"
	"\"s\":\"0.10\"}},"
	"\"arr\":[1,0.10,{\"q\":122011.09751111286868,\"r\":12.5},\"s\",null],"
	"\"flat\":[12.5,370.01],\"neg\":-0.0,\"empty\":{},\"none\":null}";
static const char *const mixed_texts =
	"{\"pnl_percent\":\"-20.0020\",\"m\":{\"x\":\"0.10\",\"z\":{\"w\":"
	"\"1000.0\"}},\"arr\":[null,\"0.10\",{\"q\":\"122011.09751111286868\"},"
	"null,null],\"neg\":\"-0.0\"}";

Test(fsnum, split_puts_texts_beside_plain_doubles)
{
	json_object *data = J(mixed), *plain, *texts, *fields, *f;

	cr_assert_eq(fsnum_split(data, &plain, &texts, &err), 0, "%s",
	    err.msg);
	cr_assert_not_null(texts);
	cr_assert_str_eq(text(texts), mixed_texts);
	/* the same shape and values; a deep copy */
	cr_assert(plain != data);
	cr_assert(json_object_object_get(plain, "m") !=
	    json_object_object_get(data, "m"));
	cr_assert(json_object_equal(plain, data), "%s", text(plain));
	/* fsvalue refuses the exact text it cannot hold, and takes the plain
	 * double in its shortest form */
	tp_err_clear(&err);
	cr_assert_null(fsvalue_fields(data, DOC, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	fields = fsvalue_fields(plain, DOC, &err);
	cr_assert_not_null(fields, "%s", err.msg);
	f = json_object_object_get(fields, "pnl_percent");
	cr_assert_str_eq(text(f), "{\"doubleValue\":-20.002}");
	f = json_object_object_get(json_object_object_get(
	    json_object_object_get(json_object_object_get(
	    json_object_object_get(fields, "m"), "mapValue"), "fields"), "z"),
	    "mapValue");
	cr_assert_str_eq(text(f),
	    "{\"fields\":{\"e\":{\"doubleValue\":1e3},\"w\":{\"doubleValue\":"
	    "1e3},\"s\":{\"stringValue\":\"0.10\"}}}");
	/* the numbers that read back the same keep their own text */
	cr_assert_str_eq(text(json_object_object_get(fields,
	    "unrealized_pnl")), "{\"doubleValue\":370.01}");
	json_object_put(fields);
	json_object_put(plain);
	json_object_put(texts);
	json_object_put(data);
}

Test(fsnum, split_without_entries_has_no_companion)
{
	json_object *data = J("{\"p\":370.01,\"q\":12.5,\"i\":3,\"s\":\"1e3\","
	    "\"m\":{\"x\":2.25,\"e\":{}},\"arr\":[12.5,{\"y\":370.01}],"
	    "\"t\":true,\"n\":null}"), *plain, *texts;

	cr_assert_eq(fsnum_split(data, &plain, &texts, &err), 0, "%s",
	    err.msg);
	cr_assert_null(texts, "%s", text(texts));
	cr_assert_str_eq(text(plain), text(data));
	json_object_put(plain);
	json_object_put(data);

	/* a double built without text is its shortest text to fsvalue too */
	data = json_object_new_object();
	json_add(data, "tenth", json_object_new_double(0.1));
	json_add(data, "third", json_object_new_double(1.0 / 3));
	cr_assert_eq(fsnum_split(data, &plain, &texts, &err), 0, "%s",
	    err.msg);
	cr_assert_null(texts, "%s", text(texts));
	json_object_put(plain);
	json_object_put(data);

	/* no data: nothing */
	cr_assert_eq(fsnum_split(NULL, &plain, &texts, &err), 0);
	cr_assert_null(plain);
	cr_assert_null(texts);
}

Test(fsnum, the_companion_name_is_reserved)
{
	static const char *const bad[] = {
		"{\"_tp_text\":{}}", "{\"a\":0.10,\"_tp_text\":1}", "[0.10]",
		"0.10",
	};
	json_object *data, *plain, *texts;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		data = J(bad[i]);
		tp_err_clear(&err);
		cr_assert_eq(fsnum_split(data, &plain, &texts, &err), -1,
		    "took %s", bad[i]);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s", bad[i]);
		cr_assert_null(plain);
		cr_assert_null(texts);
		tp_err_clear(&err);
		cr_assert_eq(fsnum_patch(data, &plain, &texts, &err), -1,
		    "took %s", bad[i]);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s", bad[i]);
		json_object_put(data);
	}
	/* the name is reserved at the top only */
	data = J("{\"m\":{\"_tp_text\":0.10}}");
	cr_assert_eq(fsnum_split(data, &plain, &texts, &err), 0, "%s",
	    err.msg);
	cr_assert_str_eq(text(texts), "{\"m\":{\"_tp_text\":\"0.10\"}}");
	json_object_put(plain);
	json_object_put(texts);
	json_object_put(data);
}

/* A store document through split, the codec (as the backend writes and
 * reads it) and join: the same text. */
static void
round_trip(const char *doc)
{
	json_object *data = J(doc), *plain, *texts, *fields, *tf, *mv, *back;

	cr_assert_eq(fsnum_split(data, &plain, &texts, &err), 0, "%s: %s", doc,
	    err.msg);
	fields = fsvalue_fields(plain, DOC, &err);
	cr_assert_not_null(fields, "%s: %s", doc, err.msg);
	if (texts != NULL) {
		tf = fsvalue_fields(texts, DOC, &err);
		cr_assert_not_null(tf, "%s", err.msg);
		mv = json_object_new_object();
		json_add(mv, "fields", tf);
		tf = json_object_new_object();
		json_add(tf, "mapValue", mv);
		json_add(fields, "_tp_text", tf);
	}
	back = fsvalue_data(fields, DOC, &err);
	cr_assert_not_null(back, "%s", err.msg);
	cr_assert_eq(fsnum_join(back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(text(back), doc);
	json_object_put(back);
	json_object_put(fields);
	json_object_put(plain);
	json_object_put(texts);
	json_object_put(data);
}

Test(fsnum, split_and_join_give_back_the_text)
{
	round_trip(mixed);
	round_trip("{\"a\":370.01,\"b\":[12.5]}");
	round_trip("{\"big\":1234567890123456789,\"e\":1E+3,\"f\":1.5e-7,"
	    "\"g\":100.000,\"h\":0.0,\"i\":-0.0,\"j\":[{\"k\":[0.10]}]}");
	round_trip("{}");
}

Test(fsnum, patch_mirrors_the_walk_of_fsvalue_patch)
{
	json_object *patch = J("{\"a\":0.10,\"b\":12.5,\"n\":null,\"m\":{\"x\":"
	    "1000.0,\"y\":\"s\",\"k\":{\"deep\":-20.0020}},\"e\":{},\"arr\":[0.10,"
	    "2],\"arr2\":[1],\"neg\":-0.0}"), *plain, *tp, *fields, *mask;

	cr_assert_eq(fsnum_patch(patch, &plain, &tp, &err), 0, "%s", err.msg);
	cr_assert_str_eq(text(tp), "{\"a\":\"0.10\",\"b\":null,\"n\":null,"
	    "\"m\":{\"x\":\"1000.0\",\"y\":null,\"k\":{\"deep\":\"-20.0020\"}},"
	    "\"e\":null,\"arr\":[\"0.10\",null],\"arr2\":null,\"neg\":"
	    "\"-0.0\"}");
	/* nulls stay: they delete */
	cr_assert(json_object_equal(plain, patch), "%s", text(plain));
	cr_assert(json_object_object_get_ex(plain, "n", NULL));
	/* the plain patch is one fsvalue takes; the companion's patch has
	 * one mask path for each of the patch's */
	cr_assert_eq(fsvalue_patch(plain, DOC, &fields, &mask, &err), 0, "%s",
	    err.msg);
	json_object_put(fields);
	cr_assert_str_eq(text(mask), "[\"a\",\"b\",\"n\",\"m.x\",\"m.y\","
	    "\"m.k.deep\",\"e\",\"arr\",\"arr2\",\"neg\"]");
	json_object_put(mask);
	cr_assert_eq(fsvalue_patch(tp, DOC, &fields, &mask, &err), 0, "%s",
	    err.msg);
	cr_assert_str_eq(text(mask), "[\"a\",\"b\",\"n\",\"m.x\",\"m.y\","
	    "\"m.k.deep\",\"e\",\"arr\",\"arr2\",\"neg\"]");
	json_object_put(fields);
	json_object_put(mask);
	json_object_put(plain);
	json_object_put(tp);
	json_object_put(patch);

	/* no leaves: no companion patch */
	patch = J("{}");
	cr_assert_eq(fsnum_patch(patch, &plain, &tp, &err), 0, "%s", err.msg);
	cr_assert_null(tp);
	cr_assert_str_eq(text(plain), "{}");
	json_object_put(plain);
	json_object_put(patch);
}

/* join on doc (text) gives want (text). */
static void
joins(const char *doc, const char *want)
{
	json_object *data = J(doc);

	tp_err_clear(&err);
	cr_assert_eq(fsnum_join(data, &err), 0, "%s: %s", doc, err.msg);
	cr_assert_str_eq(text(data), want, "joining %s", doc);
	json_object_put(data);
}

Test(fsnum, join_ignores_what_no_longer_matches)
{
	/* someone (a dashboard) changed a, e and d[1]; the rest is
	 * malformed or names nothing */
	joins("{\"a\":0.2,\"b\":\"0.10\",\"c\":1000.0,\"d\":[0.1,0.3],\"e\":"
	    "{\"x\":0.1},\"f\":0.1,\"g\":0.1,\"h\":0.1,\"i\":[0.1],\"j\":1000,"
	    "\"_tp_text\":{\"a\":\"0.10\",\"b\":\"0.10\",\"c\":\"1e3\",\"d\":"
	    "[\"0.10\",\"0.30000\",null],\"e\":\"0.10\",\"f\":5,\"g\":\"0.1x\","
	    "\"h\":{\"z\":\"0.10\"},\"i\":[\"0.10\",\"0.10\"],\"j\":\"1e3\","
	    "\"missing\":\"0.10\"}}",
	    "{\"a\":0.2,\"b\":\"0.10\",\"c\":1e3,\"d\":[0.1,0.3],\"e\":{\"x\":"
	    "0.1},\"f\":0.1,\"g\":0.1,\"h\":0.1,\"i\":[0.1],\"j\":1000}");
	/* arrays of the same length are walked */
	joins("{\"d\":[0.1,0.3,{\"q\":1000.0}],\"_tp_text\":{\"d\":[\"0.10\","
	    "\"0.30000\",{\"q\":\"1e3\"}]}}",
	    "{\"d\":[0.10,0.30000,{\"q\":1e3}]}");
	/* a companion that is not a map goes, and changes nothing */
	joins("{\"a\":0.1,\"_tp_text\":\"0.10\"}", "{\"a\":0.1}");
	joins("{\"a\":0.1,\"_tp_text\":[\"0.10\"]}", "{\"a\":0.1}");
	joins("{\"a\":0.1}", "{\"a\":0.1}");
	/* Firestore gives -0 back as 0: the entry puts the sign back */
	joins("{\"n\":0.0,\"_tp_text\":{\"n\":\"-0.0\"}}", "{\"n\":-0.0}");
	/* strict JSON numbers only */
	joins("{\"n\":16.0,\"p\":1.0,\"q\":1.0,\"_tp_text\":{\"n\":\"0x10\","
	    "\"p\":\"+1.0\",\"q\":\"1.\"}}",
	    "{\"n\":16.0,\"p\":1.0,\"q\":1.0}");
}

Test(fsnum, join_puts_the_sign_of_zero_back)
{
	json_object *data = J("{\"n\":0.0,\"_tp_text\":{\"n\":\"-0.0\"}}");

	cr_assert_eq(fsnum_join(data, &err), 0, "%s", err.msg);
	cr_assert(signbit(json_object_get_double(json_object_object_get(data,
	    "n"))));
	json_object_put(data);
}

/* A map nested n deep: {"k":{"k":...{"k":leaf}}}. */
static json_object *
nested(int n, json_object *leaf)
{
	json_object *o = leaf, *m;

	for (int i = 0; i < n; i++) {
		m = json_object_new_object();
		json_add(m, "k", o);
		o = m;
	}
	return o;
}

Test(fsnum, nesting_is_bounded)
{
	json_object *data, *plain, *texts;

	data = nested(JSON_MAX_DEPTH + 5, json_object_new_double_s(0.1,
	    "0.10"));
	tp_err_clear(&err);
	cr_assert_eq(fsnum_split(data, &plain, &texts, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	tp_err_clear(&err);
	cr_assert_eq(fsnum_patch(data, &plain, &texts, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	/* join stops at the bound and leaves the rest alone */
	json_add(data, "_tp_text", nested(JSON_MAX_DEPTH + 5,
	    json_object_new_string("0.10")));
	cr_assert_eq(fsnum_join(data, &err), 0, "%s", err.msg);
	cr_assert_not(json_object_object_get_ex(data, "_tp_text", NULL));
	json_object_put(data);

	/* just within the bound, both ways */
	data = nested(JSON_MAX_DEPTH - 1, json_object_new_double_s(0.1,
	    "0.10"));
	cr_assert_eq(fsnum_split(data, &plain, &texts, &err), 0, "%s",
	    err.msg);
	cr_assert_not_null(texts);
	json_add(plain, "_tp_text", texts);
	cr_assert_eq(fsnum_join(plain, &err), 0, "%s", err.msg);
	cr_assert_str_eq(text(plain), text(data));
	json_object_put(plain);
	json_object_put(data);
}

/* ---- against the emulator, through the store ---- */

struct buf {
	char	*p;
	size_t	 n;
};

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	char *q = realloc(b->p, b->n + size * nmemb + 1);

	if (q == NULL)
		return 0;
	memcpy(q + b->n, data, size * nmemb);
	b->n += size * nmemb;
	q[b->n] = '\0';
	b->p = q;
	return size * nmemb;
}

/* One request to the emulator (as a dashboard would make it); the reply
 * parsed (200 expected). */
static json_object *
call(const char *method, const char *url, const char *body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct buf b = { NULL, 0 };
	long status = 0;
	CURLcode rc;
	json_object *reply;

	cr_assert_not_null(c);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Authorization: Bearer owner");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, url,
	    curl_easy_strerror(rc));
	cr_assert_eq(status, 200, "%s %s: HTTP %ld: %s", method, url, status,
	    b.p != NULL ? b.p : "");
	reply = J(b.p != NULL ? b.p : "{}");
	free(b.p);
	return reply;
}

static struct store *st;

/* The document at path through the store. */
static json_object *
get(const char *path)
{
	struct store_doc d;
	json_object *data;

	tp_err_clear(&err);
	cr_assert_eq(store_get(st, path, &d, &err), 0, "%s: %s", path,
	    err.msg);
	data = json_object_get(d.data);
	store_doc_clear(&d);
	return data;
}

static void
put(const char *path, const char *doc, bool merge)
{
	json_object *data = J(doc);

	tp_err_clear(&err);
	cr_assert_eq(store_set(st, path, data, merge, &err), 0, "%s: %s",
	    doc, err.msg);
	json_object_put(data);
}

/* The field `key` of data has the text want. */
static void
field_is(json_object *data, const char *key, const char *want)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(data, key, &v), "no %s in %s", key,
	    text(data));
	cr_assert_str_eq(text(v), want, "field %s of %s", key, text(data));
}

/* The raw Firestore field at a dotted path of the document's fields. */
static json_object *
raw_field(json_object *raw, const char *a, const char *b)
{
	json_object *f = json_object_object_get(json_object_object_get(raw,
	    "fields"), a);

	if (b != NULL)
		f = json_object_object_get(json_object_object_get(
		    json_object_object_get(f, "mapValue"), "fields"), b);
	return f;
}

Test(fsnum, the_emulator_keeps_doubles_and_their_texts)
{
	const char *host = getenv("TP_FS_EMULATOR_HOST");
	char proj[64], url[512], base[256];
	struct store_params p;
	json_object *data, *raw, *raw_m;

	if (host == NULL || *host == '\0')
		cr_skip_test("the Firestore emulator was not given: set "
		    "TP_FS_EMULATOR_HOST=host:port to run this test");
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	snprintf(proj, sizeof(proj), "fsnum-%ld", (long)getpid());
	snprintf(base, sizeof(base),
	    "http://%s/v1/projects/%s/databases/(default)/documents", host,
	    proj);
	memset(&p, 0, sizeof(p));
	p.backend = STORE_FIRESTORE;
	p.emulator_host = host;
	p.project_id = proj;
	st = store_open(&p, NULL, &err);
	cr_assert_not_null(st, "store_open: %s", err.msg);

	put("users/u1/trades/t1", mixed, false);
	data = get("users/u1/trades/t1");
	raw = J(mixed);
	cr_assert(json_object_equal(data, raw), "%s", text(data));
	json_object_put(raw);
	/* field by field: Firestore may give the fields in its own order */
	field_is(data, "pnl_percent", "-20.0020");
	field_is(data, "unrealized_pnl", "370.01");
	field_is(data, "neg", "-0.0");
	field_is(data, "arr", "[1,0.10,{\"q\":122011.09751111286868,"
	    "\"r\":12.5},\"s\",null]");
	field_is(json_object_object_get(data, "m"), "x", "0.10");
	field_is(json_object_object_get(json_object_object_get(data, "m"),
	    "z"), "e", "1e3");
	field_is(json_object_object_get(json_object_object_get(data, "m"),
	    "z"), "w", "1000.0");
	cr_assert_not(json_object_object_get_ex(data, "_tp_text", NULL));
	json_object_put(data);

	/* what a dashboard sees: doubles, and the texts in their own field */
	snprintf(url, sizeof(url), "%s/users/u1/trades/t1", base);
	raw = call("GET", url, NULL);
	cr_assert_str_eq(text(raw_field(raw, "pnl_percent", NULL)),
	    "{\"doubleValue\":-20.002}");
	cr_assert_str_eq(text(raw_field(raw, "neg", NULL)),
	    "{\"doubleValue\":0.0}", "Firestore keeps the sign of zero now: "
	    "no need for an entry");
	raw_m = json_object_object_get(json_object_object_get(raw_field(raw,
	    "m", "z"), "mapValue"), "fields");
	field_is(raw_m, "w", "{\"doubleValue\":1000.0}");
	field_is(raw_m, "s", "{\"stringValue\":\"0.10\"}");
	cr_assert_str_eq(text(raw_field(raw, "_tp_text", "pnl_percent")),
	    "{\"stringValue\":\"-20.0020\"}");
	cr_assert_null(raw_field(raw, "_tp_text", "unrealized_pnl"));
	json_object_put(raw);

	/* a merge sets new texts and drops the ones it overwrites */
	put("users/u1/trades/t1", "{\"m\":{\"x\":3,\"y\":2.50},\"pnl_percent\":"
	    "-20.5,\"equity\":122011.09751111286868,\"arr\":null}", true);
	data = get("users/u1/trades/t1");
	field_is(data, "pnl_percent", "-20.5");
	field_is(data, "equity", "122011.09751111286868");
	field_is(json_object_object_get(data, "m"), "x", "3");
	field_is(json_object_object_get(data, "m"), "y", "2.50");
	field_is(json_object_object_get(json_object_object_get(data, "m"),
	    "z"), "w", "1000.0");
	cr_assert_not(json_object_object_get_ex(data, "arr", NULL));
	json_object_put(data);
	raw = call("GET", url, NULL);
	cr_assert_null(raw_field(raw, "_tp_text", "pnl_percent"));
	cr_assert_null(raw_field(raw, "_tp_text", "arr"));
	raw_m = json_object_object_get(json_object_object_get(raw_field(raw,
	    "_tp_text", "m"), "mapValue"), "fields");
	cr_assert_eq(json_object_object_length(raw_m), 2, "%s", text(raw));
	field_is(raw_m, "y", "{\"stringValue\":\"2.50\"}");
	field_is(raw_m, "z", "{\"mapValue\":{\"fields\":{\"w\":{\"stringValue\":"
	    "\"1000.0\"}}}}");
	json_object_put(raw);

	/* a dashboard changes a number: its stale text is not used */
	snprintf(url, sizeof(url), "%s/users/u1/trades/t1?updateMask."
	    "fieldPaths=equity", base);
	json_object_put(call("PATCH", url, "{\"fields\":{\"equity\":"
	    "{\"doubleValue\":5000.25}}}"));
	data = get("users/u1/trades/t1");
	field_is(data, "equity", "5000.25");
	field_is(json_object_object_get(data, "m"), "y", "2.50");
	json_object_put(data);

	/* a set without texts leaves none behind */
	put("users/u1/trades/t1", "{\"a\":12.5}", false);
	snprintf(url, sizeof(url), "%s/users/u1/trades/t1", base);
	raw = call("GET", url, NULL);
	cr_assert_null(raw_field(raw, "_tp_text", NULL), "%s", text(raw));
	json_object_put(raw);
	data = get("users/u1/trades/t1");
	cr_assert_str_eq(text(data), "{\"a\":12.5}");
	json_object_put(data);

	/* a merge into a missing document with no texts writes none */
	put("users/u1/trades/t2", "{\"a\":12.5,\"n\":null}", true);
	snprintf(url, sizeof(url), "%s/users/u1/trades/t2", base);
	raw = call("GET", url, NULL);
	cr_assert_null(raw_field(raw, "_tp_text", NULL), "%s", text(raw));
	json_object_put(raw);

	/* a text at the deepest level the store takes */
	data = nested(STORE_DEPTH_MAX - 2, J("{\"leaf\":0.10}"));
	tp_err_clear(&err);
	cr_assert_eq(store_set(st, "users/u1/trades/deep", data, false, &err),
	    0, "%s", err.msg);
	raw = get("users/u1/trades/deep");
	cr_assert_str_eq(text(raw), text(data));
	json_object_put(raw);
	json_object_put(data);

	/* the reserved name is refused, and nothing is written */
	data = J("{\"_tp_text\":{\"a\":\"1\"}}");
	tp_err_clear(&err);
	cr_assert_eq(store_set(st, "users/u1/trades/t3", data, false, &err),
	    -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s", err.msg);
	json_object_put(data);

	store_free(st);
	st = NULL;
	curl_global_cleanup();
}
