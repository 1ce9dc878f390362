/* nm_qstore_spool: the store interface over the SQLite spool (nm_spool.h),
 * the default store. Each operation is the spool's function of the same
 * name. */
#include "nm_qstore_spool.h"

#include "nm_spool.h"
#include <stdlib.h>

#include "nm_alloc.h"

typedef struct {
    nm_qstore base;
    nm_spool *spool;
} spool_store;

static nm_spool *sp(nm_qstore *s)
{
    return ((spool_store *)s)->spool;
}

static void s_close(nm_qstore *s)
{
    nm_spool_close(&((spool_store *)s)->spool);
    free(s);
}

static int s_begin(nm_qstore *s, bool durable, nm_error *err)
{
    return nm_spool_begin(sp(s), durable, err);
}

static int s_commit(nm_qstore *s, nm_error *err)
{
    return nm_spool_commit(sp(s), err);
}

static void s_rollback(nm_qstore *s)
{
    nm_spool_rollback(sp(s));
}

static int s_put(nm_qstore *s, const char *id, int32_t priority, int64_t now_unix_ms,
                 const uint8_t *article, size_t len, bool *inserted, nm_error *err)
{
    return nm_spool_put(sp(s), id, priority, now_unix_ms, article, len, inserted, NULL, err);
}

static int s_remove(nm_qstore *s, int64_t seq, int64_t rev, bool *removed, nm_error *err)
{
    return nm_spool_remove(sp(s), seq, rev, removed, err);
}

static int s_retry(nm_qstore *s, int64_t seq, int64_t rev, uint32_t attempts,
                   int64_t not_before_unix_ms, const Newsmill__FailureRecord *rec, bool *applied,
                   nm_error *err)
{
    return nm_spool_retry(sp(s), seq, rev, attempts, not_before_unix_ms, rec, applied, err);
}

static int s_bury(nm_qstore *s, int64_t seq, int64_t rev, uint32_t attempts,
                  const Newsmill__FailureRecord *rec, int64_t now_unix_ms,
                  Newsmill__DeadLetter **letter, nm_error *err)
{
    return nm_spool_bury(sp(s), seq, rev, attempts, rec, now_unix_ms, letter, err);
}

static int s_scan_ready(nm_qstore *s, int64_t now_unix_ms, size_t limit,
                        void (*fn)(void *arg, int64_t seq), void *arg, size_t *n_seen,
                        nm_error *err)
{
    return nm_spool_scan_ready(sp(s), now_unix_ms, limit, fn, arg, n_seen, err);
}

static int s_fetch(nm_qstore *s, int64_t seq, nm_qstore_row *row, bool *found, nm_error *err)
{
    return nm_spool_fetch(sp(s), seq, row, found, err);
}

static int s_scan_oldest(nm_qstore *s, size_t limit,
                         bool (*fn)(void *arg, int64_t seq, int64_t enqueued_unix_ms), void *arg,
                         nm_error *err)
{
    return nm_spool_scan_oldest(sp(s), limit, fn, arg, err);
}

static int s_counts(nm_qstore *s, int64_t *n_articles, int64_t *n_dead, int64_t *bytes,
                    nm_error *err)
{
    if ((n_articles && nm_spool_count_articles(sp(s), n_articles, err) != 0) ||
        (n_dead && nm_spool_count_dead(sp(s), n_dead, err) != 0))
        return -1;
    return bytes ? nm_spool_bytes(sp(s), bytes, err) : 0;
}

static int s_compact(nm_qstore *s, int64_t *freed, nm_error *err)
{
    return nm_spool_compact(sp(s), freed, err);
}

static int s_dead_list(nm_qstore *s, uint32_t limit, const char *id,
                       Newsmill__DeadLetter ***letters, size_t *n, nm_error *err)
{
    return nm_spool_dead_list(sp(s), limit, id, letters, n, err);
}

static int s_unbury(nm_qstore *s, const char *id, int64_t now_unix_ms, bool *found,
                    bool *inserted, nm_error *err)
{
    return nm_spool_unbury(sp(s), id, now_unix_ms, found, inserted, err);
}

static int s_dead_ids(nm_qstore *s, char ***ids, size_t *n, nm_error *err)
{
    return nm_spool_dead_ids(sp(s), ids, n, err);
}

static const nm_qstore_ops spool_ops = {
    .name = "spool",
    .caps = {.reads_reserve = false, .shared = false},
    .close = s_close,
    .begin = s_begin,
    .commit = s_commit,
    .rollback = s_rollback,
    .put = s_put,
    .remove = s_remove,
    .retry = s_retry,
    .bury = s_bury,
    .extend = NULL,
    .scan_ready = s_scan_ready,
    .fetch = s_fetch,
    .scan_oldest = s_scan_oldest,
    .counts = s_counts,
    .compact = s_compact,
    .dead_list = s_dead_list,
    .unbury = s_unbury,
    .dead_ids = s_dead_ids,
};

nm_qstore *nm_qstore_spool_open(const char *path, nm_spool_durability durability, nm_error *err)
{
    nm_spool *spool = nm_spool_open(path, durability, err);
    if (!spool)
        return NULL;
    spool_store *s = nm_xcalloc(1, sizeof *s);
    s->base.ops = &spool_ops;
    s->spool = spool;
    return &s->base;
}
