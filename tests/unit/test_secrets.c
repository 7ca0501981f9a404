/* test_secrets.c: master key file (modes, parsing, keygen, rotation) and sealed tenant secrets. */
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

#define UID_A	"tenantA"
#define UID_B	"tenantB"
#define PATH_A	"users/" UID_A "/secrets/alpaca"

static char tmpdir[64];
static char keyfile[128];
static struct tp_err err;

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/tp-test-secrets-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(keyfile, sizeof(keyfile), "%s/master.key", tmpdir);
	tp_err_clear(&err);
	cr_assert_eq(secrets_init(&err), 0);
}

static void
teardown(void)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(tmpdir);

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir,
			    de->d_name);
			if (unlink(path) == -1)
				rmdir(path);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}

TestSuite(secrets, .init = setup, .fini = teardown);

/* Writes text as the key file with the given mode. */
static void
write_keyfile(const char *text, mode_t mode)
{
	int fd;

	unlink(keyfile);
	fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(chmod(keyfile, mode), 0);
}

static char *
read_text(const char *path)
{
	static char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* A base64 line for a key of 32 bytes all equal to b. */
static void
key_line(char *buf, size_t size, unsigned version, uint8_t b)
{
	uint8_t key[SECRETS_KEY_BYTES];
	char b64[64];

	memset(key, b, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(buf, size, "v%u %s\n", version, b64);
}

/* Entries of tmpdir other than . and .. */
static int
count_entries(void)
{
	struct dirent *de;
	DIR *d = opendir(tmpdir);
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static struct secrets *
fresh_secrets(void)
{
	struct secrets *s;

	cr_assert_eq(secrets_keygen(keyfile, &err), 0, "%s", err.msg);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	return s;
}

static void
creds_set(struct alpaca_creds *c, const char *id, const char *secret)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->key_id, id);
	strcpy(c->secret, secret);
}

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

Test(secrets, keygen_makes_a_0600_file_with_version_1)
{
	struct secrets *s;
	struct stat st;
	regex_t re;

	s = fresh_secrets();
	cr_assert_eq(stat(keyfile, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(secrets_current_version(s), 1);
	cr_assert_eq(regcomp(&re, "^(#[^\n]*\n)*v1 [A-Za-z0-9+/]{43}=\n$",
	    REG_EXTENDED | REG_NEWLINE), 0);
	cr_assert_eq(regexec(&re, read_text(keyfile), 0, NULL, 0), 0,
	    "key file: %s", read_text(keyfile));
	regfree(&re);
	secrets_free(s);
}

Test(secrets, two_keygens_make_different_keys)
{
	char first[4096];

	cr_assert_eq(secrets_keygen(keyfile, &err), 0, "%s", err.msg);
	snprintf(first, sizeof(first), "%s", read_text(keyfile));
	unlink(keyfile);
	cr_assert_eq(secrets_keygen(keyfile, &err), 0, "%s", err.msg);
	cr_assert_str_neq(first, read_text(keyfile));
}

Test(secrets, keygen_refuses_to_overwrite)
{
	char before[4096];

	cr_assert_eq(secrets_keygen(keyfile, &err), 0, "%s", err.msg);
	snprintf(before, sizeof(before), "%s", read_text(keyfile));
	cr_assert_eq(secrets_keygen(keyfile, &err), -1);
	cr_assert_eq(err.code, TP_ALREADY_EXISTS);
	cr_assert_not_null(strstr(err.msg, "already exists"), "%s", err.msg);
	cr_assert_str_eq(read_text(keyfile), before);
}

Test(secrets, keygen_in_a_missing_folder_fails)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/no/such/master.key", tmpdir);
	cr_assert_eq(secrets_keygen(path, &err), -1);
	cr_assert_eq(err.code, TP_UNAVAILABLE);
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

Test(secrets, rotation_keeps_old_ciphertexts_and_reseal_moves_them)
{
	struct alpaca_creds c, out;
	struct secrets *s1, *s2;
	json_object *doc, *moved = NULL, *again = NULL, *sealed;
	unsigned version = 0;
	struct stat st;

	s1 = fresh_secrets();
	creds_set(&c, "KEYID1234", "SECRET5678");
	doc = secrets_alpaca_doc(s1, UID_A, &c, &err);
	cr_assert_not_null(doc, "%s", err.msg);
	json_object_object_add(doc, "updated_at",
	    json_object_new_string("2024-01-02T03:04:05.000006Z"));

	cr_assert_eq(secrets_keygen_rotate(keyfile, &version, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(version, 2);
	cr_assert_eq(stat(keyfile, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	s2 = secrets_load(keyfile, &err);
	cr_assert_not_null(s2, "%s", err.msg);
	cr_assert_eq(secrets_current_version(s2), 2);

	/* The old document still opens under the rotated file. */
	cr_assert_eq(secrets_alpaca_open(s2, UID_A, doc, &out, &err), 0, "%s",
	    err.msg);
	cr_assert_str_eq(out.secret, "SECRET5678");

	/* Reseal moves it to version 2, keeping updated_at. */
	cr_assert_eq(secrets_alpaca_reseal(s2, UID_A, doc, &moved, &err), 1,
	    "%s", err.msg);
	cr_assert_not_null(moved);
	cr_assert(json_object_object_get_ex(moved, "sealed", &sealed));
	cr_assert_eq(secrets_sealed_version(sealed), 2);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(moved,
	    "updated_at")), "2024-01-02T03:04:05.000006Z");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(moved,
	    "key_id_last4")), "1234");
	cr_assert_eq(secrets_alpaca_open(s2, UID_A, moved, &out, &err), 0,
	    "%s", err.msg);
	cr_assert_str_eq(out.key_id, "KEYID1234");
	cr_assert_str_eq(out.secret, "SECRET5678");
	/* The old key set cannot read the new version. */
	cr_assert_eq(secrets_alpaca_open(s1, UID_A, moved, &out, &err), -1);
	cr_assert_eq(err.code, TP_FAILED_PRECONDITION);

	/* Already current: nothing to do. */
	cr_assert_eq(secrets_alpaca_reseal(s2, UID_A, moved, &again, &err), 0);
	cr_assert_null(again);
	/* The reseal of another tenant's path fails, with no output. */
	cr_assert_eq(secrets_alpaca_reseal(s2, UID_B, doc, &again, &err), -1);
	cr_assert_null(again);

	json_object_put(moved);
	json_object_put(doc);
	secrets_free(s1);
	secrets_free(s2);
}

Test(secrets, rotation_twice_gives_three_versions)
{
	struct secrets *s;
	unsigned version = 0;
	regex_t re;

	cr_assert_eq(secrets_keygen(keyfile, &err), 0, "%s", err.msg);
	cr_assert_eq(secrets_keygen_rotate(keyfile, &version, &err), 0);
	cr_assert_eq(secrets_keygen_rotate(keyfile, &version, &err), 0);
	cr_assert_eq(version, 3);
	cr_assert_eq(regcomp(&re, "^(#[^\n]*\n)*v1 [^\n]{44}\nv2 [^\n]{44}\n"
	    "v3 [^\n]{44}\n$", REG_EXTENDED | REG_NEWLINE), 0);
	cr_assert_eq(regexec(&re, read_text(keyfile), 0, NULL, 0), 0, "%s",
	    read_text(keyfile));
	regfree(&re);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	cr_assert_eq(secrets_current_version(s), 3);
	secrets_free(s);
	/* No temporary file is left behind: the folder holds the key only. */
	cr_assert_eq(count_entries(), 1);
}

Test(secrets, rotation_of_a_bad_file_changes_nothing)
{
	unsigned version = 0;

	write_keyfile("v1 notbase64\n", 0600);
	cr_assert_eq(secrets_keygen_rotate(keyfile, &version, &err), -1);
	cr_assert_eq(err.code, TP_FAILED_PRECONDITION);
	cr_assert_str_eq(read_text(keyfile), "v1 notbase64\n");
	cr_assert_eq(count_entries(), 1);
	cr_assert_eq(chmod(keyfile, 0644), 0);
	cr_assert_eq(secrets_keygen_rotate(keyfile, &version, &err), -1);
	cr_assert_not_null(strstr(err.msg, "0644"), "%s", err.msg);
	unlink(keyfile);
	cr_assert_eq(secrets_keygen_rotate(keyfile, &version, &err), -1);
	cr_assert_eq(err.code, TP_UNAVAILABLE);
}

Test(secrets, a_file_with_versions_1_to_3_loads_and_uses_each)
{
	char text[1024], l1[128], l2[128], l3[128];
	struct secrets *s;
	json_object *sealed;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	unsigned v;

	key_line(l1, sizeof(l1), 1, 0x01);
	key_line(l2, sizeof(l2), 2, 0x02);
	key_line(l3, sizeof(l3), 3, 0x03);
	snprintf(text, sizeof(text), "# tradepulse master key file\n%s\n"
	    "# a comment\n%s%s", l1, l2, l3);
	write_keyfile(text, 0400);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	cr_assert_eq(secrets_current_version(s), 3);
	sealed = secrets_seal(s, PATH_A, (const uint8_t *)"abc", 3, &err);
	cr_assert_eq(secrets_sealed_version(sealed), 3);
	/* Each version decrypts what it sealed, and only that. */
	for (v = 1; v <= 3; v++) {
		json_object_object_add(sealed, "key_version",
		    json_object_new_int((int)v));
		cr_assert_eq(secrets_open(s, PATH_A, sealed, &pt, &ptlen, &err),
		    v == 3 ? 0 : -1, "version %u", v);
		secrets_wipe_free(pt, ptlen);
		pt = NULL;
	}
	json_object_put(sealed);
	secrets_free(s);
}

Test(secrets, a_file_with_gaps_loads)
{
	char text[512], l2[128], l5[128];
	struct secrets *s;

	key_line(l2, sizeof(l2), 2, 0x02);
	key_line(l5, sizeof(l5), 5, 0x05);
	snprintf(text, sizeof(text), "%s%s", l2, l5);
	write_keyfile(text, 0600);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	cr_assert_eq(secrets_current_version(s), 5);
	secrets_free(s);
}

Test(secrets, group_or_world_access_is_refused_with_the_reason)
{
	const mode_t modes[] = { 0644, 0640, 0604, 0620, 0602, 0660, 0666 };
	struct secrets *s;
	char expect[512];
	size_t i;

	cr_assert_eq(secrets_keygen(keyfile, &err), 0, "%s", err.msg);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		cr_assert_eq(chmod(keyfile, modes[i]), 0);
		cr_assert_null(secrets_load(keyfile, &err), "mode %04o",
		    (unsigned)modes[i]);
		cr_assert_eq(err.code, TP_FAILED_PRECONDITION);
		snprintf(expect, sizeof(expect), "master key file %s has mode "
		    "%04o; it must not be readable or writable by group or "
		    "others: chmod 600 %s", keyfile, (unsigned)modes[i],
		    keyfile);
		cr_assert_str_eq(err.msg, expect);
	}
	cr_assert_eq(chmod(keyfile, 0600), 0);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	secrets_free(s);
}

Test(secrets, missing_file_and_non_regular_files_are_refused)
{
	char dir[256];

	cr_assert_null(secrets_load(keyfile, &err));
	cr_assert_eq(err.code, TP_UNAVAILABLE);
	cr_assert_not_null(strstr(err.msg, keyfile), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "No such file"), "%s", err.msg);
	snprintf(dir, sizeof(dir), "%s/adir", tmpdir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_null(secrets_load(dir, &err));
	cr_assert_eq(err.code, TP_FAILED_PRECONDITION);
	cr_assert_not_null(strstr(err.msg, "not a regular file"), "%s",
	    err.msg);
}

/* Expands a template: G is a good "v1 <key>" line, K a good key, S the
 * base64 of a 31-byte key; every other character is copied. */
static void
expand(const char *tmpl, char *out, size_t size)
{
	char good[128], key[64], short_key[64];
	uint8_t k31[31];
	size_t len = 0;

	key_line(good, sizeof(good), 1, 0x01);
	snprintf(key, sizeof(key), "%.44s", good + 3);
	memset(k31, 7, sizeof(k31));
	sodium_bin2base64(short_key, sizeof(short_key), k31, sizeof(k31),
	    sodium_base64_VARIANT_ORIGINAL);
	out[0] = '\0';
	for (; *tmpl != '\0'; tmpl++) {
		const char *add = *tmpl == 'G' ? good : *tmpl == 'K' ? key :
		    *tmpl == 'S' ? short_key : NULL;

		if (add != NULL)
			len += (size_t)snprintf(out + len, size - len, "%s",
			    add);
		else
			len += (size_t)snprintf(out + len, size - len, "%c",
			    *tmpl);
	}
}

Test(secrets, garbage_files_are_refused_with_the_line)
{
	const struct { const char *tmpl; const char *want; } cases[] = {
		{ "# header\nGnot a key\n", ":3: expected" },
		{ "Gv1 K\n", ":2: key version 1 is not above" },
		{ "# h\n\nGv2 AAAA\n", ":4: the key is not 32 bytes" },
		{ "Gv3 S\n", ":2: the key is not 32 bytes" },
		{ "Gv3 KK\n", ":2: the key is not 32 bytes" },
		{ "Gv3 K \n", ":2: the key is not 32 bytes" },
		{ "Gv3 K\r\n", ":2: the key is not 32 bytes" },
		{ "G V2 x\n", ":2: expected" },
		{ "Gv0 x\n", ":2: expected" },
		{ "Gv02 x\n", ":2: expected" },
		{ "Gv2  K\n", ":2: the key is not 32 bytes" },
		{ "Gv9999999 K\n", ":2: expected" },
		{ "Gv2\n", ":2: expected" },
		{ "G#\n\t\n", ":3: expected" },
		{ "Gv2 K", "last line has no newline" },
		{ "", "has no key" },
		{ "# only a comment\n", "has no key" },
	};
	struct secrets *s;
	char text[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expand(cases[i].tmpl, text, sizeof(text));
		write_keyfile(text, 0600);
		cr_assert_null(secrets_load(keyfile, &err), "case %zu loaded",
		    i);
		cr_assert_eq(err.code, TP_FAILED_PRECONDITION, "case %zu", i);
		cr_assert_not_null(strstr(err.msg, cases[i].want),
		    "case %zu: %s (want %s)", i, err.msg, cases[i].want);
		cr_assert_not_null(strstr(err.msg, keyfile), "%s", err.msg);
	}
	/* The template expands to a loadable file when it is sound. */
	expand("# h\nGv2 K\n", text, sizeof(text));
	write_keyfile(text, 0600);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	cr_assert_eq(secrets_current_version(s), 2);
	secrets_free(s);
}

Test(secrets, oversized_and_binary_files_are_refused)
{
	static char big[20000];
	char text[256];
	int fd;

	memset(big, '#', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	write_keyfile(big, 0600);
	cr_assert_null(secrets_load(keyfile, &err));
	cr_assert_not_null(strstr(err.msg, "larger than"), "%s", err.msg);

	key_line(text, sizeof(text), 1, 0x01);
	unlink(keyfile);
	fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(write(fd, "\0\n", 2), 2);
	close(fd);
	cr_assert_null(secrets_load(keyfile, &err));
	cr_assert_not_null(strstr(err.msg, "NUL"), "%s", err.msg);
}

Test(secrets, more_than_64_versions_is_refused_and_rotation_stops_at_64)
{
	static char text[66 * 128];
	struct secrets *s;
	char line[128];
	unsigned v, version = 0;
	size_t len = 0;

	for (v = 1; v <= SECRETS_MAX_VERSIONS; v++) {
		key_line(line, sizeof(line), v, (uint8_t)v);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s",
		    line);
	}
	write_keyfile(text, 0600);
	s = secrets_load(keyfile, &err);
	cr_assert_not_null(s, "%s", err.msg);
	cr_assert_eq(secrets_current_version(s), SECRETS_MAX_VERSIONS);
	secrets_free(s);
	cr_assert_eq(secrets_keygen_rotate(keyfile, &version, &err), -1);
	cr_assert_not_null(strstr(err.msg, "64 versions"), "%s", err.msg);
	key_line(line, sizeof(line), 65, 65);
	snprintf(text + len, sizeof(text) - len, "%s", line);
	write_keyfile(text, 0600);
	cr_assert_null(secrets_load(keyfile, &err));
	cr_assert_not_null(strstr(err.msg, ":65: more than 64"), "%s",
	    err.msg);
}
