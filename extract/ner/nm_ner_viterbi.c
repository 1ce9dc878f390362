/* The NER tagger's decoder: exact Viterbi with the IOB2 constraints, shared by
 * the sentence tagger (nm_ner.c) and the document tagger (nm_ner_doc.c). See
 * nm_ner_viterbi in nm_ner_int.h. */
#include <math.h>
#include <stdint.h>

#include "nm_ner_int.h"

/* One Viterbi step into the label columns c: the best predecessor q of
 * each (the first of equals, trying q in order), score = its score plus
 * the transition plus the emission. Columns 0-7 go in two SSE2 vectors,
 * each lane doing exactly the scalar comparisons of its column; I-MISC
 * (column 8) may only follow B-MISC or I-MISC, the other transitions are
 * -INFINITY and can never win, so only those two are tried. */
static inline void viterbi_step(const nm_ner_model *m, const float *prev, const int16_t *e,
                                float *s, uint8_t *bk)
{
#if defined(__SSE2__)
    /* Per lane: max_ps(v, best) is "v > best ? v : best", the scalar
     * update; and as q only grows, "arg = q where v > best" is the 16-bit
     * max of arg and (q where v > best, else 0). */
    __m128 best0 = _mm_set1_ps(-INFINITY), best1 = best0;
    __m128i arg0 = _mm_setzero_si128(), arg1 = arg0;
    for (int q = 0; q < NM_NER_LABELS; q++) {
        __m128 p = _mm_set1_ps(prev[q]);
        __m128i qv = _mm_set1_epi32(q);
        __m128 v0 = _mm_add_ps(p, _mm_loadu_ps(&m->trans[q][0]));
        __m128 v1 = _mm_add_ps(p, _mm_loadu_ps(&m->trans[q][4]));
        arg0 = _mm_max_epi16(arg0, _mm_and_si128(_mm_castps_si128(_mm_cmpgt_ps(v0, best0)), qv));
        arg1 = _mm_max_epi16(arg1, _mm_and_si128(_mm_castps_si128(_mm_cmpgt_ps(v1, best1)), qv));
        best0 = _mm_max_ps(v0, best0);
        best1 = _mm_max_ps(v1, best1);
    }
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)e); /* emissions 0-7 */
    __m128 e0 = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(x, x), 16));
    __m128 e1 = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(x, x), 16));
    __m128 scale = _mm_set1_ps(m->scale);
    _mm_storeu_ps(s, _mm_add_ps(best0, _mm_mul_ps(e0, scale)));
    _mm_storeu_ps(s + 4, _mm_add_ps(best1, _mm_mul_ps(e1, scale)));
    __m128i a16 = _mm_packs_epi32(arg0, arg1);
    _mm_storel_epi64((__m128i *)(void *)bk, _mm_packus_epi16(a16, a16));
    int last = NM_NER_LABELS - 1;
#else
    int last = 0;
#endif
    for (int c = last; c < NM_NER_LABELS; c++) {
        float best = -INFINITY;
        int arg = 0;
        for (int q = (c == NM_NER_LABELS - 1 ? c - 1 : 0); q < NM_NER_LABELS; q++) {
            float v = prev[q] + m->trans[q][c];
            if (v > best) {
                best = v;
                arg = q;
            }
        }
        s[c] = best + (float)e[c] * m->scale;
        bk[c] = (uint8_t)arg;
    }
}

void nm_ner_viterbi(const nm_ner_model *m, const int16_t *e, size_t n, uint8_t *labels,
                    float *score, uint8_t *back)
{
    for (int l = 0; l < NM_NER_LABELS; l++) {
        score[l] = m->start[l] + (float)e[l] * m->scale;
        back[l] = 0;
    }
    for (size_t i = 1; i < n; i++)
        viterbi_step(m, score + (i - 1) * NM_NER_LABELS, e + i * NM_NER_LANES,
                     score + i * NM_NER_LABELS, back + i * NM_NER_LABELS);
    const float *last = score + (n - 1) * NM_NER_LABELS;
    int arg = 0;
    for (int l = 1; l < NM_NER_LABELS; l++)
        if (last[l] > last[arg])
            arg = l;
    for (size_t i = n; i-- > 0;) {
        labels[i] = (uint8_t)arg;
        arg = back[i * NM_NER_LABELS + arg];
    }
}
