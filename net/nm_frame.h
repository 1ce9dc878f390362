/*
 * nm_frame: one protobuf Envelope per ZeroMQ multipart message, and back.
 *
 * A message on the wire is zero or more routing frames (ROUTER identities,
 * the empty delimiter a REQ socket adds) followed by one frame holding a
 * newsmill.Envelope (proto/newsmill.proto). Receiving keeps the routing frames
 * in an nm_route so the reply goes back the same way.
 *
 * Decoding checks, in order: non-empty, within the size limit, parses as an
 * Envelope, carries NM_PROTOCOL_VERSION, carries a body this build knows.
 * Each failure is -1 with a distinct code (NM_ERR_EMPTY, NM_ERR_TOO_LARGE,
 * NM_ERR_MALFORMED, NM_ERR_VERSION, NM_ERR_UNKNOWN_TYPE) and a message that
 * says what was wrong; the route is filled even then, so the caller can send
 * an ErrorReply (nm_frame_reply_error maps the code) and keep serving.
 */
#ifndef NM_FRAME_H
#define NM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"
#include "nm_protocol.h" /* NM_PROTOCOL_VERSION */

/* Default largest Envelope frame accepted: a batch of big articles fits. */
#define NM_FRAME_MAX_DEFAULT ((size_t)256 << 20)

#define NM_ROUTE_MAX_FRAMES 4
#define NM_ROUTE_MAX_BYTES 255

/* The routing frames of a received message: a value type, no ownership. */
typedef struct nm_route {
    size_t n;
    size_t len[NM_ROUTE_MAX_FRAMES];
    unsigned char data[NM_ROUTE_MAX_FRAMES][NM_ROUTE_MAX_BYTES];
} nm_route;

/* Packs env into a new buffer (caller frees with free()); sets env->version.
 * Never fails except by the allocation policy of nm_alloc. */
void nm_frame_encode(Newsmill__Envelope *env, uint8_t **buf, size_t *len);

/* Decodes one Envelope frame. On success *env is the caller's, to release
 * with nm_frame_free(). On failure *env is NULL and err says why. */
int nm_frame_decode(const uint8_t *buf, size_t len, size_t max_len, Newsmill__Envelope **env,
                    nm_error *err);

/* Frees a decoded envelope and clears the pointer; accepts NULL / *env NULL. */
void nm_frame_free(Newsmill__Envelope **env);

/* Sends route frames (route may be NULL) then the packed env. flags is 0 or
 * ZMQ_DONTWAIT. Returns 0, or -1 with NM_ERR_ZMQ (NM_ERR_BUSY on EAGAIN). */
int nm_frame_send(void *sock, const nm_route *route, Newsmill__Envelope *env, int flags,
                  nm_error *err);

/* Receives one whole multipart message. route may be NULL (DEALER side).
 * flags is 0 or ZMQ_DONTWAIT. Returns 0 with *env set, or -1: NM_ERR_BUSY when
 * nothing is waiting (ZMQ_DONTWAIT), NM_ERR_ZMQ when the socket failed (EINTR
 * included), or a decode error as listed above (the message is consumed). */
int nm_frame_recv(void *sock, nm_route *route, size_t max_len, Newsmill__Envelope **env, int flags,
                  nm_error *err);

/* Sends an ErrorReply for request_id whose code matches err->code and whose
 * message is err->msg. Best effort, never blocks: returns nm_frame_send's
 * result. */
int nm_frame_reply_error(void *sock, const nm_route *route, uint64_t request_id,
                         const nm_error *err);

/* Maps an nm_errcode to the wire ErrorCode. */
Newsmill__ErrorCode nm_frame_error_code(nm_errcode code);

/* Short stable name of an envelope body ("submit", "delivery", ...), for logs
 * and stats labels; "none" when unset. */
const char *nm_frame_body_name(Newsmill__Envelope__BodyCase body);

#endif
