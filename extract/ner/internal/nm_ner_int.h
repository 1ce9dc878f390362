/*
 * nm_ner_int: the NER tagger's internals, shared by its two files and by no
 * one else:
 *   nm_ner.c          model file, model object, sentence tagger, spans
 *   nm_ner_doc.c      document tagger (word types, emission sums per type),
 *                     the model's derived tables and its large-table allocator
 *   nm_ner_viterbi.c  the decoder both taggers share
 */
#ifndef NM_NER_INT_H
#define NM_NER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "nm_ner.h"
#include "nm_ner_features.h"

/* Emission scores of one token: int16 sums of int8 weights (NM_NER_NF x 127
 * fits), padded from NM_NER_LABELS to 16 lanes so that adding two of them
 * is two plain vector adds. */
#define NM_NER_LANES 16
_Static_assert(NM_NER_NF * 128 < 32768, "emission sums must fit int16");

/* Bytes after the last weight row, so that a row can be read as 16 bytes. */
#define NM_NER_ROW_PAD 16

struct nm_ner_model {
    unsigned bits, features;
    float scale;
    float start[NM_NER_LABELS];
    float trans[NM_NER_LABELS][NM_NER_LABELS]; /* [prev][cur]; -INFINITY = not allowed */
    int8_t *w;                                 /* 2^bits rows of NM_NER_LABELS, then the pad */
    nm_ner_gaz gaz;
    char *info;
    /* Derived (nm_ner_model_prepare): the sum of the NM_NER_POS_OWN rows of
     * a token that neither starts its sentence nor is in a headline, by its
     * capitalisation class and document flags. */
    int16_t pos_own[8][4][NM_NER_LANES];
    /* A hash of everything the sums depend on (weights, gazetteer, bits,
     * features): a memo filled by another model that happens to live at
     * the same address is told apart by it. */
    uint64_t stamp;
};

/* Zeroed memory for a large table read at random (the weights, the memo):
 * from 1 MiB up, whole 2 MiB pages marked for huge pages, so that its reads
 * do not also miss the TLB (page walks are dear in a VM). Never NULL; free
 * with free(). */
void *nm_ner_table_alloc(size_t size);

/* Fills the derived tables; after the weights are in place. */
void nm_ner_model_prepare(nm_ner_model *m);

/* Adds one weight row to an emission vector. With SSE2 (every x86-64) the
 * row is read as 16 bytes, sign-extended and added in two vector adds;
 * the 7 bytes past the row (the next rows, or the pad) land in lanes
 * 9-15, which nothing reads. */
#if defined(__SSE2__)
static inline void nm_ner_add_row(int16_t *e, const nm_ner_model *m, uint32_t row)
{
    const int8_t *w = m->w + (size_t)row * NM_NER_LABELS;
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)w);
    __m128i sign = _mm_cmpgt_epi8(_mm_setzero_si128(), x);
    __m128i *v = (__m128i *)(void *)e;
    _mm_storeu_si128(v, _mm_add_epi16(_mm_loadu_si128(v), _mm_unpacklo_epi8(x, sign)));
    _mm_storeu_si128(v + 1, _mm_add_epi16(_mm_loadu_si128(v + 1), _mm_unpackhi_epi8(x, sign)));
}
#else
static inline void nm_ner_add_row(int16_t *e, const nm_ner_model *m, uint32_t row)
{
    const int8_t *w = m->w + (size_t)row * NM_NER_LABELS;
    for (int l = 0; l < NM_NER_LABELS; l++)
        e[l] = (int16_t)(e[l] + w[l]);
}
#endif

/* Exact Viterbi with the IOB2 constraints over n >= 1 tokens whose
 * emissions are e[i * NM_NER_LANES + label]; score has room for n x
 * NM_NER_LABELS floats, back for n x NM_NER_LABELS bytes. */
void nm_ner_viterbi(const nm_ner_model *m, const int16_t *e, size_t n, uint8_t *labels,
                    float *score, uint8_t *back);

#endif
