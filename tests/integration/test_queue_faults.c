/* newsmill-queue, real processes and sockets: poison articles end in the dead
 * letters with their whole history; every kind of bad input is answered and
 * counted while the queue keeps serving; a full disk fails only the writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "qtest.h"

/* Runs a consumer loop for up to timeout_ms: articles whose id starts with
 * "poison" are failed (retryable unless "poison-fatal"), others acked.
 * Returns when the dead list holds want_dead letters for poison_id. */
static void consume_poison(void *ctx, const qtest_queue *q, nm_producer *p, const char *poison_id,
                           size_t want_failures)
{
    nm_consumer_config cfg = {.endpoint = q->back, .capacity = 4, .heartbeat_ms = 100,
                              .worker = "poison-eater"};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    int64_t start = nm_time_mono_ns();
    int failures = 0;
    for (;;) {
        assert_true(nm_time_mono_ns() - start < 30 * NM_NS_PER_S);
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 20);
        nm_consumer_tick(c);
        Newsmill__Delivery *d;
        while (nm_consumer_recv(c, &d, NULL) == 1) {
            if (!strncmp(d->article->id, "poison", 6)) {
                char reason[100];
                snprintf(reason, sizeof reason, "extractor crashed on attempt %u", d->attempt);
                nm_consumer_fail(c, d->lease_id, reason, strcmp(d->article->id, "poison-fatal") != 0,
                                 NULL);
                failures++;
            } else {
                nm_consumer_done(c, &d->lease_id, 1, NULL);
            }
            nm_consumer_delivery_free(&d);
        }
        Newsmill__DeadList *list;
        if (nm_producer_dead_list(p, 10, poison_id, &list, NULL) == 0) {
            bool enough = list->n_dead == 1 && list->dead[0]->n_failures >= want_failures;
            nm_producer_dead_list_free(&list);
            if (enough)
                break;
        }
    }
    nm_consumer_destroy(&c);
}

static void poison_dead_letters(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "poison");
    qtest_flag(&q, "--max-attempts=3");
    qtest_flag(&q, "--retry-base=10ms");
    qtest_flag(&q, "--retry-max=40ms");
    qtest_flag(&q, "--lease=1s");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    Newsmill__Article a[3], *ptrs[3] = {&a[0], &a[1], &a[2]};
    qtest_article(&a[0], "poison-1", "Poison\n\nThis one always fails.");
    a[0].source = "bbc";
    a[0].url = "https://example.org/poison";
    qtest_article(&a[1], "good-1", "Good\n\nThis one works.");
    qtest_article(&a[2], "poison-fatal", "Fatal\n\nNot retryable.");
    Newsmill__SubmitAck *ack;
    assert_int_equal(nm_producer_submit(p, ptrs, 3, &ack, NULL), 0);
    assert_int_equal(ack->accepted, 3);
    nm_producer_ack_free(&ack);

    consume_poison(ctx, &q, p, "poison-1", 3);
    Newsmill__DeadList *list;
    assert_int_equal(nm_producer_dead_list(p, 0, NULL, &list, NULL), 0);
    assert_int_equal(list->total, 2);
    assert_int_equal(list->n_dead, 2);
    nm_producer_dead_list_free(&list);
    assert_int_equal(nm_producer_dead_list(p, 10, "poison-1", &list, NULL), 0);
    Newsmill__DeadLetter *dl = list->dead[0];
    assert_string_equal(dl->id, "poison-1");
    assert_string_equal(dl->source, "bbc");
    assert_string_equal(dl->url, "https://example.org/poison");
    assert_int_equal(dl->attempts, 3);
    assert_true(dl->dead_unix_ms > 0);
    assert_int_equal(dl->n_failures, 3);
    for (size_t i = 0; i < 3; i++) {
        char want[100];
        snprintf(want, sizeof want, "extractor crashed on attempt %zu", i + 1);
        assert_string_equal(dl->failures[i]->reason, want);
        assert_int_equal(dl->failures[i]->attempt, i + 1);
        assert_string_equal(dl->failures[i]->worker, "poison-eater");
        assert_true(dl->failures[i]->at_unix_ms > 0);
    }
    nm_producer_dead_list_free(&list);
    assert_int_equal(nm_producer_dead_list(p, 10, "poison-fatal", &list, NULL), 0);
    assert_int_equal(list->n_dead, 1);
    assert_int_equal(list->dead[0]->attempts, 1); /* not retryable: dead at once */
    nm_producer_dead_list_free(&list);

    /* requeue: it dies again, and the letter shows both histories */
    const char *ids[] = {"poison-1", "no-such-id"};
    Newsmill__RequeueReply *rr;
    assert_int_equal(nm_producer_requeue(p, ids, 2, false, &rr, NULL), 0);
    assert_int_equal(rr->requeued, 1);
    assert_int_equal(rr->n_not_found, 1);
    assert_string_equal(rr->not_found[0], "no-such-id");
    nm_producer_requeue_free(&rr);
    consume_poison(ctx, &q, p, "poison-1", 6);
    assert_int_equal(nm_producer_dead_list(p, 10, "poison-1", &list, NULL), 0);
    assert_int_equal(list->dead[0]->n_failures, 6);
    assert_string_equal(list->dead[0]->failures[3]->reason, "extractor crashed on attempt 1");
    nm_producer_dead_list_free(&list);

    /* stats: dead counted, recent dead letters carried */
    assert_true(qtest_wait_metric(pull, "queue_articles_dead_total", NULL, 3, 15000) >= 3);
    Newsmill__Envelope *env = qtest_stats(pull, 5000);
    assert_non_null(env);
    assert_int_equal(qtest_metric(env, "queue_dead_letters", NULL), 2);
    assert_true(env->stats->n_recent_dead >= 2);
    assert_string_equal(env->stats->recent_dead[0]->id, "poison-1");
    assert_true(qtest_metric(env, "queue_articles_failed_total", NULL) >= 7);
    nm_frame_free(&env);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    assert_int_equal(qtest_spool_count(&q, "dead"), 2);
    assert_int_equal(qtest_spool_count(&q, "articles"), 0);
}

