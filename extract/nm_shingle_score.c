/* nm_shingle_score: the benchmark's shingle scoring (see the header). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_shingle_score.h"
#include "nm_utf8.h"

typedef struct tok {
    size_t start, len;
    uint64_t hash;
} tok;

typedef struct tokvec {
    tok *v;
    size_t n, cap;
} tokvec;

static bool is_word_cp(uint32_t cp)
{
    if (cp == '_')
        return true;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}


static void push_tok(tokvec *out, const char *text, size_t start, size_t end)
{
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 256;
        out->v = nm_xrealloc(out->v, out->cap * sizeof *out->v);
    }
    out->v[out->n].start = start;
    out->v[out->n].len = end - start;
    out->v[out->n].hash = nm_hash_fnv1a(text + start, end - start, NM_HASH_FNV_BASIS);
    out->n++;
}

/* Invalid bytes decode to U+FFFD, which is not a word character. */
static void tokenize(const char *text, size_t len, tokvec *out)
{
    size_t pos = 0, start = 0;
    bool in = false;
    while (pos < len) {
        size_t at = pos;
        bool w = is_word_cp(nm_utf8_next(text, len, &pos));
        if (w && !in) {
            start = at;
            in = true;
        } else if (!w && in) {
            push_tok(out, text, start, at);
            in = false;
        }
    }
    if (in)
        push_tok(out, text, start, len);
}

size_t nm_shingle_count_tokens(const char *text, size_t len)
{
    tokvec v = {0};
    tokenize(text, len, &v);
    free(v.v);
    return v.n;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* Shingle hashes, sorted. */
static uint64_t *shingles(const tokvec *t, size_t *n)
{
    if (t->n == 0) {
        *n = 0;
        return NULL;
    }
    size_t k = t->n < 4 ? t->n : 4;
    *n = t->n - k + 1;
    uint64_t *s = nm_xmalloc(*n * sizeof *s);
    for (size_t i = 0; i < *n; i++) {
        uint64_t h = 0x12345678abcdefULL ^ k;
        for (size_t j = 0; j < k; j++)
            h = mix(h, t->v[i + j].hash);
        s[i] = h;
    }
    return s;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool same_tokens(const char *a, const tokvec *ta, const char *b, const tokvec *tb)
{
    if (ta->n != tb->n)
        return false;
    for (size_t i = 0; i < ta->n; i++)
        if (ta->v[i].len != tb->v[i].len || memcmp(a + ta->v[i].start, b + tb->v[i].start, ta->v[i].len) != 0)
            return false;
    return true;
}

void nm_shingle_score_page(const char *truth, size_t truth_len, const char *pred, size_t pred_len,
                           nm_score_page *out)
{
    memset(out, 0, sizeof *out);
    tokvec tt = {0}, tp = {0};
    tokenize(truth ? truth : "", truth ? truth_len : 0, &tt);
    tokenize(pred ? pred : "", pred ? pred_len : 0, &tp);
    out->exact = same_tokens(truth, &tt, pred, &tp);
    size_t nt, np;
    uint64_t *st = shingles(&tt, &nt), *sp = shingles(&tp, &np);
    if (nt)
        qsort(st, nt, sizeof *st, cmp_u64);
    if (np)
        qsort(sp, np, sizeof *sp, cmp_u64);
    double tpc = 0, fpc = 0, fnc = 0;
    size_t i = 0, j = 0;
    while (i < nt || j < np) {
        uint64_t v = (j >= np || (i < nt && st[i] < sp[j])) ? st[i] : sp[j];
        size_t ct = 0, cp = 0;
        while (i < nt && st[i] == v)
            ct++, i++;
        while (j < np && sp[j] == v)
            cp++, j++;
        size_t m = ct < cp ? ct : cp;
        tpc += (double)m;
        fpc += (double)(cp - m);
        fnc += (double)(ct - m);
    }
    free(st);
    free(sp);
    free(tt.v);
    free(tp.v);
    double total = tpc + fpc + fnc;
    if (total > 0) {
        tpc /= total;
        fpc /= total;
        fnc /= total;
    }
    out->tp = tpc;
    out->fp = fpc;
    out->fn = fnc;
    if (fpc == 0 && fnc == 0) {
        out->precision = out->recall = 1.0;
    } else {
        out->precision = tpc + fpc > 0 ? tpc / (tpc + fpc) : 0.0;
        out->recall = tpc + fnc > 0 ? tpc / (tpc + fnc) : 0.0;
    }
    out->has_precision = tpc + fpc > 0;
    out->has_recall = tpc + fnc > 0;
    double pr = out->precision + out->recall;
    out->f1 = pr > 0 ? 2 * out->precision * out->recall / pr : 0.0;
}

void nm_shingle_score_add(nm_score_total *total, const nm_score_page *page)
{
    total->pages++;
    if (page->exact)
        total->exact++;
    if (page->has_precision) {
        total->sum_precision += page->precision;
        total->n_precision++;
    }
    if (page->has_recall) {
        total->sum_recall += page->recall;
        total->n_recall++;
    }
}

void nm_shingle_score_result(const nm_score_total *total, double *precision, double *recall,
                             double *f1, double *accuracy)
{
    double p = total->n_precision ? total->sum_precision / (double)total->n_precision : 0.0;
    double r = total->n_recall ? total->sum_recall / (double)total->n_recall : 0.0;
    if (precision)
        *precision = p;
    if (recall)
        *recall = r;
    if (f1)
        *f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    if (accuracy)
        *accuracy = total->pages ? (double)total->exact / (double)total->pages : 0.0;
}
