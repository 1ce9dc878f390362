/*
 * nm_fault: named fault-injection points, so that tests can stop, kill or
 * crash a real program at a chosen place (as SQLite's and beanstalkd's test
 * hooks do) instead of hoping a signal lands there.
 *
 * A point is a call nm_fault_point("writer.before_commit") (or, for a point
 * that can target one article, nm_fault_point_id("worker.extract", id)) in
 * the program's code. It does nothing unless the environment variable
 * NM_FAULT armed it when the program started:
 *
 *   NM_FAULT="POINT:ACTION[,POINT:ACTION...]"
 *     kill            the process SIGKILLs itself at the point
 *     stop            the process SIGSTOPs itself at the point (the test
 *                     then sees state T in /proc/PID/stat and SIGKILLs or
 *                     SIGCONTs it)
 *     abort           abort(): a crash, with a core dump where enabled
 *     crash-on-id=ID  abort() at an id point when the article id is ID
 *                     (an input that crashes workers, for the isolation of
 *                     suspects in the queue)
 *
 * Points (grep nm_fault_point for the list):
 *   worker.extract        before extracting a delivery (id point)
 *   writer.before_begin   before a batch's BEGIN
 *   writer.after_puts     inside the transaction, after the inserts, just
 *                         before COMMIT is asked for
 *   store.commit          inside COMMIT (SQLite's commit hook), before the
 *                         WAL frames are written
 *   writer.after_commit   after COMMIT returned, before the worker can send
 *                         `done` to the queue
 *
 * WHY ALWAYS COMPILED, ARMED ONLY BY THE ENVIRONMENT (and not a CMake
 * option): the tests then exercise the very binaries that ship, there is one
 * build to keep warning-clean, and no test can silently skip because the
 * build lacked the hooks. The cost when NM_FAULT is unset is one load and
 * test of a flag that never changes after start-up (a perfectly predicted
 * branch) at a handful of places that run once per batch or per article.
 * An armed program says so in its log at start-up (nm_fault_init), so a
 * stray NM_FAULT in production cannot go unnoticed; an unknown point name
 * or action is refused at start-up rather than ignored.
 *
 * Thread safety: nm_fault_init runs in main before any thread starts; the
 * points only read what it set.
 */
#ifndef NM_FAULT_H
#define NM_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#include "nm_error.h"

/* True when NM_FAULT armed at least one point. Set once by nm_fault_init. */
extern bool nm_fault_armed;

/* Reads NM_FAULT (unset or empty: nothing armed). Returns 0, or -1 with err
 * when the variable does not parse (the program should refuse to start). */
int nm_fault_init(nm_error *err);

/* Runs the action armed at point (id: the article id at an id point, or
 * NULL). Call through the inline helpers below. */
void nm_fault_fire(const char *point, const char *id);

static inline void nm_fault_point(const char *point)
{
    if (nm_fault_armed)
        nm_fault_fire(point, NULL);
}

static inline void nm_fault_point_id(const char *point, const char *id)
{
    if (nm_fault_armed)
        nm_fault_fire(point, id);
}

#endif
