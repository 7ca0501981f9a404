/* keyring.c: a reference-counted master key ring. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <stdlib.h>

#include "supervisor/keyring.h"

struct keyring {
	struct secrets	*s;
	unsigned	 refs;
};

struct keyring *
keyring_wrap(struct secrets *s, struct tp_err *err)
{
	struct keyring *k;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		secrets_free(s);
		tp_err_set(err, TP_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	k->s = s;
	k->refs = 1;
	return k;
}

struct keyring *
keyring_load(const char *keyfile, struct tp_err *err)
{
	struct secrets *s;

	if ((s = secrets_load(keyfile, err)) == NULL)
		return NULL;
	return keyring_wrap(s, err);
}

struct keyring *
keyring_ref(struct keyring *k)
{
	k->refs++;
	return k;
}

void
keyring_unref(struct keyring *k)
{
	if (k == NULL || --k->refs > 0)
		return;
	secrets_free(k->s);
	free(k);
}

const struct secrets *
keyring_secrets(const struct keyring *k)
{
	return k->s;
}

unsigned
keyring_version(const struct keyring *k)
{
	return secrets_current_version(k->s);
}
