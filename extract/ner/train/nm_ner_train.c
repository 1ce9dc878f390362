/* nm_ner_train: averaged structured perceptron for nm_ner. See the header. */
#include "nm_ner_train.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_ner_features.h"
#include "nm_time.h"

#define L NM_NER_LABELS

/* ---- gazetteer file ---- */

static int gaz_class(const char *name, size_t len, uint8_t *whole, uint8_t *part)
{
    static const struct {
        const char *name;
        uint8_t whole, part;
    } classes[] = {
        {"nat", NM_NER_GAZ_NAT, NM_NER_GAZ_PART_NAT},
        {"loc", NM_NER_GAZ_LOC, NM_NER_GAZ_PART_LOC},
        {"org", NM_NER_GAZ_ORG, NM_NER_GAZ_PART_ORG},
        {"per", NM_NER_GAZ_PER, NM_NER_GAZ_PART_PER},
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strlen(classes[i].name) == len && memcmp(classes[i].name, name, len) == 0) {
            *whole = classes[i].whole;
            *part = classes[i].part;
            return 0;
        }
    return -1;
}

static int load_gazetteer(const char *path, nm_ner_gaz *g, nm_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return nm_error_set(err, NM_ERR_IO, "gazetteer %s: %s", path, strerror(errno));
    nm_ner_gaz_init(g, 1 << 16);
    char line[1024];
    size_t line_no = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        char *cls = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (p == cls)
            continue;
        uint8_t whole, part;
        if (gaz_class(cls, (size_t)(p - cls), &whole, &part) != 0) {
            rc = nm_error_set(err, NM_ERR_MALFORMED,
                              "gazetteer %s line %zu: class must be nat, loc, org or per", path,
                              line_no);
            break;
        }
        const char *words[16];
        size_t lens[16], nw = 0;
        while (*p && nw < 16) {
            while (*p && isspace((unsigned char)*p))
                p++;
            if (!*p)
                break;
            words[nw] = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            lens[nw] = (size_t)(p - words[nw]);
            nw++;
        }
        if (g->n * 2 + 16 > g->mask) {
            rc = nm_error_set(err, NM_ERR_TOO_LARGE, "gazetteer %s: more than %zu words", path,
                              g->mask / 2);
            break;
        }
        for (size_t i = 0; i < nw; i++) {
            nm_ner_tokinfo ti;
            nm_ner_token_info(words[i], lens[i], &ti);
            nm_ner_gaz_add(g, ti.lower, nw == 1 ? whole : part);
        }
    }
    fclose(f);
    if (rc != 0)
        nm_ner_gaz_free(g);
    return rc;
}

/* ---- prepared corpus: feature rows of every token ---- */

typedef struct prepared {
    const nm_conll_corpus *c;
    uint32_t *rows; /* n_tokens x NM_NER_NF */
} prepared;

static void prepare(prepared *pc, const nm_conll_corpus *c, const nm_ner_gaz *gaz,
                    unsigned features, unsigned bits)
{
    pc->c = c;
    pc->rows = nm_xmalloc(c->n_tokens * NM_NER_NF * sizeof *pc->rows);
    nm_ner_tokinfo *ti = nm_xmalloc(c->n_tokens * sizeof *ti);
    nm_ner_doc *doc = nm_xmalloc(sizeof *doc);
    for (size_t d = 0; d < c->n_docs; d++) {
        size_t s0 = c->doc_start[d], s1 = c->doc_start[d + 1];
        nm_ner_doc_reset(doc);
        for (size_t s = s0; s < s1; s++)
            nm_ner_doc_add(doc, c->tokens + c->sent_start[s],
                           c->sent_start[s + 1] - c->sent_start[s]);
        for (size_t s = s0; s < s1; s++) {
            size_t a = c->sent_start[s], b = c->sent_start[s + 1];
            nm_ner_sentence_info(c->tokens + a, b - a, gaz, doc, ti + a);
            nm_ner_sentence_rows(ti + a, b - a, features, bits, pc->rows + a * NM_NER_NF);
        }
    }
    free(doc);
    free(ti);
}

/* ---- perceptron ---- */

typedef struct perceptron {
    unsigned bits;
    float *w;     /* current weights, 2^bits x L */
    double *u;    /* sum of step * update, for averaging */
    float trans[L][L], start[L];
    double utrans[L][L], ustart[L];
    double step;  /* updates so far + 1 */
} perceptron;

static int allowed(int prev, int cur)
{
    if (cur == 0 || (cur & 1))
        return 1;
    return prev == cur || prev == cur - 1;
}

