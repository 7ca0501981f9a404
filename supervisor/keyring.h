/* keyring.h: the daemon's master key ring, shared by reference with store work. */
#ifndef TP_KEYRING_H
#define TP_KEYRING_H

#include "common/error.h"
#include "common/secrets.h"

/*
 * A key ring is replaced (keys.rotate, SIGHUP) while store work started
 * earlier may still be sealing with it, so every user holds a reference
 * and the last one frees it. References are taken and dropped on the
 * event loop thread only; a work function only uses the ring it was
 * handed.
 */
struct keyring;

struct keyring		*keyring_load(const char *keyfile, struct tp_err *err);
/* Wraps an already loaded key set (the keyring takes it over). */
struct keyring		*keyring_wrap(struct secrets *s, struct tp_err *err);
struct keyring		*keyring_ref(struct keyring *k);
void			 keyring_unref(struct keyring *k);
const struct secrets	*keyring_secrets(const struct keyring *k);
unsigned		 keyring_version(const struct keyring *k);

#endif
