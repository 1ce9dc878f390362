#include "nm_keyphrase.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_keytable.h"

#define MAX_NGRAM 3

typedef struct word {
    uint64_t stem;
    uint32_t tf, tf_case, tf_lower, sentences, last_sentence;
    double pos_sum;
    uint64_t left_bits, right_bits;
    uint32_t left_n, right_n;
    double s; /* YAKE S(w) */
} word;

typedef struct cand {
    uint64_t key;
    uint32_t words[MAX_NGRAM];
    uint32_t n_words;
    uint32_t count;
    uint32_t first_tok; /* an occurrence, preferably not at a sentence start */
    int first_initial;
    double score;
} cand;

/* log(x) for x > 0 to about 1e-6, without libm's call (scores only). */
static inline double fast_log(double x)
{
    union {
        double d;
        uint64_t u;
    } v = {x};
    int e = (int)((v.u >> 52) & 0x7ff) - 1023;
    v.u = (v.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL; /* mantissa in [1, 2) */
    double t = (v.d - 1) / (v.d + 1), t2 = t * t;
    double lm = 2 * t * (1 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 / 9))));
    return e * 0.6931471805599453 + lm;
}

static int better(const cand *a, const cand *b)
{
    if (a->score != b->score)
        return a->score < b->score;
    return a->first_tok < b->first_tok;
}