/* Viterbi with the current weights over one prepared sentence. */
static void decode(const perceptron *pe, const uint32_t *rows, size_t n, float *score,
                   uint8_t *back, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        float e[L] = {0};
        const uint32_t *r = rows + i * NM_NER_NF;
        for (size_t k = 0; k < NM_NER_NF; k++) {
            const float *w = pe->w + (size_t)r[k] * L;
            for (int l = 0; l < L; l++)
                e[l] += w[l];
        }
        float *s = score + i * L;
        if (i == 0) {
            for (int l = 0; l < L; l++)
                s[l] = allowed(0, l) ? pe->start[l] + e[l] : -INFINITY;
            continue;
        }
        const float *prev = s - L;
        for (int c = 0; c < L; c++) {
            float best = -INFINITY;
            int arg = 0;
            for (int q = 0; q < L; q++) {
                if (!allowed(q, c))
                    continue;
                float v = prev[q] + pe->trans[q][c];
                if (v > best) {
                    best = v;
                    arg = q;
                }
            }
            s[c] = best + e[c];
            back[i * L + c] = (uint8_t)arg;
        }
    }
    const float *last = score + (n - 1) * L;
    int arg = 0;
    for (int l = 1; l < L; l++)
        if (last[l] > last[arg])
            arg = l;
    for (size_t i = n; i-- > 0;) {
        out[i] = (uint8_t)arg;
        arg = back[i * L + arg];
    }
}

static void update_row(perceptron *pe, uint32_t row, int label, float delta)
{
    size_t at = (size_t)row * L + (size_t)label;
    pe->w[at] += delta;
    pe->u[at] += pe->step * delta;
}

static void learn(perceptron *pe, const uint32_t *rows, const uint8_t *gold, const uint8_t *pred,
                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (gold[i] != pred[i]) {
            const uint32_t *r = rows + i * NM_NER_NF;
            for (size_t k = 0; k < NM_NER_NF; k++) {
                update_row(pe, r[k], gold[i], 1.0f);
                update_row(pe, r[k], pred[i], -1.0f);
            }
        }
        if (i == 0) {
            if (gold[0] != pred[0]) {
                pe->start[gold[0]] += 1;
                pe->ustart[gold[0]] += pe->step;
                pe->start[pred[0]] -= 1;
                pe->ustart[pred[0]] -= pe->step;
            }
        } else if (gold[i] != pred[i] || gold[i - 1] != pred[i - 1]) {
            pe->trans[gold[i - 1]][gold[i]] += 1;
            pe->utrans[gold[i - 1]][gold[i]] += pe->step;
            pe->trans[pred[i - 1]][pred[i]] -= 1;
            pe->utrans[pred[i - 1]][pred[i]] -= pe->step;
        }
    }
}

