/* logs.h: the operations that let an operator inspect what happened to a tenant: its log lines, the crash reports. */
#ifndef TP_SUPERVISOR_LOGS_H
#define TP_SUPERVISOR_LOGS_H

#include "common/error.h"

#define LOGS_N_DEFAULT	50	/* lines a logs request returns */
#define LOGS_N_MAX	1000
#define CRASHES_DEFAULT	20	/* reports a crashes request returns */
#define CRASHES_MAX	100

struct api_req;

/* logs_op.c: the logs operation (common/api.h). */
int	logs_start(struct api_req *req, struct tp_err *err);
/* crashes_op.c: the crashes operation (common/api.h). */
int	crashes_start(struct api_req *req, struct tp_err *err);

#endif
