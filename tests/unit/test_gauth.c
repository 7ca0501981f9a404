/* test_gauth.c: service-account credentials against a token endpoint in the test that verifies the JWT: validity, caching, refresh before expiry, refusals. */
#include <config.h>		/* autoconf: _GNU_SOURCE; not common/config.h */

#include <criterion/criterion.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "common/clock.h"
#include "common/gauth.h"
#include "common/gauth_int.h"
#include "common/jsonutil.h"

#define KID		"0123456789abcdef0123456789abcdef01234567"
#define EMAIL		"tradepulse@demo-project.iam.gserviceaccount.com"
#define REQ_MAX		16384
#define SCRIPT_MAX	8

/* One scripted answer of the endpoint. */
struct answer {
	int		 status;
	const char	*body;
	unsigned	 delay_ms;
};

/* The token endpoint: a thread on 127.0.0.1 answering one request per
 * connection from the script, after checking every JWT it is sent. */
struct srv {
	int		 fd;
	int		 stop[2];
	pthread_t	 th;
	char		 url[64];
	struct answer	 script[SCRIPT_MAX];
	size_t		 nscript;
	pthread_mutex_t	 mu;
	size_t		 nreqs;		/* requests seen */
	size_t		 nbad;		/* JWTs that failed a check */
	char		 why[256];	/* the first failure */
};

static struct tp_err err;
static EVP_PKEY *key;
static char *pem;		/* the key's PEM text, as in the file */
static char dir[64] = "/tmp/test_gauth.XXXXXX";
static char file[128];
static struct srv srv;
static _Atomic int64_t fake_now;

static int64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void
bad(const char *why)
{
	pthread_mutex_lock(&srv.mu);
	if (srv.nbad++ == 0)
		snprintf(srv.why, sizeof(srv.why), "%s", why);
	pthread_mutex_unlock(&srv.mu);
}

