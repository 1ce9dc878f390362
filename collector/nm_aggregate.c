#include "nm_aggregate.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_arena.h"
#include "nm_frame.h"
#include "nm_log.h"
#include "nm_protocol.h"
#include "nm_report_check.h"

/* Limits of the aggregator itself (a report's own limits: nm_report_check.h). */
#define MAX_PROCS 4096
#define MAX_FRAME ((size_t)16 << 20)

#define PROC_RING 128                   /* per-process samples (one per report) */
#define FLEET_RING (NM_AGG_HISTORY_S + 2) /* per-second fleet samples */
#define HIST_RING 64                    /* per-second merged histograms: > 1 min */
#define RECENT_DEAD_MAX 50


typedef struct sample {
    int64_t t_ms;
    double cum;
} sample;

typedef struct ring {
    sample *s;
    size_t cap, head, len; /* head: index of the oldest */
} ring;

typedef struct proc {
    Newsmill__StatsReport *report; /* owned: protobuf-c unpacked copy */
    int64_t last_seen_ms;
    double own_cum; /* articles this process finished, reset-adjusted */
    ring samples;
    bool gone; /* counters retired, out of totals */
} proc;

/* A metric that left the fleet (restart, gone) but still counts in totals. */
typedef struct retired {
    char *key;
    Newsmill__Metric *m; /* owned: protobuf-c unpacked copy */
} retired;

/* The recent history of one merged histogram, for windowed percentiles. */
typedef struct hist_hist {
    char *key;
    size_t n_counts;
    int64_t t_ms[HIST_RING];
    uint64_t *counts; /* HIST_RING * n_counts */
    size_t head, len;
} hist_hist;

struct nm_agg {
    nm_agg_config cfg;
    int64_t started_ms;
    nm_stats *self;
    nm_metric *received_m;
    proc **procs;
    size_t n_procs, cap_procs;
    retired *retired;
    size_t n_retired, cap_retired;
    hist_hist *hists;
    size_t n_hists;
    double committed_cum;
    ring fleet;
    uint64_t received, rejected;
};

/* One aggregated series while totals are computed (arena memory). */
typedef struct total {
    const char *key;
    Newsmill__Metric *m;
} total;

/* ---- small helpers ---- */

static void ring_init(ring *r, size_t cap)
{
    r->s = nm_xcalloc(cap, sizeof *r->s);
    r->cap = cap;
    r->head = r->len = 0;
}

static void ring_push(ring *r, int64_t t_ms, double cum)
{
    size_t at = (r->head + r->len) % r->cap;
    if (r->len == r->cap)
        r->head = (r->head + 1) % r->cap;
    else
        r->len++;
    r->s[at] = (sample){t_ms, cum};
}

static const sample *ring_at(const ring *r, size_t i) { return &r->s[(r->head + i) % r->cap]; }

/* Rate of cum over about window_ms ending at now: from the newest sample at
 * least window_ms old (else the oldest) to (now, cum_now). */
static double ring_rate(const ring *r, int64_t now_ms, double cum_now, int64_t window_ms)
{
    if (r->len == 0)
        return 0;
    const sample *base = ring_at(r, 0);
    for (size_t i = r->len; i-- > 0;) {
        const sample *s = ring_at(r, i);
        if (s->t_ms <= now_ms - window_ms) {
            base = s;
            break;
        }
    }
    double dt = (double)(now_ms - base->t_ms) / 1000.0;
    if (dt <= 0)
        return 0;
    double d = cum_now - base->cum;
    return d > 0 ? d / dt : 0;
}

/* A deep, protobuf-c-owned copy of r. */
static Newsmill__StatsReport *copy_report(const Newsmill__StatsReport *r)
{
    size_t len = newsmill__stats_report__get_packed_size(r);
    uint8_t *buf = nm_xmalloc(len ? len : 1);
    newsmill__stats_report__pack(r, buf);
    Newsmill__StatsReport *c = newsmill__stats_report__unpack(NULL, len, buf);
    free(buf);
    if (!c) { /* unpacking our own packing fails only without memory */
        nm_log_error("out of memory copying a stats report");
        abort();
    }
    return c;
}

