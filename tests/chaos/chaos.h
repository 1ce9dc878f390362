/*
 * chaos: what the harness's parts share (tests/chaos/chaos.c, the fleet and
 * the faults; chaos_producer.c, the producer processes; chaos_check.c, what
 * they were told and the checks of the end). See chaos.c for what it proves.
 */
#ifndef CHAOS_H
#define CHAOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_results_check.h"
#include "nm_test.h"

#define MAX_WORKERS 8
#define MAX_MEMBERS (MAX_WORKERS + 6) /* + queue(s), collector, nats nodes */
#define PRODUCERS 2
#define BATCH 20
#define POISON_EVERY 97 /* one article in this many is poison */
#define RESUBMIT_ONE_IN 4   /* a batch slot sends a new version of an earlier id this often */
#define RESUBMIT_WINDOW 400 /* ... of one of the producer's last this many ids */

typedef struct member {
    nm_proc proc;
    char name[32];
    char *argv[NM_TEST_FLEET_ARGV];
    int argc;
    bool stopped; /* SIGSTOPped right now */
} member;

typedef struct fleet {
    const char *dir;
    /* front and back are lists with --nats (both fronts, for failover) */
    char front[160], back[160], stats[64], query[64], http[64];
    char spool[512], results[512];
    member members[MAX_MEMBERS];
    int n_members;
    bool nats;            /* --nats: the queue on a 3-node JetStream cluster */
    char nats_urls[256];  /* the nodes' client URLs */
    int nats_monitor[3];  /* their monitoring ports (/jsz) */
} fleet;

/* ---- the JetStream fleet (chaos_nats.c) --------------------------------- */

/* True when nats-server is on the PATH. */
bool chaos_nats_available(void);

/* Adds the members of a --nats fleet to f (not started): nats-1..3
 * (JetStream, full-mesh routes, store dirs under f->dir), two fronts
 * (queue, queue-2) on them, the collector, and workers given both fronts.
 * add(f, name, argv) adds one member. */
void chaos_nats_members(fleet *f, int workers, void (*add)(fleet *f, const char *name, char **argv));

/* Waits up to ms for a producer's first accepted article (a cluster just
 * started elects its leaders, and its fronts make the streams, first: the
 * faults start on a fleet that works), restarting members that exited
 * meanwhile with restart_dead(f) (a front gives up on a cluster that does
 * not answer yet). */
bool chaos_nats_wait_accepted(fleet *f, int ms, void (*restart_dead)(fleet *f));

/* True when every node answers /healthz with 200: JetStream has its meta
 * leader and every stream and consumer on the node is current. */
bool chaos_nats_healthy(const fleet *f);

/* Waits up to ms for chaos_nats_healthy(); false if it never was. */
bool chaos_nats_wait_healthy(const fleet *f, int ms);

/* What the cluster still has to deliver: the consumer's pending and
 * unacknowledged messages, as the consumer's leader counts them (-1 when no
 * node leads it, during an election). Also the messages the stream's leader
 * holds (*stream_msgs, -1 if none leads): more than the first when
 * nats-server 2.9 kept acknowledged messages of the work queue after leader
 * changes (seen under kill -9; each replica then counts its own). */
long chaos_nats_left(const fleet *f, long *stream_msgs);

/* Dead letters listed by the fronts (`newsmill dead --json`): how many, how
 * many are poison; those that are not are printed. -1 when no front answers. */
long chaos_nats_dead(const fleet *f, long *poison, long *not_poison);

/* ---- producers (chaos_producer.c) -------------------------------------- */

/* Article n of every producer is poison (HTML without readable text) one
 * time in POISON_EVERY. */
bool chaos_is_poison(long n);

/* Writes version v (0 = first) of article n of producer p: its id into id,
 * its body into body. The same (p, n, v) always gives the same bytes, so the
 * checker can rebuild what was sent; versions of one id differ in their text,
 * so what is stored says which version it is. */
void chaos_make_article(int p, long n, int v, char *id, size_t id_size, char *body,
                        size_t body_size, Newsmill__ContentType *type);

/* The hash producers record for a body they sent. */
uint64_t chaos_body_hash(const char *body);

/* A producer process: submits batches until told to stop, resubmitting a
 * batch until it is acked. About one slot in RESUBMIT_ONE_IN sends a new
 * version of one of its recent articles instead of a new one. Each producer
 * owns its ids, and submits one batch at a time, so the last version it was
 * acked for an id is that id's latest acknowledged version. Writes one line
 * per accepted article to accepted-P.txt: "ID<TAB>VERSION<TAB>BODY-HASH";
 * a batch still unacknowledged when it is stopped (the queue may or may not
 * hold it) is written with a fourth field "unacked". */
int chaos_run_producer(const fleet *f, int p, uint64_t seed_state);

/* ---- what the producers were told, and the checks (chaos_check.c) ------ */

/* Per article of a producer: the versions the checks expect. */
typedef struct id_record {
    int acked;           /* latest acknowledged version, -1: never acked */
    int unacked;         /* a version sent but not acknowledged at the stop, -1: none */
    uint64_t acked_hash; /* body hash the producer recorded for `acked` */
} id_record;

typedef struct records {
    id_record *of[PRODUCERS]; /* indexed by article number */
    long n[PRODUCERS];
    long acked, acked_poison; /* ids acknowledged at least once */
    long resubmitted;         /* acknowledged versions after an id's first */
} records;

/* Reads the producers' accepted-P.txt files into *r (free with
 * chaos_free_records). */
void chaos_load_records(const fleet *f, records *r);

void chaos_free_records(records *r);

/* The single number sql gives on the database at path (read-only), or -1. */
long chaos_query_file(const char *path, const char *sql);

/* How many acked non-poison ids are in the results database (-1: no db). */
long chaos_count_stored(const fleet *f, const records *r);

/* The queue's own report (through the collector) of nothing waiting and
 * nothing in flight: the spool itself is locked while the queue runs. Returns
 * the send time of that report, or 0 when it is not idle or not live. */
int64_t chaos_queue_idle_report(const fleet *f, void *ctx);

/* Dead letters that are not poison, each printed with its last reasons. */
long chaos_report_dead_not_poison(const fleet *f, bool print);

/* What the content checks found. */
typedef struct content_report {
    long checked;       /* acked non-poison ids looked at */
    long ok;            /* stored with their latest acknowledged version, all rows */
    long missing;       /* not stored */
    long stale;         /* stored with an older version than the latest acked */
    long wrong;         /* stored with content no version of theirs has */
    long rows_mismatch; /* right article row, wrong child rows */
    long unexpected;    /* result rows whose id was never sent, or is poison */
    nm_results_tables tables; /* orphan rows, the full-text index */
    long printed;
} content_report;

/* Checks the results database against the records; returns failures. */
int chaos_check_results(const fleet *f, const records *r, content_report *c);

#endif
