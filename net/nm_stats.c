#include "nm_stats.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_curve.h"
#include "nm_frame.h"
#include "nm_time.h"

struct nm_metric {
    char *name, *help, *label_key, *label_value;
    Newsmill__MetricKind kind;
    double value;
    nm_hist_scale scale;
    uint64_t *bucket_counts; /* histograms: n_bounds + 1 */
    double sum;
    uint64_t count;
};

struct nm_stats {
    char role[32];
    char instance[128];
    char host[64];
    char state[32];
    int64_t started_unix_ms;
    uint64_t seq;
    nm_metric **metrics;
    size_t n_metrics, cap_metrics;
    nm_metric *dropped;
};

struct nm_stats_pub {
    void *sock;
    char endpoint[256];
};

/* 1-2-5 series; built once, read-only afterwards. */
static const double seconds_bounds[] = {
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2,
    2e-2, 5e-2, 0.1,  0.2,  0.5,  1,    2,    5,    10,   20,   50,   100};
static const double count_bounds[] = {1,    2,    5,     10,    20,    50,    100,  200,
                                      500,  1000, 2000,  5000,  10000, 20000, 50000, 100000};

const double *nm_hist_bounds(nm_hist_scale scale, size_t *n_bounds)
{
    if (scale == NM_HIST_SECONDS) {
        *n_bounds = sizeof seconds_bounds / sizeof seconds_bounds[0];
        return seconds_bounds;
    }
    *n_bounds = sizeof count_bounds / sizeof count_bounds[0];
    return count_bounds;
}

double nm_hist_quantile(const double *bounds, const uint64_t *counts, size_t n_bounds, double q)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= n_bounds; i++)
        total += counts[i];
    if (total == 0)
        return 0;
    double rank = q * (double)total, seen = 0;
    for (size_t i = 0; i <= n_bounds; i++) {
        if (counts[i] && seen + (double)counts[i] >= rank) {
            if (i == n_bounds) /* +Inf bucket: the best we can say is its lower bound */
                return bounds[n_bounds - 1];
            double lo = i ? bounds[i - 1] : 0, hi = bounds[i];
            return lo + (hi - lo) * ((rank - seen) / (double)counts[i]);
        }
        seen += (double)counts[i];
    }
    return bounds[n_bounds - 1];
}

nm_stats *nm_stats_new(const char *role, const char *instance)
{
    nm_stats *s = nm_xcalloc(1, sizeof *s);
    snprintf(s->role, sizeof s->role, "%s", role);
    if (gethostname(s->host, sizeof s->host) != 0)
        snprintf(s->host, sizeof s->host, "localhost");
    s->host[sizeof s->host - 1] = '\0';
    if (instance && *instance)
        snprintf(s->instance, sizeof s->instance, "%s", instance);
    else
        snprintf(s->instance, sizeof s->instance, "%s:%ld", s->host, (long)getpid());
    snprintf(s->state, sizeof s->state, "running");
    s->started_unix_ms = nm_time_unix_ms();
    s->dropped = nm_stats_counter(s, "stats_reports_dropped_total",
                                  "Stats reports dropped because the collector was not keeping up",
                                  NULL, NULL);
    return s;
}

static void metric_free(nm_metric *m)
{
    free(m->name);
    free(m->help);
    free(m->label_key);
    free(m->label_value);
    free(m->bucket_counts);
    free(m);
}

void nm_stats_destroy(nm_stats **stats)
{
    if (!stats || !*stats)
        return;
    nm_stats *s = *stats;
    for (size_t i = 0; i < s->n_metrics; i++)
        metric_free(s->metrics[i]);
    free(s->metrics);
    free(s);
    *stats = NULL;
}

const char *nm_stats_instance(const nm_stats *stats) { return stats->instance; }