/* base64url without padding to a NUL-terminated malloc'd buffer. */
static unsigned char *
unb64(const char *s, size_t len, size_t *out)
{
	unsigned char *bin = malloc(len + 1);

	cr_assert_not_null(bin);
	if (sodium_base642bin(bin, len, s, len, NULL, out, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(bin);
		return NULL;
	}
	bin[*out] = '\0';
	return bin;
}

static bool
str_is(json_object *o, const char *k, const char *want)
{
	const char *v = json_get_str(o, k);

	return v != NULL && strcmp(v, want) == 0;
}

/* Every check Google's endpoint makes of the assertion. */
static void
verify_jwt(const char *body)
{
	static const char grant[] = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	    "grant-type%3Ajwt-bearer&assertion=";
	const char *jwt, *dot1, *dot2;
	unsigned char *h = NULL, *c = NULL, *sig = NULL;
	size_t hl, cl, sl;
	json_object *ho = NULL, *co = NULL;
	struct tp_err perr;
	EVP_MD_CTX *md;
	int64_t iat, exp;

	if (strncmp(body, grant, sizeof(grant) - 1) != 0)
		{
		bad("grant_type");
		return;
	}
	jwt = body + sizeof(grant) - 1;
	if ((dot1 = strchr(jwt, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL || strchr(dot2 + 1, '.'))
		{
		bad("not three parts");
		return;
	}
	if ((h = unb64(jwt, (size_t)(dot1 - jwt), &hl)) == NULL ||
	    (c = unb64(dot1 + 1, (size_t)(dot2 - dot1 - 1), &cl)) == NULL ||
	    (sig = unb64(dot2 + 1, strlen(dot2 + 1), &sl)) == NULL) {
		bad("not base64url");
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestVerify(md, sig, sl, (const unsigned char *)jwt,
	    (size_t)(dot2 - jwt)) != 1)
		bad("signature");
	EVP_MD_CTX_free(md);
	if ((ho = json_parse((char *)h, hl, &perr)) == NULL ||
	    (co = json_parse((char *)c, cl, &perr)) == NULL) {
		bad("not JSON");
		goto out;
	}
	if (!str_is(ho, "alg", "RS256") || !str_is(ho, "typ", "JWT") ||
	    !str_is(ho, "kid", KID))
		bad("header");
	if (!str_is(co, "iss", EMAIL))
		bad("iss");
	if (!str_is(co, "scope", "https://www.googleapis.com/auth/datastore"))
		bad("scope");
	if (!str_is(co, "aud", srv.url))
		bad("aud");
	if (!json_get_int(co, "iat", &iat) || !json_get_int(co, "exp", &exp))
		bad("iat/exp");
	else if (exp - iat != 3600)
		bad("exp - iat");
	else if (iat < fake_now / 1000 - 5 || iat > fake_now / 1000 + 5)
		bad("iat not now");
out:
	json_object_put(ho);
	json_object_put(co);
	free(h);
	free(c);
	free(sig);
}

/* Reads one request (head and Content-Length body) into req. */
static bool
read_request(int c, char *req, char **body)
{
	size_t have = 0, want = 0;
	char *end, *cl;
	ssize_t n;

	for (;;) {
		n = read(c, req + have, REQ_MAX - 1 - have);
		if (n <= 0)
			return false;
		have += (size_t)n;
		req[have] = '\0';
		if ((end = strstr(req, "\r\n\r\n")) == NULL)
			continue;
		if (want == 0) {
			if ((cl = strcasestr(req, "Content-Length:")) == NULL)
				return false;
			want = (size_t)(end + 4 - req) + strtoul(cl + 15, NULL,
			    10);
		}
		if (have >= want || have == REQ_MAX - 1)
			break;
	}
	*body = end + 4;
	return true;
}

static void *
srv_main(void *arg)
{
	struct pollfd pf[2];
	struct answer a;
	char *req = malloc(REQ_MAX), *body, head[256];
	size_t n;
	int c;

	(void)arg;
	pf[0].fd = srv.fd;
	pf[0].events = POLLIN;
	pf[1].fd = srv.stop[0];
	pf[1].events = POLLIN;
	while (poll(pf, 2, 10000) > 0 && pf[1].revents == 0) {
		if ((c = accept(srv.fd, NULL, NULL)) == -1)
			continue;
		if (!read_request(c, req, &body)) {
			close(c);
			continue;
		}
		verify_jwt(body);
		pthread_mutex_lock(&srv.mu);
		n = srv.nreqs++;
		pthread_mutex_unlock(&srv.mu);
		a = n < srv.nscript ? srv.script[n] :
		    (struct answer){ 503, "{}", 0 };
		if (a.delay_ms > 0)
			usleep(a.delay_ms * 1000);
		snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", a.status, strlen(a.body));
		if (write(c, head, strlen(head)) < 0 ||
		    write(c, a.body, strlen(a.body)) < 0)
			bad("write");
		close(c);
	}
	free(req);
	return NULL;
}

static void
srv_start(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	pthread_mutex_init(&srv.mu, NULL);
	cr_assert_eq(pipe(srv.stop), 0);
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(srv.fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(srv.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(srv.fd, 16), 0);
	cr_assert_eq(getsockname(srv.fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(srv.url, sizeof(srv.url), "http://127.0.0.1:%u/token",
	    (unsigned)ntohs(sin.sin_port));
	cr_assert_eq(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
}

static size_t
srv_requests(void)
{
	size_t n;

	pthread_mutex_lock(&srv.mu);
	n = srv.nreqs;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void
script(struct answer a)
{
	cr_assert_lt(srv.nscript, SCRIPT_MAX);
	srv.script[srv.nscript++] = a;
}

/* Writes the key file with the given PEM text and mode; extra is
 * appended as one more member ("" for none). */
static void
write_file(const char *key_pem, mode_t mode, const char *extra_key,
    const char *token_uri)
{
	json_object *o = json_object_new_object();
	const char *text;
	size_t len;
	int fd;

	json_add(o, "type", json_object_new_string("service_account"));
	json_add(o, "project_id", json_object_new_string("demo-project"));
	json_add(o, "private_key_id", json_object_new_string(KID));
	json_add(o, "private_key", json_object_new_string(key_pem));
	json_add(o, "client_email", json_object_new_string(EMAIL));
	json_add(o, "client_id", json_object_new_string("1234567890"));
	json_add(o, "auth_uri", json_object_new_string(
	    "https://accounts.google.com/o/oauth2/auth"));
	json_add(o, "token_uri", json_object_new_string(token_uri));
	json_add(o, "universe_domain", json_object_new_string("googleapis.com"));
	if (extra_key != NULL)
		json_add(o, extra_key, json_object_new_string("x"));
	text = json_compact(o, &len);
	unlink(file);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
	json_object_put(o);
}

static void
setup(void)
{
	BIO *bio;
	char *p;
	long n;

	cr_assert_geq(sodium_init(), 0);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	tp_err_clear(&err);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/sa.json", dir);
	key = EVP_RSA_gen(2048);
	cr_assert_not_null(key);
	bio = BIO_new(BIO_s_mem());
	cr_assert_eq(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL), 1);
	n = BIO_get_mem_data(bio, &p);
	pem = strndup(p, (size_t)n);
	BIO_free(bio);
	fake_now = clock_real_ms();
	srv_start();
	write_file(pem, 0600, NULL, "https://oauth2.googleapis.com/token");
}

static void
teardown(void)
{
	cr_assert_eq(write(srv.stop[1], "x", 1), 1);
	pthread_join(srv.th, NULL);
	close(srv.fd);
	close(srv.stop[0]);
	close(srv.stop[1]);
	pthread_mutex_destroy(&srv.mu);
	unlink(file);
	rmdir(dir);
	EVP_PKEY_free(key);
	free(pem);
	curl_global_cleanup();
}

TestSuite(gauth, .init = setup, .fini = teardown, .timeout = 60);

static struct gauth *
load(int64_t retry_ms)
{
	struct gauth_opts o = {
		.token_url = srv.url, .now_ms = fake_clock,
		.retry_ms = retry_ms,
	};
	struct gauth *g;

	cr_assert_eq(gauth_load(file, &o, &g, &err), 0, "%s", err.msg);
	return g;
}

/* Waits (real time) until n refreshes have ended. */
static void
wait_generation(struct gauth *g, uint64_t n)
{
	uint64_t t0 = clock_mono_ms(), have;

	do {
		pthread_mutex_lock(&g->mu);
		have = g->generation;
		pthread_mutex_unlock(&g->mu);
		if (have >= n)
			return;
		usleep(5000);
	} while (clock_mono_ms() - t0 < 10000);
	cr_assert_fail("refresh %llu never ended", (unsigned long long)n);
}

/* A secret must appear nowhere in a message. */
static void
assert_no_secret(const char *msg)
{
	char frag[41];

	cr_assert_null(strstr(msg, "PRIVATE"), "%s", msg);
	cr_assert_null(strstr(msg, "eyJ"), "a JWT in: %s", msg);
	cr_assert_null(strstr(msg, "tok-"), "a token in: %s", msg);
	memcpy(frag, pem + 40, 40);	/* a piece of the key's base64 */
	frag[40] = '\0';
	cr_assert_null(strstr(msg, frag), "%s", msg);
}

#define TOKEN(t, s) "{\"access_token\":\"" t "\",\"expires_in\":" #s \
	",\"token_type\":\"Bearer\"}"

Test(gauth, jwt_valid_token_cached)
{
	struct gauth *g;
	char tok[GAUTH_TOKEN_MAX];

	script((struct answer){ 200, TOKEN("tok-1", 3599), 0 });
	g = load(0);
	cr_assert_str_eq(gauth_project(g), "demo-project");
	cr_assert_str_eq(gauth_email(g), EMAIL);
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	cr_assert_str_eq(tok, "tok-1");
	cr_assert_eq(srv_requests(), 1);
	cr_assert_eq(srv.nbad, 0, "JWT check failed: %s", srv.why);
	/* Cached: an hour later minus the early window, no request. */
	fake_now += 3599 * 1000 - GAUTH_EARLY_MS - 1000;
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	cr_assert_str_eq(tok, "tok-1");
	cr_assert_eq(srv_requests(), 1);
	cr_assert_eq(g->requests, 1);
	cr_assert_eq(gauth_token(g, tok, 5, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	gauth_free(g);
}

/*
 * expires_in 400 s with the 300 s early window: at 150 s the old token
 * comes back at once while the new one is fetched (the endpoint takes
 * 800 ms), and the next calls get the new one; no call fails or waits.
 */
Test(gauth, refreshed_before_expiry_without_stalling)
{
	struct gauth *g;
	char tok[GAUTH_TOKEN_MAX];
	uint64_t t0, t1;
	int64_t start = fake_now;
	int calls = 0;

	script((struct answer){ 200, TOKEN("tok-1", 400), 0 });
	script((struct answer){ 200, TOKEN("tok-2", 400), 800 });
	g = load(0);
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	cr_assert_str_eq(tok, "tok-1");
	fake_now = start + 50 * 1000;
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	cr_assert_str_eq(tok, "tok-1");
	cr_assert_eq(srv_requests(), 1, "refreshed outside the window");
	fake_now = start + 150 * 1000;
	t0 = clock_mono_ms();
	do {
		t1 = clock_mono_ms();
		cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0,
		    "call %d failed: %s", calls, err.msg);
		cr_assert_lt(clock_mono_ms() - t1, 200,
		    "call %d waited for the refresh", calls);
		calls++;
		if (strcmp(tok, "tok-1") == 0)
			usleep(10000);
	} while (strcmp(tok, "tok-2") != 0 && clock_mono_ms() - t0 < 10000);
	cr_assert_str_eq(tok, "tok-2");
	cr_assert_gt(calls, 10, "the old token was served meanwhile");
	cr_assert_geq(clock_mono_ms() - t0, 800);
	cr_assert_eq(srv_requests(), 2, "one refresh, not one per call");
	cr_assert_eq(srv.nbad, 0, "JWT check failed: %s", srv.why);
	/* The new token lasts from its own request. */
	fake_now = start + 150 * 1000 + 99 * 1000;
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	cr_assert_eq(srv_requests(), 2);
	gauth_free(g);
}

/* A failed refresh keeps the old token until it really expires. */
Test(gauth, failed_refresh_keeps_old_token)
{
	struct gauth *g;
	char tok[GAUTH_TOKEN_MAX];
	int64_t start = fake_now;

	script((struct answer){ 200, TOKEN("tok-1", 400), 0 });
	script((struct answer){ 500, "{}", 0 });
	script((struct answer){ 503, "oops", 0 });
	g = load(10000);
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	fake_now = start + 150 * 1000;
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	wait_generation(g, 2);
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	cr_assert_str_eq(tok, "tok-1");
	cr_assert_eq(srv_requests(), 2, "retried within retry_ms");
	fake_now = start + 390 * 1000;	/* past retry_ms: tries again */
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), 0, "%s", err.msg);
	cr_assert_str_eq(tok, "tok-1");
	wait_generation(g, 3);
	cr_assert_eq(srv_requests(), 3);
	fake_now = start + 401 * 1000;	/* expired: the failure shows */
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), -1);
	cr_assert_eq(err.code, TP_UNAVAILABLE);
	cr_assert_str_eq(err.msg, "token endpoint answered HTTP 503");
	gauth_free(g);
}

Test(gauth, endpoint_400_refused_without_secrets)
{
	struct gauth *g;
	char tok[GAUTH_TOKEN_MAX];
	char body[512];

	/* A hostile endpoint echoes the key's PEM in its description. */
	snprintf(body, sizeof(body), "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"%.40s eyJhbGciOi\"}", pem + 40);
	script((struct answer){ 400, body, 0 });
	script((struct answer){ 401, "{\"error\":\"PRIVATE eyJ tok-9\"}", 0 });
	g = load(1);
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), -1);
	cr_assert_eq(err.code, TP_UNAUTHENTICATED);
	cr_assert_str_eq(err.msg, "token endpoint refused the service "
	    "account's JWT: HTTP 400, invalid_grant");
	assert_no_secret(err.msg);
	fake_now += 1000;
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), -1);
	cr_assert_eq(err.code, TP_UNAUTHENTICATED);
	cr_assert_str_eq(err.msg, "token endpoint refused the service "
	    "account's JWT: HTTP 401");
	cr_assert_eq(srv.nbad, 0, "JWT check failed: %s", srv.why);
	gauth_free(g);
}

