/* htab.c: a string-keyed hash table; SipHash keeps collisions out of a client's reach. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/htab.h"

struct hent {
	struct hent *next;
	uint64_t hash;
	void *value;
	char key[];
};

struct htab {
	struct hent **slots;
	size_t nslots;		/* a power of two */
	size_t count;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

#define HTAB_MIN_SLOTS	64

static uint64_t
htab_hash(const struct htab *h, const char *key, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(out, (const unsigned char *)key, len, h->key);
	memcpy(&v, out, sizeof(v));
	return v;
}

struct htab *
htab_new(void)
{
	struct htab *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->slots = calloc(HTAB_MIN_SLOTS, sizeof(*h->slots))) == NULL) {
		free(h);
		return NULL;
	}
	h->nslots = HTAB_MIN_SLOTS;
	randombytes_buf(h->key, sizeof(h->key));
	return h;
}

void
htab_free(struct htab *h, void (*free_value)(void *))
{
	struct hent *e, *next;
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nslots; i++) {
		for (e = h->slots[i]; e != NULL; e = next) {
			next = e->next;
			if (free_value != NULL)
				free_value(e->value);
			free(e);
		}
	}
	free(h->slots);
	free(h);
}

static struct hent **
htab_find(const struct htab *h, const char *key, uint64_t hash)
{
	struct hent **pp;

	for (pp = &h->slots[hash & (h->nslots - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if ((*pp)->hash == hash && strcmp((*pp)->key, key) == 0)
			return pp;
	return pp;
}

void *
htab_get(const struct htab *h, const char *key)
{
	struct hent **pp;

	pp = htab_find(h, key, htab_hash(h, key, strlen(key)));
	return *pp != NULL ? (*pp)->value : NULL;
}

/* Doubles the slots when the load passes 1; a failed grow only costs speed. */
static void
htab_grow(struct htab *h)
{
	struct hent **slots, *e, *next;
	size_t n, i;

	if (h->count < h->nslots || h->nslots > SIZE_MAX / 4 / sizeof(*slots))
		return;
	n = h->nslots * 2;
	if ((slots = calloc(n, sizeof(*slots))) == NULL)
		return;
	for (i = 0; i < h->nslots; i++) {
		for (e = h->slots[i]; e != NULL; e = next) {
			next = e->next;
			e->next = slots[e->hash & (n - 1)];
			slots[e->hash & (n - 1)] = e;
		}
	}
	free(h->slots);
	h->slots = slots;
	h->nslots = n;
}

int
htab_put(struct htab *h, const char *key, void *value, void **old)
{
	struct hent **pp, *e;
	size_t len = strlen(key);
	uint64_t hash = htab_hash(h, key, len);

	*old = NULL;
	pp = htab_find(h, key, hash);
	if (*pp != NULL) {
		*old = (*pp)->value;
		(*pp)->value = value;
		return 0;
	}
	if ((e = malloc(sizeof(*e) + len + 1)) == NULL)
		return -1;
	memcpy(e->key, key, len + 1);
	e->hash = hash;
	e->value = value;
	e->next = NULL;
	*pp = e;
	h->count++;
	htab_grow(h);
	return 0;
}

void *
htab_del(struct htab *h, const char *key)
{
	struct hent **pp, *e;
	void *v;

	pp = htab_find(h, key, htab_hash(h, key, strlen(key)));
	if ((e = *pp) == NULL)
		return NULL;
	*pp = e->next;
	v = e->value;
	free(e);
	h->count--;
	return v;
}

size_t
htab_count(const struct htab *h)
{
	return h->count;
}

void
htab_walk(const struct htab *h, void (*fn)(const char *, void *, void *),
    void *arg)
{
	struct hent *e;
	size_t i;

	for (i = 0; i < h->nslots; i++)
		for (e = h->slots[i]; e != NULL; e = e->next)
			fn(e->key, e->value, arg);
}
