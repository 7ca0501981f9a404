/* gauth_int.h: the credentials' state, between gauth.c and its test (which checks no key text is kept). */
#ifndef TP_GAUTH_INT_H
#define TP_GAUTH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/gauth.h"

struct gauth {
	/* Set by gauth_load, then read-only: a refresh reads them unlocked. */
	EVP_PKEY	*key;
	char		*project_id;
	char		*client_email;
	char		*key_id;
	char		*token_url;	/* the JWT's aud, and where it goes */
	int64_t		 early_ms;
	int64_t		 retry_ms;
	long		 timeout_ms;
	int64_t		(*now_ms)(void *arg);
	void		*now_arg;

	/* Everything below is guarded by mu. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 done;		/* a refresh ended */
	char		 token[GAUTH_TOKEN_MAX];
	int64_t		 expires_ms;	/* 0: no token */
	bool		 refreshing;	/* one token request at a time */
	bool		 thread_live;	/* thread is to be joined */
	pthread_t	 thread;
	int64_t		 failed_ms;	/* when the last refresh failed; 0: it did not */
	struct tp_err	 last_err;	/* why */
	uint64_t	 generation;	/* refreshes ended */
	uint64_t	 requests;	/* token requests made */
};

#endif
