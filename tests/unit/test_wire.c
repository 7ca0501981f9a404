/* test_wire.c: worker channel frames: encoding, header and payload checks, fuzzing. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/wire.h"

static struct tp_err err;

static json_object *
parse(const char *s)
{
	json_object *o = json_parse(s, strlen(s), &err);

	cr_assert_not_null(o, "test JSON does not parse: %s", err.msg);
	return o;
}

/* A map {"a": "xxx..."} whose compact text is exactly n bytes (n >= 8). */
static json_object *
payload_of_size(size_t n)
{
	json_object *o;
	char *s;

	cr_assert_geq(n, 8);
	s = malloc(n - 8 + 1);
	cr_assert_not_null(s);
	memset(s, 'x', n - 8);
	s[n - 8] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "a", json_object_new_string(s));
	free(s);
	return o;
}

/* A frame with a hand-made header and payload text. */
static uint8_t *
frame(const char *magic, unsigned version, unsigned type, uint64_t gen,
    uint32_t declared, const void *payload, size_t plen, size_t *len)
{
	uint8_t *b = malloc(WIRE_HEADER_LEN + plen + 1);
	size_t i;

	cr_assert_not_null(b);
	memcpy(b, magic, 4);
	b[4] = (uint8_t)(version >> 8);
	b[5] = (uint8_t)version;
	b[6] = (uint8_t)(type >> 8);
	b[7] = (uint8_t)type;
	for (i = 0; i < 8; i++)
		b[8 + i] = (uint8_t)(gen >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		b[16 + i] = (uint8_t)(declared >> (24 - 8 * i));
	if (plen > 0)
		memcpy(b + WIRE_HEADER_LEN, payload, plen);
	*len = WIRE_HEADER_LEN + plen;
	return b;
}

static uint8_t *
frame_json(unsigned type, const char *json, size_t *len)
{
	return frame(WIRE_MAGIC, WIRE_VERSION, type, 7, (uint32_t)strlen(json),
	    json, strlen(json), len);
}

static void
expect_decode_fails(const uint8_t *b, size_t len, const char *needle)
{
	struct wire_msg m;

	memset(&m, 0xa5, sizeof(m));
	tp_err_clear(&err);
	cr_assert_eq(wire_decode(b, len, &m, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_null(m.payload, "payload left set after a failure");
	if (needle != NULL)
		cr_assert(strstr(err.msg, needle) != NULL,
		    "error \"%s\" does not mention \"%s\"", err.msg, needle);
}

static void
expect_frame_fails(unsigned type, const char *json, const char *needle)
{
	uint8_t *b;
	size_t len;

	b = frame_json(type, json, &len);
	expect_decode_fails(b, len, needle);
	free(b);
}

static const char *const examples[] = {
	[WIRE_HELLO] = "{\"pid\":4242,\"token\":\"00ff11ee\"}",
	[WIRE_CONFIG] = "{\"max_jobs\":100,\"heartbeat_ms\":1000,"
	    "\"job_timeout_ms\":30000,\"resolve\":[\"api.example:443:10.0.0.1\"]}",
	[WIRE_JOB] = "{\"job_id\":\"j-1\",\"uid\":\"u1\",\"kind\":\"sync\","
	    "\"deadline_ms\":5000,\"keys\":{\"key_id\":\"PKABCD\","
	    "\"secret\":\"s3cr3t/\\\"x\"}}",
	[WIRE_JOB_BEGIN] = "{\"job_id\":\"j-1\"}",
	[WIRE_RESULT] = "{\"job_id\":\"j-1\",\"ok\":true,\"result\":"
	    "{\"key_id_last4\":\"ABCD\"},\"writes\":[{\"op\":\"merge\","
	    "\"path\":\"users/u1/status/last_sync\",\"data\":{\"at\":1.5}}]}",
	[WIRE_LOG] = "{\"job_id\":null,\"level\":\"info\",\"event\":\"e\","
	    "\"message\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
	[WIRE_HEARTBEAT] = "{\"jobs\":2}",
	[WIRE_SHUTDOWN] = "{\"reason\":\"idle\"}",
};

Test(wire, round_trip_every_type)
{
	const uint64_t gens[] = { 0, 1, 0x0102030405060708ULL, UINT64_MAX };
	struct wire_msg m;
	json_object *p;
	uint8_t *b;
	size_t len, plen, g;
	unsigned t;

	for (t = WIRE_HELLO; t <= WIRE_TYPE_MAX; t++) {
		for (g = 0; g < sizeof(gens) / sizeof(gens[0]); g++) {
			p = parse(examples[t]);
			tp_err_clear(&err);
			cr_assert_eq(wire_encode((enum wire_type)t, gens[g], p,
			    &b, &len, &err), 0, "%s: %s",
			    wire_type_name((enum wire_type)t), err.msg);
			plen = strlen(examples[t]);
			cr_assert_eq(len, WIRE_HEADER_LEN + plen);
			/* the header, field by field */
			cr_assert_eq(memcmp(b, "TPW1", 4), 0);
			cr_assert_eq(b[4], 0);
			cr_assert_eq(b[5], WIRE_VERSION);
			cr_assert_eq(b[6], 0);
			cr_assert_eq(b[7], t);
			for (size_t i = 0; i < 8; i++)
				cr_assert_eq(b[8 + i],
				    (uint8_t)(gens[g] >> (56 - 8 * i)));
			cr_assert_eq(b[16], (uint8_t)(plen >> 24));
			cr_assert_eq(b[17], (uint8_t)(plen >> 16));
			cr_assert_eq(b[18], (uint8_t)(plen >> 8));
			cr_assert_eq(b[19], (uint8_t)plen);
			/* compact: the payload is the example text itself */
			cr_assert_eq(memcmp(b + WIRE_HEADER_LEN, examples[t],
			    plen), 0);

			memset(&m, 0, sizeof(m));
			cr_assert_eq(wire_decode(b, len, &m, &err), 0, "%s",
			    err.msg);
			cr_assert_eq(m.type, t);
			cr_assert_eq(m.generation, gens[g]);
			cr_assert(json_object_equal(m.payload, p));
			wire_msg_clear(&m);
			cr_assert_null(m.payload);
			wire_free_wiped(b, len);
			json_object_put(p);
		}
	}
}

/* The frame's payload is exactly the project's compact JSON text, also
 * for escapes, NUL bytes, non-ASCII, numbers, booleans and null. */
Test(wire, payload_text_matches_json_compact)
{
	static const char *const docs[] = {
		"{}",
		"{\"a\":[]}",
		"{\"s\":\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f\\u0000 "
		    "\\u007f caf\xc3\xa9\"}",
		"{\"k\\\"\\n\\u0002/\":1}",
		"{\"n\":[1,-2,9223372036854775807,-9223372036854775808,0.5,"
		    "1e300,-1.25e-7,true,false,null,{},[[]]],\"m\":{\"x\":{}}}",
		"{\"d\":123.0}",
	};
	json_object *p;
	const char *text;
	uint8_t *b;
	size_t i, len, tlen;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		p = parse(docs[i]);
		/* a built value (no parsed text kept) too */
		json_object_object_add(p, "built", json_object_new_double(2.5));
		json_object_object_add(p, "i64",
		    json_object_new_int64(-1234567890123LL));
		text = json_compact(p, &tlen);
		cr_assert_eq(wire_encode(WIRE_JOB, 1, p, &b, &len, &err), 0,
		    "%s", err.msg);
		cr_assert_eq(len - WIRE_HEADER_LEN, tlen,
		    "doc %zu: %.*s vs %s", i, (int)(len - WIRE_HEADER_LEN),
		    b + WIRE_HEADER_LEN, text);
		cr_assert_eq(memcmp(b + WIRE_HEADER_LEN, text, tlen), 0,
		    "doc %zu: %.*s vs %s", i, (int)tlen, b + WIRE_HEADER_LEN,
		    text);
		wire_free_wiped(b, len);
		json_object_put(p);
	}
}

Test(wire, encode_rejects_bad_arguments)
{
	json_object *p = parse("{\"a\":1}"), *arr = parse("[1]");
	json_object *str = json_object_new_string("x");
	json_object *num = json_object_new_int(3);
	uint8_t *b = (uint8_t *)"sentinel";
	size_t len = 99;

	cr_assert_eq(wire_encode((enum wire_type)0, 1, p, &b, &len, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_null(b);
	cr_assert_eq(len, 0);
	cr_assert_eq(wire_encode((enum wire_type)(WIRE_TYPE_MAX + 1), 1, p, &b,
	    &len, &err), -1);
	cr_assert_eq(wire_encode((enum wire_type)-1, 1, p, &b, &len, &err),
	    -1);
	cr_assert_eq(wire_encode(WIRE_LOG, 1, NULL, &b, &len, &err), -1);
	cr_assert_eq(wire_encode(WIRE_LOG, 1, arr, &b, &len, &err), -1);
	cr_assert(strstr(err.msg, "not a JSON object") != NULL, "%s", err.msg);
	cr_assert_eq(wire_encode(WIRE_LOG, 1, str, &b, &len, &err), -1);
	cr_assert_eq(wire_encode(WIRE_LOG, 1, num, &b, &len, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_eq(wire_encode(WIRE_LOG, 1, p, NULL, &len, &err), -1);
	cr_assert_eq(wire_encode(WIRE_LOG, 1, p, &b, NULL, &err), -1);
	json_object_put(p);
	json_object_put(arr);
	json_object_put(str);
	json_object_put(num);
}

Test(wire, encode_bounds_per_type)
{
	struct wire_msg m;
	json_object *p;
	uint8_t *b;
	size_t len, bound;
	unsigned t;

	for (t = WIRE_HELLO; t <= WIRE_TYPE_MAX; t++) {
		bound = wire_max_payload((enum wire_type)t);
		p = payload_of_size(bound);
		cr_assert_eq(wire_encode((enum wire_type)t, 3, p, &b, &len,
		    &err), 0, "%s at its bound: %s",
		    wire_type_name((enum wire_type)t), err.msg);
		cr_assert_eq(len, WIRE_HEADER_LEN + bound);
		cr_assert_eq(wire_decode(b, len, &m, &err), 0, "%s", err.msg);
		cr_assert(json_object_equal(m.payload, p));
		wire_msg_clear(&m);
		wire_free_wiped(b, len);
		json_object_put(p);

		p = payload_of_size(bound + 1);
		b = (uint8_t *)"sentinel";
		cr_assert_eq(wire_encode((enum wire_type)t, 3, p, &b, &len,
		    &err), -1);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		cr_assert(strstr(err.msg, "exceeds") != NULL, "%s", err.msg);
		cr_assert_null(b);
		json_object_put(p);
	}
	/* escapes count: 3000 newlines are 6000 bytes of text */
	p = json_object_new_object();
	{
		char s[3001];

		memset(s, '\n', 3000);
		s[3000] = '\0';
		json_object_object_add(p, "a", json_object_new_string(s));
	}
	cr_assert_eq(wire_encode(WIRE_HELLO, 1, p, &b, &len, &err), -1);
	cr_assert_eq(wire_encode(WIRE_LOG, 1, p, &b, &len, &err), 0);
	cr_assert_eq(len, WIRE_HEADER_LEN + 6008);
	wire_free_wiped(b, len);
	json_object_put(p);
}

Test(wire, max_payload_and_names)
{
	static const char *const names[] = { NULL, "hello", "config", "job",
	    "job-begin", "result", "log", "heartbeat", "shutdown" };
	unsigned t;

	for (t = WIRE_HELLO; t <= WIRE_TYPE_MAX; t++)
		cr_assert_str_eq(wire_type_name((enum wire_type)t), names[t]);
	cr_assert_str_eq(wire_type_name((enum wire_type)0), "unknown");
	cr_assert_str_eq(wire_type_name((enum wire_type)(WIRE_TYPE_MAX + 1)),
	    "unknown");
	cr_assert_eq(wire_max_payload(WIRE_HELLO), 4096);
	cr_assert_eq(wire_max_payload(WIRE_JOB_BEGIN), 4096);
	cr_assert_eq(wire_max_payload(WIRE_HEARTBEAT), 4096);
	cr_assert_eq(wire_max_payload(WIRE_SHUTDOWN), 4096);
	cr_assert_eq(wire_max_payload(WIRE_LOG), 8192);
	cr_assert_eq(wire_max_payload(WIRE_CONFIG), 65536);
	cr_assert_eq(wire_max_payload(WIRE_JOB), 1024 * 1024);
	cr_assert_eq(wire_max_payload(WIRE_RESULT), 1024 * 1024);
	cr_assert_eq(wire_max_payload((enum wire_type)0), 0);
}

Test(wire, bad_magic)
{
	const char *json = "{\"jobs\":0}";
	uint8_t *b;
	size_t len, i;

	for (i = 0; i < 4; i++) {
		b = frame_json(WIRE_HEARTBEAT, json, &len);
		b[i] ^= 0x20;
		expect_decode_fails(b, len, "magic");
		free(b);
	}
	b = frame("TPW2", WIRE_VERSION, WIRE_HEARTBEAT, 1,
	    (uint32_t)strlen(json), json, strlen(json), &len);
	expect_decode_fails(b, len, "magic");
	free(b);
}

Test(wire, bad_version_names_both)
{
	const unsigned versions[] = { 0, 2, 0x0100, 0xffff };
	const char *json = "{\"jobs\":0}";
	char want[64];
	uint8_t *b;
	size_t len, i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		b = frame(WIRE_MAGIC, versions[i], WIRE_HEARTBEAT, 1,
		    (uint32_t)strlen(json), json, strlen(json), &len);
		snprintf(want, sizeof(want), "version %u", versions[i]);
		expect_decode_fails(b, len, want);
		snprintf(want, sizeof(want), "version %d", WIRE_VERSION);
		cr_assert(strstr(err.msg, want) != NULL, "%s", err.msg);
		free(b);
	}
}

Test(wire, bad_type)
{
	const unsigned types[] = { 0, WIRE_TYPE_MAX + 1, 0x0101, 0xffff };
	const char *json = "{\"jobs\":0}";
	uint8_t *b;
	size_t len, i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		b = frame(WIRE_MAGIC, WIRE_VERSION, types[i], 1,
		    (uint32_t)strlen(json), json, strlen(json), &len);
		expect_decode_fails(b, len, "type");
		free(b);
	}
}

Test(wire, bad_length_field)
{
	const char *json = "{\"jobs\":0}";
	uint32_t n = (uint32_t)strlen(json);
	uint8_t *b;
	size_t len;

	/* declares more than the frame holds */
	b = frame(WIRE_MAGIC, WIRE_VERSION, WIRE_HEARTBEAT, 1, n + 1, json, n,
	    &len);
	expect_decode_fails(b, len, "does not match");
	free(b);
	/* declares less: trailing bytes after the payload */
	b = frame(WIRE_MAGIC, WIRE_VERSION, WIRE_HEARTBEAT, 1, n - 1, json, n,
	    &len);
	expect_decode_fails(b, len, "does not match");
	free(b);
	/* declares nothing */
	b = frame(WIRE_MAGIC, WIRE_VERSION, WIRE_HEARTBEAT, 1, 0, json, n,
	    &len);
	expect_decode_fails(b, len, "does not match");
	free(b);
	/* beyond every bound */
	b = frame(WIRE_MAGIC, WIRE_VERSION, WIRE_HEARTBEAT, 1, UINT32_MAX, json,
	    n, &len);
	expect_decode_fails(b, len, "exceeds");
	free(b);
	/* an empty payload, declared as such, is not a map */
	b = frame(WIRE_MAGIC, WIRE_VERSION, WIRE_HEARTBEAT, 1, 0, NULL, 0,
	    &len);
	expect_decode_fails(b, len, "heartbeat payload");
	free(b);
}

Test(wire, payload_not_a_map)
{
	static const char *const docs[] = { "[]", "[{\"a\":1}]", "\"str\"",
	    "42", "-1.5", "true", "false", "null" };
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_frame_fails(WIRE_RESULT, docs[i], NULL);
	expect_frame_fails(WIRE_RESULT, "[]", "not a JSON object");
	expect_frame_fails(WIRE_RESULT, "42", "not a JSON object");
}

Test(wire, payload_not_json)
{
	static const char *const docs[] = { "{", "{\"a\":1", "{\"a\":1}}",
	    "{\"a\":1}{}", "{'a':1}", "{\"a\":01}", "{\"a\":1.}",
	    "{\"a\":NaN}", "{\"a\":1e999}", "{/*c*/}", "{\"a\":\"\t\"}", "x" };
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_frame_fails(WIRE_LOG, docs[i], "log payload");
	/* NUL inside the payload */
	{
		uint8_t *b;
		size_t len;

		b = frame(WIRE_MAGIC, WIRE_VERSION, WIRE_LOG, 1, 9,
		    "{\"a\":\"\0\"}", 9, &len);
		expect_decode_fails(b, len, NULL);
		free(b);
	}
}

Test(wire, decode_bounds_per_type)
{
	struct wire_msg m;
	json_object *p;
	const char *text;
	uint8_t *b;
	size_t len, tlen, bound;
	unsigned t;

	for (t = WIRE_HELLO; t <= WIRE_TYPE_MAX; t++) {
		bound = wire_max_payload((enum wire_type)t);
		/* hand-made, so the decoder is tested without the encoder */
		p = payload_of_size(bound);
		text = json_compact(p, &tlen);
		cr_assert_eq(tlen, bound);
		b = frame(WIRE_MAGIC, WIRE_VERSION, t, 9, (uint32_t)tlen, text,
		    tlen, &len);
		cr_assert_eq(wire_decode(b, len, &m, &err), 0, "%s", err.msg);
		cr_assert_eq(m.type, t);
		wire_msg_clear(&m);
		free(b);
		json_object_put(p);

		p = payload_of_size(bound + 1);
		text = json_compact(p, &tlen);
		b = frame(WIRE_MAGIC, WIRE_VERSION, t, 9, (uint32_t)tlen, text,
		    tlen, &len);
		expect_decode_fails(b, len, "exceeds");
		cr_assert(strstr(err.msg, wire_type_name((enum wire_type)t))
		    != NULL, "%s", err.msg);
		free(b);
		json_object_put(p);
	}
}

Test(wire, truncated_frames)
{
	json_object *p = parse(examples[WIRE_JOB]);
	uint8_t *b, *copy;
	size_t len, n;

	cr_assert_eq(wire_encode(WIRE_JOB, 5, p, &b, &len, &err), 0);
	expect_decode_fails(NULL, 0, "shorter");
	expect_decode_fails(NULL, 40, "shorter");
	/* every prefix, each in a buffer of exactly that size (ASan) */
	for (n = 0; n < len; n++) {
		copy = malloc(n > 0 ? n : 1);
		cr_assert_not_null(copy);
		memcpy(copy, b, n);
		expect_decode_fails(copy, n, n < WIRE_HEADER_LEN ?
		    "shorter" : "does not match");
		free(copy);
	}
	wire_free_wiped(b, len);
	json_object_put(p);
}

Test(wire, deep_nesting)
{
	struct wire_msg m;
	json_object *p, *inner;
	char *s;
	uint8_t *b;
	size_t len, depth, i, k;
	bool encoded, decoded;

	/* 1000 levels of text: rejected without blowing the stack */
	s = malloc(2 * 1000 + 8);
	cr_assert_not_null(s);
	k = 0;
	s[k++] = '{';
	memcpy(s + k, "\"a\":", 4);
	k += 4;
	for (i = 0; i < 1000; i++)
		s[k++] = '[';
	for (i = 0; i < 1000; i++)
		s[k++] = ']';
	s[k++] = '}';
	s[k] = '\0';
	expect_frame_fails(WIRE_RESULT, s, NULL);
	free(s);

	/* whatever the encoder accepts the decoder accepts, and very deep
	 * trees are refused by both */
	for (depth = 1; depth <= JSON_MAX_DEPTH + 8; depth++) {
		p = json_object_new_object();
		inner = p;
		for (i = 1; i < depth; i++) {
			json_object *next = json_object_new_object();

			json_object_object_add(inner, "a", next);
			inner = next;
		}
		encoded = wire_encode(WIRE_RESULT, 1, p, &b, &len, &err) == 0;
		if (encoded) {
			decoded = wire_decode(b, len, &m, &err) == 0;
			cr_assert(decoded, "depth %zu encoded, not decoded: %s",
			    depth, err.msg);
			wire_msg_clear(&m);
			wire_free_wiped(b, len);
		} else {
			cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
			cr_assert_gt(depth, JSON_MAX_DEPTH / 2);
		}
		if (depth == 4)
			cr_assert(encoded);
		if (depth > JSON_MAX_DEPTH)
			cr_assert(!encoded, "depth %zu encoded", depth);
		json_object_put(p);
	}
}

Test(wire, invalid_utf8)
{
	static const char *const docs[] = {
		"{\"a\":\"\x80\"}",			/* lone continuation */
		"{\"a\":\"\xc0\xaf\"}",			/* overlong '/' */
		"{\"a\":\"\xe0\x80\xaf\"}",		/* overlong, 3 bytes */
		"{\"a\":\"\xed\xa0\x80\"}",		/* surrogate */
		"{\"a\":\"\xf4\x90\x80\x80\"}",		/* > U+10FFFF */
		"{\"a\":\"\xe2\x82\"}",			/* truncated */
		"{\"a\":\"\xff\"}",
		"{\"\xc3\":1}",				/* in a key */
		"{\"a\":1}\xc3",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_frame_fails(WIRE_LOG, docs[i], "log payload");
}

/* Whatever goes wrong, the error never carries the payload's bytes. */
Test(wire, errors_do_not_echo_payload)
{
	static const char *const docs[] = {
		"{\"secret\":\"HUNTER2HUNTER2\"",
		"[\"HUNTER2HUNTER2\"]",
		"\"HUNTER2HUNTER2\"",
		"{\"HUNTER2HUNTER2\":\"\xc0\xaf\"}",
		"{\"a\":HUNTER2HUNTER2}",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		expect_frame_fails(WIRE_JOB, docs[i], NULL);
		cr_assert(strstr(err.msg, "HUNTER2") == NULL, "%s", err.msg);
	}
}

/* xorshift64*: reproducible, so a failure can be replayed */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void
fuzz_one(const uint8_t *src, size_t len, unsigned *ok)
{
	struct wire_msg m;
	uint8_t *b;

	/* an exact-size copy, so any overread is caught by ASan */
	b = malloc(len > 0 ? len : 1);
	cr_assert_not_null(b);
	memcpy(b, src, len);
	if (wire_decode(b, len, &m, &err) == 0) {
		cr_assert_not_null(m.payload);
		cr_assert(json_object_is_type(m.payload, json_type_object));
		cr_assert(m.type >= WIRE_HELLO && m.type <= WIRE_TYPE_MAX);
		cr_assert_leq(len - WIRE_HEADER_LEN,
		    wire_max_payload(m.type));
		wire_msg_clear(&m);
		(*ok)++;
	} else {
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		cr_assert_null(m.payload);
	}
	free(b);
}

Test(wire, fuzz_random_buffers)
{
	/* JSON-ish alphabet, so some random payloads parse */
	static const char alpha[] = "{}[]\":,01a \\ntrufalse-.e\x80\xc3\xa9";
	uint8_t buf[WIRE_HEADER_LEN + 256];
	unsigned ok = 0, i;
	size_t len, plen, k;

	for (i = 0; i < 10000; i++) {
		plen = rng() % 200;
		for (k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)rng();
		switch (i % 4) {
		case 0:		/* pure garbage */
			len = rng() % sizeof(buf);
			break;
		case 1:		/* a valid header, garbage payload */
		case 2:		/* a valid header, JSON-ish payload */
			memcpy(buf, WIRE_MAGIC, 4);
			buf[4] = 0;
			buf[5] = WIRE_VERSION;
			buf[6] = 0;
			buf[7] = (uint8_t)(1 + rng() % WIRE_TYPE_MAX);
			buf[16] = buf[17] = buf[18] = 0;
			buf[19] = (uint8_t)plen;
			if (i % 4 == 2) {
				buf[WIRE_HEADER_LEN] = rng() % 3 == 0 ? '[' :
				    '{';
				for (k = 1; k < plen; k++)
					buf[WIRE_HEADER_LEN + k] = (uint8_t)
					    alpha[rng() % (sizeof(alpha) - 1)];
			}
			len = WIRE_HEADER_LEN + plen;
			break;
		default:	/* a valid frame with a few bytes flipped */
			{
				const char *ex = examples[1 + rng() %
				    WIRE_TYPE_MAX];
				uint8_t *f;

				f = frame_json((unsigned)(1 + rng() %
				    WIRE_TYPE_MAX), ex, &len);
				cr_assert_leq(len, sizeof(buf));
				memcpy(buf, f, len);
				free(f);
				for (k = 0; k < 1 + rng() % 3; k++)
					buf[rng() % len] = (uint8_t)rng();
				if (rng() % 4 == 0)
					len = rng() % (len + 1);
			}
			break;
		}
		fuzz_one(buf, len, &ok);
	}
	/* the generator is not so broken that nothing ever decodes */
	cr_assert_gt(ok, 50, "only %u of 10000 decoded", ok);
}

Test(wire, valid_job_id)
{
	static const struct {
		const char	*id;
		bool		 ok;
	} cases[] = {
		{ "a", true },
		{ "Z", true },
		{ "0", true },
		{ "_", true },
		{ "-", true },
		{ "job-42_AbC", true },
		{ "0123456789abcdef0123456789abcdef"
		  "0123456789abcdef0123456789abcdef", true },	/* 64 */
		{ "0123456789abcdef0123456789abcdef"
		  "0123456789abcdef0123456789abcdef0", false },	/* 65 */
		{ "", false },
		{ "a b", false },
		{ "a/b", false },
		{ "a.b", false },
		{ "..", false },
		{ "a\nb", false },
		{ "caf\xc3\xa9", false },
		{ "a+b", false },
		{ "a:b", false },
		{ "\x7f", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(wire_valid_job_id(cases[i].id), cases[i].ok,
		    "\"%s\"", cases[i].id);
	cr_assert(!wire_valid_job_id(NULL));
}

Test(wire, routing_id)
{
	const uint8_t want[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	    0x08 };
	uint8_t id[8];

	wire_routing_id(0x0102030405060708ULL, id);
	cr_assert_eq(memcmp(id, want, 8), 0);
	wire_routing_id(0, id);
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(id[i], 0);
	wire_routing_id(UINT64_MAX, id);
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(id[i], 0xff);
	wire_routing_id(1, id);
	cr_assert_eq(id[7], 1);
	cr_assert_eq(id[0], 0);
}

/* Clearing a decoded JOB or HELLO zeroes its secret strings, so a
 * reference kept past the clear sees no secret. */
Test(wire, clear_wipes_secrets)
{
	const unsigned types[] = { WIRE_JOB, WIRE_HELLO };
	struct wire_msg m;
	json_object *keys, *secret;
	const char *s;
	uint8_t *b;
	size_t len, i;

	for (i = 0; i < 2; i++) {
		b = frame_json(types[i], "{\"keys\":{\"secret\":\"abcdef\"}}",
		    &len);
		cr_assert_eq(wire_decode(b, len, &m, &err), 0, "%s", err.msg);
		free(b);
		keys = json_get_obj(m.payload, "keys");
		cr_assert_not_null(keys);
		cr_assert(json_object_object_get_ex(keys, "secret", &secret));
		json_object_get(secret);
		cr_assert_str_eq(json_object_get_string(secret), "abcdef");
		wire_msg_clear(&m);
		s = json_object_get_string(secret);
		for (size_t k = 0; k < 6; k++)
			cr_assert_eq(s[k], '\0');
		json_object_put(secret);
	}
	/* other types are left alone */
	b = frame_json(WIRE_LOG, "{\"message\":\"abcdef\"}", &len);
	cr_assert_eq(wire_decode(b, len, &m, &err), 0);
	free(b);
	cr_assert(json_object_object_get_ex(m.payload, "message", &secret));
	json_object_get(secret);
	wire_msg_clear(&m);
	cr_assert_str_eq(json_object_get_string(secret), "abcdef");
	json_object_put(secret);
	/* clearing twice, or an empty message, is harmless */
	wire_msg_clear(&m);
	wire_msg_clear(NULL);
	wire_free_wiped(NULL, 10);
}