Test(gauth, endpoint_500_and_garbage)
{
	static const struct {
		struct answer	 a;
		const char	*msg;
	} cases[] = {
		{ { 500, "{\"error\":\"internal\"}", 0 },
		    "token endpoint answered HTTP 500" },
		{ { 200, "tok-7 is not JSON", 0 },
		    "token endpoint's reply is not JSON" },
		{ { 200, "{\"access_token\":\"tok-7\",\"token_type\":\"Bearer\"}", 0 },
		    "token endpoint's reply lacks access_token, expires_in or "
		    "token_type" },
		{ { 200, "{\"access_token\":\"tok-7\",\"expires_in\":\"3599\","
		    "\"token_type\":\"Bearer\"}", 0 },
		    "token endpoint's reply lacks access_token, expires_in or "
		    "token_type" },
		{ { 200, "{\"access_token\":\"tok-7\",\"expires_in\":3599,"
		    "\"token_type\":\"MAC\"}", 0 },
		    "token endpoint's token is not a Bearer token" },
		{ { 200, "{\"access_token\":\"tok 7\\r\\nX: y\",\"expires_in\":"
		    "3599,\"token_type\":\"Bearer\"}", 0 },
		    "token endpoint's access_token is not a token" },
		{ { 200, "{\"access_token\":\"tok-7\",\"expires_in\":-5,"
		    "\"token_type\":\"Bearer\"}", 0 },
		    "token endpoint's expires_in is out of range" },
	};
	struct gauth *g;
	char tok[GAUTH_TOKEN_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		script(cases[i].a);
	g = load(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_now += 1000;
		cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), -1,
		    "case %zu", i);
		cr_assert_eq(err.code, TP_UNAVAILABLE, "case %zu", i);
		cr_assert_str_eq(err.msg, cases[i].msg, "case %zu", i);
		assert_no_secret(err.msg);
	}
	cr_assert_eq(srv_requests(), i);
	gauth_free(g);
}

