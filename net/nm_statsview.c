#include "nm_statsview.h"

#include <stdio.h>
#include <string.h>

#include "nm_time.h"

static void key(nm_sbuf *b, const char *k)
{
    nm_sbuf_json_str(b, k);
    nm_sbuf_puts(b, ":");
}

static void num(nm_sbuf *b, const char *k, double v, bool comma)
{
    key(b, k);
    nm_sbuf_json_num(b, v);
    if (comma)
        nm_sbuf_puts(b, ",");
}

static void str(nm_sbuf *b, const char *k, const char *v, bool comma)
{
    key(b, k);
    nm_sbuf_json_str(b, v);
    if (comma)
        nm_sbuf_puts(b, ",");
}

static const char *kind_name(Newsmill__MetricKind kind)
{
    return kind == NEWSMILL__METRIC_KIND__METRIC_COUNTER     ? "counter"
           : kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM ? "histogram"
                                                             : "gauge";
}

static const char *last_reason(const Newsmill__DeadLetter *d)
{
    return d->n_failures ? d->failures[d->n_failures - 1]->reason : "";
}

static void json_process(nm_sbuf *b, const Newsmill__ProcessStatus *p, int64_t at_ms)
{
    static const Newsmill__StatsReport empty = NEWSMILL__STATS_REPORT__INIT;
    const Newsmill__StatsReport *r = p->last ? p->last : &empty;
    nm_sbuf_puts(b, "{");
    str(b, "instance", r->instance, true);
    str(b, "role", r->role, true);
    str(b, "host", r->host, true);
    num(b, "pid", r->pid, true);
    str(b, "state", r->state, true);
    str(b, "status", p->status, true);
    num(b, "last_seen_unix_ms", (double)p->last_seen_unix_ms, true);
    num(b, "last_seen_age_s", (double)(at_ms - p->last_seen_unix_ms) / 1000.0, true);
    num(b, "started_unix_ms", (double)r->started_unix_ms, true);
    num(b, "seq", (double)r->seq, true);
    num(b, "articles_per_s", p->articles_per_s, true);
    num(b, "in_flight", p->in_flight, true);
    num(b, "articles_total", p->articles_total, false);
    nm_sbuf_puts(b, "}");
}

static void json_dead(nm_sbuf *b, const Newsmill__DeadLetter *d)
{
    nm_sbuf_puts(b, "{");
    str(b, "id", d->id, true);
    str(b, "source", d->source, true);
    str(b, "url", d->url, true);
    num(b, "attempts", d->attempts, true);
    num(b, "dead_unix_ms", (double)d->dead_unix_ms, true);
    str(b, "reason", last_reason(d), true);
    key(b, "failures");
    nm_sbuf_puts(b, "[");
    for (size_t i = 0; i < d->n_failures; i++) {
        const Newsmill__FailureRecord *f = d->failures[i];
        nm_sbuf_puts(b, i ? ",{" : "{");
        num(b, "at_unix_ms", (double)f->at_unix_ms, true);
        num(b, "attempt", f->attempt, true);
        str(b, "reason", f->reason, true);
        str(b, "worker", f->worker, false);
        nm_sbuf_puts(b, "}");
    }
    nm_sbuf_puts(b, "]}");
}

static void json_metric(nm_sbuf *b, const Newsmill__Metric *m)
{
    nm_sbuf_puts(b, "{");
    str(b, "name", m->name, true);
    str(b, "kind", kind_name(m->kind), true);
    key(b, "labels");
    nm_sbuf_puts(b, "{");
    for (size_t i = 0; i < m->n_labels; i++)
        str(b, m->labels[i]->key, m->labels[i]->value, i + 1 < m->n_labels);
    nm_sbuf_puts(b, "},");
    if (m->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM) {
        num(b, "count", (double)m->count, true);
        num(b, "sum", m->sum, false);
    } else {
        num(b, "value", m->value, false);
    }
    nm_sbuf_puts(b, "}");
}

