/*
 * fuzz_aggregate: the collector's arithmetic under hostile reports.
 *
 * The input is a script of events for one nm_agg: reports from a handful of
 * instances (names, kinds, labels, values, histogram bounds and counts,
 * start times and sequence numbers chosen by the input, valid and invalid,
 * NaN and infinities included), raw frames, protobuf-c-built StatsReports of
 * any shape, clock steps, ticks and snapshots. Invariants: nothing crashes
 * or leaks; every report is either received or rejected; the fleet's
 * committed total never goes down whatever the counters do (restarts,
 * resets, silence, returns); a snapshot packs as protobuf; the JSON view
 * parses; every Prometheus sample line has a name and a numeric value.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_proto.h"
#include "nm_aggregate.h"
#include "nm_frame.h"
#include "nm_prom.h"
#include "nm_sbuf.h"
#include "nm_statsview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const instances[] = {"w1", "w2", "q1", "host:42"};
static const char *const roles[] = {"worker", "worker", "queue", "producer"};
static const char *const names[] = {
    "worker_articles_done_total", "worker_articles_failed_total", "queue_backlog_articles",
    "queue_oldest_backlog_age_seconds", "worker_extract_seconds", "queue_articles_done_total",
    "worker_in_flight_articles", "bad name", "fleet_x", "", "a:b_c9",
};
static const char *const label_keys[] = {"reason", "worker", "instance", "__x", "le"};
static const char *const label_values[] = {"empty", "invalid utf-8", "a\"b\\c\nd", "\xff\xfe", ""};

static double value_of(fz *f)
{
    uint8_t k = fz_u8(f);
    if (k == 255)
        return NAN;
    if (k == 254)
        return INFINITY;
    if (k == 253)
        return -1;
    return (double)fz_uint(f, 2) / (1 + k % 4);
}

/* One report of instance i built from the input. */
static void build_report(fz *f, Newsmill__StatsReport *r, Newsmill__Metric *ms,
                         Newsmill__Metric **mp, Newsmill__Label *ls, Newsmill__Label **lp,
                         double *bounds, uint64_t *counts, int64_t *started, uint64_t *seq)
{
    size_t i = fz_u8(f) % 4;
    newsmill__stats_report__init(r);
    r->role = (char *)roles[i];
    r->instance = (char *)instances[i];
    r->host = "fuzzhost";
    r->state = "running";
    uint8_t ev = fz_u8(f);
    if (ev % 8 == 0)
        started[i] += 1 + fz_u8(f); /* a restart */
    if (ev % 16 == 1)
        seq[i] = seq[i] > 3 ? seq[i] - 3 : 0; /* going back */
    r->started_unix_ms = started[i];
    r->seq = ++seq[i];
    size_t n = fz_u8(f) % 6;
    for (size_t m = 0; m < n; m++) {
        Newsmill__Metric *x = &ms[m];
        newsmill__metric__init(x);
        x->name = (char *)names[fz_u8(f) % (sizeof names / sizeof names[0])];
        x->kind = (Newsmill__MetricKind)(fz_u8(f) % 5);
        x->value = value_of(f);
        if (fz_u8(f) % 3 == 0) {
            Newsmill__Label *l = &ls[m];
            newsmill__label__init(l);
            l->key = (char *)label_keys[fz_u8(f) % 5];
            l->value = (char *)label_values[fz_u8(f) % 5];
            lp[m] = l;
            x->labels = &lp[m];
            x->n_labels = 1;
        }
        if (x->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM) {
            size_t nb = 1 + fz_u8(f) % 4;
            double *b = bounds + m * 8;
            uint64_t *c = counts + m * 8;
            double at = 0;
            uint64_t total = 0;
            for (size_t k = 0; k < nb; k++)
                b[k] = (at += fz_u8(f) % 3 == 0 ? 0 : 0.001 * (1 + fz_u8(f)));
            for (size_t k = 0; k <= nb; k++)
                total += (c[k] = fz_u8(f));
            x->bucket_bounds = b;
            x->n_bucket_bounds = nb;
            x->bucket_counts = c;
            x->n_bucket_counts = nb + 1 - (fz_u8(f) % 11 == 0);
            x->count = total + (fz_u8(f) % 13 == 0);
            x->sum = value_of(f);
        }
        mp[m] = x;
    }
    r->metrics = mp;
    r->n_metrics = n;
}