Test(gauth, endpoint_unreachable_and_reply_too_long)
{
	struct gauth_opts o = {
		.token_url = "http://127.0.0.1:1/token", .timeout_ms = 2000,
	};
	/* static: the server thread may still be writing it when the
	 * client has given up on the reply */
	static char huge[128 * 1024];
	struct gauth *g;
	char tok[GAUTH_TOKEN_MAX];

	cr_assert_eq(gauth_load(file, &o, &g, &err), 0, "%s", err.msg);
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), -1);
	cr_assert_eq(err.code, TP_UNAVAILABLE);
	cr_assert_not_null(strstr(err.msg, "token endpoint: "), "%s", err.msg);
	gauth_free(g);

	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	script((struct answer){ 200, huge, 0 });
	g = load(0);
	cr_assert_eq(gauth_token(g, tok, sizeof(tok), &err), -1);
	cr_assert_eq(err.code, TP_UNAVAILABLE);
	cr_assert_not_null(strstr(err.msg, "(reply too long)"), "%s", err.msg);
	gauth_free(g);
}

Test(gauth, file_readable_by_others_refused)
{
	struct gauth *g;

	write_file(pem, 0644, NULL, "https://oauth2.googleapis.com/token");
	cr_assert_eq(gauth_load(file, NULL, &g, &err), -1);
	cr_assert_null(g);
	cr_assert_eq(err.code, TP_FAILED_PRECONDITION);
	cr_assert_not_null(strstr(err.msg, "has mode 0644"), "%s", err.msg);
	write_file(pem, 0640, NULL, "https://oauth2.googleapis.com/token");
	cr_assert_eq(gauth_load(file, NULL, &g, &err), -1);
	cr_assert_not_null(strstr(err.msg, "chmod 600"), "%s", err.msg);
	write_file(pem, 0400, NULL, "https://oauth2.googleapis.com/token");
	cr_assert_eq(gauth_load(file, NULL, &g, &err), 0, "%s", err.msg);
	gauth_free(g);
}

