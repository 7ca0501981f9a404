/* pulse_int.h: a pulse's state, shared by pulse.c (its run) and pulse_json.c (its figures). */
#ifndef TP_PULSE_INT_H
#define TP_PULSE_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/path.h"
#include "supervisor/pulse.h"

struct pulse_plan;

enum pulse_phase {
	PULSE_PLANNING,
	PULSE_PRICES,
	PULSE_SYNCING,
	PULSE_WRITING,
};

struct pulse {
	struct pulser		*ps;
	char			 id[PULSE_ID_LEN + 1];
	char			 trigger[16];
	char			 started_at[32];
	struct timespec		 start;
	enum pulse_phase	 phase;
	struct pulse_plan	*plan;		/* while planning or fetching */

	size_t			 users_total;
	size_t			 skipped_disabled;
	size_t			 skipped_no_keys;
	size_t			 skipped_quarantined;
	size_t			 to_sync;
	size_t			 outstanding;	/* sync jobs not ended */
	size_t			 ended;
	size_t			 synced;
	size_t			 errors;
	size_t			 crashed;
	size_t			 quarantined;
	bool			 interrupted;
	char			 error[TP_ERR_MSG_MAX + 64];	/* the pulse's own */
	/* the first tenants that failed, for `pulse --wait` (the rest are
	 * counted in errors only) */
	struct {
		char	uid[UID_MAX_LEN + 1];
		char	code[24];
	}			 failed[PULSE_FAILED_MAX];
	size_t			 nfailed;

	json_object		*prices;	/* symbol -> "decimal", or NULL */
	size_t			 symbols;
	bool			 data_key;	/* prices came from the data key */
	char			 prices_error[TP_ERR_MSG_MAX + 64];
	uint64_t		 req_account;
	uint64_t		 req_trades;
	uint64_t		 req_prices;
	uint64_t		 req_retries;

	uint64_t		 store_req0;	/* store_requests() at the start */
	uint64_t		 store_reqs;	/* the pulse's, once it ended */
	uint64_t		 plan_ms;	/* the plan took */
	uint64_t		 prices_ms;	/* the price fetch took */
	json_object		*doc;		/* ops/last_pulse, once written */
	TAILQ_HEAD(, pulse_waiter) waiters;
};

struct pulser {
	struct daemon		*d;
	struct event		*timer;
	uint64_t		 armed_ms;	/* 0: not armed */
	struct pulse		*cur;
	json_object		*last;		/* the last pulse's figures */
	json_object		*stored;	/* ops/last_pulse read at start */
	uint64_t		 runs;
	uint64_t		 overlaps;	/* scheduled turns skipped */
	bool			 stopping;
};
/* pulse_json.c */
const char	*pulse_phase_name(enum pulse_phase ph);
uint64_t	 pulse_elapsed_ms(const struct pulse *p);
/* Names a failed tenant in the pulse's figures, while there is room. */
void		 pulse_failed_add(struct pulse *p, const char *uid,
		    const char *code);
uint64_t	 pulse_store_requests(const struct pulse *p);

#endif