/* Moves the k best candidates to v[0..k) (unordered), quickselect. */
static void select_best(cand **v, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        cand *pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi - 1;
        while (i <= j) {
            while (better(v[i], pivot))
                i++;
            while (better(pivot, v[j]))
                j--;
            if (i <= j) {
                cand *t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j + 1;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

static int cmp_cand(const void *pa, const void *pb)
{
    const cand *a = *(const cand *const *)pa, *b = *(const cand *const *)pb;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return a->first_tok < b->first_tok ? -1 : a->first_tok > b->first_tok;
}

static int is_content(const nm_text_input *in, size_t i)
{
    const nm_token *t = &in->tokens[i];
    if (t->kind != NM_TOK_WORD || (t->flags & NM_TF_CLITIC) || t->nchars < 2)
        return 0;
    uint32_t mask = in->stopmask ? in->stopmask[i] : nm_lang_stopmask(in->langs, t->lhash);
    int lang = in->lang < 0 ? 0 : in->lang;
    if (mask & (1u << lang))
        return 0;
    if (lang > 0 && (mask & 1u) && (t->flags & NM_TF_LATIN))
        return 0; /* English function words in a Latin-script text of another language */
    return 1;
}

void nm_keyphrases_extract(nm_extract_result *r, const nm_text_input *in, size_t max,
                           int32_t *word_of_token, size_t *n_words_out)
{
    const nm_token *toks = in->tokens;
    const char *text = r->text;
    size_t n = in->n;
    nm_keytable wt, lt; /* stem -> word; surface (lower-case) -> word */
    nm_keytable_init(&wt, n / 2 + 16);
    nm_keytable_init(&lt, n / 2 + 16);
    word *words = nm_xmalloc((n + 1) * sizeof *words);
    size_t nw = 0;
    /* 1. content words and their statistics */
    size_t a = 0;
    for (size_t s = 0; s < in->n_sentences; s++) {
        size_t b = in->sent_ends[s];
        size_t first_word = a;
        while (first_word < b && toks[first_word].kind > NM_TOK_NUMBER)
            first_word++;
        for (size_t i = a; i < b; i++) {
            word_of_token[i] = -1;
            const nm_token *t = &toks[i];
            if (i + 4 < n && toks[i + 4].kind == NM_TOK_WORD)
                nm_stem_prefetch(in->stem, in->lang, &toks[i + 4]);
            if (!is_content(in, i))
                continue;
            int ins;
            uint32_t *lv = nm_keytable_slot(&lt, t->lhash, &ins); /* surface word seen in this article? */
            uint32_t *v;
            uint64_t sh = 0;
            if (!ins) {
                v = lv;
            } else {
                sh = nm_stem_hash(in->stem, in->lang, text, t);
                v = nm_keytable_slot(&wt, sh, &ins);
            }
            if (ins) {
                memset(&words[nw], 0, sizeof words[nw]);
                words[nw].stem = sh;
                words[nw].last_sentence = UINT32_MAX;
                *v = (uint32_t)nw++;
            }
            *lv = *v;
            word *w = &words[*v];
            word_of_token[i] = (int32_t)*v;
            w->tf++;
            if ((t->flags & NM_TF_UPPER) && (i != first_word || (t->flags & NM_TF_ALLCAPS)))
                w->tf_case++;
            w->tf_lower += (t->flags & NM_TF_LOWER) != 0;
            if (w->last_sentence != s) {
                w->sentences++;
                w->last_sentence = (uint32_t)s;
            }
            w->pos_sum += (double)s;
            if (i > a && toks[i - 1].kind == NM_TOK_WORD) {
                w->left_bits |= 1ULL << (toks[i - 1].lhash & 63);
                w->left_n++;
            }
            if (i + 1 < b && toks[i + 1].kind == NM_TOK_WORD) {
                w->right_bits |= 1ULL << (toks[i + 1].lhash & 63);
                w->right_n++;
            }
        }
        a = b;
    }
    *n_words_out = nw;
    nm_keytable_free(&lt);
    if (nw == 0 || max == 0) {
        nm_keytable_free(&wt);
        free(words);
        return;
    }
    /* 2. YAKE word scores */
    double mean = 0, var = 0, max_tf = 0;
    for (size_t i = 0; i < nw; i++) {
        mean += words[i].tf;
        if (words[i].tf > max_tf)
            max_tf = words[i].tf;
    }
    mean /= (double)nw;
    for (size_t i = 0; i < nw; i++)
        var += (words[i].tf - mean) * (words[i].tf - mean);
    double sd = sqrt(var / (double)nw);
    double n_sent = in->n_sentences ? (double)in->n_sentences : 1.0;
    for (size_t i = 0; i < nw; i++) {
        word *w = &words[i];
        double tf = w->tf;
        double wcase = w->tf_case / (1.0 + fast_log(tf));
        double wpos = fast_log(fast_log(3.0 + w->pos_sum / tf));
        double wfreq = tf / (mean + sd);
        double dl = w->left_n ? __builtin_popcountll(w->left_bits) / (double)(w->left_n < 64 ? w->left_n : 64) : 0;
        double dr = w->right_n ? __builtin_popcountll(w->right_bits) / (double)(w->right_n < 64 ? w->right_n : 64) : 0;
        double wrel = 1.0 + (dl + dr) * tf / max_tf;
        double wspread = w->sentences / n_sent;
        w->s = (wrel * wpos) / (wcase + wfreq / wrel + wspread / wrel);
    }
    /* 3. candidates: 1-3 consecutive content words */
    nm_keytable ct;
    nm_keytable_init(&ct, nw * 3 + 16);
    size_t cap = 256, nc = 0;
    cand *cands = nm_xmalloc(cap * sizeof *cands);
    a = 0;
    for (size_t s = 0; s < in->n_sentences; s++) {
        size_t b = in->sent_ends[s];
        size_t first_word = a;
        while (first_word < b && toks[first_word].kind > NM_TOK_NUMBER)
            first_word++;
        for (size_t i = a; i < b; i++) {
            if (word_of_token[i] < 0)
                continue;
            uint64_t key = 0;
            for (size_t len = 1; len <= MAX_NGRAM && i + len <= b; len++) {
                size_t j = i + len - 1;
                if (word_of_token[j] < 0 || (len > 1 && !(toks[j - 1].flags & NM_TF_SPACE_AFTER)))
                    break;
                if (in->labels && len > 1 && (in->labels[j] != 0) != (in->labels[j - 1] != 0))
                    break; /* a name and other words */
                if (in->labels && len > 1 && in->labels[j] && (in->labels[j] & 1))
                    break; /* two names */
                key = nm_hash_combine(key, words[word_of_token[j]].stem);
                int ins;
                uint32_t *v = nm_keytable_slot(&ct, key, &ins);
                if (ins) {
                    if (nc == cap) {
                        cap *= 2;
                        cands = nm_xrealloc(cands, cap * sizeof *cands);
                    }
                    cand *c = &cands[nc];
                    memset(c, 0, sizeof *c);
                    c->key = key;
                    c->n_words = (uint32_t)len;
                    for (size_t q = 0; q < len; q++)
                        c->words[q] = (uint32_t)word_of_token[i + q];
                    c->first_tok = (uint32_t)i;
                    c->first_initial = i == first_word;
                    *v = (uint32_t)nc++;
                }
                cand *c = &cands[*v];
                c->count++;
                if (c->first_initial && i != first_word) {
                    c->first_tok = (uint32_t)i;
                    c->first_initial = 0;
                }
            }
        }
        a = b;
    }
    cand **ord = nm_xmalloc((nc + 1) * sizeof *ord);
    size_t no = 0;
    for (size_t i = 0; i < nc; i++) {
        cand *c = &cands[i];
        if (in->labels && ((in->labels[c->first_tok] != 0 && !(in->labels[c->first_tok] & 1)) ||
                           (c->first_tok + c->n_words < n && in->labels[c->first_tok + c->n_words] != 0 &&
                            !(in->labels[c->first_tok + c->n_words] & 1))))
            continue; /* part of a longer name */
        double prod = 1, sum = 0;
        for (uint32_t q = 0; q < c->n_words; q++) {
            prod *= words[c->words[q]].s;
            sum += words[c->words[q]].s;
        }
        c->score = prod / ((double)c->count * (1.0 + sum));
        /* a single word seen once is rarely a key phrase */
        if (c->n_words == 1 && c->count == 1 && nc > 20)
            continue;
        ord[no++] = c;
    }
    /* only the best few need sorting: dedup rarely drops more than a few */
    size_t sorted = no;
    if (no > max * 4 + 8) {
        sorted = max * 4 + 8;
        select_best(ord, no, sorted);
    }
    qsort(ord, sorted, sizeof *ord, cmp_cand);
    /* 4. best first, dropping candidates whose words a better one already has */
    size_t out_n = 0;
    r->keyphrases = nm_arena_calloc(r->arena, max, sizeof *r->keyphrases);
    cand **chosen = nm_xmalloc((max + 1) * sizeof *chosen);
    for (size_t i = 0; i < no && out_n < max; i++) {
        if (i == sorted) { /* dedup used up the sorted part: sort the rest too */
            qsort(ord + sorted, no - sorted, sizeof *ord, cmp_cand);
            sorted = no;
        }
        cand *c = ord[i];
        int dup = 0;
        for (size_t q = 0; q < out_n && !dup; q++) {
            const cand *o = chosen[q];
            uint32_t inside = 0;
            for (uint32_t x = 0; x < c->n_words; x++)
                for (uint32_t y = 0; y < o->n_words; y++)
                    inside += c->words[x] == o->words[y];
            uint32_t shorter = c->n_words < o->n_words ? c->n_words : o->n_words;
            dup = inside > 0 && inside * 2 >= shorter;
        }
        if (dup)
            continue;
        chosen[out_n] = c;
        nm_keyphrase *k = &r->keyphrases[out_n++];
        char surf[256], stem[256];
        size_t so = 0, st = 0;
        for (uint32_t q = 0; q < c->n_words; q++) {
            const nm_token *t = &toks[c->first_tok + q];
            const word *w = &words[c->words[q]];
            if (q) {
                surf[so++] = ' ';
                stem[st++] = ' ';
            }
            /* as written, unless a sentence start capitalised an ordinary word */
            if (!(c->first_initial && q == 0) || w->tf_case * 2 > w->tf || (w->tf_case && !w->tf_lower) ||
                (in->labels && in->labels[c->first_tok + q])) {
                size_t len = t->end - t->start;
                if (len > 80)
                    len = 80;
                memcpy(surf + so, text + t->start, len);
                so += len;
            } else {
                so += nm_token_lower(text, t, surf + so, 81);
            }
            st += nm_stem_text(in->stem, in->lang, text, t, stem + st, 81);
        }
        k->text = nm_arena_strndup(r->arena, surf, so);
        k->stem = nm_arena_strndup(r->arena, stem, st);
        k->count = c->count;
        k->score = c->score;
    }
    double best = out_n ? r->keyphrases[0].score : 0;
    for (size_t i = 0; i < out_n; i++)
        r->keyphrases[i].score = r->keyphrases[i].score > 0 ? best / r->keyphrases[i].score : 1.0;
    r->n_keyphrases = out_n;
    free(chosen);
    free(ord);
    free(cands);
    nm_keytable_free(&ct);
    nm_keytable_free(&wt);
    free(words);
}