void nm_statsview_json(const Newsmill__StatsSnapshot *s, nm_sbuf *b)
{
    nm_sbuf_puts(b, "{");
    num(b, "at_unix_ms", (double)s->at_unix_ms, true);
    num(b, "collector_started_unix_ms", (double)s->collector_started_unix_ms, true);
    key(b, "totals");
    nm_sbuf_puts(b, "{");
    num(b, "accepted", s->accepted, true);
    num(b, "done", s->done, true);
    num(b, "committed", s->done, true);
    num(b, "failed", s->failed, true);
    num(b, "dead", s->dead, true);
    num(b, "backlog", s->backlog, true);
    num(b, "in_flight", s->in_flight, true);
    num(b, "oldest_backlog_age_s", s->oldest_backlog_age_s, false);
    nm_sbuf_puts(b, "},");
    key(b, "rates");
    nm_sbuf_puts(b, "{");
    num(b, "1s", s->rate_1s, true);
    num(b, "1m", s->rate_1m, true);
    num(b, "5m", s->rate_5m, false);
    nm_sbuf_puts(b, "},");
    key(b, "latency");
    nm_sbuf_puts(b, "{");
    for (size_t i = 0; i < s->n_latencies; i++) {
        const Newsmill__Latency *l = s->latencies[i];
        if (i)
            nm_sbuf_puts(b, ",");
        key(b, l->metric);
        nm_sbuf_puts(b, "{");
        num(b, "count", (double)l->count, true);
        num(b, "sum", l->sum, true);
        num(b, "p50", l->p50, true);
        num(b, "p95", l->p95, true);
        num(b, "p99", l->p99, true);
        num(b, "count_1m", (double)l->count_1m, true);
        num(b, "p50_1m", l->p50_1m, true);
        num(b, "p95_1m", l->p95_1m, true);
        num(b, "p99_1m", l->p99_1m, false);
        nm_sbuf_puts(b, "}");
    }
    nm_sbuf_puts(b, "},");
    key(b, "processes");
    nm_sbuf_puts(b, "[");
    for (size_t i = 0; i < s->n_processes; i++) {
        if (i)
            nm_sbuf_puts(b, ",");
        json_process(b, s->processes[i], s->at_unix_ms);
    }
    nm_sbuf_puts(b, "],");
    key(b, "recent_dead");
    nm_sbuf_puts(b, "[");
    for (size_t i = 0; i < s->n_recent_dead; i++) {
        if (i)
            nm_sbuf_puts(b, ",");
        json_dead(b, s->recent_dead[i]);
    }
    nm_sbuf_puts(b, "],");
    key(b, "errors");
    nm_sbuf_puts(b, "[");
    for (size_t i = 0; i < s->n_errors; i++) {
        nm_sbuf_puts(b, i ? ",{" : "{");
        str(b, "metric", s->errors[i]->metric, true);
        str(b, "reason", s->errors[i]->reason, true);
        num(b, "count", s->errors[i]->count, false);
        nm_sbuf_puts(b, "}");
    }
    nm_sbuf_puts(b, "],");
    key(b, "throughput");
    nm_sbuf_puts(b, "[");
    for (size_t i = 0; i < s->n_throughput; i++) {
        if (i)
            nm_sbuf_puts(b, ",");
        nm_sbuf_printf(b, "%.3f", s->throughput[i] >= 0 ? s->throughput[i] : 0.0);
    }
    nm_sbuf_puts(b, "],");
    key(b, "collector");
    nm_sbuf_puts(b, "{");
    num(b, "reports_received", (double)s->reports_received, true);
    num(b, "reports_rejected", (double)s->reports_rejected, false);
    nm_sbuf_puts(b, "},");
    key(b, "metrics");
    nm_sbuf_puts(b, "[");
    for (size_t i = 0; i < s->n_totals; i++) {
        if (i)
            nm_sbuf_puts(b, ",");
        json_metric(b, s->totals[i]);
    }
    nm_sbuf_puts(b, "]}");
}

/* ---- the human view ---- */

static void fmt_seconds(char *buf, size_t size, double s)
{
    if (s <= 0)
        snprintf(buf, size, "-");
    else if (s < 1e-3)
        snprintf(buf, size, "%.0fµs", s * 1e6);
    else if (s < 1)
        snprintf(buf, size, "%.1fms", s * 1e3);
    else
        snprintf(buf, size, "%.2fs", s);
}

static void fmt_age(char *buf, size_t size, double s)
{
    if (s < 60)
        snprintf(buf, size, "%.0fs", s < 0 ? 0 : s);
    else if (s < 3600)
        snprintf(buf, size, "%ldm%02lds", (long)s / 60, (long)s % 60);
    else
        snprintf(buf, size, "%.1fh", s / 3600);
}