static Newsmill__Metric *copy_metric(const Newsmill__Metric *m)
{
    size_t len = newsmill__metric__get_packed_size(m);
    uint8_t *buf = nm_xmalloc(len ? len : 1);
    newsmill__metric__pack(m, buf);
    Newsmill__Metric *c = newsmill__metric__unpack(NULL, len, buf);
    free(buf);
    if (!c) {
        nm_log_error("out of memory copying a metric");
        abort();
    }
    return c;
}

/* Sum of the values of every series of name and kind in r. */
static double report_sum(const Newsmill__StatsReport *r, const char *name,
                         Newsmill__MetricKind kind)
{
    double v = 0;
    for (size_t i = 0; i < r->n_metrics; i++)
        if (r->metrics[i]->kind == kind && !strcmp(r->metrics[i]->name, name))
            v += r->metrics[i]->value;
    return v;
}

static bool same_labels(const Newsmill__Metric *a, const Newsmill__Metric *b)
{
    if (a->n_labels != b->n_labels)
        return false;
    for (size_t i = 0; i < a->n_labels; i++) {
        bool found = false;
        for (size_t j = 0; j < b->n_labels && !found; j++)
            found = !strcmp(a->labels[i]->key, b->labels[j]->key) &&
                    !strcmp(a->labels[i]->value, b->labels[j]->value);
        if (!found)
            return false;
    }
    return true;
}

/* A series labelled "shared" is one figure that several processes report
 * alike (the fronts of one JetStream cluster: its backlog, in flight,
 * redeliveries): its total is the largest report, not the sum, and it is
 * never retired (it is not the process's own count). */
static bool is_shared(const Newsmill__Metric *m)
{
    for (size_t i = 0; i < m->n_labels; i++)
        if (!strcmp(m->labels[i]->key, "shared"))
            return true;
    return false;
}

/* True when a counter or histogram of before is missing from now or has a
 * lower value or count there: the process started counting again (or
 * forgot a series), so what it counted before must be retired to keep the
 * fleet totals monotonic. */
static bool went_back(const Newsmill__StatsReport *before, const Newsmill__StatsReport *now)
{
    for (size_t j = 0; j < before->n_metrics; j++) {
        const Newsmill__Metric *o = before->metrics[j];
        if (o->kind == NEWSMILL__METRIC_KIND__METRIC_GAUGE || is_shared(o))
            continue;
        bool kept = false;
        for (size_t i = 0; i < now->n_metrics && !kept; i++) {
            const Newsmill__Metric *m = now->metrics[i];
            if (o->kind == m->kind && !strcmp(o->name, m->name) && same_labels(o, m)) {
                if (m->value < o->value || m->count < o->count)
                    return true;
                kept = true;
            }
        }
        if (!kept)
            return true;
    }
    return false;
}

static bool same_bounds(const Newsmill__Metric *a, const Newsmill__Metric *b)
{
    return a->n_bucket_bounds == b->n_bucket_bounds &&
           !memcmp(a->bucket_bounds, b->bucket_bounds, a->n_bucket_bounds * sizeof(double));
}

/* Adds (sign +1) or removes (sign -1) the cumulative metrics of r to/from the
 * retired remainder. Gauges are not cumulative and are never retired. */
