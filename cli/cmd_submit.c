/* newsmill submit: files, directories or JSON lines to the queue, batched,
 * several batches in flight, counted only when the queue acknowledges. */
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "nm_curve.h"
#include "nm_alloc.h"
#include "nm_input.h"
#include "nm_jsonl.h"
#include "nm_opts.h"
#include "nm_producer.h"
#include "nm_protocol.h"
#include "nm_time.h"

#define MAX_IN_FLIGHT 64
#define MAX_RETRIES 10

typedef struct submit_opts {
    const char *queue, *source;
    int64_t batch, in_flight, timeout_ms, retries, max_file, max_line, flush_ms;
    bool json, quiet;
} submit_opts;

typedef struct batch {
    Newsmill__Article **articles;
    size_t n;
    size_t number;                  /* 1, 2, ... in order of creation */
    uint64_t rids[MAX_RETRIES + 2]; /* request id of every attempt (late acks count) */
    int attempts; /* sends, all reasons */
    int silences; /* sends not answered in --timeout, or not sent: --retries bounds them */
    int64_t first_sent_ns, deadline_ns, not_before_ns;
} batch;

typedef struct reason_count {
    char *reason, *example;
    size_t count;
} reason_count;

typedef struct submit_run {
    submit_opts o;
    nm_producer *producer;
    nm_input *input;
    batch *in_flight[MAX_IN_FLIGHT];
    size_t n_in_flight;
    batch **waiting; /* to (re)send: split or backed-off batches */
    size_t n_waiting;
    size_t accepted, rejected, unacked, read, batches;
    reason_count *reasons;
    size_t n_reasons;
    int64_t start_ns, progress_ns;
    bool input_done, unavailable, tty, progress_shown;
    char unavailable_msg[600];
    int64_t last_failover_ns; /* several --queue endpoints: when we last moved on */
} submit_run;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double since_s(const submit_run *r)
{
    return (double)(nm_time_mono_ns() - r->start_ns) / 1e9;
}

static void clear_progress(submit_run *r)
{
    if (r->progress_shown) {
        fputs("\r\033[K", stderr);
        r->progress_shown = false;
    }
}

static void show_progress(submit_run *r, bool force)
{
    if (!r->tty || r->o.quiet)
        return;
    int64_t now = nm_time_mono_ns();
    if (!force && now - r->progress_ns < 100 * NM_NS_PER_MS)
        return;
    r->progress_ns = now;
    double secs = since_s(r), rate = secs > 0 ? (double)r->accepted / secs : 0;
    size_t done = r->accepted + r->rejected;
    if (nm_input_total_known(r->input) && nm_input_file_count(r->input) > 0) {
        size_t total = nm_input_file_count(r->input);
        int width = 30, filled = (int)((double)width * (double)done / (double)total);
        if (filled > width)
            filled = width;
        fprintf(stderr, "\r\033[K[%.*s%.*s] %3d%%  %zu/%zu articles  %.0f/s  rejected %zu",
                filled, "##############################", width - filled,
                "------------------------------", (int)(100.0 * (double)done / (double)total), done,
                total, rate, r->rejected);
    } else {
        fprintf(stderr, "\r\033[K%zu articles  %.0f/s  rejected %zu  (%zu in flight)", done, rate,
                r->rejected, r->n_in_flight);
    }
    r->progress_shown = true;
}

/* A JSON number printed with 3 decimals (json-c would print 17 digits). */
static json_object *json_num3(double v)
{
    char text[64];
    snprintf(text, sizeof text, "%.3f", v);
    return json_object_new_double_s(v, text);
}

static void emit_json(json_object *obj)
{
    puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    json_object_put(obj);
}

static void count_reason(submit_run *r, const char *reason, const char *example, size_t n)
{
    r->rejected += n;
    for (size_t i = 0; i < r->n_reasons; i++) {
        if (!strcmp(r->reasons[i].reason, reason)) {
            r->reasons[i].count += n;
            return;
        }
    }
    r->reasons = nm_xrealloc(r->reasons, (r->n_reasons + 1) * sizeof *r->reasons);
    r->reasons[r->n_reasons++] = (reason_count){nm_xstrdup(reason), nm_xstrdup(example), n};
}

