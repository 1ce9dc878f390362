/* newsmill dead: a poison article through a real newsmill-queue. A consumer
 * (the worker's API from worker/) fails it as non-retryable; `newsmill dead`
 * lists it with its failure; `newsmill dead --requeue ID` puts it back; it
 * fails again (nothing was fixed) and is a dead letter again, now with two
 * failures in its history. Also: unknown ids (exit 4), --all, queue down
 * (exit 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_consumer.h"
#include "nm_producer.h"
#include "nm_test.h"
#include "nm_time.h"

static char front[64], back[64], stats[64];
static nm_proc queue;
static void *ctx;

static bool queue_listening(void *arg)
{
    (void)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(strrchr(front, ':') + 1))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static void start_queue(void)
{
    char spool[512];
    snprintf(spool, sizeof spool, "%s", nm_test_path("queue.db"));
    char *argv[] = {(char *)nm_test_bin("newsmill-queue"), "--front", front, "--back", back,
                    "--stats", stats, "--spool", spool, NULL};
    nm_proc_start(&queue, "queue", argv);
    if (!nm_test_wait_until(queue_listening, NULL, 5000)) {
        nm_proc_dump_log(&queue);
        fail_msg("queue did not listen on %s", front);
    }
}

/* Runs `newsmill ARGS`; returns stdout (caller frees) and the exit code. */
static char *run(int *code, const char *fmt, ...)
{
    char args[1024], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>>%s", nm_test_bin("newsmill"), args,
             nm_test_path("cli-stderr.txt"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0, n;
    char *out = malloc(cap);
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0)
        len += n;
    out[len] = '\0';
    int status = pclose(p);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

static void submit(const char *id, const char *body)
{
    nm_error err;
    nm_producer *p = nm_producer_new(ctx, front, &err);
    assert_non_null(p);
    Newsmill__Article a = NEWSMILL__ARTICLE__INIT, *batch[] = {&a};
    a.id = (char *)id;
    a.source = "test";
    a.content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
    a.body.data = (uint8_t *)body;
    a.body.len = strlen(body);
    Newsmill__SubmitAck *ack;
    if (nm_producer_submit(p, batch, 1, &ack, &err) != 0)
        fail_msg("submit: %s", err.msg);
    assert_true(ack->acks[0]->accepted);
    nm_producer_ack_free(&ack);
    nm_producer_destroy(&p);
}

/* Takes the next delivery of article id within 5 s and fails it for good. */
static void fail_next(nm_consumer *c, const char *id, const char *reason)
{
    int64_t deadline_ns = nm_time_mono_ns() + 5 * NM_NS_PER_S;
    while (nm_time_mono_ns() < deadline_ns) {
        zmq_pollitem_t item = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        long wait = nm_consumer_tick(c);
        zmq_poll(&item, 1, wait < 100 ? wait : 100);
        Newsmill__Delivery *d;
        nm_error err;
        while (nm_consumer_recv(c, &d, &err) == 1) {
            assert_string_equal(d->article->id, id);
            assert_int_equal(nm_consumer_fail(c, d->lease_id, reason, false, &err), 0);
            nm_consumer_delivery_free(&d);
            return;
        }
    }
    nm_proc_dump_log(&queue);
    fail_msg("no delivery of %s within 5 s", id);
}

/* The dead letter `id` from `newsmill dead --json`, with its failure count;
 * -1 when it is not listed. */
static int failures_of(const char *id, int *total)
{
    int code;
    char *out = run(&code, "dead --json --queue %s", front);
    assert_int_equal(code, 0);
    json_object *o = json_tokener_parse(out), *dead, *t;
    if (!o)
        fail_msg("dead --json printed no JSON: %s", out);
    assert_true(json_object_object_get_ex(o, "dead", &dead));
    assert_true(json_object_object_get_ex(o, "total", &t));
    *total = json_object_get_int(t);
    int n = -1;
    for (size_t i = 0; i < json_object_array_length(dead); i++) {
        json_object *d = json_object_array_get_idx(dead, i), *v, *f;
        assert_true(json_object_object_get_ex(d, "id", &v));
        if (strcmp(json_object_get_string(v), id))
            continue;
        assert_true(json_object_object_get_ex(d, "failures", &f));
        n = (int)json_object_array_length(f);
        for (int k = 0; k < n; k++) {
            json_object *r;
            assert_true(json_object_object_get_ex(json_object_array_get_idx(f, k), "reason", &r));
            assert_non_null(strstr(json_object_get_string(r), "poison"));
        }
    }
    json_object_put(o);
    free(out);
    return n;
}

static bool dead_listed(void *arg)
{
    int total;
    return failures_of("poison-1", &total) == *(int *)arg;
}

static void requeue_poison(void **state)
{
    (void)state;
    snprintf(front, sizeof front, "%s", nm_test_endpoint());
    snprintf(back, sizeof back, "%s", nm_test_endpoint());
    snprintf(stats, sizeof stats, "%s", nm_test_endpoint());
    ctx = zmq_ctx_new();
    start_queue();

    nm_consumer_config cfg = {.endpoint = back, .worker = "test-worker", .capacity = 4};
    nm_error err;
    nm_consumer *c = nm_consumer_new(ctx, &cfg, &err);
    assert_non_null(c);

    int code, total;
    char *out = run(&code, "dead --queue %s", front);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "no dead letters"));
    free(out);

    submit("poison-1", "Poison\n\nThis article always fails.");
    fail_next(c, "poison-1", "poison: the extractor rejects this article");
    int want = 1;
    if (!nm_test_wait_until(dead_listed, &want, 5000))
        fail_msg("poison-1 is not a dead letter with 1 failure");

    out = run(&code, "dead --queue %s", front); /* the human listing */
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "poison-1"));
    assert_non_null(strstr(out, "test-worker"));
    assert_non_null(strstr(out, "poison: the extractor rejects this article"));
    free(out);

    /* Requeue without fixing anything: it fails again, and the history has both. */
    out = run(&code, "dead --requeue --queue %s poison-1", front);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "requeued 1"));
    free(out);
    assert_int_equal(failures_of("poison-1", &total), -1);
    fail_next(c, "poison-1", "poison: still rejected");
    want = 2;
    if (!nm_test_wait_until(dead_listed, &want, 5000))
        fail_msg("poison-1 is not a dead letter with 2 failures after the requeue");

    /* Unknown ids: exit 4, named on stderr. */
    out = run(&code, "dead --requeue --json --queue %s nosuch", front);
    assert_int_equal(code, 4);
    assert_non_null(strstr(out, "\"not_found\":[\"nosuch\"]"));
    free(out);

    /* --all takes every dead letter back. */
    out = run(&code, "dead --all --json --queue %s", front);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"requeued\":1"));
    free(out);
    fail_next(c, "poison-1", "poison: third time");

    /* Bad command lines. */
    free(run(&code, "dead --requeue --queue %s", front));
    assert_int_equal(code, 2);
    free(run(&code, "dead --all --queue %s x", front));
    assert_int_equal(code, 2);

    nm_consumer_destroy(&c);
    nm_proc_signal(&queue, SIGTERM);
    int status;
    assert_true(nm_proc_wait(&queue, 10000, &status));

    /* Queue down: exit 3 within the timeout. */
    int64_t t0 = nm_time_mono_ns();
    free(run(&code, "dead --timeout 500ms --queue %s", front));
    assert_int_equal(code, 3);
    assert_true(nm_time_mono_ns() - t0 < 3 * NM_NS_PER_S);
    zmq_ctx_term(ctx);
}

int main(void)
{
    if (access(nm_test_bin("newsmill-queue"), X_OK) != 0) {
        nm_test_skip_program("newsmill-queue is not built");
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(requeue_poison)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nm_proc_kill(&queue);
    return rc;
}
