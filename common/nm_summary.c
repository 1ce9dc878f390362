#include "nm_summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"

#define MAX_NODES 80
#define MAX_WORDS_PER_NODE 64

typedef struct node {
    uint32_t sentence;
    uint32_t n_words;      /* words of the sentence */
    uint32_t n_ids;
    int32_t ids[MAX_WORDS_PER_NODE]; /* sorted unique content word ids */
} node;

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t overlap(const node *a, const node *b)
{
    uint32_t i = 0, j = 0, n = 0;
    while (i < a->n_ids && j < b->n_ids) {
        if (a->ids[i] == b->ids[j]) {
            n++;
            i++;
            j++;
        } else if (a->ids[i] < b->ids[j]) {
            i++;
        } else {
            j++;
        }
    }
    return n;
}

typedef struct ranked {
    uint32_t node;
    double score;
} ranked;

static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->node < b->node ? -1 : a->node > b->node;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void nm_summary_build(nm_extract_result *r, const nm_text_input *in, const int32_t *word_of_token,
                      size_t n_words, size_t k, size_t budget_words)
{
    (void)n_words;
    node *nodes = nm_xmalloc(MAX_NODES * sizeof *nodes);
    size_t nn = 0;
    size_t a = 0;
    for (size_t s = 0; s < in->n_sentences && nn < MAX_NODES; s++) {
        size_t b = in->sent_ends[s];
        if ((!in->sent_prose || in->sent_prose[s]) && r->sentences[s].n_words >= 5) {
            node *nd = &nodes[nn];
            nd->sentence = (uint32_t)s;
            nd->n_words = r->sentences[s].n_words;
            nd->n_ids = 0;
            for (size_t i = a; i < b && nd->n_ids < MAX_WORDS_PER_NODE; i++) {
                if (word_of_token[i] >= 0)
                    nd->ids[nd->n_ids++] = word_of_token[i];
            }
            qsort(nd->ids, nd->n_ids, sizeof nd->ids[0], cmp_i32);
            uint32_t u = 0;
            for (uint32_t i = 0; i < nd->n_ids; i++) {
                if (u == 0 || nd->ids[u - 1] != nd->ids[i])
                    nd->ids[u++] = nd->ids[i];
            }
            nd->n_ids = u;
            nn++;
        }
        a = b;
    }
    if (nn == 0) {
        /* nothing qualifies: the first sentence is the summary */
        if (r->n_sentences && k) {
            r->summary = nm_arena_alloc(r->arena, sizeof *r->summary);
            r->summary[0] = 0;
            r->n_summary = 1;
        }
        free(nodes);
        return;
    }
    double *w = nm_xcalloc(nn * nn, sizeof *w);
    double *out_sum = nm_xcalloc(nn, sizeof *out_sum);
    for (size_t i = 0; i < nn; i++) {
        for (size_t j = i + 1; j < nn; j++) {
            uint32_t ov = overlap(&nodes[i], &nodes[j]);
            if (!ov)
                continue;
            double d = log((double)nodes[i].n_words) + log((double)nodes[j].n_words);
            double v = d > 0 ? ov / d : 0;
            w[i * nn + j] = w[j * nn + i] = v;
            out_sum[i] += v;
            out_sum[j] += v;
        }
    }
    double *pr = nm_xmalloc(nn * sizeof *pr), *next = nm_xmalloc(nn * sizeof *next);
    double *tele = nm_xmalloc(nn * sizeof *tele);
    double tsum = 0;
    for (size_t i = 0; i < nn; i++) {
        tele[i] = 1.0 / (1.0 + 0.5 * i);
        tsum += tele[i];
        pr[i] = 1.0 / (double)nn;
    }
    for (size_t i = 0; i < nn; i++)
        tele[i] /= tsum;
    const double d = 0.85;
    for (int it = 0; it < 30; it++) {
        double dangling = 0;
        for (size_t i = 0; i < nn; i++)
            if (out_sum[i] == 0)
                dangling += pr[i];
        for (size_t j = 0; j < nn; j++)
            next[j] = (1 - d) * tele[j] + d * dangling * tele[j];
        for (size_t i = 0; i < nn; i++) {
            if (out_sum[i] == 0)
                continue;
            double share = d * pr[i] / out_sum[i];
            const double *row = &w[i * nn];
            for (size_t j = 0; j < nn; j++)
                next[j] += share * row[j];
        }
        double *tmp = pr;
        pr = next;
        next = tmp;
    }
    ranked *rk = nm_xmalloc(nn * sizeof *rk);
    for (size_t i = 0; i < nn; i++) {
        rk[i].node = (uint32_t)i;
        rk[i].score = pr[i];
    }
    qsort(rk, nn, sizeof *rk, cmp_ranked);
    r->summary = nm_arena_alloc(r->arena, (k ? k : 1) * sizeof *r->summary);
    size_t used = 0, words = 0;
    for (size_t i = 0; i < nn && used < k; i++) {
        const node *nd = &nodes[rk[i].node];
        if (used > 0 && words + nd->n_words > budget_words)
            continue;
        r->summary[used++] = nd->sentence;
        words += nd->n_words;
    }
    qsort(r->summary, used, sizeof *r->summary, cmp_u32);
    r->n_summary = used;
    free(rk);
    free(tele);
    free(next);
    free(pr);
    free(out_sum);
    free(w);
    free(nodes);
}
