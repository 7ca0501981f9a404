/* wire.c: encoding and checking of the frames on the worker channel. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include "common/wire.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/jsonutil.h"

/* The same text json_compact() gives: no spaces, '/' not escaped. */
#define WIRE_JSON_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define WIRE_BUF_START	4096	/* a sync JOB or RESULT fits: no regrowth */

/*
 * The frame being built. It grows by malloc/copy/wipe/free rather than
 * realloc, so no stale copy of a secret (a JOB's keys, a HELLO's token) is
 * left in freed memory. Nothing is written past max (header + bound).
 */
struct wire_buf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	bool	 too_large;
	bool	 no_memory;
};

static const char *const wire_names[] = {
	[WIRE_HELLO] = "hello",
	[WIRE_CONFIG] = "config",
	[WIRE_JOB] = "job",
	[WIRE_JOB_BEGIN] = "job-begin",
	[WIRE_RESULT] = "result",
	[WIRE_LOG] = "log",
	[WIRE_HEARTBEAT] = "heartbeat",
	[WIRE_SHUTDOWN] = "shutdown",
};

static bool
wire_type_valid(unsigned int type)
{
	return type >= WIRE_HELLO && type <= WIRE_TYPE_MAX;
}

const char *
wire_type_name(enum wire_type type)
{
	if (!wire_type_valid((unsigned int)type))
		return "unknown";
	return wire_names[type];
}

size_t
wire_max_payload(enum wire_type type)
{
	switch (type) {
	case WIRE_HELLO:
	case WIRE_JOB_BEGIN:
	case WIRE_HEARTBEAT:
	case WIRE_SHUTDOWN:
		return WIRE_MAX_SMALL;
	case WIRE_LOG:
		return WIRE_MAX_LOG;
	case WIRE_CONFIG:
		return WIRE_MAX_CONFIG;
	case WIRE_JOB:
		return WIRE_MAX_JOB;
	case WIRE_RESULT:
		return WIRE_MAX_RESULT;
	}
	return 0;
}

static void
wire_put_be(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t
wire_get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

void
wire_routing_id(uint64_t generation, uint8_t id[8])
{
	wire_put_be(id, generation, 8);
}

/* Makes room for n more bytes; false (with a flag set) if it cannot. */
static bool
wire_buf_reserve(struct wire_buf *b, size_t n)
{
	uint8_t *np;
	size_t cap;

	if (b->too_large || b->no_memory)
		return false;
	if (n > b->max - b->len) {
		b->too_large = true;
		return false;
	}
	if (b->len + n <= b->cap)
		return true;
	cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
	if (cap > b->max)
		cap = b->max;
	if ((np = malloc(cap)) == NULL) {
		b->no_memory = true;
		return false;
	}
	memcpy(np, b->p, b->len);
	sodium_memzero(b->p, b->len);
	free(b->p);
	b->p = np;
	b->cap = cap;
	return true;
}

static void
wire_buf_put(struct wire_buf *b, const void *s, size_t n)
{
	if (n > 0 && wire_buf_reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

static void
wire_buf_putc(struct wire_buf *b, char c)
{
	wire_buf_put(b, &c, 1);
}

/* A JSON string, escaped the way json-c escapes it with WIRE_JSON_FLAGS,
 * so the frame is byte for byte what json_compact() would give. */
static void
wire_put_str(struct wire_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char esc[6];
	size_t i, start = 0;

	wire_buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\')
			continue;
		wire_buf_put(b, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (u[i]) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			wire_buf_put(b, esc, 6);
			continue;
		}
		wire_buf_put(b, esc, 2);
	}
	wire_buf_put(b, s + start, n - start);
	wire_buf_putc(b, '"');
}

static int
wire_put_value(struct wire_buf *b, json_object *o, int depth)
{
	struct json_object_iterator it, end;
	const char *s, *key;
	size_t i, n;

	if (depth > JSON_MAX_DEPTH)
		return -1;
	switch (json_object_get_type(o)) {
	case json_type_string:
		wire_put_str(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		return 0;
	case json_type_object:
		wire_buf_putc(b, '{');
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (i = 0; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it), i++) {
			if (i > 0)
				wire_buf_putc(b, ',');
			key = json_object_iter_peek_name(&it);
			wire_put_str(b, key, strlen(key));
			wire_buf_putc(b, ':');
			if (wire_put_value(b, json_object_iter_peek_value(&it),
			    depth + 1) == -1)
				return -1;
		}
		wire_buf_putc(b, '}');
		return 0;
	case json_type_array:
		wire_buf_putc(b, '[');
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (i > 0)
				wire_buf_putc(b, ',');
			if (wire_put_value(b, json_object_array_get_idx(o, i),
			    depth + 1) == -1)
				return -1;
		}
		wire_buf_putc(b, ']');
		return 0;
	default:
		/* null, booleans and numbers: json-c's own text (no secret
		 * lives there; its buffer is the leaf's own printbuf) */
		if ((s = json_object_to_json_string_length(o, WIRE_JSON_FLAGS,
		    &n)) == NULL) {
			b->no_memory = true;
			return 0;
		}
		wire_buf_put(b, s, n);
		return 0;
	}
}

/*
 * The payload is written by wire_put_value, not json-c's
 * json_object_to_json_string_ext: json-c would keep the text (for a JOB,
 * the tenant's secret) in the object's printbuf, grown by realloc, until
 * the object is freed. Strings in the payload object itself are still the
 * caller's to wipe (json_wipe_string) before releasing it.
 */
int
wire_encode(enum wire_type type, uint64_t generation, json_object *payload,
    uint8_t **buf, size_t *len, struct tp_err *err)
{
	struct wire_buf b = { 0 };
	size_t bound;

	if (buf == NULL || len == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "wire_encode: no output buffer");
	*buf = NULL;
	*len = 0;
	if (!wire_type_valid((unsigned int)type))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "unknown message type %u", (unsigned int)type);
	if (payload == NULL || !json_object_is_type(payload, json_type_object))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s payload is not a JSON object", wire_type_name(type));
	bound = wire_max_payload(type);
	b.max = WIRE_HEADER_LEN + bound;
	b.cap = WIRE_BUF_START < b.max ? WIRE_BUF_START : b.max;
	if ((b.p = malloc(b.cap)) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	memset(b.p, 0, WIRE_HEADER_LEN);
	b.len = WIRE_HEADER_LEN;
	if (wire_put_value(&b, payload, 1) == -1) {
		wire_free_wiped(b.p, b.cap);
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s payload is nested deeper than %d levels",
		    wire_type_name(type), JSON_MAX_DEPTH);
	}
	if (b.too_large || b.no_memory) {
		wire_free_wiped(b.p, b.cap);
		if (b.no_memory)
			return tp_err_set(err, TP_RESOURCE_EXHAUSTED,
			    "out of memory");
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s payload exceeds its bound of %zu bytes",
		    wire_type_name(type), bound);
	}
	memcpy(b.p, WIRE_MAGIC, 4);
	wire_put_be(b.p + 4, WIRE_VERSION, 2);
	wire_put_be(b.p + 6, (uint64_t)type, 2);
	wire_put_be(b.p + 8, generation, 8);
	wire_put_be(b.p + 16, b.len - WIRE_HEADER_LEN, 4);
	*buf = b.p;
	*len = b.len;
	return 0;
}