static void input_error(submit_run *r, const nm_error *err)
{
    const char *cls = nm_input_error_class(r->input);
    count_reason(r, cls, err->msg, 1);
    if (r->o.json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("input_error"));
        json_object_object_add(o, "reason", json_object_new_string(cls));
        json_object_object_add(o, "message", json_object_new_string(err->msg));
        emit_json(o);
    } else {
        clear_progress(r);
        fprintf(stderr, "newsmill submit: %s\n", err->msg);
    }
}

static void batch_free(batch **b)
{
    if (!*b)
        return;
    for (size_t i = 0; i < (*b)->n; i++)
        nm_jsonl_article_free(&(*b)->articles[i]);
    free((*b)->articles);
    free(*b);
    *b = NULL;
}

static batch *batch_new(submit_run *r, Newsmill__Article **articles, size_t n)
{
    batch *b = nm_xcalloc(1, sizeof *b);
    b->articles = articles;
    b->n = n;
    b->number = ++r->batches;
    return b;
}

/* Reads up to --batch articles; NULL when the input has no more. */
static batch *read_batch(submit_run *r)
{
    if (r->input_done)
        return NULL;
    size_t cap = (size_t)r->o.batch, n = 0;
    Newsmill__Article **arts = nm_xmalloc(cap * sizeof *arts);
    while (n < cap) {
        if (interrupted) {
            r->input_done = true;
            break;
        }
        if (n > 0 && !nm_input_ready(r->input, (int)r->o.flush_ms))
            break; /* a quiet stream: send what we have */
        Newsmill__Article *a;
        nm_error err;
        if (nm_input_next(r->input, &a, &err) < 0) {
            input_error(r, &err);
            continue;
        }
        if (!a) {
            r->input_done = true;
            break;
        }
        arts[n++] = a;
        r->read++;
    }
    if (n == 0) {
        free(arts);
        return NULL;
    }
    return batch_new(r, arts, n);
}

static void mark_unavailable(submit_run *r, const nm_error *err)
{
    if (r->unavailable)
        return;
    r->unavailable = true;
    snprintf(r->unavailable_msg, sizeof r->unavailable_msg, "%s", err->msg);
}

/* Sends b (a new attempt, counted even when it fails); on failure the batch
 * stays with the caller. */
static int send_batch(submit_run *r, batch *b, nm_error *err)
{
    uint64_t rid;
    int64_t now = nm_time_mono_ns();
    if (b->attempts == 0)
        b->first_sent_ns = now;
    if (nm_producer_send(r->producer, b->articles, b->n, &rid, err) != 0) {
        b->attempts++; /* the queue was not reachable for a whole timeout */
        b->silences++;
        return -1;
    }
    now = nm_time_mono_ns();
    b->rids[b->attempts++] = rid;
    b->deadline_ns = now + r->o.timeout_ms * NM_NS_PER_MS;
    r->in_flight[r->n_in_flight++] = b;
    return 0;
}

static batch *take_in_flight(submit_run *r, uint64_t rid)
{
    for (size_t i = 0; i < r->n_in_flight; i++) {
        batch *b = r->in_flight[i];
        for (int k = 0; k < b->attempts; k++) {
            if (b->rids[k] == rid) {
                r->in_flight[i] = r->in_flight[--r->n_in_flight];
                return b;
            }
        }
    }
    return NULL;
}

static void push_waiting(submit_run *r, batch *b, int64_t delay_ms)
{
    b->not_before_ns = nm_time_mono_ns() + delay_ms * NM_NS_PER_MS;
    r->waiting = nm_xrealloc(r->waiting, (r->n_waiting + 1) * sizeof *r->waiting);
    r->waiting[r->n_waiting++] = b;
}

/* The first waiting batch that may be sent now, or NULL. */
static batch *pop_waiting(submit_run *r)
{
    int64_t now = nm_time_mono_ns();
    for (size_t i = 0; i < r->n_waiting; i++) {
        if (r->waiting[i]->not_before_ns <= now) {
            batch *b = r->waiting[i];
            memmove(&r->waiting[i], &r->waiting[i + 1], (r->n_waiting - i - 1) * sizeof *r->waiting);
            r->n_waiting--;
            return b;
        }
    }
    return NULL;
}

