/*
 * fuzz_frame: the protocol decoder on arbitrary bytes.
 *
 * Whatever the bytes, nm_frame_decode either fails with one of its
 * documented codes and a message (nothing returned), or returns an envelope
 * that (1) carries NM_PROTOCOL_VERSION and a known body, (2) re-encodes, and
 * (3) decodes again into an envelope equal field by field (every message
 * type, nested messages, repeated fields), whose encoding is byte-identical
 * to the first re-encoding. The error reply for a failure maps to a known
 * wire code. Seeds: one valid envelope of every body type (make_seeds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_proto.h"
#include "nm_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(const nm_error *err, const Newsmill__Envelope *env)
{
    if (env)
        abort(); /* nothing returned on failure */
    switch (err->code) {
    case NM_ERR_EMPTY:
    case NM_ERR_TOO_LARGE:
    case NM_ERR_MALFORMED:
    case NM_ERR_VERSION:
    case NM_ERR_UNKNOWN_TYPE:
        break;
    default:
        abort(); /* an undocumented failure code */
    }
    if (!err->msg[0] || !memchr(err->msg, '\0', sizeof err->msg))
        abort();
    Newsmill__ErrorCode wire = nm_frame_error_code(err->code);
    if (wire == NEWSMILL__ERROR_CODE__ERROR_INTERNAL || wire == NEWSMILL__ERROR_CODE__ERROR_UNSPECIFIED)
        abort(); /* a decode failure is the peer's fault, never "internal" */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Newsmill__Envelope *env = (Newsmill__Envelope *)1;
    nm_error err;
    nm_error_clear(&err);
    /* a small limit as well, so the too-large path is exercised */
    size_t max = size && (data[0] & 0x80) ? (size_t)data[0] : NM_FRAME_MAX_DEFAULT;
    if (nm_frame_decode(data, size, max, &env, &err) != 0) {
        check_failure(&err, env);
        return 0;
    }
    if (env->version != NM_PROTOCOL_VERSION || env->body_case == NEWSMILL__ENVELOPE__BODY__NOT_SET ||
        !strcmp(nm_frame_body_name(env->body_case), "none"))
        abort();

    uint8_t *buf1, *buf2;
    size_t len1, len2;
    nm_frame_encode(env, &buf1, &len1);
    Newsmill__Envelope *again;
    if (nm_frame_decode(buf1, len1, NM_FRAME_MAX_DEFAULT, &again, &err) != 0)
        abort(); /* we could not read what we wrote */
    if (!pb_equal(&env->base, &again->base))
        abort(); /* decode -> encode -> decode changed a field */
    nm_frame_encode(again, &buf2, &len2);
    if (len1 != len2 || memcmp(buf1, buf2, len1) != 0)
        abort(); /* re-encoding is not stable */
    free(buf1);
    free(buf2);
    nm_frame_free(&again);
    nm_frame_free(&env);
    if (env)
        abort();
    return 0;
}
