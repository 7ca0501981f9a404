/* sync.h: the job API's sync and job operations. */
#ifndef TP_SUPERVISOR_SYNC_H
#define TP_SUPERVISOR_SYNC_H

#include "common/error.h"

struct api_req;

int	sync_start(struct api_req *req, struct tp_err *err);
int	job_start(struct api_req *req, struct tp_err *err);

#endif