static void check_views(const Newsmill__StatsSnapshot *s)
{
    size_t len = newsmill__stats_snapshot__get_packed_size(s);
    uint8_t *buf = malloc(len ? len : 1);
    newsmill__stats_snapshot__pack(s, buf);
    Newsmill__StatsSnapshot *back = newsmill__stats_snapshot__unpack(NULL, len, buf);
    if (!back)
        abort();
    newsmill__stats_snapshot__free_unpacked(back, NULL);
    free(buf);

    nm_sbuf out = NM_SBUF_INIT;
    nm_statsview_json(s, &out);
    json_object *j = json_tokener_parse(nm_sbuf_str(&out));
    if (!j)
        abort(); /* the JSON view must always parse */
    json_object_put(j);
    nm_sbuf_free(&out);

    nm_prom_render(s, &out);
    if (strlen(nm_sbuf_str(&out)) != out.len)
        abort(); /* no NUL inside */
    char *text = nm_sbuf_take(&out), *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *sp = strrchr(line, ' ');
        if (!sp || sp == line || !(line[0] == '_' || (line[0] >= 'a' && line[0] <= 'z')))
            abort();
        char *end;
        strtod(sp + 1, &end);
        if (*end || end == sp + 1)
            abort();
    }
    free(text);
    nm_sbuf_free(&out);
    nm_statsview_text(s, true, &out);
    nm_sbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {data, size};
    int64_t now = 1800000000000;
    nm_agg_config cfg = {.stale_after_ms = 2000, .gone_after_ms = 5000};
    nm_agg *agg = nm_agg_new(&cfg, now, NULL);
    int64_t started[4] = {now - 10, now + 1, now + 2, now - 1000};
    uint64_t seq[4] = {0};
    uint64_t ingested = 0;
    double done_before = 0;
    for (int step = 0; step < 64 && f.n; step++) {
        uint8_t op = fz_u8(&f) % 8;
        if (op <= 3) { /* a report */
            Newsmill__StatsReport r;
            Newsmill__Metric ms[8], *mp[8];
            Newsmill__Label ls[8], *lp[8];
            double bounds[64];
            uint64_t counts[64];
            build_report(&f, &r, ms, mp, ls, lp, bounds, counts, started, seq);
            nm_agg_ingest(agg, &r, now, NULL);
            ingested++;
        } else if (op == 4) { /* raw bytes as a frame */
            size_t n = fz_len(&f, 64);
            if (n > f.n)
                n = f.n;
            nm_agg_ingest_frame(agg, f.p, n, now, NULL);
            f.p += n;
            f.n -= n;
            ingested++;
        } else if (op == 5) { /* any StatsReport protobuf-c can hold, through the wire */
            pb_pool pool = {0};
            ProtobufCMessage *m = pb_build(&newsmill__stats_report__descriptor, &f, &pool, 2);
            Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
            env.body_case = NEWSMILL__ENVELOPE__BODY_STATS;
            env.stats = (Newsmill__StatsReport *)m;
            uint8_t *buf;
            size_t len;
            nm_frame_encode(&env, &buf, &len);
            nm_agg_ingest_frame(agg, buf, len, now, NULL);
            free(buf);
            pb_pool_free(&pool);
            ingested++;
        } else if (op == 6) { /* time passes; a tick */
            now += 100 * (int64_t)(1 + fz_u8(&f));
            nm_agg_tick(agg, now);
        } else { /* someone looks */
            Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, now);
            if (s->done < done_before)
                abort(); /* the fleet's committed total never goes down */
            done_before = s->done;
            check_views(s);
            nm_agg_snapshot_free(&s);
        }
        if (nm_agg_received(agg) + nm_agg_rejected(agg) != ingested)
            abort();
    }
    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, now);
    check_views(s);
    nm_agg_snapshot_free(&s);
    nm_agg_destroy(&agg);
    return 0;
}
