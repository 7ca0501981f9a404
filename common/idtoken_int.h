/* idtoken_int.h: what idtoken.c (the token) and idtoken_certs.c (the certificates) share. */
#ifndef TP_IDTOKEN_INT_H
#define TP_IDTOKEN_INT_H

#include <sys/stat.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/idtoken.h"

struct idtoken_key {
	char		 kid[IDTOKEN_KID_MAX + 1];
	EVP_PKEY	*pk;
};

struct idtoken_set {
	size_t			n;
	struct idtoken_key	k[IDTOKEN_CERTS_COUNT];
};

struct idtoken_certs {
	pthread_mutex_t		 mu;		/* guards everything below */
	struct idtoken_set	*set;		/* NULL: none yet */

	/* a file */
	char			*path;
	struct stat		 st;		/* of the copy held */
	uint64_t		 stat_ms;	/* last looked at */

	/* a URL, and its thread */
	char			*url;
	bool			 thread;	/* started */
	pthread_t		 th;
	pthread_cond_t		 cv;
	bool			 stop, want;
	uint64_t		 expires_ms;	/* monotonic: refetch then */
	uint64_t		 fetched_ms;	/* last attempt, 0: never */
	int64_t			 min_refetch_ms;
	long			 timeout_ms;
};

/* The public key for kid, with a reference the caller frees; *any says
 * whether a set is held at all. */
EVP_PKEY	*idtoken_find(struct idtoken_certs *c, const char *kid,
		    bool *any);
/* A file source: re-read when it changed (at most once a second). */
void		 idtoken_file_check(struct idtoken_certs *c);
/* A URL source: a token named an unknown kid (rate-limited refetch). */
void		 idtoken_want(struct idtoken_certs *c);

#endif
