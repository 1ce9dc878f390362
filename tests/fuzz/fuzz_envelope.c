/*
 * fuzz_envelope: structure-aware protocol round trip.
 *
 * The input chooses an envelope: its body type (first byte: every body of
 * the oneof, in turn) and every field of every nested message (fuzz_proto.h
 * builds it from the protobuf-c descriptors, so new fields are fuzzed with no
 * change here). The envelope is encoded with nm_frame_encode, decoded with
 * nm_frame_decode (must succeed), and must come back equal field by field;
 * every truncation of the encoding must fail cleanly or decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_proto.h"
#include "nm_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The descriptor of the Envelope's body member number k (0-based). */
static const ProtobufCFieldDescriptor *body_field(unsigned k, unsigned *n_bodies)
{
    const ProtobufCMessageDescriptor *d = &newsmill__envelope__descriptor;
    unsigned n = 0;
    const ProtobufCFieldDescriptor *found = NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (n == k)
                found = &d->fields[i];
            n++;
        }
    }
    *n_bodies = n;
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fz f = {data + 1, size - 1};
    unsigned n_bodies;
    body_field(0, &n_bodies);
    const ProtobufCFieldDescriptor *body = body_field(data[0] % n_bodies, &n_bodies);
    pb_pool pool = {0};
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.request_id = fz_uint(&f, 1 + fz_u8(&f) % 8);
    ProtobufCMessage *m = pb_build(body->descriptor, &f, &pool, 1);
    memcpy((char *)&env + body->offset, &m, sizeof m);
    env.body_case = (Newsmill__Envelope__BodyCase)body->id;

    uint8_t *buf;
    size_t len;
    nm_frame_encode(&env, &buf, &len);
    Newsmill__Envelope *back;
    nm_error err;
    if (nm_frame_decode(buf, len, NM_FRAME_MAX_DEFAULT, &back, &err) != 0)
        abort(); /* a valid envelope of a known type must decode */
    if (back->version != NM_PROTOCOL_VERSION || back->request_id != env.request_id ||
        back->body_case != env.body_case || !pb_equal(&env.base, &back->base))
        abort(); /* a field changed on the way */
    nm_frame_free(&back);
    /* every truncation point: an error or a (shorter) valid envelope */
    size_t step = len > 64 ? len / 32 : 1;
    for (size_t cut = 0; cut < len; cut += step) {
        if (nm_frame_decode(buf, cut, NM_FRAME_MAX_DEFAULT, &back, &err) == 0)
            nm_frame_free(&back);
        else if (back)
            abort();
    }
    free(buf);
    pb_pool_free(&pool);
    return 0;
}