static void batch_json(const submit_run *r, const batch *b, const Newsmill__SubmitAck *ack,
                       const char *refused)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("batch"));
    json_object_object_add(o, "batch", json_object_new_int64((int64_t)b->number));
    json_object_object_add(o, "articles", json_object_new_int64((int64_t)b->n));
    size_t acc = 0;
    json_object *rejects = json_object_new_array();
    for (size_t i = 0; ack && i < ack->n_acks; i++) {
        if (ack->acks[i]->accepted) {
            acc++;
            continue;
        }
        json_object *x = json_object_new_object();
        json_object_object_add(x, "id", json_object_new_string(ack->acks[i]->id));
        json_object_object_add(x, "reason", json_object_new_string(ack->acks[i]->reason));
        json_object_array_add(rejects, x);
    }
    json_object_object_add(o, "accepted", json_object_new_int64((int64_t)acc));
    json_object_object_add(o, "rejected", json_object_new_int64((int64_t)(b->n - acc)));
    json_object_object_add(o, "attempts", json_object_new_int(b->attempts));
    json_object_object_add(o, "ms",
                           json_num3((double)(nm_time_mono_ns() - b->first_sent_ns) / 1e6));
    if (refused)
        json_object_object_add(o, "refused", json_object_new_string(refused));
    json_object_object_add(o, "rejects", rejects);
    (void)r;
    emit_json(o);
}

static void on_ack(submit_run *r, batch *b, const Newsmill__SubmitAck *ack)
{
    for (size_t i = 0; i < ack->n_acks && i < b->n; i++) {
        const Newsmill__ArticleAck *a = ack->acks[i];
        if (a->accepted) {
            r->accepted++;
        } else {
            count_reason(r, a->reason[0] ? a->reason : "rejected by the queue",
                         a->id[0] ? a->id : b->articles[i]->id, 1);
            if (!r->o.json) {
                clear_progress(r);
                fprintf(stderr, "newsmill submit: rejected %s: %s\n",
                        a->id[0] ? a->id : b->articles[i]->id, a->reason);
            }
        }
    }
    /* An ack shorter than the batch: what it did not cover was not accepted. */
    if (ack->n_acks < b->n)
        count_reason(r, "not acknowledged", b->articles[ack->n_acks]->id, b->n - ack->n_acks);
    if (r->o.json)
        batch_json(r, b, ack, NULL);
}

/* A refusal that passes (storage unavailable, backlog full, busy: a
 * JetStream cluster electing a leader refuses for seconds) is ridden out for
 * --retries x --timeout from the first send, the time a silent queue gets,
 * backing off 0.25 s, doubling up to 2 s. */
static bool retry_refused(submit_run *r, batch *b)
{
    int64_t budget_ns = r->o.retries * r->o.timeout_ms * NM_NS_PER_MS;
    if (b->attempts > MAX_RETRIES || nm_time_mono_ns() - b->first_sent_ns >= budget_ns)
        return false;
    int doublings = b->attempts - 1 < 3 ? b->attempts - 1 : 3;
    push_waiting(r, b, (int64_t)250 << doublings);
    return true;
}

/* The queue answered a batch with an ErrorReply. */
static void on_refused(submit_run *r, batch *b, const nm_error *err)
{
    if ((err->code == NM_ERR_FULL || err->code == NM_ERR_IO || err->code == NM_ERR_BUSY) &&
        retry_refused(r, b))
        return;
    if (err->code == NM_ERR_TOO_LARGE && b->n > 1) { /* split and try the halves */
        size_t half = b->n / 2;
        Newsmill__Article **second = nm_xmalloc((b->n - half) * sizeof *second);
        memcpy(second, b->articles + half, (b->n - half) * sizeof *second);
        batch *b2 = batch_new(r, second, b->n - half);
        b->n = half;
        b->attempts = b->silences = 0;
        push_waiting(r, b, 0);
        push_waiting(r, b2, 0);
        return;
    }
    count_reason(r, err->msg, b->articles[0]->id, b->n);
    if (r->o.json) {
        batch_json(r, b, NULL, err->msg);
    } else {
        clear_progress(r);
        fprintf(stderr, "newsmill submit: batch of %zu refused: %s\n", b->n, err->msg);
    }
    batch_free(&b);
}

/* The front in use did not answer: with several --queue endpoints, move to
 * the next (at most once per --timeout: one silence, one move). */
