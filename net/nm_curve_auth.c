/*
 * The ZAP authenticator of nm_curve.h: an actor thread.
 * Cycle with nm_curve.c: the authenticator is nm_curve's helper thread, started by it, and reads nm_curve's allow-list (one module, split in two files for the thread).
 *
 * DESIGN. The caller binds a PAIR pipe, starts the thread and waits for one
 * message: "OK" once the thread has bound inproc://zeromq.zap.01 (ZeroMQ
 * consults that endpoint for every CURVE handshake in the context), or
 * "ERR" + a message. After that the thread owns the allow-list, the ZAP
 * socket and one PAIR per watched socket monitor, and polls them with the
 * pipe. Commands on the pipe, each answered with "OK" or "ERR" + message:
 *   WATCH endpoint name   connect a PAIR to a socket monitor endpoint
 *   STOP                  close everything and end the thread (no answer;
 *                         the caller joins)
 * Counters are C11 atomics so any thread can read them.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_curve.h"
#include "nm_log.h"
#include "nm_time.h"

#define MAX_WATCH 16
#define REPEAT_SLOTS 64
#define REPEAT_WINDOW_NS (10 * NM_NS_PER_S)
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MONITOR_EVENTS                                                                          \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)

typedef struct repeat_slot {
    char what[160]; /* peer + key + reason + socket */
    int64_t last_ns;
    uint64_t folded;
} repeat_slot;

struct nm_curve_auth {
    void *ctx;
    void *pipe;       /* the caller's end */
    void *actor_pipe; /* the actor's end */
    char pipe_ep[64];
    pthread_t thread;
    int n_watch;
    _Atomic uint64_t accepted, refused_key, refused_handshake;
    /* Owned by the actor thread after start. */
    char *allow_path;
    nm_curve_allow *allow;
    struct stat allow_st;
    void *zap;
    void *watch[MAX_WATCH];
    char watch_name[MAX_WATCH][32];
    int n_watched;
    repeat_slot repeats[REPEAT_SLOTS];
};

static _Atomic unsigned endpoint_seq;

/* ---- pipe messages ---- */

