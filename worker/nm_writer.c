/*
 * nm_writer: see nm_writer.h.
 *
 * One mutex and one condition variable guard the hand-over: the owning
 * thread puts a job in `pending`, the writer thread moves it to `running`,
 * writes, moves it to `finished` and signals the eventfd; nm_writer_take
 * hands it back. The job's results and outputs are only touched by the
 * writer between those hand-overs, so the mutex orders every access.
 */
#include "nm_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_fault.h"
#include "nm_log.h"
#include "nm_time.h"

struct nm_writer {
    nm_partitions *parts;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    nm_write_job *pending, *running, *finished;
    bool quit;
    atomic_bool interrupted; /* nm_writer_interrupt: stop the running job */
    int event_fd;
};

/* Checked between articles: sqlite3_interrupt only stops a statement that
 * is running at the time. Rolls back and fails the job when set. */
static bool stop_requested(nm_writer *w, nm_write_job *job)
{
    if (!atomic_load(&w->interrupted))
        return false;
    nm_partitions_rollback(w->parts);
    job->rc = nm_error_set(&job->err, NM_ERR_BUSY, "writing interrupted: the worker is exiting");
    return true;
}

/* Puts result i of job; a stale one is marked, its status final once the
 * transaction commits. */
static int put_one(nm_partitions *parts, nm_write_job *job, size_t i, nm_error *err)
{
    nm_store_put_outcome outcome;
    int64_t revision = job->revisions ? job->revisions[i] : 0;
    if (nm_partitions_put(parts, job->results[i], revision, &outcome, err) < 0)
        return -1;
    if (outcome == NM_STORE_STALE)
        job->status[i] = NM_WRITE_STALE;
    return 0;
}

/* All results in one transaction. An invalid result is skipped (reported
 * INVALID) without spoiling the rest. A result found stale is only known
 * to be once the transaction commits (the newer revision may be this
 * job's own): if it rolls back, it is PENDING again. */
static void write_batch(nm_writer *w, nm_write_job *job)
{
    nm_partitions *parts = w->parts;
    nm_fault_point("writer.before_begin");
    if (nm_partitions_begin(parts, job->ingested_unix_ms, &job->err) < 0) {
        job->rc = -1;
        return;
    }
    for (size_t i = 0; i < job->n; i++) {
        nm_error err;
        if (stop_requested(w, job))
            goto rolled_back;
        if (put_one(parts, job, i, &err) == 0)
            continue;
        if (err.code == NM_ERR_INVALID) {
            job->status[i] = NM_WRITE_INVALID;
            job->errors[i] = err;
            continue;
        }
        /* the store rolled back: nothing of this job is stored */
        job->err = err;
        job->rc = -1;
        job->at_article = true;
        goto rolled_back;
    }
    nm_fault_point("writer.after_puts");
    if (nm_partitions_commit(parts, &job->err) < 0) {
        job->rc = -1;
        goto rolled_back;
    }
    nm_fault_point("writer.after_commit");
    for (size_t i = 0; i < job->n; i++)
        if (job->status[i] == NM_WRITE_PENDING)
            job->status[i] = NM_WRITE_COMMITTED;
    return;
rolled_back:
    for (size_t i = 0; i < job->n; i++)
        if (job->status[i] == NM_WRITE_STALE)
            job->status[i] = NM_WRITE_PENDING;
}

/* One transaction per result; stops at the first error that is the
 * database's rather than the article's. */
static void write_one_by_one(nm_writer *w, nm_write_job *job)
{
    nm_partitions *parts = w->parts;
    for (size_t i = 0; i < job->n; i++) {
        nm_error err;
        if (stop_requested(w, job))
            return;
        if (nm_partitions_begin(parts, job->ingested_unix_ms, &err) < 0) {
            job->err = err;
            job->rc = -1;
            return;
        }
        if (put_one(parts, job, i, &err) < 0) {
            if (nm_store_error_is_transient(err.code)) {
                job->err = err;
                job->rc = -1;
                job->at_article = true;
                return;
            }
            job->status[i] = err.code == NM_ERR_INVALID ? NM_WRITE_INVALID : NM_WRITE_FAILED;
            job->errors[i] = err;
            continue;
        }
        if (nm_partitions_commit(parts, &err) < 0) {
            job->status[i] = NM_WRITE_PENDING;
            job->err = err;
            job->rc = -1;
            return;
        }
        if (job->status[i] != NM_WRITE_STALE)
            job->status[i] = NM_WRITE_COMMITTED;
    }
}

static void *writer_main(void *arg)
{
    nm_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->pending)
            break; /* quit, nothing left to write */
        nm_write_job *job = w->running = w->pending;
        w->pending = NULL;
        pthread_mutex_unlock(&w->mu);

        int64_t t0 = nm_time_mono_ns();
        if (job->one_by_one)
            write_one_by_one(w, job);
        else
            write_batch(w, job);
        job->write_ns = nm_time_mono_ns() - t0;

        pthread_mutex_lock(&w->mu);
        w->running = NULL;
        w->finished = job;
        uint64_t one = 1;
        if (write(w->event_fd, &one, sizeof one) != sizeof one)
            nm_log_error("writer: waking the worker failed: %s", strerror(errno));
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

nm_writer *nm_writer_new(nm_partitions *parts, nm_error *err)
{
    nm_writer *w = nm_xcalloc(1, sizeof *w);
    w->parts = parts;
    w->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->event_fd < 0) {
        nm_error_set(err, NM_ERR_INTERNAL, "writer: eventfd: %s", strerror(errno));
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        nm_error_set(err, NM_ERR_INTERNAL, "writer: starting the thread: %s", strerror(rc));
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        close(w->event_fd);
        free(w);
        return NULL;
    }
    return w;
}

bool nm_writer_start(nm_writer *w, nm_write_job *job)
{
    pthread_mutex_lock(&w->mu);
    bool idle = !w->pending && !w->running && !w->finished;
    if (idle) {
        memset(job->status, 0, job->n * sizeof *job->status);
        job->rc = 0;
        job->at_article = false;
        job->write_ns = 0;
        nm_error_clear(&job->err);
        w->pending = job;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return idle;
}

bool nm_writer_busy(const nm_writer *w)
{
    nm_writer *m = (nm_writer *)w; /* locking is not a change of state */
    pthread_mutex_lock(&m->mu);
    bool busy = w->pending || w->running || w->finished;
    pthread_mutex_unlock(&m->mu);
    return busy;
}

int nm_writer_fd(const nm_writer *w) { return w->event_fd; }

nm_write_job *nm_writer_take(nm_writer *w)
{
    pthread_mutex_lock(&w->mu);
    nm_write_job *job = w->finished;
    w->finished = NULL;
    uint64_t count;
    if (job && read(w->event_fd, &count, sizeof count) < 0 && errno != EAGAIN)
        nm_log_error("writer: reading the wake-up descriptor failed: %s", strerror(errno));
    pthread_mutex_unlock(&w->mu);
    return job;
}

void nm_writer_interrupt(nm_writer *w)
{
    atomic_store(&w->interrupted, true);
    nm_partitions_interrupt(w->parts);
}

void nm_writer_destroy(nm_writer **writer)
{
    if (!writer || !*writer)
        return;
    nm_writer *w = *writer;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    close(w->event_fd);
    nm_partitions_close(&w->parts);
    free(w);
    *writer = NULL;
}
