#include "nm_prom.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"

typedef struct series {
    char *family; /* owned */
    const Newsmill__Metric *m;
    const Newsmill__StatsReport *proc; /* NULL: fleet series */
    size_t order;
} series;

char *nm_prom_format_double(double v, char *buf)
{
    if (isnan(v))
        return strcpy(buf, "NaN");
    if (isinf(v))
        return strcpy(buf, v > 0 ? "+Inf" : "-Inf");
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

static void escape(nm_sbuf *out, const char *s, bool quotes)
{
    for (; *s; s++) {
        if (*s == '\\')
            nm_sbuf_puts(out, "\\\\");
        else if (*s == '\n')
            nm_sbuf_puts(out, "\\n");
        else if (quotes && *s == '"')
            nm_sbuf_puts(out, "\\\"");
        else
            nm_sbuf_append(out, s, 1);
    }
}

static bool reserved_label(const char *key)
{
    return !strcmp(key, "instance") || !strcmp(key, "role") || !strcmp(key, "host") ||
           !strcmp(key, "le") || !strcmp(key, "quantile");
}

/* Writes {labels} (with an optional le) for one series. */
static void labels(nm_sbuf *out, const series *s, const char *le)
{
    bool any = false;
    nm_sbuf_puts(out, "{");
    if (s->proc) {
        nm_sbuf_puts(out, "instance=\"");
        escape(out, s->proc->instance, true);
        nm_sbuf_puts(out, "\",role=\"");
        escape(out, s->proc->role, true);
        nm_sbuf_puts(out, "\",host=\"");
        escape(out, s->proc->host, true);
        nm_sbuf_puts(out, "\"");
        any = true;
    }
    for (size_t i = 0; i < s->m->n_labels; i++) {
        nm_sbuf_printf(out, "%s%s%s=\"", any ? "," : "",
                       reserved_label(s->m->labels[i]->key) ? "exported_" : "",
                       s->m->labels[i]->key);
        escape(out, s->m->labels[i]->value, true);
        nm_sbuf_puts(out, "\"");
        any = true;
    }
    if (le)
        nm_sbuf_printf(out, "%sle=\"%s\"", any ? "," : "", le);
    nm_sbuf_puts(out, "}");
    if (!any && !le) /* no labels at all: drop the "{}" */
        out->data[out->len -= 2] = '\0';
}

static void render_series(nm_sbuf *out, const series *s)
{
    char num[32];
    const Newsmill__Metric *m = s->m;
    if (m->kind != NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM) {
        nm_sbuf_puts(out, s->family);
        labels(out, s, NULL);
        nm_sbuf_printf(out, " %s\n", nm_prom_format_double(m->value, num));
        return;
    }
    uint64_t cum = 0;
    for (size_t b = 0; b < m->n_bucket_counts; b++) {
        cum += m->bucket_counts[b];
        char le[32];
        if (b < m->n_bucket_bounds)
            nm_prom_format_double(m->bucket_bounds[b], le);
        else
            strcpy(le, "+Inf");
        nm_sbuf_printf(out, "%s_bucket", s->family);
        labels(out, s, le);
        nm_sbuf_printf(out, " %llu\n", (unsigned long long)cum);
    }
    nm_sbuf_printf(out, "%s_sum", s->family);
    labels(out, s, NULL);
    nm_sbuf_printf(out, " %s\n", nm_prom_format_double(m->sum, num));
    nm_sbuf_printf(out, "%s_count", s->family);
    labels(out, s, NULL);
    nm_sbuf_printf(out, " %llu\n", (unsigned long long)cum);
}

static int cmp_series(const void *a, const void *b)
{
    const series *x = a, *y = b;
    int c = strcmp(x->family, y->family);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static const char *kind_name(Newsmill__MetricKind kind)
{
    switch (kind) {
    case NEWSMILL__METRIC_KIND__METRIC_COUNTER:
        return "counter";
    case NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM:
        return "histogram";
    default:
        return "gauge";
    }
}

static char *family_name(const char *prefix, const char *name)
{
    char *f = nm_xmalloc(strlen(prefix) + strlen(name) + 1);
    strcpy(f, prefix);
    strcat(f, name);
    return f;
}

/* The process and fleet series of every metric, grouped by family. */
static void render_metrics(const Newsmill__StatsSnapshot *snap, nm_sbuf *out)
{
    size_t n = snap->n_totals;
    for (size_t i = 0; i < snap->n_processes; i++)
        if (snap->processes[i]->last)
            n += snap->processes[i]->last->n_metrics;
    series *all = nm_xcalloc(n ? n : 1, sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < snap->n_processes; i++) {
        const Newsmill__ProcessStatus *p = snap->processes[i];
        if (!p->last || !strcmp(p->status, "gone"))
            continue;
        for (size_t j = 0; j < p->last->n_metrics; j++, k++)
            all[k] = (series){family_name("newsmill_", p->last->metrics[j]->name),
                              p->last->metrics[j], p->last, k};
    }
    for (size_t i = 0; i < snap->n_totals; i++, k++)
        all[k] = (series){family_name("newsmill_fleet_", snap->totals[i]->name), snap->totals[i],
                          NULL, k};
    qsort(all, k, sizeof *all, cmp_series);
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && !strcmp(all[j].family, all[i].family))
            j++;
        const char *help = "";
        for (size_t x = i; x < j && !*help; x++)
            help = all[x].m->help;
        nm_sbuf_printf(out, "# HELP %s ", all[i].family);
        escape(out, *help ? help : "newsmill metric (no description sent)", false);
        nm_sbuf_printf(out, "\n# TYPE %s %s\n", all[i].family, kind_name(all[i].m->kind));
        for (size_t x = i; x < j; x++)
            if (all[x].m->kind == all[i].m->kind)
                render_series(out, &all[x]);
        i = j;
    }
    for (size_t i = 0; i < k; i++)
        free(all[i].family);
    free(all);
}

