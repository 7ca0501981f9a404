/* datakey.h: the operator's market-data key ([alpaca] data_key_id, data_secret_file), read and checked. */
#ifndef TP_SUPERVISOR_DATAKEY_H
#define TP_SUPERVISOR_DATAKEY_H

#include "common/error.h"

struct alpaca_creds;

/* Reads the key id and the secret file into c (wipe it after); -1 with
 * the reason when the file is unusable (not a regular file, readable by
 * others, owned by another user, not one line of 1..API_SECRET_MAX). */
int	datakey_read(const char *key_id, const char *file,
	    struct alpaca_creds *c, struct tp_err *err);

#endif