Test(gauth, malformed_key_refused)
{
	char *cut = strndup(pem, strlen(pem) / 2);
	char *flipped = strdup(pem);
	EVP_PKEY *small = EVP_RSA_gen(1024);
	BIO *bio = BIO_new(BIO_s_mem());
	struct gauth *g;
	char *p, *small_pem;
	long n;

	flipped[200] = flipped[200] == 'A' ? 'B' : 'A';
	PEM_write_bio_PrivateKey(bio, small, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &p);
	small_pem = strndup(p, (size_t)n);
	const char *bad_pems[] = {
		"not a key", cut, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
		"-----END PRIVATE KEY-----\n", flipped, small_pem,
	};
	for (size_t i = 0; i < sizeof(bad_pems) / sizeof(bad_pems[0]); i++) {
		write_file(bad_pems[i], 0600, NULL,
		    "https://oauth2.googleapis.com/token");
		cr_assert_eq(gauth_load(file, NULL, &g, &err), -1, "pem %zu",
		    i);
		cr_assert_eq(err.code, TP_INVALID_ARGUMENT, "pem %zu", i);
		cr_assert_not_null(strstr(err.msg, "private_key"), "%s",
		    err.msg);
		assert_no_secret(err.msg);
	}
	BIO_free(bio);
	EVP_PKEY_free(small);
	free(small_pem);
	free(cut);
	free(flipped);
}

