#include "nm_report_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_utf8.h"

static bool valid_name(const char *s, bool label)
{
    size_t n = strlen(s);
    if (n == 0 || n > NM_REPORT_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                     (!label && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return !(label && n >= 2 && s[0] == '_' && s[1] == '_');
}

static bool valid_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n <= max && nm_utf8_valid(s, n, NULL);
}

static int validate_metric(const Newsmill__Metric *m, nm_error *err)
{
    if (!valid_name(m->name, false))
        return nm_error_set(err, NM_ERR_INVALID, "bad metric name '%.64s'", m->name);
    if (!strncmp(m->name, "fleet_", 6) || !strncmp(m->name, "process_", 8))
        return nm_error_set(err, NM_ERR_INVALID, "metric name '%.64s' is reserved", m->name);
    if (!valid_text(m->help, 1024))
        return nm_error_set(err, NM_ERR_INVALID, "metric %s: bad help text", m->name);
    if (m->n_labels > NM_REPORT_MAX_LABELS)
        return nm_error_set(err, NM_ERR_INVALID, "metric %s: %zu labels", m->name, m->n_labels);
    for (size_t i = 0; i < m->n_labels; i++) {
        if (!valid_name(m->labels[i]->key, true) || !valid_text(m->labels[i]->value, NM_REPORT_MAX_STRING))
            return nm_error_set(err, NM_ERR_INVALID, "metric %s: bad label", m->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->labels[i]->key, m->labels[j]->key))
                return nm_error_set(err, NM_ERR_INVALID, "metric %s: duplicate label", m->name);
    }
    switch (m->kind) {
    case NEWSMILL__METRIC_KIND__METRIC_COUNTER:
    case NEWSMILL__METRIC_KIND__METRIC_GAUGE:
        /* a histogram's fields on a counter were added up as buckets when
         * the counter was retired (fuzz_aggregate) */
        if (m->n_bucket_bounds || m->n_bucket_counts || m->count || m->sum != 0)
            return nm_error_set(err, NM_ERR_INVALID, "metric %s: a histogram's fields on a %s",
                                m->name,
                                m->kind == NEWSMILL__METRIC_KIND__METRIC_COUNTER ? "counter"
                                                                                 : "gauge");
        if (!isfinite(m->value))
            return nm_error_set(err, NM_ERR_INVALID, "metric %s: value not finite", m->name);
        if (m->kind == NEWSMILL__METRIC_KIND__METRIC_COUNTER && m->value < 0)
            return nm_error_set(err, NM_ERR_INVALID, "counter %s is negative", m->name);
        return 0;
    case NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM: {
        size_t n = m->n_bucket_bounds;
        if (n == 0 || n > NM_REPORT_MAX_BOUNDS || m->n_bucket_counts != n + 1)
            return nm_error_set(err, NM_ERR_INVALID, "histogram %s: %zu bounds, %zu counts",
                                m->name, n, m->n_bucket_counts);
        uint64_t n_obs = 0;
        for (size_t i = 0; i < n; i++)
            if (!isfinite(m->bucket_bounds[i]) || (i && m->bucket_bounds[i] <= m->bucket_bounds[i - 1]))
                return nm_error_set(err, NM_ERR_INVALID, "histogram %s: bounds not ascending",
                                    m->name);
        for (size_t i = 0; i <= n; i++)
            n_obs += m->bucket_counts[i];
        if (n_obs != m->count || !isfinite(m->sum))
            return nm_error_set(err, NM_ERR_INVALID, "histogram %s: counts do not add up",
                                m->name);
        return 0;
    }
    default:
        return nm_error_set(err, NM_ERR_INVALID, "metric %s: unknown kind %d", m->name,
                            (int)m->kind);
    }
}

char *nm_report_series_key(const Newsmill__Metric *m, bool with_kind)
{
    size_t order[NM_REPORT_MAX_LABELS];
    size_t n = m->n_labels < NM_REPORT_MAX_LABELS ? m->n_labels : NM_REPORT_MAX_LABELS;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && strcmp(m->labels[order[j - 1]]->key, m->labels[i]->key) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    size_t len = strlen(m->name) + 2;
    for (size_t i = 0; i < n; i++)
        len += strlen(m->labels[i]->key) + strlen(m->labels[i]->value) + 2;
    char *key = nm_xmalloc(len);
    char *p = key;
    if (with_kind)
        p += sprintf(p, "%d", (int)m->kind % 10);
    p += sprintf(p, "%s", m->name);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "\x1f%s\x1e%s", m->labels[order[i]]->key, m->labels[order[i]]->value);
    return key;
}

typedef struct series {
    char *key;
    size_t name_len;
    int kind;
} series;

static int series_cmp(const void *a, const void *b)
{
    return strcmp(((const series *)a)->key, ((const series *)b)->key);
}

/* Each series once, each name of one kind: sorted by key, a name's series
 * are adjacent (the separator sorts before every name character). Two
 * copies of a counter would be summed, and a name that changes kind from
 * copy to copy would make the fleet's totals go down (fuzz_aggregate). */
static int check_series(const Newsmill__StatsReport *r, nm_error *err)
{
    if (r->n_metrics < 2)
        return 0;
    series *all = nm_xmalloc(r->n_metrics * sizeof *all);
    for (size_t i = 0; i < r->n_metrics; i++)
        all[i] = (series){nm_report_series_key(r->metrics[i], false), strlen(r->metrics[i]->name),
                          (int)r->metrics[i]->kind};
    qsort(all, r->n_metrics, sizeof *all, series_cmp);
    int rc = 0;
    for (size_t i = 1; i < r->n_metrics && rc == 0; i++) {
        const series *a = &all[i - 1], *b = &all[i];
        bool same_name = a->name_len == b->name_len && !memcmp(a->key, b->key, a->name_len);
        if (!strcmp(a->key, b->key))
            rc = nm_error_set(err, NM_ERR_INVALID, "metric %.*s: the same series twice",
                              (int)a->name_len, a->key);
        else if (same_name && a->kind != b->kind)
            rc = nm_error_set(err, NM_ERR_INVALID, "metric %.*s: of two kinds", (int)a->name_len,
                              a->key);
    }
    for (size_t i = 0; i < r->n_metrics; i++)
        free(all[i].key);
    free(all);
    return rc;
}

int nm_report_check(const Newsmill__StatsReport *r, nm_error *err)
{
    if (!*r->role || !*r->instance)
        return nm_error_set(err, NM_ERR_INVALID, "report without role or instance");
    if (!valid_text(r->role, 64) || !valid_text(r->instance, NM_REPORT_MAX_STRING) ||
        !valid_text(r->host, NM_REPORT_MAX_STRING) || !valid_text(r->state, 64))
        return nm_error_set(err, NM_ERR_INVALID, "report with oversized or non-UTF-8 names");
    if (r->n_metrics > NM_REPORT_MAX_METRICS || r->n_recent_dead > NM_REPORT_MAX_DEAD)
        return nm_error_set(err, NM_ERR_INVALID, "report too big: %zu metrics, %zu dead letters",
                            r->n_metrics, r->n_recent_dead);
    for (size_t i = 0; i < r->n_metrics; i++)
        if (validate_metric(r->metrics[i], err) != 0)
            return nm_error_prefix(err, "instance %.64s", r->instance);
    if (check_series(r, err) != 0)
        return nm_error_prefix(err, "instance %.64s", r->instance);
    return 0;
}

