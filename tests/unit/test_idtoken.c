/* test_idtoken.c: Firebase ID tokens: keys and certificates made here, each forgery refused, certificates rotating from a file and from a URL. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "common/idtoken.h"
#include "common/path.h"

#define PROJECT	"proj-1"
#define ISS	"https://securetoken.google.com/" PROJECT

struct signer {
	EVP_PKEY	*key;
	char		*pem;		/* the self-signed certificate */
	char		 kid[32];
};

static struct signer s1, s2;
static struct idtoken_certs *certs;
static struct tp_err err;
static char dir[64] = "/tmp/test_idtoken.XXXXXX";
static char file[128];
static int64_t now;
static char uid[UID_MAX_LEN + 1];

/* A fresh RSA-2048 key and a self-signed certificate for it, in PEM. */
static void
signer_make(struct signer *s, const char *kid)
{
	X509 *x;
	X509_NAME *name;
	BIO *b;
	char *p;
	long n;

	s->key = EVP_RSA_gen(2048);
	cr_assert_not_null(s->key);
	x = X509_new();
	cr_assert_not_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, s->key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"securetoken.system.gserviceaccount.com",
	    -1, -1, 0);
	X509_set_issuer_name(x, name);
	cr_assert_gt(X509_sign(x, s->key, EVP_sha256()), 0);
	b = BIO_new(BIO_s_mem());
	cr_assert(PEM_write_bio_X509(b, x) == 1);
	n = BIO_get_mem_data(b, &p);
	s->pem = strndup(p, (size_t)n);
	BIO_free(b);
	X509_free(x);
	snprintf(s->kid, sizeof(s->kid), "%s", kid);
}

static void
signer_free(struct signer *s)
{
	EVP_PKEY_free(s->key);
	free(s->pem);
	memset(s, 0, sizeof(*s));
}

