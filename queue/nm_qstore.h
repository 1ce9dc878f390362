/*
 * nm_qstore: the queue's durable store, as one interface with two
 * implementations. The reactor, credit, stats and admin code (nm_queue*.c)
 * speak only this interface; which store runs is chosen once, at open.
 *
 *   spool      (nm_qstore_spool.c over nm_spool.h) one SQLite file on this
 *              host; the default.
 *   jetstream  (nm_qstore_js.c) a NATS JetStream work-queue stream on a
 *              cluster of nats-server nodes; the queue process keeps no
 *              durable state and several can run against one cluster.
 *
 * The model both implement: articles are rows named by a sequence number
 * (`seq`) and the revision of their body (`rev`). Writes happen between
 * begin and commit; nothing is promised before commit returns 0 (the spool
 * commits its transaction; JetStream waits for every publish ack). A row
 * handed out by scan_ready is read with fetch, and leaves the store only
 * through remove (done), retry (failure: back-off), or bury (dead letter).
 *
 * What differs, and the reactor is told through `nm_qstore_caps`:
 *   reads_reserve  scan_ready reserves what it returns (JetStream: a fetched
 *                  message is held for the consumer's ack wait): the caller
 *                  asks for no more than it can deliver now.
 *   shared         other fronts change the store too: counts are read from
 *                  the store (state) rather than kept by the caller.
 * Availability: a store that cannot be reached (JetStream: NATS down) fails
 * begin, settles and reads at once with NM_ERR_BUSY rather than waiting, so
 * the reactor goes on; the caller refuses what it cannot store.
 * Not thread-safe.
 */
#ifndef NM_QSTORE_H
#define NM_QSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"

/* The longest article id the queue accepts (the front refuses a longer
 * one): a store that builds names from ids sizes them by it. */
#define NM_QSTORE_ID_MAX_BYTES 1024

/* One article row as read for delivery. The blob is in a buffer the row owns
 * and reuses: free it with nm_qstore_row_clear(). */
typedef struct nm_qstore_row {
    int64_t seq;
    int64_t rev; /* the body's revision (Delivery.revision) */
    int64_t enqueued_unix_ms;
    uint32_t attempts; /* failed deliveries so far */
    uint8_t *article;  /* packed newsmill.Article */
    size_t article_len;
    size_t article_cap;
} nm_qstore_row;

void nm_qstore_row_clear(nm_qstore_row *row);

typedef struct nm_qstore_caps {
    bool reads_reserve;
    bool shared;
} nm_qstore_caps;

typedef struct nm_qstore nm_qstore;

/* A shared store's figures, the same whichever front reads them (stats). */
typedef struct nm_qstore_state {
    int64_t backlog;        /* waiting for a delivery */
    int64_t in_flight;      /* delivered and not settled, by any front */
    int64_t redelivered;    /* deliveries beyond each article's first, in all */
    int64_t oldest_unix_ms; /* enqueue time of the oldest article kept; 0: none */
    int64_t articles, dead, bytes;
} nm_qstore_state;

/* The operations; see nm_spool.h for the contract of each (same names). */
typedef struct nm_qstore_ops {
    const char *name;
    nm_qstore_caps caps;
    void (*close)(nm_qstore *s);
    int (*begin)(nm_qstore *s, bool durable, nm_error *err);
    int (*commit)(nm_qstore *s, nm_error *err);
    void (*rollback)(nm_qstore *s);
    int (*put)(nm_qstore *s, const char *id, int32_t priority, int64_t now_unix_ms,
               const uint8_t *article, size_t len, bool *inserted, nm_error *err);
    int (*remove)(nm_qstore *s, int64_t seq, int64_t rev, bool *removed, nm_error *err);
    int (*retry)(nm_qstore *s, int64_t seq, int64_t rev, uint32_t attempts,
                 int64_t not_before_unix_ms, const Newsmill__FailureRecord *rec, bool *applied,
                 nm_error *err);
    int (*bury)(nm_qstore *s, int64_t seq, int64_t rev, uint32_t attempts,
                const Newsmill__FailureRecord *rec, int64_t now_unix_ms,
                Newsmill__DeadLetter **letter, nm_error *err);
    /* A lease was extended (JetStream: "in progress"); may be NULL. */
    void (*extend)(nm_qstore *s, int64_t seq);
    int (*scan_ready)(nm_qstore *s, int64_t now_unix_ms, size_t limit,
                      void (*fn)(void *arg, int64_t seq), void *arg, size_t *n_seen,
                      nm_error *err);
    int (*fetch)(nm_qstore *s, int64_t seq, nm_qstore_row *row, bool *found, nm_error *err);
    /* A store that receives rows on its own (JetStream: deliveries of the
     * pull requests scan_ready sent) gives a descriptor that becomes
     * readable when scan_ready has more to return; wake_clear makes it
     * unreadable again. NULL both: scan when the caller thinks it useful. */
    int (*wake_fd)(const nm_qstore *s);
    void (*wake_clear)(nm_qstore *s);
    int (*scan_oldest)(nm_qstore *s, size_t limit,
                       bool (*fn)(void *arg, int64_t seq, int64_t enqueued_unix_ms), void *arg,
                       nm_error *err);
    /* Counts at start (articles, dead) and the bytes used, now. A shared
     * store also answers counts whenever asked (stats). */
    int (*counts)(nm_qstore *s, int64_t *n_articles, int64_t *n_dead, int64_t *bytes,
                  nm_error *err);
    int (*compact)(nm_qstore *s, int64_t *freed, nm_error *err);
    /* A shared store: its figures, read from the store; NULL otherwise. */
    int (*state)(nm_qstore *s, nm_qstore_state *out, nm_error *err);
    int (*dead_list)(nm_qstore *s, uint32_t limit, const char *id,
                     Newsmill__DeadLetter ***letters, size_t *n, nm_error *err);
    int (*unbury)(nm_qstore *s, const char *id, int64_t now_unix_ms, bool *found,
                  bool *inserted, nm_error *err);
    int (*dead_ids)(nm_qstore *s, char ***ids, size_t *n, nm_error *err);
} nm_qstore_ops;

/* Every implementation's object starts with this. */
struct nm_qstore {
    const nm_qstore_ops *ops;
};

/* Frees an array of letters from dead_list. */
void nm_qstore_letters_free(Newsmill__DeadLetter **letters, size_t n);

/* Closes; accepts NULL; clears *s. */
void nm_qstore_close(nm_qstore **s);

#endif
