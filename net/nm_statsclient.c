#include "nm_statsclient.h"

#include <errno.h>
#include <zmq.h>

#include "nm_curve.h"
#include "nm_frame.h"
#include "nm_time.h"

int nm_statsclient_fetch(void *zmq_ctx, const char *endpoint, int64_t timeout_ms,
                         Newsmill__Envelope **reply, nm_error *err)
{
    return nm_statsclient_fetch_curve(zmq_ctx, endpoint, NULL, timeout_ms, reply, err);
}

int nm_statsclient_fetch_curve(void *zmq_ctx, const char *endpoint, const nm_curve *curve,
                               int64_t timeout_ms, Newsmill__Envelope **reply, nm_error *err)
{
    *reply = NULL;
    const nm_client_socket_opts opts = {.role = "stats client", .peer = "collector"};
    void *s = nm_curve_client_socket(zmq_ctx, endpoint, curve, &opts, err);
    if (!s)
        return -1;
    uint64_t id = (uint64_t)nm_time_mono_ns();
    Newsmill__StatsRequest sr = NEWSMILL__STATS_REQUEST__INIT;
    Newsmill__Envelope req = NEWSMILL__ENVELOPE__INIT;
    req.request_id = id;
    req.body_case = NEWSMILL__ENVELOPE__BODY_STATS_REQUEST;
    req.stats_request = &sr;
    int rc = -1;
    /* DEALER queues the request until connected; the poll below bounds it all */
    if (nm_frame_send(s, NULL, &req, ZMQ_DONTWAIT, err) != 0) {
        zmq_close(s);
        return nm_error_prefix(err, "asking the collector at %s", endpoint);
    }
    int64_t deadline_ns = nm_time_mono_ns() + timeout_ms * NM_NS_PER_MS;
    for (;;) {
        int64_t left_ms = (deadline_ns - nm_time_mono_ns()) / NM_NS_PER_MS;
        if (left_ms <= 0) {
            nm_error_set(err, NM_ERR_TIMEOUT, "the collector at %s did not answer within %lld ms",
                         endpoint, (long long)timeout_ms);
            break;
        }
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, (long)left_ms);
        if (n < 0) {
            nm_error_set(err, zmq_errno() == EINTR ? NM_ERR_TIMEOUT : NM_ERR_ZMQ,
                         "waiting for the collector: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (n == 0)
            continue;
        Newsmill__Envelope *env = NULL;
        if (nm_frame_recv(s, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, err) != 0) {
            nm_error_prefix(err, "reply from the collector at %s", endpoint);
            break;
        }
        if (env->request_id != id) { /* not ours (cannot happen on a fresh socket) */
            nm_frame_free(&env);
            continue;
        }
        if (env->body_case == NEWSMILL__ENVELOPE__BODY_ERROR) {
            nm_error_set(err, NM_ERR_INTERNAL, "the collector at %s answered: %s", endpoint,
                         env->error->message);
            nm_frame_free(&env);
            break;
        }
        if (env->body_case != NEWSMILL__ENVELOPE__BODY_SNAPSHOT) {
            nm_error_set(err, NM_ERR_UNKNOWN_TYPE, "the peer at %s answered '%s', not a snapshot",
                         endpoint, nm_frame_body_name(env->body_case));
            nm_frame_free(&env);
            break;
        }
        *reply = env;
        rc = 0;
        break;
    }
    zmq_close(s);
    return rc;
}