/* The averaged weights as a model. */
static nm_ner_model *averaged(const perceptron *pe, unsigned features, const nm_ner_gaz *gaz,
                              const char *info)
{
    size_t n = ((size_t)1 << pe->bits) * L;
    float *avg = nm_xmalloc(n * sizeof *avg);
    for (size_t i = 0; i < n; i++)
        avg[i] = (float)(pe->w[i] - pe->u[i] / pe->step);
    float start[L], trans[L * L];
    for (int c = 0; c < L; c++) {
        start[c] = (float)(pe->start[c] - pe->ustart[c] / pe->step);
        for (int p = 0; p < L; p++)
            trans[p * L + c] = (float)(pe->trans[p][c] - pe->utrans[p][c] / pe->step);
    }
    nm_ner_model *m = nm_ner_model_build(pe->bits, features, avg, start, trans, gaz, info);
    free(avg);
    return m;
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void nm_ner_evaluate(const nm_ner_model *m, const nm_conll_corpus *c, nm_conll_score *score,
                     uint8_t *pred)
{
    size_t max_doc = 0, max_sent = 0, max_len = 0;
    for (size_t d = 0; d < c->n_docs; d++) {
        size_t s0 = c->doc_start[d], s1 = c->doc_start[d + 1];
        if (s1 - s0 > max_sent)
            max_sent = s1 - s0;
        if (c->sent_start[s1] - c->sent_start[s0] > max_doc)
            max_doc = c->sent_start[s1] - c->sent_start[s0];
    }
    for (size_t s = 0; s < c->n_sentences; s++)
        if (c->sent_start[s + 1] - c->sent_start[s] > max_len)
            max_len = c->sent_start[s + 1] - c->sent_start[s];
    size_t scratch_size = nm_ner_document_scratch_size(max_doc, max_len);
    if (nm_ner_consistent_scratch_size(max_doc) > scratch_size)
        scratch_size = nm_ner_consistent_scratch_size(max_doc);
    uint64_t *scratch = nm_xmalloc(scratch_size);
    uint8_t *labels = nm_xmalloc(max_doc + 1);
    uint32_t *ends = nm_xmalloc((max_sent + 1) * sizeof *ends);
    for (size_t d = 0; d < c->n_docs; d++) {
        size_t s0 = c->doc_start[d], s1 = c->doc_start[d + 1];
        size_t a = c->sent_start[s0], n = c->sent_start[s1] - a;
        for (size_t s = s0; s < s1; s++)
            ends[s - s0] = (uint32_t)(c->sent_start[s + 1] - a);
        nm_ner_tag_document(m, c->tokens + a, n, ends, s1 - s0, labels, scratch, scratch_size);
        nm_ner_consistent(c->tokens + a, n, ends, s1 - s0, labels, scratch);
        for (size_t s = s0; score && s < s1; s++)
            nm_conll_score_add(score, c->labels + c->sent_start[s],
                               labels + (c->sent_start[s] - a),
                               c->sent_start[s + 1] - c->sent_start[s]);
        if (pred)
            memcpy(pred + a, labels, n);
    }
    free(ends);
    free(labels);
    free(scratch);
}

int nm_ner_train(const nm_ner_train_config *cfg, nm_error *err)
{
    nm_conll_corpus *train = NULL, *dev = NULL;
    nm_ner_gaz gaz = {0};
    if (nm_conll_load(cfg->train_path, &train, err) != 0)
        return -1;
    if (cfg->dev_path && nm_conll_load(cfg->dev_path, &dev, err) != 0) {
        nm_conll_free(&train);
        return -1;
    }
    if (cfg->gazetteer_path && load_gazetteer(cfg->gazetteer_path, &gaz, err) != 0) {
        nm_conll_free(&train);
        nm_conll_free(&dev);
        return -1;
    }
    int64_t t0 = nm_time_mono_ns();
    prepared pc;
    prepare(&pc, train, &gaz, cfg->features, cfg->bits);
    if (cfg->progress)
        fprintf(cfg->progress,
                "train: %zu tokens, %zu sentences, %zu documents; gazetteer %zu words; "
                "features %#x; table 2^%u rows (%.1f MB as int8)\n",
                train->n_tokens, train->n_sentences, train->n_docs, gaz.n, cfg->features,
                cfg->bits, (double)((size_t)1 << cfg->bits) * L / 1e6);

    perceptron pe = {.bits = cfg->bits, .step = 1};
    size_t n_w = ((size_t)1 << cfg->bits) * L;
    pe.w = nm_xcalloc(n_w, sizeof *pe.w);
    pe.u = nm_xcalloc(n_w, sizeof *pe.u);
    size_t max_len = 0;
    for (size_t s = 0; s < train->n_sentences; s++)
        if (train->sent_start[s + 1] - train->sent_start[s] > max_len)
            max_len = train->sent_start[s + 1] - train->sent_start[s];
    float *score = nm_xmalloc(max_len * L * sizeof *score);
    uint8_t *back = nm_xmalloc(max_len * L);
    uint8_t *out = nm_xmalloc(max_len);
    size_t *order = nm_xmalloc(train->n_sentences * sizeof *order);
    for (size_t s = 0; s < train->n_sentences; s++)
        order[s] = s;
    uint64_t rng = cfg->seed;
    char info[512];
    snprintf(info, sizeof info,
             "newsmill NER model; lang=%s; corpus=%s; trained on %s (%zu tokens); epochs=%u "
             "seed=%llu bits=%u features=%#x",
             cfg->lang ? cfg->lang : "en", nm_conll_format_name(train->format),
             cfg->train_path, train->n_tokens, cfg->epochs, (unsigned long long)cfg->seed,
             cfg->bits, cfg->features);
    nm_ner_model *model = NULL;
    for (unsigned epoch = 1; epoch <= cfg->epochs; epoch++) {
        for (size_t s = train->n_sentences; s > 1; s--) {
            size_t j = (size_t)(splitmix(&rng) % s);
            size_t t = order[s - 1];
            order[s - 1] = order[j];
            order[j] = t;
        }
        size_t right = 0;
        for (size_t k = 0; k < train->n_sentences; k++) {
            size_t s = order[k];
            size_t a = train->sent_start[s], n = train->sent_start[s + 1] - a;
            const uint32_t *rows = pc.rows + a * NM_NER_NF;
            decode(&pe, rows, n, score, back, out);
            for (size_t i = 0; i < n; i++)
                right += out[i] == train->labels[a + i];
            learn(&pe, rows, train->labels + a, out, n);
            pe.step += 1;
        }
        nm_ner_model_free(&model);
        model = averaged(&pe, cfg->features, &gaz, info);
        if (cfg->progress) {
            fprintf(cfg->progress, "epoch %u: train token accuracy %.4f", epoch,
                    (double)right / (double)train->n_tokens);
            if (dev) {
                nm_conll_score sc = {0};
                nm_ner_evaluate(model, dev, &sc, NULL);
                double p, r, f;
                nm_conll_score_prf(&sc, NM_NER_TYPES, &p, &r, &f);
                fprintf(cfg->progress, "  dev f1 %.4f (p %.4f r %.4f)", f, p, r);
            }
            fprintf(cfg->progress, "  %.1fs\n", (double)(nm_time_mono_ns() - t0) / 1e9);
            fflush(cfg->progress);
        }
    }
    if (!model)
        model = averaged(&pe, cfg->features, &gaz, info);
    int rc = nm_ner_model_save(model, cfg->out_path, err);
    nm_ner_model_free(&model);
    free(order);
    free(out);
    free(back);
    free(score);
    free(pe.w);
    free(pe.u);
    free(pc.rows);
    nm_ner_gaz_free(&gaz);
    nm_conll_free(&train);
    nm_conll_free(&dev);
    return rc;
}
