#include "nm_frame.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_alloc.h"

void nm_frame_encode(Newsmill__Envelope *env, uint8_t **buf, size_t *len)
{
    env->version = NM_PROTOCOL_VERSION;
    size_t size = newsmill__envelope__get_packed_size(env);
    *buf = nm_xmalloc(size ? size : 1);
    *len = newsmill__envelope__pack(env, *buf);
}

/* protobuf-c accepts field number 0 (invalid protobuf) when the tag is
 * written in more than one byte (0x82 0x00), keeps it as an unknown field,
 * and packs it back as the one-byte tag 0x02, which it then refuses: a
 * message that decodes but whose re-encoding does not (found by
 * tests/fuzz/fuzz_frame). True when m or any message inside it has one.
 * The schema is not recursive, so the depth is bounded by it. */
static bool has_field_zero(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++) {
        if (m->unknown_fields[i].tag == 0)
            return true;
    }
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            ProtobufCMessage *const *items;
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            memcpy(&items, base + f->offset, sizeof items);
            for (size_t k = 0; k < n; k++) {
                if (has_field_zero(items[k]))
                    return true;
            }
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + f->quantifier_offset, sizeof which);
            if (which != f->id)
                continue;
        }
        const ProtobufCMessage *child;
        memcpy(&child, base + f->offset, sizeof child);
        if (child && has_field_zero(child))
            return true;
    }
    return false;
}

int nm_frame_decode(const uint8_t *buf, size_t len, size_t max_len, Newsmill__Envelope **env,
                    nm_error *err)
{
    *env = NULL;
    if (len == 0)
        return nm_error_set(err, NM_ERR_EMPTY, "empty message");
    if (len > max_len)
        return nm_error_set(err, NM_ERR_TOO_LARGE, "message of %zu bytes exceeds the limit of %zu",
                            len, max_len);
    Newsmill__Envelope *e = newsmill__envelope__unpack(NULL, len, buf);
    if (!e)
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "message of %zu bytes is not a newsmill protobuf envelope", len);
    if (has_field_zero(&e->base)) {
        newsmill__envelope__free_unpacked(e, NULL);
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "message of %zu bytes has a field numbered 0 (invalid protobuf)", len);
    }
    if (e->version != NM_PROTOCOL_VERSION) {
        nm_error_set(err, e->version ? NM_ERR_VERSION : NM_ERR_MALFORMED,
                     e->version ? "protocol version %u is not supported (this build speaks %d)"
                                : "message has no protocol version (version %u); not a newsmill envelope (this build speaks %d)",
                     e->version, NM_PROTOCOL_VERSION);
        newsmill__envelope__free_unpacked(e, NULL);
        return -1;
    }
    if (e->body_case == NEWSMILL__ENVELOPE__BODY__NOT_SET) {
        newsmill__envelope__free_unpacked(e, NULL);
        return nm_error_set(err, NM_ERR_UNKNOWN_TYPE,
                            "message carries no body this build knows (unknown message type)");
    }
    *env = e;
    return 0;
}

void nm_frame_free(Newsmill__Envelope **env)
{
    if (env && *env) {
        newsmill__envelope__free_unpacked(*env, NULL);
        *env = NULL;
    }
}

static void free_buffer(void *data, void *hint)
{
    (void)hint;
    free(data);
}

static int zmq_failure(nm_error *err, const char *what)
{
    int e = zmq_errno();
    return nm_error_set(err, e == EAGAIN ? NM_ERR_BUSY : NM_ERR_ZMQ, "%s: %s", what, zmq_strerror(e));
}

int nm_frame_send(void *sock, const nm_route *route, Newsmill__Envelope *env, int flags,
                  nm_error *err)
{
    size_t n_route = route ? route->n : 0;
    for (size_t i = 0; i < n_route; i++) {
        if (zmq_send(sock, route->data[i], route->len[i], flags | ZMQ_SNDMORE) < 0)
            return zmq_failure(err, "sending routing frame");
    }
    uint8_t *buf;
    size_t len;
    nm_frame_encode(env, &buf, &len);
    zmq_msg_t msg;
    zmq_msg_init_data(&msg, buf, len, free_buffer, NULL); /* zero copy: zmq frees buf */
    if (zmq_msg_send(&msg, sock, flags) < 0) {
        zmq_msg_close(&msg);
        return zmq_failure(err, "sending message");
    }
    return 0;
}