static void retire(nm_agg *agg, const Newsmill__StatsReport *r, int sign)
{
    for (size_t i = 0; i < r->n_metrics; i++) {
        const Newsmill__Metric *m = r->metrics[i];
        if (m->kind == NEWSMILL__METRIC_KIND__METRIC_GAUGE || is_shared(m))
            continue;
        char *key = nm_report_series_key(m, true);
        retired *e = NULL;
        for (size_t j = 0; j < agg->n_retired && !e; j++)
            if (!strcmp(agg->retired[j].key, key))
                e = &agg->retired[j];
        if (!e) {
            if (sign < 0) {
                free(key);
                continue;
            }
            if (agg->n_retired == agg->cap_retired) {
                agg->cap_retired = agg->cap_retired ? 2 * agg->cap_retired : 32;
                agg->retired = nm_xrealloc(agg->retired, agg->cap_retired * sizeof *agg->retired);
            }
            agg->retired[agg->n_retired++] = (retired){key, copy_metric(m)};
            continue;
        }
        free(key);
        Newsmill__Metric *t = e->m;
        if (t->kind != m->kind || (m->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM &&
                                   !same_bounds(t, m)))
            continue;
        t->value += sign * m->value;
        if (t->value < 0)
            t->value = 0;
        for (size_t b = 0; b < t->n_bucket_counts; b++) {
            if (sign > 0)
                t->bucket_counts[b] += m->bucket_counts[b];
            else
                t->bucket_counts[b] -= m->bucket_counts[b] < t->bucket_counts[b]
                                           ? m->bucket_counts[b]
                                           : t->bucket_counts[b];
        }
        t->sum += sign * m->sum;
        t->count = 0;
        for (size_t b = 0; b < t->n_bucket_counts; b++)
            t->count += t->bucket_counts[b];
    }
}

/* ---- life cycle and ingest ---- */

nm_agg *nm_agg_new(const nm_agg_config *cfg, int64_t now_ms, nm_stats *self)
{
    nm_agg *agg = nm_xcalloc(1, sizeof *agg);
    agg->cfg.stale_after_ms = cfg && cfg->stale_after_ms > 0 ? cfg->stale_after_ms : 5000;
    agg->cfg.gone_after_ms = cfg && cfg->gone_after_ms > 0 ? cfg->gone_after_ms : 60000;
    if (agg->cfg.gone_after_ms < agg->cfg.stale_after_ms)
        agg->cfg.gone_after_ms = agg->cfg.stale_after_ms;
    agg->started_ms = now_ms;
    agg->self = self;
    if (self)
        agg->received_m = nm_stats_counter(self, "collector_reports_received_total",
                                           "Stats reports accepted by the collector", NULL, NULL);
    ring_init(&agg->fleet, FLEET_RING);
    return agg;
}

static void proc_free(proc *p)
{
    newsmill__stats_report__free_unpacked(p->report, NULL);
    free(p->samples.s);
    free(p);
}

void nm_agg_destroy(nm_agg **aggp)
{
    if (!aggp || !*aggp)
        return;
    nm_agg *agg = *aggp;
    for (size_t i = 0; i < agg->n_procs; i++)
        proc_free(agg->procs[i]);
    free(agg->procs);
    for (size_t i = 0; i < agg->n_retired; i++) {
        free(agg->retired[i].key);
        newsmill__metric__free_unpacked(agg->retired[i].m, NULL);
    }
    free(agg->retired);
    for (size_t i = 0; i < agg->n_hists; i++) {
        free(agg->hists[i].key);
        free(agg->hists[i].counts);
    }
    free(agg->hists);
    free(agg->fleet.s);
    free(agg);
    *aggp = NULL;
}

void nm_agg_reject(nm_agg *agg, const char *reason)
{
    agg->rejected++;
    if (agg->self)
        nm_metric_add(nm_stats_counter(agg->self, "collector_reports_rejected_total",
                                       "Stats reports the collector dropped, by reason", "reason",
                                       reason),
                      1);
}

static proc *find_proc(nm_agg *agg, const char *instance)
{
    for (size_t i = 0; i < agg->n_procs; i++)
        if (!strcmp(agg->procs[i]->report->instance, instance))
            return agg->procs[i];
    return NULL;
}

