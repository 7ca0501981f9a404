/* events.c: the event feed's socket: a ZeroMQ PUB on [daemon] events, two frames per event, never blocking. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/store.h"
#include "supervisor/events.h"
#include "supervisor/router.h"

struct events {
	struct router	 rt;
	uint64_t	 seq;		/* events made, sent or not */
	uint64_t	 sent;
	uint64_t	 dropped;	/* too large, or a send refused */
	bool		 sock;		/* false: listeners only */
	struct {
		events_listen_fn fn;
		void		*arg;
	}		 listeners[EVENTS_LISTENERS];
};

int
events_open(void *zctx, const char *endpoint, struct events **out,
    struct tp_err *err)
{
	int hwm = EVENTS_HWM, linger = 0;
	const struct router_opt opts[] = {
		{ ZMQ_SNDHWM, &hwm, sizeof(hwm), "ZMQ_SNDHWM" },
		{ ZMQ_LINGER, &linger, sizeof(linger), "ZMQ_LINGER" },
	};
	/* like the api socket: the folder and the group are the access
	 * control (config.c allows ipc:// only here) */
	const struct router_params rp = {
		.what = "events socket",
		.dir = ROUTER_DIR_CHECKED,
		.dir_mode = 0750,
		.sock_mode = 0660,
		.opts = opts,
		.nopts = sizeof(opts) / sizeof(opts[0]),
		.type = ZMQ_PUB,
	};
	struct events *ev;

	*out = NULL;
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
	if (endpoint == NULL || *endpoint == '\0') {
		*out = ev;
		return 0;
	}
	ev->sock = true;
	if (router_open(&ev->rt, zctx, endpoint, &rp, err) == -1) {
		router_close(&ev->rt);
		free(ev);
		return -1;
	}
	log_info("events: publishing on %s", endpoint);
	*out = ev;
	return 0;
}

void
events_close(struct events *ev)
{
	if (ev == NULL)
		return;
	if (ev->sock)
		router_close(&ev->rt);
	free(ev);
}

int
events_listen(struct events *ev, events_listen_fn fn, void *arg)
{
	size_t i;

	for (i = 0; ev != NULL && i < EVENTS_LISTENERS; i++)
		if (ev->listeners[i].fn == NULL) {
			ev->listeners[i].fn = fn;
			ev->listeners[i].arg = arg;
			return 0;
		}
	return -1;
}

void
events_unlisten(struct events *ev, events_listen_fn fn, void *arg)
{
	size_t i;

	for (i = 0; ev != NULL && i < EVENTS_LISTENERS; i++)
		if (ev->listeners[i].fn == fn && ev->listeners[i].arg == arg)
			ev->listeners[i].fn = NULL;
}

/* Sends topic and the JSON text; drops it rather than wait. Then the
 * listeners hear a tenant's event. */
static void
events_send(struct events *ev, const char *topic, const char *uid,
    const char *type, json_object *o)
{
	const char *text;
	size_t len = 0, i;

	if ((text = json_compact(o, &len)) == NULL || len > EVENTS_BODY_MAX) {
		ev->dropped++;
		log_debug("events: %s event of %zu bytes dropped", topic, len);
		return;
	}
	for (i = 0; uid != NULL && i < EVENTS_LISTENERS; i++)
		if (ev->listeners[i].fn != NULL)
			ev->listeners[i].fn(ev->listeners[i].arg, uid, type,
			    ev->seq, text, len);
	if (!ev->sock)
		return;
	if (zmq_send(ev->rt.sock, topic, strlen(topic),
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
		ev->dropped++;
		return;
	}
	/* the first frame went: the second goes too (atomic delivery) */
	if (zmq_send(ev->rt.sock, text, len, ZMQ_DONTWAIT) == -1) {
		ev->dropped++;
		return;
	}
	ev->sent++;
}

/* {"type", "at", "seq", "uid"?} followed by body's fields. */
static void
events_emit(struct events *ev, const char *topic, const char *uid,
    const char *type, json_object *body)
{
	json_object *o;
	char at[32];

	if (ev == NULL) {
		json_object_put(body);
		return;
	}
	if ((o = json_object_new_object()) == NULL) {
		ev->dropped++;
		json_object_put(body);
		return;
	}
	store_timestamp(at, sizeof(at));
	json_add(o, "type", json_object_new_string(type));
	json_add(o, "at", json_object_new_string(at));
	json_add(o, "seq", json_object_new_int64((int64_t)++ev->seq));
	if (uid != NULL)
		json_add(o, "uid", json_object_new_string(uid));
	if (body != NULL && json_object_is_type(body, json_type_object)) {
		json_object_object_foreach(body, k, v) {
			/* the envelope's fields are the feed's own */
			if (strcmp(k, "type") == 0 || strcmp(k, "at") == 0 ||
			    strcmp(k, "seq") == 0 || strcmp(k, "uid") == 0)
				continue;
			json_add(o, k, json_object_get(v));
		}
	}
	json_object_put(body);
	events_send(ev, topic, uid, type, o);
	json_object_put(o);
}

void
events_ops(struct events *ev, const char *type, json_object *body)
{
	events_emit(ev, EVENTS_TOPIC_OPS, NULL, type, body);
}

void
events_tenant(struct events *ev, const char *uid, const char *type,
    json_object *body)
{
	char topic[sizeof(EVENTS_TOPIC_TENANT) + UID_MAX_LEN];

	if (uid == NULL || *uid == '\0' || strlen(uid) > UID_MAX_LEN) {
		json_object_put(body);
		return;
	}
	snprintf(topic, sizeof(topic), "%s%s", EVENTS_TOPIC_TENANT, uid);
	events_emit(ev, topic, uid, type, body);
}

json_object *
events_status(const struct events *ev)
{
	json_object *o;

	if (ev == NULL || !ev->sock || (o = json_object_new_object()) == NULL)
		return NULL;
	json_add(o, "sent", json_object_new_int64((int64_t)ev->sent));
	json_add(o, "dropped", json_object_new_int64((int64_t)ev->dropped));
	return o;
}