static void fail_over(submit_run *r)
{
    int64_t now = nm_time_mono_ns();
    if (r->last_failover_ns && now - r->last_failover_ns < r->o.timeout_ms * NM_NS_PER_MS)
        return;
    r->last_failover_ns = now;
    nm_error err;
    if (nm_producer_failover(r->producer, &err) != 0)
        fprintf(stderr, "newsmill submit: moving to the next queue endpoint: %s\n", err.msg);
}

/* True when b may not be sent again after a silence: --retries silences
 * (refusals ridden out before do not count), or no room for another send. */
static bool out_of_retries(const submit_run *r, const batch *b)
{
    return b->silences > r->o.retries || b->attempts > MAX_RETRIES;
}

/* Sends b; when the queue cannot be reached, tries again later (up to
 * --retries), then gives up: the queue is unavailable. */
static void dispatch(submit_run *r, batch *b)
{
    nm_error err;
    if (send_batch(r, b, &err) == 0)
        return;
    if (err.code == NM_ERR_TIMEOUT)
        fail_over(r);
    if (err.code == NM_ERR_TOO_LARGE) { /* over the frame limit, not sent: split it */
        on_refused(r, b, &err);
        return;
    }
    if (err.code != NM_ERR_TIMEOUT || out_of_retries(r, b))
        mark_unavailable(r, &err);
    push_waiting(r, b, 0);
}

/* Resends batches whose deadline passed; gives up after --retries. */
static void check_deadlines(submit_run *r)
{
    int64_t now = nm_time_mono_ns();
    for (size_t i = 0; i < r->n_in_flight && !r->unavailable;) {
        batch *b = r->in_flight[i];
        if (b->deadline_ns > now) {
            i++;
            continue;
        }
        r->in_flight[i] = r->in_flight[--r->n_in_flight];
        nm_error err;
        fail_over(r);
        b->silences++;
        if (out_of_retries(r, b)) {
            nm_error_set(&err, NM_ERR_TIMEOUT,
                         "no acknowledgement from the queue at %s after %d attempt(s) of %lld ms",
                         r->o.queue, b->attempts, (long long)r->o.timeout_ms);
            mark_unavailable(r, &err);
            r->in_flight[r->n_in_flight++] = b; /* counted as unacknowledged below */
            return;
        }
        dispatch(r, b);
    }
}

static int64_t next_wake_ms(const submit_run *r)
{
    int64_t now = nm_time_mono_ns(), wake = now + 1000 * NM_NS_PER_MS;
    for (size_t i = 0; i < r->n_in_flight; i++)
        if (r->in_flight[i]->deadline_ns < wake)
            wake = r->in_flight[i]->deadline_ns;
    for (size_t i = 0; i < r->n_waiting; i++)
        if (r->waiting[i]->not_before_ns < wake)
            wake = r->waiting[i]->not_before_ns;
    int64_t ms = (wake - now + NM_NS_PER_MS - 1) / NM_NS_PER_MS;
    if (r->tty && ms > 100)
        ms = 100;
    return ms < 0 ? 0 : ms;
}

static void run_loop(submit_run *r)
{
    while (!r->unavailable) {
        while (r->n_in_flight < (size_t)r->o.in_flight && !r->unavailable) {
            batch *b = pop_waiting(r);
            if (!b)
                b = read_batch(r);
            if (!b)
                break;
            dispatch(r, b);
        }
        show_progress(r, false);
        if (r->unavailable || (r->n_in_flight == 0 && r->n_waiting == 0 && r->input_done))
            break;
        if (r->n_in_flight == 0 && r->n_waiting == 0 && interrupted)
            break;
        uint64_t rid;
        Newsmill__SubmitAck *ack;
        nm_error err;
        int rc = nm_producer_recv(r->producer, r->n_in_flight ? next_wake_ms(r) : 0, &rid, &ack,
                                  &err);
        if (rc != 0 && rid == 0) {
            if (r->n_in_flight == 0 && r->n_waiting > 0) /* only backed-off batches */
                usleep((useconds_t)next_wake_ms(r) * 1000);
            check_deadlines(r);
            continue;
        }
        batch *b = take_in_flight(r, rid);
        if (!b) { /* a late duplicate of an answered batch, or an unrelated error */
            nm_producer_ack_free(&ack);
            continue;
        }
        if (rc == 0)
            on_ack(r, b, ack);
        else
            on_refused(r, b, &err);
        if (rc == 0)
            batch_free(&b);
        nm_producer_ack_free(&ack);
    }
    for (size_t i = 0; i < r->n_in_flight; i++) {
        r->unacked += r->in_flight[i]->n;
        batch_free(&r->in_flight[i]);
    }
    for (size_t i = 0; i < r->n_waiting; i++) {
        r->unacked += r->waiting[i]->n;
        batch_free(&r->waiting[i]);
    }
    r->n_in_flight = r->n_waiting = 0;
}