int nm_agg_ingest(nm_agg *agg, const Newsmill__StatsReport *report, int64_t now_ms, nm_error *err)
{
    if (nm_report_check(report, err) != 0) {
        nm_agg_reject(agg, "invalid");
        return -1;
    }
    proc *p = find_proc(agg, report->instance);
    if (!p && agg->n_procs >= MAX_PROCS) {
        nm_agg_reject(agg, "too-many-processes");
        return nm_error_set(err, NM_ERR_FULL, "already %d processes", MAX_PROCS);
    }
    Newsmill__StatsReport *copy = copy_report(report);
    double fleet_new = report_sum(copy, NM_METRIC_WORKER_ARTICLES_DONE_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER);
    double own_new = fleet_new + report_sum(copy, NM_METRIC_QUEUE_ARTICLES_DONE_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER);
    double fleet_delta = 0, own_delta = 0;
    if (!p) {
        if (agg->n_procs == agg->cap_procs) {
            agg->cap_procs = agg->cap_procs ? 2 * agg->cap_procs : 16;
            agg->procs = nm_xrealloc(agg->procs, agg->cap_procs * sizeof *agg->procs);
        }
        p = nm_xcalloc(1, sizeof *p);
        ring_init(&p->samples, PROC_RING);
        agg->procs[agg->n_procs++] = p;
        /* Count what a process did before we first heard of it only when it
         * started after us; otherwise a collector restart would be a spike. */
        if (copy->started_unix_ms >= agg->started_ms) {
            fleet_delta = fleet_new;
            own_delta = own_new;
        }
        nm_log_info("process seen instance=%s role=%s host=%s pid=%u", copy->instance, copy->role,
                    copy->host, copy->pid);
    } else {
        const Newsmill__StatsReport *old = p->report;
        double fleet_old = report_sum(old, NM_METRIC_WORKER_ARTICLES_DONE_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER);
        double own_old = fleet_old + report_sum(old, NM_METRIC_QUEUE_ARTICLES_DONE_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER);
        bool restart = copy->started_unix_ms != old->started_unix_ms || copy->seq < old->seq ||
                       went_back(old, copy);
        if (restart) {
            if (!p->gone)
                retire(agg, old, +1);
            fleet_delta = fleet_new;
            own_delta = own_new;
            nm_log_info("process restarted instance=%s", copy->instance);
        } else {
            if (p->gone)
                retire(agg, old, -1); /* the same process is back: count it live again */
            fleet_delta = fleet_new - fleet_old;
            own_delta = own_new - own_old;
        }
        if (p->gone)
            nm_log_info("process back instance=%s", copy->instance);
        newsmill__stats_report__free_unpacked(p->report, NULL);
    }
    p->report = copy;
    p->gone = false;
    p->last_seen_ms = now_ms;
    p->own_cum += own_delta;
    ring_push(&p->samples, now_ms, p->own_cum);
    agg->committed_cum += fleet_delta;
    agg->received++;
    if (agg->received_m)
        nm_metric_add(agg->received_m, 1);
    return 0;
}

int nm_agg_ingest_frame(nm_agg *agg, const uint8_t *buf, size_t len, int64_t now_ms,
                        nm_error *err)
{
    Newsmill__Envelope *env = NULL;
    nm_error e;
    if (nm_frame_decode(buf, len, MAX_FRAME, &env, &e) != 0) {
        nm_agg_reject(agg, nm_errcode_name(e.code));
        if (err)
            *err = e;
        return -1;
    }
    if (env->body_case != NEWSMILL__ENVELOPE__BODY_STATS) {
        nm_agg_reject(agg, "unknown-type");
        nm_error_set(err, NM_ERR_UNKNOWN_TYPE, "'%s' on the stats socket",
                     nm_frame_body_name(env->body_case));
        nm_frame_free(&env);
        return -1;
    }
    int rc = nm_agg_ingest(agg, env->stats, now_ms, err);
    nm_frame_free(&env);
    return rc;
}

/* Marks silent processes gone (retiring their counters) and forgets rows
 * gone for long. */
static void update_status(nm_agg *agg, int64_t now_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < agg->n_procs; i++) {
        proc *p = agg->procs[i];
        int64_t silent = now_ms - p->last_seen_ms;
        if (silent > agg->cfg.gone_after_ms && !p->gone) {
            retire(agg, p->report, +1);
            p->gone = true;
            nm_log_warn("process gone instance=%s role=%s silent_ms=%lld", p->report->instance,
                        p->report->role, (long long)silent);
        }
        if (silent > 2 * agg->cfg.gone_after_ms) {
            proc_free(p);
            continue;
        }
        agg->procs[kept++] = p;
    }
    agg->n_procs = kept;
}