/* ---- bad input ---- */

/* Sends raw bytes, returns the decoded answer (caller frees) or fails. */
static Newsmill__Envelope *raw_request(void *sock, const void *buf, size_t len)
{
    assert_true(zmq_send(sock, buf, len, 0) == (int)len);
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 15000) != 1)
        fail_msg("no answer to a bad request within 15 s");
    Newsmill__Envelope *env;
    nm_error err;
    if (nm_frame_recv(sock, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, &err) != 0)
        fail_msg("answer does not decode: %s", err.msg);
    return env;
}

static void pack_env(Newsmill__Envelope *env, uint32_t version, uint8_t **buf, size_t *len)
{
    env->version = version;
    *len = newsmill__envelope__get_packed_size(env);
    *buf = malloc(*len + 1);
    newsmill__envelope__pack(env, *buf);
}

static void bad_input(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "bad");
    qtest_flag(&q, "--max-frame-bytes=64K");
    qtest_flag(&q, "--max-batch=50");
    qtest_flag(&q, "--max-backlog=30");
    qtest_flag(&q, "--max-article-bytes=1K");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    void *front = nm_test_dealer(ctx, q.front);
    void *back = nm_test_dealer(ctx, q.back);

    /* frames: each bad one gets an ErrorReply with the right code */
    Newsmill__Article art;
    qtest_article(&art, "x", "Title\n\nBody.");
    Newsmill__Article *one[] = {&art};
    Newsmill__SubmitBatch batch = NEWSMILL__SUBMIT_BATCH__INIT;
    batch.articles = one;
    batch.n_articles = 1;
    Newsmill__Envelope submit = NEWSMILL__ENVELOPE__INIT;
    submit.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    submit.submit = &batch;
    uint8_t *v2, *nobody, *big, *delivery, *empty, *toomany;
    size_t v2_len, nobody_len, big_len, delivery_len, empty_len, toomany_len;
    pack_env(&submit, 2, &v2, &v2_len);
    Newsmill__Envelope none = NEWSMILL__ENVELOPE__INIT;
    pack_env(&none, NM_PROTOCOL_VERSION, &nobody, &nobody_len);
    Newsmill__Delivery dv = NEWSMILL__DELIVERY__INIT;
    Newsmill__Envelope denv = NEWSMILL__ENVELOPE__INIT;
    denv.body_case = NEWSMILL__ENVELOPE__BODY_DELIVERY;
    denv.delivery = &dv;
    pack_env(&denv, NM_PROTOCOL_VERSION, &delivery, &delivery_len);
    Newsmill__SubmitBatch eb = NEWSMILL__SUBMIT_BATCH__INIT;
    Newsmill__Envelope eenv = NEWSMILL__ENVELOPE__INIT;
    eenv.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    eenv.submit = &eb;
    pack_env(&eenv, NM_PROTOCOL_VERSION, &empty, &empty_len);
    Newsmill__Article *many[51];
    for (int i = 0; i < 51; i++)
        many[i] = &art;
    Newsmill__SubmitBatch mb = NEWSMILL__SUBMIT_BATCH__INIT;
    mb.articles = many;
    mb.n_articles = 51;
    Newsmill__Envelope menv = NEWSMILL__ENVELOPE__INIT;
    menv.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    menv.submit = &mb;
    pack_env(&menv, NM_PROTOCOL_VERSION, &toomany, &toomany_len);
    big_len = 100 * 1024;
    big = calloc(1, big_len);
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t truncated[] = {0x08, 0x01, 0x52, 0x40, 0x0a}; /* submit of 64 bytes, 1 sent */

    struct {
        const char *what;
        void *sock;
        const void *buf;
        size_t len;
        Newsmill__ErrorCode code;
        const char *needle, *counter;
    } cases[] = {
        {"junk", front, junk, sizeof junk, NEWSMILL__ERROR_CODE__ERROR_MALFORMED, "not a newsmill",
         "malformed"},
        {"truncated", front, truncated, sizeof truncated, NEWSMILL__ERROR_CODE__ERROR_MALFORMED,
         "not a newsmill", "malformed"},
        {"version 2", front, v2, v2_len, NEWSMILL__ERROR_CODE__ERROR_BAD_VERSION, "version 2",
         "bad-version"},
        {"no body", front, nobody, nobody_len, NEWSMILL__ERROR_CODE__ERROR_UNKNOWN_TYPE, "unknown",
         "unknown-type"},
        {"oversize frame", front, big, big_len, NEWSMILL__ERROR_CODE__ERROR_TOO_LARGE, "exceeds",
         "too-large"},
        {"delivery to queue", front, delivery, delivery_len, NEWSMILL__ERROR_CODE__ERROR_BAD_REQUEST,
         "not accepted", "wrong-socket"},
        {"submit to back", back, toomany, toomany_len,
         NEWSMILL__ERROR_CODE__ERROR_BAD_REQUEST, "worker socket", "wrong-socket"},
        {"empty batch", front, empty, empty_len, NEWSMILL__ERROR_CODE__ERROR_BAD_REQUEST,
         "empty batch", "empty-batch"},
        {"batch too big", front, toomany, toomany_len, NEWSMILL__ERROR_CODE__ERROR_TOO_LARGE,
         "--max-batch", "batch-too-large"},
        {"junk to back", back, junk, sizeof junk, NEWSMILL__ERROR_CODE__ERROR_MALFORMED,
         "not a newsmill", "malformed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Newsmill__Envelope *r = raw_request(cases[i].sock, cases[i].buf, cases[i].len);
        if (r->body_case != NEWSMILL__ENVELOPE__BODY_ERROR || r->error->code != cases[i].code ||
            !strstr(r->error->message, cases[i].needle))
            fail_msg("case '%s': got %s code %d '%s'", cases[i].what, nm_frame_body_name(r->body_case),
                     r->body_case == NEWSMILL__ENVELOPE__BODY_ERROR ? (int)r->error->code : -1,
                     r->body_case == NEWSMILL__ENVELOPE__BODY_ERROR ? r->error->message : "");
        nm_frame_free(&r);
    }

    /* articles: each bad one rejected with a reason, the rest accepted */
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    char big_body[2048];
    memset(big_body, 'a', sizeof big_body - 1);
    big_body[sizeof big_body - 1] = '\0';
    Newsmill__Article arts[9];
    qtest_article(&arts[0], "ok-1", "Title\n\nKalın met Hamas in Ankara.");
    qtest_article(&arts[1], "empty", "");
    qtest_article(&arts[2], "utf8", "Title\n\nbad \xc3\x28 byte");
    qtest_article(&arts[3], "nul", "Title\n\nnul");
    arts[3].body.len = 13; /* includes the terminating NUL and one more byte */
    arts[3].body.data = (uint8_t *)"Title\n\nnul\0xy";
    qtest_article(&arts[4], "ctype", "Title\n\nBody.");
    arts[4].content_type = 7;
    qtest_article(&arts[5], "huge", big_body);
    qtest_article(&arts[6], "dup", "Old\n\nfirst body");
    qtest_article(&arts[7], "dup", "New\n\nsecond body wins");
    qtest_article(&arts[8], "", "<html><title>No id</title></html>");
    arts[8].content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML;
    arts[8].url = "https://example.org/a";
    Newsmill__Article *ptrs[9];
    for (int i = 0; i < 9; i++)
        ptrs[i] = &arts[i];
    Newsmill__SubmitAck *ack;
    nm_error err;
    if (nm_producer_submit(p, ptrs, 9, &ack, &err) != 0)
        fail_msg("submit: %s", err.msg);
    const bool want_ok[9] = {1, 0, 0, 0, 0, 0, 1, 1, 1};
    const char *want_reason[9] = {"", "empty body", "not valid UTF-8", "NUL byte", "content type 7",
                                  "exceeds the limit", "", "", ""};
    for (int i = 0; i < 9; i++) {
        assert_int_equal(ack->acks[i]->index, i);
        if (ack->acks[i]->accepted != want_ok[i] || !strstr(ack->acks[i]->reason, want_reason[i]))
            fail_msg("article %d: accepted=%d reason='%s'", i, ack->acks[i]->accepted,
                     ack->acks[i]->reason);
    }
    assert_int_equal(ack->accepted, 4);
    assert_int_equal(ack->rejected, 5);
    assert_true(!strncmp(ack->acks[8]->id, "url-", 4)); /* derived from the url */
    char derived[64];
    snprintf(derived, sizeof derived, "%s", ack->acks[8]->id);
    nm_producer_ack_free(&ack);
    /* the same url again: the same id, kept once */
    Newsmill__Article *again[] = {&arts[8]};
    assert_int_equal(nm_producer_submit(p, again, 1, &ack, NULL), 0);
    assert_string_equal(ack->acks[0]->id, derived);
    nm_producer_ack_free(&ack);
    assert_true(qtest_wait_gauge(pull, "queue_backlog_articles", 3, 15000));

    /* a second queue on the same spool refuses to start */
    char *argv2[] = {(char *)nm_test_bin("newsmill-queue"), "--spool", q.spool, "--front",
                     (char *)nm_test_endpoint(), "--back", (char *)nm_test_endpoint(), NULL};
    nm_proc second;
    nm_proc_start(&second, "second", argv2);
    int st2 = 0;
    assert_true(nm_proc_wait(&second, 30000, &st2));
    assert_true(WIFEXITED(st2) && WEXITSTATUS(st2) == 1);

    /* full: 3 in the spool, the limit is 30 */
    Newsmill__Article *thirty[30];
    for (int i = 0; i < 30; i++)
        thirty[i] = &arts[0];
    assert_int_equal(nm_producer_submit(p, thirty, 30, &ack, &err), -1);
    assert_int_equal(err.code, NM_ERR_FULL);
    assert_non_null(strstr(err.msg, "queue full"));
    assert_non_null(strstr(err.msg, "--max-backlog"));
    /* the queue reports "full" for 5 s after a refusal: look for it now, on
     * any report, not after the slower checks below (a loaded machine can
     * take longer than 5 s over those) */
    assert_true(qtest_wait_state(pull, "full", 30000));

    /* worker side: unknown lease, duplicate done, unknown worker heartbeat */
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 1, .heartbeat_ms = 50};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    /* the three waiting articles come one at a time (capacity 1); the ones
     * before "dup" are settled as they come */
    Newsmill__Delivery *d = NULL;
    for (int n = 0; n < 3; n++) {
        d = qtest_next_delivery(c, 15000);
        assert_non_null(d);
        if (!strcmp(d->article->id, "dup"))
            break;
        nm_consumer_done(c, &d->lease_id, 1, NULL);
        nm_consumer_delivery_free(&d);
    }
    if (!d)
        fail_msg("article \"dup\" was never delivered");
    /* the newer body won, whole */
    const char *newer = "New\n\nsecond body wins";
    if (d->article->body.len != strlen(newer) || memcmp(d->article->body.data, newer, strlen(newer)))
        fail_msg("\"dup\" delivered with body '%.*s', want the newer '%s'",
                 (int)d->article->body.len, (const char *)d->article->body.data, newer);
    uint64_t lease = d->lease_id, bogus[] = {12345};
    nm_consumer_done(c, &lease, 1, NULL);
    nm_consumer_done(c, &lease, 1, NULL); /* duplicate */
    nm_consumer_done(c, bogus, 1, NULL);  /* never issued */
    nm_consumer_extend(c, bogus, 1, 0, NULL);
    nm_consumer_fail(c, 999, "x", true, NULL);
    nm_consumer_delivery_free(&d);
    int64_t start = nm_time_mono_ns();
    while (nm_consumer_unknown_leases(c) < 4 && nm_time_mono_ns() - start < 15 * NM_NS_PER_S) {
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 20);
        nm_consumer_tick(c);
        while (nm_consumer_recv(c, &d, NULL) == 1)
            nm_consumer_delivery_free(&d);
    }
    assert_int_equal(nm_consumer_unknown_leases(c), 4);
    nm_consumer_destroy(&c);

    /* stats: every refusal counted... */
    const struct {
        const char *name, *label;
        double min;
    } counters[] = {
        {"queue_requests_rejected_total", "malformed", 3},
        {"queue_requests_rejected_total", "bad-version", 1},
        {"queue_requests_rejected_total", "unknown-type", 1},
        {"queue_requests_rejected_total", "too-large", 1},
        {"queue_requests_rejected_total", "wrong-socket", 2},
        {"queue_requests_rejected_total", "empty-batch", 1},
        {"queue_requests_rejected_total", "batch-too-large", 1},
        {"queue_requests_rejected_total", "queue-full", 1},
        {"queue_requests_rejected_total", "unknown-lease", 4},
        {"queue_articles_rejected_total", "empty-body", 1},
        {"queue_articles_rejected_total", "invalid-utf8", 1},
        {"queue_articles_rejected_total", "nul-byte", 1},
        {"queue_articles_rejected_total", "unknown-content-type", 1},
        {"queue_articles_rejected_total", "too-large", 1},
        {"queue_articles_rejected_total", "queue-full", 30},
        {"queue_articles_accepted_total", NULL, 5},
        {"queue_articles_delivered_total", NULL, 1},
        {"queue_articles_done_total", NULL, 1},
    };
    qtest_wait_metric(pull, "queue_requests_rejected_total", "unknown-lease", 4, 15000);
    Newsmill__Envelope *env = qtest_stats(pull, 5000);
    assert_non_null(env);
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        double v = qtest_metric(env, counters[i].name, counters[i].label);
        if (v < counters[i].min)
            fail_msg("%s{reason=%s} = %g, want >= %g", counters[i].name,
                     counters[i].label ? counters[i].label : "", v, counters[i].min);
    }
    nm_frame_free(&env);

    /* ...and still serving */
    Newsmill__Article *ok[] = {&arts[0]};
    assert_int_equal(nm_producer_submit(p, ok, 1, &ack, NULL), 0);
    assert_int_equal(ack->accepted, 1);
    nm_producer_ack_free(&ack);

    free(v2);
    free(nobody);
    free(big);
    free(delivery);
    free(empty);
    free(toomany);
    nm_producer_destroy(&p);
    zmq_close(front);
    zmq_close(back);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
}