int nm_frame_recv(void *sock, nm_route *route, size_t max_len, Newsmill__Envelope **env, int flags,
                  nm_error *err)
{
    *env = NULL;
    if (route)
        route->n = 0;
    zmq_msg_t part;
    zmq_msg_init(&part);
    int bad_route = 0;
    for (;;) {
        if (zmq_msg_recv(&part, sock, flags) < 0) {
            zmq_msg_close(&part);
            return zmq_failure(err, "receiving message");
        }
        flags &= ~ZMQ_DONTWAIT; /* the rest of a multipart message is already here */
        if (!zmq_msg_more(&part))
            break;
        size_t len = zmq_msg_size(&part);
        if (!route)
            continue; /* DEALER side: nothing routes back */
        if (route->n == NM_ROUTE_MAX_FRAMES || len > NM_ROUTE_MAX_BYTES) {
            bad_route = 1;
            continue;
        }
        memcpy(route->data[route->n], zmq_msg_data(&part), len);
        route->len[route->n++] = len;
    }
    int rc;
    if (bad_route)
        rc = nm_error_set(err, NM_ERR_MALFORMED, "message has more than %d routing frames",
                          NM_ROUTE_MAX_FRAMES);
    else
        rc = nm_frame_decode(zmq_msg_data(&part), zmq_msg_size(&part), max_len, env, err);
    zmq_msg_close(&part);
    return rc;
}

Newsmill__ErrorCode nm_frame_error_code(nm_errcode code)
{
    switch (code) {
    case NM_ERR_MALFORMED:
    case NM_ERR_EMPTY:
    case NM_ERR_UTF8:
        return NEWSMILL__ERROR_CODE__ERROR_MALFORMED;
    case NM_ERR_VERSION:
        return NEWSMILL__ERROR_CODE__ERROR_BAD_VERSION;
    case NM_ERR_UNKNOWN_TYPE:
        return NEWSMILL__ERROR_CODE__ERROR_UNKNOWN_TYPE;
    case NM_ERR_TOO_LARGE:
        return NEWSMILL__ERROR_CODE__ERROR_TOO_LARGE;
    case NM_ERR_INVALID:
        return NEWSMILL__ERROR_CODE__ERROR_BAD_REQUEST;
    case NM_ERR_NOT_FOUND:
        return NEWSMILL__ERROR_CODE__ERROR_UNKNOWN_LEASE;
    case NM_ERR_FULL:
        return NEWSMILL__ERROR_CODE__ERROR_QUEUE_FULL;
    case NM_ERR_IO:
    case NM_ERR_DB:
    case NM_ERR_DISK_FULL:
    case NM_ERR_BUSY:
        return NEWSMILL__ERROR_CODE__ERROR_STORAGE;
    case NM_ERR_UNAUTHORIZED:
        return NEWSMILL__ERROR_CODE__ERROR_UNAUTHORIZED;
    default:
        return NEWSMILL__ERROR_CODE__ERROR_INTERNAL;
    }
}

int nm_frame_reply_error(void *sock, const nm_route *route, uint64_t request_id,
                         const nm_error *err)
{
    Newsmill__ErrorReply reply = NEWSMILL__ERROR_REPLY__INIT;
    reply.code = nm_frame_error_code(err->code);
    reply.message = (char *)err->msg;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.request_id = request_id;
    env.body_case = NEWSMILL__ENVELOPE__BODY_ERROR;
    env.error = &reply;
    return nm_frame_send(sock, route, &env, ZMQ_DONTWAIT, NULL);
}

const char *nm_frame_body_name(Newsmill__Envelope__BodyCase body)
{
    switch (body) {
    case NEWSMILL__ENVELOPE__BODY_SUBMIT: return "submit";
    case NEWSMILL__ENVELOPE__BODY_SUBMIT_ACK: return "submit_ack";
    case NEWSMILL__ENVELOPE__BODY_CREDIT: return "credit";
    case NEWSMILL__ENVELOPE__BODY_HEARTBEAT: return "heartbeat";
    case NEWSMILL__ENVELOPE__BODY_DELIVERY: return "delivery";
    case NEWSMILL__ENVELOPE__BODY_DONE: return "done";
    case NEWSMILL__ENVELOPE__BODY_FAIL: return "fail";
    case NEWSMILL__ENVELOPE__BODY_EXTEND: return "extend";
    case NEWSMILL__ENVELOPE__BODY_LEASE_REPLY: return "lease_reply";
    case NEWSMILL__ENVELOPE__BODY_STATS: return "stats";
    case NEWSMILL__ENVELOPE__BODY_STATS_REQUEST: return "stats_request";
    case NEWSMILL__ENVELOPE__BODY_SNAPSHOT: return "snapshot";
    case NEWSMILL__ENVELOPE__BODY_DEAD_LIST_REQUEST: return "dead_list_request";
    case NEWSMILL__ENVELOPE__BODY_DEAD_LIST: return "dead_list";
    case NEWSMILL__ENVELOPE__BODY_REQUEUE: return "requeue";
    case NEWSMILL__ENVELOPE__BODY_REQUEUE_REPLY: return "requeue_reply";
    case NEWSMILL__ENVELOPE__BODY_ERROR: return "error";
    default: return "none";
    }
}