void
wire_free_wiped(uint8_t *buf, size_t len)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, len);
	free(buf);
}

/* Error messages name what is wrong, never the payload's bytes. */
int
wire_decode(const uint8_t *buf, size_t len, struct wire_msg *m,
    struct tp_err *err)
{
	struct tp_err jerr;
	unsigned int version, type;
	size_t plen, bound;
	json_object *o;

	if (m == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "wire_decode: no message");
	memset(m, 0, sizeof(*m));
	if (buf == NULL || len < WIRE_HEADER_LEN)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "frame of %zu bytes is shorter than the %d-byte header",
		    buf == NULL ? 0 : len, WIRE_HEADER_LEN);
	if (memcmp(buf, WIRE_MAGIC, 4) != 0)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "bad magic: not a worker channel frame");
	version = (unsigned int)wire_get_be(buf + 4, 2);
	if (version != WIRE_VERSION)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "protocol version %u, this side speaks version %d",
		    version, WIRE_VERSION);
	type = (unsigned int)wire_get_be(buf + 6, 2);
	if (!wire_type_valid(type))
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "unknown message type %u", type);
	plen = (size_t)wire_get_be(buf + 16, 4);
	bound = wire_max_payload((enum wire_type)type);
	if (plen > bound)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s payload of %zu bytes exceeds its bound of %zu bytes",
		    wire_type_name((enum wire_type)type), plen, bound);
	if (plen != len - WIRE_HEADER_LEN)
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s payload length %zu does not match the %zu bytes "
		    "after the header", wire_type_name((enum wire_type)type),
		    plen, len - WIRE_HEADER_LEN);
	tp_err_clear(&jerr);
	if ((o = json_parse((const char *)buf + WIRE_HEADER_LEN, plen,
	    &jerr)) == NULL)
		return tp_err_set(err, TP_INVALID_ARGUMENT, "%s payload: %s",
		    wire_type_name((enum wire_type)type), jerr.msg);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return tp_err_set(err, TP_INVALID_ARGUMENT,
		    "%s payload is not a JSON object",
		    wire_type_name((enum wire_type)type));
	}
	m->type = (enum wire_type)type;
	m->generation = wire_get_be(buf + 8, 8);
	m->payload = o;
	return 0;
}

void
wire_msg_clear(struct wire_msg *m)
{
	if (m == NULL)
		return;
	/* a HELLO's token and a JOB's keys are secrets */
	if (m->payload != NULL &&
	    (m->type == WIRE_HELLO || m->type == WIRE_JOB))
		json_wipe_string(m->payload);
	json_object_put(m->payload);
	memset(m, 0, sizeof(*m));
}

bool
wire_valid_job_id(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= WIRE_JOB_ID_MAX)
			return false;
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	}
	return i > 0;
}
