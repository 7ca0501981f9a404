/* status.h: the status operation of the job API. */
#ifndef TP_STATUS_H
#define TP_STATUS_H

#include "common/error.h"

struct api_req;

int	status_start(struct api_req *req, struct tp_err *err);

#endif