static void send_str(void *sock, const char *s, int more)
{
    zmq_send(sock, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

/* Receives up to max frames into bufs (NUL-terminated, truncated to cap);
 * extra frames are discarded. Returns the frame count or -1. */
static int recv_frames(void *sock, char (*bufs)[256], int max)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            return -1;
        }
        if (n < max) {
            size_t len = zmq_msg_size(&m) < 255 ? zmq_msg_size(&m) : 255;
            memcpy(bufs[n], zmq_msg_data(&m), len);
            bufs[n][len] = '\0';
            n++;
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return n;
}

/* Waits for the actor's answer to a command. */
static int await_answer(nm_curve_auth *auth, const char *what, nm_error *err)
{
    char frames[2][256];
    int n = recv_frames(auth->pipe, frames, 2);
    if (n < 1)
        return nm_error_set(err, NM_ERR_ZMQ, "%s: no answer from the CURVE authenticator", what);
    if (strcmp(frames[0], "OK") != 0)
        return nm_error_set(err, NM_ERR_ZMQ, "%s: %s", what, n > 1 ? frames[1] : "failed");
    return 0;
}

/* ---- refusals ---- */

/* Counts and logs one refusal, folding repeats within REPEAT_WINDOW_NS. */
static void refused(nm_curve_auth *auth, bool handshake, const char *peer, const char *key,
                    const char *reason, const char *socket_name)
{
    atomic_fetch_add(handshake ? &auth->refused_handshake : &auth->refused_key, 1);
    char what[160];
    snprintf(what, sizeof what, "%s|%s|%s|%s", peer, key, reason, socket_name);
    int64_t now = nm_time_mono_ns();
    repeat_slot *slot = NULL, *oldest = &auth->repeats[0];
    for (int i = 0; i < REPEAT_SLOTS; i++) {
        repeat_slot *s = &auth->repeats[i];
        if (s->last_ns && !strcmp(s->what, what)) {
            slot = s;
            break;
        }
        if (s->last_ns < oldest->last_ns)
            oldest = s;
    }
    if (slot && now - slot->last_ns < REPEAT_WINDOW_NS) {
        slot->folded++;
        return;
    }
    uint64_t folded = slot ? slot->folded : 0;
    if (!slot) {
        slot = oldest;
        snprintf(slot->what, sizeof slot->what, "%s", what);
    }
    slot->last_ns = now;
    slot->folded = 0;
    nm_log_warn("curve refused peer=%s key=%s reason=\"%s\" socket=%s repeats=%llu", peer, key,
                reason, socket_name, (unsigned long long)folded);
}

/* ---- ZAP ---- */

static void maybe_reload(nm_curve_auth *auth)
{
    struct stat st;
    if (stat(auth->allow_path, &st) != 0)
        return; /* keep the list we have; a missing file is logged on reload attempts only */
    if (st.st_mtim.tv_sec == auth->allow_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == auth->allow_st.st_mtim.tv_nsec && st.st_size == auth->allow_st.st_size &&
        st.st_ino == auth->allow_st.st_ino)
        return;
    nm_error err;
    nm_curve_allow *fresh = nm_curve_allow_load(auth->allow_path, &err);
    auth->allow_st = st;
    if (!fresh) {
        nm_log_error("curve allow-list reload failed, keeping the previous list: %s", err.msg);
        return;
    }
    nm_curve_allow_destroy(&auth->allow);
    auth->allow = fresh;
    nm_log_info("curve allow-list reloaded path=%s keys=%zu", auth->allow_path,
                nm_curve_allow_size(fresh));
}

static void zap_reply(void *zap, const void *request_id, size_t id_len, const char *code,
                      const char *text, const char *user)
{
    send_str(zap, "1.0", 1);
    zmq_send(zap, request_id, id_len, ZMQ_SNDMORE);
    send_str(zap, code, 1);
    send_str(zap, text, 1);
    send_str(zap, user, 1);
    zmq_send(zap, "", 0, 0);
}

/* One ZAP request (RFC 27): version, request id, domain, address, routing
 * id, mechanism, credentials... */
static void handle_zap(nm_curve_auth *auth)
{
    zmq_msg_t f[8];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, auth->zap, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 8)
            f[n++] = m;
        else
            zmq_msg_close(&m);
    }
    if (n < 6) { /* not a ZAP request; REP needs an answer anyway */
        zap_reply(auth->zap, "", 0, "500", "malformed ZAP request", "");
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        return;
    }
    char peer[64], mech[16];
    size_t plen = zmq_msg_size(&f[3]) < sizeof peer - 1 ? zmq_msg_size(&f[3]) : sizeof peer - 1;
    memcpy(peer, zmq_msg_data(&f[3]), plen);
    peer[plen] = '\0';
    size_t mlen = zmq_msg_size(&f[5]) < sizeof mech - 1 ? zmq_msg_size(&f[5]) : sizeof mech - 1;
    memcpy(mech, zmq_msg_data(&f[5]), mlen);
    mech[mlen] = '\0';
    maybe_reload(auth);
    if (strcmp(mech, "CURVE") != 0 || n < 7 || zmq_msg_size(&f[6]) != NM_CURVE_KEY_BYTES) {
        refused(auth, false, peer, "none", "mechanism is not CURVE", "zap");
        zap_reply(auth->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), "400",
                  "CURVE required", "");
    } else {
        char z85[NM_CURVE_KEY_LEN + 1];
        zmq_z85_encode(z85, zmq_msg_data(&f[6]), NM_CURVE_KEY_BYTES);
        if (nm_curve_allow_contains(auth->allow, zmq_msg_data(&f[6]))) {
            atomic_fetch_add(&auth->accepted, 1);
            nm_log_debug("curve accepted peer=%s key=%.8s", peer, z85);
            zap_reply(auth->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), "200", "OK", z85);
        } else {
            char prefix[16];
            snprintf(prefix, sizeof prefix, "%.8s...", z85);
            refused(auth, false, peer, prefix, "key not in allow-list", "zap");
            zap_reply(auth->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), "400",
                      "key not allowed", "");
        }
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* ---- socket monitors ---- */

