/* nm_curve: key files, allow-lists, the ZAP authenticator over real
 * ZeroMQ sockets (allowed key, unknown key, no CURVE, wrong server key),
 * allow-list reload, and the bundle's flag rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_curve.h"
#include "nm_log.h"
#include "nm_test.h"

/* Captures stderr (where nm_log writes) into a file while active. */
typedef struct capture {
    int saved;
    const char *path;
} capture;

static void capture_start(capture *c, const char *name)
{
    c->path = nm_test_path(name);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    c->saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(capture *c)
{
    dup2(c->saved, 2);
    close(c->saved);
    return nm_test_read_file(c->path, NULL);
}

static void write_text(const char *path, const char *text)
{
    nm_test_write_file(path, text, strlen(text));
}

static void key_decoding(void **state)
{
    (void)state;
    nm_curve_keypair kp;
    assert_int_equal(nm_curve_keypair_new(&kp, NULL), 0);
    uint8_t raw[NM_CURVE_KEY_BYTES];
    nm_error err;
    assert_int_equal(nm_curve_key_decode(kp.public_key, raw, &err), 0);
    struct {
        const char *text;
        const char *needle;
    } bad[] = {
        {"", "0 characters"},
        {"abc", "3 characters"},
        {"EC{lERDf1UFo$DYkfrbGU&s(FmY{}EEDzPfz&9yZx", "41 characters"},
        {"EC{lERDf1UFo$DYkfrbGU&s(FmY{}EEDzPfz&9y~", "character 40"},
        {"EC{lERDf1UFo DYkfrbGU&s(FmY{}EEDzPfz&9yZ", "character 13"},
        {"##########################################", "42 characters"},
        {"########################################", "out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nm_error_clear(&err);
        if (nm_curve_key_decode(bad[i].text, raw, &err) != -1 || err.code != NM_ERR_MALFORMED ||
            !strstr(err.msg, bad[i].needle))
            fail_msg("key '%s': code=%s msg='%s'", bad[i].text, nm_errcode_name(err.code), err.msg);
    }
}

static void key_files(void **state)
{
    (void)state;
    nm_curve_keypair kp, back;
    nm_error err;
    assert_int_equal(nm_curve_keypair_new(&kp, &err), 0);
    const char *path = nm_test_path("server.key");
    assert_int_equal(nm_curve_keypair_save(&kp, path, false, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char pub_path[1024];
    snprintf(pub_path, sizeof pub_path, "%s.pub", path);
    assert_int_equal(stat(pub_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    capture cap;
    capture_start(&cap, "keyload.log");
    int rc = nm_curve_keypair_load(path, &back, &err);
    char *log = capture_end(&cap);
    assert_int_equal(rc, 0);
    assert_null(strstr(log, "readable by others")); /* 0600: no warning */
    free(log);
    assert_string_equal(back.public_key, kp.public_key);
    assert_string_equal(back.secret_key, kp.secret_key);
    char pub[NM_CURVE_KEY_LEN + 1];
    assert_int_equal(nm_curve_public_load(pub_path, pub, &err), 0);
    assert_string_equal(pub, kp.public_key);
    assert_int_equal(nm_curve_public_load(path, pub, &err), 0); /* a secret file works too */
    assert_string_equal(pub, kp.public_key);

    /* no silent overwrite; --force does */
    assert_int_equal(nm_curve_keypair_save(&kp, path, false, &err), -1);
    assert_non_null(strstr(err.msg, "already exists"));
    assert_int_equal(nm_curve_keypair_save(&kp, path, true, &err), 0);

    /* a secret file readable by others still loads, with a warning */
    chmod(path, 0644);
    capture_start(&cap, "keyload2.log");
    rc = nm_curve_keypair_load(path, &back, &err);
    log = capture_end(&cap);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(log, "curve secret key file is readable by others"));
    assert_non_null(strstr(log, "mode=0644"));
    free(log);

    /* every way a key file can be wrong */
    nm_curve_keypair other;
    nm_curve_keypair_new(&other, NULL);
    char text[6][512];
    snprintf(text[0], sizeof text[0], "public-key = %s\n", kp.public_key);
    snprintf(text[1], sizeof text[1], "public-key = %s\nsecret-key = %.39s\n", kp.public_key,
             kp.secret_key);
    snprintf(text[2], sizeof text[2], "secret-key = %.39s~\n", kp.secret_key);
    snprintf(text[3], sizeof text[3], "public-key = %s\nsecret-key = %s\n", other.public_key,
             kp.secret_key);
    snprintf(text[4], sizeof text[4], "# comment\n\nhello world\n");
    snprintf(text[5], sizeof text[5], "%s", "");
    struct {
        const char *what, *text;
        nm_errcode code;
        const char *needle;
    } cases[] = {
        {"missing", NULL, NM_ERR_NOT_FOUND, "does not exist"},
        {"public only", text[0], NM_ERR_MALFORMED, "no 'secret-key = ' line"},
        {"short key", text[1], NM_ERR_MALFORMED, ":2: secret-key: key is 39 characters"},
        {"bad z85", text[2], NM_ERR_MALFORMED, ":1: secret-key: key is not Z85: character 40"},
        {"mismatched", text[3], NM_ERR_MALFORMED, "does not belong to secret-key"},
        {"junk line", text[4], NM_ERR_MALFORMED, ":3: not a key line"},
        {"empty", text[5], NM_ERR_MALFORMED, "no 'secret-key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "bad%zu.key", i);
        const char *p = nm_test_path(name);
        if (cases[i].text)
            write_text(p, cases[i].text);
        nm_error_clear(&err);
        if (nm_curve_keypair_load(p, &back, &err) != -1 || err.code != cases[i].code ||
            !strstr(err.msg, cases[i].needle))
            fail_msg("case '%s': code=%s msg='%s'", cases[i].what, nm_errcode_name(err.code),
                     err.msg);
        if (cases[i].text)
            assert_non_null(strstr(err.msg, name)); /* the message names the file */
    }
}

static void allow_lists(void **state)
{
    (void)state;
    nm_curve_keypair a, b, c;
    nm_curve_keypair_new(&a, NULL);
    nm_curve_keypair_new(&b, NULL);
    nm_curve_keypair_new(&c, NULL);
    /* '#' and '=' are Z85 characters: a key holding them is still a key */
    const char *hash_key = "0#=0000000000000000000000000000000000000";
    assert_int_equal(strlen(hash_key), NM_CURVE_KEY_LEN);
    char text[2048];
    snprintf(text, sizeof text,
             "# clients of the queue\n"
             "\n"
             "  %s   alice's laptop\n"
             "public-key = %s\n"
             "%s\n"
             "%s\n"
             "#comment that is not a key\n",
             a.public_key, b.public_key, a.public_key, hash_key);
    const char *path = nm_test_path("allow.txt");
    write_text(path, text);
    nm_error err;
    nm_curve_allow *allow = nm_curve_allow_load(path, &err);
    assert_non_null(allow);
    assert_int_equal(nm_curve_allow_size(allow), 3); /* a twice counts once */
    uint8_t raw[NM_CURVE_KEY_BYTES];
    nm_curve_key_decode(a.public_key, raw, NULL);
    assert_true(nm_curve_allow_contains(allow, raw));
    nm_curve_key_decode(b.public_key, raw, NULL);
    assert_true(nm_curve_allow_contains(allow, raw));
    nm_curve_key_decode(hash_key, raw, NULL);
    assert_true(nm_curve_allow_contains(allow, raw));
    nm_curve_key_decode(c.public_key, raw, NULL);
    assert_false(nm_curve_allow_contains(allow, raw));
    nm_curve_allow_destroy(&allow);
    assert_null(allow);
    nm_curve_allow_destroy(&allow);

    write_text(path, "# nobody yet\n");
    allow = nm_curve_allow_load(path, &err);
    assert_non_null(allow);
    assert_int_equal(nm_curve_allow_size(allow), 0);
    assert_false(nm_curve_allow_contains(allow, raw));
    nm_curve_allow_destroy(&allow);

    snprintf(text, sizeof text, "%s\n%.30s\n", a.public_key, b.public_key);
    write_text(path, text);
    assert_null(nm_curve_allow_load(path, &err));
    assert_non_null(strstr(err.msg, "allow.txt:2"));
    assert_non_null(strstr(err.msg, "30 characters"));
    assert_null(nm_curve_allow_load(nm_test_path("nope.txt"), &err));
    assert_int_equal(err.code, NM_ERR_NOT_FOUND);
}

/* ---- authenticator over real sockets ---- */

typedef struct server {
    void *ctx, *router;
    nm_curve_auth *auth;
    nm_curve_keypair keys;
    char endpoint[64];
} server;

static void server_start(server *s, const char *allow_path)
{
    s->ctx = zmq_ctx_new();
    nm_curve_keypair_new(&s->keys, NULL);
    nm_error err;
    s->auth = nm_curve_auth_start(s->ctx, allow_path, &err);
    if (!s->auth)
        fail_msg("auth start: %s", err.msg);
    s->router = zmq_socket(s->ctx, ZMQ_ROUTER);
    assert_int_equal(nm_curve_server_setup(s->router, &s->keys, &err), 0);
    assert_int_equal(nm_curve_auth_watch(s->auth, s->router, "front", &err), 0);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", nm_test_endpoint());
    assert_int_equal(zmq_bind(s->router, s->endpoint), 0);
}

static void server_stop(server *s)
{
    int zero = 0;
    zmq_setsockopt(s->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(s->router);
    nm_curve_auth_stop(&s->auth);
    assert_null(s->auth);
    zmq_ctx_term(s->ctx);
}

/* A DEALER in ctx; server_key NULL = no CURVE. */
static void *client_new(void *ctx, const char *endpoint, const char *server_key,
                        const nm_curve_keypair *kp)
{
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
    if (server_key)
        assert_int_equal(nm_curve_client_setup(d, server_key, kp, NULL), 0);
    assert_int_equal(zmq_connect(d, endpoint), 0);
    return d;
}

/* True when the router receives "ping" from the client within ms. */
static bool gets_through(server *s, void *client, int ms)
{
    zmq_send(client, "ping", 4, ZMQ_DONTWAIT);
    zmq_pollitem_t item = {s->router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, ms) <= 0)
        return false;
    char buf[64];
    zmq_recv(s->router, buf, sizeof buf, 0); /* identity */
    int n = zmq_recv(s->router, buf, sizeof buf, 0);
    return n == 4 && !memcmp(buf, "ping", 4);
}

typedef struct refusals_at_least {
    nm_curve_auth *auth;
    uint64_t n;
} refusals_at_least;

static bool refusals_reached(void *arg)
{
    refusals_at_least *r = arg;
    return nm_curve_auth_refused(r->auth) >= r->n;
}

/* Same, for refusals of a key not in the allow-list only. */
typedef refusals_at_least key_refusals_at_least;

static bool key_refusals_reached(void *arg)
{
    key_refusals_at_least *r = arg;
    nm_curve_auth_counts c;
    nm_curve_auth_counts_get(r->auth, &c);
    return c.refused_key >= r->n;
}

static void authenticator(void **state)
{
    (void)state;
    nm_curve_keypair good, bad;
    nm_curve_keypair_new(&good, NULL);
    nm_curve_keypair_new(&bad, NULL);
    char text[256];
    snprintf(text, sizeof text, "# test clients\n%s\n", good.public_key);
    const char *allow_path = nm_test_path("auth-allow.txt");
    write_text(allow_path, text);

    capture cap;
    capture_start(&cap, "auth.log");
    server s;
    server_start(&s, allow_path);
    void *cctx = zmq_ctx_new();

    void *ok = client_new(cctx, s.endpoint, s.keys.public_key, &good);
    bool ok_through = gets_through(&s, ok, 5000);

    void *unknown = client_new(cctx, s.endpoint, s.keys.public_key, &bad);
    bool unknown_through = gets_through(&s, unknown, 500);
    refusals_at_least r1 = {s.auth, 1};
    bool unknown_counted = nm_test_wait_until(refusals_reached, &r1, 3000);
    zmq_close(unknown);

    void *plain = client_new(cctx, s.endpoint, NULL, NULL);
    bool plain_through = gets_through(&s, plain, 500);
    refusals_at_least r2 = {s.auth, 2};
    bool plain_counted = nm_test_wait_until(refusals_reached, &r2, 3000);
    zmq_close(plain);

    nm_curve_keypair wrong_server;
    nm_curve_keypair_new(&wrong_server, NULL);
    void *misdirected = client_new(cctx, s.endpoint, wrong_server.public_key, &good);
    bool misdirected_through = gets_through(&s, misdirected, 500);
    refusals_at_least r3 = {s.auth, 3};
    bool misdirected_counted = nm_test_wait_until(refusals_reached, &r3, 3000);
    zmq_close(misdirected);

    /* the allowed client still works after all that */
    bool ok_again = gets_through(&s, ok, 5000);
    nm_curve_auth_counts counts;
    nm_curve_auth_counts_get(s.auth, &counts);
    zmq_close(ok);

    /* revoke by editing the file: the next handshake sees the new list, and
     * the authenticator counts that refusal as an unknown key (not only "no
     * reply in time", which a slow server would also give) */
    snprintf(text, sizeof text, "%s\n", bad.public_key);
    write_text(allow_path, text);
    nm_curve_auth_counts before_revocation;
    nm_curve_auth_counts_get(s.auth, &before_revocation);
    void *revoked = client_new(cctx, s.endpoint, s.keys.public_key, &good);
    bool revoked_through = gets_through(&s, revoked, 500);
    key_refusals_at_least r4 = {s.auth, before_revocation.refused_key + 1};
    bool revoked_counted = nm_test_wait_until(key_refusals_reached, &r4, 3000);
    zmq_close(revoked);
    void *admitted = client_new(cctx, s.endpoint, s.keys.public_key, &bad);
    bool admitted_through = gets_through(&s, admitted, 5000);
    zmq_close(admitted);

    zmq_ctx_term(cctx);
    server_stop(&s);
    char *log = capture_end(&cap);
    fprintf(stderr, "%s", log);

    assert_true(ok_through);
    assert_false(unknown_through);
    assert_true(unknown_counted);
    assert_false(plain_through);
    assert_true(plain_counted);
    assert_false(misdirected_through);
    assert_true(misdirected_counted);
    assert_true(ok_again);
    assert_true(counts.accepted >= 1);
    assert_true(counts.refused_key >= 1);
    assert_true(counts.refused_handshake >= 2);
    assert_false(revoked_through);
    assert_true(revoked_counted);
    assert_true(admitted_through);

    char prefix[32];
    snprintf(prefix, sizeof prefix, "key=%.8s...", bad.public_key);
    assert_non_null(strstr(log, "curve refused peer=127.0.0.1"));
    assert_non_null(strstr(log, prefix));
    assert_non_null(strstr(log, "reason=\"key not in allow-list\""));
    /* whichever side notices the mechanism mismatch first */
    assert_true(strstr(log, "reason=\"client does not use CURVE") ||
                strstr(log, "reason=\"handshake broken off"));
    assert_non_null(strstr(log, "reason=\"cryptographic check failed"));
    assert_non_null(strstr(log, "socket=front(tcp://127.0.0.1:"));
    assert_non_null(strstr(log, "curve allow-list reloaded"));
    free(log);
}

/* Refusals of one client retrying fast: counted every time, logged once
 * per 10 s. */
static void refusal_log_is_rate_limited(void **state)
{
    (void)state;
    nm_curve_keypair bad;
    nm_curve_keypair_new(&bad, NULL);
    const char *allow_path = nm_test_path("empty-allow.txt");
    write_text(allow_path, "# nobody\n");
    capture cap;
    capture_start(&cap, "ratelimit.log");
    server s;
    server_start(&s, allow_path);
    void *cctx = zmq_ctx_new();
    for (int i = 0; i < 5; i++) {
        void *c = client_new(cctx, s.endpoint, s.keys.public_key, &bad);
        refusals_at_least r = {s.auth, (uint64_t)i + 1};
        nm_test_wait_until(refusals_reached, &r, 3000);
        zmq_close(c);
    }
    uint64_t refused = nm_curve_auth_refused(s.auth);
    zmq_ctx_term(cctx);
    server_stop(&s);
    char *log = capture_end(&cap);
    int lines = 0;
    for (const char *p = log; (p = strstr(p, "curve refused")); p++)
        lines++;
    assert_true(refused >= 5);
    assert_int_equal(lines, 1);
    free(log);
}

static void one_authenticator_per_context(void **state)
{
    (void)state;
    const char *allow_path = nm_test_path("one-allow.txt");
    write_text(allow_path, "");
    void *ctx = zmq_ctx_new();
    nm_error err;
    nm_curve_auth *a = nm_curve_auth_start(ctx, allow_path, &err);
    assert_non_null(a);
    assert_null(nm_curve_auth_start(ctx, allow_path, &err));
    assert_non_null(strstr(err.msg, "another authenticator"));
    assert_null(nm_curve_auth_start(ctx, nm_test_path("missing-allow.txt"), &err));
    assert_int_equal(err.code, NM_ERR_NOT_FOUND);
    nm_curve_auth_stop(&a);
    zmq_ctx_term(ctx);
}

static void bundle_flag_rules(void **state)
{
    (void)state;
    nm_curve_keypair kp;
    nm_curve_keypair_new(&kp, NULL);
    const char *key = nm_test_path("bundle.key");
    nm_curve_keypair_save(&kp, key, true, NULL);
    char pub[1024];
    snprintf(pub, sizeof pub, "%s.pub", key);
    const char *allow = nm_test_path("bundle-allow.txt");
    write_text(allow, "");
    void *ctx = zmq_ctx_new();
    struct {
        nm_curve_opts opts;
        int rc;
        bool serving, connecting;
        const char *needle;
    } cases[] = {
        {{NULL, NULL, NULL}, 0, false, false, NULL},
        {{"", "", ""}, 0, false, false, NULL},
        {{NULL, allow, NULL}, -1, false, false, "--curve-allow needs --curve-secret"},
        {{NULL, NULL, pub}, -1, false, false, "--curve-server-key needs --curve-secret"},
        {{key, NULL, NULL}, -1, false, false, "alone does nothing"},
        {{key, allow, NULL}, 0, true, false, NULL},
        {{key, NULL, pub}, 0, false, true, NULL},
        {{key, allow, pub}, 0, true, true, NULL},
        {{key, "/nonexistent/allow", NULL}, -1, false, false, "does not exist"},
        {{key, NULL, "/nonexistent/x.pub"}, -1, false, false, "does not exist"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_curve *c = (void *)1;
        nm_error err;
        nm_error_clear(&err);
        int rc = nm_curve_new(ctx, &cases[i].opts, &c, &err);
        if (rc != cases[i].rc || (cases[i].needle && !strstr(err.msg, cases[i].needle)))
            fail_msg("case %zu: rc=%d msg='%s'", i, rc, err.msg);
        assert_int_equal(nm_curve_serving(c), cases[i].serving);
        assert_int_equal(nm_curve_connecting(c), cases[i].connecting);
        if (rc == 0 && !cases[i].serving && !cases[i].connecting)
            assert_null(c); /* CURVE off */
        void *sock = zmq_socket(ctx, ZMQ_DEALER);
        assert_int_equal(nm_curve_apply_client(c, sock, &err), 0);
        zmq_close(sock);
        assert_int_equal(nm_curve_refused(c), 0);
        nm_curve_destroy(&c);
        assert_null(c);
    }
    zmq_ctx_term(ctx);
}

int main(void)
{
    nm_log_init("test_curve");
    if (getenv("NM_TEST_DEBUG"))
        nm_log_set_level(NM_LOG_DEBUG);
    if (nm_curve_available(NULL) != 0) {
        nm_test_skip_program("libzmq has no CURVE support");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_decoding),
        cmocka_unit_test(key_files),
        cmocka_unit_test(allow_lists),
        cmocka_unit_test(authenticator),
        cmocka_unit_test(refusal_log_is_rate_limited),
        cmocka_unit_test(one_authenticator_per_context),
        cmocka_unit_test(bundle_flag_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