/* ---- totals ---- */

static int cmp_total(const void *a, const void *b)
{
    return strcmp(((const total *)a)->key, ((const total *)b)->key);
}

static bool is_max(const Newsmill__Metric *m)
{
    return !strcmp(m->name, NM_METRIC_QUEUE_OLDEST_BACKLOG_AGE_SECONDS) || is_shared(m);
}

/* Merges the live and stale processes' metrics and the retired remainder
 * into *n_out series sorted by key (arena memory; labels borrowed). */
static total *compute_totals(nm_agg *agg, nm_arena *arena, size_t *n_out)
{
    size_t n = agg->n_retired;
    for (size_t i = 0; i < agg->n_procs; i++)
        if (!agg->procs[i]->gone)
            n += agg->procs[i]->report->n_metrics;
    total *all = nm_arena_calloc(arena, n ? n : 1, sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < agg->n_procs; i++) {
        if (agg->procs[i]->gone)
            continue;
        const Newsmill__StatsReport *r = agg->procs[i]->report;
        for (size_t j = 0; j < r->n_metrics; j++) {
            char *key = nm_report_series_key(r->metrics[j], true);
            all[k++] = (total){nm_arena_strndup(arena, key, strlen(key)), r->metrics[j]};
            free(key);
        }
    }
    for (size_t i = 0; i < agg->n_retired; i++)
        all[k++] = (total){agg->retired[i].key, agg->retired[i].m};
    qsort(all, k, sizeof *all, cmp_total);
    total *out = nm_arena_calloc(arena, k ? k : 1, sizeof *out);
    size_t n_out_ = 0;
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && !strcmp(all[j].key, all[i].key))
            j++;
        const Newsmill__Metric *first = all[i].m;
        Newsmill__Metric *t = nm_arena_calloc(arena, 1, sizeof *t);
        newsmill__metric__init(t);
        t->name = first->name;
        t->help = first->help;
        t->kind = first->kind;
        t->labels = first->labels;
        t->n_labels = first->n_labels;
        bool max = is_max(first);
        if (first->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM) {
            t->bucket_bounds = first->bucket_bounds;
            t->n_bucket_bounds = first->n_bucket_bounds;
            t->n_bucket_counts = first->n_bucket_counts;
            t->bucket_counts = nm_arena_calloc(arena, t->n_bucket_counts, sizeof(uint64_t));
        }
        for (size_t x = i; x < j; x++) {
            const Newsmill__Metric *m = all[x].m;
            if (!*t->help && *m->help)
                t->help = m->help;
            if (m->kind != t->kind)
                continue;
            if (m->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM) {
                if (!same_bounds(t, m))
                    continue;
                for (size_t b = 0; b < t->n_bucket_counts; b++)
                    t->bucket_counts[b] += m->bucket_counts[b];
                t->sum += m->sum;
                t->count += m->count;
            } else if (max) {
                t->value = x == i || m->value > t->value ? m->value : t->value;
            } else {
                t->value += m->value;
            }
        }
        out[n_out_++] = (total){all[i].key, t};
        i = j;
    }
    *n_out = n_out_;
    return out;
}

static hist_hist *find_hist(nm_agg *agg, const char *key, size_t n_counts)
{
    for (size_t i = 0; i < agg->n_hists; i++) {
        hist_hist *h = &agg->hists[i];
        if (!strcmp(h->key, key)) {
            if (h->n_counts != n_counts) { /* bounds changed: start over */
                h->n_counts = n_counts;
                h->counts = nm_xrealloc(h->counts, HIST_RING * n_counts * sizeof *h->counts);
                h->head = h->len = 0;
            }
            return h;
        }
    }
    agg->hists = nm_xrealloc(agg->hists, (agg->n_hists + 1) * sizeof *agg->hists);
    hist_hist *h = &agg->hists[agg->n_hists++];
    memset(h, 0, sizeof *h);
    h->key = nm_xstrdup(key);
    h->n_counts = n_counts;
    h->counts = nm_xcalloc(HIST_RING * n_counts, sizeof *h->counts);
    return h;
}

