/* test_secrets_keyfile.c: the master key file: keygen, modes, parsing, versions, rotation. */
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
