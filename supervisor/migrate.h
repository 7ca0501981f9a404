/* migrate.h: migrate.legacy, the job API's copy of the seed's single-user collections into one tenant. */
#ifndef TP_SUPERVISOR_MIGRATE_H
#define TP_SUPERVISOR_MIGRATE_H

#include "common/error.h"

struct api_req;

int	migrate_legacy_start(struct api_req *req, struct tp_err *err);

#endif