static void header(nm_sbuf *out, const char *name, const char *type, const char *help)
{
    nm_sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void proc_labels(nm_sbuf *out, const Newsmill__StatsReport *r)
{
    nm_sbuf_puts(out, "instance=\"");
    escape(out, r->instance, true);
    nm_sbuf_puts(out, "\",role=\"");
    escape(out, r->role, true);
    nm_sbuf_puts(out, "\",host=\"");
    escape(out, r->host, true);
    nm_sbuf_puts(out, "\"");
}

static void render_derived(const Newsmill__StatsSnapshot *snap, nm_sbuf *out)
{
    char num[32];
    header(out, "newsmill_fleet_articles_committed_per_second", "gauge",
           "Articles committed by all workers per second, over a window");
    const struct {
        const char *w;
        double v;
    } rates[] = {{"1s", snap->rate_1s}, {"1m", snap->rate_1m}, {"5m", snap->rate_5m}};
    for (size_t i = 0; i < 3; i++)
        nm_sbuf_printf(out, "newsmill_fleet_articles_committed_per_second{window=\"%s\"} %s\n",
                       rates[i].w, nm_prom_format_double(rates[i].v, num));

    header(out, "newsmill_fleet_latency_seconds", "gauge",
           "Latency percentiles from histograms merged over all processes (window all or 1m)");
    for (size_t i = 0; i < snap->n_latencies; i++) {
        const Newsmill__Latency *l = snap->latencies[i];
        const struct {
            const char *q, *w;
            double v;
        } qs[] = {{"50", "all", l->p50},    {"95", "all", l->p95},   {"99", "all", l->p99},
                  {"50", "1m", l->p50_1m}, {"95", "1m", l->p95_1m}, {"99", "1m", l->p99_1m}};
        for (size_t j = 0; j < 6; j++) {
            nm_sbuf_puts(out, "newsmill_fleet_latency_seconds{metric=\"");
            escape(out, l->metric, true);
            nm_sbuf_printf(out, "\",percentile=\"%s\",window=\"%s\"} %s\n", qs[j].q, qs[j].w,
                           nm_prom_format_double(qs[j].v, num));
        }
    }

    header(out, "newsmill_fleet_processes", "gauge", "Processes known to the collector by role and status");
    for (size_t i = 0; i < snap->n_processes; i++) {
        const Newsmill__ProcessStatus *p = snap->processes[i];
        bool seen = false; /* count each (role, status) pair once, at its first row */
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(snap->processes[j]->last->role, p->last->role) &&
                   !strcmp(snap->processes[j]->status, p->status);
        if (seen)
            continue;
        size_t count = 0;
        for (size_t j = i; j < snap->n_processes; j++)
            count += !strcmp(snap->processes[j]->last->role, p->last->role) &&
                     !strcmp(snap->processes[j]->status, p->status);
        nm_sbuf_puts(out, "newsmill_fleet_processes{role=\"");
        escape(out, p->last->role, true);
        nm_sbuf_printf(out, "\",status=\"%s\"} %zu\n", p->status, count);
    }

    header(out, "newsmill_process_status", "gauge",
           "1 for every known process; status is live, stale or gone, state what it reports");
    for (size_t i = 0; i < snap->n_processes; i++) {
        const Newsmill__ProcessStatus *p = snap->processes[i];
        nm_sbuf_puts(out, "newsmill_process_status{");
        proc_labels(out, p->last);
        nm_sbuf_printf(out, ",status=\"%s\",state=\"", p->status);
        escape(out, p->last->state, true);
        nm_sbuf_puts(out, "\"} 1\n");
    }
    const struct {
        const char *name, *help;
        int which;
    } per_proc[] = {
        {"newsmill_process_last_seen_timestamp_seconds", "When the collector last heard from the process (Unix seconds)", 0},
        {"newsmill_process_start_time_seconds", "When the process started (Unix seconds)", 1},
        {"newsmill_process_articles_per_second", "Articles the process finished per second over the last minute", 2},
    };
    for (size_t f = 0; f < 3; f++) {
        header(out, per_proc[f].name, "gauge", per_proc[f].help);
        for (size_t i = 0; i < snap->n_processes; i++) {
            const Newsmill__ProcessStatus *p = snap->processes[i];
            double v = per_proc[f].which == 0   ? (double)p->last_seen_unix_ms / 1000.0
                       : per_proc[f].which == 1 ? (double)p->last->started_unix_ms / 1000.0
                                                : p->articles_per_s;
            nm_sbuf_printf(out, "%s{", per_proc[f].name);
            proc_labels(out, p->last);
            nm_sbuf_printf(out, "} %s\n", nm_prom_format_double(v, num));
        }
    }
}

void nm_prom_render(const Newsmill__StatsSnapshot *snap, nm_sbuf *out)
{
    render_metrics(snap, out);
    render_derived(snap, out);
}