/* {"kid": "PEM", ...} for the signers given. */
static char *
certs_json(const struct signer *a, const struct signer *b)
{
	json_object *o = json_object_new_object();
	char *out;

	json_object_object_add(o, a->kid, json_object_new_string(a->pem));
	if (b != NULL)
		json_object_object_add(o, b->kid,
		    json_object_new_string(b->pem));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

static void
write_file(const char *path, const char *text)
{
	char tmp[160];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(rename(tmp, path), 0);
}

static void
setup(void)
{
	char *j;

	cr_assert_eq(sodium_init() >= 0, true);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/certs.json", dir);
	signer_make(&s1, "kid-one");
	signer_make(&s2, "kid-two");
	j = certs_json(&s1, NULL);
	write_file(file, j);
	free(j);
	cr_assert_eq(idtoken_certs_open(file, NULL, &certs, &err), 0, "%s",
	    err.msg);
	now = (int64_t)time(NULL);
	memset(uid, 0, sizeof(uid));
}

static void
teardown(void)
{
	char tmp[160];

	idtoken_certs_free(certs);
	certs = NULL;
	signer_free(&s1);
	signer_free(&s2);
	unlink(file);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	unlink(tmp);
	rmdir(dir);
}

static void
b64_append(char *out, size_t size, const void *bin, size_t len)
{
	size_t used = strlen(out);

	cr_assert_lt(used + sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), size);
	sodium_bin2base64(out + used, size - used, bin, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static char tok[40000];

/* header.payload from JSON texts, into tok. */
static void
unsigned_part(const char *header, const char *payload)
{
	tok[0] = '\0';
	b64_append(tok, sizeof(tok), header, strlen(header));
	strcat(tok, ".");
	b64_append(tok, sizeof(tok), payload, strlen(payload));
}

/* Appends ".sig" with RS256 by key. */
static void
sign_rs256(EVP_PKEY *key)
{
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	cr_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
	cr_assert(EVP_DigestSign(md, sig, &siglen, (unsigned char *)tok,
	    strlen(tok)) == 1);
	EVP_MD_CTX_free(md);
	strcat(tok, ".");
	b64_append(tok, sizeof(tok), sig, siglen);
}

/* The claims of a valid token for sub, with overrides as raw JSON. */
static void
claims(char *out, size_t size, const char *sub, int64_t exp, int64_t iat,
    int64_t auth_time, const char *aud, const char *iss)
{
	snprintf(out, size, "{\"iss\":\"%s\",\"aud\":\"%s\",\"auth_time\":%lld,"
	    "\"user_id\":\"%s\",\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,"
	    "\"firebase\":{\"identities\":{},\"sign_in_provider\":\"password\"}}",
	    iss, aud, (long long)auth_time, sub, sub, (long long)iat,
	    (long long)exp);
}

static void
good_claims(char *out, size_t size)
{
	claims(out, size, "alice", now + 3000, now - 600, now - 900, PROJECT,
	    ISS);
}

static void
make_rs256(const struct signer *s, const char *payload)
{
	char h[128];

	snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"typ\":\"JWT\"}", s->kid);
	unsigned_part(h, payload);
	sign_rs256(s->key);
}

static int
verify(bool emulator)
{
	tp_err_clear(&err);
	memset(uid, 0, sizeof(uid));
	return idtoken_verify(certs, tok, PROJECT, now, emulator, uid,
	    sizeof(uid), &err);
}

/* Refused as unauthenticated, for the reason named. */
static void
refused(const char *why)
{
	cr_assert_eq(verify(false), -1, "accepted; expected: %s", why);
	cr_assert_eq(err.code, TP_UNAUTHENTICATED);
	cr_assert_not_null(strstr(err.msg, why), "reason \"%s\", expected "
	    "\"%s\"", err.msg, why);
	cr_assert_eq(uid[0], '\0');
}

TestSuite(idtoken, .init = setup, .fini = teardown);

Test(idtoken, valid_token)
{
	char p[1024];

	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	cr_assert_eq(verify(false), 0, "%s", err.msg);
	cr_assert_str_eq(uid, "alice");
}

Test(idtoken, skew_allowed_and_not_more)
{
	char p[1024];

	/* 59 s past exp and iat 59 s ahead: within the 60 s allowance */
	claims(p, sizeof(p), "alice", now - 59, now + 59, now + 59, PROJECT,
	    ISS);
	make_rs256(&s1, p);
	cr_assert_eq(verify(false), 0, "%s", err.msg);
	claims(p, sizeof(p), "alice", now - 60, now - 100, now - 100, PROJECT,
	    ISS);
	make_rs256(&s1, p);
	refused("expired");
}

Test(idtoken, bad_signature)
{
	char p[1024];
	size_t n;

	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	n = strlen(tok);
	/* flip a bit in the middle of the signature's text */
	tok[n - 20] = tok[n - 20] == 'A' ? 'B' : 'A';
	refused("bad signature");
}

Test(idtoken, signed_by_another_key_same_kid)
{
	char p[1024];

	good_claims(p, sizeof(p));
	snprintf(s2.kid, sizeof(s2.kid), "%s", s1.kid);
	make_rs256(&s2, p);
	refused("bad signature");
}

Test(idtoken, alg_none)
{
	char p[1024];

	good_claims(p, sizeof(p));
	unsigned_part("{\"alg\":\"none\",\"typ\":\"JWT\"}", p);
	strcat(tok, ".");
	refused("alg none");
	/* the Auth emulator's tokens, when allowed */
	cr_assert_eq(verify(true), 0, "%s", err.msg);
	cr_assert_str_eq(uid, "alice");
	/* an unsigned token with a signature is still refused */
	strcat(tok, "abcd");
	cr_assert_eq(verify(true), -1);
	cr_assert_not_null(strstr(err.msg, "alg none with a signature"));
}

Test(idtoken, hs256_with_the_public_certificate)
{
	char p[1024], h[128];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	good_claims(p, sizeof(p));
	snprintf(h, sizeof(h), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", s1.kid);
	unsigned_part(h, p);
	cr_assert_not_null(HMAC(EVP_sha256(), s1.pem, (int)strlen(s1.pem),
	    (unsigned char *)tok, strlen(tok), mac, &maclen));
	strcat(tok, ".");
	b64_append(tok, sizeof(tok), mac, maclen);
	refused("alg is not RS256");
	cr_assert_eq(verify(true), -1);
}

Test(idtoken, unknown_kid)
{
	char p[1024];

	good_claims(p, sizeof(p));
	make_rs256(&s2, p);
	refused("unknown kid");
}

Test(idtoken, missing_kid)
{
	char p[1024];

	good_claims(p, sizeof(p));
	unsigned_part("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", p);
	sign_rs256(s1.key);
	refused("no kid");
}

Test(idtoken, expired)
{
	char p[1024];

	claims(p, sizeof(p), "alice", now - 3600, now - 7200, now - 7200,
	    PROJECT, ISS);
	make_rs256(&s1, p);
	refused("expired");
}

Test(idtoken, iat_in_the_future)
{
	char p[1024];

	claims(p, sizeof(p), "alice", now + 7200, now + 600, now - 10,
	    PROJECT, ISS);
	make_rs256(&s1, p);
	refused("iat is");
}

Test(idtoken, auth_time_in_the_future)
{
	char p[1024];

	claims(p, sizeof(p), "alice", now + 3000, now - 10, now + 600,
	    PROJECT, ISS);
	make_rs256(&s1, p);
	refused("auth_time is");
}

Test(idtoken, wrong_aud)
{
	char p[1024];

	claims(p, sizeof(p), "alice", now + 3000, now - 10, now - 10,
	    "proj-2", ISS);
	make_rs256(&s1, p);
	refused("aud is not");
}

Test(idtoken, wrong_iss)
{
	char p[1024];

	claims(p, sizeof(p), "alice", now + 3000, now - 10, now - 10,
	    PROJECT, "https://securetoken.google.com/proj-2");
	make_rs256(&s1, p);
	refused("iss is not");
	claims(p, sizeof(p), "alice", now + 3000, now - 10, now - 10,
	    PROJECT, "https://evil.example/" PROJECT);
	make_rs256(&s1, p);
	refused("iss is not");
}

Test(idtoken, empty_sub)
{
	char p[1024];

	claims(p, sizeof(p), "", now + 3000, now - 10, now - 10, PROJECT, ISS);
	make_rs256(&s1, p);
	refused("sub is missing or empty");
}

Test(idtoken, sub_of_128_and_129)
{
	char p[1024], sub[130];

	memset(sub, 'a', 128);
	sub[128] = '\0';
	claims(p, sizeof(p), sub, now + 3000, now - 10, now - 10, PROJECT, ISS);
	make_rs256(&s1, p);
	cr_assert_eq(verify(false), 0, "%s", err.msg);
	cr_assert_str_eq(uid, sub);
	memset(uid, 0, sizeof(uid));
	sub[128] = 'a';
	sub[129] = '\0';
	claims(p, sizeof(p), sub, now + 3000, now - 10, now - 10, PROJECT, ISS);
	make_rs256(&s1, p);
	refused("sub is longer than 128");
}

Test(idtoken, sub_not_a_store_uid)
{
	char p[1024];

	claims(p, sizeof(p), "a/b", now + 3000, now - 10, now - 10, PROJECT,
	    ISS);
	make_rs256(&s1, p);
	refused("not a valid uid");
}

Test(idtoken, broken_base64)
{
	char p[1024];
	char *dot;

	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	dot = strchr(tok, '.');
	dot[3] = '*';
	refused("payload is not base64url");
	/* padding is not base64url either */
	make_rs256(&s1, p);
	dot = strchr(tok, '.');
	memmove(dot + 1, dot, strlen(dot) + 1);
	dot[0] = '=';
	refused("header is not base64url");
}

Test(idtoken, extra_segment)
{
	char p[1024];

	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	strcat(tok, ".e30");
	refused("not three segments");
	make_rs256(&s1, p);
	*strrchr(tok, '.') = '\0';
	refused("not three segments");
}

Test(idtoken, over_8_kib)
{
	char p[12000], pad[9000];

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":\"" PROJECT "\","
	    "\"auth_time\":%lld,\"sub\":\"alice\",\"iat\":%lld,\"exp\":%lld,"
	    "\"pad\":\"%s\"}", (long long)now - 10, (long long)now - 10,
	    (long long)now + 3000, pad);
	make_rs256(&s1, p);
	cr_assert_gt(strlen(tok), IDTOKEN_MAX);
	refused("longer than 8192 bytes");
}

Test(idtoken, payload_not_json)
{
	unsigned_part("{\"alg\":\"RS256\",\"kid\":\"kid-one\"}",
	    "this is not {json");
	sign_rs256(s1.key);
	refused("payload is not JSON");
	unsigned_part("{\"alg\":\"RS256\",\"kid\":\"kid-one\"}", "[1,2]");
	sign_rs256(s1.key);
	refused("payload is not a JSON object");
}

Test(idtoken, signature_from_another_token)
{
	char p[1024], sig[1024];

	claims(p, sizeof(p), "bob", now + 3000, now - 10, now - 10, PROJECT,
	    ISS);
	make_rs256(&s1, p);
	snprintf(sig, sizeof(sig), "%s", strrchr(tok, '.'));
	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	cr_assert_eq(verify(false), 0, "%s", err.msg);
	memset(uid, 0, sizeof(uid));
	*strrchr(tok, '.') = '\0';
	strcat(tok, sig);
	refused("bad signature");
}

Test(idtoken, no_project_configured)
{
	char p[1024];

	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	cr_assert_eq(idtoken_verify(certs, tok, "", now, false, uid,
	    sizeof(uid), &err), -1);
	cr_assert_eq(err.code, TP_UNAUTHENTICATED);
}

Test(idtoken, reason_never_holds_the_token)
{
	char p[1024], sig[16];

	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	tok[strlen(tok) - 5] ^= 1;
	snprintf(sig, sizeof(sig), "%.12s", strrchr(tok, '.') + 1);
	cr_assert_eq(verify(false), -1);
	cr_assert_null(strstr(err.msg, sig));
	cr_assert_null(strstr(err.msg, "eyJ"));
}

Test(idtoken, certs_file_rejects_garbage)
{
	struct idtoken_certs *c = NULL;

	write_file(file, "{\"k\":\"not a certificate\"}");
	cr_assert_eq(idtoken_certs_open(file, NULL, &c, &err), -1);
	cr_assert_null(c);
	write_file(file, "[]");
	cr_assert_eq(idtoken_certs_open(file, NULL, &c, &err), -1);
	write_file(file, "{}");
	cr_assert_eq(idtoken_certs_open(file, NULL, &c, &err), -1);
	cr_assert_eq(idtoken_certs_open("http://example.com/x", NULL, &c,
	    &err), -1);
}

/* A file replaced by a new one is re-read (mtime, size, inode). */
Test(idtoken, certs_file_rotates)
{
	char p[1024], *j;

	good_claims(p, sizeof(p));
	make_rs256(&s2, p);
	refused("unknown kid");
	j = certs_json(&s2, NULL);
	write_file(file, j);
	free(j);
	usleep(1100 * 1000);	/* the file is looked at once a second */
	cr_assert_eq(verify(false), 0, "%s", err.msg);
	make_rs256(&s1, p);
	refused("unknown kid");
	/* a broken file keeps the set held */
	write_file(file, "{broken");
	usleep(1100 * 1000);
	make_rs256(&s2, p);
	cr_assert_eq(verify(false), 0, "%s", err.msg);
}

/* --- a URL: an HTTP server on loopback in a thread of the test --- */

struct srv {
	int		 fd;
	int		 stop[2];
	pthread_t	 th;
	char		 url[64];
	pthread_mutex_t	 mu;
	char		*body;
	int		 max_age;
	int		 nreqs;
};

static struct srv srv;

static void *
srv_main(void *arg)
{
	struct pollfd pf[2];
	char req[4096], head[256], *body;
	size_t used;
	ssize_t r;
	int c, age;

	(void)arg;
	for (;;) {
		pf[0].fd = srv.fd;
		pf[0].events = POLLIN;
		pf[1].fd = srv.stop[0];
		pf[1].events = POLLIN;
		if (poll(pf, 2, -1) <= 0 || pf[1].revents != 0)
			break;
		if ((c = accept(srv.fd, NULL, NULL)) == -1)
			continue;
		used = 0;
		while (used < sizeof(req) - 1 &&
		    (r = read(c, req + used, sizeof(req) - 1 - used)) > 0) {
			used += (size_t)r;
			req[used] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		pthread_mutex_lock(&srv.mu);
		body = strdup(srv.body);
		age = srv.max_age;
		srv.nreqs++;
		pthread_mutex_unlock(&srv.mu);
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/json; charset=UTF-8\r\n"
		    "Cache-Control: public, max-age=%d, must-revalidate, "
		    "no-transform\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", age, strlen(body));
		if (write(c, head, strlen(head)) < 0 ||
		    write(c, body, strlen(body)) < 0)
			(void)0;
		free(body);
		close(c);
	}
	return NULL;
}

static void
srv_start(const char *body, int max_age)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.mu, NULL);
	srv.body = strdup(body);
	srv.max_age = max_age;
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(srv.fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(srv.fd, 16), 0);
	cr_assert_eq(getsockname(srv.fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(srv.url, sizeof(srv.url), "http://127.0.0.1:%d/certs",
	    ntohs(sa.sin_port));
	cr_assert_eq(pipe(srv.stop), 0);
	cr_assert_eq(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
}

static void
srv_serve(const char *body, int max_age)
{
	pthread_mutex_lock(&srv.mu);
	free(srv.body);
	srv.body = strdup(body);
	srv.max_age = max_age;
	pthread_mutex_unlock(&srv.mu);
}

static int
srv_nreqs(void)
{
	int n;

	pthread_mutex_lock(&srv.mu);
	n = srv.nreqs;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void
srv_stop(void)
{
	cr_assert_eq(write(srv.stop[1], "x", 1), 1);
	pthread_join(srv.th, NULL);
	close(srv.fd);
	close(srv.stop[0]);
	close(srv.stop[1]);
	free(srv.body);
}

/* Verifies tok, retrying for up to ms: the fetch thread works alone. */
static int
verify_within(int ms)
{
	int waited;

	for (waited = 0; waited < ms; waited += 50) {
		if (verify(false) == 0)
			return 0;
		usleep(50 * 1000);
	}
	return verify(false);
}

Test(idtoken, url_rotates_after_max_age)
{
	struct idtoken_certs_opts o = { .min_refetch_ms = 3600 * 1000 };
	struct idtoken_certs *c;
	char p[1024], *j;
	struct timespec t0, t1;
	double ms;

	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	j = certs_json(&s1, NULL);
	srv_start(j, 1);
	free(j);
	cr_assert_eq(idtoken_certs_open(srv.url, &o, &c, &err), 0, "%s",
	    err.msg);
	idtoken_certs_free(certs);
	certs = c;
	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	cr_assert_eq(verify_within(3000), 0, "%s", err.msg);
	/* the new kid replaces the old one; unknown kids do not refetch
	 * (min_refetch is an hour): only the max-age of 1 s does */
	j = certs_json(&s2, NULL);
	srv_serve(j, 3600);
	free(j);
	make_rs256(&s2, p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(verify_within(4000), 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	cr_assert_lt(ms, 2500, "picked up after %.0f ms", ms);
	cr_assert_str_eq(uid, "alice");
	cr_assert_geq(srv_nreqs(), 2);
	make_rs256(&s1, p);
	refused("unknown kid");
	/* max-age 3600 now: no more requests */
	usleep(1500 * 1000);
	cr_assert_eq(srv_nreqs(), 2);
	idtoken_certs_free(certs);
	certs = NULL;
	srv_stop();
}

Test(idtoken, url_unknown_kid_refetches_rate_limited)
{
	struct idtoken_certs_opts o = { .min_refetch_ms = 300 };
	struct idtoken_certs *c;
	char p[1024], *j;
	int i, n;

	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	j = certs_json(&s1, NULL);
	srv_start(j, 3600);
	free(j);
	cr_assert_eq(idtoken_certs_open(srv.url, &o, &c, &err), 0, "%s",
	    err.msg);
	idtoken_certs_free(certs);
	certs = c;
	good_claims(p, sizeof(p));
	make_rs256(&s1, p);
	cr_assert_eq(verify_within(3000), 0, "%s", err.msg);
	j = certs_json(&s1, &s2);
	srv_serve(j, 3600);
	free(j);
	make_rs256(&s2, p);
	cr_assert_eq(verify_within(3000), 0, "%s", err.msg);
	cr_assert_eq(srv_nreqs(), 2);
	/* a flood of unknown kids: at most one fetch per 300 ms */
	snprintf(s2.kid, sizeof(s2.kid), "kid-forged");
	make_rs256(&s2, p);
	for (i = 0; i < 100; i++) {
		refused("unknown kid");
		usleep(10 * 1000);
	}
	n = srv_nreqs() - 2;
	cr_assert_geq(n, 1);
	cr_assert_leq(n, 5, "%d fetches in 1 s", n);
	idtoken_certs_free(certs);
	certs = NULL;
	srv_stop();
}
