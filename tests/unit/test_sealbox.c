/* test_sealbox.c: a JOB's keys sealed under a session key: round trip, tamper, wrong key, truncated, oversized, bad input. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <string.h>

#include <sodium.h>

#include "common/sealbox.h"

static uint8_t key[SEALBOX_KEY_BYTES], other[SEALBOX_KEY_BYTES];
static char text[SEALBOX_TEXT_MAX];
static char id[SEALBOX_FIELD_MAX + 1], sec[SEALBOX_FIELD_MAX + 1];
static struct tp_err err;

static void
setup(void)
{
	cr_assert_geq(sodium_init(), 0);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	tp_err_clear(&err);
	memset(id, 0x5a, sizeof(id));
	memset(sec, 0x5a, sizeof(sec));
}

TestSuite(sealbox, .init = setup);

static int
open_text(const uint8_t *k, const char *t)
{
	return sealbox_keys_open(k, t, strlen(t), id, sizeof(id), sec,
	    sizeof(sec), &err);
}

/* The outputs hold nothing after a failure. */
static void
assert_wiped(void)
{
	static const char zero[SEALBOX_FIELD_MAX + 1];

	cr_assert(memcmp(id, zero, sizeof(id)) == 0, "key id left behind");
	cr_assert(memcmp(sec, zero, sizeof(sec)) == 0, "secret left behind");
}

static void
seal(const char *k_id, const char *secret)
{
	cr_assert_eq(sealbox_keys_seal(key, k_id, secret, text, sizeof(text),
	    &err), 0, "%s", err.msg);
}

Test(sealbox, round_trip_without_the_clear_text)
{
	seal("PKTEST0001", "a secret with spaces ~!");
	cr_assert_null(strstr(text, "PKTEST0001"));
	cr_assert_null(strstr(text, "secret"));
	cr_assert_eq(open_text(key, text), 0, "%s", err.msg);
	cr_assert_str_eq(id, "PKTEST0001");
	cr_assert_str_eq(sec, "a secret with spaces ~!");
}

Test(sealbox, fields_of_the_largest_size_fit)
{
	char big_id[SEALBOX_FIELD_MAX + 1], big_sec[SEALBOX_FIELD_MAX + 1];

	memset(big_id, 'I', SEALBOX_FIELD_MAX);
	big_id[SEALBOX_FIELD_MAX] = '\0';
	memset(big_sec, 'S', SEALBOX_FIELD_MAX);
	big_sec[SEALBOX_FIELD_MAX] = '\0';
	seal(big_id, big_sec);
	cr_assert_lt(strlen(text), SEALBOX_TEXT_MAX);
	cr_assert_eq(open_text(key, text), 0, "%s", err.msg);
	cr_assert_str_eq(id, big_id);
	cr_assert_str_eq(sec, big_sec);
}

Test(sealbox, each_seal_has_its_own_nonce)
{
	char first[SEALBOX_TEXT_MAX];

	seal("PKTEST0001", "s");
	memcpy(first, text, sizeof(first));
	seal("PKTEST0001", "s");
	cr_assert_str_neq(first, text);
}

