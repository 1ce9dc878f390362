/* bench-queue --raw-spool: what the spool's storage costs alone, without
 * sockets, protobuf or the queue's loop, in this process. */
#ifndef BENCH_SPOOL_RAW_H
#define BENCH_SPOOL_RAW_H

#include <stdbool.h>
#include <stdint.h>

/* Pushes n articles of body_bytes through storage in dir, batch at a time:
 * one durable transaction stores a batch, then it is read back and deleted
 * in one non-durable transaction, as the queue does. batched false: through
 * nm_spool (a row per article, the queue's layout); true: one row per
 * batch in a table of its own, the same pragmas (the layout issue 20
 * names, for scale). Prints one JSON line, "mode":"queue-spool-raw".
 * Returns 0, or 1 on a storage error (printed). */
int bench_spool_raw(const char *dir, int64_t n, int64_t batch, int64_t body_bytes,
                    const char *durability, bool batched);

#endif
