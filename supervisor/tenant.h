/* tenant.h: the tenant administration operations of the job API (tenant.add, .list, .show, .release, trading.set). */
#ifndef TP_TENANT_H
#define TP_TENANT_H

#include "common/error.h"

struct api_req;

int	tenant_add_start(struct api_req *req, struct tp_err *err);
int	tenant_list_start(struct api_req *req, struct tp_err *err);
int	tenant_show_start(struct api_req *req, struct tp_err *err);
int	trading_set_start(struct api_req *req, struct tp_err *err);
/* The operator lifts a quarantine: its document, strikes in memory. */
int	tenant_release_start(struct api_req *req, struct tp_err *err);

#endif