void nm_stats_set_state(nm_stats *stats, const char *state)
{
    snprintf(stats->state, sizeof stats->state, "%s", state);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static nm_metric *get_or_create(nm_stats *s, Newsmill__MetricKind kind, const char *name,
                                const char *help, const char *label_key, const char *label_value)
{
    for (size_t i = 0; i < s->n_metrics; i++) {
        nm_metric *m = s->metrics[i];
        if (!strcmp(m->name, name) && same(m->label_key, label_key) &&
            same(m->label_value, label_value)) {
            assert(m->kind == kind && "metric re-registered with another kind");
            return m;
        }
    }
    if (s->n_metrics == s->cap_metrics) {
        s->cap_metrics = s->cap_metrics ? 2 * s->cap_metrics : 32;
        s->metrics = nm_xrealloc(s->metrics, s->cap_metrics * sizeof *s->metrics);
    }
    nm_metric *m = nm_xcalloc(1, sizeof *m);
    m->name = nm_xstrdup(name);
    m->help = nm_xstrdup(help ? help : "");
    m->label_key = nm_xstrdup(label_key);
    m->label_value = nm_xstrdup(label_key ? (label_value ? label_value : "") : NULL);
    m->kind = kind;
    s->metrics[s->n_metrics++] = m;
    return m;
}

nm_metric *nm_stats_counter(nm_stats *stats, const char *name, const char *help,
                            const char *label_key, const char *label_value)
{
    return get_or_create(stats, NEWSMILL__METRIC_KIND__METRIC_COUNTER, name, help, label_key,
                         label_value);
}

nm_metric *nm_stats_gauge(nm_stats *stats, const char *name, const char *help,
                          const char *label_key, const char *label_value)
{
    return get_or_create(stats, NEWSMILL__METRIC_KIND__METRIC_GAUGE, name, help, label_key,
                         label_value);
}

nm_metric *nm_stats_histogram(nm_stats *stats, const char *name, const char *help,
                              nm_hist_scale scale)
{
    nm_metric *m =
        get_or_create(stats, NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM, name, help, NULL, NULL);
    if (!m->bucket_counts) {
        size_t n;
        nm_hist_bounds(scale, &n);
        m->scale = scale;
        m->bucket_counts = nm_xcalloc(n + 1, sizeof *m->bucket_counts);
    }
    return m;
}

void nm_stats_remove(nm_stats *stats, nm_metric **metric)
{
    if (!metric || !*metric)
        return;
    for (size_t i = 0; i < stats->n_metrics; i++) {
        if (stats->metrics[i] == *metric) {
            memmove(&stats->metrics[i], &stats->metrics[i + 1],
                    (stats->n_metrics - i - 1) * sizeof *stats->metrics);
            stats->n_metrics--;
            break;
        }
    }
    metric_free(*metric);
    *metric = NULL;
}

void nm_metric_add(nm_metric *counter, double delta) { counter->value += delta; }
void nm_metric_set(nm_metric *gauge, double value) { gauge->value = value; }

void nm_metric_observe(nm_metric *histogram, double value)
{
    size_t n;
    const double *bounds = nm_hist_bounds(histogram->scale, &n);
    size_t lo = 0, hi = n; /* first bound >= value, or n for +Inf */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bounds[mid] < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    histogram->bucket_counts[lo]++;
    histogram->sum += value;
    histogram->count++;
}

double nm_metric_value(const nm_metric *metric)
{
    return metric->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM ? (double)metric->count
                                                                   : metric->value;
}

Newsmill__StatsReport *nm_stats_report_new(nm_stats *s)
{
    Newsmill__StatsReport *r = nm_xmalloc(sizeof *r);
    newsmill__stats_report__init(r);
    r->role = s->role;
    r->instance = s->instance;
    r->host = s->host;
    r->pid = (uint32_t)getpid();
    r->started_unix_ms = s->started_unix_ms;
    r->sent_unix_ms = nm_time_unix_ms();
    r->seq = ++s->seq;
    r->state = s->state;
    r->n_metrics = s->n_metrics;
    r->metrics = nm_xcalloc(s->n_metrics, sizeof *r->metrics);
    for (size_t i = 0; i < s->n_metrics; i++) {
        nm_metric *m = s->metrics[i];
        /* One allocation per metric: the Metric, then its Label. */
        Newsmill__Metric *pm = nm_xcalloc(1, sizeof *pm + sizeof(Newsmill__Label) + sizeof(Newsmill__Label *));
        newsmill__metric__init(pm);
        pm->name = m->name;
        pm->help = m->help;
        pm->kind = m->kind;
        pm->value = m->value;
        if (m->label_key) {
            Newsmill__Label *label = (Newsmill__Label *)(pm + 1);
            Newsmill__Label **labels = (Newsmill__Label **)(label + 1);
            newsmill__label__init(label);
            label->key = m->label_key;
            label->value = m->label_value;
            labels[0] = label;
            pm->labels = labels;
            pm->n_labels = 1;
        }
        if (m->bucket_counts) {
            size_t n;
            pm->bucket_bounds = (double *)nm_hist_bounds(m->scale, &n);
            pm->n_bucket_bounds = n;
            pm->bucket_counts = m->bucket_counts;
            pm->n_bucket_counts = n + 1;
            pm->sum = m->sum;
            pm->count = m->count;
        }
        r->metrics[i] = pm;
    }
    return r;
}

void nm_stats_report_free(Newsmill__StatsReport **report)
{
    if (!report || !*report)
        return;
    Newsmill__StatsReport *r = *report;
    for (size_t i = 0; i < r->n_metrics; i++)
        free(r->metrics[i]);
    free(r->metrics);
    free(r);
    *report = NULL;
}

/* Raises counter m to total (counters only go up; the counter itself
 * remembers what was reported). */
static void counter_to(nm_metric *m, uint64_t total)
{
    double now = nm_metric_value(m);
    if ((double)total > now)
        nm_metric_add(m, (double)total - now);
}

void nm_stats_curve_report(nm_stats *stats, const nm_curve *curve)
{
    if (!nm_curve_serving(curve) || !stats)
        return;
    uint64_t accepted, refused;
    nm_curve_counts(curve, &accepted, &refused);
    counter_to(nm_stats_counter(stats, "curve_accepted_total",
                                "CURVE clients accepted (allow-listed key)", NULL, NULL),
               accepted);
    counter_to(nm_stats_counter(stats, "curve_refused_total",
                                "Connections refused by CURVE (unknown key, no CURVE, wrong "
                                "server key)", NULL, NULL),
               refused);
}

nm_stats_pub *nm_stats_pub_new(void *zmq_ctx, const char *endpoint, nm_error *err)
{
    return nm_stats_pub_new_curve(zmq_ctx, endpoint, NULL, err);
}

nm_stats_pub *nm_stats_pub_new_curve(void *zmq_ctx, const char *endpoint, const nm_curve *curve,
                                     nm_error *err)
{
    void *sock = zmq_socket(zmq_ctx, ZMQ_PUSH);
    if (!sock) {
        nm_error_set(err, NM_ERR_ZMQ, "stats socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int hwm = 16, linger = 0, immediate = 1;
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    /* Queue nothing for a collector that is not connected yet. */
    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
    if (nm_curve_apply_client(curve, sock, err) != 0) {
        zmq_close(sock);
        return NULL;
    }
    if (zmq_connect(sock, endpoint) != 0) {
        nm_error_set(err, NM_ERR_INVALID, "stats endpoint '%s': %s", endpoint,
                     zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    nm_stats_pub *pub = nm_xcalloc(1, sizeof *pub);
    pub->sock = sock;
    snprintf(pub->endpoint, sizeof pub->endpoint, "%s", endpoint);
    return pub;
}

int nm_stats_pub_send_report(nm_stats_pub *pub, Newsmill__StatsReport *report, nm_error *err)
{
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_STATS;
    env.stats = report;
    nm_error e;
    if (nm_frame_send(pub->sock, NULL, &env, ZMQ_DONTWAIT, &e) == 0)
        return 0;
    if (e.code == NM_ERR_BUSY)
        return 1; /* back-pressure: dropped */
    if (err)
        *err = e;
    return -1;
}

int nm_stats_pub_send(nm_stats_pub *pub, nm_stats *stats, nm_error *err)
{
    Newsmill__StatsReport *r = nm_stats_report_new(stats);
    int rc = nm_stats_pub_send_report(pub, r, err);
    nm_stats_report_free(&r);
    if (rc == 1) {
        nm_metric_add(stats->dropped, 1);
        rc = 0;
    }
    return rc;
}

void nm_stats_pub_destroy(nm_stats_pub **pub)
{
    if (!pub || !*pub)
        return;
    zmq_close((*pub)->sock);
    free(*pub);
    *pub = NULL;
}
