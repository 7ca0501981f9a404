/* test_secrets_seal.c: tenant secrets sealed with XChaCha20-Poly1305: round trips, tampering, the tenant's path as associated data, Alpaca credentials. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/secrets.h"
#include "tests/unit/secrets_fixture.h"

TestSuite(secrets, .init = secrets_setup, .fini = secrets_teardown);

/* Replaces a base64 string member of a sealed map with a version that
 * has one bit flipped in its decoded bytes. */
static void
flip_bit(json_object *sealed, const char *member)
{
	uint8_t bin[8192];
	char b64[12000];
	json_object *v;
	size_t len = 0;

	cr_assert(json_object_object_get_ex(sealed, member, &v));
	cr_assert_eq(sodium_base642bin(bin, sizeof(bin),
	    json_object_get_string(v), strlen(json_object_get_string(v)), NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	bin[len / 2] ^= 0x04;
	sodium_bin2base64(b64, sizeof(b64), bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
	json_object_object_add(sealed, member, json_object_new_string(b64));
}

Test(secrets, round_trip)
{
	struct secrets *s = fresh_secrets();
	uint8_t msg[SECRETS_PLAINTEXT_MAX], *pt = NULL;
	size_t lens[] = { 0, 1, 17, 300, SECRETS_PLAINTEXT_MAX };
	size_t i, ptlen = 0;
	json_object *sealed;

	randombytes_buf(msg, sizeof(msg));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		sealed = secrets_seal(s, PATH_A, msg, lens[i], &err);
		cr_assert_not_null(sealed, "%s", err.msg);
		cr_assert_str_eq(json_object_get_string(
		    json_object_object_get(sealed, "alg")), "xchacha20poly1305");
		cr_assert_eq(secrets_sealed_version(sealed), 1);
		cr_assert_eq(secrets_open(s, PATH_A, sealed, &pt, &ptlen,
		    &err), 0, "%s", err.msg);
		cr_assert_eq(ptlen, lens[i]);
		cr_assert_arr_eq(pt, msg, lens[i]);
		secrets_wipe_free(pt, ptlen);
		json_object_put(sealed);
	}
	secrets_free(s);
}

Test(secrets, seal_refuses_oversized_plaintext_and_empty_path)
{
	static uint8_t big[SECRETS_PLAINTEXT_MAX + 1];
	struct secrets *s = fresh_secrets();

	cr_assert_null(secrets_seal(s, PATH_A, big, sizeof(big), &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_null(secrets_seal(s, "", big, 1, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	secrets_free(s);
}

Test(secrets, two_seals_differ)
{
	struct secrets *s = fresh_secrets();
	json_object *a, *b;

	a = secrets_seal(s, PATH_A, (const uint8_t *)"same", 4, &err);
	b = secrets_seal(s, PATH_A, (const uint8_t *)"same", 4, &err);
	cr_assert_str_neq(json_object_get_string(json_object_object_get(a,
	    "nonce")), json_object_get_string(json_object_object_get(b,
	    "nonce")));
	cr_assert_str_neq(json_object_get_string(json_object_object_get(a,
	    "ciphertext")), json_object_get_string(json_object_object_get(b,
	    "ciphertext")));
	json_object_put(a);
	json_object_put(b);
	secrets_free(s);
}

Test(secrets, wrong_path_as_associated_data_fails)
{
	struct secrets *s = fresh_secrets();
	json_object *sealed;
	uint8_t *pt = (uint8_t *)"x";
	size_t ptlen = 7;

	sealed = secrets_seal(s, PATH_A, (const uint8_t *)"hunter2", 7, &err);
	cr_assert_not_null(sealed);
	cr_assert_eq(secrets_open(s, "users/" UID_B "/secrets/alpaca", sealed,
	    &pt, &ptlen, &err), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	cr_assert_not_null(strstr(err.msg, "cannot decrypt"), "%s", err.msg);
	cr_assert_null(pt);
	cr_assert_eq(ptlen, 0);
	cr_assert_eq(secrets_open(s, PATH_A "x", sealed, &pt, &ptlen, &err),
	    -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	json_object_put(sealed);
	secrets_free(s);
}

Test(secrets, tampered_ciphertext_nonce_or_version_fails)
{
	const char *members[] = { "ciphertext", "nonce" };
	struct secrets *s = fresh_secrets();
	json_object *sealed;
	uint8_t *pt = NULL;
	size_t i, ptlen = 0;

	for (i = 0; i < 2; i++) {
		sealed = secrets_seal(s, PATH_A, (const uint8_t *)"hunter2", 7,
		    &err);
		flip_bit(sealed, members[i]);
		cr_assert_eq(secrets_open(s, PATH_A, sealed, &pt, &ptlen,
		    &err), -1, "%s tampered but opened", members[i]);
		cr_assert_eq(err.code, TP_PERMISSION_DENIED);
		json_object_put(sealed);
	}
	/* A version the file does not have: a clear precondition error. */
	sealed = secrets_seal(s, PATH_A, (const uint8_t *)"hunter2", 7, &err);
	json_object_object_add(sealed, "key_version", json_object_new_int(7));
	cr_assert_eq(secrets_open(s, PATH_A, sealed, &pt, &ptlen, &err), -1);
	cr_assert_eq(err.code, TP_FAILED_PRECONDITION);
	cr_assert_str_eq(err.msg, "sealed with key version 7, which the key "
	    "file does not have");
	/* Not a number, or out of range: malformed. */
	json_object_object_add(sealed, "key_version",
	    json_object_new_string("1"));
	cr_assert_eq(secrets_open(s, PATH_A, sealed, &pt, &ptlen, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	cr_assert_eq(secrets_sealed_version(sealed), 0);
	json_object_object_add(sealed, "key_version", json_object_new_int(0));
	cr_assert_eq(secrets_open(s, PATH_A, sealed, &pt, &ptlen, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(sealed);
	secrets_free(s);
}

Test(secrets, version_pointing_at_another_key_fails)
{
	char text[512], l1[128], l2[128];
	struct secrets *s;
	json_object *sealed;
	uint8_t *pt = NULL;
	size_t ptlen = 0;

	key_line(l1, sizeof(l1), 1, 0x11);
	key_line(l2, sizeof(l2), 2, 0x22);
	snprintf(text, sizeof(text), "# test\n%s%s", l1, l2);
	write_keyfile(text, 0600);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	sealed = secrets_seal(s, PATH_A, (const uint8_t *)"hunter2", 7, &err);
	cr_assert_eq(secrets_sealed_version(sealed), 2);
	json_object_object_add(sealed, "key_version", json_object_new_int(1));
	cr_assert_eq(secrets_open(s, PATH_A, sealed, &pt, &ptlen, &err), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	json_object_put(sealed);
	secrets_free(s);
}

Test(secrets, malformed_sealed_maps_are_refused)
{
	const char *bad[] = {
		"[]",
		"{}",
		"{\"alg\": \"aes\", \"key_version\": 1, \"nonce\": \"\", "
		    "\"ciphertext\": \"\"}",
		"{\"alg\": \"xchacha20poly1305\", \"key_version\": 1, "
		    "\"nonce\": \"AAAA\", \"ciphertext\": \"AAAA\"}",
		"{\"alg\": \"xchacha20poly1305\", \"key_version\": 1, "
		    "\"nonce\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", "
		    "\"ciphertext\": \"AAAA\"}",
		"{\"alg\": \"xchacha20poly1305\", \"key_version\": 1, "
		    "\"nonce\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", "
		    "\"ciphertext\": \"!!!!\"}",
		"{\"alg\": \"xchacha20poly1305\", \"key_version\": 1, "
		    "\"nonce\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
		"{\"alg\": \"xchacha20poly1305\", \"key_version\": 1.0, "
		    "\"nonce\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", "
		    "\"ciphertext\": \"AAAAAAAAAAAAAAAAAAAAAAAA\"}",
	};
	struct secrets *s = fresh_secrets();
	json_object *o;
	uint8_t *pt = NULL;
	size_t i, ptlen = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_tokener_parse(bad[i]);
		cr_assert_not_null(o, "%s", bad[i]);
		cr_assert_eq(secrets_open(s, PATH_A, o, &pt, &ptlen, &err),
		    -1, "opened %s", bad[i]);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "%s: %s", bad[i],
		    err.msg);
		json_object_put(o);
	}
	/* A well-formed map of garbage bytes: authentication fails. */
	o = json_tokener_parse("{\"alg\": \"xchacha20poly1305\", "
	    "\"key_version\": 1, \"nonce\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    " \"ciphertext\": \"AAAAAAAAAAAAAAAAAAAAAAAA\"}");
	cr_assert_eq(secrets_open(s, PATH_A, o, &pt, &ptlen, &err), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	json_object_put(o);
	secrets_free(s);
}

Test(secrets, alpaca_round_trip)
{
	struct secrets *s = fresh_secrets();
	struct alpaca_creds c, out;
	json_object *doc, *v;
	const char *json;
	regex_t re;

	creds_set(&c, "PKTESTKEYID0001WXYZ", "s3cr3t/with+punct~!");
	doc = secrets_alpaca_doc(s, UID_A, &c, &err);
	cr_assert_not_null(doc, "%s", err.msg);
	cr_assert(json_object_object_get_ex(doc, "key_id_last4", &v));
	cr_assert_str_eq(json_object_get_string(v), "WXYZ");
	cr_assert(json_object_object_get_ex(doc, "updated_at", &v));
	cr_assert_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", REG_EXTENDED), 0);
	cr_assert_eq(regexec(&re, json_object_get_string(v), 0, NULL, 0), 0,
	    "updated_at %s", json_object_get_string(v));
	regfree(&re);
	cr_assert(json_object_object_get_ex(doc, "sealed", &v));
	cr_assert_eq(secrets_sealed_version(v), 1);
	/* Neither the secret nor the whole key id is in the document. */
	json = json_object_to_json_string(doc);
	cr_assert_null(strstr(json, c.secret));
	cr_assert_null(strstr(json, c.key_id));
	cr_assert_null(strstr(json, "s3cr3t"));
	cr_assert_eq(secrets_alpaca_open(s, UID_A, doc, &out, &err), 0, "%s",
	    err.msg);
	cr_assert_str_eq(out.key_id, c.key_id);
	cr_assert_str_eq(out.secret, c.secret);
	secrets_alpaca_wipe(&out);
	json_object_put(doc);
	secrets_free(s);
}

Test(secrets, alpaca_doc_survives_a_json_round_trip)
{
	struct secrets *s = fresh_secrets();
	struct alpaca_creds c, out;
	json_object *doc, *again;

	creds_set(&c, "AB", "x");
	doc = secrets_alpaca_doc(s, UID_A, &c, &err);
	cr_assert_not_null(doc, "%s", err.msg);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(doc,
	    "key_id_last4")), "AB");
	again = json_tokener_parse(json_object_to_json_string(doc));
	cr_assert_not_null(again);
	cr_assert_eq(secrets_alpaca_open(s, UID_A, again, &out, &err), 0,
	    "%s", err.msg);
	cr_assert_str_eq(out.key_id, "AB");
	cr_assert_str_eq(out.secret, "x");
	json_object_put(again);
	json_object_put(doc);
	secrets_free(s);
}

Test(secrets, alpaca_doc_copied_to_another_tenant_fails)
{
	struct secrets *s = fresh_secrets();
	struct alpaca_creds c, out;
	json_object *doc;

	creds_set(&c, "KEYID", "SECRET");
	doc = secrets_alpaca_doc(s, UID_A, &c, &err);
	cr_assert_not_null(doc, "%s", err.msg);
	memset(&out, 0x5a, sizeof(out));
	cr_assert_eq(secrets_alpaca_open(s, UID_B, doc, &out, &err), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	cr_assert_not_null(strstr(err.msg, "users/" UID_B "/secrets/alpaca"),
	    "%s", err.msg);
	json_object_put(doc);
	secrets_free(s);
}

/* Issue 9: key_id_last4 in the document is not authenticated; what is
 * shown comes from the sealed key id, and a swapped document fails. */
Test(secrets, alpaca_last4_comes_from_the_sealed_key_id)
{
	struct secrets *s = fresh_secrets();
	struct alpaca_creds c;
	json_object *a, *b;
	char last4[8];

	creds_set(&c, "PKAAAAWXYZ", "SECRET-A");
	a = secrets_alpaca_doc(s, UID_A, &c, &err);
	cr_assert_not_null(a, "%s", err.msg);
	creds_set(&c, "PKBBBBQRST", "SECRET-B");
	b = secrets_alpaca_doc(s, UID_B, &c, &err);
	cr_assert_not_null(b, "%s", err.msg);
	cr_assert_eq(secrets_alpaca_last4(s, UID_A, a, last4, sizeof(last4),
	    &err), 0, "%s", err.msg);
	cr_assert_str_eq(last4, "WXYZ");
	/* a forged clear hint is not believed */
	json_object_object_add(a, "key_id_last4",
	    json_object_new_string("QRST"));
	cr_assert_eq(secrets_alpaca_last4(s, UID_A, a, last4, sizeof(last4),
	    &err), 0, "%s", err.msg);
	cr_assert_str_eq(last4, "WXYZ");
	/* B's whole document under A's path: an error, never B's ending */
	memset(last4, 0, sizeof(last4));
	cr_assert_eq(secrets_alpaca_last4(s, UID_A, b, last4, sizeof(last4),
	    &err), -1);
	cr_assert_eq(err.code, TP_PERMISSION_DENIED);
	cr_assert_str_eq(last4, "");
	/* a short key id is shown whole */
	creds_set(&c, "AB", "S");
	json_object_put(b);
	b = secrets_alpaca_doc(s, UID_B, &c, &err);
	cr_assert_not_null(b, "%s", err.msg);
	cr_assert_eq(secrets_alpaca_last4(s, UID_B, b, last4, sizeof(last4),
	    &err), 0, "%s", err.msg);
	cr_assert_str_eq(last4, "AB");
	json_object_put(a);
	json_object_put(b);
	secrets_free(s);
}

Test(secrets, sealed_bytes_that_are_not_credentials_are_refused)
{
	struct secrets *s = fresh_secrets();
	const uint8_t *bad[] = {
		(const uint8_t *)"\x02\x01" "A\x01" "B",	/* format 2 */
		(const uint8_t *)"\x01\x00\x01" "B",		/* empty id */
		(const uint8_t *)"\x01\x01" "A\x02" "B",	/* short */
		(const uint8_t *)"\x01\x01" "A\x01" "BC",	/* long */
		(const uint8_t *)"\x01\x01" " \x01" "B",	/* space */
	};
	const size_t lens[] = { 5, 4, 5, 6, 5 };
	struct alpaca_creds out;
	json_object *doc;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc = json_object_new_object();
		json_object_object_add(doc, "sealed", secrets_seal(s, PATH_A,
		    bad[i], lens[i], &err));
		cr_assert_eq(secrets_alpaca_open(s, UID_A, doc, &out, &err),
		    -1, "case %zu opened", i);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
		json_object_put(doc);
	}
	secrets_free(s);
}

Test(secrets, alpaca_bad_credentials_and_uids_are_refused)
{
	struct secrets *s = fresh_secrets();
	const char *bad_uids[] = { "", "../x", "a/b", "caf\xc3\xa9", "a b",
	    NULL };
	struct alpaca_creds c;
	char long_uid[130];
	json_object *doc;
	size_t i;

	creds_set(&c, "has space", "ok");
	cr_assert_null(secrets_alpaca_doc(s, UID_A, &c, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	creds_set(&c, "", "ok");
	cr_assert_null(secrets_alpaca_doc(s, UID_A, &c, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	creds_set(&c, "ok", "tab\there");
	cr_assert_null(secrets_alpaca_doc(s, UID_A, &c, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	creds_set(&c, "ok", "caf\xc3\xa9");
	cr_assert_null(secrets_alpaca_doc(s, UID_A, &c, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	/* 129 characters: no terminating NUL inside the array. */
	memset(c.key_id, 'K', sizeof(c.key_id));
	cr_assert_null(secrets_alpaca_doc(s, UID_A, &c, &err));
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	/* 128 characters on both sides is the most and is fine. */
	memset(c.key_id, 'K', 128);
	c.key_id[128] = '\0';
	memset(c.secret, 'S', 128);
	c.secret[128] = '\0';
	doc = secrets_alpaca_doc(s, UID_A, &c, &err);
	cr_assert_not_null(doc, "%s", err.msg);
	json_object_put(doc);

	creds_set(&c, "ok", "ok");
	for (i = 0; i < sizeof(bad_uids) / sizeof(bad_uids[0]); i++) {
		cr_assert_null(secrets_alpaca_doc(s, bad_uids[i], &c, &err),
		    "uid %s accepted", bad_uids[i] ? bad_uids[i] : "NULL");
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	}
	memset(long_uid, 'u', 129);
	long_uid[129] = '\0';
	cr_assert_null(secrets_alpaca_doc(s, long_uid, &c, &err));
	long_uid[128] = '\0';
	doc = secrets_alpaca_doc(s, long_uid, &c, &err);
	cr_assert_not_null(doc, "%s", err.msg);
	json_object_put(doc);
	secrets_free(s);
}

Test(secrets, alpaca_open_refuses_a_doc_without_seal)
{
	struct secrets *s = fresh_secrets();
	struct alpaca_creds out;
	json_object *doc = json_tokener_parse("{\"key_id_last4\": \"ABCD\"}");

	cr_assert_eq(secrets_alpaca_open(s, UID_A, doc, &out, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	json_object_put(doc);
	secrets_free(s);
}

Test(secrets, wipe_clears_credentials)
{
	struct alpaca_creds c;
	size_t i;

	creds_set(&c, "KEYID", "SECRET");
	secrets_alpaca_wipe(&c);
	for (i = 0; i < sizeof(c); i++)
		cr_assert_eq(((unsigned char *)&c)[i], 0, "byte %zu", i);
	secrets_alpaca_wipe(NULL);
	secrets_wipe_free(NULL, 10);
}

Test(secrets, failed_alpaca_open_leaves_no_plaintext)
{
	struct secrets *s = fresh_secrets();
	struct alpaca_creds out;
	json_object *doc = json_object_new_object();
	size_t i;

	/* A seal that decrypts but holds a malformed record. */
	json_object_object_add(doc, "sealed", secrets_seal(s, PATH_A,
	    (const uint8_t *)"\x01\x04" "KEYI\x08" "SECRETX", 14, &err));
	memset(&out, 0x5a, sizeof(out));
	cr_assert_eq(secrets_alpaca_open(s, UID_A, doc, &out, &err), -1);
	for (i = 0; i < sizeof(out); i++)
		cr_assert_eq(((unsigned char *)&out)[i], 0, "byte %zu", i);
	json_object_put(doc);
	secrets_free(s);
}