/* A spool on a "full disk" (RLIMIT_FSIZE through prlimit): the batch that
 * does not fit gets ERROR_STORAGE, the queue keeps serving, the spool is
 * intact and holds exactly what was acked. */
static void disk_full(void **state)
{
    (void)state;
    if (access("/usr/bin/prlimit", X_OK) != 0) {
        nm_test_skip("needs /usr/bin/prlimit (util-linux)");
    }
    qtest_queue q;
    qtest_init(&q, "full");
    q.wrapper = "/usr/bin/prlimit";
    snprintf(q.wrapper_arg, sizeof q.wrapper_arg, "--fsize=%d", 400 * 1024);
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    static char ids[100][32], body[1500];
    memset(body, 'x', sizeof body - 1);
    memcpy(body, "Title\n\n", 7);
    Newsmill__Article arts[100], *ptrs[100];
    int acked = 0, storage_errors = 0;
    for (int b = 0; b < 40 && storage_errors < 3; b++) {
        for (int i = 0; i < 100; i++) {
            snprintf(ids[i], sizeof ids[i], "full-%d-%d", b, i);
            qtest_article(&arts[i], ids[i], body);
            ptrs[i] = &arts[i];
        }
        Newsmill__SubmitAck *ack;
        nm_error err;
        if (nm_producer_submit(p, ptrs, 100, &ack, &err) == 0) {
            assert_int_equal(storage_errors, 0); /* nothing fits once full */
            acked += (int)ack->accepted;
            nm_producer_ack_free(&ack);
            continue;
        }
        if (err.code != NM_ERR_IO || !strstr(err.msg, "spool write failed"))
            fail_msg("batch %d: expected a storage error, got %s: %s", b, nm_errcode_name(err.code),
                     err.msg);
        storage_errors++;
    }
    assert_int_equal(storage_errors, 3);
    assert_true(acked >= 100);
    /* still serving: admin requests are answered, stats are sent */
    Newsmill__DeadList *list;
    assert_int_equal(nm_producer_dead_list(p, 10, NULL, &list, NULL), 0);
    nm_producer_dead_list_free(&list);
    assert_true(qtest_wait_metric(pull, "queue_requests_rejected_total", "storage", 3, 15000) >= 3);
    Newsmill__Envelope *env = qtest_stats(pull, 5000);
    assert_non_null(env);
    assert_string_equal(env->stats->state, "storage-error");
    nm_frame_free(&env);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);

    /* the spool is intact and holds exactly the acked articles */
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(q.spool, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(qtest_spool_count(&q, "articles"), acked);
}

