/* nm_producer and nm_consumer with no queue running: every call returns in
 * bounded time with a clear error, never hangs, never reports acceptance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <zmq.h>

#include "nm_consumer.h"
#include "nm_producer.h"
#include "nm_test.h"
#include "nm_time.h"

static void submit_times_out(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    nm_error err;
    nm_producer *p = nm_producer_new(ctx, nm_test_endpoint(), &err);
    assert_non_null(p);
    nm_producer_set_timeout(p, 150, 1);
    Newsmill__Article a = NEWSMILL__ARTICLE__INIT, *batch[] = {&a};
    a.id = "x";
    a.body.data = (uint8_t *)"Title\n\nBody.";
    a.body.len = strlen((char *)a.body.data);
    Newsmill__SubmitAck *ack = (void *)1;
    int64_t t0 = nm_time_mono_ns();
    assert_int_equal(nm_producer_submit(p, batch, 1, &ack, &err), -1);
    int64_t took_ms = (nm_time_mono_ns() - t0) / NM_NS_PER_MS;
    assert_null(ack);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);
    assert_non_null(strstr(err.msg, "2 attempt"));
    /* two 150 ms attempts; the upper bound only has to tell them from a hang
     * or the 3 x 5 s defaults, with room for a loaded machine */
    assert_true(took_ms >= 250 && took_ms < 10000);

    uint64_t rid = 7;
    assert_int_equal(nm_producer_send(p, batch, 1, &rid, &err), -1);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);
    assert_int_equal(nm_producer_recv(p, 50, &rid, &ack, &err), -1);
    assert_int_equal(rid, 0);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);

    Newsmill__DeadList *list;
    assert_int_equal(nm_producer_dead_list(p, 10, NULL, &list, &err), -1);
    assert_null(list);
    nm_producer_destroy(&p);
    assert_null(p);
    nm_producer_destroy(&p);

    nm_consumer_config cfg = {.endpoint = nm_test_endpoint(), .capacity = 4, .heartbeat_ms = 20};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, &err);
    assert_non_null(c);
    long wait_ms = nm_consumer_tick(c);
    assert_true(wait_ms >= 0 && wait_ms <= 20);
    Newsmill__Delivery *d;
    assert_int_equal(nm_consumer_recv(c, &d, &err), 0);
    assert_null(d);
    assert_int_equal(nm_consumer_in_flight(c), 0);
    nm_consumer_drain(c);
    nm_consumer_destroy(&c);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(submit_times_out)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