Test(gauth, file_validated_strictly)
{
	struct gauth_opts o = { .token_url = "http://example.com/token" };
	struct gauth *g;
	int fd;

	write_file(pem, 0600, "private_key_pem", "https://oauth2.googleapis.com/token");
	cr_assert_eq(gauth_load(file, NULL, &g, &err), -1);
	cr_assert_not_null(strstr(err.msg, "unknown member \"private_key_pem\""),
	    "%s", err.msg);
	write_file(pem, 0600, NULL, "http://oauth2.googleapis.com/token");
	cr_assert_eq(gauth_load(file, NULL, &g, &err), -1);
	cr_assert_not_null(strstr(err.msg, "token_uri is not an https:// URL"),
	    "%s", err.msg);
	write_file(pem, 0600, NULL, "https://oauth2.googleapis.com/token");
	cr_assert_eq(gauth_load(file, &o, &g, &err), -1);
	cr_assert_not_null(strstr(err.msg, "loopback"), "%s", err.msg);
	/* Not JSON: the message never quotes the text. */
	unlink(file);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_eq(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
	close(fd);
	cr_assert_eq(gauth_load(file, NULL, &g, &err), -1);
	cr_assert_eq(err.code, TP_INVALID_ARGUMENT);
	assert_no_secret(err.msg);
	cr_assert_eq(gauth_load("/nonexistent/sa.json", NULL, &g, &err), -1);
	cr_assert_eq(err.code, TP_UNAVAILABLE);
}

/* After loading, nothing the struct holds or points to has the PEM. */
Test(gauth, pem_text_not_kept)
{
	const char *strs[4];
	char frag[41];
	struct gauth *g = load(0);
	size_t i;

	memcpy(frag, pem + 40, 40);
	frag[40] = '\0';
	cr_assert_null(memmem(g, sizeof(*g), "PRIVATE KEY", 11));
	cr_assert_null(memmem(g, sizeof(*g), frag, 40));
	strs[0] = g->project_id;
	strs[1] = g->client_email;
	strs[2] = g->key_id;
	strs[3] = g->token_url;
	for (i = 0; i < 4; i++) {
		cr_assert_null(strstr(strs[i], "PRIVATE"));
		cr_assert_null(strstr(strs[i], frag));
	}
	cr_assert(EVP_PKEY_eq(g->key, key) == 1, "the key is the file's");
	gauth_free(g);
}