static const char *protocol_reason(uint32_t value)
{
    switch (value) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
        return "client does not use CURVE (security mechanism mismatch)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
        return "cryptographic check failed (client has the wrong server key?)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO:
    case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE:
        return "malformed CURVE handshake";
    case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE:
    case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND:
        return "unexpected handshake command";
    default:
        return "protocol error in handshake";
    }
}

static void handle_monitor(nm_curve_auth *auth, int i)
{
    char frames[2][256];
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, auth->watch[i], 0) < 0) {
        zmq_msg_close(&m);
        return;
    }
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&m) >= 6) {
        memcpy(&event, zmq_msg_data(&m), 2);
        memcpy(&value, (char *)zmq_msg_data(&m) + 2, 4);
    }
    int more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    frames[1][0] = '\0';
    if (more)
        recv_frames(auth->watch[i], &frames[1], 1);
    char where[160];
    snprintf(where, sizeof where, "%s(%s)", auth->watch_name[i], frames[1]);
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        refused(auth, true, "unknown", "none", protocol_reason(value), where);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        /* The peer went away mid-handshake: what a client without CURVE
         * does when it sees our greeting first (it may also be seen as a
         * mechanism mismatch, whichever side notices first). */
        char reason[96];
        snprintf(reason, sizeof reason, "handshake broken off: %s (client without CURVE?)",
                 strerror((int)value));
        refused(auth, true, "unknown", "none", reason, where);
    }
}

/* WATCH endpoint name: connect a PAIR to the monitor. */
static void handle_watch(nm_curve_auth *auth, char (*frames)[256], int n)
{
    if (n < 3 || auth->n_watched == MAX_WATCH) {
        send_str(auth->actor_pipe, "ERR", 1);
        send_str(auth->actor_pipe, "too many watched sockets", 0);
        return;
    }
    void *s = zmq_socket(auth->ctx, ZMQ_PAIR);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(s, frames[1]) != 0) {
        send_str(auth->actor_pipe, "ERR", 1);
        send_str(auth->actor_pipe, zmq_strerror(zmq_errno()), 0);
        zmq_close(s);
        return;
    }
    snprintf(auth->watch_name[auth->n_watched], sizeof auth->watch_name[0], "%s", frames[2]);
    auth->watch[auth->n_watched++] = s;
    send_str(auth->actor_pipe, "OK", 0);
}