void nm_statsview_text(const Newsmill__StatsSnapshot *s, bool color, nm_sbuf *b)
{
    const char *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
    const char *red = color ? "\033[31m" : "", *yellow = color ? "\033[33m" : "";
    char when[32], age[32];
    nm_time_format_iso(s->at_unix_ms, when, sizeof when);
    fmt_age(age, sizeof age, s->oldest_backlog_age_s);
    nm_sbuf_printf(b, "%snewsmill fleet%s at %s\n\n", bold, off, when);
    nm_sbuf_printf(b, "  accepted %-12.0f committed %-12.0f failed %-10.0f dead %.0f\n",
                   s->accepted, s->done, s->failed, s->dead);
    nm_sbuf_printf(b, "  backlog  %-12.0f in flight %-12.0f oldest %s\n", s->backlog,
                   s->in_flight, s->backlog > 0 ? age : "-");
    nm_sbuf_printf(b, "  committed/s  1s %.1f   1m %.1f   5m %.1f\n", s->rate_1s, s->rate_1m,
                   s->rate_5m);
    if (s->n_throughput > 1) { /* the last minute as a sparkline, one cell per second */
        static const char *const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                           "\u2585", "\u2586", "\u2587", "\u2588"};
        size_t from = s->n_throughput > 60 ? s->n_throughput - 60 : 0;
        double max = 0;
        for (size_t i = from; i < s->n_throughput; i++)
            max = s->throughput[i] > max ? s->throughput[i] : max;
        nm_sbuf_printf(b, "  last %zus     ", s->n_throughput - from);
        for (size_t i = from; i < s->n_throughput; i++) {
            int level = max > 0 ? (int)(s->throughput[i] / max * 7.999) : 0;
            nm_sbuf_puts(b, bars[level < 0 ? 0 : level > 7 ? 7 : level]);
        }
        nm_sbuf_printf(b, "  peak %.0f/s\n", max);
    }
    nm_sbuf_printf(b, "  %sstats reports %llu received, %llu rejected%s\n\n",
                   s->reports_rejected ? yellow : "", (unsigned long long)s->reports_received,
                   (unsigned long long)s->reports_rejected, s->reports_rejected ? off : "");
    if (s->n_latencies) {
        nm_sbuf_printf(b, "%s  %-34s %9s %9s %9s %9s %10s%s\n", bold, "latency (last minute)", "p50",
                       "p95", "p99", "p99 all", "count", off);
        for (size_t i = 0; i < s->n_latencies; i++) {
            const Newsmill__Latency *l = s->latencies[i];
            if (!strstr(l->metric, "seconds"))
                continue; /* size histograms are not latencies */
            char p50[24], p95[24], p99[24], all[24];
            fmt_seconds(p50, sizeof p50, l->p50_1m);
            fmt_seconds(p95, sizeof p95, l->p95_1m);
            fmt_seconds(p99, sizeof p99, l->p99_1m);
            fmt_seconds(all, sizeof all, l->p99);
            /* µ is two bytes but one column: pad by hand */
            nm_sbuf_printf(b, "  %-34s %*s %*s %*s %*s %10llu\n", l->metric,
                           9 + (strstr(p50, "µ") != NULL), p50, 9 + (strstr(p95, "µ") != NULL), p95,
                           9 + (strstr(p99, "µ") != NULL), p99, 9 + (strstr(all, "µ") != NULL), all,
                           (unsigned long long)l->count);
        }
        nm_sbuf_puts(b, "\n");
    }
    nm_sbuf_printf(b, "%s  %-9s %-28s %-16s %7s %-9s %-6s %9s %9s %10s%s\n", bold, "ROLE",
                   "INSTANCE", "HOST", "PID", "STATE", "STATUS", "ART/S", "IN-FLIGHT", "LAST-SEEN",
                   off);
    for (size_t i = 0; i < s->n_processes; i++) {
        const Newsmill__ProcessStatus *p = s->processes[i];
        if (!p->last)
            continue;
        const char *c = !strcmp(p->status, "live") ? "" : !strcmp(p->status, "stale") ? yellow : red;
        fmt_age(age, sizeof age, (double)(s->at_unix_ms - p->last_seen_unix_ms) / 1000.0);
        nm_sbuf_printf(b, "%s  %-9.9s %-28.28s %-16.16s %7u %-9.9s %-6s %9.1f %9.0f %10s%s\n", c,
                       p->last->role, p->last->instance, p->last->host, p->last->pid,
                       p->last->state, p->status, p->articles_per_s, p->in_flight, age,
                       *c ? off : "");
    }
    if (!s->n_processes)
        nm_sbuf_puts(b, "  (no process has reported yet)\n");
    if (s->n_errors) {
        nm_sbuf_printf(b, "\n%s  errors by reason%s\n", bold, off);
        for (size_t i = 0; i < s->n_errors; i++)
            nm_sbuf_printf(b, "  %10.0f  %s  %s\n", s->errors[i]->count, s->errors[i]->reason,
                           s->errors[i]->metric);
    }
    if (s->n_recent_dead) {
        nm_sbuf_printf(b, "\n%s  recent dead letters%s\n", bold, off);
        for (size_t i = 0; i < s->n_recent_dead && i < 10; i++) {
            const Newsmill__DeadLetter *d = s->recent_dead[i];
            nm_time_format_iso(d->dead_unix_ms, when, sizeof when);
            nm_sbuf_printf(b, "  %s  %-24.24s attempts %u  %s\n", when, d->id, d->attempts,
                           last_reason(d));
        }
    }
}
