/*
 * nm_suspects: the queue's record of articles suspected of crashing workers,
 * so that one input that kills every worker reading it reaches the dead
 * letters alone instead of taking the articles delivered with it along.
 *
 * DESIGN (bisection of the group a worker died with)
 * When a worker dies, goes silent or lets its leases expire while holding n
 * articles, nobody knows which of them (if any) killed it. So:
 *   - n > 1: no attempt is counted against any of them. Each becomes a
 *     suspect with a group cap of n/2 (or its old cap, if smaller): it is
 *     delivered only to a worker that then holds at most cap articles in
 *     all. The article that kills workers is thus redelivered among n/2,
 *     n/4, ... and is alone after about log2(n) more deaths; the innocent
 *     half of each split is committed and leaves the record.
 *   - n == 1: the article was alone, so the death counts as one of its
 *     attempts (the ordinary retry back-off and --max-attempts apply). It
 *     stays a suspect with cap 1, so its next delivery is alone too.
 * A suspect leaves the record when it is done, buried, or gone from the
 * spool. The record is memory only: a queue restart forgets it (every
 * article is then delivered normally again, and isolation starts over).
 *
 * Cost, for the queue's dispatch (nm_queue_work.c): a suspect with cap c at
 * the head of the delivery window waits until some worker holds fewer than c
 * articles, and delivery to every worker pauses meanwhile (no one jumps the
 * queue, so it cannot starve): for the halves of a group of 256 (cap 128)
 * that is nothing measurable; for cap 1 it is one worker draining what it
 * holds (about one flush interval plus a commit, ~50-100 ms with the
 * defaults) per suspect, and that worker then holds the suspect alone until
 * it is committed. A crash-inducing article among 256 costs about 8 deaths
 * to isolate plus --max-attempts deaths alone.
 *
 * Not thread-safe (the queue's reactor thread only).
 */
#ifndef NM_SUSPECTS_H
#define NM_SUSPECTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_suspects nm_suspects;

/* An empty record. Caller owns the result. */
nm_suspects *nm_suspects_new(void);

/* Frees the record; accepts NULL; clears *suspects. */
void nm_suspects_destroy(nm_suspects **suspects);

/* The group cap of spool row seq: the most articles a worker may hold while
 * it holds seq. 0 when seq is not a suspect. */
uint32_t nm_suspects_cap(const nm_suspects *suspects, int64_t seq);

/* How many workers died while holding seq alone (0 when not a suspect). */
uint32_t nm_suspects_alone_deaths(const nm_suspects *suspects, int64_t seq);

/* The worker holding seq died (or went silent, or let its leases expire)
 * while it held group articles, seq included. Records it as described above
 * and returns seq's new cap. */
uint32_t nm_suspects_note_death(nm_suspects *suspects, int64_t seq, uint32_t group);

/* seq is no longer a suspect (done, buried, gone). No-op if it was not. */
void nm_suspects_forget(nm_suspects *suspects, int64_t seq);

/* Number of suspects. */
size_t nm_suspects_count(const nm_suspects *suspects);

#endif