/* --max-spool-bytes: submits are refused as full before the disk fills. */
static void spool_limit(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "limit");
    qtest_flag(&q, "--max-spool-bytes=300K");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    static char ids[100][32], body[2000];
    memset(body, 'y', sizeof body - 1);
    memcpy(body, "Title\n\n", 7);
    Newsmill__Article arts[100], *ptrs[100];
    int acked = 0, full = 0;
    for (int b = 0; b < 20 && !full; b++) {
        for (int i = 0; i < 100; i++) {
            snprintf(ids[i], sizeof ids[i], "lim-%d-%d", b, i);
            qtest_article(&arts[i], ids[i], body);
            ptrs[i] = &arts[i];
        }
        Newsmill__SubmitAck *ack;
        nm_error err;
        if (nm_producer_submit(p, ptrs, 100, &ack, &err) == 0) {
            acked += (int)ack->accepted;
            nm_producer_ack_free(&ack);
            continue;
        }
        assert_int_equal(err.code, NM_ERR_FULL);
        assert_non_null(strstr(err.msg, "--max-spool-bytes"));
        full = 1;
    }
    assert_true(full);
    assert_true(acked >= 100 && acked <= 400); /* the limit holds within one group */
    nm_producer_destroy(&p);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    assert_int_equal(qtest_spool_count(&q, "articles"), acked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(poison_dead_letters),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(disk_full),
        cmocka_unit_test(spool_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
