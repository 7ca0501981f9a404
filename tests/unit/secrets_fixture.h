/* secrets_fixture.h: the secrets tests' shared fixture: a temporary folder with a key file, and helpers. */
#ifndef TP_TESTS_SECRETS_FIXTURE_H
#define TP_TESTS_SECRETS_FIXTURE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/secrets.h"

#define UID_A	"tenantA"
#define UID_B	"tenantB"
#define PATH_A	"users/" UID_A "/secrets/alpaca"

extern char tmpdir[64];
extern char keyfile[128];	/* tmpdir/master.key */
extern struct tp_err err;

/* The suite's .init and .fini: a fresh tmpdir, libsodium ready; removed. */
void	secrets_setup(void);
void	secrets_teardown(void);
/* Writes text as the key file with the given mode. */
void	write_keyfile(const char *text, mode_t mode);
/* The whole text of a small file (a static buffer). */
char	*read_text(const char *path);
/* A base64 line for a key of 32 bytes all equal to b. */
void	key_line(char *buf, size_t size, unsigned version, uint8_t b);
/* Entries of tmpdir other than . and .. */
int	count_entries(void);
/* A new key file, loaded. */
struct secrets *fresh_secrets(void);
void	creds_set(struct alpaca_creds *c, const char *id, const char *secret);

#endif
