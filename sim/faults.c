/* faults.c: alpaca-sim's misbehaviours: what a key's replies become when the control API says so. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

static const char *const sim_behaviours[SIM_B_COUNT] = {
	[SIM_B_NORMAL] = "normal",
	[SIM_B_STATUS] = "status",
	[SIM_B_LATENCY] = "latency",
	[SIM_B_MALFORMED] = "malformed",
	[SIM_B_TRUNCATED] = "truncated",
	[SIM_B_HUGE] = "huge",
	[SIM_B_DEEP] = "deep",
	[SIM_B_WRONG_TYPES] = "wrong_types",
	[SIM_B_BAD_UTF8] = "bad_utf8",
	[SIM_B_DRIP] = "drip",
	[SIM_B_SILENT] = "silent",
};

const char *
sim_behaviour_name(enum sim_behaviour b)
{
	return b < SIM_B_COUNT ? sim_behaviours[b] : "?";
}

int
sim_behaviour_parse(const char *name, enum sim_behaviour *b)
{
	int i;

	for (i = 0; i < SIM_B_COUNT; i++) {
		if (strcmp(name, sim_behaviours[i]) == 0) {
			*b = (enum sim_behaviour)i;
			return 0;
		}
	}
	return -1;
}

/* The body with every comma a space and its last byte gone: broken
 * twice over, so that no lenient parser takes it. */
static struct evbuffer *
sim_malformed(struct evbuffer *body)
{
	size_t len = evbuffer_get_length(body), i;
	unsigned char *p = evbuffer_pullup(body, -1);
	struct evbuffer *out;

	if (p == NULL || len < 2) {
		evbuffer_drain(body, len);
		evbuffer_add(body, "{\"status\":", 10);
		return body;
	}
	for (i = 0; i < len; i++)
		if (p[i] == ',')
			p[i] = ' ';
	/* "[]" would lose nothing to the commas; "[" is not JSON either */
	if ((out = evbuffer_new()) == NULL)
		return body;
	evbuffer_add(out, p, len - 1);
	evbuffer_free(body);
	return out;
}

/* Bytes that are not UTF-8 (C3 28: a lead byte without its continuation)
 * at the start of the first string value. */
static struct evbuffer *
sim_bad_utf8(struct evbuffer *body)
{
	size_t len = evbuffer_get_length(body);
	char *p = (char *)evbuffer_pullup(body, -1), *q = NULL;
	struct evbuffer *out;

	if ((out = evbuffer_new()) == NULL)
		return body;
	if (p != NULL)
		q = memmem(p, len, "\":\"", 3);
	if (q == NULL)
		evbuffer_add(out, "[\"\xc3\x28\"]", 5);
	else {
		evbuffer_add(out, p, (size_t)(q - p) + 3);
		evbuffer_add(out, "\xc3\x28", 2);
		evbuffer_add(out, q + 3, len - (size_t)(q - p) - 3);
	}
	evbuffer_free(body);
	return out;
}

/* {"nested": [[[...]]]} SIM_DEEP_LEVELS deep */
static struct evbuffer *
sim_deep(struct evbuffer *body)
{
	struct evbuffer_iovec v;

	evbuffer_drain(body, evbuffer_get_length(body));
	evbuffer_add(body, "{\"nested\":", 10);
	if (evbuffer_reserve_space(body, 2 * SIM_DEEP_LEVELS, &v, 1) < 1 ||
	    v.iov_len < 2 * SIM_DEEP_LEVELS)
		return body;
	memset(v.iov_base, '[', SIM_DEEP_LEVELS);
	memset((char *)v.iov_base + SIM_DEEP_LEVELS, ']', SIM_DEEP_LEVELS);
	v.iov_len = 2 * SIM_DEEP_LEVELS;
	evbuffer_commit_space(body, &v, 1);
	evbuffer_add(body, "}", 1);
	return body;
}

/* The head of the huge body: the normal object (or an empty one) opened
 * again for a "padding" string that reply.c streams. */
static struct evbuffer *
sim_huge_head(struct evbuffer *body)
{
	size_t len = evbuffer_get_length(body);
	char *p = (char *)evbuffer_pullup(body, -1);

	struct evbuffer *out;

	if (p != NULL && len > 2 && p[0] == '{' && p[len - 1] == '}' &&
	    (out = evbuffer_new()) != NULL) {
		evbuffer_add(out, p, len - 1);
		evbuffer_add(out, ",\"padding\":\"", 12);
		evbuffer_free(body);
		return out;
	}
	evbuffer_drain(body, len);
	evbuffer_add(body, "{\"padding\":\"", 12);
	return body;
}

void
sim_fault_reply(struct sim *s, struct evhttp_request *req,
    const struct sim_account *a, struct evbuffer *body)
{
	uint64_t delay = s->latency_ms;
	char msg[64];

	switch (a->behaviour) {
	case SIM_B_NORMAL:
	case SIM_B_WRONG_TYPES:		/* made so by the body's builder */
		sim_send(s, req, 200, body, delay);
		break;
	case SIM_B_LATENCY:
		sim_send(s, req, 200, body, a->b_latency_ms);
		break;
	case SIM_B_STATUS:
		evbuffer_free(body);
		snprintf(msg, sizeof(msg), "simulated HTTP %d", a->b_status);
		sim_send(s, req, a->b_status,
		    sim_error_body(a->b_status, msg), delay);
		break;
	case SIM_B_MALFORMED:
		sim_send(s, req, 200, sim_malformed(body), delay);
		break;
	case SIM_B_BAD_UTF8:
		sim_send(s, req, 200, sim_bad_utf8(body), delay);
		break;
	case SIM_B_DEEP:
		sim_send(s, req, 200, sim_deep(body), delay);
		break;
	case SIM_B_TRUNCATED:
		sim_send_kind(s, req, SIM_PEND_TRUNCATED, 200, body, delay);
		break;
	case SIM_B_HUGE:
		sim_send_kind(s, req, SIM_PEND_HUGE, 200, sim_huge_head(body),
		    delay);
		break;
	case SIM_B_DRIP:
		sim_send_kind(s, req, SIM_PEND_DRIP, 200, body, delay);
		break;
	case SIM_B_SILENT:
		sim_send_kind(s, req, SIM_PEND_SILENT, 200, body, delay);
		break;
	default:
		evbuffer_free(body);
		evhttp_send_error(req, 500, NULL);
		break;
	}
}
