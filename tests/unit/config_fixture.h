/* config_fixture.h: the configuration tests' shared fixture: a config file in a temporary folder, load helpers, the defaults. */
#ifndef TP_TESTS_CONFIG_FIXTURE_H
#define TP_TESTS_CONFIG_FIXTURE_H

#include <stddef.h>

#include "common/config.h"
#include "common/error.h"

extern char tmpdir[64];
extern char conf[128];		/* tmpdir/tradepulse.conf */
extern struct config cfg;
extern struct tp_err err;

/* The suite's .init and .fini. */
void	config_setup(void);
void	config_teardown(void);
void	write_file(const char *path, const char *text, size_t len);
/* Loads text as the config file; it must load. */
void	load_ok(const char *text);
/* Loading must fail with exactly "conf:line: " and then reason. */
void	load_fails(const char *text, unsigned line, const char *reason);
/* Every field of c holds its documented default. */
void	check_defaults(const struct config *c);

#endif
