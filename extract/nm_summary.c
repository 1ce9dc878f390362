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

typedef struct edge {
    uint32_t a, b;
    double w;
} edge;

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
            for (uint32_t x = 1; x < nd->n_ids; x++) { /* insertion sort: short lists */
                int32_t v = nd->ids[x];
                uint32_t y = x;
                while (y > 0 && nd->ids[y - 1] > v) {
                    nd->ids[y] = nd->ids[y - 1];
                    y--;
                }
                nd->ids[y] = v;
            }
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
    /* sparse graph: only sentence pairs that share a word */
    double *lg = nm_xmalloc(nn * sizeof *lg);
    for (size_t i = 0; i < nn; i++)
        lg[i] = log((double)nodes[i].n_words);
    /* shared words per sentence pair, from posting lists (word -> sentences) */
    uint32_t *first = nm_xmalloc((n_words + 1) * sizeof *first);
    for (size_t i = 0; i <= n_words; i++)
        first[i] = UINT32_MAX;
    size_t n_post = 0;
    for (size_t i = 0; i < nn; i++)
        n_post += nodes[i].n_ids;
    uint32_t *post_node = nm_xmalloc((n_post + 1) * sizeof *post_node);
    uint32_t *post_next = nm_xmalloc((n_post + 1) * sizeof *post_next);
    size_t p = 0;
    for (size_t i = nn; i-- > 0;) { /* prepend, so lists come out in node order */
        for (uint32_t q = 0; q < nodes[i].n_ids; q++) {
            uint32_t wid = (uint32_t)nodes[i].ids[q];
            post_node[p] = (uint32_t)i;
            post_next[p] = first[wid];
            first[wid] = (uint32_t)p++;
        }
    }
    uint16_t *ov = nm_xcalloc(nn * nn, sizeof *ov);
    for (size_t wid = 0; wid < n_words; wid++) {
        for (uint32_t x = first[wid]; x != UINT32_MAX; x = post_next[x])
            for (uint32_t y = post_next[x]; y != UINT32_MAX; y = post_next[y])
                ov[post_node[x] * nn + post_node[y]]++;
    }
    size_t ecap = 256, ne = 0;
    edge *edges = nm_xmalloc(ecap * sizeof *edges);
    double *out_sum = nm_xcalloc(nn, sizeof *out_sum);
    for (size_t i = 0; i < nn; i++) {
        for (size_t j = i + 1; j < nn; j++) {
            uint32_t o = ov[i * nn + j];
            if (!o)
                continue;
            double d = lg[i] + lg[j];
            double v = d > 0 ? o / d : 0;
            if (ne == ecap) {
                ecap *= 2;
                edges = nm_xrealloc(edges, ecap * sizeof *edges);
            }
            edges[ne++] = (edge){(uint32_t)i, (uint32_t)j, v};
            out_sum[i] += v;
            out_sum[j] += v;
        }
    }
    free(ov);
    free(post_next);
    free(post_node);
    free(first);
    double *pr = nm_xmalloc(nn * sizeof *pr), *next = nm_xmalloc(nn * sizeof *next);
    double *tele = nm_xmalloc(nn * sizeof *tele);
    double *share = nm_xmalloc(nn * sizeof *share);
    double tsum = 0;
    for (size_t i = 0; i < nn; i++) {
        tele[i] = 1.0 / (1.0 + 0.5 * (double)i);
        tsum += tele[i];
        pr[i] = 1.0 / (double)nn;
    }
    for (size_t i = 0; i < nn; i++)
        tele[i] /= tsum;
    const double d = 0.85;
    for (int it = 0; it < 30; it++) {
        double dangling = 0;
        for (size_t i = 0; i < nn; i++) {
            if (out_sum[i] == 0) {
                dangling += pr[i];
                share[i] = 0;
            } else {
                share[i] = d * pr[i] / out_sum[i];
            }
        }
        for (size_t j = 0; j < nn; j++)
            next[j] = (1 - d) * tele[j] + d * dangling * tele[j];
        for (size_t e = 0; e < ne; e++) {
            next[edges[e].b] += share[edges[e].a] * edges[e].w;
            next[edges[e].a] += share[edges[e].b] * edges[e].w;
        }
        double delta = 0;
        for (size_t i = 0; i < nn; i++)
            delta += fabs(next[i] - pr[i]);
        double *tmp = pr;
        pr = next;
        next = tmp;
        if (delta < 1e-4) /* the ranking, not the exact scores, is what matters */
            break;
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
    free(share);
    free(tele);
    free(next);
    free(pr);
    free(out_sum);
    free(edges);
    free(lg);
    free(nodes);
}
