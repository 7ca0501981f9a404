/* htab.h: a string-keyed hash table (SipHash with a random key, chained, doubling). */
#ifndef TP_HTAB_H
#define TP_HTAB_H

#include <stddef.h>

struct htab;

/* An empty table; NULL when out of memory. */
struct htab *htab_new(void);
/* Frees the table; free_value (may be NULL) is called on every value. */
void htab_free(struct htab *h, void (*free_value)(void *));
/* The value stored under key, or NULL. */
void *htab_get(const struct htab *h, const char *key);
/* Stores value under key (copied). When the key was present its old value
 * is returned through *old (else *old = NULL) and replaced. -1 when out of
 * memory (the table is unchanged). */
int htab_put(struct htab *h, const char *key, void *value, void **old);
/* Removes key; returns its value or NULL. */
void *htab_del(struct htab *h, const char *key);
size_t htab_count(const struct htab *h);
/* Calls fn on every entry (no change to the table during the walk). */
void htab_walk(const struct htab *h, void (*fn)(const char *, void *, void *),
    void *arg);

#endif
