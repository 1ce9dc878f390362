/* bench-queue's raw NATS measurement (nats_raw.c). */
#ifndef NATS_RAW_H
#define NATS_RAW_H

#include <stdint.h>

/* Publishes n messages of body_bytes to a fresh work-queue stream with
 * `replicas` replicas on the cluster at urls, then fetches and acks them;
 * prints one JSON line. 0, or 1 on a failure (said on stderr). */
int bench_nats_raw(const char *urls, int64_t n, int64_t body_bytes, int replicas);

#endif
