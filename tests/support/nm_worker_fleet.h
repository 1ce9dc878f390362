/*
 * nm_worker_fleet: what the worker tests (tests/integration/test_worker.c,
 * test_worker_faults.c) share: a fleet of one real newsmill-queue, up to
 * four real newsmill-workers and a producer, articles to submit to it, the
 * stats reports it sends (read in the collector's place), and the check that
 * every article is stored exactly once with its content (nm_results_check.h).
 *
 * Helpers fail the current cmocka test (fail_msg) when something does not
 * hold; include after cmocka's prerequisites, like nm_test.h.
 */
#ifndef NM_WORKER_FLEET_H
#define NM_WORKER_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_producer.h"
#include "nm_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define NM_SANITIZED 1
#else
#define NM_SANITIZED 0
#endif

/* ---- a fleet: one queue, some workers, one producer --------------------- */

typedef struct fleet {
    char tag[32];
    char front[64], back[64], stats[64];
    char spool[512], db[512];
    nm_proc queue;
    nm_proc workers[4];
    void *ctx;
    void *pull; /* bound at the stats endpoint in the collector's place */
    nm_producer *producer;
} fleet;

/* Starts the queue (lease length lease, then extra flags, which override the
 * defaults: the last occurrence of a flag wins), binds the stats endpoint so
 * the test reads every report, and connects the producer. Databases and logs
 * are named after tag in the test's directory. */
void fleet_start_queue_with(fleet *f, const char *tag, const char *lease,
                            const char *const *extra);

/* fleet_start_queue_with without extra flags. */
void fleet_start_queue(fleet *f, const char *tag, const char *lease);

/* Starts worker i (0..3) with the fleet's endpoints plus up to 6 extra
 * arguments (NULL-terminated; extra may be NULL). */
void fleet_start_worker(fleet *f, int i, const char *const *extra);

/* SIGTERM to the workers, then the queue (SIGKILL after 5 s each); closes
 * the producer and the stats socket. */
void fleet_stop(fleet *f);

/* Prints the last lines of every process's log to stderr (for failures). */
void fleet_dump_logs(fleet *f);

/* ---- articles ------------------------------------------------------------ */

/* Articles to submit: ids, bodies and their lengths (the set owns them). */
typedef struct article_set {
    size_t n;
    char **ids;
    char **bodies;
    size_t *lens;
} article_set;

/* Appends a copy of (id, body, len) to s. */
void set_add(article_set *s, const char *id, const char *body, size_t len);

/* Frees what s owns and empties it. */
void set_free(article_set *s);

/* n articles the test writes itself: even ones are about Kalın, Hamas and
 * Ankara (and a ceasefire), odd ones about a football club in Paris. */
void generated_articles(article_set *s, const char *prefix, size_t n);

/* Submits articles [from, to) in batches of 100; every one must be accepted. */
void submit_range(fleet *f, const article_set *s, size_t from, size_t to,
                  Newsmill__ContentType type);

/* ---- the results database ------------------------------------------------ */

/* The number sql gives on the results database db; 0 before it exists. */
int64_t db_count(const char *db, const char *sql);

/* Waits until the results database holds want articles; fails the test
 * (with the logs) after timeout_ms. */
void wait_for_count(fleet *f, int64_t want, int timeout_ms);

/* Every id of s stored exactly once with the content of its submitted body,
 * all of an article's rows there, and the tables whole (nm_results_check.h).
 * (articles.id is UNIQUE, so "count(*) = count(DISTINCT id)" could never
 * fail; content can.) */
void assert_exactly_once(fleet *f, const article_set *s);

/* ---- what the programs report -------------------------------------------- */

typedef struct metric_range {
    const char *name;
    double min, max;
} metric_range;

/* Value of the (first series of) metric name in r, or -1 when absent. */
double report_metric(const Newsmill__StatsReport *r, const char *name);

/* The next stats report of role (and instance, unless NULL) within
 * timeout_ms, or NULL. Caller frees with nm_frame_free. */
Newsmill__Envelope *next_report(fleet *f, const char *role, const char *instance,
                                int timeout_ms);

/* Waits for a report of role/instance in which every metric of want lies in
 * its range. Use it for conditions that, once true, stay true (counters
 * reaching a figure); fresh_metric reads a value as it is now. */
void wait_report(fleet *f, const char *role, const char *instance, const metric_range *want,
                 size_t n, int timeout_ms, const char *what);

/* The value of a metric now: reports already queued are discarded, then the
 * next one of role/instance is read (made after this call). */
double fresh_metric(fleet *f, const char *role, const char *instance, const char *name);

/* Waits until the queue has settled want articles and holds nothing (no
 * lease out, no backlog): no worker can commit anything more of them. */
void wait_queue_settled(fleet *f, int64_t want, int timeout_ms);

#endif
