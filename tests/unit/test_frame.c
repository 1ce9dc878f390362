/* nm_frame: encode/decode round trips and every way a frame can be bad,
 * both as bytes and over real ZeroMQ sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_frame.h"
#include "nm_test.h"

static void encode_submit(uint8_t **buf, size_t *len, uint32_t version)
{
    Newsmill__Article a = NEWSMILL__ARTICLE__INIT;
    a.id = "a1";
    a.content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
    a.body.data = (uint8_t *)"Title\n\nKalın met Hamas in Ankara.";
    a.body.len = strlen((char *)a.body.data);
    Newsmill__Article *arts[] = {&a};
    Newsmill__SubmitBatch b = NEWSMILL__SUBMIT_BATCH__INIT;
    b.articles = arts;
    b.n_articles = 1;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.request_id = 42;
    env.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    env.submit = &b;
    nm_frame_encode(&env, buf, len);
    if (version != NM_PROTOCOL_VERSION) { /* re-pack with a forged version */
        free(*buf);
        env.version = version;
        *len = newsmill__envelope__get_packed_size(&env);
        *buf = malloc(*len);
        newsmill__envelope__pack(&env, *buf);
    }
}

static void round_trip(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    encode_submit(&buf, &len, NM_PROTOCOL_VERSION);
    Newsmill__Envelope *env;
    nm_error err;
    assert_int_equal(nm_frame_decode(buf, len, NM_FRAME_MAX_DEFAULT, &env, &err), 0);
    assert_int_equal(env->version, NM_PROTOCOL_VERSION);
    assert_int_equal(env->request_id, 42);
    assert_int_equal(env->body_case, NEWSMILL__ENVELOPE__BODY_SUBMIT);
    assert_int_equal(env->submit->n_articles, 1);
    assert_string_equal(env->submit->articles[0]->id, "a1");
    assert_memory_equal(env->submit->articles[0]->body.data, "Title\n\nKalın", 12);
    assert_string_equal(nm_frame_body_name(env->body_case), "submit");
    nm_frame_free(&env);
    assert_null(env);
    nm_frame_free(&env); /* NULL is fine */
    free(buf);
}

/* Table of bad frames: each must fail with its own code, never crash. */
static void bad_frames(void **state)
{
    (void)state;
    uint8_t *good;
    size_t good_len;
    encode_submit(&good, &good_len, NM_PROTOCOL_VERSION);
    uint8_t *v2;
    size_t v2_len;
    encode_submit(&v2, &v2_len, 2);
    uint8_t *v0;
    size_t v0_len;
    encode_submit(&v0, &v0_len, 0);
    /* version set, no body: a message type from the future */
    Newsmill__Envelope empty_env = NEWSMILL__ENVELOPE__INIT;
    uint8_t *nobody;
    size_t nobody_len;
    nm_frame_encode(&empty_env, &nobody, &nobody_len);
    /* a field number this build does not know (field 99, varint) + version */
    const uint8_t future[] = {0x08, 0x01, 0x98, 0x06, 0x01};
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    const char *text = "GET / HTTP/1.1\r\n\r\n";

    struct {
        const char *what;
        const uint8_t *buf;
        size_t len, max;
        nm_errcode code;
        const char *needle;
    } cases[] = {
        {"empty", (const uint8_t *)"", 0, 1024, NM_ERR_EMPTY, "empty"},
        {"oversized", good, good_len, 8, NM_ERR_TOO_LARGE, "exceeds"},
        {"junk bytes", junk, sizeof junk, 1024, NM_ERR_MALFORMED, "not a newsmill"},
        {"http text", (const uint8_t *)text, strlen(text), 1024, NM_ERR_MALFORMED, "newsmill"},
        {"truncated", good, good_len - 5, 1 << 20, NM_ERR_MALFORMED, "not a newsmill"},
        {"version 2", v2, v2_len, 1 << 20, NM_ERR_VERSION, "version 2"},
        {"no version", v0, v0_len, 1 << 20, NM_ERR_MALFORMED, "no protocol version"},
        {"no body", nobody, nobody_len, 1 << 20, NM_ERR_UNKNOWN_TYPE, "unknown message type"},
        {"future type", future, sizeof future, 1 << 20, NM_ERR_UNKNOWN_TYPE, "unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Newsmill__Envelope *env = (void *)1;
        nm_error err;
        nm_error_clear(&err);
        int rc = nm_frame_decode(cases[i].buf, cases[i].len, cases[i].max, &env, &err);
        if (rc != -1 || err.code != cases[i].code || !strstr(err.msg, cases[i].needle))
            fail_msg("case '%s': rc=%d code=%s msg='%s'", cases[i].what, rc,
                     nm_errcode_name(err.code), err.msg);
        assert_null(env);
    }
    /* every truncation point of a good frame: an error or a valid decode, never a crash */
    for (size_t cut = 0; cut < good_len; cut++) {
        Newsmill__Envelope *env;
        if (nm_frame_decode(good, cut, 1 << 20, &env, NULL) == 0)
            nm_frame_free(&env);
    }
    free(good);
    free(v2);
    free(v0);
    free(nobody);
}

/* Over real sockets: DEALER -> ROUTER, the route comes back for the reply,
 * and a junk frame yields an error the server can answer. */
static void over_zmq(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    const char *ep = nm_test_endpoint();
    assert_int_equal(zmq_bind(router, ep), 0);
    assert_int_equal(zmq_connect(dealer, ep), 0);
    int timeout = 5000;
    zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);

    Newsmill__Heartbeat hb = NEWSMILL__HEARTBEAT__INIT;
    hb.in_flight = 3;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.request_id = 7;
    env.body_case = NEWSMILL__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    nm_error err;
    assert_int_equal(nm_frame_send(dealer, NULL, &env, 0, &err), 0);

    nm_route route;
    Newsmill__Envelope *got;
    assert_int_equal(nm_frame_recv(router, &route, NM_FRAME_MAX_DEFAULT, &got, 0, &err), 0);
    assert_int_equal(route.n, 1);
    assert_int_equal(got->heartbeat->in_flight, 3);
    nm_frame_free(&got);

    /* junk from the client: decode fails, route still known, error goes back */
    assert_int_equal(zmq_send(dealer, "\xff\xff\xff", 3, 0), 3);
    assert_int_equal(nm_frame_recv(router, &route, NM_FRAME_MAX_DEFAULT, &got, 0, &err), -1);
    assert_int_equal(err.code, NM_ERR_MALFORMED);
    assert_int_equal(route.n, 1);
    assert_int_equal(nm_frame_reply_error(router, &route, 0, &err), 0);
    assert_int_equal(nm_frame_recv(dealer, NULL, NM_FRAME_MAX_DEFAULT, &got, 0, &err), 0);
    assert_int_equal(got->body_case, NEWSMILL__ENVELOPE__BODY_ERROR);
    assert_int_equal(got->error->code, NEWSMILL__ERROR_CODE__ERROR_MALFORMED);
    assert_non_null(strstr(got->error->message, "not a newsmill"));
    nm_frame_free(&got);

    /* nothing waiting: DONTWAIT says busy */
    assert_int_equal(nm_frame_recv(router, &route, NM_FRAME_MAX_DEFAULT, &got, ZMQ_DONTWAIT, &err), -1);
    assert_int_equal(err.code, NM_ERR_BUSY);

    zmq_close(router);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(bad_frames),
        cmocka_unit_test(over_zmq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