static int summary(submit_run *r)
{
    double secs = since_s(r);
    double rate = secs > 0 ? (double)r->accepted / secs : 0;
    int code = r->unavailable ? NM_EXIT_UNAVAILABLE
               : r->rejected  ? NM_EXIT_PARTIAL
                              : NM_EXIT_OK;
    clear_progress(r);
    if (r->o.json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("summary"));
        json_object_object_add(o, "accepted", json_object_new_int64((int64_t)r->accepted));
        json_object_object_add(o, "rejected", json_object_new_int64((int64_t)r->rejected));
        json_object_object_add(o, "unacknowledged", json_object_new_int64((int64_t)r->unacked));
        json_object_object_add(o, "skipped_files",
                               json_object_new_int64((int64_t)nm_input_skipped(r->input)));
        json_object_object_add(o, "batches", json_object_new_int64((int64_t)r->batches));
        json_object_object_add(o, "seconds", json_num3(secs));
        json_object_object_add(o, "articles_per_s", json_num3(rate));
        json_object *reasons = json_object_new_object();
        for (size_t i = 0; i < r->n_reasons; i++)
            json_object_object_add(reasons, r->reasons[i].reason,
                                   json_object_new_int64((int64_t)r->reasons[i].count));
        json_object_object_add(o, "reasons", reasons);
        if (r->unavailable)
            json_object_object_add(o, "error", json_object_new_string(r->unavailable_msg));
        json_object_object_add(o, "interrupted", json_object_new_boolean(interrupted != 0));
        json_object_object_add(o, "exit", json_object_new_int(code));
        emit_json(o);
    } else {
        if (r->unavailable)
            fprintf(stderr,
                    "newsmill submit: %s\n"
                    "  is the queue running? (scripts/fleet status; --queue to point elsewhere)\n",
                    r->unavailable_msg);
        printf("accepted %zu article%s in %.2f s (%.1f articles/s)\n", r->accepted,
               r->accepted == 1 ? "" : "s", secs, rate);
        if (r->rejected) {
            printf("rejected %zu:\n", r->rejected);
            for (size_t i = 0; i < r->n_reasons; i++)
                printf("  %6zu  %s  (e.g. %s)\n", r->reasons[i].count, r->reasons[i].reason,
                       r->reasons[i].example);
        }
        if (r->unacked)
            printf("not acknowledged (state unknown, safe to submit again): %zu\n", r->unacked);
        if (nm_input_skipped(r->input))
            printf("skipped %zu file%s that are not .txt, .html, .htm, .jsonl or .ndjson\n",
                   nm_input_skipped(r->input), nm_input_skipped(r->input) == 1 ? "" : "s");
        if (interrupted)
            printf("interrupted: input after that point was not read\n");
    }
    fflush(stdout);
    return code;
}