void nm_agg_tick(nm_agg *agg, int64_t now_ms)
{
    update_status(agg, now_ms);
    ring_push(&agg->fleet, now_ms, agg->committed_cum);
    nm_arena *arena = nm_arena_new(0);
    size_t n;
    total *t = compute_totals(agg, arena, &n);
    for (size_t i = 0; i < n; i++) {
        const Newsmill__Metric *m = t[i].m;
        if (m->kind != NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM)
            continue;
        hist_hist *h = find_hist(agg, t[i].key, m->n_bucket_counts);
        size_t at = (h->head + h->len) % HIST_RING;
        if (h->len == HIST_RING)
            h->head = (h->head + 1) % HIST_RING;
        else
            h->len++;
        h->t_ms[at] = now_ms;
        memcpy(h->counts + at * h->n_counts, m->bucket_counts, h->n_counts * sizeof(uint64_t));
    }
    nm_arena_destroy(&arena);
}

/* ---- snapshot ---- */

typedef struct snap_holder {
    Newsmill__StatsSnapshot snap; /* first: the snapshot pointer is the holder */
    nm_arena *arena;
} snap_holder;

static double total_value(const total *t, size_t n, const char *name, Newsmill__MetricKind kind,
                          bool *found)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].m->kind == kind && !strcmp(t[i].m->name, name)) {
            v += t[i].m->value;
            if (found)
                *found = true;
        }
    return v;
}

static Newsmill__Latency *latency_of(nm_agg *agg, nm_arena *arena, const total *t, int64_t now_ms)
{
    const Newsmill__Metric *m = t->m;
    Newsmill__Latency *l = nm_arena_calloc(arena, 1, sizeof *l);
    newsmill__latency__init(l);
    l->metric = m->name;
    l->count = m->count;
    l->sum = m->sum;
    size_t nb = m->n_bucket_bounds;
    l->p50 = nm_hist_quantile(m->bucket_bounds, m->bucket_counts, nb, 0.50);
    l->p95 = nm_hist_quantile(m->bucket_bounds, m->bucket_counts, nb, 0.95);
    l->p99 = nm_hist_quantile(m->bucket_bounds, m->bucket_counts, nb, 0.99);
    /* The last minute: now minus the newest sample at least a minute old. */
    uint64_t *win = nm_arena_calloc(arena, m->n_bucket_counts, sizeof *win);
    memcpy(win, m->bucket_counts, m->n_bucket_counts * sizeof *win);
    for (size_t i = 0; i < agg->n_hists; i++) {
        hist_hist *h = &agg->hists[i];
        if (strcmp(h->key, t->key) || h->n_counts != m->n_bucket_counts || !h->len)
            continue;
        size_t base = h->head;
        for (size_t j = h->len; j-- > 0;) {
            size_t at = (h->head + j) % HIST_RING;
            if (h->t_ms[at] <= now_ms - 60000) {
                base = at;
                break;
            }
        }
        for (size_t b = 0; b < h->n_counts; b++) {
            uint64_t old = h->counts[base * h->n_counts + b];
            win[b] = win[b] > old ? win[b] - old : 0;
        }
    }
    for (size_t b = 0; b < m->n_bucket_counts; b++)
        l->count_1m += win[b];
    l->p50_1m = nm_hist_quantile(m->bucket_bounds, win, nb, 0.50);
    l->p95_1m = nm_hist_quantile(m->bucket_bounds, win, nb, 0.95);
    l->p99_1m = nm_hist_quantile(m->bucket_bounds, win, nb, 0.99);
    return l;
}

static int cmp_process(const void *a, const void *b)
{
    const Newsmill__StatsReport *x = (*(Newsmill__ProcessStatus *const *)a)->last;
    const Newsmill__StatsReport *y = (*(Newsmill__ProcessStatus *const *)b)->last;
    int c = strcmp(x->role, y->role);
    return c ? c : strcmp(x->instance, y->instance);
}

