/*
 * nm_qstore_js: a NATS JetStream cluster as the queue's store (nm_qstore.h).
 *
 * Three streams, created when missing (Replicas 3 when three or more URLs
 * are given, else 1), refused with the reason when present with other
 * settings (never changed):
 *   NEWSMILL          work-queue retention, subject newsmill.articles: the
 *                     articles. Message id (Nats-Msg-Id) = the article id
 *                     and a hash of its body, so a resend within the
 *                     duplicate window (2 min) is stored once, while a
 *                     newer body of the id is stored (and wins, as with the
 *                     spool: newest revision in the results).
 *   NEWSMILL_DEAD     newsmill.dead.<hex id>, one message per id: the dead
 *                     letter (packed DeadLetter, then the packed Article).
 *   NEWSMILL_HISTORY  newsmill.history.<seq>, one message per subject: the
 *                     failures so far of the article at stream sequence seq.
 * and one durable pull consumer "newsmill" on NEWSMILL that every front
 * shares (explicit acks, ack wait = lease + worker timeout, max ack pending
 * JS_MAX_ACK_PENDING), refused with the reason when present with others.
 *
 * The mapping: commit waits for every publish ack (the submit is acked to
 * the producer after it); scan_ready hands out what was delivered and sends
 * a pull request for what the reactor can deliver now (reads_reserve), less
 * what live requests may still bring, without waiting: deliveries arrive
 * on the library's thread and wake the reactor (wake_fd; see
 * nm_qstore_js_pull.c for why not a blocking fetch); the stream sequence is both the
 * row's seq and its revision; attempts = deliveries - 1; extend is "in
 * progress"; remove is an ack confirmed by the server, the acks of one
 * transaction sent together at commit and waited for; retry records the failure in
 * NEWSMILL_HISTORY and naks with the back-off as delay; bury publishes the
 * dead letter, then acks; unbury publishes the article again with its
 * history in a header (nm_qstore_js_dead.c). A history that cannot be read
 * fails the retry or bury (the delivery stays held). Priorities are not
 * kept (JetStream delivers in stream order).
 *
 * Durability differs from the spool: see docs/guarantees.md.
 */
#ifndef NM_QSTORE_JS_H
#define NM_QSTORE_JS_H

#include <stdint.h>

#include "nm_qstore.h"

typedef struct nm_qstore_js_config {
    const char *urls;     /* "nats://h:p[,nats://h:p...]" */
    int replicas;         /* 0: 3 when three or more URLs, else 1 */
    int64_t ack_wait_ms;  /* the consumer's ack wait */
    int64_t connect_ms;   /* give up connecting (and creating streams) after this */
    const char *user, *password; /* NULL or "": none */
    const char *token;           /* NULL or "": none */
    const char *tls_ca;          /* CA file: connect with TLS, verifying the servers */
} nm_qstore_js_config;

/* Connects, checks or creates the streams and the consumer. NULL with err
 * naming the URLs when no server answers in cfg->connect_ms, or naming the
 * stream and the reason when it exists with other settings. */
nm_qstore *nm_qstore_js_open(const nm_qstore_js_config *cfg, nm_error *err);

#endif