int nm_cmd_submit(int argc, char **argv)
{
    submit_opts o = {.queue = NM_QUEUE_FRONT_ENDPOINT_DEFAULT,
                     .source = "file",
                     .batch = 100,
                     .in_flight = 4,
                     .timeout_ms = NM_PRODUCER_TIMEOUT_MS_DEFAULT,
                     .retries = NM_PRODUCER_RETRIES_DEFAULT,
                     .max_file = 16 << 20,
                     .max_line = (int64_t)NM_JSONL_MAX_LINE_DEFAULT,
                     .flush_ms = 200};
    nm_curve_opts curve_opts = {0};
    const nm_opt opts[] = {
        {"queue", 'q', NM_OPT_STRING, &o.queue, "ENDPOINT[,...]",
         "the queue's producer endpoint; several (fronts of one JetStream cluster): move to "
         "the next when one does not answer",
         0, 0},
        {"batch", 'b', NM_OPT_INT, &o.batch, "N", "articles per batch", 1, 10000},
        {"in-flight", 0, NM_OPT_INT, &o.in_flight, "N", "batches awaiting their ack at once", 1,
         MAX_IN_FLIGHT},
        {"timeout", 't', NM_OPT_DURATION, &o.timeout_ms, "DURATION",
         "wait this long for each ack before resending", 1, 3600000},
        {"retries", 0, NM_OPT_INT, &o.retries, "N",
         "resends of a batch before giving up; a batch refused for a passing reason "
         "(storage unavailable, backlog full) is sent again for up to N x --timeout",
         0, MAX_RETRIES},
        {"flush", 0, NM_OPT_DURATION, &o.flush_ms, "DURATION",
         "send a partial batch when a stream is quiet this long", 0, 60000},
        {"source", 0, NM_OPT_STRING, &o.source, "NAME", "source name of file articles", 0, 0},
        {"max-file", 0, NM_OPT_BYTES, &o.max_file, "SIZE", "skip larger files (reported)", 1, 1e12},
        {"max-line", 0, NM_OPT_BYTES, &o.max_line, "SIZE", "skip longer JSON lines (reported)", 1,
         1e12},
        {"json", 0, NM_OPT_FLAG, &o.json, NULL,
         "one JSON line per batch and a summary line on stdout", 0, 0},
        {"quiet", 0, NM_OPT_FLAG, &o.quiet, NULL, "no progress bar", 0, 0},
        NM_CURVE_OPT_SECRET(curve_opts),
        NM_CURVE_OPT_SERVER_KEY(curve_opts),
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    const nm_opts_program program = {
        "newsmill submit", "[OPTIONS] PATH...|-",
        "Submits articles to the queue and waits until the queue has them durably.\n"
        "PATH: a .txt (plain text) or .html/.htm file, a .jsonl/.ndjson file of JSON lines,\n"
        "or a directory (recursively; other files are skipped and counted). '-' reads JSON\n"
        "lines from stdin: {\"id\",\"url\",\"source\",\"published\",\"content_type\",\"body\",\n"
        "\"language\",\"metadata\"}, published as ISO 8601 or Unix seconds.\n"
        "Exit: 0 all accepted, 3 queue unreachable, 4 some rejected (input errors included).",
        opts, n_opts, -1};
    int rc = nm_opts_run(&program, argc, argv, &first);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    if (first >= argc) {
        fprintf(stderr, "newsmill submit: nothing to submit: give files, directories or '-'\n");
        return NM_EXIT_USAGE;
    }

    nm_curve *curve;
    if (nm_curve_new(NULL, &curve_opts, &curve, &err) != 0) {
        fprintf(stderr, "newsmill submit: %s\n", err.msg);
        return NM_EXIT_USAGE;
    }
    void *ctx = zmq_ctx_new();
    submit_run r = {.o = o};
    r.producer = nm_producer_new_curve(ctx, o.queue, curve, &err);
    if (!r.producer) {
        fprintf(stderr, "newsmill submit: %s\n", err.msg);
        nm_curve_destroy(&curve);
        zmq_ctx_term(ctx);
        return NM_EXIT_USAGE;
    }
    nm_producer_set_timeout(r.producer, o.timeout_ms, (int)o.retries);
    nm_input_config icfg = {o.source, (size_t)o.max_file, (size_t)o.max_line};
    r.input = nm_input_new((const char *const *)argv + first, (size_t)(argc - first), &icfg);
    r.tty = isatty(STDERR_FILENO) != 0;
    for (int i = first; i < argc; i++)
        if (!strcmp(argv[i], "-") && isatty(STDIN_FILENO))
            fprintf(stderr, "newsmill submit: reading JSON lines from the terminal (end with ^D)\n");
    r.start_ns = nm_time_mono_ns();

    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* a second ^C kills */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    run_loop(&r);
    int code = summary(&r);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    for (size_t i = 0; i < r.n_reasons; i++) {
        free(r.reasons[i].reason);
        free(r.reasons[i].example);
    }
    free(r.reasons);
    free(r.waiting);
    nm_input_destroy(&r.input);
    nm_producer_destroy(&r.producer);
    nm_curve_destroy(&curve);
    zmq_ctx_term(ctx);
    return code;
}