Test(sealbox, another_key_fails)
{
	seal("PKTEST0001", "secret");
	cr_assert_eq(open_text(other, text), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_not_null(strstr(err.msg, "session key"), "%s", err.msg);
	assert_wiped();
}

Test(sealbox, every_flipped_byte_fails)
{
	uint8_t bin[SEALBOX_BIN_MAX];
	char t[SEALBOX_TEXT_MAX];
	size_t binlen, i;

	seal("PKTEST0001", "secret");
	cr_assert_eq(sodium_base642bin(bin, sizeof(bin), text, strlen(text),
	    NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	for (i = 0; i < binlen; i++) {
		bin[i] ^= 0x01;
		sodium_bin2base64(t, sizeof(t), bin, binlen,
		    sodium_base64_VARIANT_ORIGINAL);
		bin[i] ^= 0x01;
		cr_assert_eq(open_text(key, t), -1, "byte %zu flipped", i);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		assert_wiped();
	}
}

Test(sealbox, truncated_fails)
{
	size_t len;

	seal("PKTEST0001", "secret");
	len = strlen(text);
	/* a whole base64 quantum less: valid base64, a failed MAC */
	cr_assert_eq(sealbox_keys_open(key, text, len - 4, id, sizeof(id),
	    sec, sizeof(sec), &err), -1);
	assert_wiped();
	/* one character less: not base64 */
	cr_assert_eq(sealbox_keys_open(key, text, len - 1, id, sizeof(id),
	    sec, sizeof(sec), &err), -1);
	cr_assert_not_null(strstr(err.msg, "not base64"), "%s", err.msg);
	/* shorter than a nonce and a MAC */
	cr_assert_eq(open_text(key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), -1);
	cr_assert_not_null(strstr(err.msg, "too short"), "%s", err.msg);
	cr_assert_eq(sealbox_keys_open(key, text, 0, id, sizeof(id), sec,
	    sizeof(sec), &err), -1);
}

Test(sealbox, oversized_fails)
{
	char big[2 * SEALBOX_TEXT_MAX];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(open_text(key, big), -1);
	cr_assert_not_null(strstr(err.msg, "not base64"), "%s", err.msg);
	/* one quantum past the largest that can be valid */
	big[SEALBOX_TEXT_MAX + 3] = '\0';
	cr_assert_eq(open_text(key, big), -1);
	assert_wiped();
}

Test(sealbox, bad_base64_fails)
{
	cr_assert_eq(open_text(key, "not base64!"), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	seal("PKTEST0001", "secret");
	/* a NUL inside the text */
	text[10] = '\0';
	cr_assert_eq(sealbox_keys_open(key, text, strlen(text + 11) + 11, id,
	    sizeof(id), sec, sizeof(sec), &err), -1);
}

/* A box that opens but does not hold the expected plaintext. */
static void
seal_raw(const uint8_t *pt, size_t len)
{
	uint8_t bin[SEALBOX_BIN_MAX + 64];

	cr_assert_leq(len + 40, sizeof(bin));
	randombytes_buf(bin, 24);
	crypto_secretbox_easy(bin + 24, pt, len, bin, key);
	sodium_bin2base64(text, sizeof(text), bin, len + 40,
	    sodium_base64_VARIANT_ORIGINAL);
}

Test(sealbox, malformed_plaintexts_fail)
{
	static const struct { const char *pt; size_t len; } bad[] = {
		{ "\x02\x01" "A\x01" "B", 5 },		/* format 2 */
		{ "\x01\x00\x01" "B", 4 },		/* empty key id */
		{ "\x01\x01" "A\x00", 4 },		/* empty secret */
		{ "\x01\x01" "A\x02" "B", 5 },		/* secret cut */
		{ "\x01\x01" "A\x01" "BC", 6 },		/* a byte too many */
		{ "\x01\x01" " \x01" "B", 5 },		/* space in the key id */
		{ "\x01\x01" "A\x01" "\n", 5 },		/* control in the secret */
		{ "\x01\x01" "A\x01" "\xc3", 5 },	/* not ASCII */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		seal_raw((const uint8_t *)bad[i].pt, bad[i].len);
		cr_assert_eq(open_text(key, text), -1, "case %zu", i);
		cr_assert_not_null(strstr(err.msg, "does not hold"),
		    "case %zu: %s", i, err.msg);
		assert_wiped();
	}
}

Test(sealbox, bad_fields_are_not_sealed)
{
	char big[SEALBOX_FIELD_MAX + 2];

	memset(big, 'X', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(sealbox_keys_seal(key, "", "s", text, sizeof(text),
	    &err), -1);
	cr_assert_eq(sealbox_keys_seal(key, "PK", "", text, sizeof(text),
	    &err), -1);
	cr_assert_eq(sealbox_keys_seal(key, "P K", "s", text, sizeof(text),
	    &err), -1);
	cr_assert_eq(sealbox_keys_seal(key, big, "s", text, sizeof(text),
	    &err), -1);
	cr_assert_eq(sealbox_keys_seal(key, "PK", big, text, sizeof(text),
	    &err), -1);
	cr_assert_null(strstr(err.msg, "XXXX"), "the value is never quoted");
	cr_assert_eq(sealbox_keys_seal(key, "PK", "s", text,
	    SEALBOX_TEXT_MAX - 1, &err), -1);
	cr_assert_eq(sealbox_keys_seal(NULL, "PK", "s", text, sizeof(text),
	    &err), -1);
}
