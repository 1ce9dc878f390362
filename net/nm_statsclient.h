/*
 * nm_statsclient: asking a collector for its fleet snapshot.
 *
 * One StatsRequest on a fresh DEALER socket to the collector's query
 * endpoint, one StatsSnapshot back, or a timeout: a collector that is down
 * or unreachable makes the call fail after timeout_ms, never hang.
 */
#ifndef NM_STATSCLIENT_H
#define NM_STATSCLIENT_H

#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"
#include "nm_protocol.h" /* NM_COLLECTOR_QUERY_ENDPOINT_DEFAULT */

/* nm_statsclient_fetch_curve without CURVE (tests/chaos calls it). */
int nm_statsclient_fetch(void *zmq_ctx, const char *endpoint, int64_t timeout_ms,
                         Newsmill__Envelope **reply, nm_error *err);

/* Fetches a snapshot, connecting with CURVE when curve says so (nm_curve.h;
 * NULL: plain). On success returns 0 and *reply is the envelope (caller
 * frees with nm_frame_free); (*reply)->snapshot is the fleet. Fails with
 * NM_ERR_TIMEOUT when nothing came back in time, NM_ERR_INVALID on a bad
 * endpoint, the collector's error (as NM_ERR_INTERNAL with its message)
 * when it answered with an ErrorReply, or a decode error. */
typedef struct nm_curve nm_curve;
int nm_statsclient_fetch_curve(void *zmq_ctx, const char *endpoint, const nm_curve *curve,
                               int64_t timeout_ms, Newsmill__Envelope **reply, nm_error *err);

#endif