static int cmp_dead(const void *a, const void *b)
{
    int64_t x = (*(Newsmill__DeadLetter *const *)a)->dead_unix_ms;
    int64_t y = (*(Newsmill__DeadLetter *const *)b)->dead_unix_ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

static const char *label_value(const Newsmill__Metric *m, const char *key)
{
    for (size_t i = 0; i < m->n_labels; i++)
        if (!strcmp(m->labels[i]->key, key))
            return m->labels[i]->value;
    return NULL;
}

static void fill_processes(nm_agg *agg, nm_arena *arena, Newsmill__StatsSnapshot *s,
                           int64_t now_ms)
{
    s->processes = nm_arena_calloc(arena, agg->n_procs ? agg->n_procs : 1, sizeof *s->processes);
    for (size_t i = 0; i < agg->n_procs; i++) {
        proc *p = agg->procs[i];
        Newsmill__ProcessStatus *ps = nm_arena_calloc(arena, 1, sizeof *ps);
        newsmill__process_status__init(ps);
        ps->last = p->report;
        int64_t silent = now_ms - p->last_seen_ms;
        ps->status = p->gone ? "gone" : silent > agg->cfg.stale_after_ms ? "stale" : "live";
        ps->last_seen_unix_ms = p->last_seen_ms;
        ps->articles_per_s = ring_rate(&p->samples, now_ms, p->own_cum, 60000);
        ps->in_flight = report_sum(p->report, NM_METRIC_WORKER_IN_FLIGHT_ARTICLES, NEWSMILL__METRIC_KIND__METRIC_GAUGE) +
                        report_sum(p->report, NM_METRIC_QUEUE_IN_FLIGHT_ARTICLES, NEWSMILL__METRIC_KIND__METRIC_GAUGE);
        ps->articles_total =
            report_sum(p->report, NM_METRIC_WORKER_ARTICLES_DONE_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER) + report_sum(p->report, NM_METRIC_QUEUE_ARTICLES_DONE_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER);
        s->processes[s->n_processes++] = ps;
    }
    qsort(s->processes, s->n_processes, sizeof *s->processes, cmp_process);
}

static void fill_dead(nm_agg *agg, nm_arena *arena, Newsmill__StatsSnapshot *s)
{
    size_t n = 0;
    for (size_t i = 0; i < agg->n_procs; i++)
        if (!agg->procs[i]->gone)
            n += agg->procs[i]->report->n_recent_dead;
    Newsmill__DeadLetter **all = nm_arena_calloc(arena, n ? n : 1, sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < agg->n_procs; i++) {
        const Newsmill__StatsReport *r = agg->procs[i]->report;
        if (!agg->procs[i]->gone)
            for (size_t j = 0; j < r->n_recent_dead; j++)
                all[k++] = r->recent_dead[j];
    }
    qsort(all, k, sizeof *all, cmp_dead);
    s->recent_dead = all;
    s->n_recent_dead = k < RECENT_DEAD_MAX ? k : RECENT_DEAD_MAX;
}

Newsmill__StatsSnapshot *nm_agg_snapshot(nm_agg *agg, int64_t now_ms)
{
    update_status(agg, now_ms);
    nm_arena *arena = nm_arena_new(0);
    snap_holder *h = nm_arena_calloc(arena, 1, sizeof *h);
    h->arena = arena;
    Newsmill__StatsSnapshot *s = &h->snap;
    newsmill__stats_snapshot__init(s);
    s->at_unix_ms = now_ms;
    s->collector_started_unix_ms = agg->started_ms;
    s->reports_received = agg->received;
    s->reports_rejected = agg->rejected;
    fill_processes(agg, arena, s, now_ms);

    size_t n;
    total *t = compute_totals(agg, arena, &n);
    s->totals = nm_arena_calloc(arena, n ? n : 1, sizeof *s->totals);
    s->latencies = nm_arena_calloc(arena, n ? n : 1, sizeof *s->latencies);
    s->errors = nm_arena_calloc(arena, n ? n : 1, sizeof *s->errors);
    for (size_t i = 0; i < n; i++) {
        Newsmill__Metric *m = t[i].m;
        s->totals[s->n_totals++] = m;
        if (m->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM) {
            s->latencies[s->n_latencies++] = latency_of(agg, arena, &t[i], now_ms);
        } else if (m->kind == NEWSMILL__METRIC_KIND__METRIC_COUNTER && m->value > 0) {
            const char *reason = label_value(m, "reason");
            if (reason) {
                Newsmill__ErrorCount *e = nm_arena_calloc(arena, 1, sizeof *e);
                newsmill__error_count__init(e);
                e->metric = m->name;
                e->reason = (char *)reason;
                e->count = m->value;
                s->errors[s->n_errors++] = e;
            }
        }
    }
    bool queue_in_flight = false;
    s->backlog = total_value(t, n, NM_METRIC_QUEUE_BACKLOG_ARTICLES, NEWSMILL__METRIC_KIND__METRIC_GAUGE, NULL);
    s->in_flight = total_value(t, n, NM_METRIC_QUEUE_IN_FLIGHT_ARTICLES, NEWSMILL__METRIC_KIND__METRIC_GAUGE, &queue_in_flight);
    if (!queue_in_flight)
        s->in_flight = total_value(t, n, NM_METRIC_WORKER_IN_FLIGHT_ARTICLES, NEWSMILL__METRIC_KIND__METRIC_GAUGE, NULL);
    s->oldest_backlog_age_s = total_value(t, n, NM_METRIC_QUEUE_OLDEST_BACKLOG_AGE_SECONDS, NEWSMILL__METRIC_KIND__METRIC_GAUGE, NULL);
    s->accepted = total_value(t, n, NM_METRIC_QUEUE_ARTICLES_ACCEPTED_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER, NULL);
    s->done = total_value(t, n, NM_METRIC_WORKER_ARTICLES_DONE_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER, NULL);
    s->failed = total_value(t, n, NM_METRIC_WORKER_ARTICLES_FAILED_TOTAL, NEWSMILL__METRIC_KIND__METRIC_COUNTER, NULL);
    s->dead = total_value(t, n, NM_METRIC_QUEUE_DEAD_LETTERS, NEWSMILL__METRIC_KIND__METRIC_GAUGE, NULL);

    s->rate_1s = ring_rate(&agg->fleet, now_ms, agg->committed_cum, 1000);
    s->rate_1m = ring_rate(&agg->fleet, now_ms, agg->committed_cum, 60000);
    s->rate_5m = ring_rate(&agg->fleet, now_ms, agg->committed_cum, 300000);
    if (agg->fleet.len > 1) {
        s->throughput = nm_arena_calloc(arena, agg->fleet.len, sizeof *s->throughput);
        for (size_t i = 1; i < agg->fleet.len; i++) {
            const sample *a = ring_at(&agg->fleet, i - 1), *b = ring_at(&agg->fleet, i);
            double dt = (double)(b->t_ms - a->t_ms) / 1000.0;
            s->throughput[s->n_throughput++] = dt > 0 ? (b->cum - a->cum) / dt : 0;
        }
        while (s->n_throughput > NM_AGG_HISTORY_S) { /* keep the newest */
            s->throughput++;
            s->n_throughput--;
        }
    }
    fill_dead(agg, arena, s);
    return s;
}

void nm_agg_snapshot_free(Newsmill__StatsSnapshot **snap)
{
    if (!snap || !*snap)
        return;
    nm_arena *arena = ((snap_holder *)*snap)->arena;
    nm_arena_destroy(&arena);
    *snap = NULL;
}

uint64_t nm_agg_received(const nm_agg *agg) { return agg->received; }
uint64_t nm_agg_rejected(const nm_agg *agg) { return agg->rejected; }
size_t nm_agg_process_count(const nm_agg *agg) { return agg->n_procs; }