static void *actor(void *arg)
{
    nm_curve_auth *auth = arg;
    void *pipe = zmq_socket(auth->ctx, ZMQ_PAIR);
    int zero = 0;
    zmq_setsockopt(pipe, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(pipe, auth->pipe_ep);
    auth->zap = zmq_socket(auth->ctx, ZMQ_REP);
    zmq_setsockopt(auth->zap, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(auth->zap, ZAP_ENDPOINT) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "binding %s: %s (is another authenticator running in this context?)",
                 ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
        send_str(pipe, "ERR", 1);
        send_str(pipe, msg, 0);
        zmq_close(auth->zap);
        zmq_close(pipe);
        return NULL;
    }
    auth->actor_pipe = pipe;
    send_str(pipe, "OK", 0);
    for (;;) {
        zmq_pollitem_t items[2 + MAX_WATCH];
        items[0] = (zmq_pollitem_t){pipe, 0, ZMQ_POLLIN, 0};
        items[1] = (zmq_pollitem_t){auth->zap, 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < auth->n_watched; i++)
            items[2 + i] = (zmq_pollitem_t){auth->watch[i], 0, ZMQ_POLLIN, 0};
        if (zmq_poll(items, 2 + auth->n_watched, -1) < 0) {
            if (zmq_errno() == ETERM)
                break;
            continue; /* EINTR */
        }
        if (items[0].revents & ZMQ_POLLIN) {
            char frames[3][256];
            int n = recv_frames(pipe, frames, 3);
            if (n < 1 || !strcmp(frames[0], "STOP"))
                break;
            if (!strcmp(frames[0], "WATCH"))
                handle_watch(auth, frames, n);
        }
        if (items[1].revents & ZMQ_POLLIN)
            handle_zap(auth);
        for (int i = 0; i < auth->n_watched; i++) {
            if (items[2 + i].revents & ZMQ_POLLIN)
                handle_monitor(auth, i);
        }
    }
    for (int i = 0; i < auth->n_watched; i++)
        zmq_close(auth->watch[i]);
    zmq_unbind(auth->zap, ZAP_ENDPOINT); /* at once: a new authenticator may bind next */
    zmq_close(auth->zap);
    zmq_close(pipe);
    return NULL;
}

nm_curve_auth *nm_curve_auth_start(void *zmq_ctx, const char *allow_path, nm_error *err)
{
    if (nm_curve_available(err))
        return NULL;
    nm_curve_allow *allow = nm_curve_allow_load(allow_path, err);
    if (!allow)
        return NULL;
    nm_curve_auth *auth = nm_xcalloc(1, sizeof *auth);
    auth->ctx = zmq_ctx;
    auth->allow = allow;
    auth->allow_path = nm_xstrdup(allow_path);
    stat(allow_path, &auth->allow_st);
    /* Unique names: a closed socket's inproc name stays taken for a while. */
    snprintf(auth->pipe_ep, sizeof auth->pipe_ep, "inproc://nm-curve-auth-%u",
             atomic_fetch_add(&endpoint_seq, 1));
    auth->pipe = zmq_socket(zmq_ctx, ZMQ_PAIR);
    int zero = 0;
    if (!auth->pipe || zmq_setsockopt(auth->pipe, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(auth->pipe, auth->pipe_ep) != 0) {
        nm_error_set(err, NM_ERR_ZMQ, "starting the CURVE authenticator: %s",
                     zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (pthread_create(&auth->thread, NULL, actor, auth) != 0) {
        nm_error_set(err, NM_ERR_INTERNAL, "starting the CURVE authenticator thread failed");
        goto fail;
    }
    if (await_answer(auth, "starting the CURVE authenticator", err)) {
        pthread_join(auth->thread, NULL);
        goto fail;
    }
    nm_log_info("curve authenticator started allow=%s keys=%zu", allow_path,
                nm_curve_allow_size(allow));
    return auth;
fail:
    if (auth->pipe)
        zmq_close(auth->pipe);
    nm_curve_allow_destroy(&auth->allow);
    free(auth->allow_path);
    free(auth);
    return NULL;
}

int nm_curve_auth_watch(nm_curve_auth *auth, void *sock, const char *name, nm_error *err)
{
    if (auth->n_watch == MAX_WATCH)
        return nm_error_set(err, NM_ERR_FULL, "the CURVE authenticator watches at most %d sockets",
                            MAX_WATCH);
    char ep[96];
    snprintf(ep, sizeof ep, "inproc://nm-curve-mon-%u", atomic_fetch_add(&endpoint_seq, 1));
    auth->n_watch++;
    if (zmq_socket_monitor(sock, ep, MONITOR_EVENTS) != 0)
        return nm_error_set(err, NM_ERR_ZMQ, "monitoring socket %s: %s", name,
                            zmq_strerror(zmq_errno()));
    send_str(auth->pipe, "WATCH", 1);
    send_str(auth->pipe, ep, 1);
    send_str(auth->pipe, name, 0);
    return await_answer(auth, "watching a CURVE socket", err);
}

void nm_curve_auth_counts_get(const nm_curve_auth *auth, nm_curve_auth_counts *out)
{
    nm_curve_auth *a = (nm_curve_auth *)auth;
    out->accepted = atomic_load(&a->accepted);
    out->refused_key = atomic_load(&a->refused_key);
    out->refused_handshake = atomic_load(&a->refused_handshake);
}

uint64_t nm_curve_auth_refused(const nm_curve_auth *auth)
{
    nm_curve_auth_counts c;
    nm_curve_auth_counts_get(auth, &c);
    return c.refused_key + c.refused_handshake;
}

void nm_curve_auth_stop(nm_curve_auth **auth)
{
    if (!auth || !*auth)
        return;
    nm_curve_auth *a = *auth;
    send_str(a->pipe, "STOP", 0);
    pthread_join(a->thread, NULL);
    zmq_close(a->pipe);
    nm_curve_allow_destroy(&a->allow);
    free(a->allow_path);
    free(a);
    *auth = NULL;
}
